"""Pure rules of operations (运维), without I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

RETRY_AFTER = timedelta(hours=1)  # a scheduled backup that failed is tried again this soon


def backup_due(
    now: datetime, last_ok: datetime | None, last_try: datetime | None, every_hours: float
) -> bool:
    """Whether the scheduled backup is due: none good within ``every_hours``, and no try within
    the last hour (or the interval, if shorter), so a failing backup is retried, not hammered."""
    every = timedelta(hours=every_hours)
    if last_ok is not None and now - last_ok < every:
        return False
    return last_try is None or now - last_try >= min(every, RETRY_AFTER)


SILENT_AFTER_REPORTS = 3  # a node is silent when this many reports in a row did not arrive
LATE_AFTER = timedelta(minutes=10)  # forwarding lag past this is late
BACKUP_STALE = timedelta(days=2)


def health_problems(
    now: datetime,
    reported_at: datetime,
    every_s: float,
    lag_s: float | None,
    last_backup_at: datetime | None,
) -> list[tuple[str, str]]:
    """What is wrong with a node by its last report, as (severity, label): ``red`` when it is
    silent (three reports missed, at least three minutes) or late (its changes wait longer than
    ten minutes at it), ``orange`` when it has not been backed up for two days."""
    problems: list[tuple[str, str]] = []
    if now - reported_at > max(
        timedelta(seconds=SILENT_AFTER_REPORTS * every_s), timedelta(minutes=3)
    ):
        problems.append(("red", "失联"))
    if lag_s is not None and lag_s > LATE_AFTER.total_seconds():
        problems.append(("red", "转发滞后"))
    if last_backup_at is None:
        problems.append(("orange", "未备份"))
    elif now - last_backup_at > BACKUP_STALE:
        problems.append(("orange", "两天未备份"))
    return problems
