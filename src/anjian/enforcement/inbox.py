"""Inbox sources of administrative enforcement (行政执法, see ``anjian.core.inbox``): an
agency's inspections due within a week (or on site), its rectification orders whose deadline
has come and that nobody has reviewed (复查), and its penalty cases waiting for a step (the
decision once the party's windows have run, the payment by its deadline). Each is the work of
the asking official's own agency, in scope, the most urgent first."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from anjian.core.clock import today_in_china
from anjian.core.iam.deps import Context
from anjian.core.inbox import AGENCY, Found, InboxItem, source
from anjian.core.paging import paged
from anjian.enforcement.models import EnforcementDocument, Inspection, PenaltyCase
from anjian.enforcement.rules import penalties as rules
from anjian.enforcement.rules.documents import DocumentKind
from anjian.enforcement.rules.inspections import STATE_LABELS, InspectionState
from anjian.enforcement.rules.penalties import PenaltyStage
from anjian.enterprises.service import enterprise_names

SOON_DAYS = 7  # inspections planned within a week show up
REVIEW_NOTICE_DAYS = 3  # a review (复查) shows up this many days before the deadline


@source(
    "enforcement.inspections",
    "待开展的执法检查",
    AGENCY,
    order=90,
    empty="近一周没有待开展的执法检查。",
    link="/enforcement/inspections",
)
def inspections_due(ctx: Context, limit: int) -> Found:
    """The agency's inspections on site, and those planned within a week (or overdue)."""
    today = today_in_china()
    stmt = ctx.scope.select(Inspection).where(
        Inspection.agency_division == ctx.user.division_code,
        (Inspection.state == InspectionState.ON_SITE)
        | (
            (Inspection.state == InspectionState.PLANNED)
            & (Inspection.planned_on <= today + timedelta(days=SOON_DAYS))
        ),
    )
    rows, total = paged(ctx.db, stmt, (Inspection.planned_on, Inspection.id), limit=limit)
    names = enterprise_names(ctx.db, {i.enterprise_id for i in rows})
    items = [
        InboxItem(
            title=names.get(i.enterprise_id, ""),
            detail=" · ".join([STATE_LABELS[i.state], "、".join(m["name"] for m in i.team)]),
            url=f"/enforcement/inspections/{i.id}",
            since=i.started_at,
            due_date=i.planned_on,
            overdue=i.state == InspectionState.PLANNED and i.planned_on < today,
        )
        for i in rows
    ]
    return Found(total, items)


@source(
    "enforcement.reviews",
    "到期待复查的整改指令",
    AGENCY,
    order=91,
    empty="没有到期待复查的责令限期整改指令书。",
    link="/enforcement/inspections?state=finished",
)
def reviews_due(ctx: Context, limit: int) -> Found:
    """Rectification orders (责令限期整改指令书) of the agency whose deadline is near or past
    and whose inspection has no review opinion (整改复查意见书) yet, due by the review's last
    day (see ``rules.penalties.review_deadline``)."""
    today = today_in_china()
    review = aliased(EnforcementDocument)
    stmt = ctx.scope.select(EnforcementDocument).where(
        EnforcementDocument.agency_division == ctx.user.division_code,
        EnforcementDocument.kind == DocumentKind.RECTIFICATION_ORDER,
        ~exists(
            select(review.id).where(
                review.inspection_id == EnforcementDocument.inspection_id,
                review.kind == DocumentKind.REVIEW_OPINION,
            )
        ),
    )
    orders = [
        (date.fromisoformat(str(d.content["deadline"])), d)
        for d in ctx.db.scalars(stmt)
        if d.content.get("deadline")
    ]
    due = sorted(
        ((day, d) for day, d in orders if day <= today + timedelta(days=REVIEW_NOTICE_DAYS)),
        key=lambda pair: (pair[0], pair[1].id),
    )
    inspections = {
        i.id: i
        for i in ctx.db.scalars(
            ctx.scope.select(Inspection).where(
                Inspection.id.in_({d.inspection_id for _, d in due[:limit]})
            )
        )
    }
    names = enterprise_names(ctx.db, {i.enterprise_id for i in inspections.values()})
    items = [
        InboxItem(
            title=names.get(inspections[d.inspection_id].enterprise_id, ""),
            detail=f"{d.number} 整改期限 {day.isoformat()}，待复查",
            url=f"/enforcement/inspections/{d.inspection_id}",
            since=d.issued_at,
            due_date=rules.review_deadline(day),
            overdue=today > rules.review_deadline(day),
        )
        for day, d in due[:limit]
        if d.inspection_id in inspections
    ]
    return Found(len(due), items)


def _next_step(case: PenaltyCase, today: date) -> tuple[str, date] | None:
    """What the case waits for and by when, or None while the party's windows still run."""
    if case.stage == PenaltyStage.HEARING:
        return "已申请听证，听证后作出决定", rules.decision_deadline(case.filed_on)
    if case.stage == PenaltyStage.NOTIFIED and case.notified_on is not None:
        opens = max(
            rules.statement_deadline(case.notified_on),
            rules.hearing_request_deadline(case.notified_on),
        )
        if today <= opens:
            return None
        return "陈述申辩和听证申请期限已过，可作出处罚决定", rules.decision_deadline(case.filed_on)
    if case.stage == PenaltyStage.DECIDED and case.served_on is not None and case.fine_fen:
        return "罚款待缴纳", rules.payment_deadline(case.served_on)
    if case.stage == PenaltyStage.FILED:
        return "已立案，待告知", rules.decision_deadline(case.filed_on)
    return None


@source(
    "enforcement.penalties",
    "待办的行政处罚案件",
    AGENCY,
    order=92,
    empty="没有等待下一步的行政处罚案件。",
    link="/enforcement/penalties",
)
def penalties_due(ctx: Context, limit: int) -> Found:
    """The agency's open cases that wait for a step, the nearest deadline first."""
    today = today_in_china()
    stmt = ctx.scope.select(PenaltyCase).where(
        PenaltyCase.agency_division == ctx.user.division_code,
        PenaltyCase.stage.in_(
            [PenaltyStage.FILED, PenaltyStage.NOTIFIED, PenaltyStage.HEARING, PenaltyStage.DECIDED]
        ),
    )
    waiting: list[tuple[date, str, PenaltyCase]] = []
    for case in ctx.db.scalars(stmt):
        step = _next_step(case, today)
        if step is not None:
            waiting.append((step[1], step[0], case))
    waiting.sort(key=lambda w: (w[0], w[2].id))
    names = enterprise_names(ctx.db, {c.enterprise_id for _, _, c in waiting[:limit]})
    items: list[Any] = [
        InboxItem(
            title=names.get(c.enterprise_id, ""),
            detail=f"{c.article} · {what}",
            url=f"/enforcement/penalties/{c.id}",
            due_date=due,
            overdue=due < today,
        )
        for due, what, c in waiting[:limit]
    ]
    return Found(len(waiting), items)
