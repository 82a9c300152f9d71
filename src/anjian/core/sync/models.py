"""Sync fields and the outbox (DESIGN.md §2).

Every record that crosses nodes carries a global uid (UUIDv7), its origin node, a version raised
on every change at the origin, ``updated_at`` and a tombstone instead of a delete. Every change
writes an outbox row in the same transaction; the forwarder (issue 3) ships the outbox upward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from anjian.db import Base, BigId, JSONText, utcnow


def new_uid() -> str:
    """A UUIDv7 (time-ordered) as text."""
    import uuid6

    return str(uuid6.uuid7())


class SyncMixin:
    """Columns of a record that crosses nodes."""

    @declared_attr
    def uid(cls) -> Mapped[str]:
        return mapped_column(String(36), unique=True, default=new_uid, nullable=False)

    origin_node: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class OutboxEntry(Base):
    """One change of a synced record, in commit order (``seq`` only grows)."""

    __tablename__ = "outbox"
    # AUTOINCREMENT: SQLite must never reuse a sequence number once acknowledged rows are pruned.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    uid: Mapped[str] = mapped_column(String(36), nullable=False)
    origin_node: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    op: Mapped[str] = mapped_column(String(8), nullable=False)  # upsert | delete
    payload: Mapped[dict] = mapped_column(JSONText, nullable=False)
    # Where the change came from: made here (local), received from a child (child) or from the
    # parent (parent). Pushed upward: local and child; served to children: local and parent.
    source: Mapped[str] = mapped_column(
        String(8), nullable=False, default="local", server_default="local"
    )


class SyncLink(Base):
    """A link to the parent node or to one child node.

    ``up_seq``: on the parent link, the highest own outbox seq the parent has stored (the push
    cursor); on a child link, the highest seq of that child stored here. ``down_seq``: on the
    parent link, the highest parent outbox seq pulled (the pull cursor). The link key is kept
    SM4-encrypted under this node's field key."""

    __tablename__ = "sync_links"
    __table_args__ = (UniqueConstraint("role", "division_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(8), nullable=False)  # parent | child
    division_code: Mapped[str] = mapped_column(String(6), nullable=False)
    node_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(300))
    key_enc: Mapped[str] = mapped_column(String(255), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    last_contact_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None] = mapped_column()
    up_seq: Mapped[int] = mapped_column(BigId, nullable=False, default=0)
    down_seq: Mapped[int] = mapped_column(BigId, nullable=False, default=0)
    # On the parent link: the highest own outbox seq the upkeep deleted (the parent had stored
    # it); a parent that later asks to resend from below it has lost changes we no longer have.
    pruned_seq: Mapped[int] = mapped_column(BigId, nullable=False, default=0, server_default="0")
