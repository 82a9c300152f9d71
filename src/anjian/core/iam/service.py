"""Identity and access use cases: users, login, sessions, MFA, lockout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, update
from sqlalchemy.orm import Session

from anjian.config import Settings, get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.clock import CST
from anjian.core.crypto import FieldCipher, hmac_sm3, sm3
from anjian.core.divisions.models import Division
from anjian.core.errors import (
    AnjianError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    OutOfScope,
    Unauthorized,
)
from anjian.core.iam.guard import LoginGuard
from anjian.core.iam.models import ROLE_LABELS, AuthSession, RecoveryCode, Role, User
from anjian.core.iam.rules import (
    AccountState,
    FailureState,
    LockoutPolicy,
    account_actions,
    after_failure,
    enterprise_binding_problem,
    is_locked,
    management_refusal,
    may_grant,
    password_problems,
    session_expired,
)
from anjian.core.node_settings.service import effective_settings
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.orgs.service import get_org
from anjian.core.scope import Scope, division_filter, not_found
from anjian.core.sync.registry import spec_for
from anjian.db import after_read, read_first, utcnow


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    # A hash to verify against when the user does not exist: the answer takes as long.
    return hasher, hasher.hash("anjian-dummy-password")


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the node's cost settings (the library's recommended ones by default) and
    its dummy hash."""
    settings = get_settings()
    return _hasher_for(settings.password_hash_time_cost, settings.password_hash_memory_kib)


RECOVERY_CODE_COUNT = 10
USERNAME_MAX = 64
PASSWORD_MAX = 256
TOTP_ISSUER = "安监云 Anjian Cloud"


def field_cipher() -> FieldCipher:
    """The SM4 cipher for personal data and secrets at rest."""
    return FieldCipher(get_settings().key_file("field"))


def _policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        threshold=settings.lockout_threshold,
        window=timedelta(minutes=settings.lockout_window_minutes),
        duration=timedelta(minutes=settings.lockout_minutes),
    )


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def _check_password(user: User | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(user.password_hash if user else dummy, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def validate_password(password: str, username: str) -> None:
    """Raise a 422 naming ``password`` when the password breaks the complexity rule."""
    problems = password_problems(
        password, username=username, min_length=effective_settings().password_min_length
    )
    if problems:
        raise Invalid("；".join(problems), field="password")


def actor_of(user: User, ip: str | None = None) -> Actor:
    return Actor(user_id=user.id, username=user.username, ip=ip, division_code=user.division_code)


def scope_of(session: Session, user: User) -> Scope:
    """The data scope of a user: one place decides it for API, console and CLI."""
    if user.role == Role.ENTERPRISE:
        if user.enterprise_id is None:
            return Scope(user_id=user.id, role=user.role)  # bound to nothing: sees nothing
        return Scope.for_enterprise(user.id, user.enterprise_id)
    org = session.get(Organisation, user.org_id) if user.org_id else None
    if org is not None and org.kind == OrgKind.COAL_INSPECTION and org.area_codes:
        # 煤矿安全监察: the bureau's area, coal mines only.
        return Scope.for_division(user.id, user.role, org.area_codes, categories=("coal_mine",))
    return Scope.for_division(user.id, user.role, [user.division_code])


# --- users -------------------------------------------------------------------------------------


USER_NOT_FOUND = "用户不存在或不在管辖范围内 (no such user in scope)"
DISPLAY_NAME_MAX = 64
_NOT_NOW = {
    "lock": "该用户已被锁定 (already locked)",
    "unlock": "该用户未被锁定 (not locked)",
    "reset_mfa": "该用户未绑定动态口令 (no authenticator bound)",
}


def _enterprise_division(session: Session, enterprise_id: int) -> str | None:
    """The division of an enterprise (None: no such enterprise). Found through the sync
    registry, which knows where every synced record lies, so the kernel needs no import of the
    enterprise domain."""
    spec = spec_for("enterprise")
    if spec is None:
        return None
    model: Any = spec.model
    return session.scalar(
        select(getattr(model, spec.division_attr)).where(
            model.id == enterprise_id, model.deleted.is_(False)
        )
    )


def _check_placement(
    session: Session,
    scope: Scope | None,
    *,
    role: Role,
    division_code: str,
    org_id: int | None,
    enterprise_id: int | None,
) -> None:
    """Refuse a user's role, division, organisation and enterprise that do not exist or do not
    fit. With a ``scope`` (an administrator acting), the role may not be above the
    administrator's own and everything must lie in their jurisdiction (a division outside it is
    a 403, audited; an organisation or enterprise outside it reads as missing)."""
    if scope is not None and not may_grant(scope.role, role.value):
        raise Forbidden(
            f"不能授予高于自己的角色: {ROLE_LABELS[role]} (a role above your own)", field="role"
        )
    if session.get(Division, division_code) is None:
        raise Invalid(
            f"行政区划代码不存在: {division_code} (unknown division)", field="division_code"
        )
    if scope is not None and not scope.covers_code(division_code):
        raise Forbidden(
            f"行政区划 {division_code} 不在您的管辖范围内 (outside your jurisdiction)",
            field="division_code",
        )
    if org_id is not None and (
        session.get(Organisation, org_id) is None
        or (scope is not None and get_org(session, scope, org_id) is None)
    ):
        raise Invalid(
            f"机构不存在或不在管辖范围内: {org_id} (unknown organisation)", field="org_id"
        )
    place = _enterprise_division(session, enterprise_id) if enterprise_id is not None else None
    if place is not None and scope is not None and not scope.covers_code(place):
        place = None  # as if it did not exist: its existence is not disclosed
    problem = enterprise_binding_problem(role.value, enterprise_id, division_code, place)
    if problem:
        raise Invalid(problem[1], field=problem[0])


def _check_display_name(display_name: str) -> str:
    display_name = display_name.strip()
    if len(display_name) > DISPLAY_NAME_MAX:
        raise Invalid(
            f"姓名不能超过 {DISPLAY_NAME_MAX} 字 (display name too long)", field="display_name"
        )
    return display_name


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    division_code: str,
    org_id: int | None = None,
    enterprise_id: int | None = None,
    display_name: str = "",
    phone: str | None = None,
    is_demo: bool = False,
    scope: Scope | None = None,
) -> User:
    """Add a user (audited). An enterprise user must be bound to an enterprise of their
    division. With a ``scope`` (an administrator acting) see :func:`_check_placement`; the CLI
    operator passes none."""
    if (
        not username
        or len(username) > USERNAME_MAX
        or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
        or not username.isascii()
    ):
        raise Invalid(
            "用户名只能包含字母、数字、点、下划线和连字符 (invalid username)", field="username"
        )
    display_name = _check_display_name(display_name)
    validate_password(password, username)
    password_hash = hash_password(password)  # before the first query: no lock held while hashing
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名已存在: {username} (username taken)", field="username")
    _check_placement(
        session,
        scope,
        role=role,
        division_code=division_code,
        org_id=org_id,
        enterprise_id=enterprise_id,
    )
    now = utcnow()
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        division_code=division_code,
        org_id=org_id,
        enterprise_id=enterprise_id,
        phone_enc=field_cipher().encrypt(phone),
        password_hash=password_hash,
        password_changed_at=now,
        created_at=now,
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    audit(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=str(user.id),
        division_code=division_code,
        detail={"username": username, "role": role.value},
    )
    return user


def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在: {username} (no such user)", field="username")
    return user


def user_in_scope(session: Session, scope: Scope, user_id: int) -> User:
    """One user whose division lies in scope; otherwise the same 404 whether missing or out
    of scope (an :class:`OutOfScope` when it exists, so a write that met it is audited)."""
    stmt = scope.apply(
        select(User).where(User.id == user_id),
        division=User.division_code,
        enterprise=User.enterprise_id,
    )
    user = session.scalars(stmt).first()
    if user is None:
        raise not_found(session, User.id, user_id, USER_NOT_FOUND)
    return user


def account_state(user: User) -> AccountState:
    """The account's state as the administration rules read it."""
    return AccountState(
        locked_by_admin=user.locked_by_admin,
        locked_until=user.locked_until,
        mfa_enabled=user.mfa_enabled,
        mfa_pending=user.totp_pending_enc is not None,
    )


def allowed_actions(actor: Actor, scope: Scope, user: User) -> frozenset[str]:
    """The administration actions ``actor`` may take on ``user`` (in scope) now: what the
    console offers as buttons, by the same rules :func:`_managed` enforces."""
    if management_refusal(actor.user_id, scope.role, user.id, user.role) is not None:
        return frozenset()
    return account_actions(account_state(user), utcnow())


def _managed(
    session: Session, actor: Actor, scope: Scope | None, username: str, action: str
) -> User:
    """The account ``actor`` is about to change by ``action``: in scope, not the actor's own,
    no role above the actor's, and in a state that admits the action (409 otherwise)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在: {username} (no such user)", field="username")
    if scope is not None:
        if not scope.covers(division_code=user.division_code, enterprise_id=user.enterprise_id):
            raise OutOfScope(USER_NOT_FOUND)
        refusal = management_refusal(actor.user_id, scope.role, user.id, user.role)
        if refusal is not None:
            raise Forbidden(refusal)
    if action not in account_actions(account_state(user), utcnow()):
        raise Conflict(_NOT_NOW[action])
    return user


def find_users(
    session: Session,
    scope: Scope,
    actor: Actor,
    *,
    division: str | None = None,
    role: str | None = None,
    locked: bool | None = None,
    mfa: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[User], int]:
    """Users whose division lies in scope (enterprise users: their colleagues), filtered by
    division (and below), role, locked state and MFA (``yes`` enrolled, ``no`` not, ``pending``
    not enrolled though the role requires it); one page and the total. Names and phone numbers
    are personal information, so the read is audited."""
    stmt = users_in_scope(scope)
    if division:
        stmt = stmt.where(division_filter(User.division_code, division))
    if role:
        stmt = stmt.where(User.role == role)
    if locked is not None:
        is_locked_now = locked_now(utcnow())
        stmt = stmt.where(is_locked_now if locked else not_(is_locked_now))
    if mfa == "yes":
        stmt = stmt.where(User.mfa_enabled.is_(True))
    elif mfa == "no":
        stmt = stmt.where(User.mfa_enabled.is_(False))
    elif mfa == "pending":
        stmt = stmt.where(mfa_pending())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(User.division_code, User.username).offset(offset)
    users = list(session.scalars(stmt if limit is None else stmt.limit(limit)))
    audit(session, actor, "user.read", object_type="user", detail={"count": len(users)})
    return users, total


def users_in_scope(scope: Scope) -> Select[tuple[User]]:
    """The users whose division lies in scope (enterprise users: their colleagues)."""
    return scope.apply(select(User), division=User.division_code, enterprise=User.enterprise_id)


def locked_now(now: datetime) -> ColumnElement[bool]:
    """Locked at ``now``: by an administrator, or by failed logins until a time to come."""
    return or_(
        User.locked_by_admin.is_(True),
        and_(User.locked_until.is_not(None), User.locked_until > now),
    )


def mfa_pending() -> ColumnElement[bool]:
    """Not enrolled in MFA though the role requires it (the next login asks for enrolment)."""
    return and_(User.mfa_enabled.is_(False), User.role.in_(list(get_settings().mfa_required_roles)))


def list_users(session: Session, scope: Scope, actor: Actor) -> list[User]:
    """Every user in scope (audited as a read of personal information)."""
    return find_users(session, scope, actor)[0]


def last_logins(session: Session, user_ids: list[int]) -> dict[int, datetime]:
    """When each user last logged in (their newest session)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(AuthSession.user_id, func.max(AuthSession.created_at))
        .where(AuthSession.user_id.in_(user_ids))
        .group_by(AuthSession.user_id)
    )
    return {uid: at for uid, at in rows}


def update_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    role: Role,
    division_code: str,
    org_id: int | None,
    enterprise_id: int | None,
    display_name: str,
    scope: Scope | None = None,
) -> User:
    """Change a user's role, division, organisation, enterprise and name (audited with what
    changed; nothing changed writes nothing). A change of rights ends the user's sessions, so
    the next login takes the new role and jurisdiction (and asks for MFA if the role needs
    it)."""
    display_name = _check_display_name(display_name)
    user = _managed(session, actor, scope, username, "edit")
    _check_placement(
        session,
        scope,
        role=role,
        division_code=division_code,
        org_id=org_id,
        enterprise_id=enterprise_id,
    )
    wanted = {
        "role": role.value,
        "division_code": division_code,
        "org_id": org_id,
        "enterprise_id": enterprise_id,
        "display_name": display_name or user.username,
    }
    changes = {
        name: {"from": getattr(user, name), "to": value}
        for name, value in wanted.items()
        if getattr(user, name) != value
    }
    if not changes:
        return user
    for name, value in wanted.items():
        setattr(user, name, value)
    if set(changes) - {"display_name"}:
        _revoke_sessions(session, user.id)
    audit(
        session,
        actor,
        "user.update",
        object_type="user",
        object_id=str(user.id),
        division_code=user.division_code,
        detail={"changes": changes},
    )
    return user


def lock_user(session: Session, actor: Actor, username: str, *, scope: Scope | None = None) -> User:
    """Lock an account until an administrator unlocks it; ends its sessions."""
    user = _managed(session, actor, scope, username, "lock")
    user.locked_by_admin = True
    _revoke_sessions(session, user.id)
    audit(
        session,
        actor,
        "user.lock",
        object_type="user",
        object_id=str(user.id),
        division_code=user.division_code,
    )
    return user


def unlock_user(
    session: Session, actor: Actor, username: str, *, scope: Scope | None = None
) -> User:
    """Lift both an administrator's lock and an automatic lockout."""
    user = _managed(session, actor, scope, username, "unlock")
    user.locked_by_admin = False
    user.locked_until = None
    user.failed_attempts = 0
    user.failure_window_start = None
    audit(
        session,
        actor,
        "user.unlock",
        object_type="user",
        object_id=str(user.id),
        division_code=user.division_code,
    )
    return user


def reset_password(
    session: Session,
    actor: Actor,
    username: str,
    password: str,
    *,
    reset_mfa: bool = False,
    scope: Scope | None = None,
) -> User:
    """Set a new password (and optionally drop the user's MFA enrolment); ends its sessions."""
    validate_password(password, username)
    password_hash = hash_password(password)  # before the first query: no lock held while hashing
    user = _managed(session, actor, scope, username, "reset_password")
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    if reset_mfa:
        _drop_mfa(session, user)
    _revoke_sessions(session, user.id)
    audit(
        session,
        actor,
        "user.reset",
        object_type="user",
        object_id=str(user.id),
        division_code=user.division_code,
        detail={"mfa_reset": reset_mfa},
    )
    return user


def reset_user_mfa(
    session: Session, actor: Actor, username: str, *, scope: Scope | None = None
) -> User:
    """Drop a user's authenticator and recovery codes (a lost phone); ends its sessions, and
    the next login enrols again. Audited as ``user.reset`` without a password reset."""
    user = _managed(session, actor, scope, username, "reset_mfa")
    _drop_mfa(session, user)
    _revoke_sessions(session, user.id)
    audit(
        session,
        actor,
        "user.reset",
        object_type="user",
        object_id=str(user.id),
        division_code=user.division_code,
        detail={"mfa_reset": True, "password_reset": False},
    )
    return user


def change_own_password(
    session: Session, user: User, auth: AuthSession, old: str, new: str, ip: str | None
) -> None:
    """A user changes their own password; their other sessions end. A wrong current password
    counts as a failed login (a stolen session must not become a password oracle)."""
    if not _check_password(user, old):
        raise _reauth_failed(
            session,
            user,
            ip,
            "user.password",
            "原密码错误",
            "current password is wrong",
            "old_password",
        )
    if old == new:
        raise Invalid("新密码不能与原密码相同 (choose a different password)", field="new_password")
    problems = password_problems(
        new, username=user.username, min_length=effective_settings().password_min_length
    )
    if problems:
        raise Invalid("；".join(problems), field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.token_hash != auth.token_hash)
        .values(revoked=True)
    )
    audit(session, actor_of(user, ip), "user.password", object_type="user", object_id=str(user.id))


def _reauth_failed(
    session: Session, user: User, ip: str | None, action: str, zh: str, en: str, field: str
) -> AnjianError:
    """A logged-in user failed to prove again who they are (current password or code): audit
    it and count it towards the lockout like a failed login; at the threshold the account
    locks and every session of it ends. Returns the error to raise (the caller commits)."""
    settings = effective_settings()
    now = utcnow()
    state = after_failure(_failure_state(user), now, _policy(settings))
    _store_failure(user, state)
    locked = is_locked(state.locked_until, now)
    if locked:
        _revoke_sessions(session, user.id)
    audit(
        session,
        actor_of(user, ip),
        action,
        object_type="user",
        object_id=str(user.id),
        result="failure",
        detail={"reason": f"bad_{field}", "locked": locked},
    )
    return _failure_error(state, now, settings, zh, en, field, Invalid)


def password_change_due(user: User) -> bool:
    """Whether the password is older than ``password_max_age_days``."""
    return utcnow() - user.password_changed_at > timedelta(
        days=effective_settings().password_max_age_days
    )


def _drop_mfa(session: Session, user: User) -> None:
    user.mfa_enabled = False
    user.totp_secret_enc = None
    user.totp_pending_enc = None
    user.totp_last_step = None
    for rc in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(rc)


def _revoke_sessions(session: Session, user_id: int) -> None:
    session.execute(update(AuthSession).where(AuthSession.user_id == user_id).values(revoked=True))


# --- login -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the bearer token (shown once) and what the session may do."""

    token: str
    user: User
    expires_at: datetime
    mfa_enrolment_required: bool


class MfaRequired(Unauthorized):
    """The password was right but a one-time code is needed."""


def _mfa_required_for(user: User) -> bool:
    return user.role in get_settings().mfa_required_roles


def _failure_state(user: User) -> FailureState:
    return FailureState(user.failed_attempts, user.failure_window_start, user.locked_until)


def _store_failure(user: User, state: FailureState) -> None:
    user.failed_attempts, user.failure_window_start = state.attempts, state.window_start
    user.locked_until = state.locked_until


def _locked_error(locked_until: datetime | None) -> Forbidden:
    until = locked_until.astimezone(CST).strftime("%H:%M") if locked_until else ""
    return Forbidden(
        f"登录失败次数过多，账户已锁定至 {until}（北京时间），或请管理员解锁 "
        f"(too many failed logins: locked until {until} CST, or ask an administrator to unlock)"
    )


def _failure_error(
    state: FailureState,
    now: datetime,
    settings: Settings,
    zh: str,
    en: str,
    field: str | None,
    error: type[AnjianError] = Unauthorized,
) -> AnjianError:
    """The answer to one more failed attempt: how many are left (as ``error``), or that the
    account is now locked. The same for every user name, existing or not."""
    if is_locked(state.locked_until, now):
        return Forbidden(
            f"{zh}；失败次数已达 {settings.lockout_threshold} 次，账户已锁定 "
            f"{settings.lockout_minutes} 分钟 (account locked after too many failures)",
            field=field,
        )
    left = settings.lockout_threshold - state.attempts
    return error(f"{zh}，再失败 {left} 次将锁定账户 ({en}; {left} attempts left)", field=field)


def login(
    session: Session,
    username: str,
    password: str,
    otp: str | None,
    ip: str | None,
    guard: LoginGuard,
) -> LoginResult:
    """Check rate limits, password, lockout and second factor; open a session. Every outcome
    past the rate limit is audited.

    A name that does not exist answers exactly like a wrong password (its failures are counted
    in ``guard``, in memory, and lock it the same way), and an administrator's lock is only
    told to whoever knows the password: nobody learns which accounts exist.

    Failures are *recorded* (the caller must still commit) and then raised."""
    if not username or len(username) > USERNAME_MAX:
        raise Invalid("用户名无效 (invalid username)", field="username")
    if not password or len(password) > PASSWORD_MAX:
        raise Invalid("密码无效 (invalid password)", field="password")
    guard.admit(username, ip)
    settings = effective_settings()
    with read_first(session) as own_read:  # argon2 (≈ 0.2 s) is not run under the write lock
        user = session.scalar(select(User).where(User.username == username))
        seen_hash = user.password_hash if user else None
        password_ok = _check_password(user, password)
    if own_read and user is not None:
        session.refresh(user)  # now in the writing transaction: the counters as they are
        password_ok = password_ok and user.password_hash == seen_hash
    now = utcnow()
    who = Actor(
        user_id=user.id if user else None,
        username=username,
        ip=ip,
        division_code=user.division_code if user else None,
    )

    def fail(reason: str, exc: Exception) -> Exception:
        audit(
            session,
            who,
            "auth.login",
            object_type="user",
            object_id=str(user.id) if user else None,
            result="failure",
            detail={"reason": reason},
        )
        return exc

    def count_failure() -> FailureState:
        before = _failure_state(user) if user else guard.failures_of(username)
        state = after_failure(before, now, _policy(settings))
        if user is not None:
            _store_failure(user, state)
        else:
            guard.remember(username, state)
        return state

    locked_until = user.locked_until if user else guard.failures_of(username).locked_until
    if is_locked(locked_until, now):
        raise fail("locked", _locked_error(locked_until))
    if not password_ok:
        raise fail(
            "bad_password" if user else "unknown_user",
            _failure_error(
                count_failure(),
                now,
                settings,
                "用户名或密码错误",
                "wrong username or password",
                None,
            ),
        )
    assert user is not None
    if user.locked_by_admin:
        raise fail(
            "locked_by_admin",
            Forbidden("账户已被管理员锁定，请联系管理员解锁 (account locked by an administrator)"),
        )
    if user.mfa_enabled:
        if not otp:
            raise MfaRequired("需要动态口令 (one-time code required)", field="otp")
        if not _check_second_factor(session, user, otp.strip(), now):
            count_failure()
            raise fail(
                "bad_otp",
                Unauthorized("动态口令错误或已使用 (wrong or reused one-time code)", field="otp"),
            )
    user.failed_attempts, user.failure_window_start, user.locked_until = 0, None, None
    token = secrets.token_urlsafe(32)
    enrol_needed = _mfa_required_for(user) and not user.mfa_enabled
    auth = AuthSession(
        token_hash=sm3(token.encode()),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_max_hours),
        ip=ip,
        mfa_satisfied=not enrol_needed,
    )
    session.add(auth)
    audit(
        session,
        who,
        "auth.login",
        object_type="user",
        object_id=str(user.id),
        detail={"mfa": user.mfa_enabled, "enrolment_required": enrol_needed},
    )
    return LoginResult(
        token=token, user=user, expires_at=auth.expires_at, mfa_enrolment_required=enrol_needed
    )


def _check_second_factor(session: Session, user: User, otp: str, now: datetime) -> bool:
    secret = field_cipher().decrypt(user.totp_secret_enc)
    if secret and otp.isdigit() and len(otp) == 6:
        totp = pyotp.TOTP(secret)
        for drift in (0, -1, 1):  # one step either way for clock skew
            at = now + timedelta(seconds=30 * drift)
            step = totp.timecode(at)
            if secrets.compare_digest(totp.at(at), otp):
                if user.totp_last_step is not None and step <= user.totp_last_step:
                    return False  # a code is good once: replayed codes are refused
                user.totp_last_step = step
                return True
        return False
    code_hash = _recovery_hash(otp)
    rc = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
    )
    if rc is None:
        return False
    rc.used_at = now
    return True


def _recovery_hash(code: str) -> str:
    return hmac_sm3(get_settings().key_file("field"), code.replace("-", "").lower().encode())


def resolve_session(session: Session, token: str) -> tuple[User, AuthSession]:
    """The user behind a token; raises 401 for unknown, revoked or idle-expired sessions.
    Only reads: :func:`keep_alive` refreshes the idle clock."""
    settings = effective_settings()
    now = utcnow()
    auth = session.get(AuthSession, sm3(token.encode()))
    if auth is None or auth.revoked:
        raise Unauthorized("未登录或会话已失效 (not logged in)")
    if session_expired(
        auth.last_seen_at, auth.expires_at, now, timedelta(minutes=settings.session_idle_minutes)
    ):
        auth.revoked = True
        raise Unauthorized("会话已超时，请重新登录 (session timed out)")
    user = session.get(User, auth.user_id)
    if user is None or user.locked_by_admin:
        raise Unauthorized("账户不可用 (account disabled)")
    return user, auth


def keep_alive(session: Session, auth: AuthSession) -> None:
    """Count a request as the session's activity (the idle clock, 等保 8.1.4.1 b). Refreshed at
    most every 30 s, so the clock stays right without a write per request; after a read (a
    read-only unit of work) in the short write that follows it."""
    now = utcnow()
    if now - auth.last_seen_at <= timedelta(seconds=30):
        return
    token_hash = auth.token_hash
    if not after_read(
        session,
        lambda writer: writer.execute(
            update(AuthSession).where(AuthSession.token_hash == token_hash).values(last_seen_at=now)
        ),
    ):
        auth.last_seen_at = now  # written with the request's own changes


def logout(session: Session, user: User, auth: AuthSession, ip: str | None) -> None:
    """End a session."""
    auth.revoked = True
    audit(session, actor_of(user, ip), "auth.logout", object_type="user", object_id=str(user.id))


# --- MFA ---------------------------------------------------------------------------------------


def mfa_enrol(
    session: Session,
    user: User,
    ip: str | None,
    *,
    password: str | None = None,
    otp: str | None = None,
) -> tuple[str, str]:
    """Start TOTP enrolment: a new secret (kept pending until verified) and its otpauth URI.

    Replacing an authenticator already bound needs the password and a current code or an
    unused recovery code: a stolen session must not move the second factor to another phone.
    A failed proof is audited and counts towards the lockout."""
    rebind = user.mfa_enabled
    if rebind:
        if not password or len(password) > PASSWORD_MAX:
            raise Invalid(
                "更换动态口令须输入登录密码 (password required to replace the authenticator)",
                field="password",
            )
        if not otp or len(otp) > 32:
            raise Invalid(
                "更换动态口令须输入当前动态口令或恢复码 (current code or a recovery code required)",
                field="otp",
            )
        if not _check_password(user, password):
            raise _reauth_failed(
                session, user, ip, "auth.mfa_enrol", "密码错误", "wrong password", "password"
            )
        if not _check_second_factor(session, user, otp.strip(), utcnow()):
            raise _reauth_failed(
                session,
                user,
                ip,
                "auth.mfa_enrol",
                "动态口令错误或已使用",
                "wrong or reused one-time code",
                "otp",
            )
    secret = pyotp.random_base32()
    user.totp_pending_enc = field_cipher().encrypt(secret)
    audit(
        session,
        actor_of(user, ip),
        "auth.mfa_enrol",
        object_type="user",
        object_id=str(user.id),
        detail={"rebind": rebind},
    )
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    return secret, uri


def mfa_verify(
    session: Session, user: User, auth: AuthSession | None, otp: str, ip: str | None
) -> list[str]:
    """Confirm enrolment with a current code; returns fresh recovery codes (shown once)."""
    secret = field_cipher().decrypt(user.totp_pending_enc)
    if not secret:
        raise Conflict("请先申请绑定动态口令 (start enrolment first)")
    if not pyotp.TOTP(secret).verify(otp.strip(), valid_window=1):
        audit(
            session,
            actor_of(user, ip),
            "auth.mfa_verify",
            object_type="user",
            object_id=str(user.id),
            result="failure",
        )
        raise Invalid("动态口令错误 (wrong one-time code)", field="otp")
    user.totp_secret_enc, user.totp_pending_enc = user.totp_pending_enc, None
    user.mfa_enabled = True
    user.totp_last_step = pyotp.TOTP(secret).timecode(utcnow())
    codes = _new_recovery_codes(session, user)
    if auth is not None:
        auth.mfa_satisfied = True
    audit(
        session, actor_of(user, ip), "auth.mfa_verify", object_type="user", object_id=str(user.id)
    )
    return codes


def enrol_totp_directly(session: Session, actor: Actor, user: User) -> tuple[str, list[str]]:
    """Enrol TOTP for a user without the interactive step (demo users and operators' CLI);
    returns the secret and recovery codes."""
    secret = pyotp.random_base32()
    user.totp_secret_enc = field_cipher().encrypt(secret)
    user.mfa_enabled = True
    codes = _new_recovery_codes(session, user)
    audit(
        session,
        actor,
        "auth.mfa_enrol",
        object_type="user",
        object_id=str(user.id),
        division_code=user.division_code,
        detail={"by": "admin"},
    )
    return secret, codes


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    for rc in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(rc)
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    return codes


def current_totp(session: Session, user: User) -> str:
    """The current code of a demo user's authenticator (the demo has no phone to read it from).
    Refused for real users."""
    if not user.is_demo:
        raise Forbidden("仅演示账户可查看动态口令 (demo users only)")
    secret = field_cipher().decrypt(user.totp_secret_enc)
    if not secret:
        raise Conflict("该用户未绑定动态口令 (no MFA enrolled)")
    return pyotp.TOTP(secret).now()
