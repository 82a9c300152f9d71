"""Inbox sources of hidden-hazard governance (隐患排查治理, see ``anjian.core.inbox``): for
agencies the hazards waiting to be verified and registered (核查登记) or accepted (验收) and
those whose rectification deadline is near or past; for enterprises their rectifications
(整改); their self-inspection tasks (自查任务) are :mod:`anjian.hidden_hazards.checklists.inbox`.
Each query is in the user's scope, the oldest (or most urgent) first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from anjian.core.clock import today_in_china
from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import Context
from anjian.core.inbox import AGENCY, ENTERPRISE, Found, InboxItem, source
from anjian.core.paging import paged
from anjian.enterprises.service import enterprise_names
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.rules import (
    GRADES,
    OPEN_STATES,
    HazardGrade,
    HazardState,
    is_overdue,
)

# An agency's reminder: open hazards whose deadline falls within this many days (or has passed).
DEADLINE_WINDOW_DAYS = 7
TITLE_CHARS = 40


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def _hazard_items(ctx: Context, hazards: list[HiddenHazard], *, with_division: bool) -> list[Any]:
    today = today_in_china()
    names = enterprise_names(ctx.db, {h.enterprise_id for h in hazards})
    divisions = division_names(ctx.db, {h.division_code for h in hazards}) if with_division else {}
    items = []
    for h in hazards:
        parts = [GRADES[h.grade]] if h.grade == HazardGrade.MAJOR else []
        if with_division:
            parts += [names.get(h.enterprise_id, ""), divisions.get(h.division_code, "")]
        items.append(
            InboxItem(
                title=f"{h.place}：{_short(h.description)}",
                detail=" · ".join(p for p in parts if p),
                url=f"/hazards/{h.id}",
                since=h.rectified_at if h.state == HazardState.RECTIFIED else h.found_at,
                due_date=h.deadline if h.state in OPEN_STATES else None,
                overdue=is_overdue(h.state, h.deadline, today),
            )
        )
    return items


def _hazards(ctx: Context, limit: int, *conditions: Any, order: tuple[Any, ...]) -> Found:
    stmt = ctx.scope.select(HiddenHazard).where(*conditions)
    hazards, total = paged(ctx.db, stmt, (*order, HiddenHazard.id), limit=limit)
    return Found(total, _hazard_items(ctx, hazards, with_division=not ctx.scope.is_enterprise))


@source(
    "hazards.register",
    "待核查登记的隐患",
    AGENCY,
    order=10,
    empty="没有待核查的隐患：企业和检查人员上报的隐患都已核查登记。",
    link="/hazards?tab=found",
)
def hazards_to_register(ctx: Context, limit: int) -> Found:
    """Hazards reported (排查上报) and not yet verified and registered, the first found first."""
    return _hazards(
        ctx, limit, HiddenHazard.state == HazardState.FOUND, order=(HiddenHazard.found_at,)
    )


@source(
    "hazards.accept",
    "待验收的隐患",
    AGENCY,
    order=20,
    empty="没有待验收的隐患：企业报告整改完成后会出现在这里。",
    link="/hazards?tab=rectified",
)
def hazards_to_accept(ctx: Context, limit: int) -> Found:
    """Hazards rectified and waiting for acceptance (验收), the longest waiting first."""
    return _hazards(
        ctx,
        limit,
        HiddenHazard.state == HazardState.RECTIFIED,
        order=(HiddenHazard.rectified_at, HiddenHazard.found_at),
    )


@source(
    "hazards.deadline",
    "整改到期与逾期的隐患",
    AGENCY,
    order=30,
    empty=f"没有逾期或 {DEADLINE_WINDOW_DAYS} 天内到期的整改：辖区隐患都在期限内整改。",
    link="/hazards?tab=overdue",
)
def hazards_due(ctx: Context, limit: int) -> Found:
    """Hazards being rectified whose deadline has passed (逾期) or falls within
    :data:`DEADLINE_WINDOW_DAYS`, the earliest deadline first."""
    horizon = today_in_china() + timedelta(days=DEADLINE_WINDOW_DAYS)
    return _hazards(
        ctx,
        limit,
        HiddenHazard.state.in_(list(OPEN_STATES)),
        HiddenHazard.deadline <= horizon,
        order=(HiddenHazard.deadline,),
    )


@source(
    "hazards.rectify",
    "待整改的隐患",
    ENTERPRISE,
    order=10,
    empty="没有待整改的隐患。发现隐患请在“隐患治理”中上报。",
    link="/hazards",
)
def hazards_to_rectify(ctx: Context, limit: int) -> Found:
    """The enterprise's registered hazards not yet rectified (整改), the earliest deadline
    first (overdue ones at the top)."""
    return _hazards(
        ctx,
        limit,
        HiddenHazard.state.in_(list(OPEN_STATES)),
        order=(HiddenHazard.deadline.is_(None), HiddenHazard.deadline, HiddenHazard.found_at),
    )
