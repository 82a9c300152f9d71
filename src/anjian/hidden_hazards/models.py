"""Hidden-hazard tables (隐患排查治理): hazards, the steps of their closed loop, and the
enterprise's inspection checklists and tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base
from anjian.enterprises.columns import EnterpriseColumns

# The hazards not yet written off (销号), as the one map and the lists ask for them.
OPEN_PREDICATE = text(
    "state IN ('found', 'registered', 'rectifying', 'rectified') AND deleted IS false"
)


class HiddenHazard(EnterpriseColumns, SyncMixin, Scoped, Base):
    """A hidden hazard (事故隐患) of an enterprise, from its discovery to its closure (销号).

    The state only moves along the closed loop (see ``rules.TRANSITIONS``); every move is also a
    :class:`HazardStep`. ``plan`` is the governance plan of a major hazard (治理方案)."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("隐患", "hidden hazard")

    __tablename__ = "hidden_hazards"
    __table_args__ = (
        # The open hazards by enterprise and grade, covering what the one map filters by: its
        # national view counts them from this index alone on PostgreSQL (migration 0024).
        Index(
            "ix_hidden_hazards_open",
            "enterprise_id",
            "grade",
            postgresql_include=["division_code", "supervision_category", "state", "overdue"],
            postgresql_where=OPEN_PREDICATE,
            sqlite_where=OPEN_PREDICATE,
        ),
        # The ledger's search has a trigram index on PostgreSQL where pg_trgm is available
        # (ix_hidden_hazards_search, migration 0025): not declared here, SQLite has none.
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, index=True)  # 隐患编号
    place: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)  # management | site
    grade: Mapped[str] = mapped_column(String(8), nullable=False, index=True)  # general | major
    major_criterion: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # self_check | inspection …
    # The record it came from in another domain, as "<entity>:<uid>" (e.g. the enforcement
    # finding it was recorded from), so each side links to the other.
    source_ref: Mapped[str] = mapped_column(
        String(64), nullable=False, default="", server_default=""
    )
    found_by: Mapped[str] = mapped_column(String(64), nullable=False)
    found_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    state: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    responsible: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    measures: Mapped[str] = mapped_column(Text, nullable=False, default="")
    funds_cny: Mapped[float | None] = mapped_column(Float)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reported_to_agency_at: Mapped[datetime | None] = mapped_column()
    registered_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    registered_at: Mapped[datetime | None] = mapped_column()
    rectified_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    rectified_at: Mapped[datetime | None] = mapped_column()
    rectification_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    accepted_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    accepted_at: Mapped[datetime | None] = mapped_column()
    acceptance_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class HazardStep(SyncMixin, Base):
    """One step of a hazard's closed loop: who moved it from which state to which, when."""

    __tablename__ = "hazard_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    from_state: Mapped[str] = mapped_column(String(24), nullable=False, default="")
    to_state: Mapped[str] = mapped_column(String(24), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class Checklist(Base):
    """An inspection checklist (排查清单) of an enterprise for one post and frequency; its
    items are ``[{"content": …, "basis": …}]``. The enterprise's own working tool: it stays at
    its node (the hazards it finds travel up)."""

    __tablename__ = "checklists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    post: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # 岗位
    frequency: Mapped[str] = mapped_column(String(8), nullable=False)  # daily | weekly | monthly
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class InspectionTask(Base):
    """A self-inspection due in one period (a day, an ISO week or a month) by one checklist;
    done when someone reports it with the hazards it found."""

    __tablename__ = "inspection_tasks"
    __table_args__ = (UniqueConstraint("checklist_id", "period"),)  # one task per period

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checklist_id: Mapped[int] = mapped_column(
        ForeignKey("checklists.id"), nullable=False, index=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id"), nullable=False, index=True
    )
    period: Mapped[str] = mapped_column(
        String(10), nullable=False
    )  # 2026-11-29 | 2026-W48 | 2026-11
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    done_at: Mapped[datetime | None] = mapped_column()
    done_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    hazards_found: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
