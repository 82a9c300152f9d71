"""Corrective measures (整改措施) an accident's investigation requires, and their follow-up
(落实情况): set by the agency that leads the investigation (or one above), progress reported by
the unit or an agency, verified done (验收) by an agency. Kept at the node that holds the
investigation; audited and synced in the caller's transaction, nothing here commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.accidents.investigations import investigation_of, leads_or_above
from anjian.accidents.models import ACCIDENT_ENTITY, MEASURE_ENTITY, Accident, CorrectiveMeasure
from anjian.accidents.reporting import agency_only, get_accident
from anjian.accidents.schemas import MeasureCreate, MeasureRead
from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import CST, today_in_china
from anjian.core.errors import Conflict, Forbidden, Invalid, NotFound
from anjian.core.scope import Scope
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow


def measures_of(session: Session, acc: Accident) -> list[CorrectiveMeasure]:
    """The corrective measures of an accident, by deadline."""
    return list(
        session.scalars(
            select(CorrectiveMeasure)
            .where(CorrectiveMeasure.accident_uid == acc.uid, CorrectiveMeasure.deleted.is_(False))
            .order_by(CorrectiveMeasure.due_date, CorrectiveMeasure.id)
        )
    )


def present_measure(m: CorrectiveMeasure) -> MeasureRead:
    """A measure as users see it, flagged 逾期 when not verified done by its deadline (a
    Beijing calendar date)."""
    done = m.verified_at.astimezone(CST).date() if m.verified_at else today_in_china()
    return MeasureRead(
        **{n: getattr(m, n) for n in MeasureRead.model_fields if n != "overdue"},
        overdue=done > m.due_date,
    )


def add_measure(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: MeasureCreate
) -> CorrectiveMeasure:
    """Record a corrective measure the investigation requires, at the node that holds the
    investigation (the agency leading it; audited, synced up)."""
    acc = get_accident(session, scope, accident_id)
    agency_only(scope)
    inv = investigation_of(session, acc)
    if inv is None:
        raise NotFound("该事故尚未立案调查 (no investigation opened)")
    if not leads_or_above(scope, inv):
        raise Forbidden(
            "整改措施由牵头调查的部门或其上级提出 (set by the leading agency or one above it)",
            field="lead_division",
        )
    ensure_writable_here(inv)
    if data.due_date < today_in_china():
        raise Invalid("整改期限不能早于今天 (due date is in the past)", field="due_date")
    m = CorrectiveMeasure(
        accident_uid=acc.uid,
        division_code=acc.division_code,
        content=data.content,
        responsible=data.responsible,
        due_date=data.due_date,
        origin_node="",
    )
    record_change(session, m, entity=MEASURE_ENTITY)
    audit_record(
        session,
        actor,
        "measure.add",
        ACCIDENT_ENTITY,
        acc,
        detail={"measure": m.uid, "responsible": m.responsible, "due": str(m.due_date)},
    )
    return m


def _open_measure(
    session: Session, scope: Scope, accident_id: int, measure_id: int
) -> tuple[Accident, CorrectiveMeasure]:
    acc = get_accident(session, scope, accident_id)
    m = session.get(CorrectiveMeasure, measure_id)
    if m is None or m.deleted or m.accident_uid != acc.uid:
        raise NotFound(f"没有该整改措施: {measure_id} (no such measure of this accident)")
    ensure_writable_here(m)
    if m.verified_at is not None:
        raise Conflict("该措施已验收 (the measure is already verified done)", field="state")
    return acc, m


def report_progress(
    session: Session, actor: Actor, scope: Scope, accident_id: int, measure_id: int, note: str
) -> CorrectiveMeasure:
    """Report how a measure is being carried out (落实情况): the unit itself or an agency; the
    latest report replaces the earlier one, every one is in the audit log."""
    acc, m = _open_measure(session, scope, accident_id, measure_id)
    m.progress, m.progress_at, m.progress_by = note, utcnow(), actor.username
    record_change(session, m, entity=MEASURE_ENTITY)
    audit_record(
        session,
        actor,
        "measure.progress",
        ACCIDENT_ENTITY,
        acc,
        detail={"measure": m.uid, "note": note},
    )
    return m


def verify_measure(
    session: Session, actor: Actor, scope: Scope, accident_id: int, measure_id: int, note: str
) -> CorrectiveMeasure:
    """An agency verifies a measure done (验收), with its opinion; enterprise users cannot."""
    agency_only(scope)
    acc, m = _open_measure(session, scope, accident_id, measure_id)
    m.verified_at, m.verified_by = utcnow(), actor.username
    record_change(session, m, entity=MEASURE_ENTITY)
    audit_record(
        session,
        actor,
        "measure.verify",
        ACCIDENT_ENTITY,
        acc,
        detail={"measure": m.uid, "note": note, "late": m.verified_at.date() > m.due_date},
    )
    return m
