"""Inspection checklists (排查清单) and the self-inspection tasks they schedule (排查任务).

An enterprise keeps a checklist per post (岗位) and frequency (每日/每周/每月); each period of
an active checklist gets one task (:func:`ensure_tasks`, run by the background job and when a
checklist is made), which the enterprise's people (or an official in scope) report done with
the number of hazards found. The completion rate (完成率) is tasks done by their due date over
tasks due. Checklists and tasks are the enterprise's working tools: they stay at the node of
the enterprise (never synced; the hazards found travel up as hidden hazards), so only that
node writes them. Every write is audited, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.clock import CST
from anjian.core.errors import Conflict, Invalid
from anjian.core.fields import invalid, one_of, text
from anjian.core.scope import Scope, not_found
from anjian.core.sync.outbox import ensure_writable_here
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.models import Checklist, InspectionTask
from anjian.hidden_hazards.rules import (
    FREQUENCIES,
    TASK_STATES,
    completion_rate,
    period_of,
    period_start,
    task_completable,
    task_state,
)

NAME_MAX, POST_MAX, ITEM_MAX = 200, 64, 500  # the same limits bind the API and the Excel import
MAX_ITEMS = 300  # items of one checklist


def beijing_today() -> date:
    """Periods and due dates are calendar dates in Beijing time."""
    return datetime.now(CST).date()


def beijing_date(moment: datetime) -> date:
    """The Beijing calendar date of a (UTC) moment: a task done at 23:30 on its due day is on
    time."""
    return moment.astimezone(CST).date()


# --- bodies -------------------------------------------------------------------------------------


def _strip(value: str) -> str:
    return value.strip()


Name = Annotated[str, AfterValidator(_strip), AfterValidator(text(NAME_MAX, required=True))]
Post = Annotated[str, AfterValidator(_strip), AfterValidator(text(POST_MAX))]
Frequency = Annotated[str, AfterValidator(one_of(FREQUENCIES, "排查频次", "frequency"))]


class ChecklistItem(BaseModel):
    """One thing to check (排查内容) and the rule that requires it (排查依据)."""

    model_config = ConfigDict(extra="forbid")

    content: Annotated[str, AfterValidator(_strip), AfterValidator(text(ITEM_MAX, required=True))]
    basis: Annotated[str, AfterValidator(_strip), AfterValidator(text(ITEM_MAX))] = ""


def _some_items(items: list[ChecklistItem]) -> list[ChecklistItem]:
    if not items:
        raise invalid("items", "至少需要一项排查内容 (a checklist needs at least one item)")
    if len(items) > MAX_ITEMS:
        raise invalid("items", f"排查内容最多 {MAX_ITEMS} 项 (at most {MAX_ITEMS} items)")
    return items


Items = Annotated[list[ChecklistItem], AfterValidator(_some_items)]


class ChecklistCreate(BaseModel):
    """A new checklist; an enterprise user may leave out ``enterprise_id`` (their own)."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int | None = None
    name: Name
    post: Post = ""
    frequency: Frequency
    items: Items


class ChecklistUpdate(BaseModel):
    """The fields to change; a new frequency reschedules the pending task."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    post: Post | None = None
    frequency: Frequency | None = None
    items: Items | None = None


MAX_HAZARDS_FOUND = 9_999  # one self-inspection; a bound the column and any form can hold


def _not_negative(value: int) -> int:
    if value < 0:
        raise invalid("hazards_found", f"发现隐患数不能为负数: {value} (cannot be negative)")
    if value > MAX_HAZARDS_FOUND:
        raise invalid(
            "hazards_found",
            f"发现隐患数最多 {MAX_HAZARDS_FOUND} (at most {MAX_HAZARDS_FOUND})",
        )
    return value


class TaskCompletion(BaseModel):
    """A self-inspection reported done: what was seen and how many hazards were found."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, AfterValidator(_strip), AfterValidator(text(4000))] = ""
    hazards_found: Annotated[int, AfterValidator(_not_negative)] = 0


class ChecklistRead(BaseModel):
    id: int
    enterprise_id: int
    enterprise_name: str = ""
    name: str
    post: str
    frequency: str
    frequency_label: str
    items: list[dict[str, str]]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, cl: Checklist, enterprise_name: str = "") -> ChecklistRead:
        return cls(
            id=cl.id,
            enterprise_id=cl.enterprise_id,
            enterprise_name=enterprise_name,
            name=cl.name,
            post=cl.post,
            frequency=cl.frequency,
            frequency_label=FREQUENCIES.get(cl.frequency, cl.frequency),
            items=list(cl.items or []),
            active=cl.active,
            created_at=cl.created_at,
        )


class ChecklistPage(BaseModel):
    total: int
    items: list[ChecklistRead]


class TaskRead(BaseModel):
    id: int
    checklist_id: int
    checklist_name: str
    post: str
    frequency: str
    frequency_label: str
    enterprise_id: int
    enterprise_name: str
    period: str
    period_start: date
    due_date: date
    state: str  # pending | done | missed
    state_label: str
    on_time: bool | None  # done by the due date (None while not done)
    done_at: datetime | None
    done_by: str
    hazards_found: int
    note: str


class TaskPage(BaseModel):
    total: int
    items: list[TaskRead]


class CompletionRow(BaseModel):
    """完成率 of one enterprise over a range of due dates. ``due`` counts the tasks whose period
    has ended or that were done; ``pending`` (period still running, not done) are not due yet."""

    enterprise_id: int
    enterprise_name: str
    division_code: str
    due: int
    done: int  # on time: done on or before the due date (Beijing time)
    late: int
    missed: int
    pending: int
    rate: float | None  # %, done over due


# --- scope ----------------------------------------------------------------------------------------


def _in_scope(stmt: Select[Any], scope: Scope, enterprise_col: Any) -> Select[Any]:
    """``stmt`` joined to the record's enterprise and limited to the scope (own enterprise for
    its users, the enterprise's division and category for officials)."""
    stmt = stmt.join(Enterprise, Enterprise.id == enterprise_col).where(
        Enterprise.deleted.is_(False)
    )
    return scope.apply(
        stmt,
        division=Enterprise.division_code,
        enterprise=enterprise_col,
        category=Enterprise.supervision_category,
    )


def enterprise_for(session: Session, scope: Scope, enterprise_id: int | None) -> Enterprise:
    """The enterprise whose checklists are being written: in scope (an enterprise user's own by
    default) and kept at this node, since checklists stay at the enterprise's node."""
    if enterprise_id is None:
        if scope.enterprise_id is None:
            raise Invalid("请选择企业 (enterprise_id is required)", field="enterprise_id")
        enterprise_id = scope.enterprise_id
    stmt = scope.apply(
        select(Enterprise).where(Enterprise.id == enterprise_id, Enterprise.deleted.is_(False)),
        division=Enterprise.division_code,
        enterprise=Enterprise.id,
        category=Enterprise.supervision_category,
    )
    ent = session.scalars(stmt).first()
    if ent is None:
        raise not_found(
            session,
            Enterprise.id,
            enterprise_id,
            f"企业不存在或不在管辖范围内: {enterprise_id} (no such enterprise in your jurisdiction)",
            field="enterprise_id",
        )
    ensure_writable_here(ent)
    return ent


# --- checklists -------------------------------------------------------------------------------


def get_checklist(session: Session, scope: Scope, checklist_id: int) -> Checklist:
    """One checklist in scope; absent and out of scope are the same 404."""
    found = session.scalars(
        _in_scope(select(Checklist), scope, Checklist.enterprise_id).where(
            Checklist.id == checklist_id
        )
    ).first()
    if found is None:
        raise not_found(
            session,
            Checklist.id,
            checklist_id,
            f"排查清单不存在或不在管辖范围内: {checklist_id} (no such checklist in your jurisdiction)",
        )
    return found


def list_checklists(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    active: bool | None = None,
    frequency: str | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Checklist], int]:
    """The checklists in scope, by enterprise, name and post, with the number of matches."""
    stmt = _in_scope(select(Checklist), scope, Checklist.enterprise_id)
    if enterprise_id is not None:
        stmt = stmt.where(Checklist.enterprise_id == enterprise_id)
    if active is not None:
        stmt = stmt.where(Checklist.active.is_(active))
    if frequency:
        if frequency not in FREQUENCIES:
            raise Invalid(f"未知频次: {frequency} (unknown frequency)", field="frequency")
        stmt = stmt.where(Checklist.frequency == frequency)
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            Checklist.name.contains(term, autoescape=True)
            | Checklist.post.contains(term, autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(Enterprise.name, Checklist.name, Checklist.post, Checklist.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.scalars(stmt)), total


def active_duplicate(
    session: Session,
    enterprise_id: int,
    name: str,
    post: str,
    frequency: str,
    *,
    other_than: int | None = None,
) -> Checklist | None:
    """An active checklist of the enterprise with this name, post and frequency, if any."""
    stmt = select(Checklist).where(
        Checklist.enterprise_id == enterprise_id,
        Checklist.name == name,
        Checklist.post == post,
        Checklist.frequency == frequency,
        Checklist.active.is_(True),
    )
    if other_than is not None:
        stmt = stmt.where(Checklist.id != other_than)
    return session.scalars(stmt).first()


def _duplicate_conflict(name: str) -> Conflict:
    return Conflict(
        f"该企业已有同名、同岗位、同频次的在用清单: {name} "
        "(an active checklist with this name, post and frequency exists)",
        field="name",
    )


def add_checklist(
    session: Session,
    ent: Enterprise,
    *,
    name: str,
    post: str,
    frequency: str,
    items: Sequence[ChecklistItem],
    today: date | None = None,
) -> Checklist:
    """Store a checklist already validated and schedule its current task (no audit: the
    caller records what it did, one checklist or a whole import)."""
    cl = Checklist(
        enterprise_id=ent.id,
        name=name,
        post=post,
        frequency=frequency,
        items=[item.model_dump() for item in items],
        active=True,
        created_at=utcnow(),
    )
    session.add(cl)
    session.flush()
    ensure_task(session, cl, today or beijing_today())
    return cl


def create_checklist(
    session: Session, actor: Actor, scope: Scope, data: ChecklistCreate
) -> Checklist:
    """A new checklist of an enterprise in scope; its task of the current period is due now."""
    ent = enterprise_for(session, scope, data.enterprise_id)
    if active_duplicate(session, ent.id, data.name, data.post, data.frequency):
        raise _duplicate_conflict(data.name)
    cl = add_checklist(
        session, ent, name=data.name, post=data.post, frequency=data.frequency, items=data.items
    )
    audit(
        session,
        actor,
        "checklist.create",
        object_type="checklist",
        object_id=str(cl.id),
        division_code=ent.division_code,
        detail={
            "enterprise_id": ent.id,
            "name": cl.name,
            "post": cl.post,
            "frequency": cl.frequency,
            "items": len(cl.items),
        },
    )
    return cl


def _writable(session: Session, scope: Scope, checklist_id: int) -> tuple[Checklist, Enterprise]:
    cl = get_checklist(session, scope, checklist_id)
    ent = session.get(Enterprise, cl.enterprise_id)
    assert ent is not None  # the scoped query joined it
    ensure_writable_here(ent)
    if not cl.active:
        raise Conflict("该清单已停用 (the checklist is deactivated)", field="active")
    return cl, ent


def _drop_pending(session: Session, cl: Checklist, today: date) -> None:
    """Remove the checklist's tasks not done whose period still runs: the schedule they
    belong to no longer holds (done and missed ones stay on the record)."""
    session.execute(
        delete(InspectionTask).where(
            InspectionTask.checklist_id == cl.id,
            InspectionTask.done_at.is_(None),
            InspectionTask.due_date >= today,
        )
    )


def update_checklist(
    session: Session, actor: Actor, scope: Scope, checklist_id: int, data: ChecklistUpdate
) -> Checklist:
    """Change the fields sent; a new frequency replaces the pending task by one of the new
    schedule."""
    cl, ent = _writable(session, scope, checklist_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    name = changes.get("name", cl.name)
    post = changes.get("post", cl.post)
    frequency = changes.get("frequency", cl.frequency)
    if active_duplicate(session, ent.id, name, post, frequency, other_than=cl.id):
        raise _duplicate_conflict(name)
    changed = sorted(k for k, v in changes.items() if getattr(cl, k) != v)
    rescheduled = frequency != cl.frequency
    cl.name, cl.post, cl.frequency = name, post, frequency
    if data.items is not None:
        cl.items = [item.model_dump() for item in data.items]
    if rescheduled:
        today = beijing_today()
        _drop_pending(session, cl, today)
        session.flush()
        ensure_task(session, cl, today)
    audit(
        session,
        actor,
        "checklist.update",
        object_type="checklist",
        object_id=str(cl.id),
        division_code=ent.division_code,
        detail={"name": cl.name, "changed": changed},
    )
    return cl


def deactivate_checklist(
    session: Session, actor: Actor, scope: Scope, checklist_id: int
) -> Checklist:
    """停用: no more tasks; the pending one goes, the record of past ones stays."""
    cl, ent = _writable(session, scope, checklist_id)
    cl.active = False
    _drop_pending(session, cl, beijing_today())
    audit(
        session,
        actor,
        "checklist.deactivate",
        object_type="checklist",
        object_id=str(cl.id),
        division_code=ent.division_code,
        detail={"name": cl.name},
    )
    return cl


# --- tasks ----------------------------------------------------------------------------------------


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
            Enterprise.status != "closed",
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
        on_time=None if task.done_at is None else beijing_date(task.done_at) <= task.due_date,
        done_at=task.done_at,
        done_by=task.done_by,
        hazards_found=task.hazards_found,
        note=task.note,
    )


def _tasks_stmt(scope: Scope) -> Select[Any]:
    return _in_scope(
        select(InspectionTask, Checklist, Enterprise.name).join(
            Checklist, Checklist.id == InspectionTask.checklist_id
        ),
        scope,
        InspectionTask.enterprise_id,
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
    today = today or beijing_today()
    _range(frm, to)
    stmt = _tasks_stmt(scope)
    if enterprise_id is not None:
        stmt = stmt.where(InspectionTask.enterprise_id == enterprise_id)
    if checklist_id is not None:
        stmt = stmt.where(InspectionTask.checklist_id == checklist_id)
    if state == "done":
        stmt = stmt.where(InspectionTask.done_at.isnot(None))
    elif state == "missed":
        stmt = stmt.where(InspectionTask.done_at.is_(None), InspectionTask.due_date < today)
    elif state == "pending":
        stmt = stmt.where(InspectionTask.done_at.is_(None), InspectionTask.due_date >= today)
    elif state:
        raise Invalid(
            f"未知状态: {state}，应为 pending、done、missed 之一 (unknown state)", field="state"
        )
    if frm is not None:
        stmt = stmt.where(InspectionTask.due_date >= frm)
    if to is not None:
        stmt = stmt.where(InspectionTask.due_date <= to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(InspectionTask.due_date.desc(), Enterprise.name, InspectionTask.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    rows = session.execute(stmt).all()
    return [_task_read(task, cl, name, today) for task, cl, name in rows], total


def _task_row(session: Session, scope: Scope, task_id: int) -> Any:
    """The task in scope with its checklist and enterprise name; absent and out of scope are
    the same 404."""
    row = session.execute(_tasks_stmt(scope).where(InspectionTask.id == task_id)).first()
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
    return _task_read(task, cl, name, beijing_today()), cl


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
    today = beijing_today()
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
) -> list[CompletionRow]:
    """完成率 per enterprise in scope over the tasks due from ``frm`` to ``to`` (inclusive),
    by enterprise name."""
    today = today or beijing_today()
    _range(frm, to)
    stmt = _in_scope(
        select(
            InspectionTask.enterprise_id,
            Enterprise.name,
            Enterprise.division_code,
            InspectionTask.due_date,
            InspectionTask.done_at,
        ),
        scope,
        InspectionTask.enterprise_id,
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
            row["done" if beijing_date(done_at) <= due_date else "late"] += 1
        else:
            row["missed" if due_date < today else "pending"] += 1
    out = []
    for ent_id, c in counts.items():
        due = c["done"] + c["late"] + c["missed"]
        out.append(
            CompletionRow(
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
