"""Emergency events and command (事件与指挥): 接报 of an event, its response level raised or
lowered with reasons, situation reports (续报), the command structure, tasks with owners and
deadlines, resources dispatched and tracked (requested → dispatched → arrived → released), the
timeline of all of it, closure with the after-action review. Scoped, audited, synced up: an
event received at a county is followed at the province as it unfolds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Invalid, NotFound
from anjian.core.listing import in_state, of_enterprise_in
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.emergency.models import EmergencyEvent, EventDispatch, EventEntry, EventTask
from anjian.emergency.resources import get_resource, placed, set_status_for_dispatch
from anjian.emergency.rules.events import (
    DISPATCH_STATES,
    ENTRY_KINDS,
    EVENT_TYPES,
    LEVEL_LABELS,
    SOURCES,
    STATES,
    dispatch_step_allowed,
    event_number,
    level_change,
)
from anjian.emergency.schemas import (
    CommandSet,
    DispatchCreate,
    DispatchRead,
    DispatchStep,
    EntryRead,
    EventClose,
    EventCreate,
    EventRead,
    LevelChange,
    SituationReport,
    TaskCreate,
    TaskRead,
)
from anjian.emergency.sync import DISPATCH_ENTITY, ENTRY_ENTITY, EVENT_ENTITY, TASK_ENTITY
from anjian.enterprises.service import enterprise_names


def audit_event(
    session: Session, actor: Actor, action: str, ev: EmergencyEvent, **detail: Any
) -> None:
    """Audit ``emergency.event.<action>`` on ``ev`` with its number and ``detail``."""
    audit_record(
        session,
        actor,
        f"emergency.event.{action}",
        EVENT_ENTITY,
        ev,
        detail={"number": ev.number, **detail},
    )


def add_entry(
    session: Session,
    actor: Actor,
    ev: EmergencyEvent,
    kind: str,
    text: str,
    at: datetime | None = None,
    **detail: Any,
) -> EventEntry:
    """A line of the event's timeline, synced with it."""
    row = EventEntry(
        event_uid=ev.uid,
        division_code=ev.division_code,
        kind=kind,
        text=text,
        detail=detail,
        at=at or utcnow(),
        by=actor.username,
        origin_node="",
    )
    session.add(row)
    session.flush()
    record_change(session, row, entity=ENTRY_ENTITY)
    return row


def create_event(session: Session, actor: Actor, scope: Scope, data: EventCreate) -> EmergencyEvent:
    """接报: record an event received now (or when the call came), with its first timeline
    line (audited, synced up)."""
    division, enterprise_id = placed(session, scope, data.division_code, data.enterprise_id)
    received = data.received_at or utcnow()
    if received > utcnow():
        raise Invalid("接报时间不能晚于现在 (received in the future)", field="received_at")
    ev = EmergencyEvent(
        **data.model_dump(exclude={"division_code", "enterprise_id", "received_at"}),
        division_code=division,
        enterprise_id=enterprise_id,
        received_at=received,
        state="active",
        commander="",
        site_commander="",
        groups=[],
        review="",
        created_by=actor.username,
        created_at=utcnow(),
        number="",
        origin_node="",
    )
    session.add(ev)
    session.flush()
    ev.number = event_number(received, ev.uid)
    record_change(session, ev, entity=EVENT_ENTITY)
    text = f"接报（{SOURCES[ev.source]}）：{ev.title}"
    if ev.level is not None:
        text += f"，{LEVEL_LABELS[ev.level]}响应"
    add_entry(session, actor, ev, "receipt", text, at=received)
    audit_event(session, actor, "create", ev, level=ev.level, division_code=division)
    return ev


def get_event(session: Session, scope: Scope, event_id: int) -> EmergencyEvent:
    """One event in scope; absent and out of scope are the same 404."""
    return scope.one(session, EmergencyEvent, event_id)


def active(session: Session, scope: Scope, event_id: int) -> EmergencyEvent:
    """An event this node keeps and that is still being handled."""
    ev = get_event(session, scope, event_id)
    ensure_writable_here(ev)
    if ev.state != "active":
        raise Conflict("事件已结束，不能再更改 (the event is closed)", field="state")
    return ev


def list_events(
    session: Session,
    scope: Scope,
    *,
    state: str | None = None,
    division: str | None = None,
    enterprise_id: int | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[EmergencyEvent], int]:
    """Events in scope, those in progress first, the latest received first."""
    stmt = of_enterprise_in(scope, EmergencyEvent, enterprise_id, division)
    stmt = in_state(
        stmt, EmergencyEvent.state, state, STATES, f"未知事件状态: {state} (unknown state)"
    )
    order = (EmergencyEvent.state, EmergencyEvent.received_at.desc(), EmergencyEvent.id.desc())
    return paged(session, stmt, order, limit=limit, offset=offset)


@unscoped("the lines of events the caller read in scope")
def _lines(session: Session, model: Any, uids: list[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {u: [] for u in uids}
    if uids:
        order = model.at if model is EventEntry else model.id
        for row in session.scalars(select(model).where(model.event_uid.in_(uids)).order_by(order)):
            out[row.event_uid].append(row)
    return out


@unscoped("the lines of an event the caller read in scope")
def revision(session: Session, ev: EmergencyEvent) -> str:
    """What the event's page shows, in one short string that changes with it: the event's
    version and the number and versions of its timeline lines, tasks and dispatches."""
    parts = [str(ev.version)]
    for model in (EventEntry, EventTask, EventDispatch):
        count, versions = session.execute(
            select(func.count(), func.coalesce(func.sum(model.version), 0)).where(
                model.event_uid == ev.uid
            )
        ).one()
        parts.append(f"{count}.{versions}")
    return "-".join(parts)


def present(
    session: Session, events: list[EmergencyEvent], *, detail: bool = True
) -> list[EventRead]:
    """The user-facing views: names for codes and, with ``detail``, the timeline (oldest
    first), the tasks and the dispatched resources."""
    divisions = division_names(session, {e.division_code for e in events})
    ents = enterprise_names(session, {e.enterprise_id for e in events if e.enterprise_id})
    uids = [e.uid for e in events] if detail else []
    entries, tasks, dispatches = (
        _lines(session, m, uids) for m in (EventEntry, EventTask, EventDispatch)
    )
    now = utcnow()
    return [
        copied(
            EventRead,
            e,
            event_type_label=EVENT_TYPES.get(e.event_type, e.event_type),
            division_name=divisions.get(e.division_code, ""),
            enterprise_name=ents.get(e.enterprise_id or 0, ""),
            level_label=LEVEL_LABELS.get(e.level or 0, "未定级"),
            state_label=STATES.get(e.state, e.state),
            orders=[],  # read in with the reader's scope (emergency.orders.with_orders)
            timeline=[
                copied(EntryRead, x, kind_label=ENTRY_KINDS.get(x.kind, x.kind))
                for x in entries.get(e.uid, [])
            ],
            tasks=[
                copied(
                    TaskRead,
                    t,
                    overdue=t.state == "open" and t.due_at is not None and t.due_at < now,
                )
                for t in tasks.get(e.uid, [])
            ],
            dispatches=[
                copied(DispatchRead, d, state_label=DISPATCH_STATES.get(d.state, d.state))
                for d in dispatches.get(e.uid, [])
            ],
        )
        for e in events
    ]


def change_level(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: LevelChange
) -> EmergencyEvent:
    """Set, raise or lower the response level, with the reason on the timeline."""
    ev = active(session, scope, event_id)
    if ev.level == data.level:
        raise Conflict(f"响应级别已是{LEVEL_LABELS[data.level]} (unchanged)", field="level")
    text = f"{level_change(ev.level, data.level)}。理由：{data.reason.strip()}"
    old, ev.level = ev.level, data.level
    record_change(session, ev, entity=EVENT_ENTITY)
    add_entry(session, actor, ev, "level", text, **{"from": old, "to": data.level})
    audit_event(session, actor, "level", ev, **{"from": old, "to": data.level})
    return ev


def report(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: SituationReport
) -> EmergencyEvent:
    """续报: a situation report on the timeline."""
    ev = active(session, scope, event_id)
    add_entry(session, actor, ev, "report", data.text.strip())
    record_change(session, ev, entity=EVENT_ENTITY)  # the event shows it changed
    audit_event(session, actor, "report", ev)
    return ev


def set_command(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: CommandSet
) -> EmergencyEvent:
    """The command structure: 总指挥, 现场指挥 and the groups with their members."""
    ev = active(session, scope, event_id)
    ev.commander, ev.site_commander = data.commander.strip(), data.site_commander.strip()
    ev.groups = [g.model_dump() for g in data.groups]
    record_change(session, ev, entity=EVENT_ENTITY)
    groups = "、".join(g.name for g in data.groups)
    text = f"成立指挥部：总指挥 {ev.commander}" + (
        f"，现场指挥 {ev.site_commander}" if ev.site_commander else ""
    )
    add_entry(session, actor, ev, "command", text + (f"；工作组：{groups}" if groups else ""))
    audit_event(session, actor, "command", ev, commander=ev.commander)
    return ev


def add_task(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: TaskCreate
) -> EventTask:
    """A task with its owner and deadline."""
    ev = active(session, scope, event_id)
    task = EventTask(
        event_uid=ev.uid,
        division_code=ev.division_code,
        title=data.title.strip(),
        owner=data.owner.strip(),
        due_at=data.due_at,
        state="open",
        created_by=actor.username,
        origin_node="",
    )
    session.add(task)
    session.flush()
    record_change(session, task, entity=TASK_ENTITY)
    add_entry(session, actor, ev, "task", f"布置任务：{task.title}（{task.owner}）", task=task.uid)
    audit_event(session, actor, "task", ev, task=task.title, owner=task.owner)
    return task


def _line(lines: dict[str, list[Any]], ev: EmergencyEvent, line_id: int, what: str) -> Any:
    row = next((x for x in lines.get(ev.uid, []) if x.id == line_id), None)
    if row is None:
        raise NotFound(f"该事件没有{what} {line_id} (no such {what})")
    ensure_writable_here(row)
    return row


def finish_task(
    session: Session, actor: Actor, scope: Scope, event_id: int, task_id: int
) -> EventTask:
    """A task done."""
    ev = active(session, scope, event_id)
    task: EventTask = _line(_lines(session, EventTask, [ev.uid]), ev, task_id, "任务")
    if task.state == "done":
        raise Conflict("任务已完成 (already done)", field="state")
    task.state, task.done_at = "done", utcnow()
    record_change(session, task, entity=TASK_ENTITY)
    add_entry(session, actor, ev, "task", f"任务完成：{task.title}", task=task.uid)
    audit_event(session, actor, "task_done", ev, task=task.title)
    return task


def dispatch(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: DispatchCreate
) -> EventDispatch:
    """Call a resource in scope to the event (requested)."""
    ev = active(session, scope, event_id)
    res = get_resource(session, scope, data.resource_id)
    called = _lines(session, EventDispatch, [ev.uid])[ev.uid]
    if any(d.resource_uid == res.uid and d.state != "released" for d in called):
        raise Conflict(f"{res.name}已在本事件中调度 (already dispatched)", field="resource_id")
    row = EventDispatch(
        event_uid=ev.uid,
        division_code=ev.division_code,
        resource_uid=res.uid,
        resource_name=res.name,
        resource_kind=res.kind,
        state="requested",
        times={"requested": utcnow().isoformat()},
        note=data.note.strip(),
        origin_node="",
    )
    session.add(row)
    session.flush()
    record_change(session, row, entity=DISPATCH_ENTITY)
    add_entry(session, actor, ev, "dispatch", f"调度资源：{res.name}", dispatch=row.uid)
    audit_event(session, actor, "dispatch", ev, resource=res.name)
    return row


def dispatch_step(
    session: Session,
    actor: Actor,
    scope: Scope,
    event_id: int,
    dispatch_id: int,
    data: DispatchStep,
) -> EventDispatch:
    """A dispatched resource moves on (dispatched, arrived, released); the resource's own
    status follows where this node keeps it (执行任务中 while out, 可调用 when back)."""
    ev = active(session, scope, event_id)
    row: EventDispatch = _line(_lines(session, EventDispatch, [ev.uid]), ev, dispatch_id, "调度")
    if not dispatch_step_allowed(row.state, data.state):
        raise Conflict(
            f"{DISPATCH_STATES[row.state]}的资源不能改为{DISPATCH_STATES[data.state]} "
            "(step not allowed)",
            field="state",
        )
    row.state = data.state
    row.times = {**row.times, data.state: utcnow().isoformat()}
    record_change(session, row, entity=DISPATCH_ENTITY)
    set_status_for_dispatch(session, actor, row.resource_uid, data.state)
    text = f"{row.resource_name}{DISPATCH_STATES[data.state]}"
    add_entry(session, actor, ev, "dispatch", text, dispatch=row.uid, state=data.state)
    audit_event(session, actor, "dispatch_step", ev, resource=row.resource_name, state=data.state)
    return row


def close_event(
    session: Session, actor: Actor, scope: Scope, event_id: int, data: EventClose
) -> EmergencyEvent:
    """结束: the response ends with the after-action review; resources still out are released
    first (their own steps), so none stays 执行任务中."""
    ev = active(session, scope, event_id)
    for row in _lines(session, EventDispatch, [ev.uid])[ev.uid]:
        if row.state != "released":
            dispatch_step(session, actor, scope, event_id, row.id, DispatchStep(state="released"))
    ev.state, ev.closed_at, ev.review = "closed", utcnow(), data.review.strip()
    record_change(session, ev, entity=EVENT_ENTITY)
    add_entry(session, actor, ev, "closure", "应急响应结束")
    audit_event(session, actor, "close", ev)
    return ev
