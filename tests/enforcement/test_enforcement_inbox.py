"""Enforcement in the work inbox (待办): an agency's inspections due within a week or on site,
its rectification orders whose deadline came without a review (复查), and its penalty cases
waiting for a step — each the asking official's own agency's, gone once the step is taken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from anjian.core.clock import today_in_china
from anjian.enforcement.rules.penalties import review_deadline
from enforcement_world import API, officer, plan_inspection


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    personas.officers = [officer(personas, "yingxian", "C1"), officer(personas, "zf1", "C2")]
    return personas


def _section(node: Any, key: str, who: str = "yingxian") -> dict[str, Any]:
    headers = node.headers if who == "yingxian" else node.login(who)
    r = node.client.get("/api/v1/inbox", headers=headers)
    assert r.status_code == 200, r.text
    return next(s for s in r.json()["sections"] if s["key"] == key)


def _post(node: Any, path: str, body: Any = None) -> Any:
    r = node.client.post(f"{API}/{path}", headers=node.headers, json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_inspections_due_this_week_and_on_site(county: Any) -> None:
    today = today_in_china()
    late = plan_inspection(county, planned_on=str(today - timedelta(days=1))).json()
    soon = plan_inspection(county, planned_on=str(today + timedelta(days=3))).json()
    plan_inspection(county, planned_on=str(today + timedelta(days=30)))  # not yet
    section = _section(county, "enforcement.inspections")
    assert section["count"] == 2
    urls = [i["url"] for i in section["items"]]
    assert urls == [
        f"/enforcement/inspections/{late['id']}",
        f"/enforcement/inspections/{soon['id']}",
    ]
    first = section["items"][0]
    assert (
        first["overdue"] is True and "待检查" in first["detail"] and "执法员zf1" in first["detail"]
    )
    assert first["title"] == late["enterprise_name"]

    _post(county, f"inspections/{late['id']}/start")
    on_site = _section(county, "enforcement.inspections")["items"][0]
    assert "检查中" in on_site["detail"] and on_site["overdue"] is False
    _post(county, f"inspections/{late['id']}/finish", {"summary": "检查结束"})
    assert _section(county, "enforcement.inspections")["count"] == 1
    # another county's official and the province see none of 应县's work
    assert _section(county, "enforcement.inspections", "shanyin")["count"] == 0
    assert _section(county, "enforcement.inspections", "sheng")["count"] == 0


def test_a_rectification_order_due_waits_for_its_review(county: Any) -> None:
    today = today_in_china()
    iid = plan_inspection(county, planned_on=str(today)).json()["id"]
    _post(county, f"inspections/{iid}/start")
    _post(county, f"inspections/{iid}/findings", {"place": "北翼回风巷", "description": "风门损坏"})
    _post(county, f"inspections/{iid}/finish", {"summary": "检查结束"})
    far = {"kind": "rectification_order", "deadline": str(today + timedelta(days=20))}
    _post(county, f"inspections/{iid}/documents", far)
    assert _section(county, "enforcement.reviews")["count"] == 0  # not due for 20 days
    near = {"kind": "rectification_order", "deadline": str(today + timedelta(days=2))}
    order = _post(county, f"inspections/{iid}/documents", near)
    section = _section(county, "enforcement.reviews")
    assert section["count"] == 1  # the order due in two days, not the one due in twenty
    item = section["items"][0]
    assert item["url"] == f"/enforcement/inspections/{iid}" and order["number"] in item["detail"]
    assert item["due_date"] == str(review_deadline(today + timedelta(days=2)))
    assert item["overdue"] is False and str(today + timedelta(days=2)) in item["detail"]
    _post(county, f"inspections/{iid}/documents", {"kind": "review_opinion", "opinion": "已整改"})
    assert _section(county, "enforcement.reviews")["count"] == 0
    assert _section(county, "enforcement.reviews", "shanyin")["count"] == 0


def test_penalty_cases_show_the_step_they_wait_for(county: Any) -> None:
    today = today_in_china()

    def file(filed: str) -> int:
        body = {
            "enterprise_id": county.enterprises["ying_mine"],
            "basis": "SCF99",
            "facts": "安全设备未经常性维护",
            "filed_on": filed,
        }
        return int(_post(county, "penalties", body)["id"])

    filed = file(str(today - timedelta(days=1)))
    waiting = file(str(today - timedelta(days=40)))
    notice = {"fine": "20000", "discretion": "ordinary"}
    _post(
        county,
        f"penalties/{waiting}/notice",
        {**notice, "notified_on": str(today - timedelta(days=30))},
    )
    running = file(str(today - timedelta(days=1)))
    _post(county, f"penalties/{running}/notice", {**notice, "notified_on": str(today)})

    items = {i["url"]: i for i in _section(county, "enforcement.penalties")["items"]}
    assert set(items) == {f"/enforcement/penalties/{filed}", f"/enforcement/penalties/{waiting}"}
    assert "待告知" in items[f"/enforcement/penalties/{filed}"]["detail"]
    assert "可作出处罚决定" in items[f"/enforcement/penalties/{waiting}"]["detail"]

    decided_on = str(today - timedelta(days=20))
    _post(county, f"penalties/{waiting}/decision", {**notice, "decided_on": decided_on})
    unpaid = {i["url"]: i for i in _section(county, "enforcement.penalties")["items"]}
    assert "罚款待缴纳" in unpaid[f"/enforcement/penalties/{waiting}"]["detail"]
    assert unpaid[f"/enforcement/penalties/{waiting}"]["overdue"] is True  # 15 days from service
    assert _section(county, "enforcement.penalties", "shanyin")["count"] == 0
