"""MFA (动态口令, TOTP): enrolment, verification, recovery codes; the demo's current code."""

from __future__ import annotations

import secrets

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
)
from anjian.core.iam.accounts import (
    PASSWORD_MAX,
    RECOVERY_CODE_COUNT,
    TOTP_ISSUER,
    actor_of,
    check_password,
    check_second_factor,
    field_cipher,
    reauth_failed,
    recovery_hash,
)
from anjian.core.iam.models import AuthSession, RecoveryCode, User
from anjian.db import utcnow

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
        if not check_password(user, password):
            raise reauth_failed(
                session, user, ip, "auth.mfa_enrol", "密码错误", "wrong password", "password"
            )
        if not check_second_factor(session, user, otp.strip(), utcnow()):
            raise reauth_failed(
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
    audit_record(
        session, actor_of(user, ip), "auth.mfa_enrol", "user", user, detail={"rebind": rebind}
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
        audit_record(session, actor_of(user, ip), "auth.mfa_verify", "user", user, result="failure")
        raise Invalid("动态口令错误 (wrong one-time code)", field="otp")
    user.totp_secret_enc, user.totp_pending_enc = user.totp_pending_enc, None
    user.mfa_enabled = True
    user.totp_last_step = pyotp.TOTP(secret).timecode(utcnow())
    codes = _new_recovery_codes(session, user)
    if auth is not None:
        auth.mfa_satisfied = True
    audit_record(session, actor_of(user, ip), "auth.mfa_verify", "user", user)
    return codes


def enrol_totp_directly(session: Session, actor: Actor, user: User) -> tuple[str, list[str]]:
    """Enrol TOTP for a user without the interactive step (demo users and operators' CLI);
    returns the secret and recovery codes."""
    secret = pyotp.random_base32()
    user.totp_secret_enc = field_cipher().encrypt(secret)
    user.mfa_enabled = True
    codes = _new_recovery_codes(session, user)
    audit_record(session, actor, "auth.mfa_enrol", "user", user, detail={"by": "admin"})
    return secret, codes


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    for rc in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(rc)
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=recovery_hash(raw)))
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
