"""Threat-zone analysis of an event (扩散分析) through the API: run at the event's place, the
answer is kept with the event (zones, the school inside, the people), summed up on the
timeline and audited; the province reads the same zones; refused without a place or a wind
direction, for a closed event, and with hostile numbers naming the field."""

from __future__ import annotations

import math
from typing import Any

import pytest

API = "/api/v1/emergency"
SOURCE = (113.2, 39.5)  # lng, lat
M_PER_DEG_LAT = 6371008.8 * math.pi / 180
RELEASE = {"release_g_s": 1000, "wind_speed_m_s": 3, "stability": "D", "wind_from_deg": 270}


def _east(metres: float) -> float:
    return SOURCE[0] + metres / (M_PER_DEG_LAT * math.cos(math.radians(SOURCE[1])))


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _event(node: Any, **body: Any) -> int:
    data = {"title": "液氯槽车泄漏", "event_type": "chemical_leak", "division_code": "140622"}
    r = node.client.post(f"{API}/events", headers=node.headers, json={**data, **body})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _analyse(node: Any, eid: int, **body: Any) -> Any:
    return node.client.post(f"{API}/events/{eid}/analysis", headers=node.headers, json=body)


def test_the_analysis_is_kept_with_the_event_and_read_above(county: Any) -> None:
    school = county.client.post(
        f"{API}/targets",
        headers=county.headers,
        json={
            "kind": "school",
            "name": "下风向 400 米小学",
            "division_code": "140622",
            "lng": _east(400),
            "lat": SOURCE[1],
            "population": 620,
        },
    )
    assert school.status_code == 201, school.text
    eid = _event(county, lng=SOURCE[0], lat=SOURCE[1])
    r = _analyse(county, eid, **RELEASE, thresholds_mg_m3=[10, 100])
    assert r.status_code == 200, r.text
    kept = r.json()["analysis"]
    assert kept["by"] == "yingxian" and kept["request"]["lng"] == SOURCE[0]
    zones = kept["answer"]["zones"]["features"]
    # the same plume as POST /dispersion: 554 m and 2266 m downwind (hand-checked there)
    lengths = [z["properties"]["length_m"] for z in zones]
    assert lengths == [pytest.approx(554.4, rel=0.01), pytest.approx(2266, rel=0.01)]
    assert [t["name"] for t in zones[0]["properties"]["targets"]] == ["下风向 400 米小学"]
    line = r.json()["timeline"][-1]
    assert line["kind"] == "analysis" and line["kind_label"] == "扩散分析"
    assert "释放速率 1000 g/s" in line["text"] and "稳定度 D" in line["text"]
    assert "100 mg/m³ 区下风向 554" in line["text"] and "防护目标 1 处、人口 620" in line["text"]
    assert [a.action for a in county.audits("emergency.event.analyse")] == [
        "emergency.event.analyse"
    ]
    # the province reads the zones the county drew
    province = county.login("sheng")
    seen = county.client.get(f"{API}/events/{eid}", headers=province).json()
    assert seen["analysis"]["answer"]["zones"] == kept["answer"]["zones"]
    # a new analysis replaces the zones; the timeline keeps both lines
    r = _analyse(county, eid, **RELEASE, chemical="氯气")
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["analysis"]["answer"]["chemical"]["name"] == "氯"  # 氯气 is an alias
    assert any("重气" in w for w in after["analysis"]["answer"]["warnings"])
    assert [x["kind"] for x in after["timeline"]].count("analysis") == 2


def test_analyses_are_refused_where_they_cannot_run(county: Any) -> None:
    nowhere = _event(county)
    r = _analyse(county, nowhere, **RELEASE, thresholds_mg_m3=[10])
    assert r.status_code == 422 and r.json()["field"] == "lng"
    # a release point given makes it possible
    r = _analyse(county, nowhere, **RELEASE, thresholds_mg_m3=[10], lng=SOURCE[0], lat=SOURCE[1])
    assert r.status_code == 200 and r.json()["analysis"]["request"]["lat"] == SOURCE[1]
    placed = _event(county, lng=SOURCE[0], lat=SOURCE[1])
    windless = {k: v for k, v in RELEASE.items() if k != "wind_from_deg"}
    r = _analyse(county, placed, **windless, thresholds_mg_m3=[10])
    assert r.status_code == 422 and r.json()["field"] == "wind_from_deg"
    county.client.post(
        f"{API}/events/{placed}/close", headers=county.headers, json={"review": "毕"}
    )
    r = _analyse(county, placed, **RELEASE, thresholds_mg_m3=[10])
    assert r.status_code == 409
    sibling = county.login("shanyin")
    r = county.client.post(
        f"{API}/events/{nowhere}/analysis", headers=sibling, json={**RELEASE, "chemical": "氨"}
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"release_g_s": 1e308}, "release_g_s"),
        ({"wind_from_deg": 361}, "wind_from_deg"),
        ({"chemical": "不存在的物质"}, "chemical"),
        ({"chemical": "氯气\x00"}, "chemical"),
        ({"thresholds_mg_m3": [1, 2, 3, 4, 5, 6]}, "thresholds_mg_m3"),
        ({"max_distance_m": 1e12}, "max_distance_m"),
    ],
)
@pytest.mark.one_backend
def test_hostile_analyses_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    eid = _event(county, lng=SOURCE[0], lat=SOURCE[1])
    r = _analyse(county, eid, **{**RELEASE, "thresholds_mg_m3": [10], **body})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    ev = county.client.get(f"{API}/events/{eid}", headers=county.headers).json()
    assert ev["analysis"] is None and len(ev["timeline"]) == 1
