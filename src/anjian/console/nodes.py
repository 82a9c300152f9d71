"""节点状态: this node, its parent link (last contact, backlog, lag, errors) and its children,
with the records each subordinate node forwarded up (read-only copies here).

The link figures come from :func:`anjian.core.sync.service.node_status`; the records of a child
are read through the user's jurisdiction scope like every other list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import Select, func
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from anjian.config import get_settings
from anjian.core.audit.service import audit
from anjian.core.divisions.rules import AGENCY_TIER_LABELS, is_valid_code
from anjian.core.divisions.service import division_names
from anjian.core.errors import Forbidden, NotFound
from anjian.core.iam.models import Role
from anjian.core.paging import PageNumber, paged
from anjian.core.scope import Scope
from anjian.core.sync import service as sync
from anjian.core.sync.forwarder import request_sync
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.ops.health import Judged, subtree
from anjian.ops.rules import replication_of
from anjian.web.layout import division_name, page, pager_of
from anjian.web.offloop import page_routes
from anjian.web.session import StaffPageCtx, check_csrf

router = page_routes()

# A link silent for longer than this is shown as interrupted (the forwarder talks every second
# or so while the network is up; a few minutes of silence means it is not).
SILENT_AFTER = timedelta(minutes=10)
RECENT = 5  # records of each child shown on the node page
RECORDS_PAGE_SIZE = 20


# --- display helpers ---------------------------------------------------------------------------


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in Chinese ("刚刚", "5 分钟前", "3 小时前", "2 天前")."""
    if value is None:
        return ""
    seconds = ((now or utcnow()) - value).total_seconds()
    if seconds < 60:
        return "刚刚"
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟前"
    if seconds < 86400:
        return f"{int(seconds // 3600)} 小时前"
    return f"{int(seconds // 86400)} 天前"


def duration(seconds: float | None) -> str:
    """A lag in seconds, readable ("0 秒", "2 分 5 秒", "3 小时 12 分")."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} 秒"
    if s < 3600:
        return f"{s // 60} 分 {s % 60} 秒"
    if s < 86400:
        return f"{s // 3600} 小时 {s % 3600 // 60} 分"
    return f"{s // 86400} 天 {s % 86400 // 3600} 小时"


@dataclass(frozen=True)
class State:
    """The state of a link as a coloured badge."""

    label: str
    badge: str


def link_state(link: sync.LinkStatus, now: datetime) -> State:
    if link.revoked:
        return State("已吊销", "bg-secondary-lt")
    if link.last_error:
        return State("异常", "bg-red-lt")
    if link.last_contact_at is None:
        return State("尚未联络", "bg-yellow-lt")
    if now - link.last_contact_at > SILENT_AFTER:
        return State("联络中断", "bg-orange-lt")
    return State("正常", "bg-green-lt")


# --- the records a child forwarded -------------------------------------------------------------


def _from_child(scope: Scope, child_division: str, *columns: Any) -> Select[Any]:
    """Enterprises (or ``columns`` of them) received through the link of ``child_division``:
    made at another node (the child or a node below it) and lying in the child's jurisdiction,
    as far as ``scope`` sees."""
    child_area = Scope.for_division(None, "node", [child_division])
    return scope.select(Enterprise, *columns).where(
        Enterprise.origin_node != get_settings().effective_node_id,
        child_area.within(Enterprise.division_code),
    )


def origin_counts(db: Session, scope: Scope, child_division: str) -> list[tuple[str, int]]:
    """How many records of each origin node came through a child's link."""
    stmt = _from_child(scope, child_division, Enterprise.origin_node, func.count()).group_by(
        Enterprise.origin_node
    )
    return sorted(((str(o), int(n)) for o, n in db.execute(stmt).all()), key=lambda x: x[0])


def child_records(
    db: Session,
    scope: Scope,
    child_division: str,
    *,
    origin: str | None = None,
    limit: int = RECENT,
    offset: int = 0,
) -> tuple[list[Enterprise], int]:
    """The most recently changed records received through a child's link, and their count."""
    stmt = _from_child(scope, child_division)
    if origin:
        stmt = stmt.where(Enterprise.origin_node == origin)
    order = (Enterprise.updated_at.desc(), Enterprise.id.desc())
    return paged(db, stmt, order, limit=limit, offset=offset)


@dataclass(frozen=True)
class RecordRow:
    id: int
    name: str
    division_code: str
    division_name: str
    category: str
    origin_node: str
    version: int
    updated_at: datetime


def record_rows(db: Session, ents: list[Enterprise]) -> list[RecordRow]:
    return [
        RecordRow(
            id=e.id,
            name=e.name,
            division_code=e.division_code,
            division_name=division_name(db, e.division_code),
            category=SUPERVISION_CATEGORIES.get(e.supervision_category, e.supervision_category),
            origin_node=e.origin_node,
            version=e.version,
            updated_at=e.updated_at,
        )
        for e in ents
    ]


# --- the subtree's health ----------------------------------------------------------------------

_SEVERITY_BADGES = {"red": "bg-red-lt", "orange": "bg-orange-lt", "green": "bg-green-lt"}


def size(n: float | None) -> str:
    """Bytes, readable ("812 MB", "1.4 TB")."""
    if n is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB", "MB") else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _replication(figures: dict[str, Any]) -> str:
    """A node's 一主两备 in a few words (``2/2 备库在线，同步 s1``); empty on one database."""
    found = replication_of(figures)
    if found is None:
        return ""
    text = f"{found.streaming}/{found.expected} 备库在线"
    return f"{text}，同步 {'、'.join(found.synchronous)}" if found.synchronous else text


def _health_row(judged: Judged, names: dict[str, str], now: datetime) -> dict[str, Any]:
    h, figures = judged.health, judged.health.figures or {}
    return {
        "id": h.division_code,
        "division": names.get(h.division_code, h.division_code),
        "division_code": h.division_code,
        "node_id": h.node_id,
        "reported": ago(h.reported_at, now),
        "backlog": "—" if h.backlog is None else f"{h.backlog} 条",
        "lag": "—" if h.lag_s is None else duration(h.lag_s),
        "backup": ago(h.last_backup_at, now) if h.last_backup_at else "从未备份",
        "points": figures.get("points_reporting", "—"),
        "refusals": figures.get("ingest_refusals", "—"),
        "streams": figures.get("live_streams", "—"),
        "database": size(figures.get("database_bytes")),
        "replication": _replication(figures),
        "disk": size(figures.get("disk_free_bytes")),
        "problems": [(label, _SEVERITY_BADGES[sev]) for sev, label in judged.problems]
        or [("正常", _SEVERITY_BADGES["green"])],
    }


# --- pages -------------------------------------------------------------------------------------


@router.post("/nodes/sync-now")
async def sync_now(request: Request, ctx: StaffPageCtx) -> Response:
    """立即同步: an administrator ends the forwarder's back-off (see the API's sync-now)."""
    check_csrf(request, (await request.form()).get("csrf"))  # type: ignore[arg-type]
    if ctx.user.role != Role.ADMIN:
        raise Forbidden("仅管理员可以立即同步 (administrators only)")
    link = sync.parent_link(ctx.db)
    if link is None or not link.url:
        return RedirectResponse("/nodes", status_code=303)
    audit(ctx.db, ctx.actor, "node.sync_now", object_type="sync_link", object_id=str(link.id))
    request_sync()
    return RedirectResponse("/nodes?done=sync-now#parent-link", status_code=303)


@router.get("/nodes")
def nodes_page(request: Request, ctx: StaffPageCtx) -> Response:
    """节点状态: this node, its parent and its children (officials and admins only)."""
    me, links = sync.node_status(ctx.db)
    now = utcnow()
    judged = subtree(ctx.db, ctx.scope)
    names = division_names(ctx.db, {j.health.division_code for j in judged})
    parent = next((x for x in links if x.role == "parent"), None)
    parent_row = sync.parent_link(ctx.db) if parent else None
    children = []
    for link in (x for x in links if x.role == "child"):
        recent, total = child_records(ctx.db, ctx.scope, link.division_code)
        children.append(
            {
                "link": link,
                "state": link_state(link, now),
                "ago": ago(link.last_contact_at, now),
                "records": record_rows(ctx.db, recent),
                "total": total,
                "origins": origin_counts(ctx.db, ctx.scope, link.division_code),
            }
        )
    return page(
        request,
        ctx,
        "console/nodes.html",
        {
            "health": [_health_row(j, names, now) for j in judged],
            "me": me,
            "tier_label": AGENCY_TIER_LABELS.get(me["tier"], me["tier"]),
            "parent": parent,
            "parent_state": link_state(parent, now) if parent else None,
            "parent_ago": ago(parent.last_contact_at, now) if parent else "",
            "parent_lag": duration(parent.lag_s) if parent else "",
            "parent_error_at": parent_row.last_error_at if parent_row else None,
            "children": children,
            "can_sync_now": parent is not None and ctx.user.role == Role.ADMIN,
            "sync_requested": request.query_params.get("done") == "sync-now",
        },
        active="nodes",
    )


@router.get("/nodes/{division}/records")
def child_records_page(
    request: Request,
    division: str,
    ctx: StaffPageCtx,
    origin: str = "",
    page_no: PageNumber = 1,
) -> Response:
    """The records a child node forwarded up, newest change first, optionally by origin node."""
    link = next((x for x in sync.child_links(ctx.db) if x.division_code == division), None)
    if link is None or not is_valid_code(division):
        raise NotFound(f"没有该下级节点: {division} (no such child node)")
    rows, total = child_records(
        ctx.db,
        ctx.scope,
        division,
        origin=origin.strip() or None,
        limit=RECORDS_PAGE_SIZE,
        offset=(page_no - 1) * RECORDS_PAGE_SIZE,
    )
    return page(
        request,
        ctx,
        "console/node_records.html",
        {
            "link": link,
            "division_label": division_name(ctx.db, division),
            "rows": record_rows(ctx.db, rows),
            "origins": origin_counts(ctx.db, ctx.scope, division),
            "filters": {"origin": origin.strip()},
            **pager_of(total, page_no, RECORDS_PAGE_SIZE),
        },
        active="nodes",
    )
