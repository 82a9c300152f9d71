"""Applying changes received from another node: idempotent, newest version wins, and only
inside the sender's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.crypto import FieldCipher
from anjian.core.sync.outbox import queue, ref_key
from anjian.core.sync.registry import SyncSpec, spec_for


class ApplyRefused(Exception):
    """A change the sender may not make here (unknown kind, outside its jurisdiction, a record
    of this node). The whole batch is refused so nothing is half-applied."""


@dataclass
class ApplyReport:
    """What a batch did here."""

    applied: int = 0
    stale: int = 0  # replays and older versions: no-ops
    by_entity: dict[str, int] = field(default_factory=dict)


def _coerce(column: Any, value: Any) -> Any:
    """Dates and times travel as ISO text."""
    if not isinstance(value, str):
        return value
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    return value


def _columns(model: type) -> dict[str, Any]:
    return {c.key: c.columns[0] for c in inspect(model).column_attrs}


Loaded = dict[tuple[str, str], Any]


def preload(session: Session, entries: list[dict[str, Any]], chunk: int = 500) -> Loaded:
    """The records a batch changes that exist here, by (entity, uid): one query per entity
    and chunk instead of one per change (a batch often holds many changes of few records)."""
    uids: dict[str, set[str]] = {}
    for entry in entries:
        uids.setdefault(str(entry.get("entity")), set()).add(str(entry.get("uid")))
    loaded: Loaded = {}
    for entity, wanted in uids.items():
        spec = spec_for(entity)
        if spec is None:
            continue  # apply_entry refuses it
        model, ordered = spec.model, sorted(wanted)
        for i in range(0, len(ordered), chunk):
            for obj in session.scalars(select(model).where(model.uid.in_(ordered[i : i + chunk]))):
                loaded[(entity, obj.uid)] = obj
        for uid in wanted:
            loaded.setdefault((entity, uid), None)
    return loaded


def apply_entry(
    session: Session,
    entry: dict[str, Any],
    *,
    source: str,
    cipher: FieldCipher,
    allowed_prefix: str | None,
    report: ApplyReport,
    loaded: Loaded | None = None,
) -> None:
    """Apply one change received from a child (``allowed_prefix``: its jurisdiction) or from the
    parent (None: the parent is trusted for what it sends down). ``loaded``: from
    :func:`preload` for the batch (kept up to date here); without it the record is looked up."""
    spec = spec_for(str(entry.get("entity")))
    if spec is None:
        raise ApplyRefused(f"本节点不识别的数据类型: {entry.get('entity')} (unknown entity)")
    payload: dict[str, Any] = entry["payload"]
    division = str(payload.get(spec.division_attr) or "")
    if allowed_prefix is not None and not division.startswith(allowed_prefix):
        raise ApplyRefused(
            f"{spec.entity} {entry.get('uid')} 的行政区划 {division} 不在下级节点管辖范围内 "
            f"(outside the sender's jurisdiction)"
        )
    if entry.get("origin_node") == get_settings().effective_node_id:
        raise ApplyRefused(
            f"{spec.entity} {entry.get('uid')} 属于本节点，下级不能修改 "
            "(a record of this node cannot be changed by another)"
        )
    model = spec.model
    key = (spec.entity, str(entry["uid"]))
    if loaded is not None and key in loaded:
        obj = loaded[key]
    else:
        obj = session.scalar(select(model).where(model.uid == entry["uid"]))
    if obj is not None and obj.version >= int(entry["version"]):
        report.stale += 1
        return
    if obj is None:
        obj = model()
    _fill(session, obj, spec, payload, cipher)
    obj.uid, obj.origin_node, obj.version = (
        entry["uid"],
        entry["origin_node"],
        int(entry["version"]),
    )
    session.add(obj)
    if loaded is not None:
        loaded[key] = obj
    # No flush per change: the outbox row snapshots the object as it is now, rows are inserted
    # in the order they were added, and a reference lookup autoflushes what it needs.
    queue(session, obj, spec, source=source)  # forwarded on (up, or down to our children)
    report.applied += 1
    report.by_entity[spec.entity] = report.by_entity.get(spec.entity, 0) + 1


def _fill(
    session: Session, obj: Any, spec: SyncSpec, payload: dict[str, Any], cipher: FieldCipher
) -> None:
    columns = _columns(spec.model)
    for key, column in columns.items():
        if key in ("id", "uid", "origin_node", "version"):
            continue
        if key in spec.refs:
            target = spec_for(spec.refs[key])
            uid = payload.get(ref_key(key))
            ref = (
                session.scalar(select(target.model.id).where(target.model.uid == uid))
                if target is not None and uid
                else None
            )
            setattr(obj, key, ref)
            continue
        if key not in payload:
            continue  # a column the sender's version does not have: keep ours / the default
        value = payload[key]
        if key in spec.encrypted:
            value = cipher.encrypt(value)  # plaintext in the sealed batch, our key at rest
        setattr(obj, key, _coerce(column, value))
