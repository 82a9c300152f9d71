"""Set-wise ingest on PostgreSQL (整批入库): an ingest worker's transaction of clean batches
checked, matched to their points, stored and summed up by the database in one statement.

Reading by reading, a reading costs the node about 6 µs of Python (decoding, checks, grouping,
COPY) besides the database's own work, and one interpreter does it all. Here the raw batches go
to the database as they came (a COPY of one row each), and one statement decodes them
(``jsonb_to_recordset``), checks them, joins them to their points, inserts them, and answers
with each point's newest reading and the readings of the points whose alarm state may change —
those with a value at or past a set point, or an alarm open or a bound pending (:attr:`LiveRow.
at_rest`) — which :func:`anjian.monitoring.evaluate.judge` evaluates as usual. The database
work then spreads over as many backends as the worker has lanes.

The statement takes a transaction only when every batch in it is clean: the batch's shape and
every reading's types as a gateway should send them (one JSON path per batch), every point
known, live and in order (status ok), every time inside the accepted window, no reading stored
before. Otherwise — a refused reading, a redelivery (unique key), a missing day partition, a
status report, a point out of order, a value the database cannot hold — its work is rolled back
to a savepoint and the whole transaction goes the reading-by-reading way of
:mod:`anjian.monitoring.ingest`, which decides each reading as before. The enterprises that
caused it go that way for :data:`SUSPECT_S` seconds, so that one gateway sending bad readings
does not make every transaction be tried twice.

Only a worker's cache (one with an owner) takes this path: the points' live states must be in
memory to know which are at rest."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from anjian.core.metrics import INGEST_FALLBACKS
from anjian.monitoring.batch import MAX_READINGS, Outcome, accepted_times
from anjian.monitoring.evaluate import judge
from anjian.monitoring.live import PointCache
from anjian.monitoring.partitions import ensure_partitions

log = logging.getLogger("anjian.monitoring.setwise")
SUSPECT_S = 10.0  # an enterprise whose batch was given back goes reading by reading this long

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage (n integer, enterprise_id integer, "
    "payload text) ON COMMIT DELETE ROWS"
)

# A batch text this path leaves alone: a string where a point's value or a time should be, or
# anything but a string as a point. The record functions below would turn "1.5" into a number
# and 5 into the code "5", where a gateway's reading must be refused. With no backslash in the
# text (no escaped key can hide) and no ``null`` (which they cannot tell from a missing key),
# the other wrong types fail their casts, or their readings drop out and the batch's count of
# readings no longer matches.
MISTYPED = r'"(value|ts)"\s*:\s*"|"point"\s*:\s*[^"\s]'

# ``msg``: each batch, ``expected`` its count of readings when its shape and text are clean (an
# object, an optional numeric ts, an array of at most MAX_READINGS readings). ``x``: the
# readings typed, the status "ok" or absent (a fractional, textual or out-of-range time or value
# fails its cast and gives the transaction back). ``r``: those matched to live points in
# order, inside the window; a batch whose count of such readings is not ``expected`` is
# ``bad``. ``loud``: at or past a set point (the negation of evaluate.quiet's band test). A
# point's readings are sent back when one of them is loud or the point is restless. (The text
# guard costs a third of what one JSON path check per batch cost.)
_STATEMENT = f"""
WITH parsed AS MATERIALIZED (
    SELECT n, enterprise_id, payload::jsonb AS body,
           strpos(payload, chr(92)) = 0 AND strpos(payload, 'null') = 0
               AND payload !~ %(mistyped)s AS plain
    FROM ingest_stage
),
msg AS MATERIALIZED (
    SELECT n, enterprise_id, body,
           CASE WHEN jsonb_typeof(body -> 'ts') = 'number' THEN (body ->> 'ts')::bigint END
               AS batch_ts,
           CASE WHEN plain AND jsonb_typeof(body) = 'object'
                     AND jsonb_typeof(body -> 'readings') = 'array'
                     AND coalesce(jsonb_typeof(body -> 'ts'), 'number') = 'number'
                THEN CASE WHEN jsonb_array_length(body -> 'readings') <= {MAX_READINGS}
                          THEN jsonb_array_length(body -> 'readings') END
           END AS expected
    FROM parsed
),
x AS MATERIALIZED (
    SELECT m.n, m.enterprise_id, x.point, x.value, coalesce(x.ts, m.batch_ts) AS ts
    FROM msg m
    CROSS JOIN LATERAL jsonb_to_recordset(m.body -> 'readings')
        AS x(point text, value double precision, ts bigint, status text)
    WHERE m.expected IS NOT NULL AND x.point <> '' AND x.value IS NOT NULL
      AND coalesce(x.status = 'ok', true)
),
r AS MATERIALIZED (
    SELECT x.n, p.id, x.ts, x.value,
           coalesce(x.value >= p.h OR x.value >= p.hh OR x.value <= p.l OR x.value <= p.ll,
                    false) AS loud
    FROM x JOIN monitoring_points p ON p.enterprise_id = x.enterprise_id AND p.code = x.point
    WHERE p.enterprise_id = ANY(%(enterprises)s::integer[]) AND NOT p.deleted
      AND p.status = 'ok' AND x.ts BETWEEN %(oldest)s AND %(latest)s
),
ins AS (
    INSERT INTO readings (point_id, ts, value, status) SELECT id, ts, value, 0 FROM r
),
got AS (SELECT n, count(*) AS c FROM r GROUP BY n),
per_point AS (SELECT id, max(ARRAY[ts::float8, value]) AS last FROM r GROUP BY id),
detail AS (
    SELECT n, id, ts, value FROM r
    WHERE id IN (SELECT id FROM r WHERE loud UNION SELECT unnest(%(restless)s::integer[]))
)
SELECT
    (SELECT array_agg(m.n) FROM msg m LEFT JOIN got g USING (n)
     WHERE m.expected IS DISTINCT FROM coalesce(g.c, 0)),
    (SELECT array_agg(n) FROM got), (SELECT array_agg(c) FROM got),
    (SELECT array_agg(id) FROM per_point), (SELECT array_agg(last[1]::bigint) FROM per_point),
    (SELECT array_agg(last[2]) FROM per_point),
    (SELECT array_agg(n) FROM detail), (SELECT array_agg(id) FROM detail),
    (SELECT array_agg(ts) FROM detail), (SELECT array_agg(value) FROM detail)
"""


def apply(
    session: Session,
    batches: list[tuple[int, bytes | str | dict[str, Any]]],
    outs: list[Outcome],
    cache: PointCache,
    *,
    now: int | None = None,
) -> list[int]:
    """Apply the batches ``(enterprise_id, raw)`` this path can take, counting them in
    ``outs``; the indexes of those left to the reading-by-reading path (all of them when the
    statement gave the transaction back)."""
    if cache.owner is None or session.get_bind().dialect.name != "postgresql":
        return list(range(len(batches)))
    suspects, clock = cache.suspects, time.monotonic()
    take: list[tuple[int, int, str]] = []  # (index, enterprise, JSON text)
    rest: list[int] = []
    for i, (eid, raw) in enumerate(batches):
        if isinstance(raw, dict) or suspects.get(eid, 0.0) > clock:
            rest.append(i)
            continue
        try:
            take.append((i, eid, raw.decode() if isinstance(raw, bytes) else raw))
        except UnicodeDecodeError:
            rest.append(i)
    if not take:
        return rest
    # Every enterprise of the transaction locked at once, in order (the other path locks again).
    cache.points(session, {eid for eid, _ in batches})
    enterprises = sorted({eid for _, eid, _ in take})
    oldest, latest = accepted_times(now)
    ensure_partitions(session, [latest])  # today's (a reading of a day without one gives back)
    params = {
        "mistyped": MISTYPED,
        "enterprises": enterprises,
        "restless": cache.restless(session, enterprises),
        "oldest": oldest,
        "latest": latest,
    }
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(_STAGE)
        cur.execute("SAVEPOINT setwise")
        # The plan must not rest on statistics (a points table just filled, autovacuum off,
        # estimated at one row, joined in a nested loop: 200 million comparisons); without
        # nested loops the cost passes JIT's threshold, whose compiling costs more than it saves.
        cur.execute("SET LOCAL enable_nestloop = off; SET LOCAL jit = off")
        try:
            with cur.copy("COPY ingest_stage (n, enterprise_id, payload) FROM STDIN BINARY") as cp:
                cp.set_types(["int4", "int4", "text"])
                for n, (_, eid, text) in enumerate(take):
                    cp.write_row((n, eid, text))
            cur.execute(_STATEMENT, params)
            row = cur.fetchone()
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            log.debug("set-wise transaction given back: %r", exc)
            row = None
        if row is None or row[0]:
            cur.execute("ROLLBACK TO SAVEPOINT setwise")
            bad = {take[n][1] for n in row[0]} if row else enterprises
            suspects.update((eid, clock + SUSPECT_S) for eid in bad)
            INGEST_FALLBACKS.inc()
            return list(range(len(batches)))
        cur.execute("RELEASE SAVEPOINT setwise; RESET enable_nestloop; RESET jit")
    _, got_n, got_c, ids, tss, values, d_n, d_ids, d_ts, d_values = row
    for i, _, _ in take:
        outs[i].path = "setwise"
    for n, c in zip(got_n or (), got_c or (), strict=True):
        outs[take[n][0]].accepted += c
    fresh: dict[int, list[tuple[int, float, Outcome]]] = defaultdict(list)
    for n, pid, ts, value in zip(d_n or (), d_ids or (), d_ts or (), d_values or (), strict=True):
        fresh[pid].append((ts, value, outs[take[n][0]]))
    lives = cache.lives(session, [])  # restless() read them all
    touched = []
    for pid, ts, value in zip(ids or (), tss or (), values or (), strict=True):
        if pid in fresh:
            continue
        live = lives[pid]
        if live.last_ts is None or ts > live.last_ts:
            live.last_ts, live.last_value = ts, value
            touched.append(live)
    judge(session, cache, fresh, touched)
    return rest
