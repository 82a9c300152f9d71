"""Login, lockout, MFA and session timeout through the API, as users meet them."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.core.iam.models import AuthSession, User
from anjian.core.iam.service import field_cipher
from anjian.db import utcnow

PASSWORD = "Anjian#2026"


@pytest.fixture
def official(node):
    node.add_user("zhangsan", "official", "140622", phone="13912345678")
    return node


def _login(node, password=PASSWORD, otp=None, username="zhangsan"):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return node.client.post("/api/v1/auth/login", json=body)


def test_login_returns_bearer_token_that_works(official) -> None:
    r = _login(official)
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = official.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "zhangsan"
    assert me.json()["phone_masked"] == "139****5678"
    assert (
        official.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )


def test_login_success_and_failure_are_audited(official) -> None:
    assert _login(official, password="wrong-Password1").status_code == 401
    assert _login(official, username="ghost").status_code == 401
    assert _login(official).status_code == 200
    rows = official.audits("auth.login")
    assert [(r.actor_name, r.result) for r in rows] == [
        ("zhangsan", "failure"),
        ("ghost", "failure"),
        ("zhangsan", "success"),
    ]
    assert rows[0].ip  # from where
    assert rows[0].detail["reason"] == "bad_password"


def test_lockout_after_five_failures_and_admin_unlock(official) -> None:
    for left in (4, 3, 2, 1):
        r = _login(official, password="Wrong#Pass1")
        assert r.status_code == 401
        assert f"{left}" in r.json()["detail"]
    r = _login(official, password="Wrong#Pass1")
    assert r.status_code == 403
    assert "锁定" in r.json()["detail"]
    # Even the right password is refused while locked, with a clear message.
    r = _login(official)
    assert r.status_code == 403
    assert "锁定" in r.json()["detail"]
    result = CliRunner().invoke(cli, ["user", "unlock", "zhangsan"])
    assert result.exit_code == 0, result.output
    assert _login(official).status_code == 200


def test_lockout_expires_by_itself(official) -> None:
    for _ in range(5):
        _login(official, password="Wrong#Pass1")
    with official.db() as s:
        s.execute(update(User).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert _login(official).status_code == 200


def test_admin_lock_ends_sessions(official) -> None:
    token = _login(official).json()["access_token"]
    assert CliRunner().invoke(cli, ["user", "lock", "zhangsan"]).exit_code == 0
    headers = {"Authorization": f"Bearer {token}"}
    assert official.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    r = _login(official)
    assert r.status_code == 403
    assert "管理员" in r.json()["detail"]


def test_idle_session_times_out(official) -> None:
    token = _login(official).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert official.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with official.db() as s:
        s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    r = official.client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert "超时" in r.json()["detail"]


def test_logout_revokes_token(official) -> None:
    headers = {"Authorization": f"Bearer {_login(official).json()['access_token']}"}
    assert official.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert official.client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_mfa_enrol_verify_then_required_at_login(official) -> None:
    headers = {"Authorization": f"Bearer {_login(official).json()['access_token']}"}
    enrol = official.client.post("/api/v1/auth/mfa/enrol", headers=headers).json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrol["secret"])
    bad = official.client.post("/api/v1/auth/mfa/verify", headers=headers, json={"otp": "000000"})
    assert bad.status_code == 422 and bad.json()["field"] == "otp"
    ok = official.client.post("/api/v1/auth/mfa/verify", headers=headers, json={"otp": totp.now()})
    assert ok.status_code == 200
    codes = ok.json()["recovery_codes"]
    assert len(codes) == 10

    # Password alone is no longer enough.
    r = _login(official)
    assert r.status_code == 401 and r.json()["field"] == "otp"
    # A code from the authenticator works once: the enrolment already used this time step,
    # so take the next one.
    next_code = totp.at(utcnow() + timedelta(seconds=30))
    assert _login(official, otp=next_code).status_code == 200
    assert _login(official, otp=next_code).status_code == 401  # replay refused
    # A recovery code works once.
    assert _login(official, otp=codes[0]).status_code == 200
    assert _login(official, otp=codes[0]).status_code == 401
    with official.db() as s:
        user = s.scalar(select(User).where(User.username == "zhangsan"))
        assert user.totp_secret_enc.startswith("sm4gcm:")
        assert field_cipher().decrypt(user.totp_secret_enc) == enrol["secret"]


def test_role_requiring_mfa_must_enrol_before_anything_else(official, monkeypatch) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_MFA_REQUIRED_ROLES", '["official"]')
    get_settings.cache_clear()
    r = _login(official)
    assert r.status_code == 200
    assert r.json()["mfa_enrolment_required"] is True
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    blocked = official.client.get("/api/v1/divisions/140622", headers=headers)
    assert blocked.status_code == 403
    assert "动态口令" in blocked.json()["detail"]
    secret = official.client.post("/api/v1/auth/mfa/enrol", headers=headers).json()["secret"]
    verify = official.client.post(
        "/api/v1/auth/mfa/verify", headers=headers, json={"otp": pyotp.TOTP(secret).now()}
    )
    assert verify.status_code == 200
    assert official.client.get("/api/v1/divisions/140622", headers=headers).status_code == 200


def test_cli_user_add_validates_and_stores_argon2(node) -> None:
    runner = CliRunner()
    weak = runner.invoke(
        cli,
        ["user", "add", "lisi", "--role", "official", "--division", "140600", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code != 0
    assert "密码" in weak.output
    bad_div = runner.invoke(
        cli,
        ["user", "add", "lisi", "--role", "official", "--division", "149999", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert bad_div.exit_code != 0 and "149999" in bad_div.output
    bad_role = runner.invoke(
        cli,
        ["user", "add", "lisi", "--role", "boss", "--division", "140600", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert bad_role.exit_code != 0 and "角色" in bad_role.output
    ok = runner.invoke(
        cli,
        ["user", "add", "lisi", "--role", "official", "--division", "140600", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert ok.exit_code == 0, ok.output
    with node.db() as s:
        user = s.scalar(select(User).where(User.username == "lisi"))
        assert user.password_hash.startswith("$argon2id$")
    listing = runner.invoke(cli, ["user", "list"])
    assert "lisi" in listing.output
    reset = runner.invoke(
        cli, ["user", "reset", "lisi", "--password-stdin"], input="New#Pass2026\n"
    )
    assert reset.exit_code == 0
    assert _login(node, username="lisi", password="New#Pass2026").status_code == 200
    assert runner.invoke(cli, ["user", "lock", "nobody"]).exit_code != 0


def test_demo_otp_refused_for_real_users(official) -> None:
    result = CliRunner().invoke(cli, ["user", "otp", "zhangsan"])
    assert result.exit_code != 0
    assert "演示" in result.output


def test_change_own_password(official) -> None:
    headers = {"Authorization": f"Bearer {_login(official).json()['access_token']}"}
    other = {"Authorization": f"Bearer {_login(official).json()['access_token']}"}
    wrong = official.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"old_password": "nope", "new_password": "New#Pass2026"},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "old_password"
    weak = official.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"old_password": PASSWORD, "new_password": "weak"},
    )
    assert weak.status_code == 422 and weak.json()["field"] == "new_password"
    ok = official.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"old_password": PASSWORD, "new_password": "New#Pass2026"},
    )
    assert ok.status_code == 204
    assert official.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert official.client.get("/api/v1/auth/me", headers=other).status_code == 401
    assert _login(official, password="New#Pass2026").status_code == 200


def test_old_password_is_flagged_for_change(official) -> None:
    assert _login(official).json()["password_change_due"] is False
    with official.db() as s:
        s.execute(update(User).values(password_changed_at=utcnow() - timedelta(days=91)))
    assert _login(official).json()["password_change_due"] is True
