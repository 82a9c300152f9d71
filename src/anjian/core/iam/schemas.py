"""Request and response bodies of the auth API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from anjian.core.iam.models import Role
from anjian.core.inputs import INT32_MAX


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    otp: str | None = Field(default=None, max_length=32, description="TOTP code or recovery code")


class LoginOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    idle_timeout_minutes: int
    mfa_enrolment_required: bool
    password_change_due: bool
    user: UserRead


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    division_code: str
    org_id: int | None
    enterprise_id: int | None
    mfa_enabled: bool
    phone_masked: str | None = None
    locked: bool = Field(default=False, description="locked by an administrator or the lockout")


Id = Annotated[int, Field(ge=1, le=INT32_MAX)]  # a key column's id
USERNAME = r"^[A-Za-z0-9._-]{1,64}$"
DIVISION = r"^\d{6}$"


class UserCreate(BaseModel):
    """A new user, created by an administrator within their jurisdiction."""

    username: str = Field(pattern=USERNAME, description="letters, digits, . _ -")
    password: str = Field(min_length=1, max_length=256, description="initial password")
    role: Role
    division_code: str = Field(pattern=DIVISION)
    org_id: Id | None = None
    enterprise_id: Id | None = Field(default=None, description="enterprise users only")
    display_name: str = Field(default="", max_length=64)


class UserUpdate(BaseModel):
    """Fields to change (the others are kept); ``null`` clears the organisation or enterprise."""

    role: Role | None = None
    division_code: str | None = Field(default=None, pattern=DIVISION)
    org_id: Id | None = None
    enterprise_id: Id | None = None
    display_name: str | None = Field(default=None, max_length=64)


class PasswordResetIn(BaseModel):
    password: str = Field(min_length=1, max_length=256, description="the new password")


class MfaEnrolIn(BaseModel):
    """Proof needed to replace an authenticator already bound (not for the first one)."""

    password: str | None = Field(default=None, max_length=256)
    otp: str | None = Field(default=None, max_length=32, description="TOTP code or recovery code")


class MfaEnrolOut(BaseModel):
    secret: str
    otpauth_uri: str


class OtpIn(BaseModel):
    otp: str = Field(min_length=6, max_length=32)


class PasswordChangeIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


LoginOut.model_rebuild()
