"""Directives and receipts on one node: who may issue, who sees, who signs."""

from __future__ import annotations

from sqlalchemy import select

from anjian.core.sync.models import OutboxEntry


def _issue(node, persona: str, target: str, title: str = "关于开展安全生产大检查的通知"):
    return node.client.post(
        "/api/v1/directives",
        headers=node.login(persona),
        json={
            "kind": "directive",
            "title": title,
            "target_division": target,
            "body": "请各地于月底前完成自查。",
            "due_date": "2026-12-31",
        },
    )


def test_city_directive_reaches_its_counties_not_others(personas) -> None:
    r = _issue(personas, "shuozhou", "140600")
    assert r.status_code == 201, r.text
    uid = r.json()["uid"]
    assert r.json()["issuer_name"] == "朔州市应急管理局"
    for persona, sees in (
        ("yingxian", True),
        ("shanyin", True),
        ("sheng", True),
        ("shuozhou", True),
    ):
        listed = personas.client.get("/api/v1/directives", headers=personas.login(persona)).json()
        assert (uid in {d["uid"] for d in listed}) is sees, persona
    r = _issue(personas, "yingxian", "140622", title="应县内部通知")
    shanyin_sees = personas.client.get(
        "/api/v1/directives", headers=personas.login("shanyin")
    ).json()
    assert r.json()["uid"] not in {d["uid"] for d in shanyin_sees}


def test_issuing_outside_the_jurisdiction_is_refused(personas) -> None:
    assert _issue(personas, "yingxian", "140600").status_code == 403
    assert _issue(personas, "yingxian", "140621").status_code == 403
    bad = _issue(personas, "sheng", "149999")
    assert bad.status_code == 422 and bad.json()["field"] == "target_division"
    assert (
        personas.client.post(
            "/api/v1/directives",
            headers=personas.login("qiye"),
            json={"title": "x", "target_division": "140622"},
        ).status_code
        == 403
    )


def test_counties_sign_once_and_the_issuer_sees_receipts(personas) -> None:
    uid = _issue(personas, "shuozhou", "140600").json()["uid"]
    for county in ("yingxian", "shanyin"):
        headers = personas.login(county)
        r = personas.client.post(
            f"/api/v1/directives/{uid}/receipts", headers=headers, json={"note": "已收到，正在部署"}
        )
        assert r.status_code == 201, r.text
        again = personas.client.post(f"/api/v1/directives/{uid}/receipts", headers=headers, json={})
        assert again.status_code == 409
    city = personas.client.get(f"/api/v1/directives/{uid}", headers=personas.login("shuozhou"))
    assert {r["division_code"] for r in city.json()["receipts"]} == {"140622", "140621"}
    # A county sees its own receipt, not its sibling's.
    ying = personas.client.get(f"/api/v1/directives/{uid}", headers=personas.login("yingxian"))
    assert [r["division_code"] for r in ying.json()["receipts"]] == ["140622"]
    assert ying.json()["signed_here"] is True
    with personas.db() as s:
        queued = s.scalars(
            select(OutboxEntry.entity).where(
                OutboxEntry.entity.in_(("directive", "directive_receipt"))
            )
        ).all()
    assert sorted(queued) == ["directive", "directive_receipt", "directive_receipt"]


def test_the_issuer_does_not_sign_its_own_lower_directive(personas) -> None:
    uid = _issue(personas, "shuozhou", "140622").json()["uid"]
    r = personas.client.post(
        f"/api/v1/directives/{uid}/receipts", headers=personas.login("shuozhou"), json={}
    )
    assert r.status_code == 403
    assert (
        personas.client.get(
            f"/api/v1/directives/{uid}", headers=personas.login("shanyin")
        ).status_code
        == 404
    )
