"""扩散分析 through the API: the plume at a receptor against hand-computed values, the
stability class derived from the weather, threat zones placed downwind with the resources and the
protection targets (schools, hospitals …, with the zone's totals of people) of the caller's scope
inside them, chemicals' thresholds with their warnings, and bad requests refused naming the
field."""

from __future__ import annotations

import math
from typing import Any

import pytest

from anjian.emergency.rules.dispersion import point_in_ring

API = "/api/v1/emergency"
SOURCE = (113.2, 39.5)  # lng, lat
M_PER_DEG_LAT = 6371008.8 * math.pi / 180


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _post(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return node.client.post(f"{API}/dispersion", headers=headers or node.headers, json=body)


def test_the_plume_at_a_receptor_matches_the_hand_computation(county: Any) -> None:
    # Q = 100 g/s at ground level, u = 5 m/s, class D, open country, x = 1 000 m:
    # σy = 0.08·1000/√(1 + 0.1) = 76.277 m, σz = 0.06·1000/√(1 + 1.5) = 37.947 m,
    # C = Q/(π·u·σy·σz) (the reflected image doubles the 1/(2π…) term)
    #   = 100/(π·5·76.277·37.947) g/m³ = 2.1994 mg/m³.
    r = _post(
        county,
        release_g_s=100,
        release_height_m=0,
        wind_speed_m_s=5,
        stability="D",
        terrain="rural",
        receptor_x_m=1000,
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["concentration_mg_m3"] == pytest.approx(2.1994, rel=0.01)
    assert got["sigma_y_m"] == pytest.approx(76.277, rel=0.01)
    assert got["sigma_z_m"] == pytest.approx(37.947, rel=0.01)
    assert got["stability"] == "D" and got["stability_derived"] is False
    assert got["zones"] is None
    # Off the axis by one σy: exp(−½) of the centreline.
    off = _post(
        county,
        release_g_s=100,
        wind_speed_m_s=5,
        stability="D",
        receptor_x_m=1000,
        receptor_y_m=got["sigma_y_m"],
    ).json()
    assert off["concentration_mg_m3"] == pytest.approx(2.1994 * math.exp(-0.5), rel=0.01)
    # Beyond the curves' fitted range the answer says it extrapolates.
    far = _post(county, release_g_s=100, wind_speed_m_s=5, stability="D", receptor_x_m=20_000)
    assert any("拟合范围" in w for w in far.json()["warnings"])


def test_the_stability_class_comes_from_the_weather_when_not_given(county: Any) -> None:
    # Day, strong sun, 2.5 m/s: the table gives A–B; the more stable B is taken.
    r = _post(
        county,
        release_g_s=10,
        wind_speed_m_s=2.5,
        daytime=True,
        insolation="strong",
        receptor_x_m=500,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["stability"], r.json()["stability_derived"]) == ("B", True)
    night = _post(
        county,
        release_g_s=10,
        wind_speed_m_s=2.5,
        daytime=False,
        cloud_cover_octas=2,
        receptor_x_m=500,
    )
    assert night.json()["stability"] == "F"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"wind_speed_m_s": 0.3, "stability": "D", "receptor_x_m": 100}, "wind_speed_m_s"),
        ({"wind_speed_m_s": 3, "receptor_x_m": 100}, "stability"),  # neither class nor weather
        ({"wind_speed_m_s": 3, "stability": "G", "receptor_x_m": 100}, "stability"),
        ({"wind_speed_m_s": 3, "stability": "D"}, "receptor_x_m"),  # nothing to compute
        ({"wind_speed_m_s": 3, "stability": "D", "lng": 113.2, "wind_from_deg": 0}, "lat"),
        (
            {"wind_speed_m_s": 3, "stability": "D", "terrain": "desert", "receptor_x_m": 1},
            "terrain",
        ),
        (
            {"wind_speed_m_s": 3, "daytime": False, "insolation": "strong", "receptor_x_m": 1},
            "insolation",
        ),
        (
            {"wind_speed_m_s": 3, "stability": "D", "receptor_x_m": 1, "release_g_s": -1},
            "release_g_s",
        ),
        ({"wind_speed_m_s": 3, "stability": "D", "receptor_x_m": 1e9}, "receptor_x_m"),
    ],
)
@pytest.mark.one_backend
def test_bad_requests_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    r = _post(county, **{"release_g_s": 10, **body})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text


def _resource(node: Any, name: str, east_m: float, headers: dict[str, str] | None = None) -> Any:
    lng = SOURCE[0] + east_m / (M_PER_DEG_LAT * math.cos(math.radians(SOURCE[1])))
    r = node.client.post(
        f"{API}/resources",
        headers=headers or node.headers,
        json={
            "kind": "shelter",
            "name": name,
            "division_code": "140622",
            "lng": lng,
            "lat": SOURCE[1],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_threat_zones_lie_downwind_with_what_is_inside_them(county: Any) -> None:
    _resource(county, "下风向 500 米避难点", 500)
    _resource(county, "下风向 1500 米避难点", 1500)
    _resource(county, "上风向避难点", -500)
    # Q = 1 kg/s at ground, 3 m/s, D: at 500 m C = 1000/(π·3·39.04·22.68) g/m³ ≈ 120 mg/m³,
    # so the 100 mg/m³ zone reaches about 554 m and the 10 mg/m³ zone about 2.27 km.
    r = _post(
        county,
        release_g_s=1000,
        wind_speed_m_s=3,
        stability="D",
        lng=SOURCE[0],
        lat=SOURCE[1],
        wind_from_deg=270,  # from the west: the zones lie to the east
        thresholds_mg_m3=[10, 100],
    )
    assert r.status_code == 200, r.text
    zones = r.json()["zones"]["features"]
    assert [z["properties"]["threshold_mg_m3"] for z in zones] == [100, 10]
    lengths = [z["properties"]["length_m"] for z in zones]
    assert lengths == [pytest.approx(554.4, rel=0.01), pytest.approx(2266, rel=0.01)]
    for z in zones:
        ring = z["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and all(lng >= SOURCE[0] - 1e-9 for lng, _ in ring)
        assert not point_in_ring(SOURCE[0] - 0.001, SOURCE[1], ring)
    inside = [sorted(r["name"] for r in z["properties"]["resources"]) for z in zones]
    assert inside == [["下风向 500 米避难点"], ["下风向 1500 米避难点", "下风向 500 米避难点"]]
    assert zones[0]["properties"]["enterprises"] == []
    # Another county's user sees the same zones, but none of 应县's resources in them.
    sibling = county.login("shanyin")
    r = _post(
        county,
        headers=sibling,
        release_g_s=1000,
        wind_speed_m_s=3,
        stability="D",
        lng=SOURCE[0],
        lat=SOURCE[1],
        wind_from_deg=270,
        thresholds_mg_m3=[10],
    )
    assert r.json()["zones"]["features"][0]["properties"]["resources"] == []


def test_a_chemicals_levels_draw_the_zones_and_say_the_models_limits(county: Any) -> None:
    body = {
        "release_g_s": 500,
        "wind_speed_m_s": 3,
        "stability": "D",
        "lng": SOURCE[0],
        "lat": SOURCE[1],
        "wind_from_deg": 0,
    }
    r = _post(county, **body, chemical="氯气")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["chemical"]["cas"] == "7782-50-5" and got["chemical"]["dense"] is True
    assert any("重气" in w for w in got["warnings"])
    labels = [z["properties"]["label"] for z in got["zones"]["features"]]
    assert [label.split()[0] for label in labels] == ["AEGL-3", "AEGL-2", "AEGL-1"]
    # wind from the north: every zone lies to the south
    for z in got["zones"]["features"]:
        assert all(lat <= SOURCE[1] + 1e-9 for _, lat in z["geometry"]["coordinates"][0])
    r = _post(county, **body, chemical="chlorine", levels=["IDLH"])
    assert [z["properties"]["label"].split()[0] for z in r.json()["zones"]["features"]] == ["IDLH"]
    assert _post(county, **body, chemical="不存在的物质").json()["field"] == "chemical"
    assert _post(county, **body, levels=["IDLH"]).json()["field"] == "levels"
    assert _post(county, **body).json()["field"] == "thresholds_mg_m3"
    tiny = _post(county, **{**body, "release_g_s": 0.001}, thresholds_mg_m3=[1000])
    assert tiny.json()["zones"]["features"] == [] and any(
        "未达到" in w for w in tiny.json()["warnings"]
    )


def _target(
    node: Any,
    name: str,
    east_m: float,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    lng = SOURCE[0] + east_m / (M_PER_DEG_LAT * math.cos(math.radians(SOURCE[1])))
    data = {"kind": "school", "name": name, "division_code": "140622", "lng": lng, "lat": SOURCE[1]}
    r = node.client.post(f"{API}/targets", headers=headers or node.headers, json={**data, **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_threat_zones_list_the_protection_targets_inside_with_their_people(county: Any) -> None:
    province = county.login("sheng")
    _target(county, "下风向小学", 500, population=800)
    _target(county, "下风向养老院", 1500, kind="nursing_home")  # population not recorded
    _target(county, "上风向中学", -500, population=1200)
    _target(county, "无坐标幼儿园", 0, kind="kindergarten", lng=None, lat=None, population=90)
    gone = _target(county, "已撤销的学校", 400, population=600)
    r = county.client.delete(f"{API}/targets/{gone['id']}", headers=county.headers)
    assert r.status_code == 204, r.text
    # inside the zone on the map, but in 山阴县: not 应县's to see
    _target(
        county,
        "山阴县卫生院",
        1000,
        headers=province,
        kind="hospital",
        division_code="140621",
        population=50,
    )
    body = {
        "release_g_s": 1000,
        "wind_speed_m_s": 3,
        "stability": "D",
        "lng": SOURCE[0],
        "lat": SOURCE[1],
        "wind_from_deg": 270,  # from the west: the zones lie to the east
        "thresholds_mg_m3": [10, 100],
    }
    r = _post(county, **body)
    assert r.status_code == 200, r.text
    near, wide = (z["properties"] for z in r.json()["zones"]["features"])
    (school,) = near["targets"]
    assert (school["name"], school["kind"], school["kind_label"]) == (
        "下风向小学",
        "school",
        "学校",
    )
    assert school["population"] == 800 and school["distance_m"] == pytest.approx(500, abs=2)
    assert (near["target_count"], near["population_total"], near["population_unknown"]) == (
        1,
        800,
        0,
    )
    assert [(t["name"], t["kind_label"]) for t in wide["targets"]] == [
        ("下风向小学", "学校"),
        ("下风向养老院", "养老机构"),
    ]
    assert wide["targets"][1]["population"] is None
    assert wide["targets"][1]["distance_m"] == pytest.approx(1500, abs=3)
    assert (wide["target_count"], wide["population_total"], wide["population_unknown"]) == (
        2,
        800,
        1,
    )
    # the enterprises and resources are still listed beside them
    assert near["enterprises"] == [] and near["resources"] == []
    # the province sees 山阴县's clinic in the same zone, nearest the source first
    wide = _post(county, headers=province, **body).json()["zones"]["features"][1]["properties"]
    assert [t["name"] for t in wide["targets"]] == ["下风向小学", "山阴县卫生院", "下风向养老院"]
    assert (wide["target_count"], wide["population_total"]) == (3, 850)
    # a sibling county sees the zones with only its own clinic in them
    sibling = county.login("shanyin")
    wide = _post(county, headers=sibling, **body).json()["zones"]["features"][1]["properties"]
    assert [t["name"] for t in wide["targets"]] == ["山阴县卫生院"]
    # an enterprise user sees no protection target at all
    qiye = county.login("qiye")
    wide = _post(county, headers=qiye, **body).json()["zones"]["features"][1]["properties"]
    assert (wide["targets"], wide["target_count"], wide["population_total"]) == ([], 0, 0)
