"""The protection targets table (防护目标): schools, kindergartens, hospitals, nursing homes,
residential areas and crowded places that a threat zone is drawn over. Synced up, placed by its
division, so a province sees its counties' targets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base


class ProtectionTarget(SyncMixin, Scoped, Base):
    """A place whose people a release would endanger (防护目标): what it is, where (division,
    address, position), how many people it holds (``population``: pupils and staff, beds,
    residents, visitors at a peak) and whom to call. An agency's record: enterprise users
    neither see nor write it. The contact's phone is personal information and stored
    SM4-encrypted."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("防护目标", "protection target")
    __tablename__ = "emergency_protection_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    contact_phone_enc: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
