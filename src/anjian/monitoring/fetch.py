"""Raw readings on demand (实时数据调阅): readings stay at the access node; an upper node that
wants a point's raw data sends a request down the tiers and the access node answers up.

Both travel through the tier mechanism (child-initiated push and pull, so a county behind NAT
answers too): the request is a downward record routed by the point's division, the answer an
upward record. The access node answers as the request is applied there."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import record_change
from anjian.db import after_read, utcnow
from anjian.monitoring.models import (
    READINGS_REQUEST_ENTITY,
    READINGS_RESPONSE_ENTITY,
    MonitoringPoint,
    ReadingsRequest,
    ReadingsResponse,
)
from anjian.monitoring.packing import readings_of
from anjian.monitoring.points import get_point
from anjian.monitoring.schemas import ReadingsRead

MAX_FETCH = 20_000  # readings in one answer; more is truncated (narrow the window)
ASK_AGAIN_S = 120  # an unanswered request is repeated after this long


def _rows(session: Session, point_id: int, from_ms: int, to_ms: int) -> list[list[float]]:
    r = readings_of(session, point_id, from_ms, to_ms)
    rows = session.execute(
        select(r.c.ts, r.c.value, r.c.status).distinct().order_by(r.c.ts).limit(MAX_FETCH + 1)
    )
    return [[int(ts), float(v), int(st)] for ts, v, st in rows]


@unscoped("a sync hook: the node answers requests for its own points")
def answer_requests(session: Session, uids: list[str]) -> int:
    """Answer the requests ``uids`` that just arrived here and concern a point of this node
    (others are only passed on down); how many were answered."""
    node = get_settings().effective_node_id
    answered = 0
    for req in session.scalars(
        select(ReadingsRequest).where(
            ReadingsRequest.uid.in_(uids), ReadingsRequest.deleted.is_(False)
        )
    ):
        p = session.scalars(
            select(MonitoringPoint).where(MonitoringPoint.uid == req.point_uid)
        ).first()
        if p is None or p.origin_node != node:
            continue
        done = session.scalar(
            select(ReadingsResponse.id).where(ReadingsResponse.request_uid == req.uid)
        )
        if done is not None:
            continue
        rows = _rows(session, p.id, req.from_ms, req.to_ms)
        response = ReadingsResponse(
            request_uid=req.uid,
            division_code=p.division_code,
            point_uid=p.uid,
            readings=rows[:MAX_FETCH],
            truncated=len(rows) > MAX_FETCH,
            answered_at=utcnow(),
            origin_node="",
        )
        record_change(session, response, entity=READINGS_RESPONSE_ENTITY)
        answered += 1
    return answered


def fetch_readings(
    session: Session, actor: Actor, scope: Scope, point_id: int, from_ms: int, to_ms: int
) -> ReadingsRead | None:
    """A point's raw readings in [from, to): at once for a point of this node; for a point of
    a node below, the access node's answer once it has come up, else None after sending the
    request down (repeated when unanswered for a while; audited)."""
    p = get_point(session, scope, point_id)
    node = get_settings().effective_node_id
    if not p.origin_node or p.origin_node == node:
        rows = _rows(session, p.id, from_ms, to_ms)
        return ReadingsRead(
            point_id=p.id,
            unit=p.unit,
            from_ms=from_ms,
            to_ms=to_ms,
            source=node,
            readings=rows[:MAX_FETCH],
            truncated=len(rows) > MAX_FETCH,
        )
    asked = session.execute(
        select(ReadingsRequest, ReadingsResponse)
        .outerjoin(ReadingsResponse, ReadingsResponse.request_uid == ReadingsRequest.uid)
        .where(
            ReadingsRequest.point_uid == p.uid,
            ReadingsRequest.from_ms == from_ms,
            ReadingsRequest.to_ms == to_ms,
            ReadingsRequest.origin_node == node,
        )
        .order_by(ReadingsRequest.id.desc())
    ).first()
    if asked is not None and asked[1] is not None:
        response = asked[1]
        return ReadingsRead(
            point_id=p.id,
            unit=p.unit,
            from_ms=from_ms,
            to_ms=to_ms,
            source=response.origin_node,
            answered_at=response.answered_at,
            readings=response.readings,
            truncated=response.truncated,
        )
    if asked is None or asked[0].requested_at < utcnow() - timedelta(seconds=ASK_AGAIN_S):
        point_id, division, point_uid, below = p.id, p.division_code, p.uid, p.origin_node

        def ask(writer: Session) -> None:
            request = ReadingsRequest(
                division_code=division,
                point_uid=point_uid,
                from_ms=from_ms,
                to_ms=to_ms,
                requested_by=actor.username,
                requested_at=utcnow(),
                origin_node="",
            )
            record_change(writer, request, entity=READINGS_REQUEST_ENTITY)
            audit(
                writer,
                actor,
                "readings.request",
                object_type="monitoring_point",
                object_id=str(point_id),
                division_code=division,
                detail={"point_uid": point_uid, "from": from_ms, "to": to_ms, "node": below},
            )

        if not after_read(session, ask):  # asked by a GET: the request goes after the read
            ask(session)
    return None
