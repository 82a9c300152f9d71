"""Forwarding county → city → province → national: lag under a steady write load, and the
catch-up rate after a backlog (issue 3).

Starts four real nodes (``anjian serve``, one database each) on 127.0.0.1 with the harness of
``tests/sync/harness.py``, then:

1. **steady load** for ``--seconds``: by default an alarm storm (``--load alarms``): a gateway
   posts the readings of ``--points`` temperature points once a second over HTTP
   (``POST /api/v1/monitoring/readings``), each swinging across its threshold every second, so
   each reading raises or ends an alarm — about ``--points`` synced changes a second, the
   highest-rate stream of synced records a county carries; or (``--load enterprises``) writer
   threads changing enterprises through the county's API (``PATCH /api/v1/enterprises/{id}``)
   at ``--rate`` a second. The lag of a change is the time from its outbox row at the county to
   its outbox row at the national node (both written in the transaction that stored it there),
   read from the two databases;
2. **catch-up**: the county's link is cut and a backlog of about ``--backlog`` changes builds up
   at the county — by the steady load going on while the link is down (the alarm storm, for
   ``--backlog`` / its rate seconds), or, with ``--load enterprises``, by enterprise changes made
   in process through the enterprise service, as the API would — then the link is restored and
   the drain is timed at the national node: ``catchup_per_s`` = backlog / (last arrival − first
   arrival); ``resume_wait_s`` is the time from the restore to the first arrival (the
   forwarder's back-off after a long cut); ``catchup_first_hop_per_s`` is the same rate at the
   county's parent (the first link alone, its parent passing everything on at the same time).
   While the drain runs the machine's CPU counters are sampled: ``drain_cpu_cores`` (how busy
   its cores were), ``drain_cpu_us_per_change`` (the CPU all processes spent per change) and
   ``drain_steal_pct`` (time the host gave other guests) tell a slow day from slow code.

Prints a table and, last, one JSON line. Targets (issue 3): p99 lag ≤ 5 s at 1,000 changes/s;
catch-up ≥ 10,000 changes/s. The figures are what this machine reaches; nothing is tuned to the
targets. ``--quick`` is a short run for a smoke test.

    .venv/bin/python bench/sync.py [--quick] [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "sync"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # node_env

from harness import (  # the harness lives with the tests
    CHAIN_TOPOLOGY,
    CITY,
    COUNTY_A,
    NATIONAL,
    Api,
    HarnessError,
    Network,
    Node,
    wait_until,
)
from harness_db import pg_reachable

COUNTY = COUNTY_A


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- reading the outboxes ----------------------------------------------------------------------


def _outbox(
    node: Node, entities: tuple[str, ...], *, since: datetime | None = None
) -> dict[tuple[str, int], datetime]:
    """(uid, version) → when the change entered this node's outbox, for changes of
    ``entities``."""
    from sqlalchemy import create_engine, select

    from anjian.core.sync.models import OutboxEntry

    engine = create_engine(node.database_url)
    try:
        stmt = select(OutboxEntry.uid, OutboxEntry.version, OutboxEntry.created_at).where(
            OutboxEntry.entity.in_(entities)
        )
        if since is not None:
            stmt = stmt.where(OutboxEntry.created_at >= since)
        with engine.connect() as conn:
            return {(uid, int(v)): at for uid, v, at in conn.execute(stmt)}
    finally:
        engine.dispose()


def _count_since(
    node: Node, since: datetime, entities: tuple[str, ...] = ("enterprise",), after_seq: int = 0
) -> tuple[int, datetime | None, datetime | None]:
    """How many changes of ``entities`` entered the node's outbox since ``since`` (and after
    ``after_seq``: polled every half second during a drain, the count reads only the new rows
    through the primary key instead of scanning the whole outbox, which would load the
    machine being measured)."""
    from sqlalchemy import create_engine, func, select

    from anjian.core.sync.models import OutboxEntry

    engine = create_engine(node.database_url)
    try:
        with engine.connect() as conn:
            n, first, last = conn.execute(
                select(
                    func.count(), func.min(OutboxEntry.created_at), func.max(OutboxEntry.created_at)
                ).where(
                    OutboxEntry.seq > after_seq,
                    OutboxEntry.entity.in_(entities),
                    OutboxEntry.created_at >= since,
                )
            ).one()
    finally:
        engine.dispose()
    fix = lambda d: d.replace(tzinfo=UTC) if d is not None and d.tzinfo is None else d  # noqa: E731
    return int(n), fix(first), fix(last)


class MachineCpu(threading.Thread):
    """The machine's CPU counters (``/proc/stat``) sampled four times a second, to tell a
    drain's rate apart from the machine's speed that day: the CPU time all processes (the four
    nodes, their databases, the bench) spent per change while it ran, and the share of the
    time the host gave to other guests (steal). Nothing on a system without ``/proc/stat``."""

    def __init__(self) -> None:
        super().__init__(name="machine-cpu", daemon=True)
        self.samples: list[tuple[float, int, int, int]] = []  # (time, busy, steal, all) ticks
        self._done = threading.Event()

    @staticmethod
    def _read() -> tuple[int, int, int] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        return user + nice + system + irq + softirq, steal, sum(fields)

    def run(self) -> None:
        while not self._done.is_set():
            if (counters := self._read()) is None:
                return
            self.samples.append((time.time(), *counters))
            self._done.wait(0.25)

    def stop(self) -> None:
        self._done.set()

    def between(self, start: datetime, end: datetime) -> tuple[float, float] | None:
        """(CPU seconds spent, steal share) between two times, or None (too short to tell)."""
        inside = [x for x in self.samples if start.timestamp() <= x[0] <= end.timestamp()]
        if len(inside) < 2:
            return None
        (_, busy0, steal0, all0), (_, busy1, steal1, all1) = inside[0], inside[-1]
        return (busy1 - busy0) / os.sysconf("SC_CLK_TCK"), (steal1 - steal0) / max(1, all1 - all0)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- writing -----------------------------------------------------------------------------------


def _create_all(node: Node, path: str, bodies: list[dict[str, Any]], what: str) -> list[int]:
    """POST every body to ``path`` as the node's ``admin``, from four threads (a client each);
    the ids made, in no particular order (a failed thread stops early: check the count)."""
    ids: list[int] = []
    lock = threading.Lock()

    def make(start: int) -> None:
        api = Api(node.url, "admin", timeout=30)
        try:
            for body in bodies[start::4]:
                r = api.call_until("POST", path, json=body, timeout=60)
                if r.status_code != 201:
                    raise HarnessError(f"{what}: {r.status_code} {r.text}")
                with lock:
                    ids.append(int(r.json()["id"]))
        finally:
            api.close()

    threads = [threading.Thread(target=make, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids


def _seed(node: Node, count: int) -> list[int]:
    """``count`` enterprises at the county, through its API; their ids."""
    from anjian.enterprises.rules import compose_uscc

    bodies = [
        {
            "uscc": compose_uscc(COUNTY, f"MAB{i:05d}"),
            "name": f"基准测试企业{i}",
            "division_code": COUNTY,
            "supervision_category": "hazardous_chemicals",
            "legal_rep_phone": "13900001111",
        }
        for i in range(count)
    ]
    ids = _create_all(node, "/api/v1/enterprises", bodies, "seed")
    if len(ids) != count:
        raise HarnessError(f"seeded {len(ids)} of {count} enterprises")
    return ids


class SteadyLoad:
    """``writers`` threads that together send ``rate`` PATCHes a second to the county, each on
    its own schedule (a late request is sent at once, never skipped)."""

    def __init__(self, node: Node, ids: list[int], rate: float, writers: int) -> None:
        self.node, self.ids, self.rate, self.writers = node, ids, rate, writers
        self.stop = threading.Event()
        self.done = 0
        self.failed = 0
        self._lock = threading.Lock()

    def _run(self, index: int, t0: float) -> None:
        rng = random.Random(index)
        api = Api(self.node.url, "admin", timeout=30)
        n = 0
        try:
            while not self.stop.is_set():
                due = t0 + (n * self.writers + index) / self.rate
                wait = due - time.monotonic()
                if wait > 0 and self.stop.wait(wait):
                    break
                ent = rng.choice(self.ids)
                value = rng.randrange(1_000_000)
                try:
                    r = api.call(
                        "PATCH",
                        f"/api/v1/enterprises/{ent}",
                        json={"address": f"基准地址{value}", "employees": value % 5000},
                    )
                    ok = r.status_code == 200
                except httpx.TransportError:
                    ok = False
                with self._lock:
                    if ok:
                        self.done += 1
                    else:
                        self.failed += 1
                n += 1
        finally:
            api.close()

    def run(self, seconds: float) -> float:
        """Write for ``seconds``; returns the elapsed time."""
        t0 = time.monotonic()
        threads = [
            threading.Thread(target=self._run, args=(i, t0), daemon=True)
            for i in range(self.writers)
        ]
        for t in threads:
            t.start()
        self.stop.wait(seconds)
        self.stop.set()
        for t in threads:
            t.join(timeout=60)
        return time.monotonic() - t0


# An alarm storm: what a county carries at the highest rate among synced records. Every point
# reports once a second and swings across its 二级 threshold each second, so each reading raises
# or ends an alarm (no delay, no dead band).
STORM_ENTITIES = ("alarm", "monitoring_point")
STORM_LOW, STORM_HIGH, STORM_H = 20.0, 60.0, 50.0


def _storm_points(node: Node, count: int) -> tuple[str, list[str]]:
    """An enterprise at the county with ``count`` temperature points (二级 above 50 °C), made
    through the API; its gateway token and the points' codes."""
    from anjian.enterprises.rules import compose_uscc

    uscc = compose_uscc(COUNTY, "MAALARM1")
    api = Api(node.url, "admin", timeout=30)
    try:
        r = api.call_until(
            "POST",
            "/api/v1/enterprises",
            json={
                "uscc": uscc,
                "name": "基准测试化工有限公司",
                "division_code": COUNTY,
                "supervision_category": "hazardous_chemicals",
            },
            timeout=60,
        )
        if r.status_code != 201:
            raise HarnessError(f"storm enterprise: {r.status_code} {r.text}")
        enterprise = int(r.json()["id"])
    finally:
        api.close()
    codes = [f"TT-{i:04d}" for i in range(count)]
    bodies = [
        {
            "enterprise_id": enterprise,
            "code": code,
            "kind": "temperature",
            "unit": "°C",
            "h": STORM_H,
            "dead_band": 0,
            "delay_s": 0,
        }
        for code in codes
    ]
    _create_all(node, "/api/v1/monitoring/points", bodies, "storm point")
    token = node.cli("gateway", "token", uscc).strip().splitlines()[-1]
    return token, codes


class AlarmStorm:
    """A gateway posting every point's reading once a second over HTTP
    (``POST /api/v1/monitoring/readings``) in ``slices`` batches a second, the values swinging
    across the threshold each second: about one synced change per point per second."""

    def __init__(self, node: Node, token: str, codes: list[str], slices: int = 10) -> None:
        self.node, self.token, self.codes, self.slices = node, token, codes, slices
        self.posts = 0
        self.failed = 0

    def run(self, seconds: float) -> float:
        """Post for ``seconds``; returns the elapsed time."""
        client = httpx.Client(
            base_url=self.node.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        t0 = time.monotonic()
        tick = 0
        try:
            while (now := time.monotonic()) - t0 < seconds:
                due = t0 + tick / self.slices
                if due > now:
                    time.sleep(due - now)
                second, part = divmod(tick, self.slices)
                value = STORM_HIGH if second % 2 else STORM_LOW
                batch = [{"point": c, "value": value} for c in self.codes[part :: self.slices]]
                try:
                    r = client.post(
                        "/api/v1/monitoring/readings",
                        json={"ts": int(time.time() * 1000), "readings": batch},
                    )
                    ok = r.status_code == 200
                except httpx.TransportError:
                    ok = False
                self.posts += ok
                self.failed += not ok
                tick += 1
        finally:
            client.close()
        return time.monotonic() - t0


def _make_backlog(node: Node, ids: list[int], count: int, batch: int = 200) -> float:
    """``count`` changes at the county through the enterprise service (what the API does, minus
    HTTP), ``batch`` per transaction; returns changes/s."""
    from node_env import in_process

    with in_process(node.env()):
        from anjian import db
        from anjian.core.audit.service import Actor
        from anjian.core.scope import Scope
        from anjian.enterprises.schemas import EnterpriseUpdate
        from anjian.enterprises.service import update_enterprise

        actor = Actor(user_id=None, username="bench", ip="127.0.0.1", division_code=COUNTY)
        scope = Scope.for_division(None, "admin", [COUNTY])
        rng = random.Random(7)
        t0 = time.monotonic()
        made = 0
        while made < count:
            n = min(batch, count - made)
            with db.unit_of_work() as s:
                for _ in range(n):
                    value = rng.randrange(1_000_000_000)
                    update_enterprise(
                        s,
                        actor,
                        scope,
                        rng.choice(ids),
                        EnterpriseUpdate(address=f"积压地址{value}", employees=value % 5000),
                    )
            made += n
        return count / (time.monotonic() - t0)


# --- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="anjian-bench-sync-"))
    _log(f"nodes under {root} ({args.backend}, forwarder interval {args.interval}s)")
    try:
        return _run(root, args)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _run(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    with Network(
        root,
        args.backend,
        topology=CHAIN_TOPOLOGY,
        interval=args.interval,
        users={COUNTY: [("admin", "admin")]},
    ) as net:
        net.start()
        county, city, national = net.node(COUNTY), net.node(CITY), net.node(NATIONAL)
        _log(f"seeding {args.enterprises} enterprises at {COUNTY}")
        ids = _seed(county, args.enterprises)
        wait_until(
            lambda: _count_since(national, datetime(2000, 1, 1, tzinfo=UTC))[0] >= args.enterprises,
            timeout=120,
            what="the seed at the national node",
        )

        # 1. steady load
        load: SteadyLoad | AlarmStorm
        if args.load == "alarms":
            token, codes = _storm_points(county, args.points)
            entities = STORM_ENTITIES
            _log(f"alarm storm: {len(codes)} points swinging every second for {args.seconds:g}s")
            load = AlarmStorm(county, token, codes)
        else:
            entities = ("enterprise",)
            _log(
                f"steady load: {args.rate:g} changes/s for {args.seconds:g}s, {args.writers} writers"
            )
            load = SteadyLoad(county, ids, args.rate, args.writers)
        start = datetime.now(UTC)
        elapsed = load.run(args.seconds)
        written = _outbox(county, entities, since=start)
        write_rate = len(written) / elapsed
        _log(f"wrote {len(written)} changes ({write_rate:.0f}/s), waiting for them at {NATIONAL}")
        deadline = time.monotonic() + max(60.0, args.seconds * 2)
        arrived: dict[tuple[str, int], datetime] = {}
        while time.monotonic() < deadline:
            arrived = _outbox(national, entities, since=start)
            if all(k in arrived for k in written):
                break
            time.sleep(0.5)
        warmup = start.timestamp() + min(2.0, args.seconds / 10)
        lags = [
            (arrived[k] - at).total_seconds()
            for k, at in written.items()
            if k in arrived and at.timestamp() >= warmup
        ]
        missing = sum(1 for k in written if k not in arrived)

        # 2. catch-up after a backlog
        proxy = county.proxy
        assert proxy is not None
        _log(f"cutting {COUNTY}'s link; making a backlog of {args.backlog} changes")
        proxy.cut()
        cut_at, cut_since = time.monotonic(), datetime.now(UTC)
        if isinstance(load, AlarmStorm):
            # the steady load goes on while the link is down: the backlog it leaves
            load.run(args.backlog / max(write_rate, 1.0))
            backlog = _count_since(county, cut_since, entities)[0]
            backlog_rate = backlog / (time.monotonic() - cut_at)
        else:
            backlog = args.backlog
            backlog_rate = _make_backlog(county, ids, backlog)
        # Hold the cut long enough for the forwarder's back-off to reach its ceiling, as after
        # a long outage.
        hold = max(0.0, args.min_cut - (time.monotonic() - cut_at))
        if hold:
            _log(f"backlog made ({backlog_rate:.0f}/s); link stays cut {hold:.0f}s more")
            time.sleep(hold)
        cut_s = time.monotonic() - cut_at
        head = int(national.query("SELECT max(seq) FROM outbox")[0][0] or 0)
        city_head = int(city.query("SELECT max(seq) FROM outbox")[0][0] or 0)
        meter = MachineCpu()
        meter.start()
        restored = datetime.now(UTC)
        proxy.restore()
        _log(f"link restored after {cut_s:.0f}s; draining")
        timeout = 120 + backlog / 200
        _n, first, last = wait_until(
            lambda: (r := _count_since(national, restored, entities, head))[0] >= backlog and r,
            timeout=timeout,
            interval=0.5,
            what=f"{backlog} changes at the national node",
        )
        meter.stop()
        assert first is not None and last is not None
        cpu = meter.between(first, last)
        drain_s = (last - first).total_seconds()
        resume_wait = (first - restored).total_seconds()
        # the first hop alone: how fast the county's backlog reached its parent, while the
        # parent was passing it on up at the same time (all on this one machine)
        _n, city_first, city_last = _count_since(city, restored, entities, city_head)
        assert city_first is not None and city_last is not None
        first_hop_s = (city_last - city_first).total_seconds()

    return {
        "bench": "sync",
        "backend": args.backend,
        "interval_s": args.interval,
        "load": args.load,
        "target_rate_per_s": args.points if args.load == "alarms" else args.rate,
        "write_rate_per_s": round(write_rate, 1),
        "writes": len(written),
        "write_failures": load.failed,
        "lag_samples": len(lags),
        "lag_missing": missing,
        "lag_p50_s": round(_percentile(lags, 50), 3),
        "lag_p99_s": round(_percentile(lags, 99), 3),
        "lag_max_s": round(max(lags), 3) if lags else None,
        "lag_mean_s": round(statistics.fmean(lags), 3) if lags else None,
        "backlog_changes": backlog,
        "backlog_made_per_s": round(backlog_rate, 1),
        "cut_s": round(cut_s, 1),
        "resume_wait_s": round(resume_wait, 2),
        "drain_s": round(drain_s, 2),
        "catchup_per_s": round(backlog / drain_s, 1) if drain_s > 0 else None,
        "catchup_incl_wait_per_s": round(backlog / (drain_s + resume_wait), 1),
        "catchup_first_hop_per_s": round(backlog / first_hop_s, 1) if first_hop_s > 0 else None,
        # the machine while the drain ran: cores busy, CPU per change (all processes), steal
        "drain_cpu_cores": round(cpu[0] / drain_s, 2) if cpu and drain_s > 0 else None,
        "drain_cpu_us_per_change": round(cpu[0] / backlog * 1e6) if cpu else None,
        "drain_steal_pct": round(cpu[1] * 100, 1) if cpu else None,
    }


def _table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="sync county → city → province → national", show_header=True)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    targets = {"lag_p99_s": "≤ 5", "write_rate_per_s": "1000", "catchup_per_s": "≥ 10000"}
    for key, value in result.items():
        table.add_row(key, str(value), targets.get(key, ""))
    Console(stderr=False).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--load",
        choices=("alarms", "enterprises"),
        default="alarms",
        help="steady load: an alarm storm through HTTP ingest, or enterprise PATCHes",
    )
    parser.add_argument(
        "--points", type=int, default=None, help="alarm storm: points (≈ changes/s)"
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="enterprise PATCHes/s")
    parser.add_argument("--seconds", type=float, default=None, help="steady-load duration")
    parser.add_argument("--writers", type=int, default=16, help="writer threads")
    parser.add_argument("--enterprises", type=int, default=None, help="enterprises to change")
    parser.add_argument("--backlog", type=int, default=None, help="changes made while cut off")
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="ANJIAN_SYNC_INTERVAL_S of every node (default: the setting's default, 1.0)",
    )
    parser.add_argument(
        "--min-cut",
        type=float,
        default=None,
        help="keep the link cut at least this long (s), so the back-off reaches its ceiling",
    )
    parser.add_argument("--keep", action="store_true", help="keep the nodes' directory")
    args = parser.parse_args()
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    args.enterprises = args.enterprises or (40 if args.quick else 200)
    args.points = args.points or (300 if args.quick else 1000)
    args.backlog = args.backlog or (3_000 if args.quick else 60_000)
    if args.min_cut is None:
        args.min_cut = 5.0 if args.quick else 60.0
    if args.backend == "postgres" and not pg_reachable():
        sys.exit("PostgreSQL unreachable (ANJIAN_TEST_PG)")
    result = run(args)
    _table(result)
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
