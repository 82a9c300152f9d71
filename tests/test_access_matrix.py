"""One access matrix over the personas of every tier (NetBox style): who sees and changes what.

Expected visibility of the two persona enterprises — 应县's coal mine and 山阴县's chemical
plant — follows 属地管理: a division sees itself and everything below; the coal-mine
inspection bureau sees coal mines in its area only; an enterprise user sees its own."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from anjian.core.audit.models import AuditRecord
from anjian.enterprises.rules import compose_uscc
from samples import VISIBLE_ENTERPRISES

STAFF = {"admin", "sheng", "shuozhou", "yingxian", "shanyin", "jianchaju"}
AUDIT_PREFIXES = {
    "admin": ("14",),
    "sheng": ("14",),
    "shuozhou": ("1406",),
    "yingxian": ("140622",),
    "shanyin": ("140621",),
    "jianchaju": ("140622", "140621"),
}
ALL_USERS = {"admin", "sheng", "shuozhou", "yingxian", "shanyin", "jianchaju", "qiye"}
USERS_VISIBLE = {
    "admin": ALL_USERS,
    "sheng": ALL_USERS,
    "shuozhou": ALL_USERS - {"admin", "sheng"},
    "yingxian": {"yingxian", "qiye"},
    "shanyin": {"shanyin"},
    # The bureau's area is 应县 and 山阴县; the bureau itself sits in the city (140600).
    "jianchaju": {"yingxian", "shanyin", "qiye"},
}


def test_every_api_route_requires_login(node) -> None:
    """No endpoint of the published API answers without a session, except logging in."""
    open_routes = {"/api/v1/auth/login"}
    checked = 0
    for path, operations in node.client.get("/openapi.json").json()["paths"].items():
        if not path.startswith("/api/v1") or path in open_routes:
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            r = node.client.request(method.upper(), concrete)
            assert r.status_code == 401, f"{method} {path} answered {r.status_code}"
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("persona", sorted(VISIBLE_ENTERPRISES))
def test_enterprise_visibility(personas, persona: str) -> None:
    headers = personas.login(persona)
    listed = personas.client.get("/api/v1/enterprises", headers=headers)
    assert listed.status_code == 200
    ids = {item["id"] for item in listed.json()["items"]}
    expected = {personas.enterprises[k] for k in VISIBLE_ENTERPRISES[persona]}
    assert ids == expected
    for key, ent_id in personas.enterprises.items():
        r = personas.client.get(f"/api/v1/enterprises/{ent_id}", headers=headers)
        assert r.status_code == (200 if key in VISIBLE_ENTERPRISES[persona] else 404), (
            persona,
            key,
            r.text,
        )
        # the full phones: whoever sees the file may reveal them (audited), nobody else
        r = personas.client.post(f"/api/v1/enterprises/{ent_id}/contacts/reveal", headers=headers)
        assert r.status_code == (200 if key in VISIBLE_ENTERPRISES[persona] else 404), (
            persona,
            key,
            r.text,
        )


@pytest.mark.parametrize("persona", sorted(VISIBLE_ENTERPRISES))
def test_enterprise_changes_only_in_scope(personas, persona: str) -> None:
    headers = personas.login(persona)
    for key, ent_id in personas.enterprises.items():
        r = personas.client.patch(
            f"/api/v1/enterprises/{ent_id}",
            headers=headers,
            json={"address": f"{persona} 修改的地址"},
        )
        assert r.status_code in ((200, 403) if key in VISIBLE_ENTERPRISES[persona] else (404,)), (
            persona,
            key,
        )
        if r.status_code == 200:
            assert r.json()["address"] == f"{persona} 修改的地址"


@pytest.mark.parametrize("persona", sorted(VISIBLE_ENTERPRISES))
def test_audit_and_users_only_in_scope(personas, persona: str) -> None:
    headers = personas.login(persona)
    audit = personas.client.get("/api/v1/audit?limit=500", headers=headers)
    users = personas.client.get("/api/v1/users", headers=headers)
    if persona not in STAFF:
        assert audit.status_code == 403
        assert users.status_code == 403
        return
    assert audit.status_code == 200 and users.status_code == 200
    items = audit.json()["items"]
    assert items, "the personas' own creation and logins are in everyone's audit"
    for item in items:
        assert item["division_code"].startswith(AUDIT_PREFIXES[persona]), item
    assert {u["username"] for u in users.json()} == USERS_VISIBLE[persona]


def test_refused_write_is_audited(personas) -> None:
    headers = personas.login("yingxian")
    r = personas.client.post(
        "/api/v1/enterprises",
        headers=headers,
        json={
            "uscc": compose_uscc("140621", "MA0K0099"),
            "name": "越权企业",
            "division_code": "140621",
            "supervision_category": "other",
        },
    )
    assert r.status_code == 403
    with personas.db() as s:
        denied = s.scalars(select(AuditRecord).where(AuditRecord.result == "denied")).all()
        assert [d.actor_name for d in denied] == ["yingxian"]
        assert denied[0].detail["path"] == "/api/v1/enterprises"
        assert (
            s.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "enterprise.create", AuditRecord.actor_name == "yingxian"
                )
            ).all()
            == []
        )
