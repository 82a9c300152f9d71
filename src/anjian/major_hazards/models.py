"""Major hazard source register (重大危险源)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base
from anjian.enterprises.columns import EnterpriseColumns


class MajorHazardSource(EnterpriseColumns, SyncMixin, Scoped, Base):
    """A major hazard source (重大危险源) of an enterprise: its units with the chemicals and
    maximum quantities (``units``, as the assessment takes them), the result of identification
    and grading by GB 18218-2018, its filing (备案) with the agency, and the three persons
    responsible (包保责任人: 主要负责人, 技术负责人, 操作负责人)."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("重大危险源", "major hazard source")

    __tablename__ = "major_hazard_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    units: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    people_within_500m: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_major: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sum_q_over_q: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    r_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    grade: Mapped[int | None] = mapped_column(Integer, index=True)  # 1 (一级) … 4 (四级)
    assessed_at: Mapped[datetime] = mapped_column(nullable=False)
    responsible_main: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    responsible_technical: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    responsible_operational: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    filing_state: Mapped[str] = mapped_column(String(16), nullable=False, default="unfiled")
    filing_no: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    filed_at: Mapped[datetime | None] = mapped_column()
    filed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    # why the agency last returned the filing (退回原因), until it is filed
    filing_note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False)
