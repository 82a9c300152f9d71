"""Raw readings past the retention archived before they are dropped (历史数据归档, PostgreSQL).

With ``ANJIAN_MONITORING_ARCHIVE_DIR`` set (or ``anjian readings archive --to DIR``), a day that
leaves the retention window is first written to ``readings-YYYYMMDD.csv.xz`` in that directory —
one line per reading, ``uscc,point,ts,value,status`` under a header, ordered by point and time,
the points named by their enterprise's USCC and their code so the file means the same thing on
any node — with its SM3 digest beside it (``…csv.xz.sm3``, as ``sm3sum`` prints it). The file is
written under a temporary name, synced and only then renamed and the day dropped; a day that
cannot be archived is kept. xz (preset 1) takes about 1.5–2 bytes a
reading (``bench/storage.py``). Readings older than the retention are refused at ingest, so no
reading of an archived day can arrive after it."""

from __future__ import annotations

import csv
import io
import logging
import lzma
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from anjian.core.crypto import sm3_file
from anjian.monitoring.partitions import (
    day_label,
    day_start_ms,
    drop_day,
    existing_days,
    expiring_days,
    partition_name,
)

log = logging.getLogger("anjian.monitoring.archive")
HEADER = ["uscc", "point", "ts", "value", "status"]


@dataclass(frozen=True)
class Archived:
    """One day written to the archive."""

    day: int
    path: Path
    readings: int
    sm3: str


def archive_path(directory: Path, day: int) -> Path:
    """Where ``day``'s archive goes."""
    return directory / f"readings-{day_label(day)}.csv.xz"


def archive_expired(
    engine: Engine, retention_days: int, now_ms: int, directory: Path
) -> list[Archived]:
    """Archive each day past the retention to ``directory``, then drop it; a day whose archive
    fails is kept (and logged) for the next pass. PostgreSQL; nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return []
    directory.mkdir(parents=True, exist_ok=True)
    done = []
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '5s'"))
        for day in expiring_days(conn, retention_days, now_ms):
            try:
                archived = archive_day(conn, day, directory)
            except OSError as exc:
                conn.rollback()
                log.error("day %d not archived, kept: %s", day, exc)
                continue
            drop_day(conn, str(engine.url), day)
            done.append(archived)
    return done


def archive_day(conn: Connection, day: int, directory: Path) -> Archived:
    """Write ``day``'s readings (as stored and packed) to the archive in ``directory``; the
    caller drops the day after. Raises OSError when the file cannot be written."""
    path = archive_path(directory, day)
    part = path.with_name(path.name + ".part")
    days = {
        parent: day in existing_days(conn, parent) for parent in ("readings", "readings_packed")
    }
    sources = []
    if days["readings"]:
        sources.append(f"SELECT point_id, ts, value, status FROM {partition_name(day)}")
    if days["readings_packed"]:
        sources.append(
            "SELECT p.point_id, p.hour + u.off, u.val, coalesce(u.st, 0) "
            f"FROM {partition_name(day, 'readings_packed')} p "
            "CROSS JOIN LATERAL unnest(p.ts, p.value, p.status) AS u(off, val, st)"
        )
    count = 0
    with lzma.open(part, "wb", preset=1) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(out)
        writer.writerow(HEADER)
        if sources:
            rows = conn.execute(
                text(
                    # a reading whose point is not registered here any more keeps its number
                    "SELECT coalesce(e.uscc, ''), coalesce(p.code, '#' || r.point_id), "
                    "r.ts, r.value, r.status FROM ("
                    + " UNION ALL ".join(sources)
                    + ") AS r(point_id, ts, value, status) "
                    "LEFT JOIN monitoring_points p ON p.id = r.point_id "
                    "LEFT JOIN enterprises e ON e.id = p.enterprise_id "
                    "WHERE r.ts >= :start AND r.ts < :end ORDER BY r.point_id, r.ts"
                ).execution_options(stream_results=True, yield_per=10_000),
                {"start": day_start_ms(day), "end": day_start_ms(day + 1)},
            )
            for row in rows:
                writer.writerow(row)
                count += 1
        out.flush()
        out.detach()
    with open(part, "rb") as f:
        os.fsync(f.fileno())
    digest = sm3_file(part)
    os.replace(part, path)
    Path(f"{path}.sm3").write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    log.info("archived day %d: %d readings to %s", day, count, path)
    return Archived(day, path, count, digest)
