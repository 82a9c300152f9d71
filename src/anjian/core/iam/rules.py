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


# --- administration (用户管理) ------------------------------------------------------------------

# Roles from the least to the most privileged; an administrator grants no role above their own.
ROLE_RANK = {"enterprise": 0, "official": 1, "admin": 2}
# Who administers users and organisations: the node's administrators (系统管理员), as the
# organisation API has required since the platform core (issue 2); officials only read.
ADMINISTERING_ROLES = frozenset({"admin"})


def may_administer(role: str) -> bool:
    """Whether a role manages users and organisations of its jurisdiction."""
    return role in ADMINISTERING_ROLES


def may_grant(actor_role: str, role: str) -> bool:
    """Whether an administrator may give (or manage a user holding) ``role``: none above
    their own."""
    return (
        may_administer(actor_role)
        and role in ROLE_RANK
        and ROLE_RANK[role] <= ROLE_RANK.get(actor_role, -1)
    )


def management_refusal(
    actor_id: int | None, actor_role: str, target_id: int, target_role: str
) -> str | None:
    """Why a user may not manage another user's account at all (None: they may, given the
    account lies in their jurisdiction). One's own account is changed through one's own pages
    (password change with the current password, MFA re-bind with proof): an administrator's
    session must not lift its own lock, move itself up a tier or skip the proof."""
    if not may_administer(actor_role):
        return "需要管理员权限 (administrators only)"
    if actor_id == target_id:
        return "不能在用户管理中修改自己的账户 (not your own account: use your own settings)"
    if not may_grant(actor_role, target_role):
        return "不能管理角色高于自己的用户 (the user's role is above your own)"
    return None


@dataclass(frozen=True)
class AccountState:
    """What decides which administration actions an account admits."""

    locked_by_admin: bool
    locked_until: datetime | None
    mfa_enabled: bool
    mfa_pending: bool


ACCOUNT_ACTIONS = ("edit", "lock", "unlock", "reset_password", "reset_mfa")


def account_actions(state: AccountState, now: datetime) -> frozenset[str]:
    """The administration actions an account admits now: lock when not already locked by an
    administrator; unlock when locked (by an administrator or by the lockout); reset MFA when
    an authenticator is bound or being bound; edit and password reset always."""
    actions = {"edit", "reset_password"}
    if not state.locked_by_admin:
        actions.add("lock")
    if state.locked_by_admin or is_locked(state.locked_until, now):
        actions.add("unlock")
    if state.mfa_enabled or state.mfa_pending:
        actions.add("reset_mfa")
    return frozenset(actions)


def enterprise_binding_problem(
    role: str, enterprise_id: int | None, division_code: str, enterprise_division: str | None
) -> tuple[str, str] | None:
    """(field, message) when a user's enterprise binding does not fit their role: an enterprise
    user is bound to one enterprise, located in the enterprise's division; nobody else is."""
    if role == "enterprise":
        if enterprise_id is None:
            return "enterprise_id", "企业用户必须绑定企业 (an enterprise user needs an enterprise)"
        if enterprise_division is None:
            return "enterprise_id", "企业不存在或不在管辖范围内 (no such enterprise in scope)"
        if division_code != enterprise_division:
            return (
                "division_code",
                f"企业用户的行政区划应与所属企业一致（{enterprise_division}） "
                "(an enterprise user's division is the enterprise's)",
            )
    elif enterprise_id is not None:
        return "enterprise_id", "只有企业用户可绑定企业 (only enterprise users are bound to one)"
    return None
