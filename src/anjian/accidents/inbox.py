"""Inbox sources of accident reporting and investigation (事故报送、调查处理, see
``anjian.core.inbox``), for agencies: the reports their agency has received and must pass up
(上报) within the 2-hour clock of its step, the investigations it leads with their deadlines,
and the investigation reports waiting for its government's reply (批复). In the user's scope
(``scope.restrict`` on the accident), as the accident list.

More kinds of accident work are added here as one more function decorated with ``@source``: a
key, a title, its audience, its place on the page (``order``: report-up 40, investigations 70,
批复 75), what an empty section means, and a query in the same scope that returns
:class:`~anjian.core.inbox.Found`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, select

from anjian.accidents.models import Accident, AccidentStep, Investigation
from anjian.accidents.reporting import chain_agency
from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    TIER_LABELS,
    Grade,
    reply_last_day,
    reply_overdue,
)
from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import Context
from anjian.core.inbox import AGENCY, Found, InboxItem, source
from anjian.core.paging import paged_rows
from anjian.db import utcnow


def _what(acc: Accident) -> str:
    """An accident by name: the unit (or the place) and its type."""
    kind = ACCIDENT_TYPES.get(acc.accident_type, acc.accident_type)
    return f"{acc.unit_name or acc.place} {kind}事故"


@source(
    "accidents.report_up",
    "待上报的事故",
    AGENCY,
    order=40,
    empty="没有待本级上报的事故报告。收到下级或企业报告后，须在 2 小时内逐级上报。",
    link="/accidents",
)
def reports_to_pass_up(ctx: Context, limit: int) -> Found:
    """Accident reports the user's agency received and has not passed up (上报) yet: the steps
    of its division kept at this node, the earliest report deadline first."""
    agency = chain_agency(ctx.db, ctx.user)
    if agency is None:
        return Found(0, [])
    stmt = ctx.scope.restrict(
        select(AccidentStep, Accident).join(Accident, Accident.uid == AccidentStep.accident_uid),
        Accident,
    ).where(
        AccidentStep.division_code == agency,
        AccidentStep.origin_node == get_settings().effective_node_id,
        AccidentStep.received_at.is_not(None),
        AccidentStep.reported_at.is_(None),
        AccidentStep.report_due_at.is_not(None),
        AccidentStep.deleted.is_(False),
    )
    rows, total = paged_rows(
        ctx.db, stmt, (AccidentStep.report_due_at, AccidentStep.id), limit=limit
    )
    names = division_names(ctx.db, {acc.division_code for _st, acc in rows})
    now = utcnow()
    return Found(
        total,
        [
            InboxItem(
                title=_what(acc),
                detail=" · ".join(
                    p
                    for p in (
                        f"{Grade(acc.grade).label}事故",
                        names.get(acc.division_code, ""),
                        f"{TIER_LABELS[st.tier]}报送环节",
                    )
                    if p
                ),
                url=f"/accidents/{acc.id}#chain",
                since=st.received_at,
                due_at=st.report_due_at,
                overdue=st.report_due_at is not None and now > st.report_due_at,
            )
            for st, acc in rows
        ],
    )


@source(
    "accidents.investigations",
    "本级组织的事故调查",
    AGENCY,
    order=70,
    empty="本级没有在查的事故调查。",
    link="/accidents",
)
def investigations_due(ctx: Context, limit: int) -> Found:
    """Open investigations (事故调查) led by the user's division, the earliest deadline first
    (60 days from the accident, one extension)."""
    stmt = _investigations(ctx).where(
        Investigation.closed_at.is_(None),
        Investigation.lead_division == ctx.user.division_code,
    )
    rows, total = paged_rows(ctx.db, stmt, (Investigation.due_at, Investigation.id), limit=limit)
    names = division_names(ctx.db, {acc.division_code for _inv, acc in rows})
    now = utcnow()
    return Found(
        total,
        [
            _investigation_item(
                acc, names, since=inv.started_at, due_at=inv.due_at, overdue=now > inv.due_at
            )
            for inv, acc in rows
        ],
    )


def _investigations(ctx: Context) -> Select[tuple[Investigation, Accident]]:
    """The investigations (not deleted) with their accidents, within the user's scope."""
    return ctx.scope.restrict(
        select(Investigation, Accident).join(Accident, Accident.uid == Investigation.accident_uid),
        Accident,
    ).where(Investigation.deleted.is_(False))


def _investigation_item(
    acc: Accident,
    names: dict[str, str],
    *,
    since: datetime | None,
    due_at: datetime | None = None,
    due_date: date | None = None,
    overdue: bool,
) -> InboxItem:
    """An inbox item about an accident's investigation: what happened, the accident's grade and
    its division's name, a link to the investigation part of its page, and the given dates."""
    return InboxItem(
        title=_what(acc),
        detail=" · ".join(
            p for p in (f"{Grade(acc.grade).label}事故", names.get(acc.division_code, "")) if p
        ),
        url=f"/accidents/{acc.id}#investigation",
        since=since,
        due_at=due_at,
        due_date=due_date,
        overdue=overdue,
    )


@source(
    "accidents.reply",
    "调查报告待批复",
    AGENCY,
    order=75,
    empty="没有待本级批复的事故调查报告。调查报告提交后，须在 15 日内批复（特别重大事故 30 日）。",
    link="/accidents",
)
def reports_to_reply(ctx: Context, limit: int) -> Found:
    """Investigation reports submitted and not yet replied to (批复, Order No. 493 Art. 32),
    of the investigations the user's agency leads at this node — its government replies, and
    it records the reply (:func:`~anjian.accidents.investigations.leads_or_above`; an agency above
    may record it too, but the reply is not its work to wait on). The reply's last day first
    (:func:`~anjian.accidents.rules.reply_last_day`: by the grade and its extension)."""
    agency = chain_agency(ctx.db, ctx.user)
    if agency is None:
        return Found(0, [])
    stmt = _investigations(ctx).where(
        Investigation.lead_division == agency,
        Investigation.origin_node == get_settings().effective_node_id,
        Investigation.report_submitted_at.is_not(None),
        Investigation.replied_on.is_(None),
    )
    # the last day depends on the grade (30 days for 特别重大, plus its extension): ordered
    # here; a government has few reports waiting for its reply at a time
    rows, total = paged_rows(ctx.db, stmt, (Investigation.report_submitted_at,), limit=None)
    due = {
        inv.id: reply_last_day(inv.report_submitted_at, Grade(acc.grade), inv.reply_extension_days)
        for inv, acc in rows
        if inv.report_submitted_at is not None
    }
    rows = sorted(rows, key=lambda r: (due[r[0].id], r[0].id))[:limit]
    names = division_names(ctx.db, {acc.division_code for _inv, acc in rows})
    today = today_in_china()
    return Found(
        total,
        [
            _investigation_item(
                acc,
                names,
                since=inv.report_submitted_at,
                due_date=due[inv.id],
                overdue=reply_overdue(due[inv.id], None, today),
            )
            for inv, acc in rows
        ],
    )
