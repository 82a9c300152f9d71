"""Pure rules of operations (运维), without I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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


@dataclass(frozen=True)
class Replication:
    """A node's 一主两备 by its last report: the standbys it is configured with (its database
    hosts, less the primary), how many stream from the primary, and the synchronous ones."""

    expected: int
    streaming: int
    synchronous: tuple[str, ...]


def replication_of(figures: Mapping[str, Any]) -> Replication | None:
    """The :class:`Replication` in a report's figures; None on one database, or when the
    figures (a child's, as sent) are not of that shape."""
    expected, standbys = figures.get("standbys_expected"), figures.get("standbys")
    if type(expected) is not int or expected <= 0 or not isinstance(standbys, list):
        return None
    streaming = [s for s in standbys if isinstance(s, dict) and s.get("state") == "streaming"]
    synchronous = tuple(
        str(s.get("name", ""))[:64] for s in streaming if s.get("sync") in ("sync", "quorum")
    )
    return Replication(expected, len(streaming), synchronous)


def replication_problems(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a node's 一主两备, as (severity, label): ``orange`` when fewer standbys
    stream than it is configured with (``备库 1/2``) and when none is synchronous (``无同步备库``:
    a commit is then on one machine only until a standby is back)."""
    found = replication_of(figures)
    if found is None:
        return []
    problems: list[tuple[str, str]] = []
    if found.streaming < found.expected:
        problems.append(("orange", f"备库 {found.streaming}/{found.expected}"))
    if not found.synchronous:
        problems.append(("orange", "无同步备库"))
    return problems
