"""值班安排 (rosters): the shifts of an agency's duty desk — leader, duty officers, the desk's
phone — rostered without overlap, listed by time, removed only before they start, and who is on
duty now. Audited, synced up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import CST
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Invalid
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope, division_filter
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import one_writer_at_a_time, utcnow
from anjian.emergency.duty.desk import desk_of, desk_to_read, staff_only
from anjian.emergency.duty.models import DutyShift
from anjian.emergency.duty.rules import first_overlap, on_duty_at, shift_problem
from anjian.emergency.duty.schemas import OnDutyNow, ShiftCreate, ShiftRead
from anjian.emergency.duty.sync import SHIFT_ENTITY


def _at(value: datetime) -> str:
    return value.astimezone(CST).strftime("%m-%d %H:%M")


def create_shift(session: Session, actor: Actor, scope: Scope, data: ShiftCreate) -> DutyShift:
    """排班: a shift of a desk in the caller's jurisdiction; refused when it ends before it
    starts, lasts over 7 days or overlaps another shift of the same desk (audited, synced)."""
    division = desk_of(session, scope, actor, data.division_code)
    problem = shift_problem(data.starts_at, data.ends_at)
    if problem is not None:
        raise Invalid(problem[1], field=problem[0])
    one_writer_at_a_time(session, f"duty:{division}")  # two officials rostering at once
    near = session.scalars(
        scope.select(DutyShift).where(
            DutyShift.division_code == division,
            DutyShift.starts_at < data.ends_at,
            DutyShift.ends_at > data.starts_at,
        )
    ).all()
    clash = first_overlap(data.starts_at, data.ends_at, near)
    if clash is not None:
        raise Conflict(
            f"与已排班次（{_at(clash.starts_at)}–{_at(clash.ends_at)}，带班领导 {clash.leader}）"
            "时间重叠 (overlaps another shift of this desk)",
            field="starts_at",
        )
    row = DutyShift(
        division_code=division,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        leader=data.leader.strip(),
        officers=[o.strip() for o in data.officers],
        duty_phone=data.duty_phone or "",
        note=data.note.strip(),
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    session.add(row)
    session.flush()
    record_change(session, row, entity=SHIFT_ENTITY)
    audit_record(
        session,
        actor,
        "emergency.duty.shift",
        SHIFT_ENTITY,
        row,
        detail={
            "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
            "leader": row.leader,
            "officers": row.officers,
        },
    )
    return row


def list_shifts(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[DutyShift], int]:
    """Shifts in scope that reach into [from, to) (either end open), of ``division`` and the
    desks below it, the earliest first."""
    staff_only(scope)
    if from_ is not None and to is not None and to <= from_:
        raise Invalid("结束时间须晚于开始时间 (to must be after from)", field="to")
    stmt = scope.select(DutyShift)
    if division:
        stmt = stmt.where(division_filter(DutyShift.division_code, division))
    if from_ is not None:
        stmt = stmt.where(DutyShift.ends_at > from_)
    if to is not None:
        stmt = stmt.where(DutyShift.starts_at < to)
    order = (DutyShift.starts_at, DutyShift.division_code, DutyShift.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def get_shift(session: Session, scope: Scope, shift_id: int, field: str | None = None) -> DutyShift:
    """One shift in scope; absent and out of scope are the same 404."""
    staff_only(scope)
    return scope.one(session, DutyShift, shift_id, field=field)


def delete_shift(session: Session, actor: Actor, scope: Scope, shift_id: int) -> DutyShift:
    """Remove a shift not yet started (a tombstone, so the removal travels up; audited)."""
    row = get_shift(session, scope, shift_id)
    ensure_writable_here(row)
    if row.starts_at <= utcnow():
        raise Conflict(
            "班次已开始，不能删除 (the shift has started; only a future shift may be removed)",
            field="starts_at",
        )
    row.deleted = True
    record_change(session, row, entity=SHIFT_ENTITY)
    audit_record(
        session,
        actor,
        "emergency.duty.shift_delete",
        SHIFT_ENTITY,
        row,
        detail={"starts_at": row.starts_at.isoformat(), "leader": row.leader},
    )
    return row


def on_duty_now(
    session: Session, scope: Scope, actor: Actor, division: str | None = None
) -> OnDutyNow:
    """Who is on duty now at a desk (default: the caller's own): the shift covering this
    moment, or none with a message saying so."""
    code = desk_to_read(scope, actor, division)
    now = utcnow()
    rows = session.scalars(
        scope.select(DutyShift).where(
            DutyShift.division_code == code,
            DutyShift.starts_at <= now,
            DutyShift.ends_at > now,
        )
    ).all()
    shift = on_duty_at(rows, now)
    name = division_names(session, [code]).get(code, code)
    return OnDutyNow(
        division_code=code,
        division_name=name,
        at=now,
        shift=present_shifts(session, [shift], now)[0] if shift is not None else None,
        message="" if shift is not None else f"{name}当前没有排班 (nobody is rostered now)",
    )


def present_shifts(
    session: Session, rows: list[DutyShift], now: datetime | None = None
) -> list[ShiftRead]:
    """The user-facing views: the division's name, whether on duty now or started."""
    now = now or utcnow()
    names = division_names(session, {r.division_code for r in rows})
    return [
        copied(
            ShiftRead,
            r,
            division_name=names.get(r.division_code, ""),
            on_duty=r.starts_at <= now < r.ends_at,
            started=r.starts_at <= now,
        )
        for r in rows
    ]
