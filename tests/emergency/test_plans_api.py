"""Emergency plans and drills through the API: an agency's plan in force as issued, an
enterprise's plan submitted, returned with reasons, filed with a number and revised (filed again);
revision due after the configured years, flagged and filtered; drills planned, recorded and
evaluated, the plan's last drill shown; statistics; scope, audit and bad input naming the field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from anjian.core.clock import today_in_china
from anjian.emergency.plans.rules import add_years

API = "/api/v1/emergency"
COUNTY = "140622"


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _plan(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    data = {
        "title": "应县生产安全事故应急预案",
        "category": "overall",
        "division_code": COUNTY,
        "owner": "应县应急管理局",
        "event_types": ["production_accident", "mine"],
        "response_levels": [
            {"level": 4, "trigger": "死亡 1–2 人或被困 3 人以下"},
            {"level": 3, "trigger": "死亡 3 人以上"},
        ],
        "roles": [{"role": "总指挥", "duty": "县长"}, {"role": "抢险救援组", "duty": "救援"}],
        "issued_on": (today_in_china() - timedelta(days=30)).isoformat(),
        **body,
    }
    return node.client.post(f"{API}/plans", headers=headers or node.headers, json=data)


def _post(node: Any, path: str, body: Any = None, headers: Any = None, method: str = "POST") -> Any:
    return node.client.request(method, f"{API}{path}", headers=headers or node.headers, json=body)


def test_an_agency_plan_is_in_force_and_links_its_resources(county: Any) -> None:
    team = county.client.post(
        f"{API}/resources",
        headers=county.headers,
        json={"kind": "team", "name": "应县矿山救护队", "division_code": COUNTY},
    ).json()
    r = _plan(county, resource_ids=[team["id"], team["id"]])
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["filing_state"] == "not_required" and plan["filing_label"] == "无需备案"
    assert plan["category_label"] == "综合（总体）应急预案" and plan["division_name"] == "应县"
    assert plan["event_type_labels"] == ["生产安全事故", "矿山事故"]
    assert [x["name"] for x in plan["resources"]] == ["应县矿山救护队"]
    issued = date.fromisoformat(plan["issued_on"])
    assert plan["revision_due"] == add_years(issued, 3).isoformat()
    assert plan["revision_status"] == "ok" and plan["edition"] == 1
    # Never drilled, issued a month ago: not yet overdue for a drill (12 months).
    assert plan["last_drill_on"] is None and plan["drill_overdue"] is False
    # An agency plan is not filed.
    r = _post(county, f"/plans/{plan['id']}/submit")
    assert r.status_code == 409 and r.json()["field"] == "filing_state"
    r = _post(county, f"/plans/{plan['id']}", {"summary": "适用于全县"}, method="PATCH")
    assert r.status_code == 200 and r.json()["summary"] == "适用于全县"
    actions = {a.action for a in county.audits("emergency.plan.%")}
    assert {"emergency.plan.create", "emergency.plan.update"} <= actions


def test_an_enterprise_plan_is_filed_after_a_return(county: Any) -> None:
    qiye = county.login("qiye")
    mine = county.enterprises["ying_mine"]
    r = _plan(county, headers=qiye, title="金鼎煤业综合应急预案", enterprise_id=mine)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["filing_state"] == "draft" and r.json()["filing_label"] == "待报备"
    assert r.json()["enterprise_name"] == "应县金鼎煤业有限公司"
    # The agency cannot file what was not submitted; the enterprise cannot review.
    r = _post(county, f"/plans/{pid}/review", {"decision": "filed"})
    assert r.status_code == 409
    assert _post(county, f"/plans/{pid}/submit", headers=qiye).json()["filing_state"] == "submitted"
    r = _post(county, f"/plans/{pid}/review", {"decision": "filed"}, headers=qiye)
    assert r.status_code == 403
    # Under review it is not edited; a return needs the reasons.
    r = _post(county, f"/plans/{pid}", {"summary": "x"}, headers=qiye, method="PATCH")
    assert r.status_code == 409
    r = _post(county, f"/plans/{pid}/review", {"decision": "returned"})
    assert r.status_code == 422 and r.json()["field"] == "opinion"
    r = _post(
        county, f"/plans/{pid}/review", {"decision": "returned", "opinion": "缺少现场处置方案"}
    )
    assert (
        r.json()["filing_state"] == "returned" and r.json()["review_opinion"] == "缺少现场处置方案"
    )
    r = _post(county, f"/plans/{pid}", {"summary": "已补充"}, headers=qiye, method="PATCH")
    assert r.status_code == 200
    _post(county, f"/plans/{pid}/submit", headers=qiye)
    # Waiting for review comes first in the agency's list.
    _plan(county, title="甲县级预案")
    items = county.client.get(f"{API}/plans", headers=county.headers).json()["items"]
    assert items[0]["id"] == pid
    r = _post(county, f"/plans/{pid}/review", {"decision": "filed", "opinion": "同意备案"})
    filed = r.json()
    year = today_in_china().year
    assert filed["filing_state"] == "filed" and filed["filing_number"] == f"{COUNTY}-{year}-0001"
    assert filed["reviewed_by"] == "yingxian"
    r = _post(county, f"/plans/{pid}", {"summary": "y"}, headers=qiye, method="PATCH")
    assert r.status_code == 409
    # A revision: edition 2, to be filed again.
    today = today_in_china().isoformat()
    r = _post(
        county, f"/plans/{pid}/revise", {"revised_on": today, "note": "机构调整"}, headers=qiye
    )
    assert r.status_code == 200, r.text
    assert r.json()["edition"] == 2 and r.json()["filing_state"] == "draft"
    assert r.json()["filing_number"] == "" and r.json()["revised_on"] == today
    actions = {a.action for a in county.audits("emergency.plan.%")}
    assert {"emergency.plan.submit", "emergency.plan.review", "emergency.plan.revise"} <= actions


def test_revision_is_flagged_after_three_years(county: Any) -> None:
    today = today_in_china()
    old = _plan(county, title="老预案", issued_on=add_years(today, -3).replace(day=1).isoformat())
    soon = _plan(
        county,
        title="将到期预案",
        issued_on=(add_years(today, -3) + timedelta(days=30)).isoformat(),
    )
    fresh = _plan(county, title="新预案")
    assert old.json()["revision_status"] == "overdue" and old.json()["revision_label"] == "修订逾期"
    assert old.json()["drill_overdue"] is True
    assert soon.json()["revision_status"] == "due_soon"
    assert fresh.json()["revision_status"] == "ok"

    def titles(revision: str) -> list[str]:
        page = county.client.get(f"{API}/plans?revision={revision}", headers=county.headers)
        return [p["title"] for p in page.json()["items"]]

    assert titles("overdue") == ["老预案"] and titles("due_soon") == ["将到期预案"]
    r = county.client.get(f"{API}/plans?revision=never", headers=county.headers)
    assert r.status_code == 422 and r.json()["field"] == "revision"
    # Revised today: in force again.
    r = _post(
        county,
        f"/plans/{old.json()['id']}/revise",
        {"revised_on": today.isoformat(), "note": "评估修订"},
    )
    assert r.json()["revision_status"] == "ok" and r.json()["edition"] == 2
    r = _post(
        county, f"/plans/{old.json()['id']}/revise", {"revised_on": "2001-01-01", "note": "x"}
    )
    assert r.status_code == 422 and r.json()["field"] == "revised_on"


def test_a_drill_is_planned_held_and_evaluated(county: Any) -> None:
    plan = _plan(county).json()
    today = today_in_china()
    r = _post(
        county,
        "/drills",
        {
            "title": "透水事故桌面推演",
            "plan_id": plan["id"],
            "form": "tabletop",
            "scale": "comprehensive",
            "organiser": "应县应急管理局",
            "planned_on": today.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    drill = r.json()
    assert drill["plan_title"] == plan["title"] and drill["division_name"] == "应县"
    assert drill["state_label"] == "计划中" and drill["form_label"] == "桌面演练"
    did = drill["id"]
    # Evaluated only once held; never held in the future.
    r = _post(county, f"/drills/{did}/evaluate", {"rating": "good"})
    assert r.status_code == 409
    future = (today + timedelta(days=1)).isoformat()
    r = _post(
        county, f"/drills/{did}/record", {"held_on": future, "participants": 30, "record": "x"}
    )
    assert r.status_code == 422 and r.json()["field"] == "held_on"
    r = _post(
        county,
        f"/drills/{did}/record",
        {"held_on": today.isoformat(), "participants": 30, "record": "各组按预案响应"},
    )
    assert r.json()["state"] == "held" and r.json()["participants"] == 30
    r = _post(county, f"/drills/{did}/evaluate", {"rating": "fail"})
    assert r.status_code == 422 and r.json()["field"] == "problems"
    r = _post(
        county,
        f"/drills/{did}/evaluate",
        {"rating": "good", "problems": "通讯组到位慢", "improvements": "配备卫星电话"},
    )
    assert r.json()["rating_label"] == "良好" and r.json()["evaluated_by"] == "yingxian"
    assert _post(county, f"/drills/{did}/cancel", {"reason": "x"}).status_code == 409
    shown = county.client.get(f"{API}/plans/{plan['id']}", headers=county.headers).json()
    assert shown["last_drill_on"] == today.isoformat() and shown["drill_overdue"] is False
    # A drill of a division, planned and then called off.
    r = _post(
        county,
        "/drills",
        {
            "title": "危化品泄漏实战演练",
            "division_code": COUNTY,
            "form": "live",
            "scale": "single",
            "planned_on": future,
        },
    )
    other = r.json()["id"]
    r = _post(county, f"/drills/{other}/cancel", {"reason": "天气原因"})
    assert r.json()["state"] == "cancelled" and "天气原因" in r.json()["record"]
    page = county.client.get(f"{API}/drills?plan_id={plan['id']}", headers=county.headers).json()
    assert [d["id"] for d in page["items"]] == [did]
    stats = county.client.get(f"{API}/plans/statistics", headers=county.headers).json()
    assert stats["plans"] == 1 and stats["by_category"] == {"overall": 1}
    assert stats["drills"] == 2 and stats["drills_by_state"] == {"evaluated": 1, "cancelled": 1}
    assert stats["drills_by_rating"] == {"good": 1} and stats["participants"] == 30
    actions = {a.action for a in county.audits("emergency.drill.%")}
    assert {
        "emergency.drill.create",
        "emergency.drill.record",
        "emergency.drill.evaluate",
    } <= actions


def test_scope_decides_who_sees_plans_and_drills(county: Any) -> None:
    pid = _plan(county).json()["id"]
    shanyin = county.login("shanyin")
    assert county.client.get(f"{API}/plans/{pid}", headers=shanyin).status_code == 404
    assert county.client.get(f"{API}/plans", headers=shanyin).json()["total"] == 0
    r = _post(
        county,
        "/drills",
        {
            "title": "x",
            "plan_id": pid,
            "form": "live",
            "scale": "single",
            "planned_on": "2026-01-01",
        },
        headers=shanyin,
    )
    assert r.status_code == 404
    # The province sees the county's plan; the enterprise user only its own.
    assert county.client.get(f"{API}/plans/{pid}", headers=county.login("sheng")).status_code == 200
    assert county.client.get(f"{API}/plans", headers=county.login("qiye")).json()["total"] == 0
    r = county.client.get(f"{API}/plans/statistics?division=140621", headers=county.headers)
    assert r.status_code == 404 and r.json()["field"] == "division"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "secret"}, "category"),
        ({"event_types": ["alien"]}, "event_types"),
        ({"title": ""}, "title"),
        ({"title": "预\x00案"}, "title"),
        ({"title": "案" * 201}, "title"),
        ({"issued_on": "2999-01-01"}, "issued_on"),
        ({"issued_on": "1800-01-01"}, "issued_on"),
        ({"issued_on": "2026-01-01T08:00:00"}, "issued_on"),
        ({"response_levels": [{"level": 5, "trigger": "x"}]}, "response_levels"),
        ({"response_levels": [{"level": 1, "trigger": "x"}] * 5}, "response_levels"),
        ({"resource_ids": [2**63]}, "resource_ids"),
        ({"resource_ids": [999999]}, "resource_ids"),
        ({"division_code": "140621"}, "division_code"),
        ({"unknown": 1}, "unknown"),
    ],
)
@pytest.mark.one_backend
def test_bad_plans_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    r = _plan(county, **body)
    assert r.status_code in (403, 404, 422), r.text
    assert r.json()["field"].split(".")[0] == field
    assert county.client.get(f"{API}/plans", headers=county.headers).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"participants": 0}, "participants"),
        ({"participants": 2**63}, "participants"),
        ({"record": ""}, "record"),
        ({"held_on": "yesterday"}, "held_on"),
    ],
)
def test_bad_drill_records_are_refused(county: Any, body: dict[str, Any], field: str) -> None:
    r = _post(
        county,
        "/drills",
        {
            "title": "演练",
            "division_code": COUNTY,
            "form": "live",
            "scale": "single",
            "planned_on": "2026-01-01",
        },
    )
    did = r.json()["id"]
    data = {"held_on": "2026-01-02", "participants": 10, "record": "ok", **body}
    r = _post(county, f"/drills/{did}/record", data)
    assert r.status_code == 422 and r.json()["field"] == field
    assert (
        county.client.get(f"{API}/drills/{did}", headers=county.headers).json()["state"]
        == "planned"
    )
