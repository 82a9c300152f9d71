"""Emergency tables: emergency resources (应急资源: rescue teams, equipment, warehouses, experts,
shelters, medical points) and the supplies (物资) kept in warehouses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
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
