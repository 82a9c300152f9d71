"""The node_settings table: one row per setting an administrator changed in the console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.db import Base


class NodeSetting(Base):
    """A value set in the console for a run-time setting (text, parsed by its rule). Node-local:
    no sync spec is registered for it, so it never travels to another node."""

    __tablename__ = "node_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
