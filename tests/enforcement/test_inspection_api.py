"""On-site inspections through the API: planned from a drawn check or with a team, the criteria
of the enterprise's category as checklist, started, findings recorded on site only, a finding
turned into a hidden hazard once (linked both ways), finished with results; lawful teams only,
the inspecting agency alone acts, scope, audit and outbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from anjian.core.audit.models import AuditRecord
from anjian.core.sync.models import OutboxEntry
from enforcement_world import API, COUNTY, officer, plan_inspection


@pytest.fixture
def county(personas: Any) -> Any:
    """应县 with three registered officers (yingxian, zf1, zf2)."""
    personas.headers = personas.login("yingxian")
    personas.officers = [
        officer(personas, "yingxian", "14062201"),
        officer(personas, "zf1", "14062202"),
        officer(personas, "zf2", "14062203"),
    ]
    return personas


def _post(node: Any, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    return node.client.post(f"{API}{path}", headers=headers or node.headers, json=body)


def test_an_inspection_from_plan_to_finding_to_hazard_to_finish(county: Any) -> None:
    r = plan_inspection(county)
    assert r.status_code == 201, r.text
    insp = r.json()
    assert insp["state"] == "planned" and insp["state_label"] == "待检查"
    assert insp["enterprise_name"] == "应县金鼎煤业有限公司"
    assert [m["certificate_no"] for m in insp["team"]] == ["14062201", "14062202"]
    # The coal mine's checklist: the 15 items of the coal-mine criteria.
    assert [i["code"] for i in insp["checklist"]][:2] == ["MK01", "MK02"]
    assert len(insp["checklist"]) == 15 and insp["checklist"][1]["text"] == "瓦斯超限作业"
    iid = insp["id"]
    # Findings only on site.
    finding = {"item_code": "MK02", "place": "1201 工作面", "description": "甲烷 1.2% 仍在作业"}
    r = _post(county, f"/inspections/{iid}/findings", finding)
    assert r.status_code == 409 and r.json()["field"] == "state"
    assert _post(county, f"/inspections/{iid}/start").json()["state"] == "on_site"
    r = _post(county, f"/inspections/{iid}/findings", {**finding, "major": True})
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert r.json()["hidden_hazard_id"] is None
    # The finding becomes a hidden hazard, once; each names the other.
    r = _post(county, f"/findings/{fid}/hazard")
    assert r.status_code == 200, r.text
    hazard_id = r.json()["hidden_hazard_id"]
    assert hazard_id is not None
    assert _post(county, f"/findings/{fid}/hazard").status_code == 409
    hz = county.client.get(f"/api/v1/hidden-hazards/{hazard_id}", headers=county.headers).json()
    assert (
        hz["source"] == "inspection"
        and hz["source_ref"] == f"enforcement_finding:{r.json()['uid']}"
    )
    assert "瓦斯超限作业" in hz["description"] and "重大事故隐患" in hz["description"]
    assert hz["enterprise_id"] == county.enterprises["ying_mine"]
    # The checklist item is marked; finishing records the rest of the results.
    r = _post(
        county,
        f"/inspections/{iid}/finish",
        {"summary": "检查 15 项，发现 1 项重大事故隐患", "results": {"MK01": "ok", "MK11": "na"}},
    )
    assert r.status_code == 200, r.text
    done = r.json()
    results = {i["code"]: i["result"] for i in done["checklist"]}
    assert results["MK01"] == "ok" and results["MK02"] == "finding" and results["MK11"] == "na"
    assert done["state"] == "finished" and len(done["findings"]) == 1
    assert _post(county, f"/inspections/{iid}/start").status_code == 409
    with county.db() as s:
        actions = set(
            s.scalars(
                select(AuditRecord.action).where(
                    AuditRecord.action.like("enforcement.inspection.%")
                )
            )
        )
        synced = s.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.entity.in_(["enforcement_inspection", "enforcement_finding"]))
        )
    assert actions == {
        "enforcement.inspection.plan",
        "enforcement.inspection.start",
        "enforcement.inspection.finding",
        "enforcement.inspection.to_hazard",
        "enforcement.inspection.finish",
    }
    assert synced >= 6


def test_an_inspection_of_a_drawn_check_takes_its_enterprise_and_team(county: Any) -> None:
    r = _post(county, "/draws", {"division_code": COUNTY, "enterprise_count": 1, "seed": "q4"})
    assert r.status_code == 201, r.text
    drawn = r.json()["enterprises"][0]
    with county.db() as s:
        from anjian.enforcement.models import DrawCheck

        check_id = s.scalar(select(DrawCheck.id))
    r = county.client.post(
        f"{API}/inspections",
        headers=county.headers,
        json={"draw_check_id": check_id, "planned_on": "2026-12-09"},
    )
    assert r.status_code == 201, r.text
    insp = r.json()
    assert insp["source"] == "draw" and insp["source_label"] == "双随机抽查"
    assert insp["enterprise_id"] == drawn["id"]
    assert [m["id"] for m in insp["team"]] == [m["id"] for m in drawn["inspectors"]]
    again = county.client.post(
        f"{API}/inspections",
        headers=county.headers,
        json={"draw_check_id": check_id, "planned_on": "2026-12-09"},
    )
    assert again.status_code == 409


def test_only_lawful_teams(county: Any) -> None:
    one = county.officers[:1]
    assert plan_inspection(county, team=one).json()["field"] == "team"
    assert plan_inspection(county, team=[county.officers[0]] * 2).json()["field"] == "team"
    assert plan_inspection(county, team=[county.officers[0], 999999]).json()["field"] == "team"
    r = _post(
        county,
        f"/inspectors/{county.officers[1]}/conflicts",
        {"enterprise_id": county.enterprises["ying_mine"], "reason": "配偶在该矿任职"},
    )
    assert r.status_code == 201
    r = plan_inspection(county)
    assert r.status_code == 422 and "回避" in r.json()["detail"]
    assert plan_inspection(county, team=[county.officers[0], county.officers[2]]).status_code == 201


def test_only_the_inspecting_agency_acts_and_others_see_by_scope(county: Any) -> None:
    iid = plan_inspection(county).json()["id"]
    city = county.login("shuozhou")
    assert county.client.get(f"{API}/inspections/{iid}", headers=city).status_code == 200
    assert _post(county, f"/inspections/{iid}/start", headers=city).status_code == 403
    shanyin = county.login("shanyin")
    assert county.client.get(f"{API}/inspections/{iid}", headers=shanyin).status_code == 404
    assert county.client.get(f"{API}/inspections", headers=shanyin).json()["total"] == 0
    qiye = county.login("qiye")
    assert county.client.get(f"{API}/inspections", headers=qiye).status_code == 403
    # The other county cannot plan an inspection of this county's enterprise.
    r = plan_inspection(county, shanyin)
    assert r.status_code == 404 and r.json()["field"] == "enterprise_id"
    listed = county.client.get(
        f"{API}/inspections", headers=county.headers, params={"state": "planned"}
    )
    assert listed.json()["total"] == 1
    bad = county.client.get(f"{API}/inspections", headers=county.headers, params={"state": "x"})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_on": "2026-13-01"}, "planned_on"),
        ({"planned_on": "2026-12-08T10:30:00"}, "planned_on"),
        ({"enterprise_id": 2**40}, "enterprise_id"),
        ({"enterprise_id": None}, "enterprise_id"),
        ({"team": [1] * 11}, "team"),
        ({"source": "rumour"}, "source"),
        ({"source_ref": "x" * 65}, "source_ref"),
    ],
)
@pytest.mark.one_backend
def test_bad_plans_are_refused_naming_the_field(county: Any, body: dict, field: str) -> None:
    r = plan_inspection(county, **body)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_bad_findings_and_results_are_refused(county: Any) -> None:
    iid = plan_inspection(county).json()["id"]
    _post(county, f"/inspections/{iid}/start")
    for body, field in [
        ({"place": "", "description": "x"}, "place"),
        ({"place": "p", "description": "x" * 4001}, "description"),
        ({"place": "p", "description": "x", "item_code": "ZZ99"}, "item_code"),
        ({"place": "p\x00", "description": "x"}, "place"),
    ]:
        r = _post(county, f"/inspections/{iid}/findings", body)
        assert r.status_code == 422 and field in r.text, (body, r.text)
    r = _post(county, f"/inspections/{iid}/finish", {"summary": "s", "results": {"ZZ99": "ok"}})
    assert r.status_code == 422 and r.json()["field"] == "results"
    r = _post(county, f"/inspections/{iid}/finish", {"summary": "s", "results": {"MK01": "good"}})
    assert r.status_code == 422
    r = county.client.get(f"{API}/inspections/{iid}", headers=county.headers).json()
    assert r["state"] == "on_site" and r["findings"] == []


def test_the_criteria_are_served_with_their_note(county: Any) -> None:
    r = county.client.get(f"{API}/criteria", headers=county.headers)
    assert r.status_code == 200
    body = r.json()
    assert "未逐字核对" in body["note"]
    assert len(body["categories"]["hazardous_chemicals"]["items"]) == 20
    assert body["categories"]["metallurgy_trade"]["complete"] is False
