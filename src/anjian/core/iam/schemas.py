"""Request and response bodies of the auth API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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
