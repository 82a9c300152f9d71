"""Enforcement tables: enforcement officers (执法人员) and their declared conflicts of interest,
random draws (双随机) with the checks they assigned, on-site inspections and their findings,
documents (执法文书) and penalty cases (行政处罚)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base, BigId
from anjian.enterprises.columns import EnterpriseColumns
from anjian.enterprises.models import Enterprise


def enterprise_columns(of: Enterprise | EnterpriseColumns) -> dict[str, Any]:
    """The :class:`EnterpriseColumns` values of a new record about ``of``: an enterprise, or a
    record that already belongs to one (a finding of an inspection, a document of a case)."""
    return {
        "enterprise_id": of.id if isinstance(of, Enterprise) else of.enterprise_id,
        "division_code": of.division_code,
        "supervision_category": of.supervision_category,
    }


class Inspector(Scoped, Base):
    """A user of an agency who holds an enforcement certificate (行政执法证) and may be drawn.
    Kept at the agency's node: the draw's results carry the team's names upward."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("执法人员", "officer")
    __tablename__ = "enforcement_inspectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, unique=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    certificate_no: Mapped[str] = mapped_column(String(32), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class InspectorConflict(Base):
    """A conflict of interest (利害关系) an officer declared with an enterprise: the draw never
    sends them there (回避)."""

    __tablename__ = "enforcement_conflicts"
    __table_args__ = (UniqueConstraint("inspector_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspector_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspectors.id"), nullable=False, index=True
    )
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    declared_at: Mapped[datetime] = mapped_column(nullable=False)


class Draw(SyncMixin, Scoped, Base):
    """One random draw of an agency over its jurisdiction: what it drew from (the population as
    it stood, and its hash), the seed, and when and by whom. Synced up, so agencies above see it."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("抽查记录", "draw")
    __tablename__ = "enforcement_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    categories: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    enterprise_count: Mapped[int] = mapped_column(Integer, nullable=False)
    inspectors_per_check: Mapped[int] = mapped_column(Integer, nullable=False)
    weighting: Mapped[str] = mapped_column(String(16), nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    population_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The population as drawn from: {"enterprises": [[id, risk]…], "inspectors": [[id,
    # [conflicting enterprise ids]]…], "weights": {...}, "past_pairs": [[inspector, enterprise,
    # n]…]}, so that anyone can recompute the draw later (GET …/verify).
    population: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    drawn_at: Mapped[datetime] = mapped_column(nullable=False)
    drawn_by: Mapped[str] = mapped_column(String(64), nullable=False)


class DrawCheck(EnterpriseColumns, SyncMixin, Scoped, Base):
    """One enterprise a draw picked and the team assigned to inspect it."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("抽查结果", "drawn check")
    __tablename__ = "enforcement_draw_checks"
    __table_args__ = (UniqueConstraint("draw_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_draws.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # The team: [{"inspector_id", "name", "certificate_no"}…] as it stood at the draw.
    team: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)


class Inspection(EnterpriseColumns, SyncMixin, Scoped, Base):
    """An on-site inspection (现场检查) of one enterprise by a team of officers: from a plan, a
    draw, a complaint, an accident or an alarm. Kept by the inspecting agency's node and synced
    up; the enterprise's county sees an inspection made by an agency above it (by its division)."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("检查", "inspection")
    __tablename__ = "enforcement_inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_division: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    source_ref: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    draw_check_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_draw_checks.id"))
    team: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    # The checklist as it stood: [{"code", "text", "result": ""|"ok"|"finding"|"na"}…]
    checklist: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    planned_on: Mapped[date] = mapped_column(Date, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class Finding(EnterpriseColumns, SyncMixin, Scoped, Base):
    """A problem found on site (检查发现), against a checklist item or not. Turned into a hidden
    hazard (隐患) of the enterprise in one step; the two refer to each other."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("检查发现", "finding")
    __tablename__ = "enforcement_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id"), nullable=False, index=True
    )
    item_code: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    place: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    major: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hidden_hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hidden_hazards.id"))
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # Image entries (core.images): photos of the problem, and signatures of those who confirmed
    # it on site, each with "signer" and "role" (enterprise | inspector).
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    found_by: Mapped[str] = mapped_column(String(64), nullable=False)
    found_at: Mapped[datetime] = mapped_column(nullable=False)


class EnforcementDocument(EnterpriseColumns, SyncMixin, Scoped, Base):
    """An enforcement document (执法文书) as issued: its kind, its number in the agency's series
    of that kind and year, and what it says (``content``, as printed). Issued documents are not
    changed; a correction is a new document."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("执法文书", "document")
    __tablename__ = "enforcement_documents"
    __table_args__ = (UniqueConstraint("agency_division", "kind", "year", "serial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    agency_division: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    serial: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_inspections.id"), index=True
    )
    penalty_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_penalties.id"), index=True
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    issued_by: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(nullable=False)


class PenaltyCase(EnterpriseColumns, SyncMixin, Scoped, Base):
    """An administrative penalty case (行政处罚案件) of an agency against an enterprise: the act,
    its legal basis and range, the fine proposed at notice and decided, and the dates that run
    its clocks. Amounts in fen (分), so sums are exact on both databases."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("处罚案件", "penalty case")
    __tablename__ = "enforcement_penalties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_division: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_inspections.id"))
    basis_code: Mapped[str] = mapped_column(String(16), nullable=False)
    article: Mapped[str] = mapped_column(String(100), nullable=False)
    facts: Mapped[str] = mapped_column(Text, nullable=False)
    range_low_fen: Mapped[int] = mapped_column(BigId, nullable=False)
    range_high_fen: Mapped[int] = mapped_column(BigId, nullable=False)
    discretion: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    proposed_fen: Mapped[int | None] = mapped_column(BigId)
    fine_fen: Mapped[int | None] = mapped_column(BigId)
    late_fee_fen: Mapped[int | None] = mapped_column(BigId)
    paid_fen: Mapped[int | None] = mapped_column(BigId)
    stage: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
    notified_on: Mapped[date | None] = mapped_column(Date)
    hearing_requested_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    served_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class InspectionPlan(SyncMixin, Scoped, Base):
    """An agency's annual inspection plan (年度监督检查计划): which enterprises of its jurisdiction
    (by supervision category; all when none given) and how often by risk class. Its monthly
    targets and progress are computed from the inspections the agency finished."""

    __scope__ = ScopeColumns("agency_division")
    __noun__ = ("检查计划", "plan")
    __tablename__ = "enforcement_plans"
    __table_args__ = (UniqueConstraint("agency_division", "year", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_division: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    categories: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    frequency: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class Terminal(Base):
    """A mobile enforcement terminal (移动执法终端) bound to one officer: its token (kept as its
    SM3 digest) is the terminal's credential, revoked when the device is lost. Node-local."""

    __tablename__ = "enforcement_terminals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspector_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspectors.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_upload_at: Mapped[datetime | None] = mapped_column()


class TerminalReceipt(Base):
    """A change a terminal uploaded, by the id the terminal gave it: a retried upload finds its
    receipt and changes nothing again."""

    __tablename__ = "enforcement_terminal_receipts"

    change_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("enforcement_terminals.id"), nullable=False)
    applied_at: Mapped[datetime] = mapped_column(nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
