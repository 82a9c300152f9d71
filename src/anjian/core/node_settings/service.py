"""The node's run-time settings: what is in force, and the administrator's changes (audited).

Precedence, highest first: an environment variable ``ANJIAN_*`` (ops pinned it; the console
shows it read-only), a value set in the console (table ``node_settings``), the configuration
file, the default. The running node uses a change without restart: the points of use read
:func:`effective_settings`, an overlay on :func:`anjian.config.get_settings` cached for
``TTL_S`` seconds and dropped in this process as soon as a change commits; another process of
the same node (several uvicorn workers) sees it within ``TTL_S``."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from anjian.config import Settings, get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.iam.models import User
from anjian.core.node_settings.models import NodeSetting
from anjian.core.node_settings.rules import (
    RULES,
    SettingRefused,
    effective,
    env_var,
    may_change,
    parse,
    stored,
)
from anjian.db import unit_of_work, utcnow

TTL_S = 5.0

_lock = threading.Lock()
# (base settings, expires, effective): the base is kept, so a reloaded one is never mistaken
# for it (tests reload settings for each new database).
_cache: list[tuple[Settings, float, Settings]] = []


def _console_values() -> dict[str, str]:
    # a read unit of its own: never waits for (nor takes) SQLite's write lock, even when the
    # caller's unit of work holds it
    with unit_of_work(read_only=True) as s:
        return {key: value for key, value in s.execute(select(NodeSetting.key, NodeSetting.value))}


def _pinned(key: str) -> bool:
    return env_var(key) in os.environ


def effective_settings() -> Settings:
    """The settings in force: :func:`get_settings` with the console's values over it."""
    base = get_settings()
    now = time.monotonic()
    hit = _cache[0] if _cache else None
    if hit is not None and hit[0] is base and hit[1] > now:
        return hit[2]
    values = _console_values()
    update = {}
    for key in RULES:
        value, source = effective(key, getattr(base, key), values.get(key), _pinned(key))
        if source == "console":
            update[key] = value
    current = base.model_copy(update=update) if update else base
    with _lock:
        _cache[:] = [(base, now + TTL_S, current)]
    return current


def invalidate() -> None:
    """Forget the cached overlay: the next reader reads the table."""
    with _lock:
        _cache.clear()


@dataclass(frozen=True)
class SettingState:
    """One run-time setting as the console and the API show it."""

    key: str
    label: str
    value: object
    console: bool  # the value in force was set in the console
    pinned_by: str | None  # the environment variable that fixes it, if any
    hint: str
    updated_at: object = None
    updated_by: str | None = None


def setting_states(session: Session) -> list[SettingState]:
    """Every run-time setting with its value in force and whether the console may change it."""
    base = get_settings()
    rows = {r.key: r for r in session.scalars(select(NodeSetting))}
    states = []
    for key, rule in RULES.items():
        row = rows.get(key)
        pinned = _pinned(key)
        value, source = effective(key, getattr(base, key), row.value if row else None, pinned)
        states.append(
            SettingState(
                key=key,
                label=rule.label,
                value=value,
                console=source == "console",
                pinned_by=env_var(key) if pinned else None,
                hint=rule.hint,
                updated_at=row.updated_at if row and source == "console" else None,
                updated_by=row.updated_by if row and source == "console" else None,
            )
        )
    return states


def _check(user: User, key: str) -> None:
    if not may_change(user.role, user.division_code, get_settings().node_division):
        raise Forbidden("只有管辖本节点的管理员可以修改节点设置 (node administrators only)")
    if key not in RULES:
        raise Invalid(f"{key[:64]!r} 不能在运行时修改 (not a run-time setting)", field="key")
    if _pinned(key):
        raise Conflict(
            f"{RULES[key].label}由环境变量 {env_var(key)} 固定，不能在控制台修改 "
            f"(pinned by an environment variable)",
            field=key,
        )


def _invalidate_on_commit(session: Session) -> None:
    invalidate()
    event.listen(session, "after_commit", lambda _s: invalidate(), once=True)


def set_setting(session: Session, actor: Actor, user: User, key: str, raw: str) -> SettingState:
    """Set ``key`` to ``raw`` (validated by its rule), audited as ``node.setting``."""
    _check(user, key)
    try:
        value = parse(key, raw)
    except SettingRefused as exc:
        raise Invalid(str(exc), field=key) from None
    row = session.get(NodeSetting, key)
    before = row.value if row else None
    text = stored(value)
    if row is None:
        row = NodeSetting(key=key, value=text, updated_at=utcnow(), updated_by=actor.username)
        session.add(row)
    else:
        row.value, row.updated_at, row.updated_by = text, utcnow(), actor.username
    _audit_setting(session, actor, key, before, text)
    session.flush()
    _invalidate_on_commit(session)
    return _state(session, key)


def _audit_setting(
    session: Session, actor: Actor, key: str, before: str | None, after: str | None
) -> None:
    """Audit a change of setting ``key`` from the stored text ``before`` to ``after`` (``None``:
    no console value, the file or default applies)."""
    audit(
        session,
        actor,
        "node.setting",
        object_type="node_setting",
        object_id=key,
        detail={"key": key, "from": before, "to": after},
    )


def clear_setting(session: Session, actor: Actor, user: User, key: str) -> SettingState:
    """恢复默认: drop the console's value of ``key`` (the file or default applies again)."""
    _check(user, key)
    row = session.get(NodeSetting, key)
    if row is not None:
        _audit_setting(session, actor, key, row.value, None)
        session.delete(row)
        session.flush()
        _invalidate_on_commit(session)
    return _state(session, key)


def _state(session: Session, key: str) -> SettingState:
    return next(s for s in setting_states(session) if s.key == key)
