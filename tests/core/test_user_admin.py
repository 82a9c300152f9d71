"""Administration of users and organisations through the API: within the administrator's
jurisdiction, never one's own account, actions only in a state that admits them; every change
audited. The rules by the table first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from anjian.core.iam.models import AuthSession, User
from anjian.core.iam.rules import (
    AccountState,
    account_actions,
    enterprise_binding_problem,
    management_refusal,
    may_administer,
    may_grant,
)

PASSWORD = "Anjian#2026"
NEW = "Fresh#Pass2026"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


# --- rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "role", "ok"),
    [
        ("admin", "admin", True),
        ("admin", "official", True),
        ("admin", "enterprise", True),
        ("official", "enterprise", False),  # officials do not administer
        ("official", "official", False),
        ("enterprise", "enterprise", False),
        ("admin", "root", False),  # no such role
        ("nobody", "enterprise", False),
    ],
)
def test_who_may_grant_which_role(actor: str, role: str, ok: bool) -> None:
    assert may_grant(actor, role) is ok


def test_only_administrators_administer() -> None:
    assert [r for r in ("admin", "official", "enterprise") if may_administer(r)] == ["admin"]


@pytest.mark.parametrize(
    ("actor_id", "actor_role", "target_id", "target_role", "refused"),
    [
        (1, "admin", 2, "official", None),
        (1, "admin", 2, "admin", None),  # a fellow administrator of the jurisdiction
        (1, "admin", 1, "admin", "自己的账户"),
        (1, "official", 2, "enterprise", "管理员权限"),
        (None, "admin", 2, "enterprise", None),
    ],
)
def test_whose_account_may_be_managed(
    actor_id: int | None, actor_role: str, target_id: int, target_role: str, refused: str | None
) -> None:
    why = management_refusal(actor_id, actor_role, target_id, target_role)
    assert (why is None) if refused is None else (why is not None and refused in why)


@pytest.mark.parametrize(
    ("admin_lock", "locked_until", "mfa", "pending", "actions"),
    [
        (False, None, False, False, {"edit", "reset_password", "lock"}),
        (True, None, False, False, {"edit", "reset_password", "unlock"}),
        # locked out by failures: both an administrator's lock and an unlock are possible
        (
            False,
            T0 + timedelta(seconds=1),
            True,
            False,
            {"edit", "reset_password", "lock", "unlock", "reset_mfa"},
        ),
        (False, T0, False, True, {"edit", "reset_password", "lock", "reset_mfa"}),  # lockout over
    ],
)
def test_which_actions_an_account_admits(
    admin_lock: bool, locked_until: datetime | None, mfa: bool, pending: bool, actions: set[str]
) -> None:
    state = AccountState(admin_lock, locked_until, mfa, pending)
    assert account_actions(state, T0) == actions


@pytest.mark.parametrize(
    ("role", "enterprise", "division", "place", "field"),
    [
        ("enterprise", 7, "140622", "140622", None),
        ("enterprise", None, "140622", None, "enterprise_id"),
        ("enterprise", 7, "140622", None, "enterprise_id"),  # unknown or out of scope
        ("enterprise", 7, "140621", "140622", "division_code"),
        ("official", 7, "140622", "140622", "enterprise_id"),
        ("official", None, "140622", None, None),
    ],
)
def test_enterprise_binding(
    role: str, enterprise: int | None, division: str, place: str | None, field: str | None
) -> None:
    problem = enterprise_binding_problem(role, enterprise, division, place)
    assert (problem[0] if problem else None) == field


# --- API ---------------------------------------------------------------------------------------


def _user(node, name: str) -> User | None:  # type: ignore[no-untyped-def]
    with node.db() as s:
        user = s.scalar(select(User).where(User.username == name))
        if user is not None:
            s.expunge(user)
        return user


def test_an_administrator_creates_a_user_in_their_jurisdiction(personas) -> None:
    headers = personas.login("admin")
    body = {
        "username": "zhaoliu",
        "password": NEW,
        "role": "official",
        "division_code": "140622",
        "display_name": "赵六",
    }
    r = personas.client.post("/api/v1/users", headers=headers, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["display_name"] == "赵六" and r.json()["locked"] is False
    created = personas.audits("user.create")[-1]
    assert created.actor_name == "admin" and created.object_id == str(r.json()["id"])
    # and the new user logs in with the initial password
    personas.login("zhaoliu", NEW)


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"password": "short"}, 422, "password"),
        ({"password": "zhaoliu#Pass1"}, 422, "password"),  # contains the username
        ({"username": "赵六"}, 422, "username"),
        ({"username": "a" * 65}, 422, "username"),
        ({"username": "yingxian"}, 409, "username"),
        ({"division_code": "149999"}, 422, "division_code"),
        ({"division_code": "14062"}, 422, "division_code"),
        ({"role": "root"}, 422, "role"),
        ({"org_id": 9999}, 422, "org_id"),
        ({"org_id": 2**31}, 422, "org_id"),
        ({"enterprise_id": 1}, 422, "enterprise_id"),  # an official is bound to no enterprise
        ({"role": "enterprise"}, 422, "enterprise_id"),
        ({"display_name": "名" * 65}, 422, "display_name"),
        ({"display_name": "赵\x00六"}, 422, "display_name"),
    ],
)
@pytest.mark.one_backend
def test_a_bad_user_names_the_field_and_writes_nothing(
    personas,  # type: ignore[no-untyped-def]
    change: dict[str, object],
    status: int,
    field: str,
) -> None:
    body = {"username": "zhaoliu", "password": NEW, "role": "official", "division_code": "140622"}
    body.update(change)
    r = personas.client.post("/api/v1/users", headers=personas.login("admin"), json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"].split(".")[0] == field
    assert _user(personas, "zhaoliu") is None
    assert len(personas.audits("user.create")) == len(personas.users)  # the personas' only


def test_an_enterprise_user_is_bound_to_an_enterprise_of_their_division(personas) -> None:
    headers = personas.login("admin")
    mine = personas.enterprises["ying_mine"]
    body = {"username": "kuang", "password": NEW, "role": "enterprise", "enterprise_id": mine}
    wrong = personas.client.post(
        "/api/v1/users", headers=headers, json={**body, "division_code": "140621"}
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "division_code"
    r = personas.client.post(
        "/api/v1/users", headers=headers, json={**body, "division_code": "140622"}
    )
    assert r.status_code == 201 and r.json()["enterprise_id"] == mine


def test_out_of_jurisdiction_is_refused_and_audited(county_admin) -> None:
    node = county_admin
    headers = node.login("xianadmin")
    # the neighbouring county's user reads as missing, and the refused write is audited
    shanyin = node.users["shanyin"]
    for action in ("lock", "unlock", "mfa-reset"):
        r = node.client.post(f"/api/v1/users/{shanyin}/{action}", headers=headers)
        assert r.status_code == 404, r.text
    r = node.client.patch(f"/api/v1/users/{shanyin}", headers=headers, json={"display_name": "x"})
    assert r.status_code == 404
    ghost = node.client.post("/api/v1/users/999999/lock", headers=headers)
    assert ghost.status_code == 404 and ghost.json()["detail"] == r.json()["detail"]
    denied = node.audits("access.denied")
    assert len(denied) == 4  # the missing id was not a refusal
    # a user may not be created in, nor moved to, a division outside the jurisdiction
    body = {"username": "x1", "password": NEW, "role": "official", "division_code": "140621"}
    r = node.client.post("/api/v1/users", headers=headers, json=body)
    assert r.status_code == 403 and r.json()["field"] == "division_code"
    ying = node.users["yingxian"]
    r = node.client.patch(
        f"/api/v1/users/{ying}", headers=headers, json={"division_code": "140600"}
    )
    assert r.status_code == 403 and r.json()["field"] == "division_code"
    # an enterprise outside reads as missing
    chem = node.enterprises["shan_chem"]
    body = {**body, "division_code": "140622", "role": "enterprise", "enterprise_id": chem}
    r = node.client.post("/api/v1/users", headers=headers, json=body)
    assert r.status_code == 422 and r.json()["field"] == "enterprise_id"
    assert len(node.audits("access.denied")) == 6
    assert _user(node, "x1") is None
    # the listing shows the county only
    names = {u["username"] for u in node.client.get("/api/v1/users", headers=headers).json()}
    assert names == {"xianadmin", "yingxian", "qiye"}


def test_officials_do_not_administer(personas) -> None:
    headers = personas.login("shuozhou")
    ying = personas.users["yingxian"]
    assert personas.client.post(f"/api/v1/users/{ying}/lock", headers=headers).status_code == 403
    body = {"username": "x1", "password": NEW, "role": "enterprise", "division_code": "140622"}
    assert personas.client.post("/api/v1/users", headers=headers, json=body).status_code == 403
    assert personas.client.get("/api/v1/users", headers=headers).status_code == 200  # reads


def test_not_ones_own_account(personas) -> None:
    headers = personas.login("admin")
    me = personas.users["admin"]
    r = personas.client.post(f"/api/v1/users/{me}/lock", headers=headers)
    assert r.status_code == 403 and "自己的账户" in r.json()["detail"]
    r = personas.client.patch(
        f"/api/v1/users/{me}", headers=headers, json={"division_code": "000000"}
    )
    assert r.status_code == 403


def test_lock_unlock_password_and_mfa_reset(personas) -> None:
    headers = personas.login("admin")
    ying = personas.users["yingxian"]
    session = personas.login("yingxian")
    r = personas.client.post(f"/api/v1/users/{ying}/lock", headers=headers)
    assert r.status_code == 200 and r.json()["locked"] is True
    assert personas.client.get("/api/v1/auth/me", headers=session).status_code == 401
    again = personas.client.post(f"/api/v1/users/{ying}/lock", headers=headers)
    assert again.status_code == 409  # the button is not offered either
    r = personas.client.post(f"/api/v1/users/{ying}/unlock", headers=headers)
    assert r.status_code == 200 and r.json()["locked"] is False
    assert personas.client.post(f"/api/v1/users/{ying}/unlock", headers=headers).status_code == 409
    # password: the complexity rule, then the sessions end
    session = personas.login("yingxian")
    weak = personas.client.post(
        f"/api/v1/users/{ying}/password", headers=headers, json={"password": "weak"}
    )
    assert weak.status_code == 422 and weak.json()["field"] == "password"
    r = personas.client.post(
        f"/api/v1/users/{ying}/password", headers=headers, json={"password": NEW}
    )
    assert r.status_code == 204
    assert personas.client.get("/api/v1/auth/me", headers=session).status_code == 401
    personas.login("yingxian", NEW)
    # MFA: nothing to reset, then a bound authenticator dropped
    assert (
        personas.client.post(f"/api/v1/users/{ying}/mfa-reset", headers=headers).status_code == 409
    )
    personas.enrol_mfa("yingxian")
    r = personas.client.post(f"/api/v1/users/{ying}/mfa-reset", headers=headers)
    assert r.status_code == 200 and r.json()["mfa_enabled"] is False
    resets = personas.audits("user.reset")
    assert [a.detail for a in resets] == [
        {"mfa_reset": False},
        {"mfa_reset": True, "password_reset": False},
    ]
    assert [a.action for a in personas.audits("user.lock") + personas.audits("user.unlock")] == [
        "user.lock",
        "user.unlock",
    ]


def test_an_edit_is_audited_with_its_changes_and_ends_the_sessions(personas) -> None:
    headers = personas.login("admin")
    ying = personas.users["yingxian"]
    session = personas.login("yingxian")
    r = personas.client.patch(
        f"/api/v1/users/{ying}", headers=headers, json={"display_name": "应县老王"}
    )
    assert r.status_code == 200 and r.json()["display_name"] == "应县老王"
    assert personas.client.get("/api/v1/auth/me", headers=session).status_code == 200  # a name
    r = personas.client.patch(
        f"/api/v1/users/{ying}", headers=headers, json={"division_code": "140621", "org_id": None}
    )
    assert r.status_code == 200 and r.json()["division_code"] == "140621"
    assert personas.client.get("/api/v1/auth/me", headers=session).status_code == 401
    updates = personas.audits("user.update")
    assert updates[0].detail == {
        "changes": {"display_name": {"from": "yingxian", "to": "应县老王"}}
    }
    assert set(updates[1].detail["changes"]) == {"division_code", "org_id"}
    # nothing changed: nothing written
    same = personas.client.patch(
        f"/api/v1/users/{ying}", headers=headers, json={"role": "official"}
    )
    assert same.status_code == 200 and len(personas.audits("user.update")) == 2
    with personas.db() as s:
        revoked = s.scalars(select(AuthSession.revoked).where(AuthSession.user_id == ying)).all()
    assert all(revoked)


def test_list_filters(personas) -> None:
    headers = personas.login("admin")
    personas.client.post(f"/api/v1/users/{personas.users['shanyin']}/lock", headers=headers)

    def names(**params: str) -> set[str]:
        r = personas.client.get("/api/v1/users", headers=headers, params=params)
        assert r.status_code == 200, r.text
        return {u["username"] for u in r.json()}

    assert names(division="140600") == {"shuozhou", "jianchaju", "yingxian", "shanyin", "qiye"}
    assert names(role="enterprise") == {"qiye"}
    assert names(locked="true") == {"shanyin"}
    assert "shanyin" not in names(locked="false")
    r = personas.client.get("/api/v1/users", headers=headers, params={"division": "14"})
    assert r.status_code == 422 and r.json()["field"] == "division"


# --- organisations -----------------------------------------------------------------------------


def test_an_organisation_is_edited_within_scope_and_audited(county_admin) -> None:
    node = county_admin
    admin = node.login("admin")
    orgs = {o["name"]: o for o in node.client.get("/api/v1/organisations", headers=admin).json()}
    ying = orgs["应县应急管理局"]
    r = node.client.patch(
        f"/api/v1/organisations/{ying['id']}", headers=admin, json={"name": "应县应急管理局（新）"}
    )
    assert r.status_code == 200 and r.json()["version"] == ying["version"] + 1
    update = node.audits("org.update")[-1]
    assert update.detail["changes"]["name"]["to"] == "应县应急管理局（新）"
    # a cycle of parents is refused
    city = orgs["朔州市应急管理局"]
    r = node.client.patch(
        f"/api/v1/organisations/{city['id']}", headers=admin, json={"parent_id": ying["id"]}
    )
    assert r.status_code == 422 and r.json()["field"] == "parent_id"
    # the county administrator: the neighbour's organisation reads as missing (audited)
    county = node.login("xianadmin")
    shan = orgs["山阴县应急管理局"]
    r = node.client.patch(f"/api/v1/organisations/{shan['id']}", headers=county, json={"name": "x"})
    assert r.status_code == 404
    r = node.client.patch(
        f"/api/v1/organisations/{ying['id']}", headers=county, json={"division_code": "140621"}
    )
    assert r.status_code == 403 and r.json()["field"] == "division_code"
    assert len(node.audits("access.denied")) == 2
    r = node.client.patch(f"/api/v1/organisations/{ying['id']}", headers=county, json={"name": ""})
    assert r.status_code == 422 and r.json()["field"] == "name"
