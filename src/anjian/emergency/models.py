"""Emergency tables: emergency resources (应急资源: rescue teams, equipment, warehouses, experts,
shelters, medical points), the supplies (物资) kept in warehouses and their transfers, and
emergency events (突发事件) with their timeline, tasks and dispatched resources."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base


class EmergencyResource(SyncMixin, Scoped, Base):
    """One emergency resource of an agency or an enterprise (``enterprise_id``: an enterprise's
    own team or warehouse, which its users see), placed in a division and on the map. What the
    numbers mean depends on the kind: a team's members (``headcount``), a shelter's people or a
    medical point's beds (``capacity``), the pieces of equipment (``capacity``). The contact's
    phone is personal information and stored SM4-encrypted."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("应急资源", "emergency resource")
    __tablename__ = "emergency_resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    owner: Mapped[str] = mapped_column(String(200), nullable=False, default="")  # 所属单位
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="available")
    # A team's or an expert's specialty (矿山救护, 危化品), equipment's type and model.
    specialty: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    headcount: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    contact_phone_enc: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class EmergencySupply(SyncMixin, Scoped, Base):
    """A stock of one supply (物资) in a warehouse: whole units of ``unit``, with the day it
    expires, if it does. Placed like its warehouse."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("应急物资", "emergency supply")
    __tablename__ = "emergency_supplies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("emergency_resources.id"), nullable=False, index=True
    )
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    expires_on: Mapped[date | None] = mapped_column(Date)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)


class EmergencyTransfer(SyncMixin, Scoped, Base):
    """A transfer (调拨) of supplies from one warehouse to another at this node: both
    warehouses' stocks change in one transaction and both show this record."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("物资调拨", "supply transfer")
    __tablename__ = "emergency_transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("emergency_resources.id"), nullable=False, index=True
    )
    to_warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("emergency_resources.id"), nullable=False, index=True
    )
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    supply_name: Mapped[str] = mapped_column(String(100), nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    transferred_by: Mapped[str] = mapped_column(String(64), nullable=False)
    transferred_at: Mapped[datetime] = mapped_column(nullable=False)


class EmergencyEvent(SyncMixin, Scoped, Base):
    """An emergency event (突发事件) from its receipt (接报) to its closure: what and where, the
    response level (I–IV, raised or lowered with reasons), the command (总指挥, 现场指挥 and
    groups) and its state. Its timeline, tasks and dispatched resources are records of their
    own that name it by uid."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("突发事件", "emergency event")
    __tablename__ = "emergency_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    event_type: Mapped[str] = mapped_column(String(24), nullable=False)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    place: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int | None] = mapped_column(Integer)  # 1 (I, 特别重大) … 4 (IV, 一般)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    source_ref: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    reporter: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    commander: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    site_commander: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    # [{"name": "抢险救援组", "lead": "…", "members": ["…"]}]
    groups: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    closed_at: Mapped[datetime | None] = mapped_column()
    review: Mapped[str] = mapped_column(Text, nullable=False, default="")  # 总结评估
    # The latest threat-zone analysis (扩散分析) of the release: what was asked and answered,
    # kept with the event so every level sees the zones drawn at the scene.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class EventEntry(SyncMixin, Base):
    """One line of an event's timeline: its receipt, each level change with the reason, each
    situation report (续报), task and dispatch step, its closure."""

    __tablename__ = "emergency_event_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    by: Mapped[str] = mapped_column(String(64), nullable=False)


class EventTask(SyncMixin, Base):
    """A task of an event (任务): what, who owns it, by when, and whether it is done."""

    __tablename__ = "emergency_event_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    due_at: Mapped[datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # open | done
    done_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class EventDispatch(SyncMixin, Base):
    """A resource called to an event, tracked requested → dispatched → arrived → released, with
    the time of each step."""

    __tablename__ = "emergency_event_dispatches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    resource_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    resource_name: Mapped[str] = mapped_column(String(200), nullable=False)
    resource_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    # {"requested": iso time, "dispatched": …, "arrived": …, "released": …}
    times: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
