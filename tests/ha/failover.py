"""一主两备 failover under write load (the operations issue's HA test), as a script:

    .venv/bin/python tests/ha/failover.py [--before 5] [--after 5] [--manual]

A PostgreSQL primary with a synchronous and an asynchronous standby; a real node (``anjian
serve``) connected through a multi-host URL with ``target_session_attrs=read-write``, ingesting
over a Mosquitto of the script's own; API writes (tickets, each answered 201 only after its
commit) and MQTT readings (QoS 1) going on while the primary's machine is lost: its Patroni
and its PostgreSQL killed with SIGKILL.

By default the three databases are Patroni members (``patroni_cluster.py``, from
``deploy/ha/patroni.yml``) and nobody intervenes: Patroni on the synchronous standby takes
over when the lost primary's leader key expires, and the lost member, started again, rejoins
as a standby (pg_rewind). ``--manual`` runs plain instances (``cluster.py``) and the README's
documented promote instead.

The script proves that every write the node acknowledged — every 201, every message the broker
took — is on the new primary (and, after the rejoin, on the old one), and prints the figures:
the takeover (kill → a new primary), the downtime (kill → the first write the node accepted
again; target ≤ 30 s) and the rejoin. It ends with a JSON line; exit code 1 when a write was
lost or the node did not come back, 2 when Patroni or etcd is not installed."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from cluster import Cluster  # noqa: E402
from patroni_cluster import PatroniCluster, available  # noqa: E402

ANJIAN = Path(sys.executable).parent / "anjian"
PASSWORD = "Anjian#2026"
POINT = "HA-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Mosquitto:
    """A Mosquitto of the script's own: nothing queued for a slow subscriber is dropped."""

    def __init__(self, root: Path) -> None:
        self.port = _free_port()
        conf = root / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 1000000\nmax_inflight_messages 1000\n"
        )
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _env(cluster: Cluster, data: Path, http_port: int, mqtt_port: int) -> dict[str, str]:
    hosts = "&".join(f"host=127.0.0.1:{cluster.ports[n]}" for n in ("p", "s1", "s2"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
    env.update(
        {
            "ANJIAN_DATA_DIR": str(data),
            "ANJIAN_DATABASE_URL": f"postgresql+psycopg://postgres@/anjian?{hosts}"
            "&target_session_attrs=read-write&connect_timeout=2",
            "ANJIAN_NODE_DIVISION": "140000",
            "ANJIAN_MFA_REQUIRED_ROLES": "[]",
            "ANJIAN_SYNC_FORWARDER": "false",
            "ANJIAN_BACKGROUND_JOBS": "false",
            "ANJIAN_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "ANJIAN_MQTT_CLIENT_ID": "ha-ingest",
            "ANJIAN_MQTT_SHARED_GROUP": "ha",
            "ANJIAN_HOST": "127.0.0.1",
            "ANJIAN_PORT": str(http_port),
            "ANJIAN_LOGIN_RATE_PER_IP": "100000",
        }
    )
    return env


def _seed(env: dict[str, str]) -> str:
    """The official, an enterprise and its point; the enterprise's USCC."""
    subprocess.run([str(ANJIAN), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [
            str(ANJIAN),
            "user",
            "add",
            "ha",
            "--role",
            "admin",
            "--division",
            "140000",
            "--password-stdin",
        ],
        env=env,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    from node_env import in_process
    from samples import mine_enterprise

    with in_process(env):
        import anjian.models  # noqa: F401
        from anjian.core.audit.service import SYSTEM
        from anjian.core.scope import Scope
        from anjian.db import unit_of_work
        from anjian.enterprises.service import create_enterprise
        from anjian.monitoring.points import create_point
        from anjian.monitoring.schemas import PointCreate

        everything = Scope.for_division(None, "admin", ["000000"])
        with unit_of_work() as s:
            body = mine_enterprise()
            enterprise = create_enterprise(s, SYSTEM, everything, body)
            s.flush()
            create_point(
                s,
                SYSTEM,
                everything,
                PointCreate(enterprise_id=enterprise.id, code=POINT, kind="flow"),
            )
        return body.uscc


class Writer(threading.Thread):
    """API writes (tickets) as fast as answered; each answer timed. The node holds a write the
    database failed and sends it again itself (ANJIAN_DB_RETRY_SECONDS), so the client waits
    up to 30 s; a refused or failed write is tried again as a new one (what a client does with
    a 503)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.acked: list[tuple[float, float, int]] = []  # (sent, answered, ticket id)
        self.failed: list[float] = []

    def run(self) -> None:
        client = httpx.Client(base_url=self.url, timeout=30.0)
        token = client.post(
            "/api/v1/auth/login", json={"username": "ha", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        i = 0
        while not self.stop.is_set():
            i += 1
            body = {"category": "platform", "division_code": "140000", "title": f"ha-{i}"}
            sent = time.monotonic()
            try:
                r = client.post("/api/v1/ops/tickets", json=body, headers=headers)
            except httpx.HTTPError:
                r = None
            if r is not None and r.status_code == 201:
                self.acked.append((sent, time.monotonic(), r.json()["id"]))
            else:
                self.failed.append(time.monotonic())
                time.sleep(0.05)


class Publisher(threading.Thread):
    """One reading a message, QoS 1, a few hundred a second; what the broker acknowledged."""

    def __init__(self, port: int, uscc: str, base_ts: int) -> None:
        super().__init__(daemon=True)
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.stop = threading.Event()
        self.base_ts = base_ts
        self.pending: dict[int, int] = {}
        self.acked: set[int] = set()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ha-publisher")
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.topic = f"anjian/v1/{uscc}/readings"

    def _on_publish(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        with self._lock:
            ts = self.pending.pop(mid, None)
            if ts is not None:
                self.acked.add(ts)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            ts = self.base_ts + i
            body = json.dumps({"readings": [{"point": POINT, "value": 1.0, "ts": ts}]})
            with self._lock:
                info = self.client.publish(self.topic, body, qos=1)
                self.pending[info.mid] = ts
            i += 1
            time.sleep(0.003)
        time.sleep(1.0)
        self.client.loop_stop()
        self.client.disconnect()


def _take_over(cluster: Cluster, manual: bool, killed: float) -> tuple[str | None, float]:
    """The new primary and the seconds from the kill until it took writes: promoted by the
    runbook (``manual``) or by Patroni on its own, which is only watched here."""
    if manual:
        while cluster.alive("p"):
            time.sleep(0.05)
        cluster.promote("s1", "s2")
        return "s1", time.monotonic() - killed
    assert isinstance(cluster, PatroniCluster)
    deadline = killed + 60
    while time.monotonic() < deadline:
        leader = cluster.leader()
        if leader not in (None, "p"):
            return leader, time.monotonic() - killed
        time.sleep(0.05)
    return None, time.monotonic() - killed


def _stored(dsn: str, readings: set[int], wait: float) -> tuple[set[int], set[int]]:
    """Ticket ids and reading times on the database at ``dsn``; waits up to ``wait`` seconds
    for the readings (the worker drains what the broker holds, a standby replays)."""
    stored_readings: set[int] = set()
    end = time.monotonic() + wait
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            stored_readings = {
                r[0]
                for r in conn.execute(
                    "SELECT r.ts FROM readings r JOIN monitoring_points p ON p.id = r.point_id"
                    " WHERE p.code = %s",
                    (POINT,),
                )
            }
            if readings <= stored_readings or time.monotonic() > end:
                break
            time.sleep(0.5)
        tickets = {r[0] for r in conn.execute("SELECT id FROM ops_tickets")}
    return tickets, stored_readings


def _rejoin(cluster: PatroniCluster, primary: str) -> float:
    """Start the lost member again; seconds until it is the synchronous standby."""
    started = time.monotonic()
    cluster.start("p")
    cluster._until(lambda: cluster.streaming("p"), "p streaming again", 120)
    cluster.wait_sync(primary, "p", 60)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load before")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of load after")
    parser.add_argument(
        "--manual", action="store_true", help="plain instances and the documented promote"
    )
    args = parser.parse_args()
    if not args.manual and (missing := available()):
        print(f"failover.py: {missing}; or run with --manual", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="anjian-ha-node-"))
    cluster = Cluster() if args.manual else PatroniCluster()
    broker = serve = None
    try:
        how = "the documented promote" if args.manual else "Patroni over etcd"
        _log(f"一主两备 ({how}): primary p, synchronous standby s1, asynchronous standby s2")
        cluster.up()
        with psycopg.connect(cluster.dsn("p"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE anjian")
        broker = Mosquitto(root)
        http_port = _free_port()
        env = _env(cluster, root / "data", http_port, broker.port)
        uscc = _seed(env)
        with open(root / "serve.log", "w") as log:
            serve = subprocess.Popen(
                [str(ANJIAN), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{http_port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        time.sleep(2.0)  # the ingest worker subscribes
        writer = Writer(url)
        publisher = Publisher(broker.port, uscc, int(time.time() * 1000) - 60_000)
        writer.start()
        publisher.start()
        time.sleep(args.before)
        _log(f"killing the primary's machine (SIGKILL) after {len(writer.acked)} writes")
        killed = time.monotonic()
        cluster.kill("p")
        primary, took = _take_over(cluster, args.manual, killed)
        _log(f"{primary} is primary {took:.2f} s after the kill")
        deadline = time.monotonic() + 60
        # back: the first write sent after the kill that the node acknowledged
        while time.monotonic() < deadline and not any(s > killed for s, _, _ in writer.acked):
            time.sleep(0.05)
        back = next((t for s, t, _ in writer.acked if s > killed), None)
        downtime = back - killed if back is not None else None
        _log(
            f"the node accepted writes again {downtime:.2f} s after the kill"
            if downtime
            else "the node did not accept a write again within 60 s"
        )
        time.sleep(args.after)
        writer.stop.set()
        publisher.stop.set()
        writer.join(10)
        publisher.join(10)
        tickets = {tid for _, _, tid in writer.acked}
        readings = set(publisher.acked)
        stored_tickets, stored_readings = _stored(
            cluster.dsn(primary or "s1", "anjian"), readings, 60
        )
        result: dict[str, Any] = {
            "test": "ha-failover",
            "failover": "manual" if args.manual else "patroni",
            "takeover_s": round(took, 2),
            "downtime_s": round(downtime, 2) if downtime is not None else None,
            "api_writes_acknowledged": len(tickets),
            "api_writes_lost": len(tickets - stored_tickets),
            "api_writes_refused_meanwhile": len(writer.failed),
            "slowest_api_write_s": round(max((t - s for s, t, _ in writer.acked), default=0), 2),
            "readings_acknowledged": len(readings),
            "readings_lost": len(readings - stored_readings),
        }
        if isinstance(cluster, PatroniCluster) and primary is not None:
            result["rejoin_s"] = round(_rejoin(cluster, primary), 2)
            old_tickets, old_readings = _stored(cluster.dsn("p", "anjian"), readings, 30)
            result["lost_on_rejoined_member"] = len(tickets - old_tickets) + len(
                readings - old_readings
            )
            _log(f"p rejoined as the synchronous standby {result['rejoin_s']} s after its start")
        _log(
            f"{result['api_writes_acknowledged']} API writes and {result['readings_acknowledged']}"
            f" readings acknowledged; lost: {result['api_writes_lost']} and"
            f" {result['readings_lost']}; downtime {result['downtime_s']} s (target ≤ 30 s)"
        )
        print(json.dumps(result), flush=True)
        ok = (
            downtime is not None
            and downtime <= 30
            and result["api_writes_lost"] == 0
            and result["readings_lost"] == 0
            and result.get("lost_on_rejoined_member", 0) == 0
        )
        return 0 if ok else 1
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(timeout=30)
        if broker is not None:
            broker.stop()
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
