"""Storage of raw readings (issue 20): bytes per stored reading on PostgreSQL, how many days of
raw readings a 1 TB disk holds at the national load (~800 M readings a day, the national
hazardous-chemicals warning system), and what a finished day's partition and its archive could
be made to take.

One fresh database (``anjian init``: the migrations, the partitioned ``readings`` table);
``--points`` points, a reading of each every ``--interval`` seconds for ``--hours`` hours of one
Beijing day, loaded by binary COPY in the order gateways send them (time, then point) as the
ingest does. Values are a random walk at a sensor's resolution (0.01), status ok. Measured after
VACUUM ANALYZE (``pg_total_relation_size``: heap, indexes, visibility and free-space maps):

1. **as stored**: the day's partition as the ingest fills it — heap and its (point_id, ts)
   primary key, which makes a redelivered reading a no-op;
2. **compact**: the same rows rewritten in the column order that needs no alignment padding
   (ts, value, point_id, status), sorted by (point, time), with a BRIN index on (point_id, ts)
   instead of the B-tree — what a finished day could become once no redelivery can reach it;
   one point's hour is read back from both to show what the BRIN costs;
3. **archive**: the day sorted by (point, time) as binary COPY compressed with xz (lzma, preset
   6), and as Parquet (zstd; ts delta-coded) when pyarrow is installed (``pip install -e
   '.[bench]'``).

Prints bytes per reading, GiB per billion readings and days of the national load per TB for
each, then one JSON line. The goal (issue 20): ≤ 50 GiB per billion readings hot.

    .venv/bin/python bench/storage.py [--quick] [--points 1000] [--hours 24] [--interval 10]
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
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


def _point_hours(conn: Any, table: str, points: int, day_start: int, tries: int) -> float | None:
    """p50 ms of reading one point's hour from ``table`` (random points and hours)."""
    rng = random.Random(7)
    times = []
    for _ in range(tries):
        p = rng.randint(1, points)
        start = day_start + rng.randint(0, 5) * 3_600_000
        t = time.perf_counter()
        conn.execute(
            f"SELECT ts, value FROM {table} WHERE point_id = %s AND ts >= %s AND ts < %s "
            "ORDER BY ts",
            (p, start, start + 3_600_000),
        ).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50)


def _figures(total_bytes: int, rows: int) -> dict[str, float]:
    per = total_bytes / rows
    return {
        "bytes_per_reading": round(per, 1),
        "gib_per_billion": round(per * 1e9 / GIB, 1),
        "days_per_tb": round(TB / (per * NATIONAL_PER_DAY), 1),
    }


def _archives(conn: Any, partition: str, rows: int) -> dict[str, Any]:
    """The day sorted by (point, time): binary COPY under xz, and Parquet if pyarrow is here."""
    out: dict[str, Any] = {}
    raw = io.BytesIO()
    sorted_rows = f"SELECT point_id, ts, value, status FROM {partition} ORDER BY point_id, ts"
    with conn.cursor() as cur, cur.copy(f"COPY ({sorted_rows}) TO STDOUT (FORMAT BINARY)") as cp:
        for block in cp:
            raw.write(block)
    t = time.perf_counter()
    xz = lzma.compress(raw.getvalue(), preset=6)
    out["copy_binary_bytes"] = raw.tell()
    out["xz"] = _figures(len(xz), rows) | {"seconds": round(time.perf_counter() - t, 1)}
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        out["parquet"] = None
        log("pyarrow not installed: no Parquet figure (pip install -e '.[bench]')")
        return out
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
    out["parquet"] = _figures(sink.tell(), rows) | {"seconds": round(time.perf_counter() - t, 1)}
    return out


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
            log("rewriting the day: compact column order, sorted, BRIN (point_id, ts)")
            conn.execute(
                "CREATE TABLE readings_compact AS SELECT ts, value, point_id, status "
                f"FROM {partition} ORDER BY point_id, ts"
            )
            conn.execute(
                "CREATE INDEX readings_compact_brin ON readings_compact "
                "USING brin (point_id, ts) WITH (pages_per_range = 16)"
            )
            compact = _size(conn, "readings_compact")
            tries = 40
            btree_ms = _point_hours(conn, partition, args.points, start, tries)
            brin_ms = _point_hours(conn, "readings_compact", args.points, start, tries)
            log("archiving the day (xz, Parquet)")
            archive = _archives(conn, partition, rows)
        result = {
            "benchmark": "storage",
            "readings": rows,
            "points": args.points,
            "load_per_s": round(rows / load_s),
            "stored": _figures(stored, rows) | {"heap_share": round(heap / stored, 2)},
            "compact": _figures(compact, rows),
            "point_hour_ms": {"btree": rounded(btree_ms, 2), "brin": rounded(brin_ms, 2)},
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
    print(_row("compact: sorted, no padding, BRIN", r["compact"]))
    print(_row("archive: binary COPY, xz", r["archive"]["xz"]))
    print(_row("archive: Parquet, zstd", r["archive"]["parquet"]))
    print(
        f"heap share of the stored day: {r['stored']['heap_share']:.0%}; one point's hour read "
        f"back: B-tree {r['point_hour_ms']['btree']} ms, BRIN {r['point_hour_ms']['brin']} ms "
        f"(p50); days per TB at {NATIONAL_PER_DAY:,} readings a day"
    )
    print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(main())
