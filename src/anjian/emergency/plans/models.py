"""Emergency plan (应急预案) and drill (演练) tables; both cross nodes (synced up), so a
province sees its counties' plans, their filing and their drills."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base


class EmergencyPlan(SyncMixin, Scoped, Base):
    """An emergency plan of an agency (``enterprise_id`` empty: issued, no filing) or of an
    enterprise (filed, 备案, with the agency of its division and reviewed there). It names the
    events it covers, its response levels (I–IV) with their triggers, the roles and their duties,
    and the resources it relies on (by uid). ``edition`` counts its revisions (修订, 版次)."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("应急预案", "emergency plan")
    __tablename__ = "emergency_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    category: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    owner: Mapped[str] = mapped_column(String(200), nullable=False, default="")  # 编制单位
    event_types: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # [{"level": 1, "trigger": "…"}]: 响应分级及启动条件
    response_levels: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, nullable=False, default=list
    )
    # [{"role": "总指挥", "duty": "…"}]: 组织机构及职责
    roles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    resource_uids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    revised_on: Mapped[date | None] = mapped_column(Date)
    edition: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    filing_state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    review_opinion: Mapped[str] = mapped_column(Text, nullable=False, default="")
    filing_number: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class EmergencyDrill(SyncMixin, Scoped, Base):
    """A drill (演练) of a plan or of a unit: planned, held (recorded: when, who, what
    happened) and evaluated (rating, problems found, improvements), or cancelled."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("应急演练", "emergency drill")
    __tablename__ = "emergency_drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    plan_uid: Mapped[str] = mapped_column(String(36), nullable=False, default="", index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    form: Mapped[str] = mapped_column(String(16), nullable=False)
    scale: Mapped[str] = mapped_column(String(16), nullable=False)
    organiser: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    place: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    planned_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    held_on: Mapped[date | None] = mapped_column(Date)
    participants: Mapped[int | None] = mapped_column(Integer)
    record: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rating: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    problems: Mapped[str] = mapped_column(Text, nullable=False, default="")
    improvements: Mapped[str] = mapped_column(Text, nullable=False, default="")
    evaluated_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    evaluated_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
