"""安全审计 in the console: the audit records of the jurisdiction (:func:`audit_page`), each row
as people read it: who (姓名（机构）), what (the action in Chinese, its code kept for the hover)
and on which record (its name, not "企业 80").

A page of records is resolved in a few queries: one for the people, one per object type on the
page. An object that no longer exists here (deleted, or another node's) keeps its type and id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.accidents.models import Accident
from anjian.core.audit import service as audit_service
from anjian.core.audit.labels import ACTION_FILTERS, OBJECT_LABELS, action_label
from anjian.core.audit.models import AuditRecord
from anjian.core.iam.models import User
from anjian.core.iam.people import display_names
from anjian.core.orgs.models import Organisation
from anjian.core.paging import PageNumber
from anjian.core.scope import unscoped
from anjian.core.sync.models import SyncLink
from anjian.directives.models import Directive
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.models import Checklist, HiddenHazard
from anjian.major_hazards.models import MajorHazardSource
from anjian.monitoring.models import MonitoringPoint
from anjian.risk.models import RiskPoint
from anjian.web.layout import page
from anjian.web.offloop import page_routes
from anjian.web.render import cst
from anjian.web.session import StaffPageCtx

router = page_routes()

AUDIT_PAGE_SIZE = 30
RESULT_BADGES = {
    "success": ("bg-green-lt", "成功"),
    "failure": ("bg-red-lt", "失败"),
    "denied": ("bg-orange-lt", "拒绝"),
}
Namer = Callable[[Session, list[str]], dict[str, str]]


def _ints(ids: Iterable[str]) -> list[int]:
    return sorted({int(i) for i in ids if i.isdigit() and len(i) <= 18})


def _by_id(key: Any, *columns: Any, label: Callable[..., str] | None = None) -> Namer:
    """Names of records keyed by the integer ``key``: the first column, or ``label(*row)``."""

    def names(session: Session, ids: list[str]) -> dict[str, str]:
        wanted = _ints(ids)
        if not wanted:
            return {}
        rows = session.execute(select(key, *columns).where(key.in_(wanted)))
        return {str(r[0]): (label(*r[1:]) if label else str(r[1] or "")) for r in rows}

    return names


def _accident(unit: str, place: str, occurred: datetime) -> str:
    return f"{unit or place}（{cst(occurred, '%Y-%m-%d')}）"


@unscoped("names the users that audit records already read in scope refer to")
def _users(session: Session, ids: list[str]) -> dict[str, str]:
    wanted = _ints(ids)
    if not wanted:
        return {}
    rows = dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())
    people = display_names(session, rows.values())
    return {str(i): people[u] for i, u in rows.items()}


def _directives(session: Session, uids: list[str]) -> dict[str, str]:
    wanted = sorted({u for u in uids if len(u) <= 36})
    rows = session.execute(select(Directive.uid, Directive.title).where(Directive.uid.in_(wanted)))
    return {uid: title for uid, title in rows}


NAMERS: dict[str, Namer] = {
    "enterprise": _by_id(Enterprise.id, Enterprise.name),
    "accident": _by_id(
        Accident.id, Accident.unit_name, Accident.place, Accident.occurred_at, label=_accident
    ),
    "hidden_hazard": _by_id(HiddenHazard.id, HiddenHazard.number),
    "checklist": _by_id(Checklist.id, Checklist.name),
    "monitoring_point": _by_id(
        MonitoringPoint.id,
        MonitoringPoint.name,
        MonitoringPoint.code,
        label=lambda name, code: f"{name}（{code}）" if name else code,
    ),
    "major_hazard_source": _by_id(MajorHazardSource.id, MajorHazardSource.name),
    "risk_point": _by_id(RiskPoint.id, RiskPoint.name),
    "organisation": _by_id(Organisation.id, Organisation.name),
    "sync_link": _by_id(SyncLink.id, SyncLink.division_code),
    "user": _users,
    "directive": _directives,
}


@dataclass(frozen=True)
class AuditRow:
    """One audit record with the names a reader needs."""

    record: AuditRecord
    actor: str  # 姓名（机构）, or the login name
    action: str  # in Chinese; the code is record.action
    object: str  # 企业“应县金鼎煤业有限公司”, or 企业 80 when the name is unknown here


def audit_rows(session: Session, records: Sequence[AuditRecord]) -> list[AuditRow]:
    """The records of a page with their people's and objects' names resolved in bulk."""
    people = display_names(session, (r.actor_name for r in records))
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.object_type in NAMERS and r.object_id:
            wanted[r.object_type].add(r.object_id)
    names = {kind: NAMERS[kind](session, sorted(ids)) for kind, ids in wanted.items()}
    return [
        AuditRow(
            record=r,
            actor=people.get(r.actor_name, r.actor_name),
            action=action_label(r.action),
            object=_object(r, names.get(r.object_type or "", {})),
        )
        for r in records
    ]


def _object(r: AuditRecord, names: dict[str, str]) -> str:
    if not r.object_type:
        return ""
    kind = OBJECT_LABELS.get(r.object_type, r.object_type)
    name = names.get(r.object_id or "")
    if name:
        return f"{kind}“{name}”"
    if r.object_id:
        return f"{kind} {r.object_id}"
    count = len(r.detail.get("ids", [])) if isinstance(r.detail, dict) else 0
    return f"{kind}（{count} 条）" if count else kind


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: StaffPageCtx,
    action: str = "",
    user: str = "",
    raw: bool = False,
    page_no: PageNumber = 1,
) -> Response:
    """安全审计: audit records of the jurisdiction, newest first (officials and admins only):
    who as 姓名（机构）, the action in Chinese (its code on hover), the record by its name."""
    rows, total = audit_service.list_audit(
        ctx.db,
        ctx.scope,
        action=action.strip() or None,
        actor=user.strip() or None,
        limit=AUDIT_PAGE_SIZE,
        offset=(page_no - 1) * AUDIT_PAGE_SIZE,
    )
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return page(
        request,
        ctx,
        "console/audit.html",
        {
            "rows": audit_rows(ctx.db, rows),
            "total": total,
            "page_no": page_no,
            "pages": pages,
            "filters": {"action": action, "user": user, **({"raw": "1"} if raw else {})},
            "raw": raw,
            "actions": ACTION_FILTERS,
            "result_badges": RESULT_BADGES,
        },
        active="audit",
    )
