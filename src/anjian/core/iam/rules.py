"""Pure rules of identity and access: password complexity, lockout, session expiry."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta


def password_problems(password: str, *, username: str = "", min_length: int = 8) -> list[str]:
    """What is wrong with a password (empty list = acceptable).

    等保 level 3 asks for complexity: at least ``min_length`` characters from at least three of
    upper case, lower case, digits and symbols, and not containing the username."""
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"密码长度至少 {min_length} 位 (at least {min_length} characters)")
    classes = sum(
        any(c in group for c in password)
        for group in (string.ascii_uppercase, string.ascii_lowercase, string.digits)
    ) + any(not c.isalnum() for c in password)
    if classes < 3:
        problems.append(
            "密码须包含大写字母、小写字母、数字、符号中的至少三类 (three character classes)"
        )
    if username and username.lower() in password.lower():
        problems.append("密码不得包含用户名 (must not contain the username)")
    return problems


@dataclass(frozen=True)
class LockoutPolicy:
    """Lock after ``threshold`` failures within ``window`` for ``duration``."""

    threshold: int = 5
    window: timedelta = timedelta(minutes=15)
    duration: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class FailureState:
    """A user's failed-login bookkeeping."""

    attempts: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None


def after_failure(state: FailureState, now: datetime, policy: LockoutPolicy) -> FailureState:
    """The state after one more failed login: failures older than the window start over;
    reaching the threshold inside the window locks the account."""
    if state.window_start is None or now - state.window_start > policy.window:
        attempts, start = 1, now
    else:
        attempts, start = state.attempts + 1, state.window_start
    locked = now + policy.duration if attempts >= policy.threshold else state.locked_until
    return FailureState(attempts=attempts, window_start=start, locked_until=locked)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether an automatic lockout is still in force."""
    return locked_until is not None and now < locked_until


def session_expired(
    last_seen: datetime, expires_at: datetime, now: datetime, idle: timedelta
) -> bool:
    """A session ends after ``idle`` without activity or at its absolute expiry."""
    return now - last_seen > idle or now >= expires_at


SYSTEM_LABEL = "系统（自动）"


def person_label(username: str, display_name: str | None, organisation: str | None) -> str:
    """How a person who acted is shown in histories, exports and the audit view: 姓名（机构）,
    the name alone without an organisation, the login name when the name is not known here
    (a deleted user, or a user of another node); the platform's own jobs as 系统."""
    if display_name is None and username == "system":
        return SYSTEM_LABEL
    name = (display_name or "").strip() or username
    return f"{name}（{organisation}）" if organisation else name
