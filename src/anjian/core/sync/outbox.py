"""Writing changes of synced records: version bump, timestamps and the outbox row, together."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, func, insert, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.util import identity_key

from anjian.config import get_settings
from anjian.core.errors import Forbidden
from anjian.core.sync.models import OutboxEntry, SyncMixin
from anjian.core.sync.registry import SyncSpec, spec_for, spec_of_model
from anjian.db import copy_in, json_dumps, utcnow

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


_REF_UIDS = "sync_ref_uids"  # session.info key: (entity, local id) -> uid, for this session


def remember_uids(session: Session, entity: str, uids: dict[int, str]) -> None:
    """Tell :func:`snapshot` the uids of records of ``entity`` by local id (a caller that has
    read them anyway spares a query per reference)."""
    known: dict[tuple[str, int], str] = session.info.setdefault(_REF_UIDS, {})
    known.update({(entity, id_): uid for id_, uid in uids.items()})


def _ref_uid(session: Session, entity: str, id_: int) -> str | None:
    known: dict[tuple[str, int], str] = session.info.setdefault(_REF_UIDS, {})
    if (entity, id_) not in known:
        target = spec_for(entity)
        if target is None:
            return None
        model: Any = target.model
        loaded = session.identity_map.get(identity_key(model, id_))
        uid = (
            loaded.uid
            if loaded is not None
            else session.scalar(select(model.uid).where(model.id == id_))
        )
        if uid is None:
            return None
        known[(entity, id_)] = uid  # a record's uid never changes
    return known[(entity, id_)]


def snapshot(session: Session, obj: SyncMixin, spec: SyncSpec) -> dict[str, Any]:
    """The record as other nodes receive it: every column but local keys, references as uids;
    encrypted columns stay encrypted here (the push decrypts them into the sealed batch)."""
    out: dict[str, Any] = {}
    for col in inspect(type(obj)).column_attrs:
        if col.key in _LOCAL_COLUMNS:
            continue
        value = getattr(obj, col.key)
        if col.key in spec.refs:
            uid = _ref_uid(session, spec.refs[col.key], value) if value is not None else None
            out[ref_key(col.key)] = uid
            continue
        out[col.key] = _plain(value)
    return out


def ensure_writable_here(obj: SyncMixin) -> None:
    """Refuse to change a copy received from another node: only the origin node writes a
    record (single writer, DESIGN.md §2); the others hold it read-only."""
    node = get_settings().effective_node_id
    if obj.origin_node and obj.origin_node != node:
        raise Forbidden(
            f"该记录由节点 {obj.origin_node} 维护，本节点只读 "
            f"(this record belongs to node {obj.origin_node}; read-only here)"
        )


def record_change(session: Session, obj: SyncMixin, *, entity: str) -> OutboxEntry:
    """Stamp a new version of ``obj`` at this node and queue it in the outbox.

    Call after the fields are set and before the unit of work commits; a tombstone is a change
    with ``deleted=True``. Only the origin node changes a record (single writer)."""
    return record_changes(session, [obj], entity=entity)[0]


def record_changes(
    session: Session, objs: Sequence[SyncMixin], *, entity: str
) -> list[OutboxEntry]:
    """:func:`record_change` of many records of one kind with one flush (the system's bulk
    writes, e.g. the alarms of an ingest batch)."""
    node = get_settings().effective_node_id
    now = utcnow()
    spec: SyncSpec | None = None
    for obj in objs:
        spec = spec_of_model(type(obj))
        if spec.entity != entity:
            raise ValueError(f"{type(obj).__name__} syncs as {spec.entity!r}, not {entity!r}")
        if not obj.origin_node:
            obj.origin_node = node
        elif obj.origin_node != node:
            raise PermissionError(
                f"record {obj.uid} belongs to node {obj.origin_node}; read-only here"
            )
        obj.version = (obj.version or 0) + 1
        obj.updated_at = now
        session.add(obj)
    if spec is None:
        return []
    session.flush()
    return [queue(session, obj, spec, source="local") for obj in objs]


# Outbox sequence numbers are drawn when a row is inserted but become visible when its
# transaction commits. On PostgreSQL two writers can commit out of order (seq 11 before seq 10),
# and a reader that shipped 11 and moved its cursor past it would never ship 10. So every
# transaction that writes outbox rows holds this advisory lock shared until it ends, and a
# reader takes it exclusively for an instant before reading: every seq up to the head it then
# sees is settled (committed or rolled back for good). SQLite needs none of this: BEGIN
# IMMEDIATE already lets one writer at a time in.
OUTBOX_LOCK = 0x616E6A69616E  # "anjian"
SETTLE_TIMEOUT = "2s"  # a reader gives up this round rather than hold writers back longer


# Set when a transaction that queued changes commits: the forwarder pushes them at once
# instead of at its next poll, so a change crosses each tier in a fraction of the interval.
outbox_committed = threading.Event()


@event.listens_for(Session, "after_commit")
def _signal_queued(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        outbox_committed.set()


@event.listens_for(Session, "after_transaction_end")
def _forget_queued(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (a commit has already signalled)
        session.info.pop("outbox_written", None)


def lock_outbox_for_write(session: Session) -> None:
    """Hold the outbox lock (shared) until this transaction ends; once per transaction. Every
    writer of outbox rows calls it first."""
    session.info["outbox_written"] = True
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection()  # begins the transaction if need be
    tx = session.get_transaction()
    if tx is not None and session.info.get("outbox_lock_tx") is tx:
        return
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": OUTBOX_LOCK})
    session.info["outbox_lock_tx"] = tx


@lru_cache(maxsize=16)
def _settle_engine(url: URL) -> Engine:
    # Its own small pool: the caller already holds a connection of the main pool, and many
    # callers at once (children pulling) must not wait for each other's second connection.
    return create_engine(url, pool_size=1, max_overflow=3, pool_pre_ping=True)


def settled_head(session: Session) -> int | None:
    """The highest outbox seq such that no transaction can still commit a row below it, or None
    when long-running writers did not let us find out in time (try again later)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return session.scalar(select(func.max(OutboxEntry.seq))) or 0
    try:
        with _settle_engine(bind.engine.url).begin() as conn:  # its own short transaction
            conn.execute(text(f"SET LOCAL lock_timeout = '{SETTLE_TIMEOUT}'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
            return conn.scalar(select(func.max(OutboxEntry.seq))) or 0
    except OperationalError as exc:
        if "lock timeout" in str(exc.orig):
            return None
        raise


def outbox_counter(session: Session) -> int:
    """The highest outbox seq ever given here, deleted rows included (0: none): it only goes
    back when the database is restored from a backup, where the highest existing seq also drops
    when the upkeep deletes the newest rows."""
    if session.get_bind().dialect.name == "postgresql":
        given = session.scalar(
            text("SELECT pg_sequence_last_value(pg_get_serial_sequence('outbox', 'seq')::regclass)")
        )
    else:
        given = session.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"))
    return max(int(given or 0), session.scalar(select(func.max(OutboxEntry.seq))) or 0)


_COPY_COLUMNS = ("created_at", "entity", "uid", "origin_node", "version", "op", "payload", "source")


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows in their order (their seqs follow it): a COPY on PostgreSQL (a batch
    received from a child is thousands of rows; a multi-row INSERT of them costs more to build
    and parse than to store)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(OutboxEntry.__table__), rows)
        return
    # COPY's text format built here in one piece: a row formatted by the driver costs more
    # than the database takes to store it.
    # str() of a time costs more than the rest of a row: a received batch's rows share one
    stamps: dict[datetime, str] = {}
    data = "".join(
        "\t".join(
            [
                stamps.get(row["created_at"])
                or stamps.setdefault(row["created_at"], str(row["created_at"])),
                row["entity"],  # entity, op and source are this node's own words
                _copy_text(row["uid"]),
                _copy_text(row["origin_node"]),
                str(int(row["version"])),
                row["op"],
                # JSON text holds no raw tab or line break: only its backslashes need escaping
                json_dumps(row["payload"]).replace("\\", "\\\\"),
                row["source"],
            ]
        )
        + "\n"
        for row in rows
    )
    with copy_in(session, OutboxEntry.__tablename__, _COPY_COLUMNS) as copy:
        copy.write(data.encode())


def _copy_text(value: str) -> str:
    """A value in COPY's text format (backslash escapes; the sender's text is not trusted)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def queue(session: Session, obj: SyncMixin, spec: SyncSpec, *, source: str) -> OutboxEntry:
    """Add the current state of ``obj`` to the outbox (``source``: local, child or parent)."""
    lock_outbox_for_write(session)
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
