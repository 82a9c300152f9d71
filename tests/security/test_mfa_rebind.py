"""Replacing a bound authenticator needs the password and a current code (or a recovery code):
a stolen session cannot move the second factor to another phone. Failed proofs are audited and
count towards the lockout; an administrator's MFA reset is audited."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.config import get_settings
from anjian.core.audit.models import AuditRecord
from anjian.core.iam.models import User

PASSWORD = "Anjian#2026"
ENROL = "/api/v1/auth/mfa/enrol"


@pytest.fixture
def bound(personas):
    """``yingxian`` with an authenticator bound, logged in through the API."""
    personas.secret, personas.codes = personas.enrol_mfa("yingxian")
    personas.headers = personas.login("yingxian", otp=pyotp.TOTP(personas.secret).now())
    return personas


def _failures(node) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    with node.db() as s:
        return list(
            s.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "auth.mfa_enrol", AuditRecord.result == "failure"
                )
            )
        )


def test_rebinding_without_proof_is_refused(bound) -> None:
    r = bound.client.post(ENROL, headers=bound.headers)
    assert r.status_code == 422 and r.json()["field"] == "password"
    r = bound.client.post(ENROL, headers=bound.headers, json={"password": PASSWORD})
    assert r.status_code == 422 and r.json()["field"] == "otp"
    r = bound.client.post(
        ENROL, headers=bound.headers, json={"password": "Wrong#Pass2026", "otp": "123456"}
    )
    assert r.status_code == 422 and r.json()["field"] == "password"
    r = bound.client.post(
        ENROL, headers=bound.headers, json={"password": PASSWORD, "otp": "000000"}
    )
    assert r.status_code == 422 and r.json()["field"] == "otp"
    assert [f.detail["reason"] for f in _failures(bound)] == ["bad_password", "bad_otp"]
    with bound.db() as s:
        user = s.get(User, bound.users["yingxian"])
        assert user.failed_attempts == 2
        assert user.totp_pending_enc is None  # nothing was started


def test_rebinding_with_the_password_and_a_code_replaces_the_authenticator(bound) -> None:
    r = bound.client.post(
        ENROL, headers=bound.headers, json={"password": PASSWORD, "otp": bound.codes[0]}
    )
    assert r.status_code == 200, r.text
    new_secret = r.json()["secret"]
    done = bound.client.post(
        "/api/v1/auth/mfa/verify", headers=bound.headers, json={"otp": pyotp.TOTP(new_secret).now()}
    )
    assert done.status_code == 200
    # The recovery code was good once; the old authenticator is gone.
    again = bound.client.post(
        ENROL, headers=bound.headers, json={"password": PASSWORD, "otp": bound.codes[0]}
    )
    assert again.status_code == 422 and again.json()["field"] == "otp"
    with bound.db() as s:
        rebinds = s.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "auth.mfa_enrol", AuditRecord.result == "success"
            )
        ).all()
        assert rebinds[-1].detail == {"rebind": True}


def test_wrong_proofs_lock_the_account_and_end_the_session(bound) -> None:
    for _ in range(get_settings().lockout_threshold - 1):
        r = bound.client.post(
            ENROL, headers=bound.headers, json={"password": "Wrong#Pass2026", "otp": "123456"}
        )
        assert r.status_code == 422
    r = bound.client.post(
        ENROL, headers=bound.headers, json={"password": "Wrong#Pass2026", "otp": "123456"}
    )
    assert r.status_code == 403 and "账户已锁定" in r.json()["detail"]
    assert bound.client.get("/api/v1/auth/me", headers=bound.headers).status_code == 401
    assert _failures(bound)[-1].detail["locked"] is True


def test_the_console_asks_for_the_proof_too(bound) -> None:
    client = bound.client
    token = bound.headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set("anjian_session", token)
    page = client.get("/mfa/enrol")
    assert page.status_code == 200 and 'name="password"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    refused = client.post("/mfa/enrol", data={"csrf": csrf})
    assert refused.status_code == 422 and "须输入登录密码" in refused.text
    assert 'id="totp-secret"' not in refused.text
    shown = client.post(
        "/mfa/enrol",
        data={"csrf": csrf, "password": PASSWORD, "otp": bound.codes[1]},
    )
    assert shown.status_code == 200 and 'id="totp-secret"' in shown.text


def test_an_administrators_mfa_reset_is_audited(bound) -> None:
    r = CliRunner().invoke(
        cli, ["user", "reset", "yingxian", "--mfa", "--password-stdin"], input="New#Pass20261\n"
    )
    assert r.exit_code == 0, r.output
    with bound.db() as s:
        assert s.get(User, bound.users["yingxian"]).mfa_enabled is False
        reset = s.scalars(select(AuditRecord).where(AuditRecord.action == "user.reset")).one()
    assert reset.actor_name.startswith("cli:")
    assert reset.object_id == str(bound.users["yingxian"])
    assert reset.detail["mfa_reset"] is True
    # The next enrolment is a first one again: no proof asked.
    headers = bound.login("yingxian", "New#Pass20261")
    assert bound.client.post(ENROL, headers=headers).status_code == 200
