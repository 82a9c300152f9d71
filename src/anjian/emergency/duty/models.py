"""Duty tables (值班值守) of the agencies: the roster (值班安排: a leader and duty officers per
shift), the receipts log (接报记录: what reached the duty desk, when by the duty officer's clock,
and when and to whom it was passed on) and the handover log (交接班). All three belong to an
agency's division, cross nodes and travel up, so a city sees its counties' duty desks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base


class DutyShift(SyncMixin, Scoped, Base):
    """One shift (班次) of an agency's duty desk: from ``starts_at`` to ``ends_at`` (UTC), the
    leader on call (带班领导), the duty officers (值班员) and the desk's office phone (值班电话:
    not personal data, kept plain). Shifts of one division never overlap."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("值班安排", "duty shift")
    __tablename__ = "emergency_duty_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)
    leader: Mapped[str] = mapped_column(String(64), nullable=False)
    officers: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    duty_phone: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class DutyReceipt(SyncMixin, Scoped, Base):
    """A receipt (接报) at an agency's duty desk: a call, a monitoring alarm, an accident quick
    report or a report from below, received at ``received_at`` (the duty officer's clock), the
    event it became (``event_uid``), and when and to whom it was passed on (转报)."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("接报记录", "duty receipt")
    __tablename__ = "emergency_duty_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    received_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    # the alarm's, accident's or event's uid for those sources; empty for a call
    source_ref: Mapped[str] = mapped_column(String(64), nullable=False, default="", index=True)
    caller: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    passed_on_at: Mapped[datetime | None] = mapped_column()
    passed_to: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    event_uid: Mapped[str | None] = mapped_column(String(36), index=True)
    logged_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)  # when it was logged


class DutyHandover(SyncMixin, Scoped, Base):
    """A handover (交接班) of an agency's duty desk: who handed over to whom, when, the notes,
    and what was open at that moment (``open_items``: the active events in the division with
    their number, title and level, and the receipts not yet passed on), kept as it was."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("交接班记录", "duty handover")
    __tablename__ = "emergency_duty_handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    shift_uid: Mapped[str | None] = mapped_column(String(36))
    handed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    taken_by: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # {"events": [{"uid", "number", "title", "level", "level_label", "division_name"}],
    #  "receipts": [{"uid", "received_at", "source_label", "caller", "content"}]}
    open_items: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
