"""Accident reports (事故报告): the first report (快报) and its follow-ups, kept as one record whose
numbers and grade change with each follow-up report (续报)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base

# The names the records travel under (sync entities, see anjian.accidents.sync); an audit record
# about an accident names ACCIDENT_ENTITY as its object type.
ACCIDENT_ENTITY = "accident"
STEP_ENTITY = "accident_step"
INVESTIGATION_ENTITY = "investigation"
MEASURE_ENTITY = "corrective_measure"


class Accident(SyncMixin, Scoped, Base):
    """An accident as reported (事故快报): when and where, the unit, its type (GB 6441), the
    casualties and loss, what happened and what was done, who reported; the grade computed from
    the numbers (Order No. 493 Art. 3). ``division_code`` is where it happened: the scope judges
    the record by it. ``kind`` near_miss is a 较大涉险事故 (SAWS Order No. 21 Art. 26, with the
    criterion that makes it one): reported the same way, counted apart from accidents."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("事故", "accident")

    __tablename__ = "accidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    supervision_category: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    unit_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    industry_code: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    occurred_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    known_at: Mapped[datetime] = mapped_column(nullable=False)  # the unit's head learned of it
    place: Mapped[str] = mapped_column(String(300), nullable=False)
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accident_type: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False, default="accident", server_default="accident", index=True
    )  # accident | near_miss (较大涉险事故)
    near_miss_criterion: Mapped[str] = mapped_column(
        String(24), nullable=False, default="", server_default=""
    )  # Order No. 21 Art. 26 (rules.NEAR_MISS_CRITERIA); empty for an accident
    deaths: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    missing: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    serious_injuries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    minor_injuries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    direct_loss_cny: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False, default=0)
    grade: Mapped[int] = mapped_column(SmallInteger, nullable=False, index=True)  # 1 … 4
    grade_criterion: Mapped[str] = mapped_column(String(24), nullable=False)
    provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")  # 简要经过
    measures: Mapped[str] = mapped_column(Text, nullable=False, default="")  # 已采取的措施
    reporter: Mapped[str] = mapped_column(String(64), nullable=False)
    reporter_phone_enc: Mapped[str | None] = mapped_column(String(255))
    reported_at: Mapped[datetime] = mapped_column(nullable=False)
    follow_ups: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # 续报 count


class AccidentStep(SyncMixin, Base):
    """One agency's step in an accident's reporting chain (报送环节): when the report reached
    the agency of ``tier`` (``division_code``), when it is due to be passed up, when it was.
    Each step is the record of the node that owns that agency, so every node above sees who
    received and reported what, and when (迟报 shows)."""

    __tablename__ = "accident_steps"
    __table_args__ = (UniqueConstraint("accident_uid", "tier", name="uq_accident_steps_tier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accident_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    tier: Mapped[str] = mapped_column(String(16), nullable=False)
    receive_due_at: Mapped[datetime] = mapped_column(nullable=False)
    received_at: Mapped[datetime | None] = mapped_column()
    report_due_at: Mapped[datetime | None] = mapped_column()  # None: the top of the chain
    reported_at: Mapped[datetime | None] = mapped_column()
    reported_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class Investigation(SyncMixin, Base):
    """The investigation of an accident (事故调查): led by the government of the tier the grade
    requires (or one above, taking it over), with its team, deadline (60 days, one extension of
    at most 60), findings, responsibility, penalties proposed, corrective measures, and closure.
    An 一般 accident without casualties may be entrusted to the unit itself (Art. 19). The
    report is submitted to the government (报告提交), which replies (批复, Art. 32) within 15
    days, 30 for 特别重大 (extendable by at most 30)."""

    __tablename__ = "investigations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accident_uid: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )  # the place of the accident: scope
    lead_division: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    team: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entrusted_to_unit: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )  # 委托事故发生单位调查 (Art. 19)
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    extension_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    direct_causes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    indirect_causes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    nature: Mapped[str] = mapped_column(String(32), nullable=False, default="")  # 责任事故 …
    responsibility: Mapped[str] = mapped_column(Text, nullable=False, default="")
    penalties: Mapped[str] = mapped_column(Text, nullable=False, default="")
    measures: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    report_submitted_at: Mapped[datetime | None] = mapped_column()  # 报告提交 to the government
    reply_extension_days: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )  # 特别重大 only, ≤ 30
    replied_on: Mapped[date | None] = mapped_column(Date)  # 批复日期
    reply_by: Mapped[str] = mapped_column(
        String(200), nullable=False, default="", server_default=""
    )  # 批复机关
    reply_doc_no: Mapped[str] = mapped_column(
        String(64), nullable=False, default="", server_default=""
    )  # 批复文号


class CorrectiveMeasure(SyncMixin, Base):
    """One corrective measure (整改措施) the investigation requires of a unit or agency, with
    its deadline and its follow-up (落实情况): progress reported, then verified done by an
    agency (验收). The record of the node that holds the investigation."""

    __tablename__ = "corrective_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accident_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )  # the place of the accident: scope
    content: Mapped[str] = mapped_column(Text, nullable=False)
    responsible: Mapped[str] = mapped_column(String(200), nullable=False)  # 责任单位
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    progress: Mapped[str] = mapped_column(Text, nullable=False, default="")
    progress_at: Mapped[datetime | None] = mapped_column()
    progress_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    verified_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
