"""Writing changes of synced records: version bump, timestamps and the outbox row, together."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.sync.models import OutboxEntry, SyncMixin
from anjian.db import utcnow

# Columns that are local bookkeeping, not part of the record other nodes receive.
_LOCAL_COLUMNS = {"id"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: SyncMixin) -> dict[str, Any]:
    """The record as other nodes receive it: every column but local keys; encrypted fields
    stay encrypted."""
    mapper = inspect(type(obj))
    return {
        col.key: _plain(getattr(obj, col.key))
        for col in mapper.column_attrs
        if col.key not in _LOCAL_COLUMNS
    }


def record_change(session: Session, obj: SyncMixin, *, entity: str) -> OutboxEntry:
    """Stamp a new version of ``obj`` at this node and queue it in the outbox.

    Call after the fields are set and before the unit of work commits; a tombstone is a change
    with ``deleted=True``. Only the origin node changes a record (single writer)."""
    node = get_settings().effective_node_id
    if not obj.origin_node:
        obj.origin_node = node
    elif obj.origin_node != node:
        raise PermissionError(f"record {obj.uid} belongs to node {obj.origin_node}; read-only here")
    obj.version = (obj.version or 0) + 1
    obj.updated_at = utcnow()
    session.add(obj)
    session.flush()
    entry = OutboxEntry(
        entity=entity,
        uid=obj.uid,
        origin_node=obj.origin_node,
        version=obj.version,
        op="delete" if obj.deleted else "upsert",
        payload=snapshot(obj),
    )
    session.add(entry)
    return entry
