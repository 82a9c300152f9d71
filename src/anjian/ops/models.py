"""The tables of operations (运维): the backups this node made, and the health each node of
the subtree reports (one row per node, travelling up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base

HEALTH_ENTITY = "node_health"


class BackupRun(Base):
    """One backup of the node, made by the operator (``anjian backup``) or on schedule: where it
    went, how big, its SM3 digest, or why it failed. Node-local: it never travels."""

    __tablename__ = "ops_backups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # manual | scheduled
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    file: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sm3: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(Text, default="")


class NodeHealth(SyncMixin, Scoped, Base):
    """A node's health as it last reported it (节点健康): when, its backlog and lag toward its
    parent, its last good backup, and the rest of its figures (ingest, alarm-stream clients,
    database size, free disk). One row per node, changed only by that node and forwarded up the
    tiers, so each parent sees its whole subtree."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("节点健康", "node health")

    __tablename__ = "ops_node_health"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    node_id: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime]
    every_s: Mapped[float] = mapped_column(Float)  # how often it reports
    backlog: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lag_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_backup_at: Mapped[datetime | None] = mapped_column(nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
