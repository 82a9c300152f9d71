"""Emergency work at a county across real tiered nodes (issue 19), on the shared chain (national →
province → city → 应县):

- an event received at the county reaches the city and the province through the forwarders, and
  each later step at the county — the level raised, a situation report, a resource dispatched,
  the closure — follows it up; the province orders the county about it (指令, down) and the
  county's 签收 comes back up;
- the county's plans (its own, and an enterprise's filed with it: drafted and submitted by the
  enterprise, reviewed by the county), a drill held and evaluated, the duty desk's shift, a call
  received (接报) and passed on (转报), a handover, and a protection target reach the province,
  where an official sees each of them and cannot change any (403: the county keeps them); the
  target's contact phone is SM4-encrypted under each node's own key and never crosses a link in
  the clear.

Prints how long each took to arrive."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from harness import CITY, COUNTY_A, PASSWORD, PROVINCE, Api, Network, Node, wait_until

from anjian.core.clock import today_in_china
from anjian.core.crypto import FieldCipher, mask_phone
from anjian.db import utcnow
from anjian.enterprises.rules import compose_uscc

EMG = "/api/v1/emergency"
DUTY = f"{EMG}/duty"
PHONE = "13934567890"  # the school's contact: personal data


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

    # 指令: the province orders the county about the event from its copy; the order flows
    # down, the county signs on its own event, the receipt flows back up to the province
    t2 = time.monotonic()
    order = _done(
        province,
        "POST",
        f"{EMG}/events/{raised['id']}/orders",
        201,
        {"title": "立即核实被困人数，每小时续报", "target_division": COUNTY_A},
    )
    assert order["issuer_name"] and order["signed"] is False and order["can_sign"] is False

    def _order_at_county() -> dict[str, Any] | None:
        got = county.call("GET", f"{path}/orders").json()
        return next((o for o in got if o["uid"] == order["uid"]), None)

    down = wait_until(_order_at_county, timeout=60, what="the province's order at the county")
    print(f"the province's order at the county in {time.monotonic() - t2:.1f}s")
    assert down["can_sign"] is True and down["target_name"]
    t3 = time.monotonic()
    signed = _done(
        county, "POST", f"{path}/orders/{order['uid']}/receipts", 201, {"note": "已部署"}
    )
    assert signed["signed"] is True and signed["can_sign"] is False

    def _signed_at_province() -> dict[str, Any] | None:
        got = province.call("GET", f"{EMG}/events/{raised['id']}/orders").json()
        return next((o for o in got if o["uid"] == order["uid"] and o["signed"]), None)

    up = wait_until(_signed_at_province, timeout=60, what="the county's 签收 at the province")
    print(f"the county's 签收 at the province in {time.monotonic() - t3:.1f}s")
    assert [r["note"] for r in up["receipts"]] == ["已部署"]
    kinds = [
        x["kind"] for x in province.call("GET", f"{EMG}/events/{raised['id']}").json()["timeline"]
    ]
    assert "order" in kinds and "signed" in kinds

    _done(county, "POST", f"{path}/close", 200, {"review": "处置得当"})
    closed = wait_until(
        lambda: (e := _at(province, ev["uid"])) and e["state"] == "closed" and e,
        timeout=60,
        what="the closure at the province",
    )
    assert closed["review"] == "处置得当" and closed["dispatches"][0]["state"] == "released"


# --- plans, drills, duty and protection targets ---------------------------------------------------


def _enterprise_with_its_user(admin: Api) -> tuple[dict[str, Any], Api]:
    """A chemical plant registered at the county and its safety manager's account there (made
    by the county's administrator); a client logged in as that user."""
    ent = _done(
        admin,
        "POST",
        "/api/v1/enterprises",
        201,
        {
            "uscc": compose_uscc(COUNTY_A, "MA0Y0001"),
            "name": "应县预案测试化工有限公司",
            "division_code": COUNTY_A,
            "supervision_category": "hazardous_chemicals",
        },
    )
    _done(
        admin,
        "POST",
        "/api/v1/users",
        201,
        {
            "username": "yaqiye",
            "password": PASSWORD,
            "role": "enterprise",
            "division_code": COUNTY_A,
            "enterprise_id": ent["id"],
        },
    )
    return ent, Api(admin.base_url, "yaqiye")


def _plans_and_drill(
    official: Api, enterprise: Api, ent: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The county's own plan (relying on a rescue team) with a drill held and evaluated, and
    the enterprise's plan, drafted and submitted (报备) by the enterprise and filed by the
    county; each as the county answered last."""
    today = today_in_china().isoformat()
    team = _done(
        official,
        "POST",
        f"{EMG}/resources",
        201,
        {"kind": "team", "name": "应县危化救援队", "division_code": COUNTY_A, "headcount": 18},
    )
    own = _done(
        official,
        "POST",
        f"{EMG}/plans",
        201,
        {
            "title": "应县生产安全事故综合应急预案",
            "category": "overall",
            "division_code": COUNTY_A,
            "owner": "应县应急管理局",
            "event_types": ["production_accident", "chemical_leak"],
            "response_levels": [{"level": 4, "trigger": "一般生产安全事故"}],
            "roles": [{"role": "总指挥", "duty": "县政府分管副县长"}],
            "resource_ids": [team["id"]],
            "issued_on": today,
        },
    )
    drill = _done(
        official,
        "POST",
        f"{EMG}/drills",
        201,
        {
            "title": "液氨泄漏综合演练",
            "plan_id": own["id"],
            "form": "live",
            "scale": "comprehensive",
            "organiser": "应县应急管理局",
            "place": "应县化工园区",
            "planned_on": today,
        },
    )
    path = f"{EMG}/drills/{drill['id']}"
    _done(
        official,
        "POST",
        f"{path}/record",
        200,
        {"held_on": today, "participants": 120, "record": "模拟储罐泄漏，疏散、堵漏、洗消"},
    )
    drill = _done(
        official,
        "POST",
        f"{path}/evaluate",
        200,
        {"rating": "good", "problems": "警戒区设置偏小", "improvements": "按扩散分析划定警戒区"},
    )
    filed = _done(
        enterprise,
        "POST",
        f"{EMG}/plans",
        201,
        {
            "title": "液氨泄漏专项应急预案",
            "category": "special",
            "division_code": COUNTY_A,
            "enterprise_id": ent["id"],
            "owner": ent["name"],
            "event_types": ["chemical_leak"],
            "response_levels": [{"level": 4, "trigger": "储罐区液氨泄漏"}],
            "issued_on": today,
        },
    )
    assert filed["filing_state"] == "draft"
    submitted = _done(enterprise, "POST", f"{EMG}/plans/{filed['id']}/submit", 200)
    assert submitted["filing_state"] == "submitted"
    filed = _done(
        official,
        "POST",
        f"{EMG}/plans/{filed['id']}/review",
        200,
        {"decision": "filed", "opinion": "要素齐全，予以备案"},
    )
    assert filed["filing_state"] == "filed" and filed["filing_number"]
    return own, drill, filed


def _duty(official: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The desk's shift now; a call received (接报, the event opened with it), the handover
    while it waits, then its passing on (转报); each as the county answered last."""
    now = utcnow()
    shift = _done(
        official,
        "POST",
        f"{DUTY}/shifts",
        201,
        {
            "division_code": COUNTY_A,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=11)).isoformat(),
            "leader": "王带班",
            "officers": ["李值班", "赵值班"],
            "duty_phone": "0349-5022110",
        },
    )
    receipt = _done(
        official,
        "POST",
        f"{DUTY}/receipts",
        201,
        {
            "caller": "应县化工园区管委会",
            "content": "园区内一企业液氨管道法兰泄漏，已疏散周边人员",
            "title": "应县化工园区液氨泄漏",
            "event_type": "chemical_leak",
            "level": 4,
        },
    )
    assert receipt["event"] is not None and not receipt["passed_on"]
    handover = _done(
        official,
        "POST",
        f"{DUTY}/handovers",
        201,
        {"shift_id": shift["id"], "handed_by": "李值班", "taken_by": "孙值班", "notes": "盯紧泄漏"},
    )
    waiting = handover["open_items"]
    assert receipt["uid"] in [r["uid"] for r in waiting["receipts"]], waiting
    assert receipt["event_uid"] in [e["uid"] for e in waiting["events"]], waiting
    receipt = _done(
        official, "PATCH", f"{DUTY}/receipts/{receipt['id']}", 200, {"passed_to": "朔州市应急局"}
    )
    assert receipt["passed_on"]
    return shift, receipt, handover


def _cipher(node: Node) -> FieldCipher:
    """The node's own key for personal data (data dir, keys/field.key)."""
    return FieldCipher((node.data_dir / "keys" / "field.key").read_bytes())


def _stored_phone(node: Node, uid: str) -> str:
    rows = node.query(
        "SELECT contact_phone_enc FROM emergency_protection_targets WHERE uid = :u", u=uid
    )
    assert len(rows) == 1, rows
    return str(rows[0][0])


def _same(copy: dict[str, Any], kept: dict[str, Any], *keys: str) -> None:
    """The copy shows what the county holds (and it is the county's record, same version)."""
    for key in ("uid", "origin_node", "version", *keys):
        assert copy[key] == kept[key], (key, copy[key], kept[key])
    assert kept["origin_node"] == f"node-{COUNTY_A}"


def _refused(api: Api, method: str, path: str, body: Any = None) -> None:
    """A write to a copy is refused as every record kept at another node is (403, naming it)."""
    r = api.call(method, path, json=body)
    assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert f"node-{COUNTY_A}" in r.json()["detail"], r.text


@pytest.mark.slow
def test_plans_drills_duty_and_targets_at_the_county_reach_the_province(chain: Network) -> None:
    net = chain
    county_node, province_node = net.node(COUNTY_A), net.node(PROVINCE)
    official, admin = county_node.api("official"), county_node.api("admin")
    province = province_node.api("official")
    for child in (COUNTY_A, CITY):  # what crosses the links from here on
        net.proxies[child].record()

    ent, enterprise = _enterprise_with_its_user(admin)
    try:
        own, drill, filed = _plans_and_drill(official, enterprise, ent)
    finally:
        enterprise.close()
    shift, receipt, handover = _duty(official)
    target = _done(
        official,
        "POST",
        f"{EMG}/targets",
        201,
        {
            "kind": "school",
            "name": "应县第一中学",
            "division_code": COUNTY_A,
            "address": "应县金城镇",
            "lng": 113.19,
            "lat": 39.55,
            "population": 2400,
            "contact_name": "刘校长",
            "contact_phone": PHONE,
        },
    )
    assert target["contact_phone"] == mask_phone(PHONE)

    # Each reaches the province, as the county holds it now.
    t0 = time.monotonic()
    lists = {
        "plan": (f"{EMG}/plans", own),
        "filed plan": (f"{EMG}/plans", filed),
        "drill": (f"{EMG}/drills", drill),
        "shift": (f"{DUTY}/shifts", shift),
        "receipt": (f"{DUTY}/receipts", receipt),
        "handover": (f"{DUTY}/handovers", handover),
        "target": (f"{EMG}/targets", target),
    }
    for what, (path, kept) in lists.items():
        wait_until(
            lambda path=path, kept=kept: (
                (got := province.find(path, kept["uid"], size=100))
                and got["version"] == kept["version"]
            ),
            timeout=60,
            what=f"the county's {what} at the province",
        )
    print(f"\nplans, drill, duty and target at the province in {time.monotonic() - t0:.1f}s")
    # read once all are there (a plan shows its last drill, a drill its plan …)
    seen = {
        what: province.find(path, kept["uid"], size=100) for what, (path, kept) in lists.items()
    }

    _same(seen["plan"], own, "title", "category", "filing_state", "response_levels", "roles")
    assert seen["plan"]["filing_state"] == "not_required"
    # the linked team is the province's copy of the county's resource, named
    [linked] = seen["plan"]["resources"]
    assert linked["uid"] == own["resources"][0]["uid"]
    assert linked["name"] == "应县危化救援队" and linked["id"] is not None
    assert seen["plan"]["last_drill_on"] == today_in_china().isoformat()
    _same(
        seen["filed plan"], filed, "filing_state", "filing_number", "reviewed_by", "enterprise_name"
    )
    assert seen["filed plan"]["enterprise_name"] == ent["name"]
    assert seen["filed plan"]["submitted_at"] is not None
    _same(seen["drill"], drill, "state", "rating", "participants", "plan_uid", "plan_title")
    assert seen["drill"]["plan_id"] == seen["plan"]["id"]  # the drill names the province's copy
    _same(seen["shift"], shift, "starts_at", "ends_at", "leader", "officers", "duty_phone")
    now = province.call("GET", f"{DUTY}/now", params={"division": COUNTY_A}).json()
    assert now["shift"] is not None and now["shift"]["uid"] == shift["uid"], now
    _same(seen["receipt"], receipt, "received_at", "source", "caller", "content", "passed_to")
    assert seen["receipt"]["passed_on"] and seen["receipt"]["event_uid"] == receipt["event_uid"]
    # the event the call opened travelled with it: the province's copy, by its number
    assert seen["receipt"]["event"]["number"] == receipt["event"]["number"]
    _same(seen["handover"], handover, "shift_uid", "handed_by", "taken_by", "at", "open_items")
    _same(seen["target"], target, "kind", "name", "population", "lng", "lat", "contact_name")

    # The contact's phone: masked in the list, revealed on purpose (audited) at the province,
    # stored under each node's own key, and never in the clear on either link up.
    assert seen["target"]["contact_phone"] == mask_phone(PHONE)
    revealed = province.call("POST", f"{EMG}/targets/{seen['target']['id']}/contacts/reveal")
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["contacts"][0]["phone"] == PHONE
    at_county = _stored_phone(county_node, target["uid"])
    at_province = _stored_phone(province_node, target["uid"])
    assert PHONE not in at_county and PHONE not in at_province and at_county != at_province
    assert _cipher(county_node).decrypt(at_county) == PHONE
    assert _cipher(province_node).decrypt(at_province) == PHONE
    with pytest.raises(ValueError):  # re-encrypted under the province's key, not the county's
        _cipher(county_node).decrypt(at_province)
    outboxes = [
        str(payload)
        for node in (county_node, net.node(CITY), province_node)
        for (payload,) in node.query(
            "SELECT payload FROM outbox WHERE entity = 'emergency_protection_target' AND uid = :u",
            u=target["uid"],
        )
    ]
    assert len(outboxes) == 3 and not any(PHONE in p for p in outboxes), outboxes
    for child in (COUNTY_A, CITY):
        up = net.proxies[child].recorded("up")
        assert any(b"/api/v1/sync/push" in stream for stream in up), f"no push from {child}"
        assert not any(PHONE.encode() in stream for stream in up), f"{PHONE} in clear from {child}"

    # Read-only at the province: every write to the county's records is refused.
    ids = {what: got["id"] for what, got in seen.items()}
    _refused(province, "PATCH", f"{EMG}/plans/{ids['plan']}", {"summary": "省里改"})
    _refused(
        province,
        "POST",
        f"{EMG}/plans/{ids['plan']}/revise",
        {"revised_on": today_in_china().isoformat(), "note": "省里修订"},
    )
    _refused(
        province,
        "POST",
        f"{EMG}/plans/{ids['filed plan']}/review",
        {"decision": "returned", "opinion": "省里退回"},
    )
    _refused(province, "POST", f"{EMG}/drills/{ids['drill']}/cancel", {"reason": "省里取消"})
    _refused(province, "DELETE", f"{DUTY}/shifts/{ids['shift']}")
    _refused(province, "PATCH", f"{DUTY}/receipts/{ids['receipt']}", {"passed_to": "省厅"})
    _refused(province, "PATCH", f"{EMG}/targets/{ids['target']}", {"population": 1})
    _refused(province, "DELETE", f"{EMG}/targets/{ids['target']}")
    for what, (path, kept) in lists.items():  # nothing changed there
        assert province.find(path, kept["uid"], size=100)["version"] == kept["version"], what
