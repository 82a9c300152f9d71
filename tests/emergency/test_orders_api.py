"""Orders down an event (指令与签收) through the API: the province and the city order the
county about the county's event; the county signs; the event's orders and timeline show who
ordered what and who signed when, at every level; orders are refused for closed events, for
one's own division, outside the jurisdiction, by enterprises; bad input names the field."""

from __future__ import annotations

from typing import Any

import pytest

API = "/api/v1/emergency"
COUNTY = "140622"


@pytest.fixture
def world(personas: Any) -> Any:
    personas.county = personas.login("yingxian")
    personas.city = personas.login("shuozhou")
    personas.province = personas.login("sheng")
    r = personas.client.post(
        f"{API}/events",
        headers=personas.county,
        json={
            "title": "应县金鼎煤业 1201 工作面透水",
            "event_type": "mine",
            "division_code": COUNTY,
            "level": 3,
        },
    )
    assert r.status_code == 201, r.text
    personas.eid = r.json()["id"]
    return personas


def _order(w: Any, who: dict[str, str], **body: Any) -> Any:
    data = {"title": "立即组织排水并核实被困人数", "target_division": COUNTY, **body}
    return w.client.post(f"{API}/events/{w.eid}/orders", headers=who, json=data)


def test_orders_flow_down_and_receipts_show_at_every_level(world: Any) -> None:
    r = _order(world, world.province, body="每小时续报一次")
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["issuer_name"] == "山西省应急管理厅" and order["target_name"] == "应县"
    assert order["signed"] is False and order["receipts"] == []
    assert order["can_sign"] is False  # the province does not sign its own order
    assert _order(world, world.city, title="市局工作组已出发").status_code == 201

    # the county sees both orders on the event, may sign each, and signs one
    seen = world.client.get(f"{API}/events/{world.eid}/orders", headers=world.county).json()
    assert [o["title"] for o in seen] == ["立即组织排水并核实被困人数", "市局工作组已出发"]
    assert all(o["can_sign"] for o in seen)
    r = world.client.post(
        f"{API}/events/{world.eid}/orders/{order['uid']}/receipts",
        headers=world.county,
        json={"note": "已部署"},
    )
    assert r.status_code == 201, r.text
    signed = r.json()
    assert signed["signed"] is True and signed["can_sign"] is False
    assert [x["division_name"] for x in signed["receipts"]] == ["应县"]
    assert signed["receipts"][0]["minutes"] == 0 and signed["receipts"][0]["note"] == "已部署"
    again = world.client.post(
        f"{API}/events/{world.eid}/orders/{order['uid']}/receipts",
        headers=world.county,
        json={},
    )
    assert again.status_code == 409

    # the province reads the receipt on its order; the timeline reads the orders in
    ev = world.client.get(f"{API}/events/{world.eid}", headers=world.province).json()
    mine = [o for o in ev["orders"] if o["uid"] == order["uid"]]
    assert mine and mine[0]["signed"] and mine[0]["receipts"][0]["signed_by"]
    kinds = [x["kind"] for x in ev["timeline"]]
    assert kinds[0] == "receipt" and kinds.count("order") == 2 and kinds.count("signed") == 1
    line = next(x for x in ev["timeline"] if x["kind"] == "signed")
    assert line["text"].startswith("应县签收指令：立即组织排水") and line["kind_label"] == "签收"
    assert [x["at"] for x in ev["timeline"]] == sorted(x["at"] for x in ev["timeline"])
    # the orders are directives: the county's inbox has them, the audit log has both steps
    inbox = world.client.get("/api/v1/directives", headers=world.county).json()
    assert {d["subject_entity"] for d in inbox} == {"emergency_event"}
    assert {"directive.issue", "directive.sign"} <= {a.action for a in world.audits("directive.%")}


def test_orders_are_refused_where_they_would_be_wrong(world: Any) -> None:
    # to one's own division, outside the jurisdiction, from a sibling county, by an enterprise
    r = _order(world, world.county)
    assert r.status_code == 422 and r.json()["field"] == "target_division"
    r = _order(world, world.city, target_division="140100")  # 太原, not 朔州's
    assert r.status_code == 403
    assert _order(world, world.login("shanyin"), target_division="140621").status_code == 404
    assert _order(world, world.login("qiye")).status_code in (403, 404)
    # a sibling county cannot sign an order addressed to 应县, nor see it
    uid = _order(world, world.province).json()["uid"]
    sibling = world.login("shanyin")
    r = world.client.post(
        f"{API}/events/{world.eid}/orders/{uid}/receipts", headers=sibling, json={}
    )
    assert r.status_code == 404
    # a closed event takes no more orders, but its orders stay readable and signable
    r = world.client.post(
        f"{API}/events/{world.eid}/close", headers=world.county, json={"review": "处置完毕"}
    )
    assert r.status_code == 200
    r = _order(world, world.province, title="补充指令")
    assert r.status_code == 409 and r.json()["field"] == "state"
    r = world.client.post(
        f"{API}/events/{world.eid}/orders/{uid}/receipts", headers=world.county, json={}
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "排水\x00"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": "y" * 4001}, "body"),
        ({"target_division": "14062"}, "target_division"),
        ({"target_division": "999999"}, "target_division"),
        ({"urgent": True}, "urgent"),
    ],
)
@pytest.mark.one_backend
def test_bad_orders_are_refused_naming_the_field(
    world: Any, body: dict[str, Any], field: str
) -> None:
    r = _order(world, world.province, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    assert world.client.get(f"{API}/events/{world.eid}/orders", headers=world.province).json() == []


def test_unknown_orders_and_events_are_404(world: Any) -> None:
    unknown = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    r = world.client.post(
        f"{API}/events/{world.eid}/orders/{unknown}/receipts", headers=world.county, json={}
    )
    assert r.status_code == 404
    assert world.client.get(f"{API}/events/99999/orders", headers=world.county).status_code == 404
    r = world.client.post(
        f"{API}/events/{world.eid}/orders/{'x' * 36}/receipts", headers=world.county, json={}
    )
    assert r.status_code == 422
