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


def partition_name(day: int) -> str:
    d: date = (_EPOCH_DAY0 + timedelta(days=day)).date()
    return f"readings_p{d:%Y%m%d}"


def _existing(conn: Connection) -> set[int]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'readings'"
        )
    )
    days = set()
    for (name,) in rows:
        if name.startswith("readings_p") and len(name) == 18:
            d = datetime.strptime(name[10:], "%Y%m%d").replace(tzinfo=CST)
            days.add((d - _EPOCH_DAY0).days)
    return days


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
        have = _existing(conn)
        for day in sorted(missing - have):
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF readings "
                    f"FOR VALUES FROM ({day_start_ms(day)}) TO ({day_start_ms(day + 1)})"
                )
            )
            conn.commit()
            have.add(day)
            log.info("made readings partition %s", partition_name(day))
    with _lock:
        _known.setdefault(key, set()).update(have)


def drop_expired(engine: Engine, retention_days: int, *, now_ms: int) -> int:
    """Remove readings older than ``retention_days`` (whole days on PostgreSQL: a partition is
    dropped once its last millisecond has expired); how many partitions or rows went."""
    cutoff = now_ms - retention_days * DAY_MS
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            return conn.execute(delete(Reading).where(Reading.ts < cutoff)).rowcount or 0
    dropped = 0
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '5s'"))
        for day in sorted(_existing(conn)):
            if day_start_ms(day + 1) <= cutoff:
                conn.execute(text(f"DROP TABLE IF EXISTS {partition_name(day)}"))
                conn.commit()
                dropped += 1
                with _lock:
                    _known.get(str(engine.url), set()).discard(day)
    return dropped
