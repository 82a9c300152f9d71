"""Order No. 493 Art. 19 (the county may entrust the unit with an 一般 accident without
casualties) and Art. 32 (the reply, 批复, to the investigation report: 15 days, 特别重大 30
extendable by at most 30), through the API; and an agency's own 2 h clock (Art. 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from anjian.accidents.models import AccidentStep, Investigation
from anjian.core.clock import CST, today_in_china
from anjian.db import utcnow
from samples import accident_report


def _accident(node: Any, headers: dict[str, str], **numbers: Any) -> dict[str, Any]:
    body = {"deaths": 0, "missing": 0, "serious_injuries": 0, **numbers}
    r = node.client.post("/api/v1/accidents", json=accident_report(**body), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_county_entrusts_the_unit_only_with_an_ordinary_accident_without_casualties(
    personas: Any,
) -> None:
    node = personas
    county, city = node.login("yingxian"), node.login("shuozhou")
    body = {"team": "应县金鼎煤业事故调查组", "entrusted_to_unit": True}

    def url(acc: dict[str, Any]) -> str:
        return f"/api/v1/accidents/{acc['id']}/investigation"

    # an 一般 accident with no one hurt (a loss only): the county may entrust the unit
    ok = _accident(node, county, direct_loss_cny=2_000_000)
    r = node.client.post(url(ok), json=body, headers=county)
    assert r.status_code == 201 and r.json()["entrusted_to_unit"] is True, r.text
    detail = node.client.get(f"/api/v1/accidents/{ok['id']}", headers=city).json()
    assert detail["investigation"]["entrusted_to_unit"] is True
    # any casualty — a minor injury, a missing person — and it is refused, naming why
    for numbers in ({"minor_injuries": 1}, {"missing": 1}, {"deaths": 1}):
        acc = _accident(node, county, **numbers)
        r = node.client.post(url(acc), json=body, headers=county)
        assert r.status_code == 409 and r.json()["field"] == "entrusted_to_unit", r.text
        assert "造成人员伤亡" in r.json()["detail"]
        # without entrusting, the county opens it itself
        plain = node.client.post(url(acc), json={"team": "县调查组"}, headers=county)
        assert plain.status_code == 201 and plain.json()["entrusted_to_unit"] is False
    # a 较大 accident is the city's and never entrusted
    serious = _accident(node, county, direct_loss_cny=10_000_000)
    r = node.client.post(url(serious), json=body, headers=city)
    assert r.status_code == 409 and "仅一般事故" in r.json()["detail"]
    # a city taking an 一般 accident over does not entrust it: that is the county's to decide
    taken = _accident(node, county)
    r = node.client.post(url(taken), json=body, headers=city)
    assert r.status_code == 409 and "县级人民政府" in r.json()["detail"]
    # hostile input: a boolean only
    for bad in ("yes", 1, "true", None):
        r = node.client.post(
            url(taken), json={"team": "x", "entrusted_to_unit": bad}, headers=county
        )
        assert r.status_code == 422 and r.json()["field"] == "entrusted_to_unit", (bad, r.text)


def test_the_county_is_not_offered_what_it_would_be_refused_by_the_api(personas: Any) -> None:
    """立案调查 of a 较大 accident: refused to the county by the API; the page decides with the
    same rule (see tests/web/test_accident_pages.py)."""
    from anjian.accidents import investigations
    from anjian.accidents.models import Accident

    node = personas
    acc = _accident(node, node.login("yingxian"), deaths=3)
    r = node.client.post(
        f"/api/v1/accidents/{acc['id']}/investigation",
        json={"team": "县调查组"},
        headers=node.login("yingxian"),
    )
    assert r.status_code == 403 and r.json()["field"] == "lead_division"
    with node.db() as s:
        record = s.get(Accident, acc["id"])
        assert record is not None
        assert not investigations.may_open_investigation(s, record, "140622")
        assert investigations.may_open_investigation(s, record, "140600")
        assert investigations.may_open_investigation(s, record, "140000")


def test_the_report_is_submitted_and_replied_to_within_15_days(personas: Any) -> None:
    node = personas
    county, city = node.login("yingxian"), node.login("shuozhou")
    acc = _accident(node, county, deaths=3)  # 较大: the city leads, its government replies
    base = f"/api/v1/accidents/{acc['id']}/investigation"
    assert node.client.post(base, json={"team": "市调查组"}, headers=city).status_code == 201
    reply = {
        "replied_on": str(today_in_china()),
        "reply_by": "朔州市人民政府",
        "reply_doc_no": "朔政函〔2026〕88号",
    }
    r = node.client.post(f"{base}/reply", json=reply, headers=city)
    assert r.status_code == 409 and "尚未提交" in r.json()["detail"]  # no report yet
    inv = node.client.get(f"/api/v1/accidents/{acc['id']}", headers=city).json()["investigation"]
    assert inv["reply_last_day"] is None and inv["reply_overdue"] is False
    # hostile and wrong times
    for body, field in (
        ({"submitted_at": "2026-11-29T06:40:00"}, "submitted_at"),  # no zone
        ({"submitted_at": "2099-01-01T00:00:00+08:00"}, "submitted_at"),
        ({"submitted_at": "2020-01-01T00:00:00+08:00"}, "submitted_at"),  # before it opened
        ({"submitted_at": "x" * 10_000}, "submitted_at"),
        ({"late": True}, "late"),
    ):
        r = node.client.post(f"{base}/report", json=body, headers=city)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    r = node.client.post(f"{base}/report", json={}, headers=county)  # the city leads
    assert r.status_code == 403 and r.json()["field"] == "lead_division"
    assert node.client.post(f"{base}/report", json={}, headers=city).status_code == 200
    r = node.client.post(f"{base}/report", json={}, headers=city)
    assert r.status_code == 409  # submitted once
    inv = r = node.client.get(f"/api/v1/accidents/{acc['id']}", headers=city).json()
    inv = inv["investigation"]
    submitted = datetime.fromisoformat(inv["report_submitted_at"]).astimezone(CST).date()
    assert date.fromisoformat(inv["reply_last_day"]) == submitted + timedelta(days=15)
    assert inv["overdue"] is False and inv["reply_overdue"] is False
    # the reply's extension is 特别重大's only
    r = node.client.patch(base, json={"reply_extension_days": 10}, headers=city)
    assert r.status_code == 409 and r.json()["field"] == "reply_extension_days"
    assert "仅特别重大" in r.json()["detail"]
    r = node.client.patch(base, json={"reply_extension_days": 31}, headers=city)
    assert r.status_code == 422 and r.json()["field"] == "reply_extension_days"
    # the reply: each field named when wrong
    for body, field in (
        ({**reply, "reply_doc_no": ""}, "reply_doc_no"),
        ({**reply, "reply_by": "政" * 201}, "reply_by"),
        ({**reply, "reply_by": "朔州\x00市"}, "reply_by"),
        ({**reply, "replied_on": str(today_in_china() + timedelta(days=2))}, "replied_on"),
        ({**reply, "replied_on": "2020-01-01"}, "replied_on"),
        ({**reply, "replied_on": "99999-01-01"}, "replied_on"),
    ):
        r = node.client.post(f"{base}/reply", json=body, headers=city)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    assert node.client.post(
        f"{base}/reply", json=reply, headers=node.login("qiye")
    ).status_code in (
        403,
        404,
    )
    r = node.client.post(f"{base}/reply", json=reply, headers=city)
    assert r.status_code == 200, r.text
    assert (r.json()["reply_doc_no"], r.json()["reply_overdue"]) == ("朔政函〔2026〕88号", False)
    assert node.client.post(f"{base}/reply", json=reply, headers=city).status_code == 409
    # the ledger shows the reply to every level above
    ledger = node.client.get("/api/v1/accidents/investigations", headers=node.login("sheng")).json()
    assert ledger["items"][0]["investigation"]["replied_on"] == str(today_in_china())


@pytest.mark.parametrize(("days_ago", "overdue"), [(15, False), (16, True)])
def test_a_reply_not_given_by_its_last_day_is_overdue(
    personas: Any, days_ago: int, overdue: bool
) -> None:
    node = personas
    county, city = node.login("yingxian"), node.login("shuozhou")
    acc = _accident(node, county, deaths=3)
    base = f"/api/v1/accidents/{acc['id']}/investigation"
    node.client.post(base, json={"team": "市调查组"}, headers=city)
    node.client.post(f"{base}/report", json={}, headers=city)
    submitted = utcnow() - timedelta(days=days_ago)
    with node.db() as s:
        s.execute(
            update(Investigation)
            .where(Investigation.accident_uid == acc["uid"])
            .values(report_submitted_at=submitted, started_at=submitted - timedelta(days=1))
        )
    items = node.client.get("/api/v1/accidents/investigations", headers=city).json()["items"]
    inv = items[0]["investigation"]
    assert inv["reply_overdue"] is overdue, inv
    assert inv["reply_last_day"] == str(submitted.astimezone(CST).date() + timedelta(days=15))


def test_an_especially_serious_accidents_reply_is_extended_once_by_at_most_30_days(
    node: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_NODE_DIVISION", "000000")
    get_settings.cache_clear()
    node.add_user("guojia", "official", "000000")
    who = node.login("guojia")
    body = accident_report(division_code="140622", deaths=30, missing=0)
    acc = node.client.post("/api/v1/accidents", json=body, headers=who).json()
    assert acc["grade_label"] == "特别重大"
    base = f"/api/v1/accidents/{acc['id']}/investigation"
    assert node.client.post(base, json={"team": "国务院事故调查组"}, headers=who).status_code == 201
    r = node.client.post(f"{base}/report", json={}, headers=who)
    submitted = datetime.fromisoformat(r.json()["report_submitted_at"]).astimezone(CST).date()
    assert r.json()["reply_last_day"] == str(submitted + timedelta(days=30))
    r = node.client.patch(base, json={"reply_extension_days": 31}, headers=who)
    assert r.status_code == 422 and r.json()["field"] == "reply_extension_days"
    r = node.client.patch(base, json={"reply_extension_days": 30}, headers=who)
    assert r.status_code == 200 and r.json()["reply_last_day"] == str(
        submitted + timedelta(days=60)
    )
    r = node.client.patch(base, json={"reply_extension_days": 1}, headers=who)
    assert r.status_code == 409 and "一次" in r.json()["detail"]


def test_an_agency_is_late_by_its_own_two_hours_not_by_the_levels_below(personas: Any) -> None:
    """The unit reported 5 h after its head learned of it: the county is not late for that; it
    is late once its own 2 h from its receipt have passed."""
    node = personas
    county = node.login("yingxian")
    known = datetime.now(UTC) - timedelta(hours=5)
    acc = _accident(node, county, occurred_at=known.isoformat())
    url = f"/api/v1/accidents/{acc['id']}"
    step = {s["tier"]: s for s in acc["chain"]}["county"]
    assert step["received_late"] and not step["late"]
    with node.db() as s:
        s.execute(
            update(AccidentStep)
            .where(AccidentStep.accident_uid == acc["uid"], AccidentStep.tier == "county")
            .values(received_at=utcnow() - timedelta(hours=2, minutes=1))
        )
    step = {s["tier"]: s for s in node.client.get(url, headers=county).json()["chain"]}["county"]
    assert step["late"]
    up = node.client.post(f"{url}/report-up", headers=county).json()
    chain = {s["tier"]: s for s in up["chain"]}
    assert chain["county"]["late"]  # passed on after its own 2 h
    assert not chain["city"]["late"] and chain["city"]["received_late"]  # the city is not


def test_only_the_lead_or_one_above_edits_and_closes_the_investigation(personas: Any) -> None:
    """The county reads a city-led investigation but neither edits nor closes it (403 naming
    ``lead_division``, as for the report and the reply); the city and the province do."""
    node = personas
    county, city, province = (node.login(n) for n in ("yingxian", "shuozhou", "sheng"))
    acc = _accident(node, county, deaths=3)  # 较大: the city leads
    base = f"/api/v1/accidents/{acc['id']}/investigation"
    assert node.client.post(base, json={"team": "市调查组"}, headers=city).status_code == 201
    findings = {"direct_causes": "顶板支护失效", "nature": "责任事故"}
    for r in (
        node.client.patch(base, json=findings, headers=county),
        node.client.post(f"{base}/close", headers=county),
    ):
        assert r.status_code == 403 and r.json()["field"] == "lead_division", r.text
    inv = node.client.get(f"/api/v1/accidents/{acc['id']}", headers=county).json()
    assert inv["investigation"]["direct_causes"] == "" and inv["investigation"]["closed_at"] is None
    r = node.client.patch(base, json=findings, headers=city)
    assert r.status_code == 200 and r.json()["direct_causes"] == "顶板支护失效", r.text
    rest = {"responsibility": "矿长负主要责任", "measures": "全面排查顶板"}
    r = node.client.patch(base, json=rest, headers=province)
    assert r.status_code == 200 and r.json()["measures"] == "全面排查顶板", r.text
    r = node.client.post(f"{base}/close", headers=province)
    assert r.status_code == 200 and r.json()["closed_at"] is not None, r.text
