"""节点设置: the run-time settings an administrator changes (API), their ranges (等保 level 3),
the environment variable that pins one, the audit of every change, and the running node using
the value at once: a lower lockout threshold locks sooner, a shorter idle timeout ends a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from anjian.core.audit.models import AuditRecord
from anjian.core.iam.models import AuthSession, User
from anjian.core.node_settings.models import NodeSetting
from anjian.core.node_settings.rules import RULES, SettingRefused, parse
from anjian.core.node_settings.service import effective_settings
from anjian.db import utcnow

PASSWORD = "Anjian#2026"


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("session_idle_minutes", "5", 5),
        ("session_idle_minutes", " 30 ", 30),
        ("lockout_threshold", "3", 3),
        ("lockout_threshold", "5", 5),
        ("lockout_minutes", "30", 30),
        ("password_min_length", "8", 8),
        ("password_max_age_days", "90", 90),
        ("map_tile_url", "https://t{s}.tianditu.gov.cn/vec_w/{z}/{x}/{y}.png?tk=abc", None),
        ("map_tile_url", "", ""),
        ("map_attribution", "© 天地图", "© 天地图"),
    ],
)
def test_values_within_the_rules_are_taken(key: str, raw: str, value: object) -> None:
    assert parse(key, raw) == (raw if value is None else value)


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("session_idle_minutes", "4"),
        ("session_idle_minutes", "31"),  # 等保: 30 minutes at most
        ("lockout_threshold", "6"),
        ("lockout_threshold", "2"),
        ("lockout_minutes", "29"),
        ("password_min_length", "7"),
        ("password_max_age_days", "91"),
        ("session_idle_minutes", "99999999999999999999"),
        ("session_idle_minutes", "-5"),
        ("session_idle_minutes", "1e3"),
        ("session_idle_minutes", "１０"),  # full-width digits
        ("session_idle_minutes", "10\x00"),
        ("map_attribution", "a\x07b"),
        ("map_attribution", "长" * 201),
        ("map_tile_url", "javascript:alert(1)//{z}{x}{y}"),
        ("map_tile_url", "https://tiles.example.cn;script-src */{z}/{x}/{y}.png"),
        ("map_tile_url", "https://tiles.example.cn/{z}/{x}/{y}.png' onerror"),
        ("map_tile_url", "https://tiles.example.cn/tile.png"),
        ("map_tile_url", "https://x.cn/" + "a" * 600 + "{z}{x}{y}"),
        ("node_division", "110000"),  # not a run-time setting
    ],
)
def test_values_outside_the_rules_are_refused_naming_the_setting(key: str, raw: str) -> None:
    with pytest.raises(SettingRefused) as caught:
        parse(key, raw)
    assert caught.value.key == key
    if key in RULES:
        assert RULES[key].label in str(caught.value)


def _put(node, headers, key: str, value: object):  # type: ignore[no-untyped-def]
    return node.client.put(f"/api/v1/node/settings/{key}", json={"value": value}, headers=headers)


def test_an_administrator_sets_and_resets_a_setting_audited(personas) -> None:
    node = personas
    admin = node.login("admin")
    assert effective_settings().session_idle_minutes == 30
    r = _put(node, admin, "session_idle_minutes", "10")
    assert r.status_code == 200, r.text
    assert r.json()["value"] == 10 and r.json()["source"] == "console"
    assert r.json()["updated_by"] == "admin"
    assert effective_settings().session_idle_minutes == 10  # no restart
    listed = {s["key"]: s for s in node.client.get("/api/v1/node/settings", headers=admin).json()}
    assert listed["session_idle_minutes"]["value"] == 10
    assert listed["lockout_threshold"]["source"] == "base"
    r = node.client.delete("/api/v1/node/settings/session_idle_minutes", headers=admin)
    assert r.status_code == 200 and r.json()["value"] == 30 and r.json()["source"] == "base"
    assert effective_settings().session_idle_minutes == 30
    with node.db() as s:
        assert s.scalar(select(NodeSetting)) is None
        records = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "node.setting")))
    assert [(r.detail["from"], r.detail["to"]) for r in records] == [(None, "10"), ("10", None)]
    assert all(r.actor_name == "admin" and r.object_id == "session_idle_minutes" for r in records)


def test_refused_values_name_the_field_and_write_nothing(personas) -> None:
    node = personas
    admin = node.login("admin")
    for value in ("31", "99999999999999999999", "1\x00", "x" * 2000):
        r = _put(node, admin, "session_idle_minutes", value)
        assert r.status_code == 422, (value, r.text)
        assert "session_idle_minutes" in r.text or "value" in r.text
    assert _put(node, admin, "session_idle_minutes", 99999999999999999999).status_code == 422
    r = _put(node, admin, "session_idle_minutes", "31")
    assert r.json()["field"] == "session_idle_minutes" and "会话空闲超时" in r.json()["detail"]
    assert _put(node, admin, "node_division", "110000").status_code == 422
    assert _put(node, admin, "no_such_key", "1").status_code == 422
    assert _put(node, admin, "BAD-key", "1").status_code == 422
    with node.db() as s:
        assert s.scalar(select(NodeSetting)) is None
        assert not s.scalar(select(AuditRecord).where(AuditRecord.action == "node.setting"))


def test_an_environment_variable_pins_a_setting(personas, monkeypatch) -> None:
    node = personas
    admin = node.login("admin")
    assert _put(node, admin, "lockout_minutes", "60").status_code == 200
    monkeypatch.setenv("ANJIAN_LOCKOUT_MINUTES", "45")
    from anjian.config import get_settings

    get_settings.cache_clear()
    assert effective_settings().lockout_minutes == 45  # the env var wins over the console
    r = _put(node, admin, "lockout_minutes", "90")
    assert r.status_code == 409 and "ANJIAN_LOCKOUT_MINUTES" in r.text
    listed = {s["key"]: s for s in node.client.get("/api/v1/node/settings", headers=admin).json()}
    assert listed["lockout_minutes"] == {
        **listed["lockout_minutes"],
        "value": 45,
        "source": "env",
        "pinned_by": "ANJIAN_LOCKOUT_MINUTES",
    }


def test_only_the_node_administrators_change_settings(personas) -> None:
    node = personas
    for name in ("sheng", "yingxian", "qiye"):
        headers = node.login(name)
        assert _put(node, headers, "lockout_threshold", "3").status_code == 403
        assert node.client.get("/api/v1/node/settings", headers=headers).status_code == 403
        r = node.client.delete("/api/v1/node/settings/lockout_threshold", headers=headers)
        assert r.status_code == 403
    with node.db() as s:
        assert s.scalar(select(NodeSetting)) is None


def test_a_lower_lockout_threshold_locks_after_that_many_failures(personas) -> None:
    node = personas
    admin = node.login("admin")
    assert _put(node, admin, "lockout_threshold", "3").status_code == 200
    answers = [
        node.client.post(
            "/api/v1/auth/login", json={"username": "yingxian", "password": "Wrong#2026x"}
        )
        for _ in range(3)
    ]
    assert [r.status_code for r in answers] == [401, 401, 403]  # the third failure locks
    assert "失败次数已达 3 次" in answers[2].json()["detail"]
    with node.db() as s:
        user = s.scalar(select(User).where(User.username == "yingxian"))
        assert user is not None and user.locked_until is not None
    r = node.client.post("/api/v1/auth/login", json={"username": "yingxian", "password": PASSWORD})
    assert r.status_code == 403 and "锁定" in r.json()["detail"]


def _idle(node, user: str, minutes: int) -> None:  # type: ignore[no-untyped-def]
    """The user's sessions were last used ``minutes`` ago."""
    with node.db() as s:
        s.execute(
            update(AuthSession)
            .where(AuthSession.user_id == node.users[user])
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )


def test_a_shorter_idle_timeout_ends_a_session(personas) -> None:
    node = personas
    admin = node.login("admin")
    official = node.login("sheng")
    _idle(node, "sheng", 12)
    assert node.client.get("/api/v1/auth/me", headers=official).status_code == 200  # 30 min
    assert _put(node, admin, "session_idle_minutes", "10").status_code == 200
    _idle(node, "sheng", 12)
    assert node.client.get("/api/v1/auth/me", headers=official).status_code == 401
