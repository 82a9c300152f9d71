"""MQTT ingest as gateways use it: batches published with QoS 1 to ``anjian/v1/{uscc}/readings``
are stored and raise alarms; a system status report is one alarm; the embedded broker checks
each gateway's USCC and token and keeps it to its own topics; an ingest worker killed with
SIGKILL in the middle of 100,000 readings loses none and stores none twice.

Real brokers: the machine's Mosquitto (127.0.0.1:1883; required in CI, skipped locally when
absent), a Mosquitto of the test's own for the kill test (a queue large enough for a dead
worker's backlog), and the node's embedded amqtt broker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from anjian.enterprises.rules import compose_uscc
from anjian.monitoring.models import Alarm, Reading

MINE_USCC = compose_uscc("140622", "MA0K0001")
ANJIAN = str(Path(sys.executable).parent / "anjian")


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _gateway(port: int, username: str | None = None, password: str | None = None) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}")
    if username:
        client.username_pw_set(username, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _publish(client: mqtt.Client, topic: str, body: dict[str, Any]) -> None:
    client.publish(topic, json.dumps(body), qos=1).wait_for_publish(timeout=10)


def _ingest_counts() -> tuple[float, float, float]:
    """Messages applied, readings stored (both paths) and readings refused as malformed, as this
    process's metrics count them."""
    from anjian.core.metrics import REGISTRY

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    return (
        value("anjian_ingest_messages_total"),
        value("anjian_ingest_readings_total", path="setwise")
        + value("anjian_ingest_readings_total", path="reading"),
        value("anjian_ingest_refused_readings_total", reason="malformed"),
    )


def _count(node: Any, model: Any = Reading) -> int:
    with node.db() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_batches_over_mosquitto_are_stored_and_raise_alarms(
    personas: Any, worker: Any, mosquitto: int
) -> None:
    node = personas
    node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    group = f"t{uuid.uuid4().hex[:8]}"  # a shared group of this test's own
    ingest = worker(
        ANJIAN_MQTT_URL=f"mqtt://127.0.0.1:{mosquitto}",
        ANJIAN_MQTT_SHARED_GROUP=group,
        ANJIAN_MQTT_CLIENT_ID=group,
    )
    gw = _gateway(mosquitto)
    start = int(time.time() * 1000) - 60_000
    before = _ingest_counts()
    for m in range(20):
        readings = [{"point": "LT-1", "value": 5.0, "ts": start + m * 1000 + i} for i in range(100)]
        _publish(gw, f"anjian/v1/{MINE_USCC}/readings", {"ts": start, "readings": readings})
    _publish(
        gw,
        f"anjian/v1/{MINE_USCC}/readings",
        {"ts": start + 30_000, "readings": [{"point": "LT-1", "value": 9.4}]},
    )
    _publish(gw, f"anjian/v1/{MINE_USCC}/status", {"ts": start + 31_000, "status": "power_off"})
    _publish(gw, f"anjian/v1/{MINE_USCC}/readings", {"readings": "garbage"})
    _wait(lambda: ingest.messages >= 23, 30, "23 messages applied")
    gw.loop_stop()
    assert _count(node) == 2001
    # the worker's own metrics (GET /metrics), counted once committed
    _wait(lambda: _ingest_counts()[1] - before[1] >= 2001, 10, "readings counted")
    after = _ingest_counts()
    assert [a - b for a, b in zip(after, before, strict=True)] == [23, 2001, 1]
    with node.db() as s:
        alarms = {a.kind: a for a in s.scalars(select(Alarm))}
        assert set(alarms) == {"threshold", "system"}
        assert (alarms["threshold"].level, alarms["threshold"].bound) == (1, "hh")
        assert (alarms["system"].level, alarms["system"].bound) == (1, "power_off")
    counts = node.client.get("/api/v1/monitoring/rejections", headers=node.login("yingxian")).json()
    assert [(c["reason"], c["count"]) for c in counts] == [("malformed", 1)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_embedded_broker_admits_gateways_by_token_and_keeps_them_to_their_topics(
    personas: Any, worker: Any
) -> None:
    from typer.testing import CliRunner

    from anjian.cli import app

    node = personas
    node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8})
    port = _free_port()
    ingest = worker(ANJIAN_MQTT_EMBEDDED_PORT=str(port), ANJIAN_MQTT_URL="")
    token = CliRunner().invoke(app, ["gateway", "token", MINE_USCC]).stdout.strip().splitlines()[-1]

    refused: list[Any] = []
    bad = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gw-bad")
    bad.username_pw_set(MINE_USCC, "ajg_wrong")
    bad.on_connect = lambda *a: refused.append(a[3])
    bad.connect("127.0.0.1", port)
    bad.loop_start()
    _wait(lambda: refused, 10, "the broker's answer")
    bad.loop_stop()
    assert refused[0].is_failure

    gw = _gateway(port, MINE_USCC, token)
    now = int(time.time() * 1000)
    other = compose_uscc("140621", "MA0K0002")
    # another enterprise's topic is not this gateway's to publish on: dropped by the broker
    _publish(
        gw, f"anjian/v1/{other}/readings", {"ts": now, "readings": [{"point": "LT-1", "value": 1}]}
    )
    _publish(
        gw,
        f"anjian/v1/{MINE_USCC}/readings",
        {"ts": now, "readings": [{"point": "LT-1", "value": 8.5}]},
    )
    _wait(lambda: _count(node) == 1, 15, "the reading stored")
    gw.loop_stop()
    time.sleep(0.5)
    assert ingest.messages == 1
    assert _count(node, Alarm) == 1


@pytest.mark.slow
def test_worker_killed_mid_stream_loses_nothing_and_stores_nothing_twice(
    personas: Any, own_mosquitto: int, tmp_path: Path
) -> None:
    node = personas
    node.add_points("ying_mine", {"code": "FT-1", "kind": "flow"}, {"code": "FT-2", "kind": "flow"})
    port = own_mosquitto
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
    env.update(
        ANJIAN_DATABASE_URL=node.url,
        ANJIAN_DATA_DIR=str(node.data_dir),
        ANJIAN_NODE_DIVISION="140000",
        ANJIAN_MQTT_URL=f"mqtt://127.0.0.1:{port}",
        ANJIAN_MQTT_CLIENT_ID="kill-test",
    )

    log = tmp_path / "ingest.log"

    def start(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [ANJIAN, "ingest", *args], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab")
        )

    proc = start()
    try:
        # Gateways publish whether anyone listens or not; the test starts once the worker's
        # persistent session is subscribed (from then on the broker keeps what it misses).
        _wait(lambda: "subscribed" in log.read_text(), 60, "the worker subscribed")
        gw = _gateway(port)
        start_ms = int(time.time() * 1000) - 3_600_000
        total = 100_000
        for m in range(total // 100):
            readings = [
                {"point": f"FT-{1 + i % 2}", "value": float(i), "ts": start_ms + m * 50 + i // 2}
                for i in range(100)
            ]
            _publish(gw, f"anjian/v1/{MINE_USCC}/readings", {"ts": start_ms, "readings": readings})
            if m == 300:
                _wait(lambda: _count(node) > 5_000, 60, "the worker under way")
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                killed_at = _count(node)
        gw.loop_stop()
        assert 0 < killed_at < total
        # restarted as two worker processes sharing the subscription, two threads each: the
        # first takes over the killed worker's session (and what the broker kept for it)
        proc = start("--workers", "2", "--threads", "2")
        _wait(lambda: _count(node) >= total, 180, f"{total} readings stored")
        time.sleep(1)  # anything redelivered twice would show up now
        with node.db() as s:
            stored = s.scalar(select(func.count()).select_from(Reading))
            distinct = s.scalar(
                select(func.count()).select_from(
                    select(Reading.point_id, Reading.ts).distinct().subquery()
                )
            )
        assert stored == distinct == total
        print(f"killed with {killed_at} of {total} stored; after restart {stored}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
