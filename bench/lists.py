"""Lists at a million rows (issue 20): the scoped hidden-hazard, enterprise and alarm lists of a county,
a city, a province and the national official over 1,000,000 hidden hazards, 100,000
enterprises and 20,000 alarms on PostgreSQL — the first page, filters, a later page, and the total each answer
carries.

The dataset is bench/national.py's (a fresh database, ``anjian init`` as the national node,
rows by ``generate_series``, ``ANALYZE``). ``anjian serve`` answers; each official asks each
list ``--repeat`` times (the first answer of each kind is a warm-up and not counted); latency
is the client's, HTTP on 127.0.0.1 included. Prints a table, then one JSON line. Target (the
issue): p95 ≤ 50 ms.

    .venv/bin/python bench/lists.py [--quick] [--enterprises N] [--hazards N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import national
from benchkit import Database, cli, log, node_env, percentile, serving

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# What an official asks of each list: its first page, the usual filters, a deeper page.
QUERIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "hidden_hazards": [
        ("first page", {}),
        ("open", {"state": "open"}),
        ("major open", {"state": "open", "grade": "major"}),
        ("overdue", {"overdue": "true"}),
        ("page 50", {"page": 50}),
        ("search", {"q": "隐患12"}),
    ],
    "enterprises": [
        ("first page", {}),
        ("category", {"category": "hazardous_chemicals"}),
        ("page 50", {"page": 50}),
        ("search", {"q": "企业12"}),
    ],
    "alarms": [
        ("first page", {}),
        ("open", {"state": "open"}),
        ("一级 open", {"state": "open", "level": 1}),
        ("page 50", {"page": 50}),
    ],
}
PATHS = {
    "hidden_hazards": "/api/v1/hidden-hazards",
    "enterprises": "/api/v1/enterprises",
    "alarms": "/api/v1/alarms",
}


def _measure(url: str, token: str, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for name, queries in QUERIES.items():
            for label, params in queries:
                times, total = [], None
                for i in range(repeat + 1):
                    t0 = time.perf_counter()
                    r = client.get(PATHS[name], params={"size": 20, **params}, timeout=120)
                    took = (time.perf_counter() - t0) * 1000
                    r.raise_for_status()
                    total = r.json()["total"]
                    if i:  # the first is a warm-up
                        times.append(took)
                out[f"{name}: {label}"] = {
                    "p50_ms": round(percentile(times, 50) or 0, 1),
                    "p95_ms": round(percentile(times, 95) or 0, 1),
                    "total": total,
                }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Set up, load, measure; the result as one dict."""
    root = Path(tempfile.mkdtemp(prefix="anjian-bench-lists-"))
    db = Database.create("postgresql", root, args.pg_admin, "lists")
    try:
        env = node_env(db, root / "data", node_division="000000")
        log("anjian init (the national node)")
        cli(env, "init")
        sizes = national.dataset(args)
        loaded = national.load_dataset(db, sizes)
        national.add_officials(env)
        result: dict[str, Any] = {
            **sizes,
            "load": {k: round(v, 1) for k, v in loaded.items()},
            "officials": {},
        }
        with serving(env, root / "serve.log") as url:
            for tier in national.OFFICIALS:
                token = httpx.post(
                    f"{url}/api/v1/auth/login",
                    json={"username": f"bench-{tier}", "password": national.PASSWORD},
                    timeout=30,
                ).json()["access_token"]
                log(f"{tier}: {sum(len(q) for q in QUERIES.values())} queries × {args.repeat}")
                result["officials"][tier] = _measure(url, token, args.repeat)
        every = [v["p95_ms"] for o in result["officials"].values() for v in o.values()]
        result["p95_ms_worst"] = max(every)
        return result
    finally:
        db.drop()
        shutil.rmtree(root, ignore_errors=True)


def _table(result: dict[str, Any]) -> None:
    print(
        f"\nLists — {result['enterprises']:,} enterprises, {result['hazards']:,} hidden hazards "
        "(PostgreSQL)"
    )
    print(f"{'official':<10}{'list: query':<34}{'p50 ms':>8}{'p95 ms':>8}{'total':>10}")
    for tier, queries in result["officials"].items():
        for label, v in queries.items():
            print(f"{tier:<10}{label:<34}{v['p50_ms']:>8}{v['p95_ms']:>8}{v['total']:>10}")
    print("target: p95 ≤ 50 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    national.add_dataset_args(parser)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args()
    if args.quick:
        args.repeat = 5
    result = run(args)
    _table(result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
