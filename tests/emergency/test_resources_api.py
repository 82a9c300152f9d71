"""Emergency resources (应急资源) through the API: registered by an agency in its jurisdiction or
by an enterprise for itself, shown with names and a masked phone (revealed on purpose, audited),
scoped (a sibling county sees nothing, the province everything), the nearest of a kind by
great-circle distance, and a warehouse's supplies moved to another (调拨) in one transaction."""

from __future__ import annotations

import math
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from anjian.emergency.rules.resources import EXPIRY_NOTICE_DAYS, expiry_state

API = "/api/v1/emergency"
COUNTY = "140622"  # 应县
KM_PER_DEG_LAT = 6371.0088 * math.pi / 180  # 111.195 km


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _create(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    data = {"kind": "team", "name": "应县矿山救护队", "division_code": COUNTY, **body}
    return node.client.post(f"{API}/resources", headers=headers or node.headers, json=data)


def test_a_team_is_registered_shown_changed_and_its_phone_revealed(county: Any) -> None:
    r = _create(
        county,
        specialty="矿山救护",
        headcount=32,
        lng=113.19,
        lat=39.56,
        contact_name="王队长",
        contact_phone="139-0000-1234",
        owner="应县应急管理局",
    )
    assert r.status_code == 201, r.text
    team = r.json()
    assert team["kind_label"] == "救援队伍" and team["division_name"] == "应县"
    assert team["status"] == "available" and team["status_label"] == "可调用"
    assert team["contact_phone"] != "13900001234" and team["contact_phone"].endswith("1234")
    rid = team["id"]
    r = county.client.patch(
        f"{API}/resources/{rid}", headers=county.headers, json={"status": "deployed"}
    )
    assert r.status_code == 200 and r.json()["status_label"] == "执行任务中"
    assert r.json()["version"] == team["version"] + 1
    # the same value again changes nothing
    same = county.client.patch(
        f"{API}/resources/{rid}", headers=county.headers, json={"status": "deployed"}
    )
    assert same.json()["version"] == r.json()["version"]
    shown = county.client.post(f"{API}/resources/{rid}/contacts/reveal", headers=county.headers)
    assert shown.json()["contacts"][0]["phone"] == "13900001234"
    actions = [a.action for a in county.audits("emergency%")]
    assert actions == [
        "emergency.resource.create",
        "emergency.resource.update",
        "emergency_resource.reveal",
    ]
    assert "13900001234" not in str([a.detail for a in county.audits()])
    listed = county.client.get(f"{API}/resources?kind=team", headers=county.headers).json()
    assert [i["id"] for i in listed["items"]] == [rid] and listed["total"] == 1


def test_scope_decides_who_registers_and_who_sees(county: Any) -> None:
    rid = _create(county).json()["id"]
    sibling = county.login("shanyin")
    assert county.client.get(f"{API}/resources/{rid}", headers=sibling).status_code == 404
    assert county.client.get(f"{API}/resources", headers=sibling).json()["total"] == 0
    province = county.login("sheng")
    assert county.client.get(f"{API}/resources/{rid}", headers=province).status_code == 200
    r = _create(county, headers=sibling, name="越界救护队")  # 应县 is not 山阴县's
    assert r.status_code == 403 and r.json()["field"] == "division_code"
    r = county.client.patch(
        f"{API}/resources/{rid}", headers=sibling, json={"status": "unavailable"}
    )
    assert r.status_code == 404
    # An enterprise registers its own team, and nothing else.
    mine = county.enterprises["ying_mine"]
    qiye = county.login("qiye")
    r = _create(county, headers=qiye, name="金鼎煤业兼职救护队", enterprise_id=mine)
    assert r.status_code == 201 and r.json()["enterprise_name"] == "应县金鼎煤业有限公司"
    r = _create(county, headers=qiye, name="不属于企业的队伍")
    assert r.status_code == 403 and r.json()["field"] == "enterprise_id"
    assert county.client.get(f"{API}/resources/{rid}", headers=qiye).status_code == 404
    assert county.client.get(f"{API}/resources", headers=qiye).json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "boat"}, "kind"),
        ({"division_code": "999999"}, "division_code"),
        ({"division_code": "12"}, "division_code"),
        ({"lng": 200.0, "lat": 39.0}, "lng"),
        ({"lng": 113.2}, "lat"),  # half a position: the missing coordinate is named
        ({"lat": 39.5}, "lng"),
        ({"headcount": -1}, "headcount"),
        ({"headcount": 2**63}, "headcount"),
        ({"name": "救护\x00队"}, "name"),
        ({"name": "队" * 201}, "name"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"status": "sleeping"}, "status"),
        ({"unknown": 1}, "unknown"),
    ],
)
@pytest.mark.one_backend
def test_bad_resources_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    r = _create(county, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert county.client.get(f"{API}/resources", headers=county.headers).json()["total"] == 0


def test_a_change_that_leaves_half_a_position_is_refused(county: Any) -> None:
    """A resource placed by both coordinates or neither: a change that would leave one alone is
    a 422 naming the missing one, and nothing changes."""
    bare = _create(county).json()
    url = f"{API}/resources/{bare['id']}"
    r = county.client.patch(url, headers=county.headers, json={"lng": 113.2})
    assert r.status_code == 422 and r.json()["field"] == "lat", r.text
    placed = _create(county, name="有坐标队", lng=113.2, lat=39.5).json()
    url = f"{API}/resources/{placed['id']}"
    r = county.client.patch(url, headers=county.headers, json={"lat": None})
    assert r.status_code == 422 and r.json()["field"] == "lat", r.text
    shown = county.client.get(url, headers=county.headers).json()
    assert (shown["lng"], shown["lat"]) == (113.2, 39.5)
    r = county.client.patch(url, headers=county.headers, json={"lng": None, "lat": None})
    assert r.status_code == 200, r.text  # both cleared: no position, as allowed


def test_the_nearest_resources_of_a_kind(county: Any) -> None:
    # Teams due north of the place, 1, 5 and 20 km away, one without a position, one shelter.
    lng, lat = 113.2, 39.5
    for name, km in (("五公里队", 5), ("一公里队", 1), ("二十公里队", 20)):
        r = _create(county, name=name, lng=lng, lat=lat + km / KM_PER_DEG_LAT)
        assert r.status_code == 201, r.text
    _create(county, name="无坐标队")
    _create(county, kind="shelter", name="南河种广场", capacity=3000, lng=lng, lat=lat)
    far = _create(county, name="远方队", lng=lng + 5, lat=lat).json()  # ≈ 429 km east
    county.client.patch(
        f"{API}/resources/{far['id']}", headers=county.headers, json={"status": "deployed"}
    )

    def nearest(**params: Any) -> Any:
        return county.client.get(
            f"{API}/resources/nearest",
            headers=county.headers,
            params={"lng": lng, "lat": lat, **params},
        )

    r = nearest(kind="team", limit=3)
    assert r.status_code == 200, r.text
    got = [(i["resource"]["name"], i["distance_km"]) for i in r.json()["items"]]
    assert [n for n, _ in got] == ["一公里队", "五公里队", "二十公里队"]
    assert [d for _, d in got] == [pytest.approx(k, rel=1e-3) for k in (1, 5, 20)]
    # widening past every search radius finds the far team, not available now
    items = nearest(kind="team", limit=10).json()["items"]
    assert [i["resource"]["name"] for i in items][-1] == "远方队"
    assert items[-1]["available"] is False and items[0]["available"] is True
    expected = 6371.0088 * math.radians(5) * math.cos(math.radians(lat))  # ≈ on a parallel
    assert items[-1]["distance_km"] == pytest.approx(expected, rel=0.01)
    assert next(i["resource"]["name"] for i in nearest().json()["items"]) == "南河种广场"
    # out of scope: a sibling county finds none of them
    sibling = county.login("shanyin")
    r = county.client.get(
        f"{API}/resources/nearest", headers=sibling, params={"lng": lng, "lat": lat}
    )
    assert r.json()["items"] == []
    for bad, field in (
        ({"limit": 51}, "limit"),
        ({"kind": "boat"}, "kind"),
        ({"lng": 181}, "lng"),
        ({"lat": "north"}, "lat"),
    ):
        r = nearest(**bad)
        assert r.status_code == 422 and r.json()["field"] == field, (bad, r.text)


def test_supplies_are_counted_and_transferred_between_warehouses(county: Any) -> None:
    a = _create(county, kind="warehouse", name="应县应急物资储备库").json()["id"]
    b = _create(county, kind="warehouse", name="南河种镇物资点").json()["id"]
    team = _create(county).json()["id"]

    def stock(wid: int, **body: Any) -> Any:
        return county.client.put(
            f"{API}/resources/{wid}/supplies", headers=county.headers, json=body
        )

    water = stock(a, name="矿泉水", unit="箱", quantity=100, expires_on="2027-06-30")
    assert water.status_code == 200, water.text
    assert (
        stock(a, name="矿泉水", unit="箱", quantity=100, expires_on="2027-06-30").json()["id"]
        == water.json()["id"]
    )
    # a count that does not mention the expiry keeps it; an explicit null clears it
    recount = stock(a, name="矿泉水", unit="箱", quantity=90).json()
    assert (recount["quantity"], recount["expires_on"]) == (90, "2027-06-30")
    cleared = stock(a, name="矿泉水", unit="箱", quantity=90, expires_on=None).json()
    assert cleared["expires_on"] is None
    assert (
        stock(a, name="矿泉水", unit="箱", quantity=100, expires_on="2027-06-30").json()[
            "expires_on"
        ]
        == "2027-06-30"
    )
    assert stock(team, name="帐篷", unit="顶", quantity=1).status_code == 422  # not a warehouse
    assert stock(a, name="帐篷", unit="顶", quantity=-1).status_code == 422

    def move(**body: Any) -> Any:
        data = {"from_warehouse_id": a, "to_warehouse_id": b, "supply_id": water.json()["id"]}
        return county.client.post(f"{API}/transfers", headers=county.headers, json={**data, **body})

    r = move(quantity=30, reason="支援南河种镇")
    assert r.status_code == 201, r.text
    wh = {
        w["id"]: w
        for w in county.client.get(
            f"{API}/resources?kind=warehouse", headers=county.headers
        ).json()["items"]
    }
    assert [(s["name"], s["quantity"]) for s in wh[a]["supplies"]] == [("矿泉水", 70)]
    assert [(s["name"], s["quantity"]) for s in wh[b]["supplies"]] == [("矿泉水", 30)]
    r = move(quantity=71)
    assert r.status_code == 409 and "库存 70箱" in r.json()["detail"]
    assert move(quantity=1, to_warehouse_id=a).status_code == 422
    assert move(quantity=1, to_warehouse_id=team).json()["field"] == "to_warehouse_id"
    assert move(quantity=0).status_code == 422
    for wid in (a, b):  # both sides show the transfer
        rows = county.client.get(f"{API}/resources/{wid}/transfers", headers=county.headers)
        assert [(t["supply_name"], t["quantity"]) for t in rows.json()] == [("矿泉水", 30)]
    assert len(county.audits("emergency.resource.transfer")) == 1


def _sheet(header: list[str], *rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(node: Any, data: bytes) -> Any:
    return node.client.post(
        f"{API}/resources/import", headers=node.headers, files={"file": ("r.xlsx", data)}
    )


def test_resources_are_imported_from_the_template_all_or_nothing(county: Any) -> None:
    template = county.client.get(f"{API}/resources/template.xlsx", headers=county.headers)
    assert template.status_code == 200
    header = [c.value for c in load_workbook(BytesIO(template.content)).active[1]]
    assert header[:3] == ["类别(救援队伍/救援装备/物资储备库/…)*", "名称*", "行政区划代码*"]
    good = [
        [
            "救援队伍",
            "应县矿山救护中队",
            COUNTY,
            None,
            "应县应急管理局",
            "",
            113.19,
            39.56,
            "可调用",
            "矿山救护",
            24,
            None,
            "李队长",
            "13800001111",
        ],
        ["shelter", "应县体育场", "140622", None, "", "", "113.2", "39.5", None, None, None, 5000],
    ]
    bad = [
        ["潜艇", "不存在的类别", COUNTY],
        ["救援装备", "越界装备", "140621"],  # 山阴县: not 应县's
        ["救援装备", "", COUNTY],  # no name
        ["专家", "张专家", COUNTY, 999999],  # no such enterprise in scope; 专家 is not a kind
        ["应急专家", "王专家", COUNTY, None, "", "", None, None, None, "危化", 1.5],
        ["救援装备", "越界经度", COUNTY, None, "", "", 300, 39.5],  # off the earth
    ]
    r = _import(county, _sheet(header, *good, *bad))
    assert r.status_code == 422, r.text
    problems = {(e["row"], e["column"]) for e in r.json()["errors"]}
    assert {(4, "类别"), (5, "行政区划代码"), (6, "名称"), (7, "类别"), (8, "人数")} <= problems
    assert (9, "经度") in problems and not any(row in (2, 3) for row, _ in problems)
    assert county.client.get(f"{API}/resources", headers=county.headers).json()["total"] == 0
    r = _import(county, _sheet(header, *good))
    assert r.status_code == 200 and r.json()["imported"] == 2, r.text
    listed = county.client.get(f"{API}/resources", headers=county.headers).json()["items"]
    assert {(i["kind"], i["name"], i["status"]) for i in listed} == {
        ("team", "应县矿山救护中队", "available"),
        ("shelter", "应县体育场", "available"),
    }
    assert [a.result for a in county.audits("emergency_resource.import")] == [
        "failure",
        "success",
    ]


@pytest.mark.parametrize(
    ("expires_on", "state"),
    [
        (None, ""),  # does not expire
        (date(2026, 5, 31), "expired"),
        (date(2026, 6, 1), "soon"),  # its last day
        (date(2026, 7, 1), "soon"),  # 30 days ahead
        (date(2026, 7, 2), ""),
    ],
)
def test_a_supply_near_its_expiry(expires_on: date | None, state: str) -> None:
    assert EXPIRY_NOTICE_DAYS == 30
    assert expiry_state(expires_on, date(2026, 6, 1)) == state
