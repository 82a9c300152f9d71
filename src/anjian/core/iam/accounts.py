"""Identity and access, the pieces every use case shares: password hashing and the complexity
rule, the cipher for personal data, the lockout policy, who an actor is and the data scope of
a user, ending sessions and dropping an authenticator."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from anjian.config import Settings, get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import CST
from anjian.core.crypto import FieldCipher, hmac_sm3
from anjian.core.errors import (
    AnjianError,
    Forbidden,
    Invalid,
    Unauthorized,
)
from anjian.core.iam.models import AuthSession, RecoveryCode, Role, User
from anjian.core.iam.rules import (
    FailureState,
    LockoutPolicy,
    after_failure,
    is_locked,
    password_problems,
)
from anjian.core.node_settings.service import effective_settings
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.scope import Scope
from anjian.db import utcnow


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    # A hash to verify against when the user does not exist: the answer takes as long.
    return hasher, hasher.hash("anjian-dummy-password")


def password_hasher() -> tuple[PasswordHasher, str]:
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


def lockout_policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        threshold=settings.lockout_threshold,
        window=timedelta(minutes=settings.lockout_window_minutes),
        duration=timedelta(minutes=settings.lockout_minutes),
    )


def hash_password(password: str) -> str:
    return password_hasher()[0].hash(password)


def check_password(user: User | None, password: str) -> bool:
    hasher, dummy = password_hasher()
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


def drop_mfa(session: Session, user: User) -> None:
    user.mfa_enabled = False
    user.totp_secret_enc = None
    user.totp_pending_enc = None
    user.totp_last_step = None
    for rc in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(rc)


def revoke_sessions(session: Session, user_id: int) -> None:
    session.execute(update(AuthSession).where(AuthSession.user_id == user_id).values(revoked=True))


def recovery_hash(code: str) -> str:
    return hmac_sm3(get_settings().key_file("field"), code.replace("-", "").lower().encode())


def failure_state(user: User) -> FailureState:
    return FailureState(user.failed_attempts, user.failure_window_start, user.locked_until)


def store_failure(user: User, state: FailureState) -> None:
    user.failed_attempts, user.failure_window_start = state.attempts, state.window_start
    user.locked_until = state.locked_until


def locked_error(locked_until: datetime | None) -> Forbidden:
    until = locked_until.astimezone(CST).strftime("%H:%M") if locked_until else ""
    return Forbidden(
        f"登录失败次数过多，账户已锁定至 {until}（北京时间），或请管理员解锁 "
        f"(too many failed logins: locked until {until} CST, or ask an administrator to unlock)"
    )


def failure_error(
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


def check_second_factor(session: Session, user: User, otp: str, now: datetime) -> bool:
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
    code_hash = recovery_hash(otp)
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


def reauth_failed(
    session: Session, user: User, ip: str | None, action: str, zh: str, en: str, field: str
) -> AnjianError:
    """A logged-in user failed to prove again who they are (current password or code): audit
    it and count it towards the lockout like a failed login; at the threshold the account
    locks and every session of it ends. Returns the error to raise (the caller commits)."""
    settings = effective_settings()
    now = utcnow()
    state = after_failure(failure_state(user), now, lockout_policy(settings))
    store_failure(user, state)
    locked = is_locked(state.locked_until, now)
    if locked:
        revoke_sessions(session, user.id)
    audit_record(
        session,
        actor_of(user, ip),
        action,
        "user",
        user,
        result="failure",
        detail={"reason": f"bad_{field}", "locked": locked},
    )
    return failure_error(state, now, settings, zh, en, field, Invalid)
