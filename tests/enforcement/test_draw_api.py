"""Random draws through the API (双随机一公开): officers registered with certificates and
conflicts, a draw over a county's enterprises that is reproducible from its seed and verifiable,
teams of two without conflicted officers, scope, audit, sync records, and refused input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from anjian.core.audit.models import AuditRecord
from anjian.core.sync.models import OutboxEntry
from enforcement_world import API, COUNTY, more_enterprises, officer


@pytest.fixture
def county(personas: Any) -> Any:
    """应县 with 12 enterprises and four registered officers (yingxian and three more)."""
    personas.extra = more_enterprises(personas, 11)
    personas.headers = personas.login("yingxian")
    for n, name in enumerate(["yingxian", "zf1", "zf2", "zf3"], start=1):
        officer(personas, name, f"14062220260{n}")
    return personas


def _inspectors(node: Any) -> dict[str, int]:
    r = node.client.get(f"{API}/inspectors", headers=node.headers)
    assert r.status_code == 200, r.text
    return {row["certificate_no"]: row["id"] for row in r.json()}


def _draw(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    body = {"division_code": COUNTY, "enterprise_count": 4, **body}
    return node.client.post(f"{API}/draws", headers=headers or node.headers, json=body)


def test_a_seeded_draw_is_recorded_reproducible_and_verifiable(county: Any) -> None:
    r = _draw(county, seed="2026年第4季度")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["seed"] == "2026年第4季度" and len(first["population_hash"]) == 64
    assert len(first["enterprises"]) == 4
    for ent in first["enterprises"]:
        assert ent["name"].startswith("应县") and ent["division_code"] == COUNTY
        assert len(ent["inspectors"]) == 2
        assert all(m["certificate_no"].startswith("140622") for m in ent["inspectors"])
    # Same seed, same population (the pairs of the first draw now weigh against repeats, so
    # the teams may differ — the enterprises may not).
    again = _draw(county, seed="2026年第4季度").json()
    assert [e["id"] for e in again["enterprises"]] == [e["id"] for e in first["enterprises"]]
    assert again["population_hash"] == first["population_hash"]
    r = county.client.get(f"{API}/draws/{first['id']}/verify", headers=county.headers)
    assert r.status_code == 200, r.text
    assert r.json()["matches"] is True and r.json()["population_hash_matches"] is True
    assert r.json()["population_unchanged"] is True
    with county.db() as s:
        from anjian.enforcement.models import DrawCheck

        checks = s.scalar(select(func.count()).select_from(DrawCheck))
        entries = s.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.entity.in_(["enforcement_draw", "enforcement_draw_check"]))
        )
        audited = s.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == "enforcement.draw")
        )
    assert checks == 8 and entries == 10 and audited == 2
    # A new enterprise changes the population: the draw still verifies from its record, and
    # the answer says the population is no longer the one drawn from.
    from anjian.core.audit.service import SYSTEM
    from anjian.core.scope import Scope
    from anjian.enterprises.rules import compose_uscc
    from anjian.enterprises.schemas import EnterpriseCreate
    from anjian.enterprises.service import create_enterprise

    with county.db() as s:
        data = EnterpriseCreate(
            uscc=compose_uscc(COUNTY, "MA1E0001"),
            name="应县新建材料有限公司",
            division_code=COUNTY,
            supervision_category="other",
            industry_code="C30",
        )
        create_enterprise(s, SYSTEM, Scope.for_division(None, "admin", ["000000"]), data)
    r = county.client.get(f"{API}/draws/{first['id']}/verify", headers=county.headers).json()
    assert r["matches"] is True and r["population_unchanged"] is False


def test_a_draw_without_a_seed_gets_one_and_teams_avoid_declared_conflicts(county: Any) -> None:
    officers = _inspectors(county)
    everyone = [*county.extra, county.enterprises["ying_mine"]]
    # Officers 1 and 2 declare a conflict with every enterprise: each team must be 3 and 4.
    for cert in ("140622202601", "140622202602"):
        for ent in everyone:
            r = county.client.post(
                f"{API}/inspectors/{officers[cert]}/conflicts",
                headers=county.headers,
                json={"enterprise_id": ent, "reason": "近亲属在该企业任职"},
            )
            assert r.status_code == 201, r.text
    r = _draw(county, enterprise_count=12)
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["seed"]) == 32
    assert {e["id"] for e in body["enterprises"]} == set(everyone)
    for ent in body["enterprises"]:
        assert {m["certificate_no"] for m in ent["inspectors"]} == {"140622202603", "140622202604"}
    # Declaring the same conflict twice is a conflict.
    r = county.client.post(
        f"{API}/inspectors/{officers['140622202601']}/conflicts",
        headers=county.headers,
        json={"enterprise_id": everyone[0], "reason": "重复"},
    )
    assert r.status_code == 409
    # With a third officer conflicted too, a team of two cannot be formed: 422 naming the field.
    r = county.client.post(
        f"{API}/inspectors/{officers['140622202603']}/conflicts",
        headers=county.headers,
        json={"enterprise_id": everyone[0], "reason": "曾在该企业任职"},
    )
    assert r.status_code == 201
    r = _draw(county, enterprise_count=12)
    assert r.status_code == 422 and r.json()["field"] == "inspectors_per_check", r.text


def test_scope_roles_and_visibility(county: Any) -> None:
    r = _draw(county, seed="s")
    assert r.status_code == 201
    draw_id = r.json()["id"]
    # Another county's official cannot draw here nor see the draw.
    shanyin = county.login("shanyin")
    r = _draw(county, shanyin)
    assert r.status_code == 404 and r.json()["field"] == "division_code"
    assert county.client.get(f"{API}/draws/{draw_id}", headers=shanyin).status_code == 404
    assert county.client.get(f"{API}/draws", headers=shanyin).json()["total"] == 0
    # The city sees the county's draw; an enterprise user sees nothing of this API.
    city = county.login("shuozhou")
    assert county.client.get(f"{API}/draws", headers=city).json()["total"] == 1
    assert county.client.get(f"{API}/draws/{draw_id}/verify", headers=city).json()["matches"]
    qiye = county.login("qiye")
    assert county.client.get(f"{API}/draws", headers=qiye).status_code == 403
    assert _draw(county, qiye).status_code == 403
    # The city has no officers registered: its own draw over the county is refused clearly.
    r = _draw(county, city, division_code="140600")
    assert r.status_code == 422 and "没有登记在岗的执法人员" in r.json()["detail"]
    # The administrator is not an official: draws are for officials.
    assert _draw(county, county.login("admin")).status_code == 403


def test_officer_registration_is_checked(county: Any) -> None:
    h = county.headers
    # Already registered; an enterprise user; a user of another county (out of scope).
    r = county.client.post(
        f"{API}/inspectors", headers=h, json={"user_id": county.users["zf1"], "certificate_no": "x"}
    )
    assert r.status_code == 409
    r = county.client.post(
        f"{API}/inspectors",
        headers=h,
        json={"user_id": county.users["qiye"], "certificate_no": "x"},
    )
    assert r.status_code == 409
    r = county.client.post(
        f"{API}/inspectors",
        headers=h,
        json={"user_id": county.users["shanyin"], "certificate_no": "x"},
    )
    assert r.status_code == 404 and r.json()["field"] == "user_id"
    # An officer taken off the draws is not drawn.
    officers = _inspectors(county)
    for cert in ("140622202601", "140622202602", "140622202603"):
        r = county.client.post(
            f"{API}/inspectors/{officers[cert]}/active", headers=h, params={"active": "false"}
        )
        assert r.status_code == 200 and r.json()["active"] is False
    r = _draw(county, enterprise_count=1)
    assert r.status_code == 422 and "不足 2 名" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enterprise_count": 0}, "enterprise_count"),
        ({"enterprise_count": 13}, "enterprise_count"),
        ({"enterprise_count": 2**63}, "enterprise_count"),
        ({"inspectors_per_check": 1}, "inspectors_per_check"),
        ({"division_code": "14062"}, "division_code"),
        ({"categories": ["mines"]}, "categories"),
        ({"seed": ""}, "seed"),
        ({"seed": "a" * 65}, "seed"),
        ({"seed": "a\x00b"}, "seed"),
        ({"weights": "heaviest"}, "weights"),
        ({"surprise": 1}, "surprise"),
    ],
)
@pytest.mark.one_backend
def test_bad_draws_are_refused_naming_the_field(county: Any, body: dict, field: str) -> None:
    r = _draw(county, **body)
    assert r.status_code == 422, r.text
    assert field in r.text
    with county.db() as s:
        from anjian.enforcement.models import Draw

        assert s.scalar(select(func.count()).select_from(Draw)) == 0


def test_a_risk_weighted_draw_records_its_weights_and_verifies(county: Any) -> None:
    r = _draw(county, weights="risk", seed="风险", categories=["metallurgy_trade"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["weights"] == "risk" and body["categories"] == ["metallurgy_trade"]
    assert county.enterprises["ying_mine"] not in {e["id"] for e in body["enterprises"]}
    r = county.client.get(f"{API}/draws/{body['id']}/verify", headers=county.headers)
    assert r.json()["matches"] is True
