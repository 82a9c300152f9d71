"""The command screen (大屏) over a simulated day (issue 20): does the page's memory grow?

A demo node (SQLite, ``anjian demo``) serves ``/screen``; headless Chromium opens it as the
province official. A day on the wall at one update every 5 s is 17,280 redraws of the figures
and, say, 1,440 reloads of the map (one a minute): the benchmark calls the page's own ``draw``
(``window.AnjianScreen``) with figures that change every time (so every chart really
redraws), and its ``loadMap`` (a real request to ``/api/v1/map/features``), in rounds; after
each round it collects garbage and reads the JS heap (Chrome DevTools Protocol:
``HeapProfiler.collectGarbage``, ``Performance.getMetrics`` → JSHeapUsedSize) and the DOM
node count. Prints the heap at the start, after each round and at the end, the growth over the
day, then one JSON line.

    .venv/bin/python bench/screen_memory.py [--updates 17280] [--rounds 12]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchkit import Database, cli, log, node_env, serving

PASSWORD = "Anjian#Demo2026"

# A new set of figures for update ``i``: every chart and figure moves.
VARY = """(i) => {
  const base = JSON.parse(document.getElementById("screen-data").textContent);
  const n = (k) => (i * 7919 + k * 104729) % 97;
  base.alarms_by_level.forEach((s, k) => { s.value = n(k); });
  base.hazards_by_state.forEach((s, k) => { s.value = n(k + 3); });
  base.enterprises_by_risk.forEach((s, k) => { s.value = n(k + 7); });
  base.accidents_this_year = base.accidents_this_year.map((v, k) => n(k + 11) % 9);
  base.hazards_open = n(1); base.alarms_unacknowledged = n(2); base.online_rate = n(3);
  base.events_in_progress = base.events_in_progress.concat(base.events_in_progress).slice(0, 1 + i % 8);
  window.AnjianScreen.draw(base);
}"""


def _heap(cdp: Any) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {
        "heap_mb": round(metrics["JSHeapUsedSize"] / 2**20, 2),
        "nodes": int(metrics["Nodes"]),
        "listeners": int(metrics["JSEventListeners"]),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Serve the demo, open the screen, redraw a day's worth, read the heap; the result."""
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp(prefix="anjian-bench-screen-"))
    db = Database.create("sqlite", root, "", "screen")
    try:
        env = node_env(db, root / "data")
        log("anjian init && anjian demo (SQLite)")
        cli(env, "init")
        cli(env, "demo", timeout=900)
        with serving(env, root / "serve.log") as url, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--js-flags=--expose-gc"]
            )
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "sheng")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(f"{url}/screen")
            page.wait_for_function("window.AnjianScreen !== undefined")
            page.wait_for_timeout(1500)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            start = _heap(cdp)
            rounds = []
            per_round = args.updates // args.rounds
            maps_per_round = max(1, per_round // 12)  # one map reload a minute at 5 s a redraw
            t0 = time.monotonic()
            done = 0
            for r in range(args.rounds):
                for i in range(per_round):
                    page.evaluate(VARY, done + i)
                    if i % (per_round // maps_per_round or 1) == 0:
                        page.evaluate("window.AnjianScreen.loadMap()")
                done += per_round
                page.wait_for_load_state("networkidle")
                rounds.append({"updates": done, **_heap(cdp)})
                log(f"round {r + 1}/{args.rounds}: {rounds[-1]}")
            took = time.monotonic() - t0
            browser.close()
        end = rounds[-1]
        return {
            "updates": done,
            "seconds": round(took, 1),
            "start": start,
            "end": end,
            "heap_growth_mb": round(end["heap_mb"] - start["heap_mb"], 2),
            "heap_max_mb": max(x["heap_mb"] for x in rounds),
            "nodes_growth": end["nodes"] - start["nodes"],
            "rounds": rounds,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=17_280, help="redraws (a day at 5 s)")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    result = run(args)
    print(
        f"\n大屏 over {result['updates']:,} redraws ({result['seconds']} s): JS heap "
        f"{result['start']['heap_mb']} MB → {result['end']['heap_mb']} MB "
        f"(max {result['heap_max_mb']} MB, growth {result['heap_growth_mb']} MB); DOM nodes "
        f"{result['start']['nodes']} → {result['end']['nodes']}"
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
