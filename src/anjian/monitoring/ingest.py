"""Ingest of reading batches (数据接入), the same for MQTT and HTTP.

A batch (:mod:`anjian.monitoring.batch`) is checked reading by reading: a bad one is counted
against the enterprise with its reason and skipped, the rest are stored. Readings are keyed by
(point, time), so a batch delivered twice is stored once; only readings stored for the first
time are fed to the alarm evaluator, in time order and only when newer than the point's last
one, so a redelivery never raises an alarm twice. The batch, its alarms and the evaluator's
alarm state are one transaction; an MQTT worker writes its points' last readings back at
checkpoints (:mod:`anjian.monitoring.live`), and on PostgreSQL stores its transactions of clean
batches set-wise (:mod:`anjian.monitoring.setwise`), with the same outcome.

Readings are telemetry, not acts of a user: they are not written to the audit chain (at
thousands per second they would drown it); alarms carry their own history and travel up."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from anjian.db import utcnow
from anjian.monitoring import setwise
from anjian.monitoring.alarms import set_status, system_alarm_status
from anjian.monitoring.batch import STATUS_CODES, Outcome, Parsed, epoch_ms, now_ms, parse
from anjian.monitoring.evaluate import judge
from anjian.monitoring.live import PointCache
from anjian.monitoring.models import (
    IngestRejection,
    MonitoringPoint,
    Reading,
)
from anjian.monitoring.partitions import ensure_partitions
from anjian.monitoring.rules import STATUSES
from anjian.monitoring.schemas import Rejected

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS readings_stage (point_id integer, ts bigint, "
    "value double precision, status smallint) ON COMMIT DELETE ROWS"
)


def _store(
    session: Session, rows: list[tuple[int, int, float, int]]
) -> set[tuple[int, int]] | None:
    """Store ``rows`` (point, ts, value, status), ignoring those already stored: the keys stored
    now, or None when every row was new. On PostgreSQL a binary COPY straight into the table,
    in a savepoint; only when some row is there already (a redelivery) is the batch copied into
    a temporary table and inserted with ON CONFLICT DO NOTHING, which is slower."""
    if session.get_bind().dialect.name != "postgresql":
        stmt = sqlite_insert(Reading).on_conflict_do_nothing()
        values = [{"point_id": p, "ts": t, "value": v, "status": st} for p, t, v, st in rows]
        stored = session.execute(stmt.returning(Reading.point_id, Reading.ts), values)
        return {(pid, ts) for pid, ts in stored}
    ensure_partitions(session, {row[1] for row in rows})
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur:  # type: ignore[union-attr]
        cur.execute("SAVEPOINT readings_copy")
        try:
            _copy(cur, "readings", rows)
        except UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT readings_copy")
        else:
            cur.execute("RELEASE SAVEPOINT readings_copy")
            return None
        cur.execute(_STAGE)
        _copy(cur, "readings_stage", rows)
        cur.execute(
            "INSERT INTO readings (point_id, ts, value, status) "
            "SELECT point_id, ts, value, status FROM readings_stage "
            "ON CONFLICT DO NOTHING RETURNING point_id, ts"
        )
        stored = {(pid, ts) for pid, ts in cur.fetchall()}
        cur.execute("TRUNCATE readings_stage")
    return stored


def _copy(cur: Any, table: str, rows: list[tuple[int, int, float, int]]) -> None:
    with cur.copy(f"COPY {table} (point_id, ts, value, status) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int4", "int8", "float8", "int2"])
        for row in rows:
            cp.write_row(row)


def ingest(
    session: Session,
    enterprise_id: int,
    raw: bytes | str | dict[str, Any],
    *,
    now: int | None = None,
) -> Outcome:
    """Apply one batch of ``enterprise_id``'s gateway in the caller's transaction."""
    return ingest_many(session, [(enterprise_id, raw)], now=now)[0]


def ingest_many(
    session: Session,
    batches: list[tuple[int, bytes | str | dict[str, Any]]],
    *,
    now: int | None = None,
    cache: PointCache | None = None,
) -> list[Outcome]:
    """Apply several gateways' batches ``(enterprise_id, batch)`` in the caller's transaction,
    with one store of all their readings and one pass of the evaluator: the MQTT worker's path
    for many messages at a time, with the ``cache`` of its points it keeps between
    transactions (:mod:`anjian.monitoring.live`; without one, the points are read for this
    transaction alone). One outcome per batch."""
    outs = [Outcome() for _ in batches]
    cache = cache or PointCache()
    rest = setwise.apply(session, batches, outs, cache, now=now)
    parsed = [parse(batches[i][1], outs[i], now=now) for i in rest]
    if any(parsed):
        _apply(session, [batches[i][0] for i in rest], parsed, [outs[i] for i in rest], cache)
    for (enterprise_id, _raw), out in zip(batches, outs, strict=True):
        if out.rejected:
            count_rejections(session, enterprise_id, out.rejected)
    return outs


def _apply(
    session: Session,
    enterprise_ids: list[int],
    parsed: list[list[Parsed]],
    outs: list[Outcome],
    cache: PointCache,
) -> None:
    points = cache.points(
        session, {eid for eid, ps in zip(enterprise_ids, parsed, strict=True) if ps}
    )
    by_id = cache.by_id
    rows: list[tuple[int, int, float, int]] = []
    spans: list[tuple[int, int, Outcome]] = []  # each batch's rows: rows[start:end]
    # Readings measured normally, by point, to evaluate: (ts, value, the batch's outcome).
    fresh: dict[int, list[tuple[int, float, Outcome]]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    latest_status: dict[int, tuple[int, str, Outcome]] = {}
    for eid, batch, out in zip(enterprise_ids, parsed, outs, strict=True):
        codes = points.get(eid, {})
        start = len(rows)
        for index, code, ts, value, status in batch:
            p = codes.get(code)
            if p is None:
                out.reject(index, code, "unknown_point", f"测点未登记: {code} (unknown point)")
                continue
            # a status matters when it is not ok, or the point is not ok (it may be back)
            if (status != "ok" or p.status != "ok") and ts >= latest_status.get(
                p.id, (-1, "", out)
            )[0]:
                latest_status[p.id] = (ts, status, out)
            if value is None:
                continue
            key = (p.id, ts)
            if key in seen:
                out.duplicates += 1
                continue
            seen.add(key)
            if status == "ok":
                rows.append((p.id, ts, value, 0))
                fresh[p.id].append((ts, value, out))
            else:
                rows.append((p.id, ts, value, STATUS_CODES[status]))
        spans.append((start, len(rows), out))
    stored = _store(session, rows) if rows else set()
    if stored is None:  # every row was new: the common case, counted by the batch
        for start, end, out in spans:
            out.accepted += end - start
    else:  # a redelivery: only readings stored just now count, and are evaluated
        for start, end, out in spans:
            kept = sum((pid, ts) in stored for pid, ts, _, _ in rows[start:end])
            out.accepted += kept
            out.duplicates += end - start - kept
        kept_fresh = {pid: [r for r in rs if (pid, r[0]) in stored] for pid, rs in fresh.items()}
        fresh = {pid: rs for pid, rs in kept_fresh.items() if rs}
    for pid, (ts, status, out) in latest_status.items():
        if status != by_id[pid].status:
            orm_point = session.get(MonitoringPoint, pid)
            assert orm_point is not None
            set_status(session, orm_point, status, ts, out)
            by_id[pid].status = orm_point.status
    if fresh:
        judge(session, cache, fresh, [])


def count_rejections(session: Session, enterprise_id: int, rejected: list[Rejected]) -> None:
    """Add refused readings to the enterprise's counters, by reason, keeping the last message."""
    now = utcnow()
    by_reason: dict[str, tuple[int, str]] = {}
    for r in rejected:
        n, _ = by_reason.get(r.reason, (0, ""))
        detail = f"{r.point}: {r.message}" if r.point else r.message
        by_reason[r.reason] = (n + 1, detail[:300])
    for reason, (n, detail) in by_reason.items():
        row = session.get(IngestRejection, (enterprise_id, reason), with_for_update=True)
        if row is None:
            session.add(
                IngestRejection(
                    enterprise_id=enterprise_id,
                    reason=reason,
                    count=n,
                    last_at=now,
                    last_detail=detail,
                )
            )
        else:
            row.count += n
            row.last_at, row.last_detail = now, detail


def system_status(
    session: Session,
    enterprise_id: int,
    raw: bytes | str | dict[str, Any],
    *,
    now: int | None = None,
) -> Outcome:
    """Apply a system-level status report ``{"ts"?, "status", "detail"?}`` of an enterprise's
    monitoring system (its alarm: :func:`anjian.monitoring.alarms.system_alarm_status`); a
    malformed report is counted as refused."""
    out = Outcome()
    try:
        body = json.loads(raw) if isinstance(raw, bytes | str) else raw
    except (ValueError, UnicodeDecodeError) as exc:
        body = None
        out.reject(None, None, "malformed", f"JSON 无法解析 (malformed JSON): {exc}")
    status = body.get("status") if isinstance(body, dict) else None
    ts = (
        epoch_ms(body.get("ts", now_ms() if now is None else now))
        if isinstance(body, dict)
        else None
    )
    if body is not None and (type(status) is not str or status not in STATUSES or ts is None):
        out.reject(None, None, "bad_status", f"系统状态无效: {status!r} (unknown status or ts)")
    if out.rejected:
        count_rejections(session, enterprise_id, out.rejected)
        return out
    assert ts is not None and isinstance(status, str)
    system_alarm_status(session, enterprise_id, status, ts, out)
    return out
