"""Risk point table (风险点)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base
from anjian.enterprises.columns import EnterpriseColumns


class RiskPoint(EnterpriseColumns, SyncMixin, Scoped, Base):
    """A risk point (风险点) of an enterprise: an area, a facility or a job, with its hazards,
    its assessment (LEC or LS), the resulting four-colour level and how it is controlled.
    ``division_code`` and ``supervision_category`` are the enterprise's, kept here so that the
    jurisdiction scope judges the record by itself (at upper nodes too)."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("风险点", "risk point")

    __tablename__ = "risk_points"
    __table_args__ = (
        # The live points by enterprise, covering their level: an enterprise's worst level is
        # recomputed from this index alone when its points change (risk.levels, migration 0024).
        Index(
            "ix_risk_points_live",
            "enterprise_id",
            postgresql_include=["level", "division_code", "supervision_category"],
            postgresql_where=text("deleted IS false"),
            sqlite_where=text("deleted IS false"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # area | facility | job
    location: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    hazards: Mapped[str] = mapped_column(Text, nullable=False, default="")  # 危险有害因素
    method: Mapped[str] = mapped_column(String(8), nullable=False)  # LEC | LS
    factor_l: Mapped[float] = mapped_column(Float, nullable=False)
    factor_e: Mapped[float | None] = mapped_column(Float)  # LEC only
    factor_c: Mapped[float | None] = mapped_column(Float)  # LEC only
    factor_s: Mapped[float | None] = mapped_column(Float)  # LS only
    score: Mapped[float] = mapped_column(Float, nullable=False)  # D or R
    convention: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    level: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    control_measures: Mapped[str] = mapped_column(Text, nullable=False, default="")
    control_level: Mapped[str] = mapped_column(String(16), nullable=False)  # company … post
    responsible: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    assessed_at: Mapped[datetime] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
