"""An emergency event across real tiered nodes (issue 19), on the shared chain (national →
province → city → 应县): received at the county, it reaches the city and the province through the
forwarders, and each later step at the county — the level raised, a situation report, a resource
dispatched, the closure — follows it up. Prints how long each took; the resources registered at
the county are seen at the province too."""

from __future__ import annotations

import time
from typing import Any

import pytest
from harness import CITY, COUNTY_A, PROVINCE, Api, Network, wait_until

EMG = "/api/v1/emergency"


def _done(api: Api, method: str, path: str, status: int, body: Any = None) -> dict[str, Any]:
    r = api.call_until(method, path, ok=(status,), json=body)
    assert r.status_code == status, r.text
    return r.json()


def _at(api: Api, uid: str) -> dict[str, Any] | None:
    """The event of ``uid`` at a node, with its timeline, once it is there."""
    return api.find_detail(f"{EMG}/events", uid)


@pytest.mark.slow
def test_an_event_at_the_county_is_followed_at_the_province(chain: Network) -> None:
    net = chain
    county = net.node(COUNTY_A).api("official")
    province = net.node(PROVINCE).api("official")
    city = net.node(CITY).api("admin")
    team = _done(
        county,
        "POST",
        f"{EMG}/resources",
        201,
        {"kind": "team", "name": "应县矿山救护队", "division_code": COUNTY_A, "headcount": 30},
    )
    t0 = time.monotonic()
    ev = _done(
        county,
        "POST",
        f"{EMG}/events",
        201,
        {
            "title": "应县某煤矿透水",
            "event_type": "mine",
            "division_code": COUNTY_A,
            "level": 4,
        },
    )
    seen = wait_until(lambda: _at(province, ev["uid"]), timeout=60, what="the event up there")
    print(f"\nthe event at the province in {time.monotonic() - t0:.1f}s")
    assert seen["number"] == ev["number"] and seen["origin_node"] == f"node-{COUNTY_A}"
    assert [e["kind"] for e in seen["timeline"]] == ["receipt"]
    wait_until(lambda: _at(city, ev["uid"]), timeout=60, what="the event at the city")

    path = f"{EMG}/events/{ev['id']}"
    t1 = time.monotonic()
    _done(county, "POST", f"{path}/level", 200, {"level": 3, "reason": "被困 5 人"})
    _done(county, "POST", f"{path}/reports", 200, {"text": "已救出 2 人"})
    _done(county, "POST", f"{path}/dispatches", 201, {"resource_id": team["id"]})
    raised = wait_until(
        lambda: (e := _at(province, ev["uid"])) and e["level"] == 3 and e["dispatches"] and e,
        timeout=60,
        what="the raised level, the report and the dispatch at the province",
    )
    print(f"the county's next steps at the province in {time.monotonic() - t1:.1f}s")
    assert [e["kind"] for e in raised["timeline"]][:3] == ["receipt", "level", "report"]
    assert raised["dispatches"][0]["resource_name"] == "应县矿山救护队"
    # the province holds a copy: the county alone changes the event
    refused = province.call("POST", f"{EMG}/events/{raised['id']}/reports", json={"text": "省里"})
    assert refused.status_code == 403, refused.text
    # the county's resources are seen at the province
    assert province.find(f"{EMG}/resources", team["uid"], size=100) is not None

    _done(county, "POST", f"{path}/close", 200, {"review": "处置得当"})
    closed = wait_until(
        lambda: (e := _at(province, ev["uid"])) and e["state"] == "closed" and e,
        timeout=60,
        what="the closure at the province",
    )
    assert closed["review"] == "处置得当" and closed["dispatches"][0]["state"] == "released"
