"""Pydantic models of operations' API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class NodeHealthRead(BaseModel):
    """A node's last health report, judged: ``severity`` red (silent or late), orange (not
    backed up for two days) or green, and the ``problems`` found."""

    node_id: str
    division_code: str
    division_name: str
    reported_at: datetime
    every_s: float
    backlog: int | None
    lag_s: float | None
    last_backup_at: datetime | None
    figures: dict[str, Any]
    severity: str
    problems: list[str]


class ItemRead(BaseModel):
    """A configuration item (配置项)."""

    id: str
    kind: str
    kind_label: str
    name: str
    division_code: str
    detail: dict[str, Any]


class RelationRead(BaseModel):
    """``source`` depends on ``target``."""

    source: str
    target: str
    kind: str


class InventoryRead(BaseModel):
    items: list[ItemRead]
    relations: list[RelationRead]


class ImpactRead(BaseModel):
    """What stops, or is no longer seen above, when ``item`` is down."""

    item: ItemRead
    affected: list[ItemRead]
