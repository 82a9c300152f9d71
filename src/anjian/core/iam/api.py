"""Auth API: login, logout, MFA enrolment, the current user."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from anjian.core.crypto import mask_phone
from anjian.core.errors import AnjianError
from anjian.core.iam import service
from anjian.core.iam.deps import (
    DB,
    AdminCtx,
    Context,
    Ctx,
    PendingCtx,
    StaffCtx,
    client_ip,
    login_guard,
)
from anjian.core.iam.models import Role, User
from anjian.core.iam.rules import is_locked
from anjian.core.iam.schemas import (
    LoginIn,
    LoginOut,
    MfaEnrolIn,
    MfaEnrolOut,
    OtpIn,
    PasswordChangeIn,
    PasswordResetIn,
    RecoveryCodesOut,
    UserCreate,
    UserRead,
    UserUpdate,
)
from anjian.core.node_settings.service import effective_settings
from anjian.db import read_first, utcnow

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
        locked=user.locked_by_admin or is_locked(user.locked_until, utcnow()),
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
        idle_timeout_minutes=effective_settings().session_idle_minutes,
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
def list_users(
    ctx: StaffCtx,
    division: str | None = Query(default=None, max_length=6),
    role: Role | None = None,
    locked: bool | None = None,
) -> list[UserRead]:
    """Users in the caller's jurisdiction, optionally of one division (and below), one role,
    locked or not."""
    users, _total = service.find_users(
        ctx.db,
        ctx.scope,
        ctx.actor,
        division=division,
        role=role.value if role else None,
        locked=locked,
    )
    return [user_read(u) for u in users]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, ctx: AdminCtx) -> UserRead:
    """Create a user in the administrator's jurisdiction, with no role above their own; the
    initial password must meet the complexity rule."""
    # The body's fields are the service's keywords, one for one.
    return user_read(service.create_user(ctx.db, ctx.actor, **body.model_dump(), scope=ctx.scope))


def _managed(ctx: Context, user_id: int) -> User:
    return service.user_in_scope(ctx.db, ctx.scope, user_id)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: int, body: UserUpdate, ctx: AdminCtx) -> UserRead:
    """Change a user's role, division, organisation, enterprise or name (ends the user's
    sessions when their rights change)."""
    user = _managed(ctx, user_id)
    sent = body.model_fields_set
    user = service.update_user(
        ctx.db,
        ctx.actor,
        user.username,
        role=body.role or Role(user.role),
        division_code=body.division_code or user.division_code,
        org_id=body.org_id if "org_id" in sent else user.org_id,
        enterprise_id=body.enterprise_id if "enterprise_id" in sent else user.enterprise_id,
        display_name=user.display_name if body.display_name is None else body.display_name,
        scope=ctx.scope,
    )
    return user_read(user)


@router.post("/users/{user_id}/lock", response_model=UserRead)
def lock_user(user_id: int, ctx: AdminCtx) -> UserRead:
    """Lock an account until unlocked (ends its sessions); 409 when already locked."""
    user = _managed(ctx, user_id)
    return user_read(service.lock_user(ctx.db, ctx.actor, user.username, scope=ctx.scope))


@router.post("/users/{user_id}/unlock", response_model=UserRead)
def unlock_user(user_id: int, ctx: AdminCtx) -> UserRead:
    """Lift an administrator's lock or a lockout; 409 when not locked."""
    user = _managed(ctx, user_id)
    return user_read(service.unlock_user(ctx.db, ctx.actor, user.username, scope=ctx.scope))


@router.post("/users/{user_id}/password", status_code=204)
def reset_password(user_id: int, body: PasswordResetIn, ctx: AdminCtx) -> None:
    """Set a new password for a user (ends their sessions)."""
    with read_first(ctx.db):  # the password is hashed without holding the write lock
        user = _managed(ctx, user_id)
    service.reset_password(ctx.db, ctx.actor, user.username, body.password, scope=ctx.scope)


@router.post("/users/{user_id}/mfa-reset", response_model=UserRead)
def reset_mfa(user_id: int, ctx: AdminCtx) -> UserRead:
    """Drop a user's authenticator (a lost phone): they enrol again at the next login; 409
    when none is bound."""
    user = _managed(ctx, user_id)
    return user_read(service.reset_user_mfa(ctx.db, ctx.actor, user.username, scope=ctx.scope))


__all__ = ["Ctx", "router"]
