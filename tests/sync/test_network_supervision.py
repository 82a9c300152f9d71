"""挂牌督办 across real tiered nodes (issue 3 harness), on the shared chain (national → province →
city → 应县): the province supervises a county's hidden hazard, the order reaches the county, and
the county's closure comes back up."""

from __future__ import annotations

import time
from typing import Any

import httpx
from harness import CITY, COUNTY_A, PROVINCE, Api, Network, chain_apis, wait_until
from network_world import HAZARDS

from anjian.enterprises.rules import compose_uscc

# --- 挂牌督办 across the tiers --------------------------------------------------------------------


def _supervise(api: Api, path: str, requirements: str) -> dict[str, Any]:
    """Put the record at ``path`` under 挂牌督办 with ``requirements`` (retried through
    restarts); the order."""
    order: dict[str, Any] = api.call_until(
        "POST",
        f"{path}/supervise",
        json={"requirements": requirements, "due_date": "2099-06-30"},
        ok=(201,),
    ).json()
    return order


def test_supervision_from_the_province_reaches_the_county_and_the_closure_comes_back(
    chain: Network,
) -> None:
    """A major hazard registered at the county is put under 挂牌督办 by the province (on its
    read-only copy); the order comes down, the county cannot write the hazard off until the
    province lifts the order after accepting the work; the closure flows back up to the nation."""
    net = chain
    county, county_official, province, city, national = chain_apis(net)
    ent = county.call_until(
        "POST",
        "/api/v1/enterprises",
        json={
            "uscc": compose_uscc(COUNTY_A, "MA0D0001"),
            "name": "应县督办测试煤业有限公司",
            "division_code": COUNTY_A,
            "supervision_category": "coal_mine",
        },
    ).json()
    # Online monitoring on the way: a methane reading over the power-cut concentration at
    # the county raises alarms there that the province sees, and their handling follows.
    county.call_until(
        "POST",
        "/api/v1/monitoring/points",
        json={"enterprise_id": ent["id"], "code": "T1", "preset": "coal_ch4_t1_face"},
        ok=(201,),
    )
    token = net.node(COUNTY_A).cli("gateway", "token", ent["uscc"]).strip().splitlines()[-1]
    read_at = int(time.time() * 1000)
    r = httpx.post(
        f"{net.node(COUNTY_A).url}/api/v1/monitoring/readings",
        json={"ts": read_at, "readings": [{"point": "T1", "value": 1.8}]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["alarms_raised"] == 2, r.text
    hz = county.call_until(
        "POST",
        HAZARDS,
        json={"enterprise_id": ent["id"], "place": "回风巷", "description": "通风设施不可靠"},
    ).json()
    path = f"{HAZARDS}/{hz['id']}"
    county.call_until(
        "POST",
        f"{path}/register",
        json={
            "grade": "major",
            "major_criterion": "煤矿重大事故隐患判定标准第五项",
            "deadline": "2099-12-31",
            "responsible": "王矿长",
            "measures": "重建通风设施",
        },
        ok=(200,),
    )
    plan = {k: "已落实" for k in ("goal", "measures", "funds", "organisation", "deadline")}
    plan |= {"safety_measures": "撤人停产", "emergency_plan": "通风专项预案"}
    county.call_until("PUT", f"{path}/plan", json=plan, ok=(200,))

    copy = wait_until(
        lambda: (h := province.find(HAZARDS, hz["uid"], size=500)) and h["grade"] == "major" and h,
        timeout=60,
        what="the major hazard at the province",
    )
    # this enterprise's alarms (the chain is shared: count no one else's)
    above = f"enterprise_id={copy['enterprise_id']}"
    alarms = wait_until(
        lambda: (
            (a := province.call("GET", f"/api/v1/alarms?active=true&{above}").json())["total"] == 2
            and a
        ),
        timeout=60,
        what="the county's alarms at the province",
    )
    assert {(a["kind"], a["level"], a["point_code"]) for a in alarms["items"]} == {
        ("threshold", 1, "T1"),
        ("power_cut", 1, "T1"),
    }
    cut = next(a for a in alarms["items"] if a["kind"] == "power_cut")
    assert cut["origin_node"] == f"node-{COUNTY_A}"
    # what raised each alarm and its peak travel up with it (columns of migration 0014)
    up = {a["kind"]: a for a in alarms["items"]}
    mine = f"enterprise_id={ent['id']}"
    for a in county.call("GET", f"/api/v1/alarms?active=true&{mine}").json()["items"]:
        fields = ("value", "trigger_threshold", "peak", "peak_at")
        assert {k: up[a["kind"]][k] for k in fields} == {k: a[k] for k in fields}
        assert a["peak_at"] is not None and a["trigger_threshold"] is not None
    refused = province.call("POST", f"/api/v1/alarms/{cut['id']}/acknowledge")
    assert refused.status_code == 403  # the county's record: read-only above
    local = county.call("GET", f"/api/v1/alarms?kind=power_cut&{mine}").json()["items"][0]
    county_official.call_until("POST", f"/api/v1/alarms/{local['id']}/acknowledge", ok=(200,))
    wait_until(
        lambda: (
            province.call("GET", f"/api/v1/alarms/{cut['id']}").json()["state"] == "acknowledged"
        ),
        timeout=60,
        what="the acknowledgement at the province",
    )
    # an accident report filed at the county reaches the province as it is filed
    accident = county_official.call_until(
        "POST",
        "/api/v1/accidents",
        json={
            "occurred_at": "2026-11-29T06:40:00+08:00",
            "division_code": COUNTY_A,
            "place": "回风巷",
            "accident_type": "roof_fall",
            "reporter": "王矿长",
            "deaths": 3,
            "enterprise_id": ent["id"],
        },
        ok=(201,),
    ).json()
    wait_until(
        lambda: any(
            a["uid"] == accident["uid"] and a["grade_label"] == "较大"
            for a in province.call("GET", "/api/v1/accidents").json()["items"]
        ),
        timeout=60,
        what="the accident report at the province",
    )
    # each agency's step of the chain is its own node's record; the province sees them all
    acc_copy = next(
        a
        for a in province.call("GET", "/api/v1/accidents").json()["items"]
        if a["uid"] == accident["uid"]
    )
    steps = wait_until(
        lambda: (
            (c := province.call("GET", f"/api/v1/accidents/{acc_copy['id']}").json()["chain"])
            and [s["tier"] for s in c] == ["county", "city", "province"]
            and c
        ),
        timeout=60,
        what="the chain's steps at the province",
    )
    assert [s["origin_node"] for s in steps] == [
        f"node-{COUNTY_A}",
        f"node-{CITY}",
        f"node-{PROVINCE}",
    ]
    # 较大: the city investigates on its node and sets a corrective measure; the province
    # sees both and puts the case under 挂牌督办; the order comes down to the city
    at_city = wait_until(
        lambda: next(
            (
                a
                for a in city.call("GET", "/api/v1/accidents").json()["items"]
                if a["uid"] == accident["uid"]
            ),
            None,
        ),
        timeout=60,
        what="the accident report at the city",
    )
    city_case = f"/api/v1/accidents/{at_city['id']}"
    city.call_until("POST", f"{city_case}/investigation", json={"team": "市调查组"}, ok=(201,))
    measure = {"content": "顶板专项整治", "responsible": "企业", "due_date": "2099-01-31"}
    city.call_until("POST", f"{city_case}/measures", json=measure, ok=(201,))
    province_case = f"/api/v1/accidents/{acc_copy['id']}"
    seen = wait_until(
        lambda: (
            (d := province.call("GET", province_case).json())["investigation"]
            and d["corrective_measures"]
            and d
        ),
        timeout=60,
        what="the city's investigation and measure at the province",
    )
    assert seen["investigation"]["origin_node"] == f"node-{CITY}"
    assert seen["corrective_measures"][0]["content"] == "顶板专项整治"
    case_order = _supervise(province, province_case, "依法从严查处")
    assert case_order["target_division"] == CITY
    wait_until(
        lambda: (
            (city.call("GET", city_case).json()["supervision"] or {}).get("uid")
            == case_order["uid"]
        ),
        timeout=60,
        what="the 挂牌督办 of the investigation at the city",
    )
    # the raw readings stay at the county: the province asks, the county answers up
    point = province.call("GET", f"/api/v1/monitoring/points?q=T1&{above}").json()["items"][0]
    url = f"/api/v1/monitoring/points/{point['id']}/readings?from={read_at}&to={read_at + 1}"
    assert province.call("GET", url).status_code == 202
    raw = wait_until(
        lambda: (r := province.call("GET", url)).status_code == 200 and r.json(),
        timeout=60,
        what="the raw readings from the county",
    )
    assert raw["readings"] == [[read_at, 1.8, 0]] and raw["source"] == f"node-{COUNTY_A}"
    order = _supervise(province, f"{HAZARDS}/{copy['id']}", "30 日内整改到位并报验收")
    assert order["kind"] == "supervision" and order["subject_uid"] == hz["uid"]
    wait_until(
        lambda: county.call("GET", path).json()["supervision_uid"] == order["uid"],
        timeout=60,
        what="the supervision order at the county",
    )
    county.call_until("POST", f"{path}/start", json={}, ok=(200,))
    county.call_until("POST", f"{path}/finish", json={"note": "通风设施已重建"}, ok=(200,))
    refused = county_official.call("POST", f"{path}/accept", json={"note": "合格"})
    assert refused.status_code == 409 and "挂牌督办" in refused.json()["detail"]

    wait_until(
        lambda: province.find(HAZARDS, hz["uid"], size=500)["state"] == "rectified",
        timeout=60,
        what="the rectification at the province",
    )
    province.call_until(
        "POST", f"/api/v1/directives/{order['uid']}/close", json={"note": "验收合格"}, ok=(200,)
    )
    wait_until(
        lambda: county.call("GET", path).json()["supervision_uid"] is None,
        timeout=60,
        what="the lifted order at the county",
    )
    closed = county_official.call_until(
        "POST", f"{path}/accept", json={"note": "督办解除，同意销号"}, ok=(200,)
    ).json()
    assert closed["state"] == "closed"
    for api, where in ((province, "province"), (national, "nation")):
        wait_until(
            lambda api=api: api.find(HAZARDS, hz["uid"], size=500)["state"] == "closed",
            timeout=60,
            what=f"the closure at the {where}",
        )
