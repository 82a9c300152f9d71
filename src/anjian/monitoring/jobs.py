"""Background work of online monitoring: silent points marked offline and unacknowledged
alarms escalated to the upper tier's duty desk (both in :mod:`anjian.monitoring.alarms`),
per-minute summaries made to travel up, readings partitions made ahead and expired ones
dropped."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.periodic import Job, Periodic
from anjian.core.scope import unscoped
from anjian.core.sync.outbox import record_change
from anjian.db import get_engine, unit_of_work
from anjian.enterprises.service import enterprises_by_id
from anjian.monitoring.alarms import escalate_unacknowledged, mark_silent
from anjian.monitoring.archive import archive_expired
from anjian.monitoring.batch import now_ms
from anjian.monitoring.models import MINUTE_ENTITY, MinuteSummary, MonitoringPoint, Reading
from anjian.monitoring.packing import pack_finished
from anjian.monitoring.partitions import DAY_MS, drop_expired, ensure_partitions

log = logging.getLogger("anjian.monitoring")

MINUTE_MS = 60_000
SUMMARY_GRACE_MS = 60_000  # a minute is summed up once its readings had a minute to arrive
SUMMARY_CATCH_UP = 60  # minutes summed up per run at most (after a long stop)


@unscoped("a background job: the node sums up its own readings")
def summarise_minutes(session: Session, now: int) -> int:
    """Sum up this node's readings per enterprise and minute (count, min, max, mean of each
    point) for the minutes closed since the last summary, as synced records that travel up at
    once; how many summaries. A reading arriving after its minute was summed up stays in the raw
    data only."""
    node = get_settings().effective_node_id
    last = session.scalar(
        select(func.max(MinuteSummary.minute)).where(MinuteSummary.origin_node == node)
    )
    end = (now - SUMMARY_GRACE_MS) // MINUTE_MS * MINUTE_MS
    start = max(
        last + MINUTE_MS if last is not None else end - 10 * MINUTE_MS,
        end - SUMMARY_CATCH_UP * MINUTE_MS,
    )
    if start >= end:
        return 0
    minute = (Reading.ts // MINUTE_MS * MINUTE_MS).label("minute")
    rows = session.execute(
        select(
            MonitoringPoint.enterprise_id,
            MonitoringPoint.uid,
            minute,
            func.count(),
            func.min(Reading.value),
            func.max(Reading.value),
            func.avg(Reading.value),
        )
        .join(MonitoringPoint, MonitoringPoint.id == Reading.point_id)
        .where(
            Reading.ts >= start,
            Reading.ts < end,
            Reading.status == 0,
            MonitoringPoint.origin_node == node,
        )
        .group_by(MonitoringPoint.enterprise_id, MonitoringPoint.uid, minute)
    )
    grouped: dict[tuple[int, int], dict[str, list[float]]] = {}
    for ent_id, uid, m, n, lo, hi, avg in rows:
        grouped.setdefault((ent_id, int(m)), {})[uid] = [int(n), lo, hi, round(float(avg), 6)]
    enterprises = enterprises_by_id(session, (k[0] for k in grouped))
    for (ent_id, m), points in sorted(grouped.items()):
        ent = enterprises[ent_id]
        summary = MinuteSummary(
            enterprise_id=ent_id,
            division_code=ent.division_code,
            supervision_category=ent.supervision_category,
            minute=m,
            points=points,
            origin_node="",
        )
        record_change(session, summary, entity=MINUTE_ENTITY)
    return len(grouped)


def keep_readings(now: int | None = None) -> int:
    """Make today's and tomorrow's readings partitions and drop what has left the retention
    window, archived first where ``ANJIAN_MONITORING_ARCHIVE_DIR`` says (PostgreSQL); how many
    days (archived) or partitions (PostgreSQL) or rows (SQLite) went."""
    now = now_ms() if now is None else now
    engine = get_engine()
    settings = get_settings()
    ensure_partitions(engine, [now, now + DAY_MS])
    if settings.monitoring_archive_dir and engine.dialect.name == "postgresql":
        directory = Path(settings.monitoring_archive_dir)
        return len(archive_expired(engine, settings.monitoring_retention_days, now, directory))
    return drop_expired(engine, settings.monitoring_retention_days, now_ms=now)


_PRUNE_CHUNK = 5000  # rows deleted per transaction: a first prune of years must not stall writers


@unscoped("a background job: the node prunes its own minute summaries")
def keep_minutes(now: int | None = None) -> int:
    """Delete the minute summaries (分钟统计) older than ``ANJIAN_MONITORING_MINUTES_RETENTION_DAYS``
    at this node, a few thousand per transaction; how many went. Their changes stay in the
    outbox (a restored parent is refilled from it, and prunes them again)."""
    now = now_ms() if now is None else now
    cutoff = now - get_settings().monitoring_minutes_retention_days * DAY_MS
    removed = 0
    while True:
        with unit_of_work() as db:
            ids = db.scalars(
                select(MinuteSummary.id).where(MinuteSummary.minute < cutoff).limit(_PRUNE_CHUNK)
            ).all()
            if not ids:
                return removed
            db.execute(delete(MinuteSummary).where(MinuteSummary.id.in_(ids)))
        removed += len(ids)


def monitoring_watch(interval: float = 30.0) -> Periodic:
    """The thread that runs the checks (points gone silent, alarms to escalate) and the minute
    summaries every ``interval`` seconds and the upkeep of readings and minute summaries every
    hour."""
    started = now_ms()  # points are not called silent before they had a chance to report

    def check() -> None:
        with unit_of_work() as db:
            silent = mark_silent(db, now_ms(), started)
            escalated = escalate_unacknowledged(db)
            summed = summarise_minutes(db, now_ms())
        if silent or escalated:
            log.info("%d points offline, %d alarms escalated", silent, escalated)
        if summed:
            log.debug("%d per-minute summaries", summed)

    def upkeep() -> None:
        dropped = keep_readings()
        if dropped:
            log.info("dropped %d expired readings partitions/rows", dropped)
        settings = get_settings()
        for done in pack_finished(get_engine(), now_ms(), settings.monitoring_pack_after_days):
            log.info("packed day %d: %d readings in %d rows", done.day, done.readings, done.rows)
        pruned = keep_minutes()
        if pruned:
            log.info("deleted %d expired minute summaries", pruned)

    return Periodic(
        "anjian-monitoring",
        [Job("monitoring check", check, interval), Job("readings upkeep", upkeep, 3600.0)],
    )
