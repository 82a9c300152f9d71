"""What waits for the duty officer (值班待办): monitoring alarms still open and not yet received
(the severe first), accident quick reports of the last 72 hours not yet received, events kept by
lower nodes not yet received here, and the desk's receipts not yet passed on (the oldest
first)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from anjian.accidents.models import Accident
from anjian.accidents.rules import ACCIDENT_TYPES, NEAR_MISS
from anjian.config import get_settings
from anjian.core.audit.service import Actor
from anjian.core.divisions.service import division_names
from anjian.core.scope import Scope
from anjian.db import utcnow
from anjian.emergency.duty import receipts
from anjian.emergency.duty.desk import staff_only
from anjian.emergency.duty.models import DutyReceipt
from anjian.emergency.duty.rules import (
    INBOX_ACCIDENT_HOURS,
    accident_title,
    alarm_title,
    casualties,
)
from anjian.emergency.duty.schemas import Inbox, InboxAccident, InboxAlarm, InboxEvent
from anjian.emergency.models import EmergencyEvent
from anjian.emergency.rules.events import LEVEL_LABELS
from anjian.monitoring.alarms import present_alarms
from anjian.monitoring.models import Alarm
from anjian.monitoring.rules import AlarmStateName

# Each list of the inbox shows this many at most (the most pressing first).
INBOX_LIMIT = 50


def waiting_alarms(session: Session, scope: Scope) -> list[InboxAlarm]:
    """Open alarms in scope not yet received: the severe (level 1) first, then the escalated,
    then the latest."""
    stmt = (
        scope.select(Alarm)
        .where(
            Alarm.state != AlarmStateName.CLOSED.value,
            Alarm.uid.not_in(receipts.received_refs("alarm")),
        )
        .order_by(Alarm.level, Alarm.escalated_at.is_(None), Alarm.raised_at.desc(), Alarm.id)
        .limit(INBOX_LIMIT)
    )
    rows = list(session.scalars(stmt))
    return [
        InboxAlarm(
            id=a.id,
            uid=a.uid,
            title=alarm_title(
                v.enterprise_name, v.point_name or v.point_code, v.bound_label, v.level_label
            ),
            enterprise_name=v.enterprise_name,
            division_code=a.division_code,
            level=a.level,
            level_label=v.level_label,
            raised_at=a.raised_at,
            state_label=v.state_label,
            escalated=a.escalated_at is not None,
        )
        for a, v in zip(rows, present_alarms(session, rows), strict=True)
    ]


def waiting_accidents(session: Session, scope: Scope) -> list[InboxAccident]:
    """Accident quick reports in scope filed in the last 72 hours and not yet received, the
    latest first."""
    since = utcnow() - timedelta(hours=INBOX_ACCIDENT_HOURS)
    stmt = (
        scope.select(Accident)
        .where(
            Accident.reported_at >= since,
            Accident.uid.not_in(receipts.received_refs("accident")),
        )
        .order_by(Accident.reported_at.desc(), Accident.id.desc())
        .limit(INBOX_LIMIT)
    )
    rows = list(session.scalars(stmt))
    names = division_names(session, {a.division_code for a in rows})
    return [
        InboxAccident(
            id=a.id,
            uid=a.uid,
            title=accident_title(
                a.unit_name or names.get(a.division_code, ""),
                ACCIDENT_TYPES.get(a.accident_type, a.accident_type),
                a.kind == NEAR_MISS,
            ),
            division_code=a.division_code,
            grade_label=receipts.grade_label(a.grade),
            casualties=casualties(a.deaths, a.missing, a.serious_injuries, a.minor_injuries),
            occurred_at=a.occurred_at,
            reported_at=a.reported_at,
        )
        for a in rows
    ]


def waiting_events(session: Session, scope: Scope) -> list[InboxEvent]:
    """Events in progress in scope kept by lower nodes (reports from below) and not yet
    received at this node, the latest first."""
    here = get_settings().effective_node_id
    stmt = (
        scope.select(EmergencyEvent)
        .where(
            EmergencyEvent.state == "active",
            EmergencyEvent.origin_node.not_in(["", here]),
            EmergencyEvent.uid.not_in(receipts.received_here_from_below()),
        )
        .order_by(EmergencyEvent.received_at.desc(), EmergencyEvent.id.desc())
        .limit(INBOX_LIMIT)
    )
    rows = list(session.scalars(stmt))
    names = division_names(session, {e.division_code for e in rows})
    return [
        InboxEvent(
            id=e.id,
            uid=e.uid,
            number=e.number,
            title=e.title,
            division_code=e.division_code,
            division_name=names.get(e.division_code, ""),
            level_label=LEVEL_LABELS.get(e.level or 0, "未定级"),
            received_at=e.received_at,
            origin_node=e.origin_node,
        )
        for e in rows
    ]


def waiting_receipts(session: Session, scope: Scope, desk: str | None) -> list[DutyReceipt]:
    """Receipts kept at this node and not yet passed on, of ``desk`` (None: every desk in
    scope), the oldest first."""
    here = get_settings().effective_node_id
    stmt = scope.select(DutyReceipt).where(
        DutyReceipt.passed_on_at.is_(None), DutyReceipt.origin_node == here
    )
    if desk is not None:
        stmt = stmt.where(DutyReceipt.division_code == desk)
    stmt = stmt.order_by(DutyReceipt.received_at, DutyReceipt.id).limit(INBOX_LIMIT)
    return list(session.scalars(stmt))


def inbox(session: Session, scope: Scope, actor: Actor) -> Inbox:
    """Everything waiting for the duty officer of the caller's desk."""
    staff_only(scope)
    desk = (
        actor.division_code
        if actor.division_code and scope.covers_code(actor.division_code)
        else None
    )
    return Inbox(
        alarms=waiting_alarms(session, scope),
        accidents=waiting_accidents(session, scope),
        events=waiting_events(session, scope),
        receipts=receipts.present(session, waiting_receipts(session, scope, desk)),
        limit_minutes=receipts.pass_on_limit(),
    )
