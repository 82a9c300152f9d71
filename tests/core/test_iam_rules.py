"""Password complexity, lockout and session expiry rules, by the table."""

from datetime import UTC, datetime, timedelta

import pytest

from anjian.core.iam.rules import (
    FailureState,
    LockoutPolicy,
    after_failure,
    is_locked,
    password_problems,
    session_expired,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
POLICY = LockoutPolicy(threshold=5, window=timedelta(minutes=15), duration=timedelta(minutes=30))


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Anjian#2026", True),
        ("abcDEF12", True),  # three classes, eight characters
        ("abcdef1!", True),
        ("abcDEF1", False),  # seven characters
        ("abcdefgh1", False),  # two classes
        ("ABCDEFGH", False),
        ("Wangwu#2026", False),  # contains the username
    ],
)
def test_password_complexity(password: str, ok: bool) -> None:
    assert (password_problems(password, username="wangwu") == []) is ok


def test_five_failures_within_window_lock() -> None:
    state = FailureState()
    for i in range(4):
        state = after_failure(state, T0 + timedelta(minutes=i), POLICY)
        assert not is_locked(state.locked_until, T0 + timedelta(minutes=i))
    state = after_failure(state, T0 + timedelta(minutes=14), POLICY)
    assert state.attempts == 5
    assert is_locked(state.locked_until, T0 + timedelta(minutes=14, seconds=1))
    assert not is_locked(state.locked_until, T0 + timedelta(minutes=44, seconds=1))


def test_failures_spread_beyond_window_do_not_lock() -> None:
    state = FailureState()
    for i in range(10):  # one failure every 16 minutes: each starts a new window
        state = after_failure(state, T0 + timedelta(minutes=16 * i), POLICY)
    assert state.attempts == 1
    assert state.locked_until is None


def test_session_idle_and_absolute_expiry() -> None:
    idle = timedelta(minutes=30)
    end = T0 + timedelta(hours=12)
    assert not session_expired(T0, end, T0 + timedelta(minutes=29), idle)
    assert session_expired(T0, end, T0 + timedelta(minutes=31), idle)
    assert session_expired(end - timedelta(minutes=1), end, end, idle)
