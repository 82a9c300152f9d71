"""The national dataset of the scale benchmarks (issue 20): enterprises spread over every county
with a centroid and hidden hazards spread over them, loaded straight into a node's PostgreSQL
database by ``INSERT … SELECT generate_series`` with the columns the services would write (sync
columns included), and officials at each tier."""

from __future__ import annotations

import time

from benchkit import Database, cli

PASSWORD = "Anjian#Bench2026"
OFFICIALS = {"nation": "000000", "province": "140000", "city": "140600", "county": "140622"}
CATEGORIES = ["coal_mine", "non_coal_mine", "hazardous_chemicals", "fireworks", "metallurgy_trade"]

ENTERPRISES_SQL = """
WITH counties AS (
    SELECT code, lng, lat, row_number() OVER (ORDER BY code) - 1 AS k, count(*) OVER () AS n
    FROM divisions
    WHERE lng IS NOT NULL AND lat IS NOT NULL AND code !~ '00$'
)
INSERT INTO enterprises (uscc, name, division_code, address, lng, lat, industry_code,
    supervision_category, scale, legal_rep, safety_manager, status, created_at, origin_node,
    version, updated_at, deleted, uid)
SELECT '91' || c.code || lpad(g::text, 10, '0'), '企业' || g, c.code, '', c.lng
    + (random() - 0.5) * 0.3, c.lat + (random() - 0.5) * 0.3, 'C26',
    (%(categories)s::text[])[1 + g %% %(ncat)s], 'small', '', '', 'operating', now(), 'node-000000',
    1, now(), false, gen_random_uuid()::text
FROM generate_series(1, %(count)s) AS g JOIN counties c ON c.k = g %% c.n
"""

HAZARDS_SQL = """
INSERT INTO hidden_hazards (number, enterprise_id, division_code, supervision_category, place,
    description, category, grade, major_criterion, source, found_by, found_at, photos, state,
    responsible, measures, registered_by, rectified_by, rectification_note, accepted_by,
    acceptance_note, overdue, created_at, origin_node, version, updated_at, deleted, uid,
    source_ref)
SELECT 'YH' || g, e.id, e.division_code, e.supervision_category, '', '隐患' || g, 'site',
    CASE WHEN g %% 250 = 0 THEN 'major' ELSE 'general' END, '', 'self_check', '',
    now() - (g %% 365) * interval '1 day', '[]',
    CASE WHEN g %% 5 = 0 THEN 'rectifying' ELSE 'closed' END, '', '', '', '', '', '', '',
    false, now(), 'node-000000', 1, now(), false, gen_random_uuid()::text, ''
FROM generate_series(1, %(count)s) AS g
JOIN enterprises e ON e.id = 1 + g %% %(enterprises)s
"""


def load(db: Database, enterprises: int, hazards: int) -> dict[str, float]:
    """Load the enterprises and hazards, then ANALYZE; the seconds each took."""
    import psycopg

    took = {}
    with psycopg.connect(db.plain_url, autocommit=True) as conn:
        t0 = time.monotonic()
        conn.execute(
            ENTERPRISES_SQL,
            {"categories": CATEGORIES, "ncat": len(CATEGORIES), "count": enterprises},
            prepare=False,
        )
        took["enterprises_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        conn.execute(HAZARDS_SQL, {"count": hazards, "enterprises": enterprises}, prepare=False)
        took["hazards_s"] = time.monotonic() - t0
        conn.execute("ANALYZE")
    return took


def centres(db: Database, division: str, count: int) -> list[tuple[float, float]]:
    """Random enterprises' positions in ``division``'s jurisdiction (its code without the
    trailing 00 pairs is the prefix of every code below it)."""
    import psycopg

    prefix = division
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    with psycopg.connect(db.plain_url) as conn:
        rows = conn.execute(
            "SELECT lng, lat FROM enterprises WHERE division_code LIKE %s "
            "ORDER BY random() LIMIT %s",
            (prefix + "%", count),
        ).fetchall()
    return [(float(a), float(b)) for a, b in rows]


def add_officials(env: dict[str, str]) -> None:
    """An official at each tier of :data:`OFFICIALS` (``bench-<tier>``, :data:`PASSWORD`)."""
    for tier, division in OFFICIALS.items():
        cli(
            env,
            "user",
            "add",
            f"bench-{tier}",
            "--role",
            "official",
            "--division",
            division,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
