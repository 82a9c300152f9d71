"""The national dataset of the scale benchmarks (issue 20): enterprises spread over every county
with a centroid and hidden hazards spread over them, loaded straight into a node's PostgreSQL
database by ``INSERT … SELECT generate_series`` with the columns the services would write (sync
columns included), and officials at each tier."""

from __future__ import annotations

import time
from typing import Any

from benchkit import Database, cli, log

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


# Risk points: so many per enterprise, one in a hundred 重大, one in twenty 较大, three in ten
# 一般, the rest 低 (the enterprise's level on the map is its worst point's).
RISK_SQL = """
INSERT INTO risk_points (enterprise_id, division_code, supervision_category, name, kind,
    location, hazards, method, factor_l, factor_e, factor_c, score, convention, level,
    control_measures, control_level, responsible, assessed_at, created_at, origin_node, version,
    updated_at, deleted, uid)
SELECT e.id, e.division_code, e.supervision_category, '风险点' || g, 'area', '', '', 'lec', 1,
    1, 1, 1, 'A', CASE WHEN g %% 100 = 0 THEN 'major' WHEN g %% 20 = 0 THEN 'significant'
    WHEN g %% 10 < 3 THEN 'general' ELSE 'low' END, '', 'company', '', now(), now(),
    'node-000000', 1, now(), false, gen_random_uuid()::text
FROM generate_series(1, %(count)s) AS g
JOIN enterprises e ON e.id = 1 + g %% %(enterprises)s
"""

# What the risk service keeps on each enterprise (anjian.risk.levels): the worst level of its
# live risk points and how many there are.
RISK_LEVELS_SQL = """
UPDATE enterprises e SET risk_points = w.n, risk_level = CASE w.rank WHEN 4 THEN 'major'
    WHEN 3 THEN 'significant' WHEN 2 THEN 'general' WHEN 1 THEN 'low' END
FROM (SELECT enterprise_id, count(*) AS n, max(CASE level WHEN 'major' THEN 4
    WHEN 'significant' THEN 3 WHEN 'general' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) AS rank
    FROM risk_points WHERE deleted IS false GROUP BY enterprise_id) w
WHERE w.enterprise_id = e.id
"""

# Alarms not closed (raised or acknowledged; one in five 严重), at their enterprise.
ALARMS_SQL = """
INSERT INTO alarms (enterprise_id, division_code, supervision_category, kind, level, bound,
    threshold, value, peak, raised_at, state, acknowledged_by, cause, action, handler,
    handled_by, closed_by, origin_node, version, updated_at, deleted, uid)
SELECT e.id, e.division_code, e.supervision_category, 'threshold',
    CASE WHEN g %% 5 = 0 THEN 1 ELSE 2 END, 'h', 10, 12, 12,
    now() - (g %% 1440) * interval '1 minute',
    CASE WHEN g %% 3 = 0 THEN 'acknowledged' ELSE 'raised' END, '', '', '', '', '', '',
    'node-000000', 1, now(), false, gen_random_uuid()::text
FROM generate_series(1, %(count)s) AS g
JOIN enterprises e ON e.id = 1 + (g * 7) %% %(enterprises)s
"""

# Accidents of this year and last (一般 mostly, one in fifty 较大), at their enterprise.
ACCIDENTS_SQL = """
INSERT INTO accidents (division_code, enterprise_id, supervision_category, unit_name,
    industry_code, occurred_at, known_at, place, accident_type, deaths, missing,
    serious_injuries, minor_injuries, direct_loss_cny, grade, grade_criterion, provisional,
    summary, measures, reporter, reported_at, follow_ups, origin_node, version, updated_at,
    deleted, uid, kind, near_miss_criterion)
SELECT e.division_code, e.id, e.supervision_category, e.name, 'C26', t, t, '', 'machinery',
    CASE WHEN g %% 50 = 0 THEN 3 ELSE g %% 2 END, 0, 0, 1, 0,
    CASE WHEN g %% 50 = 0 THEN 3 ELSE 4 END, 'deaths', false, '', '', '', t, 0,
    'node-000000', 1, now(), false, gen_random_uuid()::text, 'accident', ''
FROM generate_series(1, %(count)s) AS g
JOIN enterprises e ON e.id = 1 + (g * 13) %% %(enterprises)s
CROSS JOIN LATERAL (SELECT now() - (g %% 700) * interval '1 day' AS t) AS at
"""


def load(
    db: Database,
    enterprises: int,
    hazards: int,
    *,
    risk_points: int = 0,
    alarms: int = 0,
    accidents: int = 0,
) -> dict[str, float]:
    """Load the enterprises and hazards (and risk points, open alarms, accidents of this year
    and last), then ANALYZE; the seconds each took."""
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
        for name, sql, count in (
            ("risk_points", RISK_SQL, risk_points),
            ("alarms", ALARMS_SQL, alarms),
            ("accidents", ACCIDENTS_SQL, accidents),
        ):
            if count:
                t0 = time.monotonic()
                conn.execute(sql, {"count": count, "enterprises": enterprises}, prepare=False)
                if name == "risk_points":
                    conn.execute(RISK_LEVELS_SQL, prepare=False)
                took[f"{name}_s"] = time.monotonic() - t0
        conn.execute("VACUUM ANALYZE")
    return took


# The dataset of the national benchmarks: the full size and ``--quick``'s.
DATASET = {
    "enterprises": (100_000, 10_000),
    "hazards": (1_000_000, 100_000),
    "risk_points": (500_000, 50_000),
    "alarms": (20_000, 2_000),
    "accidents": (20_000, 2_000),
}


def add_dataset_args(parser: Any) -> None:
    """The ``--enterprises``, ``--hazards``, ``--risk-points``, ``--alarms`` and
    ``--accidents`` options (``--quick`` takes a tenth of each)."""
    parser.add_argument("--quick", action="store_true", help="a tenth of each dataset size")
    for name, (full, _) in DATASET.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=full)


def dataset(args: Any) -> dict[str, int]:
    """The dataset sizes the options ask for (``--quick``'s when given)."""
    return {
        name: quick if args.quick else getattr(args, name) for name, (_, quick) in DATASET.items()
    }


def load_dataset(db: Database, sizes: dict[str, int]) -> dict[str, float]:
    """:func:`load` with :func:`dataset`'s sizes."""
    log("loading " + ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in sizes.items()))
    return load(
        db,
        sizes["enterprises"],
        sizes["hazards"],
        risk_points=sizes["risk_points"],
        alarms=sizes["alarms"],
        accidents=sizes["accidents"],
    )


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
