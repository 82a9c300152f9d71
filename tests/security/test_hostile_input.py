"""Hostile input answers 4xx naming the field, never a server error (issue 15): integers beyond
64 bits (and, on PostgreSQL, ids beyond its 32-bit keys) in paths, paging, filters and bodies;
dates without a zone, which are Beijing time; overlong search text; C0 control characters in
query, JSON and form fields; readings with non-finite or overflowing values, refused one by one
over HTTP and MQTT while the rest of the batch is stored. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from typer.testing import CliRunner

from anjian.enterprises.rules import compose_uscc

MINE_USCC = compose_uscc("140622", "MA0K0001")
HUGE = 2**64  # one past what a signed 64-bit integer holds, and more


def _as(node: Any, who: str) -> dict[str, str]:
    cache = node.__dict__.setdefault("_headers", {})
    if who not in cache:
        cache[who] = node.login(who)
    return cache[who]


def _refused(r: Any, field: str) -> None:
    """A 422 naming ``field`` (the API), or the console's page saying the input is wrong."""
    assert r.status_code == 422, r.text
    if r.headers["content-type"].startswith("text/html"):
        assert "请求参数无效" in r.text
        return
    body = r.json()
    assert body["field"] == field, body
    assert {e["field"] for e in body["errors"]} >= {field}


def _assess(chemical: dict[str, Any]) -> dict[str, Any]:
    """A GB 18218 assessment request whose unit holds chlorine and ``chemical`` (the second)."""
    return {
        "units": [
            {
                "name": "罐区",
                "kind": "storage",
                "people_within_500m": 10,
                "chemicals": [{"name": "液氯", "quantity_t": 1}, chemical],
            }
        ]
    }


# --- integers beyond 64 bits -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/enterprises/{HUGE}", "enterprise_id"),
        (f"/api/v1/accidents/{-HUGE}", "accident_id"),
        (f"/api/v1/accidents?page={HUGE}", "page"),
        # within 64 bits, but page × size is not (found by schemathesis)
        ("/api/v1/accidents/investigations?page=1159703053027867904", "page"),
        (f"/api/v1/enterprises?offset={HUGE}", "offset"),
        (f"/api/v1/alarms?enterprise_id={HUGE * HUGE}", "enterprise_id"),
        (f"/api/v1/major-hazards?enterprise_id=-{HUGE}", "enterprise_id"),
        (f"/api/v1/monitoring/points/1/series?from=0&to=1&step={HUGE}", "step"),
        (f"/hazards?page_no={HUGE}", "page_no"),  # a console page
    ],
)
@pytest.mark.one_backend
def test_integer_beyond_64_bits_in_path_or_query_is_422_naming_it(
    personas: Any, url: str, field: str
) -> None:
    _refused(personas.client.get(url, headers=_as(personas, "sheng")), field)


def test_integer_beyond_64_bits_in_a_body_is_422_naming_its_path(personas: Any) -> None:
    node = personas
    mine = node.enterprises["ying_mine"]
    r = node.client.post(
        "/api/v1/hidden-hazards",
        json={"enterprise_id": HUGE, "place": "井口", "description": "护栏缺失"},
        headers=_as(node, "qiye"),
    )
    _refused(r, "enterprise_id")
    assess = _assess({"name": "液氨", "quantity_t": -HUGE})
    r = node.client.post("/api/v1/major-hazards/assess", json=assess, headers=_as(node, "qiye"))
    _refused(r, "units.0.chemicals.1.quantity_t")
    # a number JSON cannot carry (1e400 decodes to infinity, NaN is Python's extension)
    for raw in ("1e400", "NaN", "-Infinity"):
        r = node.client.post(
            "/api/v1/monitoring/points",
            content=f'{{"enterprise_id": {mine}, "code": "LT-9", "kind": "tank_level", "h": {raw}}}',
            headers={**_as(node, "qiye"), "Content-Type": "application/json"},
        )
        _refused(r, "h")


def test_an_id_beyond_32_bits_is_never_a_server_error(personas: Any) -> None:
    """PostgreSQL keys are 32-bit: such an id is out of range there (422 naming it) and simply
    not found on SQLite."""
    node = personas
    big = 2**40
    for url, field in (
        (f"/api/v1/enterprises/{big}", "enterprise_id"),
        (f"/api/v1/alarms?enterprise_id={big}", "enterprise_id"),
    ):
        r = node.client.get(url, headers=_as(node, "sheng"))
        assert r.status_code in (404, 422, 200), r.text
        if r.status_code == 422:
            assert r.json()["field"] == field
    r = node.client.post(
        "/api/v1/hidden-hazards",
        json={"enterprise_id": big, "place": "井口", "description": "护栏缺失"},
        headers=_as(node, "qiye"),
    )
    assert r.status_code in (403, 404, 422), r.text
    if r.status_code == 422:
        assert r.json()["field"] == "enterprise_id"


# --- dates without a zone are Beijing time ---------------------------------------------------


def test_dates_without_a_zone_are_beijing_time(personas: Any) -> None:
    node = personas
    # found at 01:00 on 1 December in Beijing, which is still 30 November in UTC
    r = node.client.post(
        "/api/v1/hidden-hazards",
        json={
            "enterprise_id": node.enterprises["ying_mine"],
            "place": "井口",
            "description": "护栏缺失",
            "found_at": "2026-11-30T17:00:00Z",
        },
        headers=_as(node, "qiye"),
    )
    assert r.status_code == 201, r.text
    official = _as(node, "yingxian")
    ledger = "/api/v1/hidden-hazards"
    for query, total in (
        ("from=2026-12-01", 1),
        ("to=2026-12-01", 0),
        ("from=2026-12-01T00:59", 1),
        ("from=2026-12-01T01:01:00", 0),
        ("from=2026-12-01T00:00:00%2B00:00", 0),  # a zone named is kept
    ):
        r = node.client.get(f"{ledger}?{query}", headers=official)
        assert r.status_code == 200, (query, r.text)
        assert r.json()["total"] == total, query
    r = node.client.get(f"{ledger}/export.xlsx?from=2026-12-01&to=2026-12-02", headers=official)
    assert r.status_code == 200, r.text
    for query in (
        "since=2026-12-01",
        "until=2026-12-01T08:00",
        "since=2026-12-01&until=2027-01-01",
    ):
        r = node.client.get(f"/api/v1/alarms?{query}", headers=official)
        assert r.status_code == 200, (query, r.text)


def test_series_window_without_a_zone_is_beijing_time(personas: Any) -> None:
    node = personas
    r = node.client.post(
        "/api/v1/monitoring/points",
        json={"enterprise_id": node.enterprises["ying_mine"], "code": "LT-1", "kind": "tank_level"},
        headers=_as(node, "qiye"),
    )
    assert r.status_code == 201, r.text
    r = node.client.get(
        f"/api/v1/monitoring/points/{r.json()['id']}/series?from=2026-12-01T00:00&to=2026-12-02",
        headers=_as(node, "yingxian"),
    )
    assert r.status_code == 200, r.text
    beijing_midnight = datetime(2026, 11, 30, 16, tzinfo=UTC).timestamp() * 1000
    assert r.json()["from_ms"] == beijing_midnight


# --- overlong search text --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/enterprises",
        "/api/v1/hidden-hazards",
        "/api/v1/major-hazards",
        "/api/v1/risk/points",
        "/api/v1/monitoring/points",
        "/api/v1/checklists",
        "/enterprises",  # the console's list
    ],
)
@pytest.mark.one_backend
def test_search_text_is_capped(personas: Any, url: str) -> None:
    node = personas
    official = _as(node, "sheng")
    _refused(node.client.get(url, params={"q": "x" * 50_001}, headers=official), "q")
    _refused(node.client.get(url, params={"q": "x" * 201}, headers=official), "q")
    assert node.client.get(url, params={"q": "煤" * 200}, headers=official).status_code == 200


# --- control characters ----------------------------------------------------------------------


def test_control_characters_are_refused_in_json_query_and_path(personas: Any) -> None:
    node = personas
    qiye = _as(node, "qiye")
    mine = node.enterprises["ying_mine"]
    report = {"enterprise_id": mine, "place": "井口", "description": "护栏缺失"}
    for bad in ("\x00", "a\x01b", "\x1b[31m", "\x0b", "\x1f"):
        r = node.client.post("/api/v1/hidden-hazards", json={**report, "place": bad}, headers=qiye)
        _refused(r, "place")
        assert "U+00" in r.json()["detail"]
    # a lone surrogate is valid JSON but no text either database (or a UTF-8 answer) can hold
    raw = json.dumps({**report, "description": "a\ud800b"})
    r = node.client.post(
        "/api/v1/hidden-hazards", content=raw, headers={**qiye, "Content-Type": "application/json"}
    )
    _refused(r, "description")
    assess = _assess({"name": "液\x00氨", "quantity_t": 1})
    r = node.client.post("/api/v1/major-hazards/assess", json=assess, headers=qiye)
    _refused(r, "units.0.chemicals.1.name")
    # a key is text too
    r = node.client.post("/api/v1/major-hazards/assess", json={"units\x00": []}, headers=qiye)
    _refused(r, "units\x00")
    _refused(node.client.get("/api/v1/enterprises?q=%00", headers=qiye), "q")
    _refused(node.client.get("/api/v1/divisions/14%0022", headers=qiye), "code")
    # tab, newline and carriage return are text
    r = node.client.post(
        "/api/v1/hidden-hazards",
        json={**report, "description": "第一行\r\n第二行\t完"},
        headers=qiye,
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "第一行\r\n第二行\t完"


def test_control_characters_are_refused_in_console_forms(personas: Any) -> None:
    node = personas
    r = node.client.post(
        "/login", data={"username": "sheng\x00", "password": "x"}, follow_redirects=False
    )
    _refused(r, "username")
    r = node.client.post(
        "/login",
        files={"username": (None, "sheng"), "password": (None, "a\x07b")},
        follow_redirects=False,
    )
    _refused(r, "password")


# --- readings: non-finite and overflowing values, one by one ---------------------------------


def _gateway_token() -> dict[str, str]:
    from anjian.cli import app

    result = CliRunner().invoke(app, ["gateway", "token", MINE_USCC])
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}


def _hostile_batch(now: int) -> str:
    """Two good readings among bad ones, as text: NaN and Infinity are not JSON, but Python's
    decoder (FastAPI's and the MQTT worker's) reads them."""
    readings = [
        '{"point": "LT-1", "value": 1.5}',
        f'{{"point": "LT-1", "value": NaN, "ts": {now + 1}}}',
        f'{{"point": "LT-1", "value": Infinity, "ts": {now + 2}}}',
        f'{{"point": "LT-1", "value": -1e400, "ts": {now + 3}}}',
        f'{{"point": "LT-1", "value": 1{"0" * 400}, "ts": {now + 4}}}',  # beyond a float
        f'{{"point": "LT-1", "value": 2, "ts": {now + 5}, "status": []}}',
        f'{{"point": "LT-1", "value": 2, "ts": {now + 6}}}',
        f'{{"point": "LT\\u0000", "value": 2, "ts": {now + 7}}}',
        f'{{"point": "LT-1", "value": 2, "ts": 1{"0" * 30}}}',  # beyond any datetime
        f'{{"point": "LT\\ud800", "value": 2, "ts": {now + 8}}}',  # a lone surrogate
    ]
    return f'{{"ts": {now}, "readings": [{", ".join(readings)}]}}'


def _reading_count(node: Any) -> int:
    from anjian.monitoring.models import Reading

    with node.db() as s:
        return s.scalar(select(func.count()).select_from(Reading)) or 0


def _rejections(node: Any) -> dict[str, int]:
    counts = node.client.get("/api/v1/monitoring/rejections", headers=_as(node, "yingxian"))
    assert counts.status_code == 200, counts.text
    return {c["reason"]: c["count"] for c in counts.json()}


def _lt1(node: Any, enterprise_id: int) -> None:
    from anjian.core.audit.service import SYSTEM
    from anjian.core.scope import Scope
    from anjian.monitoring.points import create_point
    from anjian.monitoring.schemas import PointCreate

    everything = Scope.for_division(None, "admin", ["000000"])
    with node.db() as s:
        point = PointCreate(enterprise_id=enterprise_id, code="LT-1", kind="tank_level")
        create_point(s, SYSTEM, everything, point)


def _enterprise_of_its_own(node: Any) -> tuple[int, str]:
    """A new 应县 enterprise with a credit code of its own (id, USCC): its MQTT topics are this
    test's alone, however many tests publish to the machine's Mosquitto at once."""
    from anjian.core.audit.service import SYSTEM
    from anjian.core.scope import Scope
    from anjian.enterprises.schemas import EnterpriseCreate
    from anjian.enterprises.service import create_enterprise

    uscc = compose_uscc("140622", f"MA{uuid.uuid4().int % 10**6:06d}")
    data = EnterpriseCreate(
        uscc=uscc,
        name=f"应县测试企业{uscc[-6:]}",
        division_code="140622",
        supervision_category="coal_mine",
    )
    with node.db() as s:
        ent = create_enterprise(s, SYSTEM, Scope.for_division(None, "admin", ["000000"]), data)
        return ent.id, uscc


def test_http_readings_with_non_finite_or_overflowing_values_are_refused_one_by_one(
    personas: Any,
) -> None:
    node = personas
    _lt1(node, node.enterprises["ying_mine"])
    now = int(time.time() * 1000) - 60_000
    r = node.client.post(
        "/api/v1/monitoring/readings",
        content=_hostile_batch(now),
        headers={**_gateway_token(), "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["accepted"] == 2
    assert [(x["index"], x["reason"]) for x in out["rejected"]] == [
        (1, "not_numeric"),
        (2, "not_numeric"),
        (3, "not_numeric"),
        (4, "not_numeric"),
        (5, "bad_status"),
        (7, "unknown_point"),
        (8, "malformed"),
        (9, "unknown_point"),
    ]
    assert [x["point"] for x in out["rejected"][-3:]] == ["LT\\x00", "LT-1", "LT\\ud800"]
    assert _reading_count(node) == 2
    assert _rejections(node) == {
        "not_numeric": 4,
        "bad_status": 1,
        "unknown_point": 2,
        "malformed": 1,
    }


def test_mqtt_readings_with_non_finite_or_overflowing_values_are_refused_one_by_one(
    personas: Any, worker: Any, mosquitto: int
) -> None:
    node = personas
    enterprise_id, uscc = _enterprise_of_its_own(node)
    _lt1(node, enterprise_id)
    group = f"t{uuid.uuid4().hex[:8]}"
    ingest = worker(
        ANJIAN_MQTT_URL=f"mqtt://127.0.0.1:{mosquitto}",
        ANJIAN_MQTT_SHARED_GROUP=group,
        ANJIAN_MQTT_CLIENT_ID=group,
    )
    gw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}")
    gw.connect("127.0.0.1", mosquitto)
    gw.loop_start()
    now = int(time.time() * 1000) - 60_000
    topic = f"anjian/v1/{uscc}"
    for where, payload in (
        ("readings", _hostile_batch(now)),
        ("status", json.dumps({"ts": 10**30, "status": "power_off"})),  # no datetime holds it
        ("status", json.dumps({"status": ["power_off"]})),
    ):
        gw.publish(f"{topic}/{where}", payload, qos=1).wait_for_publish(timeout=10)
    deadline = time.monotonic() + 30
    while ingest.messages < 3:
        assert time.monotonic() < deadline, "timed out waiting for 3 messages"
        time.sleep(0.1)
    gw.loop_stop()
    gw.disconnect()
    assert _reading_count(node) == 2  # the good readings of the message were stored
    assert _rejections(node) == {
        "not_numeric": 4,
        "bad_status": 3,  # one reading's status, two system reports
        "unknown_point": 2,
        "malformed": 1,
    }
