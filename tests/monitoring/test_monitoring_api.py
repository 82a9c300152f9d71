"""Online monitoring through the API, as enterprises, gateways and agencies use it: points with
their set points, HTTP ingest with the enterprise's token, alarms through their closed loop,
device status, trends; scoped by jurisdiction, synced and audited. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from anjian.core.audit.models import AuditRecord
from anjian.core.sync.models import OutboxEntry
from anjian.enterprises.rules import compose_uscc
from anjian.monitoring.models import Alarm, Reading

API = "/api/v1/monitoring"
MINE_USCC = compose_uscc("140622", "MA0K0001")
CHEM_USCC = compose_uscc("140621", "MA0K0002")


def _token(node: Any, uscc: str = MINE_USCC) -> dict[str, str]:
    from anjian.cli import app

    result = CliRunner().invoke(app, ["gateway", "token", uscc])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    return {"Authorization": f"Bearer {token}"}


def _as(node: Any, who: str) -> dict[str, str]:
    """The persona's Authorization header, logging in once per test (argon2 is slow on
    purpose)."""
    cache = node.__dict__.setdefault("_headers", {})
    if who not in cache:
        cache[who] = node.login(who)
    return cache[who]


def _point(node: Any, who: str = "qiye", enterprise: str = "ying_mine", **body: Any) -> Any:
    body = {"enterprise_id": node.enterprises[enterprise], **body}
    return node.client.post(f"{API}/points", json=body, headers=_as(node, who))


def _created(node: Any, who: str = "qiye", **body: Any) -> dict[str, Any]:
    r = _point(node, who, **body)
    assert r.status_code == 201, r.text
    return r.json()


def _send(node: Any, gateway: dict[str, str], *readings: dict[str, Any], **extra: Any) -> Any:
    now = int(time.time() * 1000)
    return node.client.post(
        f"{API}/readings", json={"ts": now, "readings": list(readings), **extra}, headers=gateway
    )


def _preset_points(node: Any, **presets: str) -> tuple[dict[str, str], int, dict[str, str]]:
    """Create one point per code from its preset; give the gateway, now (ms) and 应县's official."""
    for code, preset in presets.items():
        _created(node, code=code, preset=preset)
    return _token(node), int(time.time() * 1000), _as(node, "yingxian")


def test_points_registry_presets_set_points_and_scope(personas: Any) -> None:
    node = personas
    ch4 = _created(node, code="CH4-T1-1201", preset="coal_ch4_t1_face", location="1201 工作面")
    assert (ch4["kind"], ch4["unit"], ch4["h"], ch4["hh"], ch4["restore"], ch4["power_cut"]) == (
        "ch4",
        "%CH4",
        1.0,
        1.5,
        1.0,
        True,
    )
    assert ch4["kind_label"] == "甲烷浓度" and ch4["status"] == "ok"
    assert ch4["enterprise_name"] == "应县金鼎煤业有限公司" and ch4["division_code"] == "140622"
    # explicit values win over the preset
    co = _created(node, code="CO-1", preset="gas_co", hh=50, period_s=10)
    assert (co["h"], co["hh"], co["period_s"]) == (20.0, 50.0, 10)
    # the same code twice in one enterprise: 409; ordered set points; a known kind
    assert _point(node, code="CH4-T1-1201", kind="ch4").status_code == 409
    r = _point(node, code="LT-1", kind="tank_level", h=9, hh=8)
    assert r.status_code == 422 and r.json()["field"] == "hh"
    r = _point(node, code="LT-1", kind="volcano")
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = _point(node, code="LT-1", kind="tank_level", h="high")
    assert r.status_code == 422 and r.json()["field"] == "h"
    r = _point(node, code="LT-1", kind="tank_level", range_low=10, range_high=0)
    assert r.status_code == 422 and r.json()["field"] == "range_high"
    # another county's official cannot register or see the mine's points
    assert _point(node, "shanyin", code="X-1", kind="co").status_code == 404
    other = node.client.get(f"{API}/points/{ch4['id']}", headers=_as(node, "shanyin"))
    assert other.status_code == 404
    chem = _created(node, "shanyin", enterprise="shan_chem", code="LEL-1", preset="gas_combustible")
    mine_view = node.client.get(f"{API}/points", headers=_as(node, "qiye")).json()
    assert {p["code"] for p in mine_view["items"]} == {"CH4-T1-1201", "CO-1"}
    city = node.client.get(f"{API}/points?size=10", headers=_as(node, "shuozhou")).json()
    assert city["total"] == 3
    assert (
        node.client.get(f"{API}/points?kind=combustible_gas", headers=_as(node, "shuozhou")).json()[
            "items"
        ][0]["id"]
        == chem["id"]
    )
    # a change of set points is audited with before and after, and synced
    r = node.client.patch(
        f"{API}/points/{co['id']}", json={"h": 24, "hh": None}, headers=_as(node, "qiye")
    )
    assert r.status_code == 200 and (r.json()["h"], r.json()["hh"]) == (24.0, None)
    with node.db() as s:
        rec = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "monitoring_point.update")
        ).one()
        assert rec.detail["before"] == {"h": 20.0, "hh": 50.0}
        assert rec.detail["after"] == {"h": 24.0, "hh": None}
        versions = s.scalars(
            select(OutboxEntry.version).where(
                OutboxEntry.entity == "monitoring_point", OutboxEntry.uid == co["uid"]
            )
        ).all()
        assert sorted(versions) == [1, 2]


def test_http_ingest_stores_each_reading_once_and_counts_what_it_refuses(personas: Any) -> None:
    node = personas
    _created(node, code="LT-101", kind="tank_level", h=8, hh=9)
    gateway = _token(node)
    now = int(time.time() * 1000)
    good = [
        {"point": "LT-101", "value": 5.0 + i / 10, "ts": now - 10_000 + i * 1000} for i in range(5)
    ]
    bad = [
        {"point": "NOPE", "value": 1.0},
        {"point": "LT-101", "value": "high"},
        {"point": "LT-101", "value": 1.0, "ts": now + 3_600_000},
        {"point": "LT-101", "value": 1.0, "status": "melted"},
        {"value": 1.0},
    ]
    r = _send(node, gateway, *good, *bad)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (5, 0)
    assert [x["reason"] for x in body["rejected"]] == [
        "unknown_point",
        "not_numeric",
        "future",
        "bad_status",
        "malformed",
    ]
    assert [x["index"] for x in body["rejected"]] == [5, 6, 7, 8, 9]
    # the same batch again (a gateway retrying): nothing stored twice
    again = _send(node, gateway, *good).json()
    assert (again["accepted"], again["duplicates"]) == (0, 5)
    # a batch with nothing usable: 422 naming where, and still counted
    r = node.client.post(f"{API}/readings", content=b"{not json", headers=gateway)
    assert r.status_code == 422 and r.json()["field"] == "body"
    assert r.json()["rejected"][0]["reason"] == "malformed"
    # no token or a wrong one: 401; another enterprise's token cannot write the mine's points
    assert _send(node, {}, *good).status_code == 401
    assert _send(node, {"Authorization": "Bearer ajg_forged"}, *good).status_code == 401
    chem_gateway = _token(node, CHEM_USCC)
    r = _send(node, chem_gateway, {"point": "LT-101", "value": 9.9})
    assert r.status_code == 422 and r.json()["rejected"][0]["reason"] == "unknown_point"
    # a new token replaces the old one
    newer = _token(node)
    assert _send(node, gateway, *good).status_code == 401
    assert _send(node, newer, *good).status_code == 200
    with node.db() as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == 5
    counts = node.client.get(f"{API}/rejections", headers=_as(node, "yingxian")).json()
    mine = {
        c["reason"]: c["count"]
        for c in counts
        if c["enterprise_id"] == node.enterprises["ying_mine"]
    }
    assert mine == {
        "unknown_point": 1,
        "not_numeric": 1,
        "future": 1,
        "bad_status": 1,
        "malformed": 2,
    }
    assert {c["enterprise_id"] for c in counts} == {node.enterprises["ying_mine"]}
    # rejections are scoped like everything else
    shanyin = node.client.get(f"{API}/rejections", headers=_as(node, "shanyin")).json()
    assert [(c["enterprise_id"], c["reason"]) for c in shanyin] == [
        (node.enterprises["shan_chem"], "unknown_point")
    ]
    point = node.client.get(f"{API}/points", headers=_as(node, "qiye")).json()["items"][0]
    assert (point["last_value"], point["last_ts"]) == (5.4, now - 6000)


def test_alarm_is_raised_once_escalated_ended_and_taken_through_its_loop(personas: Any) -> None:
    node = personas
    pt = _created(node, code="LT-101", kind="tank_level", h=8, hh=9, dead_band=0.5)
    gateway = _token(node)
    assert _send(node, gateway, {"point": "LT-101", "value": 8.4}).json()["alarms_raised"] == 1
    now = int(time.time() * 1000)
    hh = {"point": "LT-101", "value": 9.3, "ts": now + 1000}
    assert _send(node, gateway, hh).json()["alarms_escalated"] == 1
    assert _send(node, gateway, hh).json()["alarms_escalated"] == 0  # redelivered: no-op
    official = _as(node, "yingxian")
    alarms = node.client.get("/api/v1/alarms?active=true", headers=official).json()
    assert alarms["total"] == 1
    alarm = alarms["items"][0]
    assert (alarm["level"], alarm["level_label"], alarm["bound"], alarm["bound_label"]) == (
        1,
        "严重",
        "hh",
        "高高报",
    )
    assert (alarm["value"], alarm["peak"], alarm["threshold"], alarm["state"]) == (
        8.4,
        9.3,
        9.0,
        "raised",
    )
    # escalation moved the threshold to HH; the set point the raising value crossed is kept,
    # and the time of the peak (the escalating reading's)
    assert alarm["trigger_threshold"] == 8.0
    peak_at = datetime.fromisoformat(alarm["peak_at"])
    assert peak_at.utcoffset() is not None and round(peak_at.timestamp() * 1000) == now + 1000
    assert (alarm["point_code"], alarm["enterprise_name"]) == ("LT-101", "应县金鼎煤业有限公司")
    assert node.client.get("/api/v1/alarms?level=2", headers=official).json()["total"] == 0
    assert (
        node.client.get(f"/api/v1/alarms/{alarm['id']}", headers=_as(node, "shanyin")).status_code
        == 404
    )
    assert node.client.get("/api/v1/alarms", headers=_as(node, "shanyin")).json()["total"] == 0
    url = f"/api/v1/alarms/{alarm['id']}"
    mine = _as(node, "qiye")
    # the loop in order: handle before acknowledging is refused (409, audited nothing)
    assert (
        node.client.post(
            f"{url}/handle", json={"cause": "x", "action": "y", "handler": "z"}, headers=mine
        ).status_code
        == 409
    )
    assert node.client.post(f"{url}/acknowledge", headers=mine).json()["state"] == "acknowledged"
    r = node.client.post(
        f"{url}/handle", json={"cause": "进料阀未关", "action": "关阀倒罐"}, headers=mine
    )
    assert r.status_code == 422 and r.json()["field"] == "handler"
    r = node.client.post(
        f"{url}/handle",
        json={"cause": "进料阀未关", "action": "关阀倒罐", "handler": "李安全"},
        headers=mine,
    )
    assert r.status_code == 200 and r.json()["handler"] == "李安全"
    # still above its set point: cannot close
    r = node.client.post(f"{url}/close", headers=official)
    assert r.status_code == 409 and "恢复" in r.json()["detail"]
    # 7.7 is inside the dead band (8 - 0.5): still on; 7.4 ends it
    _send(node, gateway, {"point": "LT-101", "value": 7.7, "ts": now + 2000})
    assert node.client.get(url, headers=official).json()["ended_at"] is None
    assert (
        _send(node, gateway, {"point": "LT-101", "value": 7.4, "ts": now + 3000}).json()[
            "alarms_ended"
        ]
        == 1
    )
    r = node.client.post(f"{url}/close", headers=official)
    assert (
        r.status_code == 200
        and r.json()["state"] == "closed"
        and r.json()["closed_by"] == "yingxian"
    )
    assert [r.action for r in node.audits("alarm.%")] == [
        "alarm.acknowledge",
        "alarm.handle",
        "alarm.close",
    ]
    with node.db() as s:
        row = s.get(Alarm, alarm["id"])
        assert row is not None and row.point_id == pt["id"]
        # every change of the alarm went to the outbox: raised, escalated, ack, handled, ended, closed
        versions = s.scalars(
            select(OutboxEntry.version).where(
                OutboxEntry.entity == "alarm", OutboxEntry.uid == alarm["uid"]
            )
        ).all()
        assert sorted(versions) == list(range(1, row.version + 1)) and row.version >= 6


def test_coal_methane_power_cut_is_its_own_record_until_the_restore_concentration(
    personas: Any,
) -> None:
    node = personas
    gateway, now, official = _preset_points(node, T1="coal_ch4_t1_face")
    out = _send(node, gateway, {"point": "T1", "value": 1.6, "ts": now - 3000}).json()
    assert out["alarms_raised"] == 2  # 一级 threshold alarm and the power cut
    _send(node, gateway, {"point": "T1", "value": 1.2, "ts": now - 2000})
    cut = node.client.get("/api/v1/alarms?kind=power_cut&active=true", headers=official).json()
    assert cut["total"] == 1 and cut["items"][0]["bound_label"] == "断电"
    _send(node, gateway, {"point": "T1", "value": 0.9, "ts": now - 1000})
    assert node.client.get("/api/v1/alarms?active=true", headers=official).json()["total"] == 0


def test_belt_methane_cuts_at_1_5_until_below_1_0_and_a_return_airway_never_cuts(
    personas: Any,
) -> None:
    node = personas
    gateway, now, official = _preset_points(
        node, BELT="coal_ch4_enclosed_belt", RET="coal_ch4_main_return"
    )
    out = _send(
        node,
        gateway,
        {"point": "BELT", "value": 1.5, "ts": now - 3000},
        {"point": "RET", "value": 2.0, "ts": now - 3000},
    ).json()
    assert out["alarms_raised"] == 3  # belt: threshold and power cut; return: threshold only
    cuts = node.client.get("/api/v1/alarms?kind=power_cut&active=true", headers=official).json()
    assert [a["point_code"] for a in cuts["items"]] == ["BELT"]
    _send(node, gateway, {"point": "BELT", "value": 1.0, "ts": now - 2000})  # not below 1.0
    assert (
        node.client.get("/api/v1/alarms?kind=power_cut&active=true", headers=official).json()[
            "total"
        ]
        == 1
    )
    _send(node, gateway, {"point": "BELT", "value": 0.99, "ts": now - 1000})
    assert (
        node.client.get("/api/v1/alarms?kind=power_cut&active=true", headers=official).json()[
            "total"
        ]
        == 0
    )


def test_gas_detector_alarms_carry_the_gb_50493_names_in_the_board_severity_order(
    personas: Any,
) -> None:
    node = personas
    gateway, now, official = _preset_points(node, **{"GT-1": "gas_combustible"})
    # 25 %LEL is the first set point: GB/T 50493's 一级报警, the board's 预警 (less severe)
    _send(node, gateway, {"point": "GT-1", "value": 25.0, "ts": now - 2000})
    alarm = node.client.get("/api/v1/alarms?active=true", headers=official).json()["items"][0]
    assert (alarm["level"], alarm["bound"], alarm["bound_label"], alarm["point_kind"]) == (
        2,
        "h",
        "一级报警",
        "combustible_gas",
    )
    point = node.client.get(f"{API}/points", headers=_as(node, "qiye")).json()["items"][0]
    assert (point["alarm_bound"], point["alarm_bound_label"]) == ("h", "一级报警")
    # 50 %LEL, the second set point: 二级报警, escalated to the board's 严重 (most severe)
    _send(node, gateway, {"point": "GT-1", "value": 50.0, "ts": now - 1000})
    alarm = node.client.get(f"/api/v1/alarms/{alarm['id']}", headers=official).json()
    assert (alarm["level"], alarm["level_label"], alarm["bound"], alarm["bound_label"]) == (
        1,
        "严重",
        "hh",
        "二级报警",
    )
    assert node.client.get("/api/v1/alarms?level=1", headers=official).json()["total"] == 1


def test_status_from_the_gateway_and_the_trend(personas: Any) -> None:
    node = personas
    pt = _created(node, code="PT-1", kind="pressure", h=100)
    gateway = _token(node)
    start = int(time.time() * 1000) - 60_000
    readings = [
        {"point": "PT-1", "value": float(i % 10), "ts": start + i * 1000} for i in range(60)
    ]
    assert _send(node, gateway, *readings).json()["accepted"] == 60
    url = f"{API}/points/{pt['id']}/series?from={start}&to={start + 60_000}&step=10"
    series = node.client.get(url, headers=_as(node, "shuozhou")).json()
    assert [b["n"] for b in series["items"]] == [10] * 6
    assert series["items"][0] == {"ts": start, "avg": 4.5, "min": 0.0, "max": 9.0, "n": 10}
    r = node.client.get(
        f"{API}/points/{pt['id']}/series?from=yesterday&to={start}", headers=_as(node, "qiye")
    )
    assert r.status_code == 422 and r.json()["field"] == "from"
    # a fault reported by the gateway changes the device status (synced), and no alarm follows
    fault = _send(node, gateway, {"point": "PT-1", "status": "fault", "ts": start + 61_000})
    assert fault.json()["alarms_raised"] == 1  # the status alarm
    got = node.client.get(f"{API}/points/{pt['id']}", headers=_as(node, "qiye")).json()
    assert (got["status"], got["status_label"]) == ("fault", "故障")
    assert (
        node.client.get(f"{API}/points?status=fault", headers=_as(node, "yingxian")).json()["total"]
        == 1
    )
