"""交接班 (handovers) of an agency's duty desk: who handed over to whom and when, the notes,
and a snapshot of what was open at that moment — the events in progress in the desk's division
and below, and the desk's receipts not yet passed on — taken by the server. Audited, synced up."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.divisions.service import division_names
from anjian.core.errors import Invalid
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope, division_filter
from anjian.core.sync.outbox import record_change
from anjian.db import utcnow
from anjian.emergency.duty.desk import desk_of, staff_only
from anjian.emergency.duty.models import DutyHandover, DutyReceipt
from anjian.emergency.duty.rosters import get_shift
from anjian.emergency.duty.rules import RECEIPT_SOURCES, received_problem
from anjian.emergency.duty.schemas import HandoverCreate, HandoverRead
from anjian.emergency.duty.sync import HANDOVER_ENTITY
from anjian.emergency.models import EmergencyEvent
from anjian.emergency.rules.events import LEVEL_LABELS

# The snapshot keeps this many of each kind (the oldest first): a handover note, not a report.
SNAPSHOT_LIMIT = 100


def open_items(session: Session, scope: Scope, desk: str) -> dict[str, Any]:
    """What is open at desk ``desk`` now: events in progress in its division and below (in
    scope), and its receipts not yet passed on."""
    evs = session.scalars(
        scope.select(EmergencyEvent)
        .where(
            EmergencyEvent.state == "active",
            division_filter(EmergencyEvent.division_code, desk),
        )
        .order_by(EmergencyEvent.received_at, EmergencyEvent.id)
        .limit(SNAPSHOT_LIMIT)
    ).all()
    waiting = session.scalars(
        scope.select(DutyReceipt)
        .where(DutyReceipt.division_code == desk, DutyReceipt.passed_on_at.is_(None))
        .order_by(DutyReceipt.received_at, DutyReceipt.id)
        .limit(SNAPSHOT_LIMIT)
    ).all()
    names = division_names(session, {e.division_code for e in evs})
    return {
        "events": [
            {
                "uid": e.uid,
                "number": e.number,
                "title": e.title,
                "level": e.level,
                "level_label": LEVEL_LABELS.get(e.level or 0, "未定级"),
                "division_name": names.get(e.division_code, ""),
            }
            for e in evs
        ],
        "receipts": [
            {
                "uid": r.uid,
                "received_at": r.received_at.isoformat(),
                "source_label": RECEIPT_SOURCES.get(r.source, r.source),
                "caller": r.caller,
                "content": r.content[:200],
            }
            for r in waiting
        ],
    }


def create_handover(
    session: Session, actor: Actor, scope: Scope, data: HandoverCreate
) -> DutyHandover:
    """交接班 at a desk of the caller's jurisdiction (default: their own), at ``at`` (default
    now, never in the future), of a shift of that desk if named; the open items are taken now
    (audited, synced)."""
    desk = desk_of(session, scope, actor, data.division_code)
    shift_uid = None
    if data.shift_id is not None:
        shift = get_shift(session, scope, data.shift_id, field="shift_id")
        if shift.division_code != desk:
            raise Invalid("该班次不属于本值班室 (the shift is another desk's)", field="shift_id")
        shift_uid = shift.uid
    now = utcnow()
    at = data.at or now
    problem = received_problem(at, now)
    if problem is not None:
        raise Invalid("交接班时间不能晚于现在 (handover in the future)", field="at")
    row = DutyHandover(
        division_code=desk,
        shift_uid=shift_uid,
        handed_by=data.handed_by.strip(),
        taken_by=data.taken_by.strip(),
        at=at,
        notes=data.notes.strip(),
        open_items=open_items(session, scope, desk),
        created_by=actor.username,
        created_at=now,
        origin_node="",
    )
    session.add(row)
    session.flush()
    record_change(session, row, entity=HANDOVER_ENTITY)
    audit_record(
        session,
        actor,
        "emergency.duty.handover",
        HANDOVER_ENTITY,
        row,
        detail={
            "handed_by": row.handed_by,
            "taken_by": row.taken_by,
            "open_events": len(row.open_items["events"]),
            "open_receipts": len(row.open_items["receipts"]),
        },
    )
    return row


def list_handovers(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[DutyHandover], int]:
    """Handovers in scope (of the desks of ``division`` and below), the latest first."""
    staff_only(scope)
    stmt = scope.select(DutyHandover)
    if division:
        stmt = stmt.where(division_filter(DutyHandover.division_code, division))
    order = (DutyHandover.at.desc(), DutyHandover.id.desc())
    return paged(session, stmt, order, limit=limit, offset=offset)


def present(session: Session, rows: list[DutyHandover]) -> list[HandoverRead]:
    """The user-facing views, with the desk's name."""
    names = division_names(session, {r.division_code for r in rows})
    return [copied(HandoverRead, r, division_name=names.get(r.division_code, "")) for r in rows]
