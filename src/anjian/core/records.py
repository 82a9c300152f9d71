"""What every synced record shows users of its own bookkeeping, for the Read schemas of the
registers (enterprise files, risk points, major hazard sources)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class RecordRead(BaseModel):
    """Base of a register's Read schema: the record's local id, its uid across nodes, the node
    it was made at, its version and when it was made and last changed."""

    id: int
    uid: str
    origin_node: str
    version: int
    updated_at: datetime
    created_at: datetime


def record_fields(row: object) -> dict[str, Any]:
    """The :class:`RecordRead` fields of ``row`` (a stored record of a synced register, see
    :class:`anjian.core.sync.models.SyncMixin`), for a schema's ``of(...)`` builder."""
    return {name: getattr(row, name) for name in RecordRead.model_fields}
