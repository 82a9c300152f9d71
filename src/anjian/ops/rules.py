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
