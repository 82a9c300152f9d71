"""挂牌督办 of an accident's investigation, corrective measures and their follow-up, and the
investigations ledger an upper agency watches (overdue, supervised)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from samples import accident_report


def _accident(node: Any, headers: dict[str, str], **numbers: Any) -> dict[str, Any]:
    r = node.client.post("/api/v1/accidents", json=accident_report(**numbers), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _order(days: int = 30, **extra: Any) -> dict[str, Any]:
    return {
        "requirements": "查明原因，依法追责，30 日内报送调查进展",
        "due_date": str(date.today() + timedelta(days=days)),
        **extra,
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_agency_above_the_lead_puts_the_investigation_under_supervision(
    personas: Any,
) -> None:
    from sqlalchemy import select

    from anjian.core.audit.models import AuditRecord

    node = personas
    county, city, province = (node.login(n) for n in ("yingxian", "shuozhou", "sheng"))
    acc = _accident(node, county, deaths=3, missing=0)  # 较大: the city investigates
    base = f"/api/v1/accidents/{acc['id']}"
    node.client.post(f"{base}/investigation", json={"team": "市调查组"}, headers=city)
    for who in (county, city):  # the lead itself and those below it cannot
        refused = node.client.post(f"{base}/supervise", json=_order(), headers=who)
        assert refused.status_code == 403 and refused.json()["field"] == "division_code"
    assert (
        node.client.post(f"{base}/supervise", json=_order(), headers=node.login("qiye"))
    ).status_code == 403
    past = node.client.post(f"{base}/supervise", json=_order(days=-1), headers=province)
    assert past.status_code == 422 and past.json()["field"] == "due_date"
    r = node.client.post(f"{base}/supervise", json=_order(), headers=province)
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["kind"], order["target_division"], order["issuer_division"]) == (
        "supervision",
        "140600",  # addressed to the city that leads the investigation
        "140000",
    )
    assert (order["subject_entity"], order["subject_uid"]) == ("accident", acc["uid"])
    assert "冒顶片帮" in order["title"]
    assert node.client.post(f"{base}/supervise", json=_order(), headers=province).status_code == 409
    # the city (the leading agency) and the county see the order on the accident
    for who in (city, county):
        seen = node.client.get(base, headers=who).json()["supervision"]
        assert seen is not None and seen["uid"] == order["uid"]
    ledger = node.client.get(
        "/api/v1/accidents/investigations?supervised=true", headers=province
    ).json()
    assert [i["accident_id"] for i in ledger["items"]] == [acc["id"]]
    assert ledger["items"][0]["supervised"] is True
    # the province closes its order; the supervision is over
    closed = node.client.post(
        f"/api/v1/directives/{order['uid']}/close",
        json={"note": "已结案，同意解除"},
        headers=province,
    )
    assert closed.status_code == 200, closed.text
    assert node.client.get(base, headers=city).json()["supervision"] is None
    assert (
        node.client.get("/api/v1/accidents/investigations?supervised=true", headers=province)
    ).json()["total"] == 0
    # before an investigation opens, the tier the grade requires is the lead: 一般 → the county
    minor = _accident(node, county, deaths=1, missing=0)
    r = node.client.post(f"/api/v1/accidents/{minor['id']}/supervise", json=_order(), headers=city)
    assert r.status_code == 201 and r.json()["target_division"] == "140622", r.text
    with node.db() as s:
        issued = s.scalars(select(AuditRecord).where(AuditRecord.action == "directive.issue")).all()
        assert [a.detail["subject"] for a in issued] == [
            ["accident", acc["uid"]],
            ["accident", minor["uid"]],
        ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_corrective_measures_are_followed_up_and_verified(personas: Any) -> None:
    from sqlalchemy import select, update

    from anjian.accidents.models import CorrectiveMeasure
    from anjian.core.sync.models import OutboxEntry

    node = personas
    county, city, firm = (node.login(n) for n in ("yingxian", "shuozhou", "qiye"))
    acc = _accident(node, county, enterprise_id=node.enterprises["ying_mine"], deaths=3, missing=0)
    base = f"/api/v1/accidents/{acc['id']}"
    measure = {
        "content": "全矿井开展顶板支护专项整治",
        "responsible": "应县金鼎煤业有限公司",
        "due_date": str(date.today() + timedelta(days=90)),
    }
    assert node.client.post(f"{base}/measures", json=measure, headers=city).status_code == 404
    # the unit can neither open the investigation nor pass the report up as an agency
    assert (
        node.client.post(f"{base}/investigation", json={"team": "x"}, headers=firm).status_code
        == 403
    )
    assert node.client.post(f"{base}/report-up", headers=firm).status_code == 403
    node.client.post(f"{base}/investigation", json={"team": "市调查组"}, headers=city)
    # nor write the findings of the investigation into its own accident, nor close it
    inv = f"{base}/investigation"
    assert node.client.patch(inv, json={"nature": "非责任事故"}, headers=firm).status_code == 403
    assert node.client.post(f"{inv}/close", headers=firm).status_code == 403
    assert node.client.get(base, headers=city).json()["investigation"]["nature"] == ""
    refused = node.client.post(f"{base}/measures", json=measure, headers=county)
    assert refused.status_code == 403 and refused.json()["field"] == "lead_division"
    assert node.client.post(f"{base}/measures", json=measure, headers=firm).status_code == 403
    for bad, field in (
        ({**measure, "due_date": str(date.today() - timedelta(days=1))}, "due_date"),
        ({**measure, "content": " "}, "content"),
        ({k: v for k, v in measure.items() if k != "responsible"}, "responsible"),
    ):
        r = node.client.post(f"{base}/measures", json=bad, headers=city)
        assert r.status_code == 422 and r.json()["field"] == field, (field, r.text)
    r = node.client.post(f"{base}/measures", json=measure, headers=city)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["overdue"], m["verified_at"], m["progress"]) == (False, None, "")
    # the unit reports progress; it cannot verify its own work; the county verifies
    r = node.client.post(
        f"{base}/measures/{m['id']}/progress", json={"note": "已完成 3 个工作面"}, headers=firm
    )
    assert r.status_code == 200 and r.json()["progress_by"] == "qiye", r.text
    verify = f"{base}/measures/{m['id']}/verify"
    assert node.client.post(verify, json={"note": "合格"}, headers=firm).status_code == 403
    assert node.client.post(verify, json={"note": " "}, headers=county).json()["field"] == "note"
    r = node.client.post(verify, json={"note": "现场核查合格"}, headers=county)
    assert r.status_code == 200 and r.json()["verified_by"] == "yingxian", r.text
    assert node.client.post(verify, json={"note": "again"}, headers=county).status_code == 409
    again = node.client.post(
        f"{base}/measures/{m['id']}/progress", json={"note": "x"}, headers=firm
    )
    assert again.status_code == 409
    # a second measure past its deadline shows 逾期; a measure of another accident is not here
    second = node.client.post(f"{base}/measures", json=measure, headers=city).json()
    with node.db() as s:
        s.execute(
            update(CorrectiveMeasure)
            .where(CorrectiveMeasure.id == second["id"])
            .values(due_date=date.today() - timedelta(days=2))
        )
        s.commit()
    shown = node.client.get(base, headers=county).json()["corrective_measures"]
    assert [(x["id"], x["overdue"]) for x in shown] == [(second["id"], True), (m["id"], False)]
    other = _accident(node, county)
    assert (
        node.client.post(
            f"/api/v1/accidents/{other['id']}/measures/{m['id']}/progress",
            json={"note": "x"},
            headers=county,
        ).status_code
        == 404
    )
    assert node.client.get(base, headers=node.login("shanyin")).status_code == 404
    actions = [r.action for r in node.audits("measure.%")]
    assert actions == ["measure.add", "measure.progress", "measure.verify", "measure.add"]
    with node.db() as s:
        versions = s.scalars(
            select(OutboxEntry.version).where(OutboxEntry.entity == "corrective_measure")
        ).all()
        assert sorted(versions) == [1, 1, 2, 3]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_ledger_shows_overdue_investigations_to_the_levels_above(personas: Any) -> None:
    from sqlalchemy import update

    from anjian.accidents.models import Investigation
    from anjian.db import utcnow

    node = personas
    county, city, province = (node.login(n) for n in ("yingxian", "shuozhou", "sheng"))
    late = _accident(node, county, deaths=1, missing=0)
    on_time = _accident(node, county, deaths=1, missing=0)
    for acc in (late, on_time):
        r = node.client.post(
            f"/api/v1/accidents/{acc['id']}/investigation",
            json={"team": "县调查组"},
            headers=county,
        )
        assert r.status_code == 201, r.text
    with node.db() as s:
        s.execute(
            update(Investigation)
            .where(Investigation.accident_uid == late["uid"])
            .values(due_at=utcnow() - timedelta(days=1))
        )
        s.commit()
    url = "/api/v1/accidents/investigations"
    for who in (county, city, province):
        overdue = node.client.get(f"{url}?overdue=true", headers=who).json()
        assert [i["accident_id"] for i in overdue["items"]] == [late["id"]]
        assert overdue["items"][0]["investigation"]["overdue"] is True
        current = node.client.get(f"{url}?overdue=false&state=open", headers=who).json()
        assert [i["accident_id"] for i in current["items"]] == [on_time["id"]]
    assert node.client.get(url, headers=node.login("shanyin")).json()["total"] == 0
    assert node.client.get(f"{url}?state=closed", headers=province).json()["total"] == 0
    bad = node.client.get(f"{url}?state=done", headers=province)
    assert bad.status_code == 422 and bad.json()["field"] == "state"
    detail = node.client.get(f"/api/v1/accidents/{late['id']}", headers=province).json()
    assert detail["investigation"]["overdue"] is True
