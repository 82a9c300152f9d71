"""Applying changes received from another node: idempotent, newest version wins, and only
inside the sender's jurisdiction.

A batch is applied in bulk, with one statement per entity and kind of write instead of one ORM
object per change: a long backlog drains at the speed of the database, not of the ORM."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    String,
    Table,
    any_,
    bindparam,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.crypto import FieldCipher
from anjian.core.sync.outbox import insert_rows, lock_outbox_for_write, ref_key
from anjian.core.sync.registry import SyncSpec, spec_for, spec_of_model
from anjian.db import copy_in, utcnow, without_row_triggers

# Keys a sender cannot set: local row ids, and the sync fields taken from the change itself.
_MANAGED = ("id", "uid", "origin_node", "version")
_CHUNK = 500  # uids per IN (...) lookup (SQLite)


class ApplyRefused(Exception):
    """A change the sender may not make here (unknown kind, outside its jurisdiction, a record
    of this node). The whole batch is refused so nothing is half-applied."""


@dataclass
class ApplyReport:
    """What a batch did here."""

    applied: int = 0
    stale: int = 0  # replays, older versions and versions superseded within the batch: no-ops
    by_entity: dict[str, int] = field(default_factory=dict)


def _converter(column: Any) -> Callable[[Any], Any]:
    """Dates and times travel as ISO text."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None
    parse: Callable[[str], Any] | None = {
        datetime: datetime.fromisoformat,
        date: date.fromisoformat,
    }.get(python_type)  # type: ignore[arg-type]
    if parse is None:
        return lambda value: value
    return lambda value: parse(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class _Shape:
    """What applying needs to know about one synced table, worked out once."""

    table: Table
    names: dict[str, str]  # attribute -> column name in the table
    # the columns a payload sets: (payload key, column name, payload value -> column value)
    values: tuple[tuple[str, str, Callable[[Any], Any]], ...]
    # the references: (attribute, column name, payload key of the uid, entity referred to)
    refs: tuple[tuple[str, str, str, str], ...]
    forwarded: frozenset[str]  # payload keys passed on: columns, references as uids
    ref_keys: tuple[str, ...]  # the payload keys of the references
    # foreign keys that are not references resolved by uid (divisions): column name → target
    foreign: tuple[tuple[str, Column[Any]], ...]


@cache
def _shape(model: type) -> _Shape:
    spec = spec_of_model(model)
    attrs = inspect(model).column_attrs
    convert = {a.key: _converter(a.columns[0]) for a in attrs if a.key not in _MANAGED}
    ref_keys = tuple(ref_key(attr) for attr in spec.refs)
    names = {a.key: a.columns[0].name for a in attrs}
    return _Shape(
        table=model.__table__,  # type: ignore[attr-defined]
        names=names,
        values=tuple((k, names[k], f) for k, f in convert.items() if k not in spec.refs),
        refs=tuple(
            (attr, names[attr], ref_key(attr), entity)
            for attr, entity in spec.refs.items()
            if spec_for(entity) is not None
        ),
        forwarded=frozenset(k for k in convert if k not in spec.refs) | frozenset(ref_keys),
        ref_keys=ref_keys,
        foreign=tuple(
            (a.columns[0].name, fk.column)
            for a in attrs
            if a.key not in spec.refs
            for fk in a.columns[0].foreign_keys
        ),
    )


def _dependency_order(specs: Iterable[SyncSpec]) -> list[SyncSpec]:
    """Entities referenced by others first, so that their rows exist when references resolve."""
    pending = {s.entity: s for s in specs}
    ordered: list[SyncSpec] = []
    while pending:
        ready = [
            s
            for s in pending.values()
            if all(t == s.entity or t not in pending for t in s.refs.values())
        ] or list(pending.values())  # a reference cycle between entities: any order will do
        for s in ready:
            ordered.append(s)
            del pending[s.entity]
    return ordered


def _check(entry: Any, allowed_prefix: str | None, own_node: str) -> SyncSpec:
    """The spec of a received change, once its envelope, kind, jurisdiction and origin are
    acceptable (a malformed change is refused with the field it gets wrong, before the
    database would fail on it)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
        raise ApplyRefused("同步数据格式错误：变更缺少 payload (malformed change: payload)")
    spec = spec_for(str(entry.get("entity")))
    if spec is None:
        raise ApplyRefused(f"本节点不识别的数据类型: {entry.get('entity')} (unknown entity)")
    for key, longest in (("uid", 36), ("origin_node", 64)):
        value = entry.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= longest:
            raise ApplyRefused(
                f"同步数据格式错误：{key} 应为 1–{longest} 个字符 (malformed change: {key})"
            )
    version = entry.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ApplyRefused("同步数据格式错误：version 应为非负整数 (malformed change: version)")
    division = str(entry["payload"].get(spec.division_attr) or "")
    if allowed_prefix is not None and not division.startswith(allowed_prefix):
        raise ApplyRefused(
            f"{spec.entity} {entry.get('uid')} 的行政区划 {division} 不在下级节点管辖范围内 "
            f"(outside the sender's jurisdiction)"
        )
    if entry.get("origin_node") == own_node:
        raise ApplyRefused(
            f"{spec.entity} {entry.get('uid')} 属于本节点，下级不能修改 "
            "(a record of this node cannot be changed by another)"
        )
    return spec


def _ids_of(session: Session, spec: SyncSpec, uids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """uid → (local id, version) of the records of ``spec`` that exist here."""
    table = _shape(spec.model).table
    ordered = sorted(set(uids))
    found: dict[str, tuple[int, int]] = {}
    if not ordered:
        return found
    columns = select(table.c.uid, table.c.id, table.c.version)
    if session.get_bind().dialect.name == "postgresql":
        # one statement with the uids as an array: an IN list of thousands of parameters costs
        # more to build and parse than the lookup itself
        stmt = columns.where(table.c.uid == any_(bindparam("uids", type_=ARRAY(String))))
        return {uid: (id_, v) for uid, id_, v in session.execute(stmt, {"uids": ordered})}
    for i in range(0, len(ordered), _CHUNK):
        for uid, id_, version in session.execute(
            columns.where(table.c.uid.in_(ordered[i : i + _CHUNK]))
        ):
            found[uid] = (id_, version)
    return found


def apply_batch(
    session: Session,
    entries: list[dict[str, Any]],
    *,
    source: str,
    cipher: FieldCipher,
    allowed_prefix: str | None,
) -> ApplyReport:
    """Apply a batch received from a child (``allowed_prefix``: its jurisdiction) or from the
    parent (None: the parent is trusted for what it sends down), and queue what changed here
    for forwarding on (up, or down to our children).

    Every change is checked before anything is written. Of several versions of one record in
    the batch the table takes the newest once, and every version newer than ours is queued to
    be forwarded, in the order received (nodes above see each version exactly once, as here). A
    column the sender's version lacks keeps our value (or the default) and is not forwarded."""
    own_node = get_settings().effective_node_id
    encrypt = _encryptor(cipher)
    # (entity, uid) -> version -> (position in the batch, entry); a repeated version is a replay
    versions: dict[tuple[str, str], dict[int, tuple[int, dict[str, Any]]]] = {}
    specs: dict[str, SyncSpec] = {}
    report = ApplyReport()
    for position, entry in enumerate(entries):
        spec = _check(entry, allowed_prefix, own_node)
        specs[spec.entity] = spec
        of_record = versions.setdefault((spec.entity, str(entry["uid"])), {})
        if int(entry["version"]) in of_record:
            report.stale += 1
        else:
            of_record[int(entry["version"])] = (position, entry)
    if not versions:
        return report
    lock_outbox_for_write(session)
    with without_row_triggers(session):
        changed = _apply(session, versions, specs, source, encrypt, report)
    for entity, uids in changed.items():
        hook = specs[entity].on_applied
        if hook is not None:
            hook(session, uids)
    return report


def _apply(
    session: Session,
    versions: dict[tuple[str, str], dict[int, tuple[int, dict[str, Any]]]],
    specs: dict[str, SyncSpec],
    source: str,
    encrypt: Encrypt,
    report: ApplyReport,
) -> dict[str, list[str]]:
    """Write what is newer than ours (counted in ``report``); by entity, the uids of the
    records changed."""
    now = utcnow()
    outbox: list[tuple[int, dict[str, Any]]] = []
    unresolved: list[tuple[SyncSpec, str, str, str]] = []  # spec, uid, ref attr, target uid
    changed: dict[str, list[str]] = {}  # entity → the uids the batch changed here
    for spec in _dependency_order(specs.values()):
        mine = {uid: vs for (entity, uid), vs in versions.items() if entity == spec.entity}
        existing = _ids_of(session, spec, mine)
        wanted: dict[str, set[str]] = {}  # entity referred to → the uids the batch names
        for _attr, _name, uid_key, entity in _shape(spec.model).refs:
            wanted.setdefault(entity, set()).update(
                str(u)
                for vs in mine.values()
                for _, e in vs.values()
                if (u := e["payload"].get(uid_key))
            )
        targets = {
            entity: _ids_of(session, spec_for(entity), uids)  # type: ignore[arg-type]
            for entity, uids in wanted.items()
        }
        inserts: list[tuple[dict[str, Any], dict[str, Any]]] = []
        updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for uid, vs in mine.items():
            have = existing.get(uid)
            newer = sorted(v for v in vs if have is None or v > have[1])
            report.stale += len(vs) - len(newer)
            if not newer:
                continue
            # the record's versions ascending, in the places its changes held in the batch
            places = sorted(vs[v][0] for v in newer)
            for v, position in zip(newer, places, strict=True):
                forwarded = _forwarded(spec, vs[v][1], encrypt)
                outbox.append((position, _outbox_row(spec, forwarded, source, now)))
            row = _row(spec, forwarded, targets)  # the table keeps the newest version
            if have is None:
                inserts.append((row, forwarded))
            else:
                row["_id"] = have[0]
                updates.append((row, forwarded))
            report.applied += len(newer)
            report.by_entity[spec.entity] = report.by_entity.get(spec.entity, 0) + len(newer)
            changed.setdefault(spec.entity, []).append(uid)
        _check_foreign(session, spec, [row for row, _ in [*inserts, *updates]])
        _write(session, spec, inserts, updates)
        for row, forwarded in [*inserts, *updates]:
            for attr, name, uid_key, _entity in _shape(spec.model).refs:
                target_uid = forwarded.get(uid_key)
                if target_uid and row[name] is None:
                    unresolved.append((spec, row["uid"], attr, str(target_uid)))
    _resolve_late(session, unresolved)
    if outbox:
        outbox.sort(key=lambda item: item[0])
        # Core, not ORM objects: a batch is thousands of rows
        insert_rows(session, [row for _, row in outbox])
    return changed


def _outbox_row(
    spec: SyncSpec, forwarded: dict[str, Any], source: str, now: datetime
) -> dict[str, Any]:
    return {
        "entity": spec.entity,
        "uid": forwarded["uid"],
        "origin_node": forwarded["origin_node"],
        "version": forwarded["version"],
        "op": "delete" if forwarded.get("deleted") else "upsert",
        "payload": forwarded,
        "source": source,
        "created_at": now,
    }


Encrypt = Callable[[str, str, Any], Any]


def _encryptor(cipher: FieldCipher) -> Encrypt:
    """Encrypt a field of a record under our key (plaintext in the sealed batch, our key at
    rest). A value a record keeps from one version to the next in a batch keeps its ciphertext,
    as at the origin, where a change that leaves a phone alone leaves its ciphertext alone; so
    a long backlog of one record's versions is not encrypted once per version."""
    done: dict[tuple[str, str, Any], Any] = {}

    def encrypt(uid: str, key: str, value: Any) -> Any:
        if (uid, key, value) not in done:
            done[uid, key, value] = cipher.encrypt(value)
        return done[uid, key, value]

    return encrypt


def _forwarded(spec: SyncSpec, entry: dict[str, Any], encrypt: Encrypt) -> dict[str, Any]:
    """The payload to store and forward: the columns we know (references as uids), encrypted
    columns under our key, as :func:`~anjian.core.sync.outbox.snapshot` makes it."""
    shape = _shape(spec.model)
    payload: dict[str, Any] = entry["payload"]
    forwarded = dict(payload)
    for unknown in payload.keys() - shape.forwarded:  # columns this node does not have
        del forwarded[unknown]
    for key in shape.ref_keys:
        forwarded.setdefault(key, None)
    uid = forwarded["uid"] = str(entry["uid"])
    forwarded["origin_node"] = str(entry["origin_node"])
    forwarded["version"] = int(entry["version"])
    for key in spec.encrypted:
        if key in forwarded:
            forwarded[key] = encrypt(uid, key, forwarded[key])
    return forwarded


def _row(
    spec: SyncSpec,
    forwarded: dict[str, Any],
    targets: dict[str, dict[str, tuple[int, int]]],
) -> dict[str, Any]:
    """The values to write for a forwarded payload, by column name (references as local
    ids). Built in the table's column order, so rows setting the same columns have the same
    keys in the same order."""
    shape = _shape(spec.model)
    row: dict[str, Any] = {
        "uid": forwarded["uid"],
        "origin_node": forwarded["origin_node"],
        "version": forwarded["version"],
    }
    for key, name, convert in shape.values:
        if key in forwarded:
            row[name] = convert(forwarded[key])
    for _attr, name, uid_key, entity in shape.refs:
        uid = forwarded.get(uid_key)
        target = targets[entity].get(str(uid)) if uid else None
        row[name] = target[0] if target else None
    return row


def _check_foreign(session: Session, spec: SyncSpec, rows: list[dict[str, Any]]) -> None:
    """Refuse the batch if a row names a division (or another record that does not travel by
    uid) that this node does not have: one lookup per key for the whole batch, in place of the
    foreign-key trigger's query per row (see :func:`~anjian.db.without_row_triggers`)."""
    for key, target in _shape(spec.model).foreign:
        wanted = sorted({row[key] for row in rows if row.get(key) is not None})
        if not wanted:
            continue
        have = set(session.scalars(select(target).where(target.in_(wanted))))
        missing = [value for value in wanted if value not in have]
        if missing:
            what = "行政区划代码" if target.table.name == "divisions" else target.table.name
            raise ApplyRefused(
                f"{spec.entity} 引用了本节点没有的{what}: {', '.join(map(str, missing[:5]))} "
                f"(unknown {target.table.name}.{target.name})"
            )


def _write(
    session: Session,
    spec: SyncSpec,
    inserts: list[tuple[dict[str, Any], dict[str, Any]]],
    updates: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Insert and update in bulk."""
    table = _shape(spec.model).table
    if inserts:
        for group in _by_keys([row for row, _ in inserts]):
            _insert(session, table, group)
    if updates:
        for group in _by_keys([row for row, _ in updates]):
            cols = {k: bindparam(f"p_{k}") for k in group[0] if k != "_id"}
            stmt = (
                update(table)
                .where(table.c.id == bindparam("p__id"))
                .where(table.c.version < bindparam("p_version"))
                .values(cols)
            )
            session.execute(stmt, [{f"p_{k}": v for k, v in r.items()} for r in group])


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that set the same columns. On PostgreSQL, rows that set every column are
    copied in (COPY): a multi-row INSERT of a batch's new records (an alarm storm's alarms)
    costs the driver and the server far more to build and parse than to store. Rows lacking
    a column go through INSERT, which fills in the column's default."""
    dialect = session.get_bind().dialect
    columns = [c for c in table.columns if c.key in rows[0]]
    if dialect.name != "postgresql" or len(columns) < len(table.columns) - 1:  # all but id
        session.execute(insert(table), rows)
        return
    processors = [(c.key, c.type.bind_processor(dialect)) for c in columns]
    with copy_in(session, table.name, [c.name for c in columns]) as copy:
        for row in rows:
            copy.write_row(
                [
                    row[key] if process is None or row[key] is None else process(row[key])
                    for key, process in processors
                ]
            )


def _by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped by the keys they set (one executemany each); usually one group. Rows
    from :func:`_row` that set the same columns list them in the same order."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _resolve_late(session: Session, unresolved: list[tuple[SyncSpec, str, str, str]]) -> None:
    """References to records that arrived later in the same batch (an organisation and its
    parent organisation), set once every row of the batch is written: one lookup and one
    executemany per entity and reference."""
    by_ref: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (entity, attr) → (uid, target)
    for spec, uid, attr, target_uid in unresolved:
        by_ref.setdefault((spec.entity, attr), []).append((uid, target_uid))
    for (entity, attr), pairs in by_ref.items():
        spec = spec_for(entity)
        target = spec_for(spec.refs[attr]) if spec else None
        assert spec is not None and target is not None
        found = _ids_of(session, target, [t for _, t in pairs])
        params = [{"p_uid": u, "p_ref": found[t][0]} for u, t in pairs if t in found]
        if params:
            table = _shape(spec.model).table
            session.execute(
                update(table)
                .where(table.c.uid == bindparam("p_uid"))
                .values({_shape(spec.model).names[attr]: bindparam("p_ref")}),
                params,
            )
