"""The life of an alarm (报警): raised by a reading or a device status, ended when the condition
is over (恢复), taken through its closed loop by people — acknowledged (确认) → handled (处置:
cause, action, person) → closed (关闭) — and escalated to the upper tier's duty desk (上报值班)
when nobody acknowledges it in time.

Threshold and power-cut alarms are raised and ended by the evaluator
(:mod:`anjian.monitoring.evaluate`) through :func:`point_alarm`; device and whole-system status
alarms (故障/离线/断电/关闭) here, as statuses are reported or points fall silent. Every change
stamps a new version into the outbox in the caller's transaction; the people's steps are
audited; nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import SYSTEM, Actor, audit_record
from anjian.core.errors import Conflict, Invalid
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.service import enterprise_by_id, enterprise_names
from anjian.monitoring.batch import Outcome, at_ms
from anjian.monitoring.models import ALARM_ENTITY, POINT_ENTITY, Alarm, MonitoringPoint, PointLive
from anjian.monitoring.rules import (
    ALARM_STATES,
    TRANSITIONS,
    AlarmKind,
    AlarmStateName,
    PointStatus,
    transition_problem,
)
from anjian.monitoring.schemas import AlarmRead, DispositionCreate

OPEN = "open"  # the state filter for alarms not closed yet
# Device states that raise a status alarm (维护 is planned work, not an alarm).
STATUS_ALARMS = frozenset(
    {PointStatus.FAULT, PointStatus.OFFLINE, PointStatus.POWER_OFF, PointStatus.SHUTDOWN}
)
# A whole monitoring system (监测系统) powered off or shut down is 一级; a fault, offline or
# maintenance report 二级.
SYSTEM_LEVELS = {
    PointStatus.POWER_OFF: 1,
    PointStatus.SHUTDOWN: 1,
    PointStatus.FAULT: 2,
    PointStatus.OFFLINE: 2,
    PointStatus.MAINTENANCE: 2,
}
SILENT_PERIODS = 3  # a point silent for three sampling periods is offline (离线)
# States a silent point may already be in: it is not "offline" on top of them. A faulty
# sensor keeps reporting its fault (with a frozen value or none), which never counts as a
# reading: without "fault" here it would flip to offline and back every run.
_QUIET_STATES = tuple(s.value for s in PointStatus if s != PointStatus.OK)


# --- raised (报警) -----------------------------------------------------------------------------


class AlarmPlace(Protocol):
    """What places a point's alarm: the point and its enterprise, division, category and
    major hazard source (a point as the ORM or the ingest reads it)."""

    @property
    def id(self) -> int: ...
    @property
    def enterprise_id(self) -> int: ...
    @property
    def division_code(self) -> str: ...
    @property
    def supervision_category(self) -> str: ...
    @property
    def major_hazard_id(self) -> int | None: ...


def point_alarm(
    p: AlarmPlace, kind: AlarmKind, level: int, bound: str, ts: int, **values: Any
) -> Alarm:
    """A new alarm of point ``p`` raised at ``ts`` (epoch ms), waiting to be acknowledged;
    ``values``: threshold, value, peak and the like. The caller adds it and records the change."""
    return Alarm(
        enterprise_id=p.enterprise_id,
        division_code=p.division_code,
        supervision_category=p.supervision_category,
        point_id=p.id,
        major_hazard_id=p.major_hazard_id,
        kind=kind.value,
        level=level,
        bound=bound,
        raised_at=at_ms(ts),
        state=AlarmStateName.RAISED.value,
        origin_node="",
        **values,
    )


# --- read in scope ------------------------------------------------------------------------------


def get_alarm(session: Session, scope: Scope, alarm_id: int) -> Alarm:
    """One alarm in scope; absent and out of scope are the same 404."""
    return scope.one(session, Alarm, alarm_id)


def list_alarms(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    point_id: int | None = None,
    division: str | None = None,
    level: int | None = None,
    state: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
    escalated: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Alarm], int]:
    """Alarms in scope matching the filters, newest first, with the number of matches.
    ``state="open"``: every alarm not closed yet (待确认, 已确认, 已处置).
    ``active``: only those whose condition has (not) ended; ``escalated``: those escalated for
    want of acknowledgement (the duty desk's list); ``since``/``until`` bound the time they were
    raised."""
    stmt = scope.select(Alarm)
    if enterprise_id is not None:
        stmt = stmt.where(Alarm.enterprise_id == enterprise_id)
    if point_id is not None:
        stmt = stmt.where(Alarm.point_id == point_id)
    if division:
        stmt = stmt.where(division_filter(Alarm.division_code, division))
    if level is not None:
        if level not in (1, 2):
            raise Invalid(f"报警级别应为 1 或 2: {level} (level must be 1 or 2)", field="level")
        stmt = stmt.where(Alarm.level == level)
    if state == OPEN:
        stmt = stmt.where(Alarm.state != AlarmStateName.CLOSED.value)
    elif state:
        if state not in ALARM_STATES:
            choices = ", ".join([*(s.value for s in AlarmStateName), OPEN])
            raise Invalid(f"报警状态无效: {state} (state must be one of {choices})", field="state")
        stmt = stmt.where(Alarm.state == state)
    if kind:
        stmt = stmt.where(Alarm.kind == kind)
    if active is not None:
        stmt = stmt.where(Alarm.ended_at.is_(None) if active else Alarm.ended_at.isnot(None))
    if escalated is not None:
        stmt = stmt.where(
            Alarm.escalated_at.isnot(None) if escalated else Alarm.escalated_at.is_(None)
        )
    if since is not None:
        stmt = stmt.where(Alarm.raised_at >= since)
    if until is not None:
        stmt = stmt.where(Alarm.raised_at < until)
    return paged(
        session, stmt, (Alarm.raised_at.desc(), Alarm.id.desc()), limit=limit, offset=offset
    )


@unscoped("the points of alarms already read in scope")
def present_alarms(session: Session, alarms: list[Alarm]) -> list[AlarmRead]:
    """The user-facing views of ``alarms`` with their enterprise and point."""
    names = enterprise_names(session, (a.enterprise_id for a in alarms))
    pids = sorted({a.point_id for a in alarms if a.point_id is not None})
    points = (
        {
            pid: (code, name, unit, kind)
            for pid, code, name, unit, kind in session.execute(
                select(
                    MonitoringPoint.id,
                    MonitoringPoint.code,
                    MonitoringPoint.name,
                    MonitoringPoint.unit,
                    MonitoringPoint.kind,
                ).where(MonitoringPoint.id.in_(pids))
            )
        }
        if pids
        else {}
    )
    out = []
    for a in alarms:
        code, name, unit, kind = points.get(a.point_id or 0, ("", "", "", ""))
        out.append(
            AlarmRead.of(
                a,
                enterprise_name=names.get(a.enterprise_id, ""),
                point_code=code,
                point_name=name,
                point_kind=kind,
                unit=unit,
            )
        )
    return out


# --- the closed loop (确认 → 处置 → 关闭) -------------------------------------------------------


def _take(
    session: Session, actor: Actor, scope: Scope, alarm_id: int, verb: str, **detail: Any
) -> Alarm:
    alarm = get_alarm(session, scope, alarm_id)
    ensure_writable_here(alarm)
    problem = transition_problem(verb, alarm.state, ended=alarm.ended_at is not None)
    if problem is not None:
        raise Conflict(problem, field="state")
    before = alarm.state
    alarm.state = TRANSITIONS[verb][1].value
    now = utcnow()
    if verb == "acknowledge":
        alarm.acknowledged_at, alarm.acknowledged_by = now, actor.username
    elif verb == "handle":
        alarm.handled_at, alarm.handled_by = now, actor.username
        alarm.cause, alarm.action, alarm.handler = (
            detail["cause"],
            detail["action"],
            detail["handler"],
        )
    else:
        alarm.closed_at, alarm.closed_by = now, actor.username
    record_change(session, alarm, entity=ALARM_ENTITY)
    audit_record(
        session,
        actor,
        f"alarm.{verb}",
        "alarm",
        alarm,
        detail={"from": before, "to": alarm.state, "enterprise_id": alarm.enterprise_id, **detail},
    )
    return alarm


def acknowledge(session: Session, actor: Actor, scope: Scope, alarm_id: int) -> Alarm:
    """Acknowledge an alarm (确认): someone has seen it (audited, synced)."""
    return _take(session, actor, scope, alarm_id, "acknowledge")


def handle(
    session: Session, actor: Actor, scope: Scope, alarm_id: int, data: DispositionCreate
) -> Alarm:
    """Record how an acknowledged alarm was dealt with (处置: cause, action, person)."""
    return _take(
        session,
        actor,
        scope,
        alarm_id,
        "handle",
        cause=data.cause,
        action=data.action,
        handler=data.handler,
    )


def close(session: Session, actor: Actor, scope: Scope, alarm_id: int) -> Alarm:
    """Close a handled alarm whose condition has ended (关闭)."""
    return _take(session, actor, scope, alarm_id, "close")


@unscoped("a background job: the node escalates its own alarms")
def escalate_unacknowledged(session: Session) -> int:
    """Escalate this node's alarms left unacknowledged past their deadline (一级 and 二级 have
    their own, see settings): the alarm is stamped and, travelling up with it, appears on the
    upper tier's duty desk (值班). Audited; how many."""
    settings = get_settings()
    now = utcnow()
    late1 = now - timedelta(minutes=settings.alarm_ack_minutes_level1)
    late2 = now - timedelta(minutes=settings.alarm_ack_minutes_level2)
    alarms = session.scalars(
        select(Alarm).where(
            Alarm.origin_node == settings.effective_node_id,
            Alarm.deleted.is_(False),
            Alarm.state == AlarmStateName.RAISED.value,
            Alarm.escalated_at.is_(None),
            or_(
                and_(Alarm.level == 1, Alarm.raised_at < late1),
                and_(Alarm.level != 1, Alarm.raised_at < late2),
            ),
        )
    ).all()
    for alarm in alarms:
        alarm.escalated_at = now
        record_change(session, alarm, entity=ALARM_ENTITY)
        audit_record(
            session,
            SYSTEM,
            "alarm.escalate",
            "alarm",
            alarm,
            detail={"level": alarm.level, "raised_at": alarm.raised_at.isoformat()},
        )
    return len(alarms)


# --- device and system status (设备/系统状态) ---------------------------------------------------


@unscoped("the ingest and the jobs: a point's own status alarm")
def set_status(
    session: Session, p: MonitoringPoint, status: str, ts: int, out: Outcome | None = None
) -> bool:
    """Record a device status (设备状态) reported at ``ts`` if it is a change and newer than
    the one the point has; the change travels up with the point. A faulty, offline, unpowered
    or shut-down point gets a 二级 status alarm, ended when it reports normally again — unless
    the enterprise's whole monitoring system is down, which is one alarm for all its points.
    A point going from one of those states to another (a faulty sensor that falls silent) keeps
    its one open status alarm, which then names the newer state. Whether the status changed."""
    since = p.status_since
    if status == p.status or (since is not None and at_ms(ts) <= since):
        return False
    p.status, p.status_since = status, at_ms(ts)
    record_change(session, p, entity=POINT_ENTITY)
    current = session.scalars(
        select(Alarm).where(
            Alarm.point_id == p.id,
            Alarm.kind == AlarmKind.STATUS.value,
            Alarm.ended_at.is_(None),
        )
    ).first()
    if current is not None and status in STATUS_ALARMS:
        current.bound = status  # still out of service: the same alarm, not a new one
        record_change(session, current, entity=ALARM_ENTITY)
        if out is not None:
            out.alarms.append(current.id)
        return True
    if current is not None:
        current.ended_at = at_ms(ts)
        record_change(session, current, entity=ALARM_ENTITY)
        if out is not None:
            out.ended += 1
            out.alarms.append(current.id)
    if status in STATUS_ALARMS and system_alarm(session, p.enterprise_id) is None:
        alarm = point_alarm(p, AlarmKind.STATUS, 2, status, ts)
        record_change(session, alarm, entity=ALARM_ENTITY)
        if out is not None:
            out.raised += 1
            out.alarms.append(alarm.id)
    return True


@unscoped("the ingest: the enterprise's own system alarm")
def system_alarm(session: Session, enterprise_id: int) -> Alarm | None:
    """The open alarm of the enterprise's whole monitoring system, if any."""
    return session.scalars(
        select(Alarm)
        .where(
            Alarm.enterprise_id == enterprise_id,
            Alarm.kind == AlarmKind.SYSTEM.value,
            Alarm.ended_at.is_(None),
            Alarm.deleted.is_(False),
        )
        .order_by(Alarm.id.desc())
    ).first()


def system_alarm_status(
    session: Session, enterprise_id: int, status: str, ts: int, out: Outcome
) -> None:
    """The enterprise's whole-system alarm after its monitoring system reported ``status`` at
    ``ts``: anything but ``ok`` opens one alarm for the whole system (not one per point) or
    changes the open one; ``ok`` ends it."""
    alarm = system_alarm(session, enterprise_id)
    if status == PointStatus.OK:
        if alarm is not None:
            alarm.ended_at = at_ms(ts)
            out.ended += 1
    elif alarm is None:
        ent = enterprise_by_id(session, enterprise_id)
        assert ent is not None
        alarm = Alarm(
            enterprise_id=ent.id,
            division_code=ent.division_code,
            supervision_category=ent.supervision_category,
            kind=AlarmKind.SYSTEM.value,
            level=SYSTEM_LEVELS[status],
            bound=status,
            raised_at=at_ms(ts),
            state=AlarmStateName.RAISED.value,
            origin_node="",
        )
        session.add(alarm)
        out.raised += 1
    elif alarm.bound != status:
        alarm.bound, alarm.level = status, min(alarm.level, SYSTEM_LEVELS[status])
        out.escalated += 1
    else:
        return
    if alarm is not None:
        record_change(session, alarm, entity=ALARM_ENTITY)
        out.alarms.append(alarm.id)


@unscoped("a background job: the node watches its own points")
def mark_silent(session: Session, now: int, watching_since: int | None = None) -> int:
    """Mark offline the points of this node that have sent nothing for three sampling periods,
    counted from their last reading, their registration or ``watching_since`` (when this node
    started watching: a restart does not find every point silent at once), whichever is
    latest; how many."""
    node = get_settings().effective_node_id
    # Only points that have not reported for three periods come back from the database (this
    # runs every 30 s over every point); registration and watching_since are judged below.
    silent = or_(
        PointLive.last_ts.is_(None),
        PointLive.last_ts + MonitoringPoint.period_s * (SILENT_PERIODS * 1000) < now,
    )
    rows = session.execute(
        select(MonitoringPoint, PointLive.last_ts)
        .outerjoin(PointLive, PointLive.point_id == MonitoringPoint.id)
        .where(
            MonitoringPoint.deleted.is_(False),
            MonitoringPoint.origin_node == node,
            MonitoringPoint.status.not_in(_QUIET_STATES),
            silent,
        )
    ).all()
    marked = 0
    for p, last_ts in rows:
        heard = max(
            last_ts if last_ts is not None else 0,
            int(p.created_at.timestamp() * 1000),
            watching_since or 0,
        )
        stale = heard + SILENT_PERIODS * p.period_s * 1000 < now
        if stale and set_status(session, p, PointStatus.OFFLINE.value, now):
            marked += 1
    return marked
