"""Writing changes of synced records: version bump, timestamps and the outbox row, together."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.sync.models import OutboxEntry, SyncMixin
from anjian.core.sync.registry import SyncSpec, spec_for, spec_of_model
from anjian.db import utcnow

# Columns that are local bookkeeping, not part of the record other nodes receive.
_LOCAL_COLUMNS = {"id"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def ref_key(attr: str) -> str:
    """The payload key of a reference: ``parent_id`` travels as ``parent_uid``."""
    return attr.removesuffix("_id") + "_uid"


def snapshot(session: Session, obj: SyncMixin, spec: SyncSpec) -> dict[str, Any]:
    """The record as other nodes receive it: every column but local keys, references as uids;
    encrypted columns stay encrypted here (the push decrypts them into the sealed batch)."""
    out: dict[str, Any] = {}
    for col in inspect(type(obj)).column_attrs:
        if col.key in _LOCAL_COLUMNS:
            continue
        value = getattr(obj, col.key)
        if col.key in spec.refs:
            target = spec_for(spec.refs[col.key])
            ref = session.get(target.model, value) if (target and value is not None) else None
            out[ref_key(col.key)] = ref.uid if ref is not None else None
            continue
        out[col.key] = _plain(value)
    return out


def record_change(session: Session, obj: SyncMixin, *, entity: str) -> OutboxEntry:
    """Stamp a new version of ``obj`` at this node and queue it in the outbox.

    Call after the fields are set and before the unit of work commits; a tombstone is a change
    with ``deleted=True``. Only the origin node changes a record (single writer)."""
    spec = spec_of_model(type(obj))
    if spec.entity != entity:
        raise ValueError(f"{type(obj).__name__} syncs as {spec.entity!r}, not {entity!r}")
    node = get_settings().effective_node_id
    if not obj.origin_node:
        obj.origin_node = node
    elif obj.origin_node != node:
        raise PermissionError(f"record {obj.uid} belongs to node {obj.origin_node}; read-only here")
    obj.version = (obj.version or 0) + 1
    obj.updated_at = utcnow()
    session.add(obj)
    session.flush()
    return queue(session, obj, spec, source="local")


def queue(session: Session, obj: SyncMixin, spec: SyncSpec, *, source: str) -> OutboxEntry:
    """Add the current state of ``obj`` to the outbox (``source``: local, child or parent)."""
    entry = OutboxEntry(
        entity=spec.entity,
        uid=obj.uid,
        origin_node=obj.origin_node,
        version=obj.version,
        op="delete" if obj.deleted else "upsert",
        payload=snapshot(session, obj, spec),
        source=source,
    )
    session.add(entry)
    return entry
