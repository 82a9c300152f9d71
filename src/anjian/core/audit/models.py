"""Audit tables. Database triggers (migration 0002) refuse UPDATE and DELETE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anjian.db import Base, BigId


class AuditRecord(Base):
    """One audited event. ``seq`` is the position in the chain; ``hash`` is
    HMAC-SM3(key, prev_hash ‖ canonical fields) so that editing, removing or reordering a record
    breaks the chain, and forging a whole new chain needs the key that lives outside the DB."""

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
