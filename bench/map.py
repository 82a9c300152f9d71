"""The one map (一张图) at national scale (issue 20): ``GET /api/v1/map/features`` over 100,000
enterprises and 1,000,000 hidden hazards on PostgreSQL, and the page's first render.

1. A fresh PostgreSQL database (dropped at the end), ``anjian init`` as the national node.
2. ``--enterprises`` enterprises spread over every county that has a centroid (as many per
   county, ±0.15° around it), then ``--hazards`` hidden hazards spread over them (a fifth still
   open, one in fifty of those 重大), each by one ``INSERT … SELECT generate_series`` — the
   columns the services would write, sync columns included — and ``ANALYZE``.
3. Officials of the nation (000000), 山西 (140000), 朔州 (140600) and 应县 (140622).
4. ``anjian serve``; for each official ``--requests`` answers per layer the API lists: a
   random zoom (4–15) and a 1,400 × 900 px view centred on a random enterprise of the
   official's jurisdiction. Latency is the client's (HTTP on 127.0.0.1 included); the size of
   each answer (features, clustered or not) is kept too.
5. With ``--browser`` (and the page and chromium present): headless Chromium opens the one
   map page as the national official and the time from navigation until markers are drawn is
   taken (first render).

Prints a table, then one JSON line. Targets (the issue): p95 ≤ 100 ms, first render ≤ 2 s at
100,000 enterprises. The figures are what this machine reaches, with the other processes of
the run sharing its two cores.

    .venv/bin/python bench/map.py [--quick] [--enterprises N] [--hazards N] [--browser]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import national
from benchkit import Database, cli, log, node_env, percentile, serving

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
VIEW_PX = (1400, 900)
ZOOMS = range(4, 16)


def _view(lng: float, lat: float, zoom: int) -> str:
    """The box a 1,400 × 900 px Web Mercator view at ``zoom`` centred on (lng, lat) shows."""
    deg_per_px = 360.0 / (256 * 2**zoom)
    half_w = VIEW_PX[0] / 2 * deg_per_px
    half_h = VIEW_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    west, east = max(-180.0, lng - half_w), min(180.0, lng + half_w)
    south, north = max(-90.0, lat - half_h), min(90.0, lat + half_h)
    return f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"


def _measure(
    url: str, token: str, layers: list[str], centres: list[tuple[float, float]], rng: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for layer in layers:
            times, sizes, clustered = [], [], 0
            for lng, lat in centres:
                zoom = rng.choice(ZOOMS)
                params = {"layer": layer, "bbox": _view(lng, lat, zoom), "zoom": zoom}
                t0 = time.perf_counter()
                r = client.get("/api/v1/map/features", params=params, timeout=60)
                times.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                answer = r.json()
                sizes.append(len(answer["features"]))
                clustered += answer["clustered"]
            out[layer] = {
                "requests": len(times),
                "p50_ms": round(percentile(times, 50) or 0, 1),
                "p95_ms": round(percentile(times, 95) or 0, 1),
                "max_ms": round(max(times), 1),
                "features_max": max(sizes),
                "clustered_share": round(clustered / len(times), 2),
            }
    return out


def _first_render(url: str, username: str) -> dict[str, Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed"}
    if not Path("/usr/bin/chromium").exists():
        return {"skipped": "/usr/bin/chromium is not installed"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": VIEW_PX[0], "height": VIEW_PX[1]})
        page.goto(f"{url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", national.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        t0 = time.perf_counter()
        r = page.goto(f"{url}/onemap")
        if r is None or r.status != 200:
            browser.close()
            return {"skipped": f"/onemap answered {r.status if r else 'nothing'}"}
        page.wait_for_selector(".leaflet-interactive", timeout=30_000)
        took = (time.perf_counter() - t0) * 1000
        markers = page.locator(".leaflet-interactive").count()
        browser.close()
    return {"first_render_ms": round(took), "markers": markers}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Set up, load, measure; the result as one dict."""
    root = Path(tempfile.mkdtemp(prefix="anjian-bench-map-"))
    db = Database.create("postgresql", root, args.pg_admin, "map")
    rng = random.Random(args.seed)
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
            "roles": {},
        }
        with serving(env, root / "serve.log") as url:
            for role, division in national.OFFICIALS.items():
                token = httpx.post(
                    f"{url}/api/v1/auth/login",
                    json={"username": f"bench-{role}", "password": national.PASSWORD},
                    timeout=30,
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                layers = [
                    la["name"]
                    for la in httpx.get(f"{url}/api/v1/map/layers", headers=headers).json()
                ]
                if args.layers:
                    layers = [la for la in layers if la in args.layers]
                centres = national.centres(db, division, args.requests)
                log(f"{role}: {len(centres)} views × {len(layers)} layers")
                result["roles"][role] = _measure(url, token, layers, centres, rng)
            result["browser"] = (
                _first_render(url, "bench-nation") if args.browser else {"skipped": "no --browser"}
            )
        every = [v["p95_ms"] for r in result["roles"].values() for v in r.values()]
        result["p95_ms_worst"] = max(every) if every else None
        return result
    finally:
        db.drop()
        shutil.rmtree(root, ignore_errors=True)


def _table(result: dict[str, Any]) -> None:
    print(
        f"\n一张图 /api/v1/map/features — {result['enterprises']:,} enterprises, "
        f"{result['hazards']:,} hidden hazards (PostgreSQL; loaded in "
        f"{result['load']['enterprises_s']} s + {result['load']['hazards_s']} s)"
    )
    print(
        f"{'official':<10}{'layer':<22}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
        f"{'features≤':>10}{'clustered':>10}"
    )
    for role, layers in result["roles"].items():
        for layer, v in layers.items():
            print(
                f"{role:<10}{layer:<22}{v['p50_ms']:>8}{v['p95_ms']:>8}{v['max_ms']:>8}"
                f"{v['features_max']:>10}{v['clustered_share']:>10}"
            )
    print(f"first render: {result['browser']}")
    print("targets: p95 ≤ 100 ms, first render ≤ 2,000 ms at 100,000 enterprises")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    national.add_dataset_args(parser)
    parser.add_argument("--requests", type=int, default=200, help="views per official and layer")
    parser.add_argument("--layers", nargs="*", help="only these layers")
    parser.add_argument("--browser", action="store_true", help="measure the page's first render")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args()
    if args.quick:
        args.requests = 50
    result = run(args)
    _table(result)
    print(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
