"""Login and sessions: password and second factor, lockout after failures (等保 8.1.4.1),
bearer/cookie sessions with idle and absolute expiry, logout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit, audit_record
from anjian.core.crypto import sm3
from anjian.core.errors import (
    Forbidden,
    Invalid,
    Unauthorized,
)
from anjian.core.iam.accounts import (
    PASSWORD_MAX,
    USERNAME_MAX,
    actor_of,
    check_password,
    check_second_factor,
    failure_error,
    failure_state,
    locked_error,
    lockout_policy,
    store_failure,
)
from anjian.core.iam.guard import LoginGuard
from anjian.core.iam.models import AuthSession, User
from anjian.core.iam.rules import (
    FailureState,
    after_failure,
    is_locked,
    session_expired,
)
from anjian.core.node_settings.service import effective_settings
from anjian.core.replay import replayed
from anjian.core.scope import unscoped
from anjian.db import after_read, read_first, utcnow

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


def mfa_required_for(user: User) -> bool:
    return user.role in get_settings().mfa_required_roles


@unscoped("a login names its account before anyone's scope is known")
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
    if not replayed():  # a replay of one request the database failed is one attempt
        guard.admit(username, ip)
    settings = effective_settings()
    with read_first(session) as own_read:  # argon2 (≈ 0.2 s) is not run under the write lock
        user = session.scalar(select(User).where(User.username == username))
        seen_hash = user.password_hash if user else None
        password_ok = check_password(user, password)
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
        before = failure_state(user) if user else guard.failures_of(username)
        state = after_failure(before, now, lockout_policy(settings))
        if user is not None:
            store_failure(user, state)
        else:
            guard.remember(username, state)
        return state

    locked_until = user.locked_until if user else guard.failures_of(username).locked_until
    if is_locked(locked_until, now):
        raise fail("locked", locked_error(locked_until))
    if not password_ok:
        raise fail(
            "bad_password" if user else "unknown_user",
            failure_error(
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
        if not check_second_factor(session, user, otp.strip(), now):
            count_failure()
            raise fail(
                "bad_otp",
                Unauthorized("动态口令错误或已使用 (wrong or reused one-time code)", field="otp"),
            )
    user.failed_attempts, user.failure_window_start, user.locked_until = 0, None, None
    token = secrets.token_urlsafe(32)
    enrol_needed = mfa_required_for(user) and not user.mfa_enabled
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
    audit_record(
        session,
        who,
        "auth.login",
        "user",
        user,
        detail={"mfa": user.mfa_enabled, "enrolment_required": enrol_needed},
    )
    return LoginResult(
        token=token, user=user, expires_at=auth.expires_at, mfa_enrolment_required=enrol_needed
    )


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
    audit_record(session, actor_of(user, ip), "auth.logout", "user", user)
