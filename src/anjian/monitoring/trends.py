"""Trends of a point (趋势): its readings in buckets of a chosen width, each with mean, min,
max and count, for the trend charts. At an upper node, and for windows older than the raw
readings' retention, the trend comes from the per-minute summaries that travelled up."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.errors import Invalid
from anjian.core.scope import Scope, unscoped
from anjian.monitoring.batch import now_ms
from anjian.monitoring.models import MinuteSummary, MonitoringPoint
from anjian.monitoring.packing import readings_of
from anjian.monitoring.points import get_point
from anjian.monitoring.schemas import SeriesPoint, SeriesRead

MAX_BUCKETS = 5_000  # a trend query returns at most this many buckets


def series(
    session: Session, scope: Scope, point_id: int, from_ms: int, to_ms: int, step_s: int | None
) -> SeriesRead:
    """A point's readings in [from, to) in buckets of ``step_s`` seconds (chosen to give about
    500 buckets when not given), each with mean, min, max and count. At an upper node, and for
    windows older than the raw readings' retention, the trend comes from the per-minute
    summaries (buckets of a minute at least)."""
    p = get_point(session, scope, point_id)
    if to_ms <= from_ms:
        raise Invalid("结束时间须晚于开始时间 (to must be after from)", field="to")
    if step_s is None:
        step_s = max(1, (to_ms - from_ms) // 1000 // 500)
    if step_s < 1:
        raise Invalid("step 须为正整数秒 (step must be a positive number of seconds)", field="step")
    if (to_ms - from_ms) / 1000 / step_s > MAX_BUCKETS:
        raise Invalid(
            f"时间段内分桶过多（最多 {MAX_BUCKETS}），请加大 step (too many buckets; raise step)",
            field="step",
        )
    step_ms = step_s * 1000
    settings = get_settings()
    kept_from = now_ms() - settings.monitoring_retention_days * 86_400_000
    if (p.origin_node and p.origin_node != settings.effective_node_id) or from_ms < kept_from:
        # A copy from a node below (its raw readings stay there; the minute summaries came
        # up), or a window reaching back past the raw readings' retention.
        return _series_from_minutes(session, p, from_ms, to_ms, max(step_ms, 60_000))
    r = readings_of(session, p.id, from_ms, to_ms)
    bucket = (r.c.ts - from_ms) // step_ms
    rows = session.execute(
        select(
            bucket.label("b"),
            func.avg(r.c.value),
            func.min(r.c.value),
            func.max(r.c.value),
            func.count(),
        )
        .where(r.c.status == 0)
        .group_by("b")
        .order_by("b")
    )
    items = [
        SeriesPoint(
            ts=from_ms + int(b) * step_ms, avg=float(avg), min=float(lo), max=float(hi), n=int(n)
        )
        for b, avg, lo, hi, n in rows
    ]
    return SeriesRead(
        point_id=p.id, unit=p.unit, from_ms=from_ms, to_ms=to_ms, step_s=step_s, items=items
    )


@unscoped("the minutes of a point already read in scope")
def _series_from_minutes(
    session: Session, p: MonitoringPoint, from_ms: int, to_ms: int, step_ms: int
) -> SeriesRead:
    """A trend from the per-minute summaries of the point (at least a minute per bucket)."""
    buckets: dict[int, list[float]] = {}  # start → [n, min, max, sum]
    rows = session.execute(
        select(MinuteSummary.minute, MinuteSummary.points).where(
            MinuteSummary.enterprise_id == p.enterprise_id,
            MinuteSummary.minute >= from_ms,
            MinuteSummary.minute < to_ms,
            MinuteSummary.deleted.is_(False),
        )
    )
    for minute, points in rows:
        agg = points.get(p.uid)
        if not agg:
            continue
        n, lo, hi, mean = agg
        start = from_ms + (minute - from_ms) // step_ms * step_ms
        b = buckets.setdefault(start, [0, lo, hi, 0.0])
        b[0] += n
        b[1], b[2] = min(b[1], lo), max(b[2], hi)
        b[3] += mean * n
    items = [
        SeriesPoint(ts=start, avg=b[3] / b[0], min=b[1], max=b[2], n=int(b[0]))
        for start, b in sorted(buckets.items())
        if b[0]
    ]
    return SeriesRead(
        point_id=p.id,
        unit=p.unit,
        from_ms=from_ms,
        to_ms=to_ms,
        step_s=step_ms // 1000,
        items=items,
    )
