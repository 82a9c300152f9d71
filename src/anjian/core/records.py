"""What every synced record shows users of its own bookkeeping, for the Read schemas of the
registers (enterprise files, risk points, major hazard sources)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel


class StoredRecord(Protocol):
    """A stored row of a synced register (see :class:`anjian.core.sync.models.SyncMixin`)."""

    id: int
    uid: str
    origin_node: str
    version: int
    updated_at: datetime
    created_at: datetime


class RecordRead(BaseModel):
    """Base of a register's Read schema: the record's local id, its uid across nodes, the node
    it was made at, its version and when it was made and last changed."""

    id: int
    uid: str
    origin_node: str
    version: int
    updated_at: datetime
    created_at: datetime


def record_fields(row: StoredRecord) -> dict[str, Any]:
    """The :class:`RecordRead` fields of ``row``, for a schema's ``of(...)`` builder."""
    return {
        "id": row.id,
        "uid": row.uid,
        "origin_node": row.origin_node,
        "version": row.version,
        "updated_at": row.updated_at,
        "created_at": row.created_at,
    }
