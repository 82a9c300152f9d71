"""Enterprise table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base
from anjian.enterprises.rules import EnterpriseStatus

RISK_PREDICATE = text("risk_level IS NOT NULL AND deleted IS false")


class Enterprise(SyncMixin, Scoped, Base):
    """A production and business unit (生产经营单位) under supervision: one file per enterprise
    (一企一档). Phone numbers are personal information and stored SM4-encrypted."""

    __scope__ = ScopeColumns("division_code", "id", "supervision_category")
    __noun__ = ("企业", "enterprise")

    __tablename__ = "enterprises"
    __table_args__ = (
        UniqueConstraint("origin_node", "uscc"),
        # The one map reads a box from this index alone on PostgreSQL (migration 0023).
        Index(
            "ix_enterprises_lng_lat",
            "lng",
            "lat",
            postgresql_include=["supervision_category", "division_code", "deleted"],
        ),
        # The list's search has a trigram index on PostgreSQL where pg_trgm is available
        # (ix_enterprises_search, migration 0025): not declared here, SQLite has none.
        # The one map's risk layer: the graded enterprises of a box, from this index alone on
        # PostgreSQL (migration 0026).
        Index(
            "ix_enterprises_risk",
            "lng",
            "lat",
            postgresql_include=["risk_level", "supervision_category", "division_code"],
            postgresql_where=RISK_PREDICATE,
            sqlite_where=RISK_PREDICATE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 统一社会信用代码: unique per origin node. Each node refuses a duplicate of any code it holds,
    # but two counties can register the same code before either sees the other's; their parent
    # keeps both (a data-quality conflict to resolve) instead of stalling the link on it.
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    industry_code: Mapped[str] = mapped_column(String(8), nullable=False, default="")  # GB/T 4754
    supervision_category: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    scale: Mapped[str] = mapped_column(String(16), nullable=False, default="small")
    employees: Mapped[int | None] = mapped_column(Integer)
    legal_rep: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    legal_rep_phone_enc: Mapped[str | None] = mapped_column(String(255))
    safety_manager: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    safety_manager_phone_enc: Mapped[str | None] = mapped_column(String(255))
    licence_no: Mapped[str | None] = mapped_column(String(64))  # 安全生产许可证编号
    licence_valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=EnterpriseStatus.OPERATING.value
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    # The worst level of its live risk points (企业风险等级) and how many there are: derived at
    # each node from the risk points it holds, kept up by the risk domain (anjian.risk.levels)
    # whenever they change here, by a service or by sync; None without graded risk points.
    risk_level: Mapped[str | None] = mapped_column(String(16))
    risk_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
