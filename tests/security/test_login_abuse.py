"""Login abuse: an unknown user name answers exactly like a wrong password (message, attempts
left, lockout), logins are rate-limited per client address and per user name (429 with
Retry-After), and a wrong current password in a password change counts towards the lockout."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.config import Settings, get_settings
from anjian.core.audit.models import AuditRecord
from anjian.core.iam.guard import LoginGuard

PASSWORD = "Anjian#2026"
WRONG = "Wrong#Pass2026"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _login(node, username: str, password: str = WRONG):  # type: ignore[no-untyped-def]
    return node.client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _same(text: str) -> str:
    return re.sub(r"\d{2}:\d{2}", "HH:MM", text)  # the lock time may tick over a minute


def _logins(node) -> int:  # type: ignore[no-untyped-def]
    with node.db() as s:
        return s.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "auth.login")
        )


def test_unknown_user_is_indistinguishable_from_a_wrong_password(personas) -> None:
    threshold = get_settings().lockout_threshold
    for attempt in range(threshold + 2):
        real, ghost = _login(personas, "yingxian"), _login(personas, "ghost")
        assert real.status_code == ghost.status_code, attempt
        assert _same(real.json()["detail"]) == _same(ghost.json()["detail"]), attempt
        assert real.headers.get("www-authenticate") == ghost.headers.get("www-authenticate")
        if attempt < threshold - 1:
            assert f"再失败 {threshold - 1 - attempt} 次将锁定账户" in ghost.json()["detail"]
    # Both are locked now, and say so in the same words, even to the right password.
    real, ghost = _login(personas, "yingxian", PASSWORD), _login(personas, "ghost", PASSWORD)
    assert real.status_code == ghost.status_code == 403
    assert _same(real.json()["detail"]) == _same(ghost.json()["detail"])
    assert "账户已锁定" in ghost.json()["detail"]


def test_an_administrators_lock_is_told_only_to_the_right_password(personas) -> None:
    assert CliRunner().invoke(cli, ["user", "lock", "yingxian"]).exit_code == 0
    locked, ghost = _login(personas, "yingxian"), _login(personas, "ghost")
    assert locked.status_code == ghost.status_code == 401
    assert locked.json()["detail"] == ghost.json()["detail"]
    right = _login(personas, "yingxian", PASSWORD)
    assert right.status_code == 403 and "管理员锁定" in right.json()["detail"]


def test_the_console_shows_the_same_for_an_unknown_user(personas) -> None:
    client = personas.client

    def submit(username: str) -> str:
        form = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        r = client.post(
            "/login",
            data={"username": username, "password": WRONG, "csrf": csrf, "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 401
        return re.search(r'id="login-error">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]

    assert submit("yingxian") == submit("ghost")
    assert "再失败 3 次将锁定账户" in submit("ghost")


def test_logins_are_rate_limited_per_address(personas) -> None:
    clock = Clock()
    personas.client.app.state.login_guard = LoginGuard(3, 100, clock=clock)
    for name in ("a", "b", "c"):
        assert _login(personas, name).status_code == 401
    written = _logins(personas)
    r = _login(personas, "sheng", PASSWORD)  # even a good login from a flooding address waits
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "20"
    assert "过于频繁" in r.json()["detail"]
    for _ in range(20):
        assert _login(personas, "d").status_code == 429
    assert _logins(personas) == written  # refused unread: nothing written
    clock.now += 20
    assert _login(personas, "sheng", PASSWORD).status_code == 200


def test_the_console_login_is_rate_limited_too(personas) -> None:
    personas.client.app.state.login_guard = LoginGuard(1, 100, clock=Clock())
    form = personas.client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    data = {"username": "yingxian", "password": WRONG, "csrf": csrf, "next": "/"}
    assert personas.client.post("/login", data=data).status_code == 401
    r = personas.client.post("/login", data=data)
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    assert "登录尝试过于频繁" in r.text


def test_logins_are_rate_limited_per_user_name(personas) -> None:
    clock = Clock()
    personas.client.app.state.login_guard = LoginGuard(100, 2, clock=clock)
    assert _login(personas, "yingxian").status_code == 401
    assert _login(personas, "yingxian").status_code == 401
    r = _login(personas, "yingxian", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 30
    assert _login(personas, "sheng", PASSWORD).status_code == 200  # another name is not held up
    # An unknown name is limited the same way.
    assert [_login(personas, "ghost").status_code for _ in range(3)] == [401, 401, 429]


def test_the_limits_are_settings() -> None:
    guard = LoginGuard.from_settings(Settings(login_rate_per_ip=7, login_rate_per_account=2))
    assert (guard.per_ip.capacity, guard.per_account.capacity) == (7, 2)


def test_a_wrong_current_password_counts_towards_the_lockout(personas) -> None:
    headers = personas.login("yingxian")
    threshold = get_settings().lockout_threshold
    for left in range(threshold - 1, 0, -1):
        r = personas.client.post(
            "/api/v1/auth/password",
            headers=headers,
            json={"old_password": WRONG, "new_password": "Another#Pass2026"},
        )
        assert r.status_code == 422 and r.json()["field"] == "old_password"
        assert f"再失败 {left} 次将锁定账户" in r.json()["detail"]
    r = personas.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"old_password": WRONG, "new_password": "Another#Pass2026"},
    )
    assert r.status_code == 403 and "账户已锁定" in r.json()["detail"]
    # The session ended with the lock, and the right password does not open a new one.
    assert personas.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert _login(personas, "yingxian", PASSWORD).status_code == 403
    with personas.db() as s:
        failures = s.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "user.password", AuditRecord.result == "failure"
            )
        ).all()
    assert len(failures) == threshold and failures[-1].detail["locked"] is True
