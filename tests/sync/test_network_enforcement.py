"""A provincial inspection of a county enterprise across real tiered nodes (issue 18), on the
shared chain (national → province → city → 应县; the province's second inspector is zfsheng): made
at the province, it goes up to the nation and down through the city to the county, with its
finding, document and penalty case; the county sees it in its list and in the enterprise's
history but cannot change it, and later steps at the province follow it down."""

from __future__ import annotations

import time
from typing import Any

import pytest
from harness import COUNTY_A, PROVINCE, Api, Network, chain_apis, wait_until

from anjian.core.clock import today_in_china
from anjian.enterprises.rules import compose_uscc

ENF = "/api/v1/enforcement"


def _done(api: Api, method: str, path: str, status: int, body: Any = None) -> dict[str, Any]:
    """Take a step (retried through restarts) and require that it was accepted."""
    r = api.call_until(method, path, ok=(status,), json=body)
    assert r.status_code == status, r.text
    return r.json()


@pytest.mark.slow
def test_a_provincial_inspection_of_a_county_enterprise_reaches_the_county(chain: Network) -> None:
    t0 = time.monotonic()
    net = chain
    county, county_official, province, city, national = chain_apis(net)
    ent = _done(
        county,
        "POST",
        "/api/v1/enterprises",
        201,
        {
            "uscc": compose_uscc(COUNTY_A, "MA0E0001"),
            "name": "应县省级抽查测试煤业有限公司",
            "division_code": COUNTY_A,
            "supervision_category": "coal_mine",
        },
    )
    t1 = time.monotonic()
    copy = wait_until(
        lambda: next((e for e in province.all_enterprises() if e["uid"] == ent["uid"]), None),
        timeout=60,
        what="the county's enterprise at the province",
    )
    print(f"the county's enterprise at the province in {time.monotonic() - t1:.1f}s")
    users = {u["username"]: u["id"] for u in province.call("GET", "/api/v1/users").json()}
    team = [
        _done(
            province,
            "POST",
            f"{ENF}/inspectors",
            201,
            {"user_id": users[name], "certificate_no": f"1400000{n}"},
        )["id"]
        for n, name in enumerate(("official", "zfsheng"), 1)
    ]
    insp = _done(
        province,
        "POST",
        f"{ENF}/inspections",
        201,
        {"enterprise_id": copy["id"], "team": team, "planned_on": "2026-12-08"},
    )
    path = f"{ENF}/inspections/{insp['id']}"
    _done(province, "POST", f"{path}/start", 200)
    finding = _done(
        province,
        "POST",
        f"{path}/findings",
        201,
        {"item_code": "MK02", "place": "1201 工作面", "description": "甲烷超限仍在作业"},
    )
    # the hidden hazard the finding becomes is the province's; it goes down with the finding
    hazard = _done(province, "POST", f"{ENF}/findings/{finding['id']}/hazard", 200)
    assert hazard["hidden_hazard_id"] is not None
    hazard = _done(province, "GET", f"/api/v1/hidden-hazards/{hazard['hidden_hazard_id']}", 200)
    doc = _done(province, "POST", f"{path}/documents", 201, {"kind": "inspection_record"})
    case = _done(
        province,
        "POST",
        f"{ENF}/penalties",
        201,
        {
            "enterprise_id": copy["id"],
            "inspection_id": insp["id"],
            "basis": "SCF102",
            "facts": "甲烷超限仍在作业",
            "filed_on": today_in_china().isoformat(),
        },
    )

    def arrived(api: Api) -> dict[str, Any] | None:
        got = api.find(f"{ENF}/inspections", insp["uid"], size=100)
        complete = got and got["state"] == "on_site" and got["findings"] and got["documents"]
        return got if complete else None

    t2 = time.monotonic()
    seen = wait_until(lambda: arrived(county), timeout=60, what="the inspection at the county")
    print(f"the inspection down at the county in {time.monotonic() - t2:.1f}s")
    assert seen["origin_node"] == f"node-{PROVINCE}" and seen["agency_division"] == PROVINCE
    assert seen["enterprise_id"] == ent["id"] and seen["enterprise_name"] == ent["name"]
    assert [f["uid"] for f in seen["findings"]] == [finding["uid"]]
    # at the county the finding names the county's copy of the province's hazard
    local_id = seen["findings"][0]["hidden_hazard_id"]
    assert local_id is not None
    local = _done(county_official, "GET", f"/api/v1/hidden-hazards/{local_id}", 200)
    assert local["uid"] == hazard["uid"] and local["number"] == hazard["number"]
    assert local["source"] == "inspection" and local["origin_node"] == f"node-{PROVINCE}"
    refused = county_official.call("POST", f"/api/v1/hidden-hazards/{local_id}/start")
    assert refused.status_code in (403, 409, 422) and refused.status_code != 500, refused.text
    assert [d["number"] for d in seen["documents"]] == [doc["number"]]
    history = wait_until(
        lambda: (
            (h := county.call("GET", f"{ENF}/enterprises/{ent['id']}/history").json())["penalties"]
            and h
        ),
        timeout=60,
        what="the penalty case in the enterprise's history at the county",
    )
    assert [i["uid"] for i in history["inspections"]] == [insp["uid"]]
    assert [p["uid"] for p in history["penalties"]] == [case["uid"]]
    # the county holds a read-only copy: the inspecting agency's node alone changes it
    refused = county_official.call("POST", f"{ENF}/inspections/{seen['id']}/finish")
    assert refused.status_code in (403, 422), refused.text
    refused = county_official.call(
        "POST",
        f"{ENF}/inspections/{seen['id']}/finish",
        json={"summary": "县里代为结束"},
    )
    assert refused.status_code == 403, refused.text
    for api, where in ((city, "city"), (national, "nation")):
        wait_until(lambda api=api: arrived(api), timeout=60, what=f"the inspection at {where}")

    _done(province, "POST", f"{path}/finish", 200, {"summary": "检查 15 项，发现 1 项问题"})
    t3 = time.monotonic()
    for api, where in ((county, "county"), (national, "nation")):
        done = wait_until(
            lambda api=api: (
                (i := api.find(f"{ENF}/inspections", insp["uid"], size=100))
                and i["state"] == "finished"
                and i
            ),
            timeout=60,
            what=f"the finished inspection at the {where}",
        )
        assert done["summary"] == "检查 15 项，发现 1 项问题"
    print(f"the finish at the county and the nation in {time.monotonic() - t3:.1f}s")
    print(f"in all {time.monotonic() - t0:.1f}s")
