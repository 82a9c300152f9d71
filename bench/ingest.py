"""MQTT ingest end to end: publish over MQTT → stored → alarms evaluated, on PostgreSQL and on
SQLite, against the raw limits of this machine (the ingest issue).

The node under test is a set of real processes on 127.0.0.1: ``anjian serve`` for the API (its
own MQTT ingest off) and ``anjian ingest --workers N`` (N worker processes; ``--ingest-procs``
such commands) subscribed to a Mosquitto of the benchmark's own (``max_queued_messages`` large, so nothing is dropped for
a slow subscriber; persistence off). The database is a fresh PostgreSQL database (created on
``--pg-url`` and dropped at the end) or a temporary SQLite file, set up with ``anjian init``;
``--enterprises`` enterprises (100) with ``--points`` points (10,000: pressure, set points
ll/l/h/hh) in equal blocks of gateways — a realistic spread: a transaction of many gateways
touches many enterprises' rows — and one alarm point are made through
:func:`anjian.monitoring.points.create_point`, and an official is added with ``anjian user
add``.

Publishers are separate processes (paho-mqtt, QoS 1). Each owns some gateways of 100 points;
a message is one scan of a gateway, a batch of 100 readings at one time stamp, so (point, ts)
is unique; values lie inside the band except a rare excursion above H (1 reading in 10,000),
which raises and ends a real alarm. For each backend:

1. **saturated**: the publishers go as fast as the node takes the readings, at most
   ``--window`` messages ahead of what is stored (read from the database every 20 ms; default
   2 × ``BATCH_MESSAGES`` of the worker per worker, so a worker always finds a full
   transaction's worth waiting). ``readings_per_s`` = rows stored during ``--seconds`` after a
   warm-up (``count(*)`` at both ends, each just after a commit);
2. **paced**: the publishers send at a fixed ``--paced-fraction`` (0.8) of that rate, and
   the alarm latency is measured: every 0.5 s one reading above HH of the alarm point is
   published; latency = publish → ``GET /api/v1/alarms`` (as the official) lists the alarm.
   Then a back-to-normal reading, until the API shows the alarm ended, so each crossing raises
   a new alarm. The alarms table is read every 10 ms to know when to ask the API (asking the
   API 50 times a second took a fifth of a core from the node); the time is always that of the
   API's answer. (No probe in the saturated phase: there it would only measure the queue the
   window allows.)

Peak RSS is VmHWM of the node's processes (ingest and API, summed). In the same run the raw
limits: the **broker** alone (the same publishers and window, a plain paho subscriber process
per ingest worker with the same shared subscription, no processing) and **PostgreSQL COPY**
(psycopg 3 binary COPY of the same rows, 20,000 per transaction like one ingest transaction,
into the partitioned ``readings`` table of another fresh database after ``anjian init``).
CPU use of each party during the saturated phase is shown too: on 2 cores the publishers,
broker, node and database share the machine.

Prints a table with the ratios and, last, one JSON line. Targets (the issue, 2 cores):
≥ 100,000 readings/s into PostgreSQL, ≥ 60 % of the COPY limit, alarm p99 ≤ 1 s, RSS ≤ 400 MB.
The figures are what this machine reaches; nothing is tuned to the targets. ``--quick`` runs
20 s per figure (60 s otherwise).

    .venv/bin/python bench/ingest.py [--quick] [--skip-sqlite] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Helpers shared with the tests (tests/node_env.py, tests/samples.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchkit import ANJIAN, Database
from benchkit import cli as _cli
from benchkit import free_port as _free_port
from benchkit import log as _log
from benchkit import percentile as _percentile
from benchkit import reachable as _reachable
from benchkit import rounded as _round
from benchkit import wait as _wait

from node_env import in_process

PG_ADMIN = os.environ.get(
    "ANJIAN_BENCH_PG",
    os.environ.get("ANJIAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
HOST = "127.0.0.1"
NODE_DIVISION = "140000"  # 山西省
COUNTY = "140622"  # 应县
PASSWORD = "Anjian#2026"
OFFICIAL = "bench"
GROUP = 100  # readings per message: one scan of a gateway's 100 points
LOAD_SET_POINTS = {"ll": 0.2, "l": 0.4, "h": 1.6, "hh": 1.8}  # pressure, MPa
EXCURSION = 1e-4  # share of load readings above H
ALARM_CODE = "ALARM-1"
ALARM_SET_POINTS = {"h": 8.0, "hh": 9.0}  # tank level, m
ALARM_HIGH, ALARM_NORMAL = 9.5, 5.0
ALARM_INTERVAL_S = 0.5
ALARM_POLL_S = 0.01  # the alarms table is read this often
ALARM_TIMEOUT_S = 60.0
HORIZON_MS = 3_600_000  # the gateways' clocks never run further than this past base_ts
COPY_CHUNK = 20_000  # rows per COPY transaction (what one ingest transaction holds at most)


def _code(index: int) -> str:
    return f"P{index:04d}"


def _value_table(seed: int) -> list[str]:
    """Reading values as JSON text, cycled by the publishers and the COPY: inside the band
    (0.45–1.55 around 1.0) except a share ``EXCURSION`` at 1.7 (above H, below HH)."""
    rng = random.Random(seed)
    size = 100_003  # prime: a point meets different values on every pass
    table = []
    for _ in range(size):
        if rng.random() < EXCURSION:
            table.append("1.7")
        else:
            table.append(f"{min(1.55, max(0.45, rng.gauss(1.0, 0.1))):.4f}")
    return table + table[:GROUP]  # so that any slice of GROUP values is contiguous


# --- Mosquitto ---------------------------------------------------------------------------------


class Mosquitto:
    """A Mosquitto of the benchmark's own on a free port: QoS 1 messages for a slow subscriber
    are queued (up to ``max_queued_messages``), never dropped; no persistence."""

    def __init__(self, root: Path, inflight: int) -> None:
        self.root, self.inflight = root, inflight
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Mosquitto:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} {HOST}\nallow_anonymous true\npersistence false\n"
            f"max_queued_messages 1000000\nmax_inflight_messages {self.inflight}\n"
        )
        self.proc = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "mosquitto.log").open("ab"),
        )
        _wait(lambda: _reachable(self.port), 10, "mosquitto to listen")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# --- publishers and the subscriber of the broker limit ------------------------------------------


@dataclass
class Shared:
    """Counters shared by the benchmark and its publisher processes (each written by one)."""

    published: list[Any]  # per publisher: messages published since the start of the run
    consumed: Any  # messages taken by the other end (stored by the node, or received)
    seqs: Any  # per gateway group: the next sequence number (ts = base + seq)
    stop: Any
    go: Any


@dataclass(frozen=True)
class PubConfig:
    """What one publisher process sends, and how fast."""

    index: int
    port: int
    topics: tuple[str, ...]  # per group of ``groups``: its enterprise's topic
    groups: tuple[int, ...]
    base_ts: int
    window: int  # at most this many messages published and not yet consumed (all publishers)
    rate: float  # messages/s of this publisher; 0 = as fast as the window allows
    seed: int


def _publisher(cfg: PubConfig, shared: Shared, ready: Any) -> None:
    """One publisher process: scans of its gateway groups, round robin, QoS 1."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{cfg.index}-{uuid.uuid4().hex[:6]}"
    )
    client.max_inflight_messages_set(100)
    client.connect(HOST, cfg.port, keepalive=60)
    client.loop_start()
    values = _value_table(cfg.seed)
    cycle = len(values) - GROUP
    prefixes = {
        g: [f'{{"point":"{_code(g * GROUP + i)}","value":' for i in range(GROUP)]
        for g in cfg.groups
    }
    mine = shared.published[cfg.index]
    everyone = shared.published
    ready.set()
    shared.go.wait()
    topic_of = dict(zip(cfg.groups, cfg.topics, strict=True))
    n, k = 0, (cfg.index * 7919) % cycle
    t0 = time.monotonic()
    last = None
    while not shared.stop.is_set():
        if sum(v.value for v in everyone) - shared.consumed.value >= cfg.window:
            time.sleep(0.001)
            continue
        if cfg.rate > 0:
            wait = t0 + n / cfg.rate - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, 0.05))
                continue
        g = cfg.groups[n % len(cfg.groups)]
        seq = shared.seqs[g]
        body = ",".join(
            [p + v + "}" for p, v in zip(prefixes[g], values[k : k + GROUP], strict=True)]
        )
        batch = f'{{"ts":{cfg.base_ts + seq},"readings":[{body}]}}'
        last = client.publish(topic_of[g], batch, qos=1)
        shared.seqs[g] = seq + 1
        mine.value += 1
        n += 1
        k = (k + GROUP) % cycle
    if last is not None:
        with contextlib.suppress(Exception):
            last.wait_for_publish(timeout=30)
    client.disconnect()
    client.loop_stop()


def _subscriber(port: int, topic: str, group: str, clients: int, counts: Any, ready: Any) -> None:
    """The broker limit's subscriber process: ``clients`` paho clients in the shared group,
    QoS 1 (acknowledged as received), counting messages and doing nothing else."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    subscribed = threading.Semaphore(0)
    made = []
    for i in range(clients):

        def on_message(_c: Any, _u: Any, _m: Any, i: int = i) -> None:
            counts[i] += 1

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{i}-{uuid.uuid4().hex[:6]}"
        )
        client.on_message = on_message
        client.on_subscribe = lambda *_a: subscribed.release()
        client.on_connect = lambda c, *_a: c.subscribe(f"$share/{group}/{topic}", qos=1)
        client.connect(HOST, port, keepalive=60)
        client.loop_start()
        made.append(client)
    for _ in made:
        subscribed.acquire(timeout=10)
    ready.set()
    # Runs until the benchmark terminates the process.
    threading.Event().wait()


class Load:
    """The publisher processes of one run, restarted for each phase with the same counters, so
    that gateway sequences (and the window) carry on from phase to phase."""

    def __init__(
        self,
        port: int,
        topics: list[str],
        publishers: int,
        window: int,
        base_ts: int,
    ) -> None:
        self.ctx = mp.get_context("spawn")
        self.port, self.topics, self.window, self.base_ts = port, topics, window, base_ts
        self.groups = groups = len(topics)
        self.count = max(1, min(publishers, groups))
        self.shared = Shared(
            published=[self.ctx.RawValue("q", 0) for _ in range(self.count)],
            consumed=self.ctx.RawValue("q", 0),
            seqs=self.ctx.RawArray("q", groups),
            stop=self.ctx.Event(),
            go=self.ctx.Event(),
        )
        self.procs: list[Any] = []

    def published(self) -> int:
        return sum(v.value for v in self.shared.published)

    def backlog(self) -> int:
        return self.published() - self.shared.consumed.value

    def start(self, rate: float = 0.0) -> None:
        """Start publishing: ``rate`` messages/s in all (0: as fast as the window allows)."""
        self.shared.stop.clear()
        self.shared.go.clear()
        readies = []
        for i in range(self.count):
            mine = tuple(g for g in range(self.groups) if g % self.count == i)
            cfg = PubConfig(
                index=i,
                port=self.port,
                topics=tuple(self.topics[g] for g in mine),
                groups=mine,
                base_ts=self.base_ts,
                window=self.window,
                rate=rate * len(mine) / self.groups,
                seed=1000 + i,
            )
            ready = self.ctx.Event()
            proc = self.ctx.Process(
                target=_publisher, args=(cfg, self.shared, ready), name=f"bench-pub-{i}"
            )
            proc.start()
            readies.append(ready)
            self.procs.append(proc)
        for ready in readies:
            if not ready.wait(30):
                raise RuntimeError("a publisher did not connect")
        self.shared.go.set()

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def stop(self) -> None:
        self.shared.stop.set()
        for proc in self.procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.procs.clear()


class Feedback(threading.Thread):
    """Copies the consumer's progress into the shared counter the publishers' window reads."""

    def __init__(self, load: Load, progress: Callable[[], int], interval: float = 0.05) -> None:
        super().__init__(name="bench-feedback", daemon=True)
        self.load, self.progress, self.interval = load, progress, interval
        self.stopping = threading.Event()
        self.errors = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.load.shared.consumed.value = self.progress()
            except Exception as exc:
                self.errors += 1
                if self.errors == 1:
                    _log(f"progress query failed (retried): {exc!r}")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


# --- CPU and memory ----------------------------------------------------------------------------


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of a live process, MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class CpuMeter:
    """CPU seconds used by named groups of processes between two snapshots."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def snapshot(self) -> dict[str, dict[int, float]]:
        import psutil

        snap: dict[str, dict[int, float]] = {}
        for name, pids in self.groups.items():
            seen: dict[int, float] = {}
            for pid in pids():
                try:
                    t = psutil.Process(pid).cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                seen[pid] = t.user + t.system
            snap[name] = seen
        return snap

    @staticmethod
    def cores(
        a: dict[str, dict[int, float]], b: dict[str, dict[int, float]], seconds: float
    ) -> dict[str, float]:
        """Cores used by each group over ``seconds`` (1.0 = one core busy all the time)."""
        out = {}
        for name, after in b.items():
            before = a.get(name, {})
            used = sum(t - before.get(pid, 0.0) for pid, t in after.items())
            out[name] = round(used / seconds, 2)
        return out


def _postgres_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def _mosquitto_pids(mq: Mosquitto) -> list[int]:
    return [mq.proc.pid] if mq.proc is not None else []


# --- databases and the node --------------------------------------------------------------------


def _node_env(
    db: Database, data_dir: Path, mqtt_port: int, http_port: int, tag: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
    env.update(
        {
            "ANJIAN_DATA_DIR": str(data_dir),
            "ANJIAN_DATABASE_URL": db.url,
            "ANJIAN_NODE_DIVISION": NODE_DIVISION,
            "ANJIAN_MFA_REQUIRED_ROLES": "[]",
            "ANJIAN_SYNC_FORWARDER": "false",
            "ANJIAN_BACKGROUND_JOBS": "false",
            "ANJIAN_MQTT_URL": f"mqtt://{HOST}:{mqtt_port}",
            "ANJIAN_MQTT_SHARED_GROUP": f"bench-{tag}",
            "ANJIAN_MQTT_CLIENT_ID": f"bench-{tag}",
            "ANJIAN_HOST": HOST,
            "ANJIAN_PORT": str(http_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _uscc(enterprise: int = 0) -> str:
    """The USCC of the benchmark's ``enterprise``-th enterprise (the first is the tests' 应县
    mine)."""
    from anjian.enterprises.rules import compose_uscc

    return compose_uscc(COUNTY, f"MA0K{enterprise + 1:04d}")


def _topic(enterprise: int = 0) -> str:
    return f"anjian/v1/{_uscc(enterprise)}/readings"


def _topics(args: argparse.Namespace) -> list[str]:
    """Each gateway group's topic: the groups fall to the enterprises in equal blocks."""
    return [_topic(g * args.enterprises // args.groups) for g in range(args.groups)]


def _seed(env: dict[str, str], points: int, enterprises: int) -> dict[str, int]:
    """The ``enterprises`` enterprises, ``points`` load points in equal blocks of gateway
    groups among them and the alarm point (the first enterprise's), made in-process through the
    services; point code → id."""
    with in_process(env):
        import anjian.models  # noqa: F401  (the synced entities the services write)
        from anjian.core.audit.service import SYSTEM
        from anjian.core.scope import Scope
        from anjian.db import unit_of_work
        from anjian.enterprises.service import create_enterprise
        from anjian.monitoring.points import create_point
        from anjian.monitoring.schemas import PointCreate
        from samples import mine_enterprise

        everything = Scope.for_division(None, "admin", ["000000"])
        ids: dict[str, int] = {}
        owners = []
        with unit_of_work() as s:
            # the first is the personas' 应县 mine of the tests (its USCC is _uscc(0))
            mine = mine_enterprise()
            for e in range(enterprises):
                body = mine.model_copy(
                    update={"uscc": _uscc(e), "name": mine.name + (f"{e + 1}号井" if e else "")}
                )
                owners.append(create_enterprise(s, SYSTEM, everything, body).id)
            enterprise_id = owners[0]
        groups = points // GROUP
        for start in range(0, points, 250):
            with unit_of_work() as s:
                for i in range(start, min(points, start + 250)):
                    p = create_point(
                        s,
                        SYSTEM,
                        everything,
                        PointCreate(
                            enterprise_id=owners[(i // GROUP) * enterprises // groups],
                            code=_code(i),
                            kind="pressure",
                            **LOAD_SET_POINTS,
                        ),
                    )
                    s.flush()
                    ids[p.code] = p.id
        with unit_of_work() as s:
            p = create_point(
                s,
                SYSTEM,
                everything,
                PointCreate(
                    enterprise_id=enterprise_id,
                    code=ALARM_CODE,
                    kind="tank_level",
                    **ALARM_SET_POINTS,
                ),
            )
            s.flush()
            ids[p.code] = p.id
        return ids


class Node:
    """``anjian serve`` (API, MQTT ingest off) and ``procs`` × ``anjian ingest --workers N``."""

    def __init__(
        self, env: dict[str, str], root: Path, procs: int, workers: int, threads: int
    ) -> None:
        self.env, self.root, self.procs, self.workers = env, root, procs, workers
        self.threads = threads
        self.api: subprocess.Popen[bytes] | None = None
        self.ingest: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.env['ANJIAN_PORT']}"

    def _log_path(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def __enter__(self) -> Node:
        import httpx

        self.root.mkdir(parents=True, exist_ok=True)
        self.api = subprocess.Popen(
            [ANJIAN, "serve"],
            env={**self.env, "ANJIAN_MQTT_INGEST": "false"},
            stdout=self._log_path("serve").open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.env["ANJIAN_DATA_DIR"],
        )

        def healthy() -> bool:
            if self.api is None or self.api.poll() is not None:
                raise RuntimeError(f"anjian serve exited; see {self._log_path('serve')}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        _wait(healthy, 60, "anjian serve")
        for j in range(self.procs):
            self.ingest.append(
                subprocess.Popen(
                    [
                        ANJIAN,
                        "ingest",
                        "--workers",
                        str(self.workers),
                        "--threads",
                        str(self.threads),
                    ],
                    env={
                        **self.env,
                        "ANJIAN_MQTT_CLIENT_ID": f"{self.env['ANJIAN_MQTT_CLIENT_ID']}-p{j}",
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=self._log_path(f"ingest-{j}").open("ab"),
                    cwd=self.env["ANJIAN_DATA_DIR"],
                )
            )
        for j in range(self.procs):
            _wait(
                lambda j=j: self.log(f"ingest-{j}").count("subscribed") >= self.workers,
                60,
                f"ingest process {j} subscribed",
            )
        return self

    def log(self, name: str) -> str:
        try:
            return self._log_path(name).read_text(errors="replace")
        except OSError:
            return ""

    def ingest_pids(self) -> list[int]:
        """The ingest processes and their worker processes (``--workers`` > 1)."""
        import psutil

        pids = []
        for p in self.ingest:
            pids.append(p.pid)
            with contextlib.suppress(psutil.NoSuchProcess):
                pids += [c.pid for c in psutil.Process(p.pid).children(recursive=True)]
        return pids

    def api_pids(self) -> list[int]:
        return [self.api.pid] if self.api is not None else []

    def peak_rss(self) -> dict[str, float]:
        """VmHWM of the node's processes (they must still run), MB."""
        ingest = [_vm_hwm_mb(pid) or 0.0 for pid in self.ingest_pids()]
        api = [_vm_hwm_mb(pid) or 0.0 for pid in self.api_pids()]
        return {"ingest": sum(ingest), "api": sum(api), "node": sum(ingest) + sum(api)}

    def log_counts(self) -> dict[str, int]:
        text = "".join(self.log(f"ingest-{j}") for j in range(self.procs))
        for line in text.splitlines():  # why, the first time: the figure alone does not say
            if "applied one by one" in line or " ERROR " in line:
                _log(f"ingest log: {line[:300]}")
                break
        return {
            "fallbacks": text.count("applied one by one"),
            "errors": text.count(" ERROR "),
        }

    def __exit__(self, *_exc: object) -> None:
        for proc in [*self.ingest, *([self.api] if self.api else [])]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.ingest, *([self.api] if self.api else [])]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# Per group: the rows of its lead point from its cut on, and the newest (PostgreSQL).
_PROGRESS = """
SELECT count(r.ts), max(r.ts)
FROM unnest(%s::integer[], %s::bigint[]) WITH ORDINALITY AS l(point_id, cut, k)
LEFT JOIN LATERAL (
    SELECT ts FROM readings WHERE point_id = l.point_id AND ts >= l.cut AND ts < %s
) r ON true
GROUP BY l.k ORDER BY l.k
"""


class Store:
    """Reads the node's database: rows stored, and how many messages each gateway group has
    stored. Every message of a group holds a reading of the group's first point at time
    ``base + seq``, so the rows of that point count the group's messages exactly, even when
    several workers commit them out of order; only the rows since the last time the sequence
    had no gap are counted, so each look is a short range scan of the primary key."""

    def __init__(self, db: Database, leads: list[int], base_ts: int, exclude: int) -> None:
        self.backend, self.base_ts, self.exclude = db.backend, base_ts, exclude
        if db.backend == "sqlite":
            import sqlite3

            self.conn: Any = sqlite3.connect(
                db.plain_url, timeout=30, isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA query_only = 1")
        else:
            import psycopg

            self.conn = psycopg.connect(db.plain_url, autocommit=True)
            # The harness's own looks must cost the database next to nothing: one prepared
            # statement planned once, as index probes whatever the statistics of a table
            # filling up say (planned from them, a look scanned whole partitions: 0.1–0.9 s),
            # never compiled by JIT.
            for setting in (
                "jit = off",
                "plan_cache_mode = force_generic_plan",
                "enable_seqscan = off",
                "enable_bitmapscan = off",
                "enable_hashjoin = off",
                "enable_mergejoin = off",
            ):
                self.conn.execute(f"SET {setting}")
        self.leads = leads
        self.looks, self.look_s = 0, 0.0  # the progress looks made and their time
        self.complete = [0] * len(leads)  # per group: every seq below this one is stored
        self._lock = threading.Lock()

    def _one(self, sql: str) -> tuple[Any, ...]:
        # fetchall() finishes the statement: an SQLite statement left open keeps its read
        # transaction, and every later query would see that old snapshot.
        with self._lock:
            cur = self.conn.execute(sql)
            try:
                return tuple(cur.fetchall()[0])
            finally:
                cur.close()

    def progress(self) -> int:
        """Messages stored so far."""
        started = time.perf_counter()
        cuts = [self.base_ts + c for c in self.complete]
        # Bounded on both sides, so the planner keeps one day's partition, not every later one
        # (an open range cost 1 ms of planning per group: a core of the database at 20 looks/s).
        horizon = self.base_ts + HORIZON_MS
        if self.backend == "sqlite":
            parts = []
            for pid, cut in zip(self.leads, cuts, strict=True):
                where = f"FROM readings WHERE point_id = {pid} AND ts >= {cut} AND ts < {horizon}"
                parts += [f"(SELECT count(*) {where})", f"(SELECT max(ts) {where})"]
            row = self._one("SELECT " + ", ".join(parts))
            looked = [(row[2 * g], row[2 * g + 1]) for g in range(len(cuts))]
        else:
            with self._lock:
                looked = self.conn.execute(_PROGRESS, (self.leads, cuts, horizon)).fetchall()
        total = 0
        for g, cut in enumerate(cuts):
            count, newest = int(looked[g][0]), looked[g][1]
            total += self.complete[g] + count
            if newest is not None and count == newest - cut + 1:  # no gap: move the cut on
                self.complete[g] = newest - self.base_ts + 1
        self.looks += 1
        self.look_s += time.perf_counter() - started
        return total

    def count(self) -> int:
        return int(self._one("SELECT count(*) FROM readings")[0])

    def load_rows(self) -> int:
        """Rows of the load points (the alarm probe's own excluded)."""
        sql = f"SELECT count(*) FROM readings WHERE point_id <> {self.exclude}"
        return int(self._one(sql)[0])

    def close(self) -> None:
        self.conn.close()


# --- alarm latency -----------------------------------------------------------------------------


class AlarmTable:
    """A direct reader of the node's alarms table (its own connection): tells the probe when
    to ask the API, so that the API is asked twice per alarm rather than polled constantly."""

    def __init__(self, db: Database, point_id: int) -> None:
        self.backend, self.point_id = db.backend, point_id
        if db.backend == "sqlite":
            import sqlite3

            self.conn: Any = sqlite3.connect(
                db.plain_url, timeout=30, isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA query_only = 1")
            self.mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(db.plain_url, autocommit=True)
            self.mark = "%s"

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql.replace("?", self.mark), params)
        try:
            return list(cur.fetchall())
        finally:
            cur.close()

    def newest(self, after: int) -> int | None:
        """The newest alarm of the alarm point with an id above ``after``."""
        rows = self._rows(
            "SELECT max(id) FROM alarms WHERE point_id = ? AND id > ?", (self.point_id, after)
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    def ended(self, alarm_id: int) -> bool:
        rows = self._rows("SELECT ended_at FROM alarms WHERE id = ?", (alarm_id,))
        return bool(rows) and rows[0][0] is not None

    def close(self) -> None:
        self.conn.close()


class AlarmProbe(threading.Thread):
    """Every ``ALARM_INTERVAL_S``: one reading above HH of the alarm point; the latency runs
    from its publication to the moment ``GET /api/v1/alarms`` (as the official) lists the
    alarm. Then one reading back inside the band, until ``GET /api/v1/alarms/{id}`` shows the
    alarm ended, so the next crossing raises a new alarm.

    When to ask the API is learnt from the alarms table, read every ``ALARM_POLL_S``: the API
    is asked once the row is committed (and again until it answers yes), so its polling does
    not load the node; the time taken is always that of the API's answer."""

    def __init__(self, port: int, topic: str, api_url: str, token: str, table: AlarmTable) -> None:
        super().__init__(name="bench-alarms", daemon=True)
        import httpx

        self.port, self.topic, self.table = port, topic, table
        self.http = httpx.Client(
            base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        self.stopping = threading.Event()
        self.latencies: list[float] = []  # ms, publish → listed by the API
        self.end_latencies: list[float] = []  # ms, publish → shown as ended by the API
        self.timeouts = 0
        self.api_calls = 0
        self.sent = 0  # readings published by the probe
        self._last_ts = 0
        self._last_id = table.newest(0) or 0

    def _ts(self) -> int:
        self._last_ts = max(int(time.time() * 1000), self._last_ts + 1)
        return self._last_ts

    def _wait(self, committed: Callable[[], Any], visible: Callable[[Any], bool]) -> Any:
        """Poll ``committed`` (the table) until it returns something, then ``visible`` (the
        API) until it agrees; what ``committed`` returned, or None after the time-out."""
        deadline = time.monotonic() + ALARM_TIMEOUT_S
        found = None
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if found is None:
                    found = committed()
                if found is not None:
                    self.api_calls += 1
                    if visible(found):
                        return found
            time.sleep(ALARM_POLL_S)
        return None

    def _listed(self, alarm_id: int, ts: int) -> bool:
        since = datetime.fromtimestamp((ts - 1000) / 1000, UTC).isoformat()
        r = self.http.get(
            "/api/v1/alarms", params={"kind": "threshold", "since": since, "size": 50}
        )
        r.raise_for_status()
        return any(
            item["id"] == alarm_id and item["point_code"] == ALARM_CODE
            for item in r.json()["items"]
        )

    def _shown_ended(self, alarm_id: int) -> bool:
        r = self.http.get(f"/api/v1/alarms/{alarm_id}")
        r.raise_for_status()
        return r.json()["ended_at"] is not None

    def run(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-alarm-{uuid.uuid4().hex[:6]}"
        )
        client.connect(HOST, self.port, keepalive=60)
        client.loop_start()
        try:
            while not self.stopping.is_set():
                t0 = time.monotonic()
                ts = self._ts()
                body = {"ts": ts, "readings": [{"point": ALARM_CODE, "value": ALARM_HIGH}]}
                client.publish(self.topic, json.dumps(body), qos=1)
                self.sent += 1
                alarm_id = self._wait(
                    lambda: self.table.newest(self._last_id),
                    lambda a, ts=ts: self._listed(a, ts),
                )
                if alarm_id is None:
                    self.timeouts += 1
                else:
                    self.latencies.append((time.monotonic() - t0) * 1000)
                    self._last_id = alarm_id
                self.stopping.wait(max(0.0, t0 + ALARM_INTERVAL_S - time.monotonic()))
                t1 = time.monotonic()
                body = {
                    "ts": self._ts(),
                    "readings": [{"point": ALARM_CODE, "value": ALARM_NORMAL}],
                }
                client.publish(self.topic, json.dumps(body), qos=1)
                self.sent += 1
                if alarm_id is not None:
                    ended = self._wait(
                        lambda a=alarm_id: a if self.table.ended(a) else None,
                        self._shown_ended,
                    )
                    if ended is None:
                        self.timeouts += 1
                    else:
                        self.end_latencies.append((time.monotonic() - t1) * 1000)
                self.stopping.wait(max(0.0, t1 + ALARM_INTERVAL_S - time.monotonic()))
        finally:
            client.disconnect()
            client.loop_stop()
            self.http.close()

    def stop(self) -> None:
        """Stop after the cycle under way (its alarm is still waited for)."""
        self.stopping.set()
        self.join(timeout=2 * ALARM_TIMEOUT_S + 10)

    def figures(self, prefix: str = "alarm") -> dict[str, Any]:
        return {
            f"{prefix}_samples": len(self.latencies),
            f"{prefix}_p50_ms": _round(_percentile(self.latencies, 50)),
            f"{prefix}_p99_ms": _round(_percentile(self.latencies, 99)),
            f"{prefix}_max_ms": _round(max(self.latencies) if self.latencies else None),
            f"{prefix}_end_p99_ms": _round(_percentile(self.end_latencies, 99)),
            f"{prefix}_timeouts": self.timeouts,
            f"{prefix}_api_calls": self.api_calls,
        }


def _login(api_url: str) -> str:
    import httpx

    r = httpx.post(
        f"{api_url}/api/v1/auth/login",
        json={"username": OFFICIAL, "password": PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


# --- the runs ----------------------------------------------------------------------------------


@dataclass
class Window:
    """What one measured window saw."""

    seconds: float = 0.0
    stored: int = 0
    published: int = 0  # messages
    cores: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def offered(self) -> float:
        return self.published * GROUP / self.seconds if self.seconds else 0.0


def _window(
    load: Load, count: Callable[[], int], seconds: float, meter: CpuMeter | None = None
) -> Window:
    """Rows stored (``count``) and messages published over about ``seconds`` (after the
    caller's warm-up), with the cores each party used. Both ends are taken just after the
    consumer made progress: rows arrive a transaction (up to 20,000 readings) at a time, and a
    window cut between two commits would be off by up to one of them."""
    _next_step(load)
    snap0 = meter.snapshot() if meter else {}
    t0 = time.monotonic()
    c0, p0 = count(), load.published()
    end = t0 + seconds
    while time.monotonic() < end:
        time.sleep(min(0.5, max(0.0, end - time.monotonic())))
    _next_step(load)
    t1 = time.monotonic()
    c1, p1 = count(), load.published()
    snap1 = meter.snapshot() if meter else {}
    w = Window(seconds=t1 - t0, stored=c1 - c0, published=p1 - p0)
    if meter:
        w.cores = CpuMeter.cores(snap0, snap1, t1 - t0)
    return w


def _next_step(load: Load, timeout: float = 10.0) -> None:
    """Wait until the consumer's progress moves (a commit), at most ``timeout``."""
    before = load.shared.consumed.value
    deadline = time.monotonic() + timeout
    while load.shared.consumed.value == before and time.monotonic() < deadline:
        time.sleep(0.002)


def _drain(load: Load, timeout: float) -> float | None:
    """Wait until everything published is consumed; seconds it took, None on time-out."""
    t0 = time.monotonic()
    while load.backlog() > 0:
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(0.1)
    return time.monotonic() - t0


def broker_limit(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """The same publishers and window into a plain subscriber process per ingest worker
    (shared subscription, QoS 1), no processing: messages received × 100 per second."""
    procs = args.ingest_procs * args.workers  # one per ingest worker process
    _log(
        f"broker limit: {args.publishers} publisher(s) → {procs} subscriber process(es), "
        f"{args.seconds:g}s"
    )
    with Mosquitto(root / "mq-broker", args.inflight) as mq:
        ctx = mp.get_context("spawn")
        subs, counts = [], []
        for j in range(procs):
            c = ctx.RawArray("q", 1)
            ready = ctx.Event()
            proc = ctx.Process(
                target=_subscriber,
                args=(mq.port, "anjian/v1/+/readings", "bench-limit", 1, c, ready),
                name=f"bench-sub-{j}",
            )
            proc.start()
            if not ready.wait(30):
                raise RuntimeError("the limit's subscriber did not subscribe")
            subs.append(proc)
            counts.append(c)
        received = lambda: sum(sum(c) for c in counts)  # noqa: E731
        load = Load(mq.port, _topics(args), args.publishers, args.window, _base_ts())
        feedback = Feedback(load, received, interval=0.01)
        feedback.start()
        meter = CpuMeter(
            {
                "publishers": load.pids,
                "broker": lambda: _mosquitto_pids(mq),
                "subscriber": lambda: [p.pid for p in subs if p.pid is not None],
            }
        )
        try:
            load.start()
            time.sleep(args.warmup)
            w = _window(load, lambda: received() * GROUP, args.seconds, meter)
        finally:
            load.stop()
            feedback.stop()
            for proc in subs:
                proc.terminate()
                proc.join(timeout=10)
    _log(f"broker limit: {w.rate:,.0f} readings/s (published {w.offered:,.0f}/s)")
    return {
        "broker_limit_per_s": round(w.rate),
        "broker_published_per_s": round(w.offered),
        "broker_cores": w.cores,
    }


def _base_ts() -> int:
    """Where the gateways' clocks start: an hour ago (whole seconds)."""
    return (int(time.time()) - 3600) * 1000


def copy_limit(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """psycopg 3 binary COPY of the same rows into the partitioned readings table of a fresh
    database, ``COPY_CHUNK`` rows per transaction, for ``--seconds``."""
    import psycopg
    from sqlalchemy import create_engine

    db = Database.create("postgres", root, args.pg_url, "copy")
    data_dir = root / "copy"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        env = _node_env(db, data_dir, 0, 0, "copy")
        _cli(env, "init")
        base = _base_ts()
        from anjian.monitoring.partitions import ensure_partitions

        engine = create_engine(db.url)
        ensure_partitions(engine, [base, base + 3_600_000])
        engine.dispose()
        values = [float(v) for v in _value_table(1000)]
        cycle = len(values) - GROUP
        seqs = [0] * args.groups
        _log(f"COPY limit: {args.seconds:g}s of {COPY_CHUNK:,}-row COPY transactions")
        with psycopg.connect(db.plain_url) as conn:
            conn.execute("SET synchronous_commit = on")  # as the ingest: the default
            n, k, stored, measured = 0, 0, 0, None
            t_start = time.monotonic()
            t_end = t_start + args.warmup + args.seconds
            while time.monotonic() < t_end:
                with conn.cursor() as cur:
                    sql = "COPY readings (point_id, ts, value, status) FROM STDIN (FORMAT BINARY)"
                    with cur.copy(sql) as copy:
                        copy.set_types(["int4", "int8", "float8", "int2"])
                        for _ in range(COPY_CHUNK // GROUP):
                            g = n % args.groups
                            ts = base + seqs[g]
                            seqs[g] += 1
                            first = g * GROUP + 1
                            for i in range(GROUP):
                                copy.write_row((first + i, ts, values[k + i], 0))
                            k = (k + GROUP) % cycle
                            n += 1
                conn.commit()
                now = time.monotonic()
                if measured is None and now - t_start >= args.warmup:
                    measured, stored = now, 0
                elif measured is not None:
                    stored += COPY_CHUNK
            elapsed = time.monotonic() - (measured or t_start)
        rate = stored / elapsed if elapsed > 0 else 0.0
    finally:
        db.drop()
    _log(f"COPY limit: {rate:,.0f} rows/s")
    return {"copy_limit_per_s": round(rate)}


def end_to_end(backend: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """The node on ``backend``: saturated throughput, then alarm latency at a paced load."""
    run_root = root / backend
    data_dir = run_root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.create(backend, run_root, args.pg_url, backend[:2])
    tag = f"{backend[:2]}-{uuid.uuid4().hex[:6]}"
    try:
        with Mosquitto(run_root / "mq", args.inflight) as mq:
            env = _node_env(db, data_dir, mq.port, _free_port(), tag)
            _log(
                f"{backend}: anjian init, {args.points} points of {args.enterprises} "
                f"enterprise(s), user {OFFICIAL}"
            )
            _cli(env, "init")
            ids = _seed(env, args.points, args.enterprises)
            _cli(
                env,
                "user",
                "add",
                OFFICIAL,
                "--role",
                "official",
                "--division",
                NODE_DIVISION,
                "--password-stdin",
                stdin=PASSWORD + "\n",
            )
            with Node(env, run_root, args.ingest_procs, args.workers, args.threads) as node:
                return _measure_node(backend, args, mq, node, db, ids)
    finally:
        db.drop()


def _measure_node(
    backend: str,
    args: argparse.Namespace,
    mq: Mosquitto,
    node: Node,
    db: Database,
    ids: dict[str, int],
) -> dict[str, Any]:
    topic = _topic(0)  # the alarm probe's: the first enterprise's
    base = _base_ts()
    leads = [ids[_code(g * GROUP)] for g in range(args.groups)]
    store = Store(db, leads, base, exclude=ids[ALARM_CODE])
    load = Load(mq.port, _topics(args), args.publishers, args.window, base)
    # With many gateway groups a look at the store is many index probes: look less often.
    feedback = Feedback(load, store.progress, interval=0.02 if args.groups <= 20 else 0.05)
    feedback.start()
    token = _login(node.url)
    meter = CpuMeter(
        {
            "ingest": node.ingest_pids,
            "api": node.api_pids,
            "database": _postgres_pids if backend == "postgres" else lambda: [],
            "broker": lambda: _mosquitto_pids(mq),
            "publishers": load.pids,
            "bench": lambda: [os.getpid()],
        }
    )
    drain_timeout = 120.0 if args.quick else 300.0
    out: dict[str, Any] = {"backend": backend}
    try:
        # 1. saturated (no alarm probe: its polling of the API would take CPU from the node)
        _log(f"{backend}: saturated, window {args.window} messages, {args.seconds:g}s")
        load.start()
        time.sleep(args.warmup)
        sat = _window(load, store.count, args.seconds, meter)
        load.stop()
        drained = _drain(load, drain_timeout)
        _log(
            f"{backend}: saturated {sat.rate:,.0f} readings/s stored "
            f"(published {sat.offered:,.0f}/s); drained in {_round(drained)} s; cores {sat.cores}"
        )
        out.update(
            readings_per_s=round(sat.rate),
            saturated_published_per_s=round(sat.offered),
            cores=sat.cores,
            saturated_drained_s=_round(drained),
            # the window's looks at the store run on the database too (counted in its cores)
            progress_look_ms=round(1000 * store.look_s / max(store.looks, 1), 2),
        )
        # 2. paced at a fraction of that rate, alarm latency
        rate = args.paced_fraction * sat.rate / GROUP
        _log(f"{backend}: paced at {rate * GROUP:,.0f} readings/s, {args.seconds:g}s")
        table = AlarmTable(db, ids[ALARM_CODE])
        probe = AlarmProbe(mq.port, topic, node.url, token, table)
        load.start(rate=rate)
        probe.start()
        time.sleep(args.warmup)
        paced = _window(load, store.count, args.seconds)
        backlog_end = load.backlog()
        load.stop()
        probe.stop()
        table.close()
        drained_paced = _drain(load, drain_timeout)
        rss = node.peak_rss()
        lost = load.published() * GROUP - store.load_rows()
        figures = probe.figures("alarm")
        _log(
            f"{backend}: paced stored {paced.rate:,.0f}/s of {paced.offered:,.0f}/s offered; "
            f"alarm p50 {figures['alarm_p50_ms']} ms p99 {figures['alarm_p99_ms']} ms "
            f"({figures['alarm_samples']} alarms); peak RSS {rss['node']:.0f} MB"
        )
        out.update(
            paced_offered_per_s=round(paced.offered),
            paced_stored_per_s=round(paced.rate),
            paced_backlog_end_messages=backlog_end,
            drained_s=_round(drained_paced),
            **figures,
            peak_rss_mb=round(rss["node"]),
            ingest_rss_mb=round(rss["ingest"]),
            api_rss_mb=round(rss["api"]),
            readings_stored=store.load_rows(),
            readings_lost=lost if drained_paced is not None else None,
            **node.log_counts(),
        )
        return out
    finally:
        load.stop()
        feedback.stop()
        store.close()


# --- report ------------------------------------------------------------------------------------


def _pct(a: float | None, b: float | None) -> float | None:
    return round(100 * a / b, 1) if a is not None and b else None


def summarise(
    args: argparse.Namespace,
    limits: dict[str, Any],
    pg: dict[str, Any] | None,
    lite: dict[str, Any] | None,
) -> dict[str, Any]:
    pg = pg or {}
    lite = lite or {}
    result: dict[str, Any] = {
        "bench": "ingest",
        "seconds": args.seconds,
        "batch": GROUP,
        "points": args.points,
        "enterprises": args.enterprises,
        "publishers": args.publishers,
        "ingest_procs": args.ingest_procs,
        "workers": args.workers,
        "threads": args.threads,
        "window_messages": args.window,
        "readings_per_s": pg.get("readings_per_s"),
        "copy_limit_per_s": limits.get("copy_limit_per_s"),
        "broker_limit_per_s": limits.get("broker_limit_per_s"),
        "pct_of_copy": _pct(pg.get("readings_per_s"), limits.get("copy_limit_per_s")),
        "pct_of_broker": _pct(pg.get("readings_per_s"), limits.get("broker_limit_per_s")),
        "alarm_p50_ms": pg.get("alarm_p50_ms"),
        "alarm_p99_ms": pg.get("alarm_p99_ms"),
        "peak_rss_mb": pg.get("peak_rss_mb"),
        "sqlite_readings_per_s": lite.get("readings_per_s"),
        "sqlite_pct_of_pg": _pct(lite.get("readings_per_s"), pg.get("readings_per_s")),
    }
    for key, value in pg.items():
        result.setdefault(key if key != "backend" else "pg_backend", value)
    for key, value in lite.items():
        if key != "backend":
            result.setdefault(f"sqlite_{key}", value)
    result.pop("pg_backend", None)
    result["broker_published_per_s"] = limits.get("broker_published_per_s")
    result["broker_cores"] = limits.get("broker_cores")
    return result


def _table(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def fmt(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, float) and v >= 1000:
            return f"{v:,.0f}"
        if isinstance(v, int) and abs(v) >= 10000:
            return f"{v:,}"
        if isinstance(v, dict):
            return " ".join(f"{k}={x}" for k, x in v.items())
        return str(v)

    table = Table(title="MQTT ingest end to end (publish → stored → alarms evaluated)")
    table.add_column("figure")
    table.add_column("PostgreSQL", justify="right")
    table.add_column("SQLite", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("readings/s stored, saturated", "readings_per_s", "≥ 100,000"),
        ("readings/s published, saturated", "saturated_published_per_s", ""),
        ("cores used, saturated", "cores", "2 in all"),
        ("the bench's progress look (ms)", "progress_look_ms", ""),
        ("backlog drained after it (s)", "saturated_drained_s", ""),
        ("paced load offered (readings/s)", "paced_offered_per_s", ""),
        ("paced load stored (readings/s)", "paced_stored_per_s", ""),
        ("paced backlog at the end (messages)", "paced_backlog_end_messages", ""),
        ("alarm latency p50, paced (ms)", "alarm_p50_ms", ""),
        ("alarm latency p99, paced (ms)", "alarm_p99_ms", "≤ 1,000"),
        ("alarm latency max, paced (ms)", "alarm_max_ms", ""),
        ("alarms measured, paced", "alarm_samples", ""),
        ("alarm end p99, paced (ms)", "alarm_end_p99_ms", ""),
        ("alarm probe time-outs", "alarm_timeouts", ""),
        ("API calls of the alarm probe", "alarm_api_calls", ""),
        ("peak RSS node = ingest + API (MB)", "peak_rss_mb", "≤ 400"),
        ("peak RSS ingest (MB)", "ingest_rss_mb", ""),
        ("peak RSS API (MB)", "api_rss_mb", ""),
        ("readings stored (load points)", "readings_stored", ""),
        ("readings lost", "readings_lost", "0"),
        ("batches applied one by one", "fallbacks", ""),
        ("errors in the ingest log", "errors", ""),
    ]
    for label, key, target in rows:
        table.add_row(label, fmt(r.get(key)), fmt(r.get(f"sqlite_{key}")), target)
    limits = Table(title="raw limits on this machine, and ratios")
    limits.add_column("figure")
    limits.add_column("value", justify="right")
    limits.add_column("target", justify="right")
    for label, key, target in [
        ("broker alone: publish → subscribe (readings/s)", "broker_limit_per_s", ""),
        ("broker alone: published (readings/s)", "broker_published_per_s", ""),
        ("broker alone: cores used", "broker_cores", ""),
        ("PostgreSQL COPY, same rows, same table (rows/s)", "copy_limit_per_s", ""),
        ("ingest into PostgreSQL / COPY limit (%)", "pct_of_copy", "≥ 60"),
        ("ingest into PostgreSQL / broker limit (%)", "pct_of_broker", ""),
        ("SQLite / PostgreSQL ingest (%)", "sqlite_pct_of_pg", ""),
    ]:
        limits.add_row(label, fmt(r.get(key)), target)
    console = Console(stderr=False, width=120)
    console.print(table)
    console.print(limits)


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="anjian-bench-ingest-"))
    _log(f"work directory {root}")
    try:
        limits: dict[str, Any] = {}
        limits.update(broker_limit(args, root))
        limits.update(copy_limit(args, root))
        pg = end_to_end("postgres", args, root)
        lite = None if args.skip_sqlite else end_to_end("sqlite", args, root)
        return summarise(args, limits, pg, lite)
    finally:
        if args.keep:
            _log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    from anjian.monitoring.mqtt import BATCH_MESSAGES

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s per figure instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per figure")
    parser.add_argument("--pg-url", default=PG_ADMIN, help="PostgreSQL admin URL (CREATE DATABASE)")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--workers", type=int, default=1, help="anjian ingest --workers N")
    parser.add_argument(
        "--threads", type=int, default=1, help="anjian ingest --threads N (per worker)"
    )
    parser.add_argument("--ingest-procs", type=int, default=1, help="anjian ingest processes")
    parser.add_argument(
        "--points", type=int, default=10_000, help="load points (a multiple of 100)"
    )
    parser.add_argument(
        "--enterprises",
        type=int,
        default=100,
        help="enterprises the points belong to, in equal blocks of gateways (divides points/100)",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=None,
        help=f"messages ahead of the consumer at most (default 2 × {BATCH_MESSAGES} per worker)",
    )
    parser.add_argument(
        "--inflight", type=int, default=1000, help="Mosquitto max_inflight_messages per client"
    )
    parser.add_argument(
        "--paced-fraction",
        type=float,
        default=0.8,
        help="paced phase: this fraction of the saturated rate",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    args.warmup = 3.0 if args.quick else 5.0
    if args.points < GROUP or args.points % GROUP:
        parser.error(f"--points must be a multiple of {GROUP}")
    args.groups = args.points // GROUP
    if args.enterprises < 1 or args.groups % args.enterprises:
        parser.error("--enterprises must divide the gateway groups (--points / 100)")
    args.window = (
        args.window or 2 * BATCH_MESSAGES * args.workers * args.threads * args.ingest_procs
    )
    import psycopg

    try:
        psycopg.connect(args.pg_url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL unreachable at {args.pg_url}: {exc}")
    result = run(args)
    _table(result)
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
