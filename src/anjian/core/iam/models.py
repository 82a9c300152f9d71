"""Users, their sessions and recovery codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.db import Base


class Role(StrEnum):
    """Roles (角色)."""

    ADMIN = "admin"  # 系统管理员: the node's administrators
    OFFICIAL = "official"  # 监管人员: agency staff
    ENTERPRISE = "enterprise"  # 企业用户: an enterprise's own staff


ROLE_LABELS = {Role.ADMIN: "系统管理员", Role.OFFICIAL: "监管人员", Role.ENTERPRISE: "企业用户"}


class User(Scoped, Base):
    """A person who logs in. Belongs to an organisation; an enterprise user is bound to one
    enterprise. Personal data (phone) is stored SM4-encrypted."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("用户", "user")

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(Integer, index=True)
    phone_enc: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    # Login-failure handling (等保 8.1.4.1 b).
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failure_window_start: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    locked_by_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # TOTP second factor (等保 8.1.4.1 d); secrets SM4-encrypted.
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    totp_secret_enc: Mapped[str | None] = mapped_column(String(255))
    totp_pending_enc: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    is_demo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class AuthSession(Base):
    """A login session, for a Bearer token or the console cookie. Only the SM3 hash of the
    token is stored. Idle sessions expire (``session_idle_minutes``)."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    # False while a role that requires MFA has not enrolled yet: only enrolment is allowed.
    mfa_satisfied: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class RecoveryCode(Base):
    """A one-time MFA recovery code (恢复码), stored as HMAC-SM3."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column()
