"""接报 (receipts) at an agency's duty desk, each in one step: a call, a monitoring alarm or an
accident quick report is logged with the duty officer's clock and becomes an event (突发事件)
prefilled from its origin, received at the same moment; a report from below (an event a lower
node keeps) is logged and a line added to that event's timeline. Each origin is received once.
Then 转报: when and to whom it was passed on, and whether that took longer than the limit.
Audited and synced up, like the events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from anjian.accidents.models import Accident
from anjian.accidents.reporting import get_accident
from anjian.accidents.rules import ACCIDENT_TYPES, GRADE_LABELS, NEAR_MISS
from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import CST
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Invalid
from anjian.core.node_settings.service import effective_settings
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.emergency import events
from anjian.emergency.duty.desk import desk_of, staff_only
from anjian.emergency.duty.models import DutyReceipt
from anjian.emergency.duty.rules import (
    RECEIPT_SOURCES,
    accident_title,
    alarm_event_type,
    alarm_title,
    casualties,
    elapsed_minutes,
    overdue,
    pass_on_problem,
    received_problem,
)
from anjian.emergency.duty.schemas import (
    BelowReceipt,
    CallReceipt,
    OriginReceipt,
    PassOn,
    ReceiptEvent,
    ReceiptRead,
)
from anjian.emergency.duty.sync import RECEIPT_ENTITY
from anjian.emergency.models import EmergencyEvent
from anjian.emergency.rules.events import LEVEL_LABELS
from anjian.emergency.schemas import EventCreate
from anjian.enterprises.service import enterprise_by_id
from anjian.monitoring.alarms import get_alarm, present_alarms
from anjian.monitoring.models import Alarm, MonitoringPoint


def pass_on_limit() -> int:
    """Minutes a receipt may wait before it is passed on (the setting ``duty_pass_on_minutes``,
    30 by default: the national timing rule is not verified)."""
    return effective_settings().duty_pass_on_minutes


def _here() -> str:
    return get_settings().effective_node_id


def _when(value: datetime) -> str:
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _received_at(value: datetime | None) -> datetime:
    """The receipt's time: as given (never in the future) or now."""
    now = utcnow()
    received = value or now
    problem = received_problem(received, now)
    if problem is not None:
        raise Invalid(problem, field="received_at")
    return received


@unscoped("an origin (alarm, accident) is received once at this node, whichever desk took it")
def received_refs(source: str) -> Select[Any]:
    """The uids of the origins of ``source`` already received (a subquery)."""
    return select(DutyReceipt.source_ref).where(
        DutyReceipt.source == source, DutyReceipt.deleted.is_(False)
    )


@unscoped("a report from below is received once at this node, whichever desk took it")
def received_here_from_below() -> Select[Any]:
    """The uids of the events from below already received at this node (a subquery)."""
    return select(DutyReceipt.source_ref).where(
        DutyReceipt.source == "report_below",
        DutyReceipt.origin_node == _here(),
        DutyReceipt.deleted.is_(False),
    )


@unscoped("whether an origin read in scope was received already, and by which desk")
def _already(session: Session, source: str, ref: str, *, here_only: bool) -> DutyReceipt | None:
    stmt = select(DutyReceipt).where(
        DutyReceipt.source == source,
        DutyReceipt.source_ref == ref,
        DutyReceipt.deleted.is_(False),
    )
    if here_only:
        stmt = stmt.where(DutyReceipt.origin_node == _here())
    return session.scalars(stmt.order_by(DutyReceipt.id).limit(1)).first()


def _refuse_twice(session: Session, source: str, ref: str, field: str, *, here_only: bool) -> None:
    done = _already(session, source, ref, here_only=here_only)
    if done is not None:
        desk = division_names(session, [done.division_code]).get(done.division_code, "")
        raise Conflict(
            f"已于 {_when(done.received_at)} 由{desk}值班室接报 (already received)", field=field
        )


def _log(
    session: Session,
    actor: Actor,
    desk: str,
    *,
    received_at: datetime,
    source: str,
    source_ref: str,
    caller: str,
    content: str,
) -> DutyReceipt:
    """A receipt row, flushed (it has its uid); the caller links the event and records it."""
    row = DutyReceipt(
        division_code=desk,
        received_at=received_at,
        source=source,
        source_ref=source_ref,
        caller=caller[:200],
        content=content,
        passed_to="",
        event_uid=None,
        logged_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    session.add(row)
    session.flush()
    return row


def _record(session: Session, actor: Actor, row: DutyReceipt) -> DutyReceipt:
    record_change(session, row, entity=RECEIPT_ENTITY)
    audit_record(
        session,
        actor,
        "emergency.duty.receipt",
        RECEIPT_ENTITY,
        row,
        detail={
            "source": row.source,
            "source_ref": row.source_ref,
            "event_uid": row.event_uid,
            "received_at": row.received_at.isoformat(),
        },
    )
    return row


def _open(
    session: Session, actor: Actor, scope: Scope, row: DutyReceipt, data: EventCreate
) -> EmergencyEvent:
    ev = events.create_event(session, actor, scope, data)
    row.event_uid = ev.uid
    return ev


def receive_call(
    session: Session, actor: Actor, scope: Scope, data: CallReceipt
) -> tuple[DutyReceipt, EmergencyEvent | None]:
    """电话接报: log a call at the caller's desk and, with ``open_event``, open the event it
    reports (its title and type required then; placed in ``division_code``, default the
    desk's, or at an enterprise in scope)."""
    desk = desk_of(session, scope, actor, None)
    received = _received_at(data.received_at)
    if data.open_event:
        if not data.title.strip():
            raise Invalid("登记事件须填写事件名称 (title required to open an event)", field="title")
        if data.event_type is None:
            raise Invalid("登记事件须选择事件类型 (event_type required)", field="event_type")
    row = _log(
        session,
        actor,
        desk,
        received_at=received,
        source=data.source,
        source_ref="",
        caller=data.caller.strip(),
        content=data.content.strip(),
    )
    ev = None
    if data.open_event:
        ev = _open(
            session,
            actor,
            scope,
            row,
            EventCreate(
                title=data.title.strip(),
                event_type=data.event_type or "other",
                division_code=data.division_code or desk,
                enterprise_id=data.enterprise_id,
                place=data.place.strip(),
                lng=data.lng,
                lat=data.lat,
                level=data.level,
                source=data.source,
                source_ref=row.uid,
                received_at=received,
                reporter=data.caller.strip(),
                summary=data.content.strip(),
            ),
        )
    return _record(session, actor, row), ev


@unscoped("the point of an alarm read in scope")
def _point(session: Session, point_id: int | None) -> MonitoringPoint | None:
    return session.get(MonitoringPoint, point_id) if point_id is not None else None


def _alarm_content(alarm: Alarm, title: str, unit: str, note: str) -> str:
    said = [f"{_when(alarm.raised_at)} {title}"]
    if alarm.value is not None:
        said.append(f"触发值 {alarm.value:g}{unit}")
    if alarm.trigger_threshold is not None or alarm.threshold is not None:
        limit = alarm.trigger_threshold if alarm.trigger_threshold is not None else alarm.threshold
        said.append(f"设定值 {limit:g}{unit}")
    if alarm.escalated_at is not None:
        said.append("超时未确认，已上报值班")
    text = "，".join(said)
    return f"{text}。{note.strip()}" if note.strip() else text


def receive_alarm(
    session: Session, actor: Actor, scope: Scope, alarm_id: int, data: OriginReceipt
) -> tuple[DutyReceipt, EmergencyEvent]:
    """接报 of a monitoring alarm in scope, in one step: logged and opened as an event at its
    enterprise (title, type, place and position from the alarm, its point and enterprise);
    an alarm already received is refused (409)."""
    staff_only(scope)
    alarm = get_alarm(session, scope, alarm_id)
    desk = desk_of(session, scope, actor, None)
    _refuse_twice(session, "alarm", alarm.uid, "alarm_id", here_only=False)
    received = _received_at(data.received_at)
    view = present_alarms(session, [alarm])[0]
    point = _point(session, alarm.point_id)
    ent = enterprise_by_id(session, alarm.enterprise_id)
    title = alarm_title(
        view.enterprise_name, view.point_name or view.point_code, view.bound_label, view.level_label
    )[:200]
    place = ent.address if ent is not None else ""
    if point is not None and point.location:
        place = f"{place}（{point.location}）" if place else point.location
    content = _alarm_content(alarm, title, view.unit, data.content)
    row = _log(
        session,
        actor,
        desk,
        received_at=received,
        source="alarm",
        source_ref=alarm.uid,
        caller=view.enterprise_name,
        content=content,
    )
    ev = _open(
        session,
        actor,
        scope,
        row,
        EventCreate(
            title=title,
            event_type=alarm_event_type(alarm.supervision_category, view.point_kind),
            division_code=alarm.division_code,
            enterprise_id=alarm.enterprise_id,
            place=place[:300],
            lng=ent.lng if ent is not None else None,
            lat=ent.lat if ent is not None else None,
            level=data.level,
            source="alarm",
            source_ref=alarm.uid,
            received_at=received,
            reporter="在线监测预警系统",
            summary=content[:4000],
        ),
    )
    return _record(session, actor, row), ev


def _accident_content(acc: Accident, title: str, note: str) -> str:
    hurt = casualties(acc.deaths, acc.missing, acc.serious_injuries, acc.minor_injuries)
    text = f"{_when(acc.occurred_at)} {acc.place}发生{title}，{hurt}"
    if acc.summary.strip():
        text += f"。{acc.summary.strip()}"
    return f"{text}。{note.strip()}" if note.strip() else text


def receive_accident(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: OriginReceipt
) -> tuple[DutyReceipt, EmergencyEvent]:
    """接报 of an accident quick report (事故快报) in scope, in one step: logged and opened as
    a production-accident event with the accident's unit, place and position; an accident
    already received is refused (409)."""
    staff_only(scope)
    acc = get_accident(session, scope, accident_id)
    desk = desk_of(session, scope, actor, None)
    _refuse_twice(session, "accident", acc.uid, "accident_id", here_only=False)
    received = _received_at(data.received_at)
    unit = acc.unit_name or division_names(session, [acc.division_code]).get(acc.division_code, "")
    kind_label = ACCIDENT_TYPES.get(acc.accident_type, acc.accident_type)
    title = accident_title(unit, kind_label, acc.kind == NEAR_MISS)[:200]
    content = _accident_content(acc, title, data.content)
    row = _log(
        session,
        actor,
        desk,
        received_at=received,
        source="accident",
        source_ref=acc.uid,
        caller=f"{unit} {acc.reporter}".strip(),
        content=content,
    )
    ev = _open(
        session,
        actor,
        scope,
        row,
        EventCreate(
            title=title,
            event_type="production_accident",
            division_code=acc.division_code,
            enterprise_id=acc.enterprise_id,
            place=acc.place[:300],
            lng=acc.lng,
            lat=acc.lat,
            level=data.level,
            source="accident",
            source_ref=acc.uid,
            received_at=received,
            reporter=acc.reporter,
            summary=content[:4000],
        ),
    )
    return _record(session, actor, row), ev


def receive_from_below(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: BelowReceipt
) -> tuple[DutyReceipt, EmergencyEvent]:
    """接报 of a report from below: an event in scope kept by a lower node (a read-only copy
    here) is logged at the caller's desk and its timeline gets the line "…值班室接报" made at
    this node (it travels up with the event). No event is opened. An event this node keeps,
    or one already received here, is refused (409)."""
    staff_only(scope)
    ev = events.get_event(session, scope, event_id)
    desk = desk_of(session, scope, actor, None)
    if ev.origin_node in ("", _here()):
        raise Conflict(
            "该事件由本节点登记处置，不是下级报告 (kept at this node, not a report from below)",
            field="event_id",
        )
    _refuse_twice(session, "report_below", ev.uid, "event_id", here_only=True)
    received = _received_at(data.received_at)
    names = division_names(session, [desk, ev.division_code])
    level = LEVEL_LABELS.get(ev.level or 0, "未定级")
    content = f"{ev.number} {ev.title}（{level}）"
    if data.content.strip():
        content += f"。{data.content.strip()}"
    row = _log(
        session,
        actor,
        desk,
        received_at=received,
        source="report_below",
        source_ref=ev.uid,
        caller=f"{names.get(ev.division_code, ev.division_code)}（{ev.origin_node}）",
        content=content,
    )
    row.event_uid = ev.uid
    events.add_entry(
        session,
        actor,
        ev,
        "receipt",
        f"{names.get(desk, desk)}值班室接报",
        at=received,
        receipt=row.uid,
    )
    return _record(session, actor, row), ev


def get_receipt(session: Session, scope: Scope, receipt_id: int) -> DutyReceipt:
    """One receipt in scope; absent and out of scope are the same 404."""
    staff_only(scope)
    return scope.one(session, DutyReceipt, receipt_id)


@unscoped("the events receipts name, after the receipts were read in scope")
def events_by_uid(session: Session, uids: list[str]) -> dict[str, EmergencyEvent]:
    """The events of this node's database named by ``uids``."""
    if not uids:
        return {}
    stmt = select(EmergencyEvent).where(EmergencyEvent.uid.in_(uids))
    return {e.uid: e for e in session.scalars(stmt)}


def pass_on(
    session: Session, actor: Actor, scope: Scope, receipt_id: int, data: PassOn
) -> DutyReceipt:
    """转报: when (default now; not before the receipt, not in the future) and to whom a
    receipt kept at this node was passed on; once only. The event it became gets the line
    on its timeline (audited, synced)."""
    row = get_receipt(session, scope, receipt_id)
    ensure_writable_here(row)
    if row.passed_on_at is not None:
        raise Conflict(
            f"已于 {_when(row.passed_on_at)} 转报{row.passed_to} (already passed on)",
            field="passed_on_at",
        )
    now = utcnow()
    at = data.passed_on_at or now
    problem = pass_on_problem(row.received_at, at, now)
    if problem is not None:
        raise Invalid(problem, field="passed_on_at")
    row.passed_on_at, row.passed_to = at, data.passed_to.strip()
    record_change(session, row, entity=RECEIPT_ENTITY)
    limit = pass_on_limit()
    minutes = elapsed_minutes(row.received_at, at, now)
    audit_record(
        session,
        actor,
        "emergency.duty.passed_on",
        RECEIPT_ENTITY,
        row,
        detail={
            "passed_to": row.passed_to,
            "elapsed_minutes": minutes,
            "overdue": overdue(row.received_at, at, now, limit),
        },
    )
    ev = events_by_uid(session, [row.event_uid]).get(row.event_uid or "")
    if ev is not None:
        desk = division_names(session, [row.division_code]).get(row.division_code, "")
        events.add_entry(
            session,
            actor,
            ev,
            "receipt",
            f"{desk}值班室转报{row.passed_to}（接报后 {minutes} 分钟）",
            at=at,
            receipt=row.uid,
        )
    return row


def list_receipts(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    source: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    passed_on: bool | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[DutyReceipt], int]:
    """Receipts in scope (of the desks of ``division`` and below), the latest received first;
    ``passed_on`` false: those still waiting to be passed on."""
    staff_only(scope)
    stmt = scope.select(DutyReceipt)
    if division:
        stmt = stmt.where(division_filter(DutyReceipt.division_code, division))
    if source:
        if source not in RECEIPT_SOURCES:
            choices = ", ".join(RECEIPT_SOURCES)
            raise Invalid(
                f"未知接报来源: {source[:20]} (source must be one of {choices})", field="source"
            )
        stmt = stmt.where(DutyReceipt.source == source)
    if from_ is not None and to is not None and to <= from_:
        raise Invalid("结束时间须晚于开始时间 (to must be after from)", field="to")
    if from_ is not None:
        stmt = stmt.where(DutyReceipt.received_at >= from_)
    if to is not None:
        stmt = stmt.where(DutyReceipt.received_at < to)
    if passed_on is not None:
        column = DutyReceipt.passed_on_at
        stmt = stmt.where(column.is_not(None) if passed_on else column.is_(None))
    order = (DutyReceipt.received_at.desc(), DutyReceipt.id.desc())
    return paged(session, stmt, order, limit=limit, offset=offset)


def present(session: Session, rows: list[DutyReceipt]) -> list[ReceiptRead]:
    """The user-facing views: the desk's name, the source's label, the event it became (as
    this node holds it), minutes to passing on (or waited so far) and whether too many."""
    now, limit = utcnow(), pass_on_limit()
    names = division_names(session, {r.division_code for r in rows})
    evs = events_by_uid(session, [r.event_uid for r in rows if r.event_uid])
    out = []
    for r in rows:
        ev = evs.get(r.event_uid or "")
        out.append(
            copied(
                ReceiptRead,
                r,
                division_name=names.get(r.division_code, ""),
                source_label=RECEIPT_SOURCES.get(r.source, r.source),
                event=None
                if ev is None
                else ReceiptEvent(
                    id=ev.id,
                    uid=ev.uid,
                    number=ev.number,
                    title=ev.title,
                    level=ev.level,
                    state=ev.state,
                ),
                elapsed_minutes=elapsed_minutes(r.received_at, r.passed_on_at, now),
                passed_on=r.passed_on_at is not None,
                overdue=overdue(r.received_at, r.passed_on_at, now, limit),
                limit_minutes=limit,
            )
        )
    return out


def grade_label(grade: int) -> str:
    """An accident grade's name (特别重大 … 一般)."""
    return next((label for g, label in GRADE_LABELS.items() if int(g) == grade), str(grade))
