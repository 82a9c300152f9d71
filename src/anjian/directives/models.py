"""Directive and receipt tables; both cross nodes (directives down, receipts up)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base


class DirectiveKind(StrEnum):
    """通知, 指令, or 挂牌督办: an agency's supervision order on one record (a major hidden
    hazard, an accident's investigation) of a unit below."""

    NOTICE = "notice"
    DIRECTIVE = "directive"
    SUPERVISION = "supervision"


KINDS = {"notice": "通知", "directive": "指令", "supervision": "挂牌督办"}


class Directive(SyncMixin, Base):
    """A notice or directive of an agency addressed to a jurisdiction (``target_division`` and
    everything below it). It is the issuing node's record; lower nodes hold read-only copies."""

    __tablename__ = "directives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False, default=DirectiveKind.NOTICE.value
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    issuer_division: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    issuer_name: Mapped[str] = mapped_column(String(128), nullable=False)  # agency or person
    target_division: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    issued_at: Mapped[datetime] = mapped_column(nullable=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    # The record a supervision order is about (``hidden_hazard`` and its uid), and its closure
    # by the issuer once the unit's work is accepted (闭环, flows down like the order).
    subject_entity: Mapped[str] = mapped_column(
        String(32), nullable=False, default="", server_default=""
    )
    subject_uid: Mapped[str] = mapped_column(
        String(36), nullable=False, default="", server_default="", index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str] = mapped_column(
        String(64), nullable=False, default="", server_default=""
    )
    closure_note: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")


class DirectiveReceipt(SyncMixin, Scoped, Base):
    """Receipt (签收) of a directive by the officials of one division; made at their node and
    forwarded up to the issuer."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("签收记录", "receipt")

    __tablename__ = "directive_receipts"
    __table_args__ = (UniqueConstraint("directive_uid", "division_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    directive_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    signed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(nullable=False)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
