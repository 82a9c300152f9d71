"""The tables of operations (运维): the backups this node made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.db import Base


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
