"""An ingest worker keeps its enterprises' points and their evaluator state in memory
(:mod:`anjian.monitoring.live`). What a user relies on: a set point changed on the page, a point
added, a batch posted over HTTP or a second worker holding the same enterprise all take effect
on the worker's next transaction, as if it had read everything afresh; the last reading reaches
the pages at a checkpoint; a worker's threads split the enterprises between them and store
every message once. SQLite and PostgreSQL; the pinning over a Mosquitto of its own."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from anjian.enterprises.rules import compose_uscc
from anjian.monitoring.batch import Outcome
from anjian.monitoring.ingest import ingest_many
from anjian.monitoring.live import PointCache
from anjian.monitoring.models import Alarm, IngestEpoch, PointLive, Reading

API = "/api/v1/monitoring"
MINE_USCC = compose_uscc("140622", "MA0K0001")
CHEM_USCC = compose_uscc("140621", "MA0K0002")


def _now() -> int:
    return int(time.time() * 1000)


def _run(
    node: Any, cache: PointCache, readings: list[dict[str, Any]], who: str = "ying_mine"
) -> Outcome:
    """One worker transaction of one batch, committed; the cache forgets on failure, as the
    worker's does."""
    try:
        with node.db() as s:
            return ingest_many(s, [(node.enterprises[who], {"readings": readings})], cache=cache)[0]
    except BaseException:
        cache.clear()
        raise


def _alarms(node: Any) -> list[tuple[str | None, bool]]:
    """(bound, ended) of the threshold alarms, oldest first."""
    with node.db() as s:
        rows = s.scalars(select(Alarm).where(Alarm.kind == "threshold").order_by(Alarm.id))
        return [(a.bound, a.ended_at is not None) for a in rows]


def test_a_worker_follows_set_points_new_points_and_http_ingest(personas: Any) -> None:
    node = personas
    (pid,) = node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    official = node.login("qiye")
    cache = PointCache(owner="worker-a")
    t = _now() - 60_000
    assert _run(node, cache, [{"point": "LT-1", "value": 5.0, "ts": t}]).raised == 0
    # the set point lowered on the page: the worker's next reading is judged by it
    r = node.client.patch(f"{API}/points/{pid}", json={"h": 4, "hh": 9}, headers=official)
    assert r.status_code == 200, r.text
    assert _run(node, cache, [{"point": "LT-1", "value": 5.0, "ts": t + 1000}]).raised == 1
    # a batch over HTTP ends the alarm; the worker then sees it ended and raises a new one
    from typer.testing import CliRunner

    from anjian.cli import app

    token = CliRunner().invoke(app, ["gateway", "token", MINE_USCC]).stdout.strip().splitlines()[-1]
    r = node.client.post(
        f"{API}/readings",
        json={"readings": [{"point": "LT-1", "value": 2.0, "ts": t + 2000}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200 and r.json()["alarms_ended"] == 1, r.text
    with node.db() as s:  # HTTP ingest made the worker load again, and left it the owner
        assert s.get(IngestEpoch, node.enterprises["ying_mine"]).owner == "worker-a"
    out = _run(node, cache, [{"point": "LT-1", "value": 5.0, "ts": t + 3000}])
    assert (out.raised, out.ended) == (1, 0)
    assert _alarms(node) == [("h", True), ("h", False)]
    # an older reading than the one HTTP stored is stored but not judged
    late = _run(node, cache, [{"point": "LT-1", "value": 2.0, "ts": t + 2500}])
    assert (late.accepted, late.ended) == (1, 0)
    # a point added on the page is known to the worker at once
    r = node.client.post(
        f"{API}/points",
        json={"enterprise_id": node.enterprises["ying_mine"], "code": "LT-2", "kind": "tank_level"},
        headers=official,
    )
    assert r.status_code == 201, r.text
    out = _run(node, cache, [{"point": "LT-2", "value": 1.0, "ts": t + 4000}])
    assert (out.accepted, out.rejected) == (1, [])


def test_two_workers_holding_one_enterprise_stay_correct(personas: Any) -> None:
    """Pinning set up twice (or the web server's worker beside `anjian ingest`): slower, never
    wrong — an alarm raised by one is ended by the other, and raised again once only."""
    node = personas
    node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    a, b = PointCache(owner="worker-a"), PointCache(owner="worker-b")
    t = _now() - 60_000
    assert _run(node, a, [{"point": "LT-1", "value": 9.5, "ts": t}]).raised == 1
    assert _run(node, b, [{"point": "LT-1", "value": 5.0, "ts": t + 1000}]).ended == 1
    assert _run(node, a, [{"point": "LT-1", "value": 8.5, "ts": t + 2000}]).raised == 1
    assert _run(node, b, [{"point": "LT-1", "value": 8.6, "ts": t + 3000}]).raised == 0
    assert _alarms(node) == [("hh", True), ("h", False)]
    # the time order holds across them: b's newest reading is the point's last
    out = _run(node, a, [{"point": "LT-1", "value": 2.0, "ts": t + 2500}])
    assert (out.accepted, out.ended) == (1, 0)


def test_the_last_reading_reaches_the_pages_at_a_checkpoint(personas: Any) -> None:
    node = personas
    (pid,) = node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    cache = PointCache(owner="worker-a", checkpoint_s=3600)
    t = _now() - 60_000

    def last() -> tuple[int | None, float | None]:
        with node.db() as s:
            live = s.get(PointLive, pid)
            return (live.last_ts, live.last_value) if live else (None, None)

    _run(node, cache, [{"point": "LT-1", "value": 5.0, "ts": t}])
    _run(node, cache, [{"point": "LT-1", "value": 6.0, "ts": t + 1000}])
    assert last() == (None, None)  # not yet written: the checkpoint is an hour away
    assert cache.waiting
    with node.db() as s:
        cache.checkpoint(s)
    assert last() == (t + 1000, 6.0) and not cache.waiting
    # an alarm's state is written in its own transaction, whatever the checkpoint
    _run(node, cache, [{"point": "LT-1", "value": 9.5, "ts": t + 2000}])
    with node.db() as s:
        live = s.get(PointLive, pid)
        assert (live.active_bound, live.alarm_id is not None) == ("hh", True)
    # a transaction that failed: nothing of it stays in memory or in the database
    try:
        with node.db() as s:
            ingest_many(
                s,
                [
                    (
                        node.enterprises["ying_mine"],
                        {"readings": [{"point": "LT-1", "value": 1.0, "ts": t + 3000}]},
                    )
                ],
                cache=cache,
            )
            raise RuntimeError("the commit fails")
    except RuntimeError:
        cache.clear()
    assert _alarms(node) == [("hh", False)]
    out = _run(node, cache, [{"point": "LT-1", "value": 1.0, "ts": t + 3000}])
    assert (out.accepted, out.ended) == (1, 1)


def _message(topic: str, body: dict[str, Any]) -> mqtt.MQTTMessage:
    msg = mqtt.MQTTMessage(mid=1, topic=topic.encode())
    msg.payload = json.dumps(body).encode()
    return msg


def test_a_worker_pins_each_enterprise_to_one_lane_and_stores_every_message_once(
    personas: Any, own_mosquitto: int
) -> None:
    from anjian.monitoring.mqtt import Broker, IngestWorker, lane_of

    node = personas
    node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    node.add_points("shan_chem", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    broker = Broker("127.0.0.1", own_mosquitto, None, None, shared=True)
    group = f"t{uuid.uuid4().hex[:8]}"
    worker = IngestWorker(broker, group, group, lanes=2)
    worker.start()
    try:
        assert worker.connected.wait(15), "ingest worker did not connect"
        gw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{group}")
        gw.connect("127.0.0.1", own_mosquitto)
        gw.loop_start()
        t = _now() - 60_000
        for m in range(30):
            for uscc in (MINE_USCC, CHEM_USCC):
                body = {"readings": [{"point": "LT-1", "value": 5.0, "ts": t + m * 1000}]}
                topic = f"anjian/v1/{uscc}/readings"
                gw.publish(topic, json.dumps(body), qos=1).wait_for_publish(10)
        gw.loop_stop()
        deadline = time.monotonic() + 30
        while worker.messages < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
        mine, chem = lane_of(MINE_USCC, 2), lane_of(CHEM_USCC, 2)
        assert [lane.messages for lane in worker.lanes] == [
            30 * ((mine == j) + (chem == j)) for j in range(2)
        ]
        with node.db() as s:
            assert s.scalar(select(func.count()).select_from(Reading)) == 60
            # each enterprise held by the lane it is pinned to, and by no other
            owners = dict(s.execute(select(IngestEpoch.enterprise_id, IngestEpoch.owner)).all())
        assert owners == {
            node.enterprises["ying_mine"]: f"{group}/{mine}",
            node.enterprises["shan_chem"]: f"{group}/{chem}",
        }
    finally:
        worker.stop()
        worker.join(timeout=10)
