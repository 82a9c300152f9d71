"""Finished days of raw readings packed (历史数据压实, PostgreSQL).

A reading as the ingest stores it costs about 100 bytes (a row of its own and its key in the
primary-key index): 95 GiB per billion readings. Once a day is over and late readings have had
their chance (``ANJIAN_MONITORING_PACK_AFTER_DAYS``, 1: yesterday stays as it came), its
partition is packed: one row per point and hour in ``readings_packed``, the times as
millisecond offsets in the hour and the values and status codes as arrays (no status array when
every reading was a normal measurement), which PostgreSQL compresses. The day's own partition is
then emptied but kept, so a reading of that day arriving later is stored as any other and packed
with the rest on the next pass (the day is unpacked into its partition, whose key drops the
duplicates, and packed again).

Readers take a point's readings through :func:`readings_of`, which joins both forms. SQLite
keeps its readings as they came (a small node's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import BigInteger, Float, SmallInteger, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from anjian.monitoring.models import Reading
from anjian.monitoring.partitions import create_partition, day_of, existing_days, partition_name

log = logging.getLogger("anjian.monitoring.packing")
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Packed:
    """What packing one day did."""

    day: int
    readings: int  # readings now packed for the day
    rows: int  # packed rows (points × hours)


def packable_days(engine: Engine, now_ms: int, after_days: int) -> list[int]:
    """The days whose partition holds readings and whose end lies ``after_days`` days or more
    before ``now_ms`` (PostgreSQL; none on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    last = day_of(now_ms) - 1 - after_days  # the newest day that may be packed
    with engine.connect() as conn:
        days = [d for d in sorted(existing_days(conn)) if d <= last]
        return [
            d
            for d in days
            if conn.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {partition_name(d)})"))
        ]


def pack_day(engine: Engine, day: int) -> Packed:
    """Pack ``day``'s readings (merged with what an earlier pass packed) in one transaction.
    Writers of late readings of that day wait for it; readers do not."""
    hot, packed = partition_name(day), partition_name(day, "readings_packed")
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '5s'"))
        create_partition(conn, day, "readings_packed")  # DDL apart: it locks the parent table
        conn.commit()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        conn.execute(text(f"LOCK TABLE {hot} IN SHARE ROW EXCLUSIVE MODE"))
        # What an earlier pass packed goes back to the day's partition, whose key drops the
        # readings stored twice (a gateway's redelivery after that pass).
        conn.execute(
            text(
                f"INSERT INTO {hot} (point_id, ts, value, status) "
                f"SELECT p.point_id, p.hour + u.off, u.val, coalesce(u.st, 0) FROM {packed} p "
                "CROSS JOIN LATERAL unnest(p.ts, p.value, p.status) AS u(off, val, st) "
                "ON CONFLICT DO NOTHING"
            )
        )
        conn.execute(text(f"TRUNCATE {packed}"))
        rows = conn.execute(
            text(
                f"INSERT INTO {packed} (point_id, hour, ts, value, status) "
                "SELECT point_id, hour, array_agg((ts - hour)::integer ORDER BY ts), "
                "array_agg(value ORDER BY ts), "
                "CASE WHEN bool_or(status <> 0) THEN array_agg(status ORDER BY ts) END "
                f"FROM (SELECT point_id, ts - ts % {HOUR_MS} AS hour, ts, value, status "
                f"FROM {hot}) r GROUP BY point_id, hour"
            )
        ).rowcount
        readings = conn.scalar(text(f"SELECT count(*) FROM {hot}")) or 0
        # Emptied, not dropped: a late reading of the day still has its partition.
        conn.execute(text(f"TRUNCATE {hot}"))
    log.info("packed %s: %d readings in %d rows", hot, readings, rows)
    return Packed(day, int(readings), int(rows or 0))


def pack_finished(engine: Engine, now_ms: int, after_days: int) -> list[Packed]:
    """Pack every day :func:`packable_days` names, oldest first."""
    return [pack_day(engine, day) for day in packable_days(engine, now_ms, after_days)]


def readings_of(session: Session, point_id: int, from_ms: int, to_ms: int) -> Subquery:
    """A point's readings in [from, to) as rows (ts, value, status), packed or not. A reading
    stored again after its day was packed shows twice until the next pass: callers that list
    readings one by one take distinct rows."""
    stored = select(Reading.ts, Reading.value, Reading.status).where(
        Reading.point_id == point_id, Reading.ts >= from_ms, Reading.ts < to_ms
    )
    if session.get_bind().dialect.name != "postgresql":
        return stored.subquery("r")
    packed = (
        text(
            "SELECT p.hour + u.off AS ts, u.val AS value, coalesce(u.st, 0) AS status "
            "FROM readings_packed p "
            "CROSS JOIN LATERAL unnest(p.ts, p.value, p.status) AS u(off, val, st) "
            "WHERE p.point_id = :pid AND p.hour > :hour_from AND p.hour < :to "
            "AND p.hour + u.off >= :from AND p.hour + u.off < :to"
        )
        .bindparams(pid=point_id, hour_from=from_ms - HOUR_MS, to=to_ms, **{"from": from_ms})
        .columns(ts=BigInteger, value=Float, status=SmallInteger)
    )
    return stored.union_all(packed).subquery("r")  # type: ignore[arg-type]
