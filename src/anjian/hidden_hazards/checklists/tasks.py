"""Self-inspection tasks (排查任务): one per period of an active checklist, made by the
scheduling job (and when a checklist is made), reported done once by the enterprise's people or
an official in scope, and the completion rate (完成率) over the tasks due. Tasks stay at the
enterprise's node, as their checklists do; a task is in a user's scope when its enterprise is.
Every write is audited, in the caller's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.clock import today_in_china
from anjian.core.errors import Conflict, Invalid
from anjian.core.paging import paged_rows
from anjian.core.scope import Scope, not_found, unscoped
from anjian.core.sync.outbox import ensure_writable_here
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import EnterpriseStatus
from anjian.hidden_hazards.checklists.rules import (
    FREQUENCIES,
    TASK_STATES,
    TaskState,
    beijing_date,
    completion_rate,
    on_time,
    period_of,
    period_start,
    task_completable,
    task_state,
)
from anjian.hidden_hazards.checklists.schemas import CompletionRead, TaskRead
from anjian.hidden_hazards.models import Checklist, InspectionTask


def drop_pending(session: Session, cl: Checklist, today: date) -> None:
    """Remove the checklist's tasks not done whose period still runs: the schedule they
    belong to no longer holds (done and missed ones stay on the record)."""
    session.execute(
        delete(InspectionTask).where(
            InspectionTask.checklist_id == cl.id,
            InspectionTask.done_at.is_(None),
            InspectionTask.due_date >= today,
        )
    )


def ensure_task(session: Session, cl: Checklist, today: date) -> bool:
    """Create the checklist's task of the period ``today`` falls in, unless it exists; a
    concurrent creator's row wins (the unique (checklist, period) refuses the second). Whether
    it was made (the demo also uses it to give a checklist its past periods)."""
    period, due = period_of(cl.frequency, today)
    exists = session.scalar(
        select(InspectionTask.id).where(
            InspectionTask.checklist_id == cl.id, InspectionTask.period == period
        )
    )
    return exists is None and _insert_task(session, cl, period, due)


def _insert_task(session: Session, cl: Checklist, period: str, due: date) -> bool:
    try:
        with session.begin_nested():
            session.add(
                InspectionTask(
                    checklist_id=cl.id,
                    enterprise_id=cl.enterprise_id,
                    period=period,
                    due_date=due,
                    done_by="",
                    hazards_found=0,
                    note="",
                )
            )
    except IntegrityError:
        return False  # created meanwhile by another process
    return True


@unscoped("the scheduling job makes the tasks of every enterprise kept at this node")
def ensure_tasks(session: Session, today: date) -> int:
    """For every active checklist of the enterprises kept at this node (not closed), create
    the task of the current period if it is missing. Idempotent; returns how many were made."""
    node = get_settings().effective_node_id
    lists = session.scalars(
        select(Checklist)
        .options(load_only(Checklist.id, Checklist.enterprise_id, Checklist.frequency))
        .join(Enterprise, Enterprise.id == Checklist.enterprise_id)
        .where(
            Checklist.active.is_(True),
            Enterprise.origin_node == node,
            Enterprise.deleted.is_(False),
            Enterprise.status != EnterpriseStatus.CLOSED,
        )
        .order_by(Checklist.id)
    ).all()
    wanted = {cl.id: period_of(cl.frequency, today) for cl in lists}
    periods = {period for period, _due in wanted.values()}
    existing: set[tuple[int, str]] = set()
    if periods:
        rows = session.execute(
            select(InspectionTask.checklist_id, InspectionTask.period).where(
                InspectionTask.period.in_(periods)
            )
        ).all()
        existing = {(int(c), str(p)) for c, p in rows}
    created = 0
    for cl in lists:
        period, due = wanted[cl.id]
        if (cl.id, period) not in existing and _insert_task(session, cl, period, due):
            created += 1
    return created


def _task_read(task: InspectionTask, cl: Checklist, enterprise_name: str, today: date) -> TaskRead:
    state = task_state(task.done_at is not None, task.due_date, today)
    return TaskRead(
        id=task.id,
        checklist_id=cl.id,
        checklist_name=cl.name,
        post=cl.post,
        frequency=cl.frequency,
        frequency_label=FREQUENCIES.get(cl.frequency, cl.frequency),
        enterprise_id=task.enterprise_id,
        enterprise_name=enterprise_name,
        period=task.period,
        period_start=period_start(task.period),
        due_date=task.due_date,
        state=state,
        state_label=TASK_STATES[state],
        on_time=None if task.done_at is None else on_time(task.done_at, task.due_date),
        done_at=task.done_at,
        done_by=task.done_by,
        hazards_found=task.hazards_found,
        note=task.note,
    )


def tasks_in_scope(scope: Scope) -> Select[Any]:
    """The tasks in scope with their checklist and enterprise name (rows of three), to filter
    and order further."""
    stmt = select(InspectionTask, Checklist, Enterprise.name).join(
        Checklist, Checklist.id == InspectionTask.checklist_id
    )
    return scope.restrict(
        stmt.join(Enterprise, Enterprise.id == InspectionTask.enterprise_id), Enterprise
    )


def _range(frm: date | None, to: date | None) -> None:
    if frm is not None and to is not None and frm > to:
        raise Invalid("起始日期不能晚于截止日期 (from is after to)", field="from")


def list_tasks(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    checklist_id: int | None = None,
    state: str | None = None,
    frm: date | None = None,
    to: date | None = None,
    today: date | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[TaskRead], int]:
    """Tasks in scope by due date (``frm``–``to`` inclusive), latest due first."""
    today = today or today_in_china()
    _range(frm, to)
    stmt = tasks_in_scope(scope)
    if enterprise_id is not None:
        stmt = stmt.where(InspectionTask.enterprise_id == enterprise_id)
    if checklist_id is not None:
        stmt = stmt.where(InspectionTask.checklist_id == checklist_id)
    if state == TaskState.DONE:
        stmt = stmt.where(InspectionTask.done_at.isnot(None))
    elif state == TaskState.MISSED:
        stmt = stmt.where(InspectionTask.done_at.is_(None), InspectionTask.due_date < today)
    elif state == TaskState.PENDING:
        stmt = stmt.where(InspectionTask.done_at.is_(None), InspectionTask.due_date >= today)
    elif state:
        raise Invalid(
            f"未知状态: {state}，应为 pending、done、missed 之一 (unknown state)", field="state"
        )
    if frm is not None:
        stmt = stmt.where(InspectionTask.due_date >= frm)
    if to is not None:
        stmt = stmt.where(InspectionTask.due_date <= to)
    order = (InspectionTask.due_date.desc(), Enterprise.name, InspectionTask.id)
    rows, total = paged_rows(session, stmt, order, limit=limit, offset=offset)
    return [_task_read(task, cl, name, today) for task, cl, name in rows], total


def _task_row(session: Session, scope: Scope, task_id: int) -> Any:
    """The task in scope with its checklist and enterprise name; absent and out of scope are
    the same 404."""
    row = session.execute(tasks_in_scope(scope).where(InspectionTask.id == task_id)).first()
    if row is None:
        raise not_found(
            session,
            InspectionTask.id,
            task_id,
            f"排查任务不存在或不在管辖范围内: {task_id} (no such inspection task in your jurisdiction)",
        )
    return row


def get_task(session: Session, scope: Scope, task_id: int) -> tuple[TaskRead, Checklist]:
    """One self-inspection task in scope, as users see it, with its checklist."""
    task, cl, name = _task_row(session, scope, task_id)
    return _task_read(task, cl, name, today_in_china()), cl


def complete_task(
    session: Session,
    actor: Actor,
    scope: Scope,
    task_id: int,
    note: str = "",
    hazards_found: int = 0,
) -> TaskRead:
    """排查完成: the enterprise's people (or an official in scope) report the task done, once,
    and not before its period starts. Done after the due date it counts as late."""
    task, cl, name = _task_row(session, scope, task_id)
    ent = session.get(Enterprise, task.enterprise_id)
    assert ent is not None
    ensure_writable_here(ent)
    today = today_in_china()
    start = period_start(task.period)
    if not task_completable(task.done_at is not None, start, today):
        if task.done_at is not None:
            raise Conflict(
                f"该排查任务已于 {beijing_date(task.done_at)} 由 {task.done_by} 完成 "
                "(this task is already done)",
                field="state",
            )
        raise Conflict(
            f"排查周期 {task.period} 尚未开始（{start} 起）(the period has not started yet)",
            field="period",
        )
    if hazards_found < 0:
        raise Invalid("发现隐患数不能为负数 (cannot be negative)", field="hazards_found")
    task.done_at, task.done_by = utcnow(), actor.username
    task.note, task.hazards_found = note.strip(), hazards_found
    session.flush()
    audit(
        session,
        actor,
        "inspection.complete",
        object_type="inspection_task",
        object_id=str(task.id),
        division_code=ent.division_code,
        detail={
            "checklist_id": cl.id,
            "checklist": cl.name,
            "period": task.period,
            "due_date": task.due_date.isoformat(),
            "hazards_found": hazards_found,
        },
    )
    return _task_read(task, cl, name, today)


def completion(
    session: Session,
    scope: Scope,
    frm: date,
    to: date,
    enterprise_id: int | None = None,
    *,
    today: date | None = None,
) -> list[CompletionRead]:
    """完成率 per enterprise in scope over the tasks due from ``frm`` to ``to`` (inclusive),
    by enterprise name."""
    today = today or today_in_china()
    _range(frm, to)
    stmt = select(
        InspectionTask.enterprise_id,
        Enterprise.name,
        Enterprise.division_code,
        InspectionTask.due_date,
        InspectionTask.done_at,
    )
    stmt = scope.restrict(
        stmt.join(Enterprise, Enterprise.id == InspectionTask.enterprise_id), Enterprise
    ).where(InspectionTask.due_date >= frm, InspectionTask.due_date <= to)
    if enterprise_id is not None:
        stmt = stmt.where(InspectionTask.enterprise_id == enterprise_id)
    counts: dict[int, dict[str, Any]] = {}
    for ent_id, name, division, due_date, done_at in session.execute(stmt):
        row = counts.setdefault(
            ent_id,
            {"name": name, "division": division, "done": 0, "late": 0, "missed": 0, "pending": 0},
        )
        if done_at is not None:
            row["done" if on_time(done_at, due_date) else "late"] += 1
        else:
            row["missed" if due_date < today else "pending"] += 1
    out = []
    for ent_id, c in counts.items():
        due = c["done"] + c["late"] + c["missed"]
        out.append(
            CompletionRead(
                enterprise_id=ent_id,
                enterprise_name=c["name"],
                division_code=c["division"],
                due=due,
                done=c["done"],
                late=c["late"],
                missed=c["missed"],
                pending=c["pending"],
                rate=completion_rate(c["done"], due),
            )
        )
    return sorted(out, key=lambda r: (r.enterprise_name, r.enterprise_id))
