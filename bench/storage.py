"""Storage of raw readings (issue 20): bytes per stored reading on PostgreSQL, how many days of
raw readings a 1 TB disk holds at the national load (~800 M readings a day, the national
hazardous-chemicals warning system), and what a finished day takes once packed and archived.

One fresh database (``anjian init``: the migrations, the partitioned ``readings`` table);
``--points`` points, a reading of each every ``--interval`` seconds for ``--hours`` hours of one
Beijing day, loaded by binary COPY in the order gateways send them (time, then point) as the
ingest does. Values are a random walk at a sensor's resolution (0.01), status ok. Measured after
VACUUM ANALYZE (``pg_total_relation_size``: heap, indexes, visibility and free-space maps):

1. **as stored**: the day's partition as the ingest fills it — heap and its (point_id, ts)
   primary key, which makes a redelivered reading a no-op;
2. **packed**: the day after ``anjian readings pack`` (:func:`anjian.monitoring.packing.pack_day`,
   what the node's upkeep does to a finished day): one row per point and hour in
   ``readings_packed``, times as offsets and values as arrays, compressed by PostgreSQL; one
   point's hour is read back from both forms (p50) to show what the packing costs a reader;
3. **archive**: the day as ``anjian readings archive`` writes it
   (:func:`anjian.monitoring.archive.archive_day`: CSV of uscc, point, ts, value, status under
   xz preset 1), and, for comparison, as Parquet (zstd; ts delta-coded) when pyarrow is
   installed (``pip install -e '.[bench]'``).

Prints bytes per reading, GiB per billion readings and days of the national load per TB for
each, then one JSON line. The goal (issue 20): ≤ 50 GiB per billion readings hot.

    .venv/bin/python bench/storage.py [--quick] [--points 1000] [--hours 24] [--interval 10]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchkit import Database, cli, log, node_env, percentile, rounded

NATIONAL_PER_DAY = 800_000_000  # readings a day of the national warning system (the issue)
TB = 10**12
GIB = 2**30


def _load(conn: Any, points: int, hours: float, interval: int, day_start: int) -> int:
    """COPY the readings of one day into ``readings`` in the ingest's order; the row count."""
    rng = random.Random(20)
    values = [round(rng.uniform(5, 95), 2) for _ in range(points)]
    steps = int(hours * 3600 / interval)
    with conn.cursor() as cur:
        sql = "COPY readings (point_id, ts, value, status) FROM STDIN (FORMAT BINARY)"
        for chunk in range(0, steps, 100):
            with cur.copy(sql) as copy:
                copy.set_types(["int4", "int8", "float8", "int2"])
                for step in range(chunk, min(steps, chunk + 100)):
                    ts = day_start + step * interval * 1000
                    for p in range(points):
                        v = values[p] = round(
                            min(99.99, max(0.0, values[p] + rng.gauss(0, 0.05))), 2
                        )
                        copy.write_row((p + 1, ts, v, 0))
            conn.commit()
    return steps * points


def _size(conn: Any, table: str) -> int:
    conn.execute(f"VACUUM ANALYZE {table}")
    return int(conn.execute(f"SELECT pg_total_relation_size('{table}')").fetchone()[0])


# One point's hour, (point, from, to): as stored, and packed (the query readings_of makes).
STORED_HOUR = (
    "SELECT ts, value FROM {table} WHERE point_id = %(p)s AND ts >= %(f)s AND ts < %(t)s "
    "ORDER BY ts"
)
PACKED_HOUR = (
    "SELECT p.hour + u.off AS ts, u.val FROM readings_packed p "
    "CROSS JOIN LATERAL unnest(p.ts, p.value) AS u(off, val) "
    "WHERE p.point_id = %(p)s AND p.hour > %(f)s - 3600000 AND p.hour < %(t)s "
    "AND p.hour + u.off >= %(f)s AND p.hour + u.off < %(t)s ORDER BY 1"
)


def _point_hours(
    conn: Any, sql: str, args: argparse.Namespace, day_start: int, tries: int
) -> float | None:
    """p50 ms of reading one point's hour (random points and hours of the loaded ones)."""
    rng = random.Random(7)
    times = []
    for _ in range(tries):
        p = rng.randint(1, args.points)
        start = day_start + rng.randint(0, max(0, int(args.hours) - 1)) * 3_600_000
        t = time.perf_counter()
        conn.execute(sql, {"p": p, "f": start, "t": start + 3_600_000}).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50)


def _figures(total_bytes: int, rows: int) -> dict[str, float]:
    per = total_bytes / rows
    return {
        "bytes_per_reading": round(per, 1),
        "gib_per_billion": round(per * 1e9 / GIB, 1),
        "days_per_tb": round(TB / (per * NATIONAL_PER_DAY), 1),
    }


def _parquet(conn: Any, partition: str, rows: int) -> dict[str, Any] | None:
    """The day sorted by (point, time) as Parquet, if pyarrow is here (an alternative to the
    archive command's CSV for tools that read Parquet)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        log("pyarrow not installed: no Parquet figure (pip install -e '.[bench]')")
        return None
    sorted_rows = f"SELECT point_id, ts, value, status FROM {partition} ORDER BY point_id, ts"
    text = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({sorted_rows}) TO STDOUT (FORMAT CSV)") as cp:
        for block in cp:
            text.write(block)
    types = {"point_id": pa.int32(), "ts": pa.int64(), "value": pa.float64(), "status": pa.int16()}
    table = pacsv.read_csv(
        io.BytesIO(text.getvalue()),
        read_options=pacsv.ReadOptions(column_names=list(types)),
        convert_options=pacsv.ConvertOptions(column_types=types),
    )
    sink = io.BytesIO()
    t = time.perf_counter()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=9,
        use_dictionary=["point_id", "status"],
        column_encoding={"ts": "DELTA_BINARY_PACKED", "value": "BYTE_STREAM_SPLIT"},
    )
    return _figures(sink.tell(), rows) | {"seconds": round(time.perf_counter() - t, 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    from anjian.monitoring.partitions import day_start_ms, ensure_partitions, partition_name

    root = Path(tempfile.mkdtemp(prefix="anjian-bench-storage-"))
    db = Database.create("postgres", root, args.pg_url, "storage")
    try:
        env = node_env(db, root / "data")
        log("anjian init (PostgreSQL)")
        cli(env, "init")
        day = (int(time.time() * 1000) + 8 * 3_600_000) // 86_400_000 - 1  # yesterday (CST)
        start = day_start_ms(day)
        partition = partition_name(day)
        from sqlalchemy import create_engine

        engine = create_engine(db.url)
        ensure_partitions(engine, [start])
        engine.dispose()
        with psycopg.connect(db.plain_url) as conn:
            log(f"loading {args.points:,} points × {args.hours:g} h every {args.interval} s")
            t = time.perf_counter()
            rows = _load(conn, args.points, args.hours, args.interval, start)
            load_s = time.perf_counter() - t
            log(f"{rows:,} readings in {load_s:.0f} s ({rows / load_s:,.0f}/s)")
        with psycopg.connect(db.plain_url, autocommit=True) as conn:
            stored = _size(conn, partition)
            heap = int(conn.execute(f"SELECT pg_table_size('{partition}')").fetchone()[0])
            tries = 40
            stored_ms = _point_hours(conn, STORED_HOUR.format(table=partition), args, start, tries)
            log("the day as Parquet")
            parquet = _parquet(conn, partition, rows)
        log("packing the day (anjian readings pack)")
        from anjian.monitoring.packing import pack_day

        engine = create_engine(db.url)
        t = time.perf_counter()
        done = pack_day(engine, day)
        pack_s = time.perf_counter() - t
        engine.dispose()
        assert done.readings == rows, (done, rows)
        with psycopg.connect(db.plain_url, autocommit=True) as conn:
            packed = _size(conn, partition_name(day, "readings_packed")) + _size(conn, partition)
            packed_ms = _point_hours(conn, PACKED_HOUR, args, start, tries)
        log("archiving the day (anjian readings archive: CSV, xz)")
        from anjian.monitoring.archive import archive_day

        engine = create_engine(db.url)
        t = time.perf_counter()
        with engine.connect() as conn:
            (root / "archive").mkdir()
            archived = archive_day(conn, day, root / "archive")
        archive_s = time.perf_counter() - t
        engine.dispose()
        assert archived.readings == rows, (archived, rows)
        archive = {
            "xz": _figures(archived.path.stat().st_size, rows) | {"seconds": round(archive_s, 1)},
            "parquet": parquet,
        }
        result = {
            "benchmark": "storage",
            "readings": rows,
            "points": args.points,
            "load_per_s": round(rows / load_s),
            "stored": _figures(stored, rows) | {"heap_share": round(heap / stored, 2)},
            "packed": _figures(packed, rows) | {"seconds": round(pack_s, 1)},
            "point_hour_ms": {"stored": rounded(stored_ms, 2), "packed": rounded(packed_ms, 2)},
            "archive": archive,
            "national_per_day": NATIONAL_PER_DAY,
        }
        return result
    finally:
        db.drop()
        shutil.rmtree(root, ignore_errors=True)


def _row(name: str, f: dict[str, float] | None) -> str:
    if f is None:
        return f"{name:<44} (not measured)"
    return (
        f"{name:<44} {f['bytes_per_reading']:>8.1f} {f['gib_per_billion']:>10.1f} "
        f"{f['days_per_tb']:>10.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--interval", type=int, default=10, help="seconds between readings")
    parser.add_argument("--quick", action="store_true", help="6 hours instead of --hours")
    args = parser.parse_args()
    if args.quick:
        args.hours = 6.0
    if args.points < 1 or args.hours <= 0 or not 1 <= args.interval <= 3600:
        parser.error("--points ≥ 1, --hours > 0, --interval 1–3600")
    r = run(args)
    print(f"{r['readings']:,} readings of {r['points']:,} points (one Beijing day's partition)")
    print(f"{'layout':<44} {'B/reading':>8} {'GiB/10^9':>10} {'days/TB':>10}")
    print(_row("as stored (heap + (point_id, ts) B-tree)", r["stored"]))
    print(_row("packed: a row per point and hour (arrays)", r["packed"]))
    print(_row("archive: anjian readings archive (CSV, xz)", r["archive"]["xz"]))
    print(_row("archive: Parquet, zstd", r["archive"]["parquet"]))
    print(
        f"heap share of the stored day: {r['stored']['heap_share']:.0%}; packing took "
        f"{r['packed']['seconds']} s; one point's hour read back: as stored "
        f"{r['point_hour_ms']['stored']} ms, packed {r['point_hour_ms']['packed']} ms (p50); "
        f"days per TB at {NATIONAL_PER_DAY:,} readings a day"
    )
    print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(main())
