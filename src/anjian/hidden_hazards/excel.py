"""The hazard ledger (隐患台账) as an Excel workbook."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.iam.people import display_names
from anjian.core.scope import Scope
from anjian.core.xlsx import write_sheet
from anjian.enterprises.service import enterprise_names
from anjian.hidden_hazards import service
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.rules import CATEGORIES, GRADES, SOURCES, STATE_LABELS, HazardState
from anjian.hidden_hazards.schemas import HazardFilters

LEDGER_COLUMNS = [
    ("隐患编号", 22),
    ("企业", 30),
    ("行政区划", 10),
    ("隐患部位", 20),
    ("隐患描述", 40),
    ("类别", 12),
    ("等级", 10),
    ("重大隐患判定依据", 30),
    ("来源", 10),
    ("发现人", 12),
    ("发现时间", 17),
    ("状态", 10),
    ("整改期限", 12),
    ("责任人", 12),
    ("整改措施", 40),
    ("整改资金(元)", 12),
    ("整改人", 12),
    ("整改完成时间", 17),
    ("验收人", 12),
    ("销号时间", 17),
    ("逾期", 6),
]


def _row(hz: HiddenHazard, enterprise: str, people: dict[str, str]) -> list[Any]:
    return [
        hz.number,
        enterprise,
        hz.division_code,
        hz.place,
        hz.description,
        CATEGORIES.get(hz.category, hz.category),
        GRADES.get(hz.grade, hz.grade),
        hz.major_criterion,
        SOURCES.get(hz.source, hz.source),
        people.get(hz.found_by, hz.found_by),
        hz.found_at,
        STATE_LABELS.get(HazardState(hz.state), hz.state),
        hz.deadline,
        hz.responsible,
        hz.measures,
        hz.funds_cny,
        people.get(hz.rectified_by, hz.rectified_by),
        hz.rectified_at,
        people.get(hz.accepted_by, hz.accepted_by),
        hz.closed_at,
        "是" if hz.overdue else "",
    ]


def export_ledger(session: Session, scope: Scope, actor: Actor, filters: HazardFilters) -> bytes:
    """The scoped, filtered ledger as .xlsx bytes (audited: the file leaves the system)."""
    hazards, total = service.list_hazards(session, scope, limit=None, **filters)
    names = enterprise_names(session, {h.enterprise_id for h in hazards})
    people = display_names(
        session, {u for h in hazards for u in (h.found_by, h.rectified_by, h.accepted_by)}
    )
    data = write_sheet(
        "隐患台账",
        LEDGER_COLUMNS,
        (_row(h, names.get(h.enterprise_id, ""), people) for h in hazards),
    )
    audit(
        session,
        actor,
        "hidden_hazard.export",
        object_type="hidden_hazard",
        detail={"count": total, "filters": {k: str(v) for k, v in filters.items() if v}},
    )
    return data
