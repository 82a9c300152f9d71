"""The grade calculator through the API, as an official uses it in the first minutes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from samples import accident_report


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_classify_without_saving(personas: Any) -> None:
    node = personas
    headers = node.login("yingxian")
    url = "/api/v1/accidents/classify"
    r = node.client.post(
        url, json={"deaths": 2, "missing": 1, "serious_injuries": 4}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "grade": "较大",
        "grade_code": 3,
        "criterion": "deaths",
        "criterion_label": "死亡人数",
        "grade_without_missing": "一般",
        "provisional": True,
        "report_to": "province",
    }
    r = node.client.post(url, json={"direct_loss_cny": 100_000_000}, headers=headers)
    assert (r.json()["grade"], r.json()["report_to"]) == ("特别重大", "national")
    for body, field in (
        ({"deaths": -1}, "deaths"),
        ({"deaths": "3"}, "deaths"),
        ({"deaths": 2.5}, "deaths"),
        ({"direct_loss_cny": -5}, "direct_loss_cny"),
        ({"injured": 3}, "injured"),
    ):
        r = node.client.post(url, json=body, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    assert node.client.post(url, json={}).status_code == 401


def test_first_report_is_graded_scoped_audited_and_synced(personas: Any) -> None:
    from sqlalchemy import select

    from anjian.core.audit.models import AuditRecord
    from anjian.core.sync.models import OutboxEntry

    node = personas
    county = node.login("yingxian")
    r = node.client.post("/api/v1/accidents", json=accident_report(), headers=county)
    assert r.status_code == 201, r.text
    acc = r.json()
    assert (acc["grade"], acc["grade_label"], acc["provisional"], acc["report_to"]) == (
        3,
        "较大",
        True,
        "province",
    )
    assert (acc["accident_type_label"], acc["division_name"]) == ("冒顶片帮", "应县")
    assert acc["reporter_phone"] == "136****5432"
    assert acc["known_at"] == acc["occurred_at"]
    # the few required fields name themselves when missing or wrong
    for body, field in (
        (accident_report(reporter=""), "reporter"),
        (accident_report(accident_type="meteor"), "accident_type"),
        (accident_report(occurred_at="2099-01-01T00:00:00+08:00"), "occurred_at"),
        (accident_report(occurred_at="2026-11-29T06:40:00"), "occurred_at"),  # no zone
        (accident_report(division_code="999999"), "division_code"),
    ):
        bad = node.client.post("/api/v1/accidents", json=body, headers=county)
        assert bad.status_code == 422 and bad.json()["field"] == field, (field, bad.text)
    # another county can neither file here nor read it
    other = node.login("shanyin")
    refused = node.client.post("/api/v1/accidents", json=accident_report(), headers=other)
    assert refused.status_code == 403 and refused.json()["field"] == "division_code"
    assert node.client.get(f"/api/v1/accidents/{acc['id']}", headers=other).status_code == 404
    assert node.client.get("/api/v1/accidents", headers=other).json()["total"] == 0
    # the enterprise reports its own accident; the city sees both
    mine = node.enterprises["ying_mine"]
    own = node.client.post(
        "/api/v1/accidents",
        json=accident_report(enterprise_id=mine, deaths=0, missing=0, direct_loss_cny=12_000_000),
        headers=node.login("qiye"),
    )
    assert own.status_code == 201, own.text
    assert (own.json()["unit_name"], own.json()["grade_label"]) == ("应县金鼎煤业有限公司", "较大")
    city = node.client.get("/api/v1/accidents", headers=node.login("shuozhou")).json()
    assert city["total"] == 2
    assert node.client.get("/api/v1/accidents", headers=node.login("qiye")).json()["total"] == 1
    with node.db() as s:
        assert s.scalars(
            select(AuditRecord.action).where(AuditRecord.action == "accident.report")
        ).all() == [
            "accident.report",
            "accident.report",
        ]
        sent = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "accident")).all()
        assert len(sent) == 2
        assert "13698765432" not in str(sent[0].payload)  # encrypted at rest


def test_follow_ups_regrade_within_their_window(personas: Any) -> None:
    from datetime import UTC, datetime, timedelta

    node = personas
    county = node.login("yingxian")
    now = datetime.now(UTC)
    acc = node.client.post(
        "/api/v1/accidents",
        json=accident_report(occurred_at=(now - timedelta(hours=2)).isoformat()),
        headers=county,
    ).json()
    url = f"/api/v1/accidents/{acc['id']}/follow-up"
    # the missing miner is found alive: the provisional 较大 falls to 一般
    r = node.client.post(url, json={"missing": 0, "note": "失联人员已找到"}, headers=county)
    assert r.status_code == 200, r.text
    assert (r.json()["grade_label"], r.json()["provisional"], r.json()["follow_ups"]) == (
        "一般",
        False,
        1,
    )
    # two more die in hospital, losses estimated: 重大 now, reported up to the national level
    r = node.client.post(
        url,
        json={"deaths": 12, "direct_loss_cny": 8_000_000, "note": "伤员抢救无效"},
        headers=county,
    )
    assert (r.json()["grade_label"], r.json()["report_to"], r.json()["deaths"]) == (
        "重大",
        "national",
        12,
    )
    assert node.client.post(url, json={"deaths": 1}, headers=county).json()["field"] == "note"
    assert (
        node.client.post(
            url, json={"deaths": 1, "note": "x"}, headers=node.login("shanyin")
        ).status_code
        == 404
    )
    rec = node.audits("accident.follow_up")
    assert [r.detail["grade_rose"] for r in rec] == [False, True]
    assert rec[1].detail["before"]["deaths"] == "2" and rec[1].detail["after"]["grade"] == "2"

    def reported(kind: str, days: int) -> dict[str, Any]:
        """An accident of ``kind`` that happened ``days`` ago, reported by the county now."""
        body = accident_report(
            accident_type=kind, occurred_at=(now - timedelta(days=days)).isoformat()
        )
        return node.client.post("/api/v1/accidents", json=body, headers=county).json()

    # the last day of the window (30 days; 7 for fire) counts whole; after it casualty numbers
    # are refused, naming the number, while the direct loss may still be updated and re-grades
    for kind, days in (("roof_fall", 30), ("fire", 7)):
        last_day = reported(kind, days)
        on_time = node.client.post(
            f"/api/v1/accidents/{last_day['id']}/follow-up",
            json={"deaths": 3, "note": "补报"},
            headers=county,
        )
        assert on_time.status_code == 200, (kind, on_time.text)
    for kind, days in (("roof_fall", 31), ("fire", 8)):
        old = reported(kind, days)
        url = f"/api/v1/accidents/{old['id']}/follow-up"
        late = node.client.post(url, json={"deaths": 3, "note": "补报"}, headers=county)
        assert late.status_code == 409 and late.json()["field"] == "deaths", (kind, late.text)
        assert "24:00" in late.json()["detail"]
        loss = {"deaths": 2, "direct_loss_cny": 60_000_000, "note": "损失核定"}
        updated = node.client.post(url, json=loss, headers=county)
        assert updated.status_code == 200, (kind, updated.text)
        assert updated.json()["grade_label"] == "重大"  # 5,000–10,000 万元


def test_the_chain_goes_up_tier_by_tier_with_its_clocks(personas: Any) -> None:
    from datetime import UTC, datetime, timedelta

    node = personas
    known = datetime.now(UTC) - timedelta(hours=4)  # past the statutory 1 h and 3 h
    acc = node.client.post(
        "/api/v1/accidents",
        json=accident_report(deaths=3, missing=0, occurred_at=known.isoformat()),
        headers=node.login("yingxian"),
    ).json()
    assert acc["grade_label"] == "较大"
    chain = {s["tier"]: s for s in acc["chain"]}
    assert list(chain) == ["county", "city", "province"]  # 较大: up to the province
    county, city, province = chain["county"], chain["city"], chain["province"]
    # the unit reported after its 1 h: that is the unit's 迟报, not the county's, whose own
    # 2 h run from its own receipt (Art. 11)
    assert county["received_at"] is not None and county["received_late"]
    assert not county["late"]
    received = datetime.fromisoformat(county["received_at"])
    assert datetime.fromisoformat(county["hold_due_at"]) - received == timedelta(hours=2)
    # the statutory clock stays beside it: 3 h from known_at to pass it on
    assert datetime.fromisoformat(county["report_due_at"]) - known == timedelta(hours=3)
    assert (city["received_at"], city["division_code"], province["report_due_at"]) == (
        None,
        "140600",
        None,
    )
    assert city["hold_due_at"] is None and not city["late"]  # no clock before it receives
    assert province["hold_due_at"] is None  # the top passes nothing on
    url = f"/api/v1/accidents/{acc['id']}/report-up"
    up = node.client.post(url, headers=node.login("yingxian"))
    assert up.status_code == 200, up.text
    chain = {s["tier"]: s for s in up.json()["chain"]}
    assert chain["county"]["reported_by"] == "yingxian" and chain["city"]["received_at"]
    assert not chain["county"]["late"]  # within its own 2 h, though past the statutory 3 h
    # the city received it past the statutory time (the unit was late) but is not late itself
    assert chain["city"]["received_late"] and not chain["city"]["late"]
    assert chain["city"]["hold_due_at"] is not None
    assert node.client.post(url, headers=node.login("yingxian")).status_code == 409  # done
    chain = {
        s["tier"]: s for s in node.client.post(url, headers=node.login("shuozhou")).json()["chain"]
    }
    assert chain["city"]["reported_at"] and not chain["city"]["late"]
    assert chain["province"]["received_at"]
    assert node.client.post(url, headers=node.login("sheng")).status_code == 409  # the top
    # a follow-up makes it 重大: the province must now pass it on to the national level (whose
    # step is the national node's own; this node is the province's)
    r = node.client.post(
        f"/api/v1/accidents/{acc['id']}/follow-up",
        json={"deaths": 11, "note": "伤员抢救无效"},
        headers=node.login("yingxian"),
    )
    chain = {s["tier"]: s for s in r.json()["chain"]}
    assert (r.json()["report_to"], list(chain)) == ("national", ["county", "city", "province"])
    assert chain["province"]["report_due_at"] is not None
    assert node.client.post(url, headers=node.login("sheng")).status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_investigation_at_the_tier_the_grade_requires(personas: Any) -> None:
    from datetime import datetime

    node = personas
    county, city = node.login("yingxian"), node.login("shuozhou")
    acc = node.client.post(
        "/api/v1/accidents", json=accident_report(deaths=3, missing=0), headers=county
    ).json()
    url = f"/api/v1/accidents/{acc['id']}/investigation"
    refused = node.client.post(url, json={"team": "县调查组"}, headers=county)
    assert refused.status_code == 403 and refused.json()["field"] == "lead_division"  # 较大: city
    r = node.client.post(url, json={"team": "市政府事故调查组：张、李、王"}, headers=city)
    assert r.status_code == 201, r.text
    inv = r.json()
    occurred = datetime.fromisoformat(acc["occurred_at"])
    assert (datetime.fromisoformat(inv["due_at"]) - occurred).days == 60
    assert node.client.post(url, json={"team": "again"}, headers=city).status_code == 409
    r = node.client.patch(
        url, json={"extension_days": 30, "direct_causes": "顶板支护失效"}, headers=city
    )
    assert (datetime.fromisoformat(r.json()["due_at"]) - occurred).days == 90
    assert node.client.patch(url, json={"extension_days": 10}, headers=city).status_code == 409
    assert node.client.patch(url, json={"extension_days": 61}, headers=city).status_code == 422
    closing = node.client.post(f"{url}/close", headers=city)
    assert closing.status_code == 422 and closing.json()["field"] == "nature"
    node.client.patch(
        url,
        json={"nature": "责任事故", "responsibility": "矿长负主要责任", "measures": "全面排查顶板"},
        headers=city,
    )
    closed = node.client.post(f"{url}/close", headers=city).json()
    assert closed["closed_by"] == "shuozhou" and not closed["overdue"]
    assert node.client.patch(url, json={"penalties": "罚款"}, headers=city).status_code == 409
    detail = node.client.get(f"/api/v1/accidents/{acc['id']}", headers=county).json()
    assert detail["investigation"]["nature"] == "责任事故"
    assert (
        node.client.post(url, json={"team": "x"}, headers=node.login("shanyin")).status_code == 404
    )


def test_only_the_agencies_stamp_their_chain_not_an_inspection_bureau(personas: Any) -> None:
    """朔州煤矿安全监察分局 sits in 140600 like 朔州市应急管理局 and sees the coal mine's
    accident, but the city's step of the reporting chain is the agency's to stamp."""
    node = personas
    acc = node.client.post(
        "/api/v1/accidents",
        json=accident_report(enterprise_id=node.enterprises["ying_mine"], deaths=3, missing=0),
        headers=node.login("yingxian"),
    ).json()
    url = f"/api/v1/accidents/{acc['id']}"
    assert node.client.post(f"{url}/report-up", headers=node.login("yingxian")).status_code == 200
    bureau = node.login("jianchaju")
    assert node.client.get(url, headers=bureau).status_code == 200
    refused = node.client.post(f"{url}/report-up", headers=bureau)
    assert refused.status_code == 403 and "应急管理部门" in refused.json()["detail"]
    city = node.login("shuozhou")
    chain = {s["tier"]: s for s in node.client.get(url, headers=city).json()["chain"]}
    assert chain["city"]["received_at"] and chain["city"]["reported_at"] is None
    up = node.client.post(f"{url}/report-up", headers=city)
    assert up.status_code == 200
    assert {s["tier"]: s for s in up.json()["chain"]}["city"]["reported_by"] == "shuozhou"


@pytest.mark.parametrize(
    ("place", "steps"),
    [
        ("429004", [("county", "429004"), ("province", "420000")]),  # 仙桃: no city above
        ("110105", [("county", "110105"), ("province", "110000")]),  # 北京 once, not twice
        ("441900", [("city", "441900"), ("province", "440000")]),  # 东莞: no county level
    ],
)
def test_a_report_from_any_kind_of_place_climbs_real_agencies(
    node: Any, monkeypatch: pytest.MonkeyPatch, place: str, steps: list[tuple[str, str]]
) -> None:
    """At a national node a 较大 accident reported at a province-administered county, a
    district of a municipality or a city without districts is filed (it was a 500 at 仙桃)
    with one step per agency, each due 2 h after the one below."""
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_NODE_DIVISION", "000000")
    get_settings.cache_clear()
    node.add_user("guojia", "official", "000000")
    body = accident_report(
        division_code=place, place="某厂房", deaths=3, missing=0, serious_injuries=0
    )
    r = node.client.post("/api/v1/accidents", json=body, headers=node.login("guojia"))
    assert r.status_code == 201, r.text
    chain = r.json()["chain"]
    assert [(s["tier"], s["division_code"]) for s in chain] == steps
    first, top = (datetime.fromisoformat(chain[i]["receive_due_at"]) for i in (0, -1))
    assert top - first == timedelta(hours=2)
    detail = node.client.get(f"/api/v1/accidents/{r.json()['id']}", headers=node.login("guojia"))
    assert detail.status_code == 200 and detail.json()["chain"] == chain
