"""Daily partitions of the readings table on PostgreSQL (实时数据按日分区).

A partition holds one Beijing-time day of readings (epoch-millisecond range); it is made the
first time a reading of that day arrives (and ahead of time by the monitoring jobs), and dropped
whole when the day has left the retention window, which is cheaper than deleting rows. On SQLite
the table is plain and expired rows are deleted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from anjian.core.clock import CST
from anjian.monitoring.models import Reading

log = logging.getLogger("anjian.monitoring")
DAY_MS = 86_400_000
_EPOCH_DAY0 = datetime(1970, 1, 1, tzinfo=CST)
_known: dict[str, set[int]] = {}  # database URL → day numbers known to have a partition
_lock = threading.Lock()


def day_of(ts_ms: int) -> int:
    """The Beijing-time day number (days since 1970-01-01 CST) of an epoch-ms time."""
    return (ts_ms + 8 * 3_600_000) // DAY_MS


def day_start_ms(day: int) -> int:
    """Epoch ms of the Beijing midnight that starts ``day``."""
    return day * DAY_MS - 8 * 3_600_000


def day_label(day: int) -> str:
    """``day`` as YYYYMMDD (Beijing time)."""
    d: date = (_EPOCH_DAY0 + timedelta(days=day)).date()
    return f"{d:%Y%m%d}"


def partition_name(day: int, parent: str = "readings") -> str:
    """The partition of ``parent`` (``readings`` or ``readings_packed``) holding ``day``."""
    return f"{parent}_p{day_label(day)}"


def expiring_days(conn: Connection, retention_days: int, now_ms: int) -> list[int]:
    """The days, with a partition of either form, whose last millisecond has left the
    retention window."""
    cutoff = now_ms - retention_days * DAY_MS
    days = existing_days(conn) | existing_days(conn, "readings_packed")
    return sorted(d for d in days if day_start_ms(d + 1) <= cutoff)


def drop_day(conn: Connection, engine_url: str, day: int) -> int:
    """Drop both partitions of ``day`` (committed); how many there were."""
    dropped = 0
    for parent in ("readings", "readings_packed"):
        if day in existing_days(conn, parent):
            conn.execute(text(f"DROP TABLE IF EXISTS {partition_name(day, parent)}"))
            dropped += 1
    conn.commit()
    with _lock:
        _known.get(engine_url, set()).discard(day)
    return dropped


def existing_days(conn: Connection, parent: str = "readings") -> set[int]:
    """The days that have a partition of ``parent``."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
        ),
        {"parent": parent},
    )
    prefix = f"{parent}_p"
    days = set()
    for (name,) in rows:
        if name.startswith(prefix) and len(name) == len(prefix) + 8:
            d = datetime.strptime(name[len(prefix) :], "%Y%m%d").replace(tzinfo=CST)
            days.add((d - _EPOCH_DAY0).days)
    return days


def create_partition(conn: Connection, day: int, parent: str = "readings") -> None:
    """Make ``parent``'s partition of ``day`` if it is missing (the caller commits)."""
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {partition_name(day, parent)} PARTITION OF {parent} "
            f"FOR VALUES FROM ({day_start_ms(day)}) TO ({day_start_ms(day + 1)})"
        )
    )


def ensure_partitions(bind: Session | Engine, times_ms: Iterable[int]) -> None:
    """Make the partitions the days of ``times_ms`` need (PostgreSQL; nothing on SQLite).

    The DDL runs on a connection of its own, committed at once, with a lock timeout: a caller
    already holding a lock on the readings table then fails (and retries its batch) instead of
    waiting on itself."""
    engine = bind.get_bind().engine if isinstance(bind, Session) else bind
    if engine.dialect.name != "postgresql":
        return
    key = str(engine.url)
    days = {day_of(ts) for ts in times_ms}
    with _lock:
        missing = days - _known.get(key, set())
    if not missing:
        return
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '5s'"))
        have = existing_days(conn)
        for day in sorted(missing - have):
            create_partition(conn, day)
            conn.commit()
            have.add(day)
            log.info("made readings partition %s", partition_name(day))
    with _lock:
        _known.setdefault(key, set()).update(have)


def drop_expired(engine: Engine, retention_days: int, *, now_ms: int) -> int:
    """Remove readings older than ``retention_days`` (whole days on PostgreSQL: a partition, and
    its packed twin, is dropped once its last millisecond has expired); how many partitions or
    rows went."""
    cutoff = now_ms - retention_days * DAY_MS
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            return conn.execute(delete(Reading).where(Reading.ts < cutoff)).rowcount or 0
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '5s'"))
        return sum(
            drop_day(conn, str(engine.url), day)
            for day in expiring_days(conn, retention_days, now_ms)
        )
