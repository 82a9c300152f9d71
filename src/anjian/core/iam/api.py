"""Auth API: login, logout, MFA enrolment, the current user."""

from __future__ import annotations

from fastapi import APIRouter, Request

from anjian.config import get_settings
from anjian.core.crypto import mask_phone
from anjian.core.errors import AnjianError
from anjian.core.iam import service
from anjian.core.iam.deps import DB, Ctx, PendingCtx, StaffCtx, client_ip, login_guard
from anjian.core.iam.models import User
from anjian.core.iam.schemas import (
    LoginIn,
    LoginOut,
    MfaEnrolIn,
    MfaEnrolOut,
    OtpIn,
    PasswordChangeIn,
    RecoveryCodesOut,
    UserRead,
)

router = APIRouter(prefix="/api/v1", tags=["auth 认证"])


def user_read(user: User) -> UserRead:
    """The public view of a user; the phone number only masked."""
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        division_code=user.division_code,
        org_id=user.org_id,
        enterprise_id=user.enterprise_id,
        mfa_enabled=user.mfa_enabled,
        phone_masked=mask_phone(service.field_cipher().decrypt(user.phone_enc)),
    )


def do_login(db: DB, body: LoginIn, request: Request) -> service.LoginResult:
    """Log in; a failure's audit record and lockout count are committed before the error."""
    try:
        return service.login(
            db, body.username, body.password, body.otp, client_ip(request), login_guard(request)
        )
    except AnjianError:
        db.commit()
        raise


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, db: DB) -> LoginOut:
    """Log in with username, password and (when enrolled) a one-time code; returns a Bearer token."""
    result = do_login(db, body, request)
    return LoginOut(
        access_token=result.token,
        expires_at=result.expires_at,
        idle_timeout_minutes=get_settings().session_idle_minutes,
        mfa_enrolment_required=result.mfa_enrolment_required,
        password_change_due=service.password_change_due(result.user),
        user=user_read(result.user),
    )


@router.post("/auth/logout", status_code=204)
def logout(ctx: PendingCtx) -> None:
    """End the current session."""
    service.logout(ctx.db, ctx.user, ctx.auth, ctx.actor.ip)


@router.get("/auth/me", response_model=UserRead)
def me(ctx: PendingCtx) -> UserRead:
    """The logged-in user."""
    return user_read(ctx.user)


@router.post("/auth/password", status_code=204)
def change_password(body: PasswordChangeIn, ctx: PendingCtx) -> None:
    """Change one's own password (ends one's other sessions)."""
    try:
        service.change_own_password(
            ctx.db, ctx.user, ctx.auth, body.old_password, body.new_password, ctx.actor.ip
        )
    except AnjianError:
        ctx.db.commit()  # keep the audit record of a wrong current password
        raise


@router.post("/auth/mfa/enrol", response_model=MfaEnrolOut)
def mfa_enrol(ctx: PendingCtx, body: MfaEnrolIn | None = None) -> MfaEnrolOut:
    """Start binding a TOTP authenticator: returns the secret and an otpauth:// URI. Replacing
    one already bound needs ``password`` and ``otp`` (a current code or a recovery code)."""
    proof = body or MfaEnrolIn()
    try:
        secret, uri = service.mfa_enrol(
            ctx.db, ctx.user, ctx.actor.ip, password=proof.password, otp=proof.otp
        )
    except AnjianError:
        ctx.db.commit()  # keep the audit record and the failure count of a wrong proof
        raise
    return MfaEnrolOut(secret=secret, otpauth_uri=uri)


@router.post("/auth/mfa/verify", response_model=RecoveryCodesOut)
def mfa_verify(body: OtpIn, ctx: PendingCtx) -> RecoveryCodesOut:
    """Confirm the authenticator with a current code; returns one-time recovery codes."""
    codes = service.mfa_verify(ctx.db, ctx.user, ctx.auth, body.otp, ctx.actor.ip)
    return RecoveryCodesOut(recovery_codes=codes)


@router.get("/users", response_model=list[UserRead])
def list_users(ctx: StaffCtx) -> list[UserRead]:
    """Users in the caller's jurisdiction."""
    return [user_read(u) for u in service.list_users(ctx.db, ctx.scope, ctx.actor)]


__all__ = ["Ctx", "router"]
