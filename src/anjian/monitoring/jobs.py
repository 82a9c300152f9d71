"""Background work of online monitoring: silent points marked offline, unacknowledged alarms
escalated to the upper tier's duty desk, per-minute summaries made to travel up, readings
partitions made ahead and expired ones dropped."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import SYSTEM, audit
from anjian.core.periodic import Job, Periodic
from anjian.core.sync.outbox import record_change
from anjian.db import get_engine, unit_of_work, utcnow
from anjian.enterprises.models import Enterprise
from anjian.monitoring.ingest import now_ms, set_status
from anjian.monitoring.models import (
    ALARM_ENTITY,
    MINUTE_ENTITY,
    Alarm,
    MinuteSummary,
    MonitoringPoint,
    PointLive,
    Reading,
)
from anjian.monitoring.partitions import DAY_MS, drop_expired, ensure_partitions

log = logging.getLogger("anjian.monitoring")
SILENT_PERIODS = 3  # a point silent for three sampling periods is offline (离线)
# States a silent point may already be in: it is not "offline" on top of them. A faulty
# sensor keeps reporting its fault (with a frozen value or none), which never counts as a
# reading: without "fault" here it would flip to offline and back every run.
_QUIET_STATES = ("offline", "fault", "power_off", "shutdown", "maintenance")


def mark_silent(session: Session, now: int, watching_since: int | None = None) -> int:
    """Mark offline the points of this node that have sent nothing for three sampling periods,
    counted from their last reading, their registration or ``watching_since`` (when this node
    started watching: a restart does not find every point silent at once), whichever is
    latest; how many."""
    node = get_settings().effective_node_id
    # Only points that have not reported for three periods come back from the database (this
    # runs every 30 s over every point); registration and watching_since are judged below.
    silent = or_(
        PointLive.last_ts.is_(None),
        PointLive.last_ts + MonitoringPoint.period_s * (SILENT_PERIODS * 1000) < now,
    )
    rows = session.execute(
        select(MonitoringPoint, PointLive.last_ts)
        .outerjoin(PointLive, PointLive.point_id == MonitoringPoint.id)
        .where(
            MonitoringPoint.deleted.is_(False),
            MonitoringPoint.origin_node == node,
            MonitoringPoint.status.not_in(_QUIET_STATES),
            silent,
        )
    ).all()
    marked = 0
    for p, last_ts in rows:
        heard = max(
            last_ts if last_ts is not None else 0,
            int(p.created_at.timestamp() * 1000),
            watching_since or 0,
        )
        stale = heard + SILENT_PERIODS * p.period_s * 1000 < now
        if stale and set_status(session, p, "offline", now):
            marked += 1
    return marked


def escalate_unacknowledged(session: Session) -> int:
    """Escalate this node's alarms left unacknowledged past their deadline (一级 and 二级 have
    their own, see settings): the alarm is stamped and, travelling up with it, appears on the
    upper tier's duty desk (值班). Audited; how many."""
    settings = get_settings()
    now = utcnow()
    late1 = now - timedelta(minutes=settings.alarm_ack_minutes_level1)
    late2 = now - timedelta(minutes=settings.alarm_ack_minutes_level2)
    alarms = session.scalars(
        select(Alarm).where(
            Alarm.origin_node == settings.effective_node_id,
            Alarm.deleted.is_(False),
            Alarm.state == "raised",
            Alarm.escalated_at.is_(None),
            or_(
                and_(Alarm.level == 1, Alarm.raised_at < late1),
                and_(Alarm.level != 1, Alarm.raised_at < late2),
            ),
        )
    ).all()
    for alarm in alarms:
        alarm.escalated_at = now
        record_change(session, alarm, entity=ALARM_ENTITY)
        audit(
            session,
            SYSTEM,
            "alarm.escalate",
            object_type="alarm",
            object_id=str(alarm.id),
            division_code=alarm.division_code,
            detail={"level": alarm.level, "raised_at": alarm.raised_at.isoformat()},
        )
    return len(alarms)


MINUTE_MS = 60_000
SUMMARY_GRACE_MS = 60_000  # a minute is summed up once its readings had a minute to arrive
SUMMARY_CATCH_UP = 60  # minutes summed up per run at most (after a long stop)


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
    enterprises = {
        e.id: e
        for e in session.scalars(
            select(Enterprise).where(Enterprise.id.in_(sorted({k[0] for k in grouped})))
        )
    }
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
    window; how many partitions (PostgreSQL) or rows (SQLite) went."""
    now = now_ms() if now is None else now
    engine = get_engine()
    ensure_partitions(engine, [now, now + DAY_MS])
    return drop_expired(engine, get_settings().monitoring_retention_days, now_ms=now)


_PRUNE_CHUNK = 5000  # rows deleted per transaction: a first prune of years must not stall writers


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
        pruned = keep_minutes()
        if pruned:
            log.info("deleted %d expired minute summaries", pruned)

    return Periodic(
        "anjian-monitoring",
        [Job("monitoring check", check, interval), Job("readings upkeep", upkeep, 3600.0)],
    )
