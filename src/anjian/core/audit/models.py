"""Audit tables. Database triggers (migrations 0002, 0012) refuse UPDATE, DELETE and REPLACE of
records and any move of the head but one step forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.core.sync.registry import SyncSpec, register
from anjian.db import Base, BigId


class AuditRecord(Scoped, Base):
    """One audited event. ``seq`` is the position in the chain; ``hash`` is
    HMAC-SM3(key, prev_hash ‖ canonical fields) so that editing, removing or reordering a record
    breaks the chain, and forging a whole new chain needs the key that lives outside the DB."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("审计记录", "audit record")

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(64), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    division_code: Mapped[str | None] = mapped_column(String(6), index=True)
    result: Mapped[str] = mapped_column(String(16), nullable=False)
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(Base):
    """The chain's head (one row): last seq and hash. Locked while appending so that
    concurrent transactions append in turn, never fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditSeal(SyncMixin, Base):
    """A seal of the chain's head (封印): HMAC-SM3 under the audit key of the node, the head's
    seq and hash and the time. Made here every few minutes and on ``anjian audit checkpoint``,
    appended to a file outside the database and synced up, so the parent holds every seal of
    its children: a chain cut below a seal is found against the file here and by the parent
    (a later seal of the same node lower than an earlier one)."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(BigId, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    sealed_at: Mapped[datetime] = mapped_column(nullable=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)


register(SyncSpec("audit_seal", AuditSeal, division_attr="division_code"))
