"""The tables of the service desk: routing rules (node-local) and tickets (synced up, so the
nodes above see their subtree's tickets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base

TICKET_ENTITY = "ops_ticket"


class RoutingRule(Base):
    """Who looks after a category of request at a place (谁建设谁运维): the team, for the
    division and every division below it that has no rule of its own."""

    __tablename__ = "ops_routing_rules"
    __table_args__ = (UniqueConstraint("category", "division_code", name="uq_ops_routing_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    division_code: Mapped[str] = mapped_column(String(6))
    team: Mapped[str] = mapped_column(String(100))


class Ticket(SyncMixin, Scoped, Base):
    """A request or incident (服务请求 / 故障) at the service desk, with its two clocks (time to
    own, time to resolve), its escalations and the requester's satisfaction."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("工单", "ticket")

    __tablename__ = "ops_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(100), default="")
    cause: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    team: Mapped[str] = mapped_column(String(100))
    team_division: Mapped[str] = mapped_column(String(6))
    state: Mapped[str] = mapped_column(String(16), index=True)
    owner: Mapped[str] = mapped_column(String(64), default="")
    opened_at: Mapped[datetime]
    own_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    owned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    escalated_for: Mapped[str | None] = mapped_column(String(16), nullable=True)
    knowledge: Mapped[list[str]] = mapped_column(JSON, default=list)  # knowledge-base links
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1–5
    feedback: Mapped[str] = mapped_column(Text, default="")


STEP_ENTITY = "ops_ticket_step"


class TicketStep(SyncMixin, Scoped, Base):
    """A step taken on a ticket by the team of a node above the one that keeps it (受理, 解决):
    that node may not change the ticket (single writer), so the step travels down to the
    ticket's node, which applies it; the changed ticket then travels up again."""

    __scope__ = ScopeColumns("division_code")
    __noun__ = ("工单处理", "ticket step")

    __tablename__ = "ops_ticket_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_uid: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(6), index=True)  # the ticket's: routes it
    step: Mapped[str] = mapped_column(String(16))  # take | resolve
    by: Mapped[str] = mapped_column(String(100))  # who, at which node
    note: Mapped[str] = mapped_column(Text, default="")  # the resolution
    knowledge: Mapped[list[str]] = mapped_column(JSON, default=list)
    taken_at: Mapped[datetime]
