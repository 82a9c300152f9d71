"""Applying changes received from another node: idempotent, newest version wins, and only
inside the sender's jurisdiction.

A batch is applied in bulk, with one statement per entity and kind of write instead of one ORM
object per change: a long backlog drains at the speed of the database, not of the ORM."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

import psycopg
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
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.crypto import FieldCipher
from anjian.core.sync.outbox import insert_rows, lock_outbox_for_write, ref_key
from anjian.core.sync.registry import SyncSpec, spec_for, spec_of_model
from anjian.db import copy_in, utcnow, without_row_triggers

# Keys a sender cannot set: local row ids, and the sync fields taken from the change itself.
_MANAGED = ("id", "uid", "origin_node", "version")
_CHUNK = 500  # uids per IN (...) lookup (SQLite)
log = logging.getLogger("anjian.sync")


class ApplyRefused(Exception):
    """A change the sender may not make here (unknown kind, outside its jurisdiction, a record
    of this node). The whole batch is refused so nothing is half-applied."""


@dataclass
class ApplyReport:
    """What a batch did here."""

    applied: int = 0
    stale: int = 0  # replays, older versions and versions superseded within the batch: no-ops
    # versions of records from the parent left out: they name a record this node lacks (see
    # :meth:`_Apply._unplaced`)
    unplaced: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)


def _parser(column: Any) -> Callable[[str], Any] | None:
    """How a column's value is read from the ISO text it travels as (dates and times), or None
    when the value travels as the column holds it."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    return {datetime: datetime.fromisoformat, date: date.fromisoformat}.get(python_type)  # type: ignore[return-value]


@dataclass(frozen=True)
class _Shape:
    """What applying needs to know about one synced table, worked out once."""

    table: Table
    names: dict[str, str]  # attribute -> column name in the table
    # A row as it travels, by column name, from a payload: every column but the local id
    # (references as their uids, replaced by local ids before writing), in the table's order.
    keys: tuple[str, ...]  # payload keys
    columns: tuple[str, ...]  # their column names
    get: Callable[[dict[str, Any]], tuple[Any, ...]]  # payload -> the values of ``keys``
    # the references: (attribute, column name, payload key of the uid, entity referred to)
    refs: tuple[tuple[str, str, str, str], ...]
    required: tuple[tuple[str, str], ...]  # references a row cannot do without: (uid key, entity)
    forwarded: frozenset[str]  # payload keys passed on: columns, references as uids
    accepted: frozenset[str]  # those and the sync fields: a payload with others is trimmed
    # columns whose value travels as ISO text (dates, times): column name → parser
    parsed: dict[str, Callable[[str], Any]]
    # columns the driver adapts before COPY (JSON, booleans): column name → bind processor
    processed: dict[str, Callable[[Any], Any]]
    # foreign keys that are not references resolved by uid (divisions): column name → target
    foreign: tuple[tuple[str, Column[Any]], ...]


@cache
def _shape(model: type, dialect: Dialect) -> _Shape:
    spec = spec_of_model(model)
    attrs = [a for a in inspect(model).column_attrs if a.key != "id"]
    names = {a.key: a.columns[0].name for a in attrs}
    keys = tuple(ref_key(a.key) if a.key in spec.refs else a.key for a in attrs)
    parsed = {
        a.columns[0].name: parse
        for a in attrs
        if a.key not in _MANAGED and (parse := _parser(a.columns[0])) is not None
    }
    processed = {
        a.columns[0].name: process
        for a in attrs
        if a.columns[0].name not in parsed
        and (process := a.columns[0].type.dialect_impl(dialect).bind_processor(dialect))
    }
    return _Shape(
        table=model.__table__,  # type: ignore[attr-defined]
        names=names,
        keys=keys,
        columns=tuple(a.columns[0].name for a in attrs),
        get=itemgetter(*keys),
        refs=tuple(
            (attr, names[attr], ref_key(attr), entity) for attr, entity in spec.refs.items()
        ),
        required=tuple(
            (ref_key(a.key), spec.refs[a.key])
            for a in attrs
            if a.key in spec.refs and not a.columns[0].nullable
        ),
        forwarded=frozenset(k for k in keys if k not in _MANAGED),
        accepted=frozenset(keys),
        parsed=parsed,
        processed=processed,
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


class _Have(NamedTuple):
    """A record that exists here."""

    id: int
    version: int
    origin_node: str


def _ids_of(session: Session, spec: SyncSpec, uids: Iterable[str]) -> dict[str, _Have]:
    """uid → the records of ``spec`` that exist here."""
    table = spec.model.__table__  # type: ignore[attr-defined]
    ordered = sorted(set(uids))
    found: dict[str, _Have] = {}
    if not ordered:
        return found
    columns = select(table.c.uid, table.c.id, table.c.version, table.c.origin_node)
    if session.get_bind().dialect.name == "postgresql":
        # one statement with the uids as an array: an IN list of thousands of parameters costs
        # more to build and parse than the lookup itself
        stmt = columns.where(table.c.uid == any_(bindparam("uids", type_=ARRAY(String))))
        return {r[0]: _Have(*r[1:]) for r in session.execute(stmt, {"uids": ordered})}
    for i in range(0, len(ordered), _CHUNK):
        for r in session.execute(columns.where(table.c.uid.in_(ordered[i : i + _CHUNK]))):
            found[r[0]] = _Have(*r[1:])
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
    # entity -> uid -> version -> (position in the batch, entry); a repeated version is a replay
    versions: dict[str, dict[str, dict[int, tuple[int, dict[str, Any]]]]] = {}
    specs: dict[str, SyncSpec] = {}
    replays = 0
    for position, entry in enumerate(entries):
        spec = _check(entry, allowed_prefix, own_node)
        specs[spec.entity] = spec
        of_record = versions.setdefault(spec.entity, {}).setdefault(entry["uid"], {})
        if entry["version"] in of_record:
            replays += 1
        else:
            of_record[entry["version"]] = (position, entry)
    if not versions:
        return ApplyReport(stale=replays)
    lock_outbox_for_write(session)
    with without_row_triggers(session):
        report, changed = _Apply(session, source, _encryptor(cipher)).run(versions, specs)
    report.stale += replays
    for entity, uids in changed.items():
        hook = specs[entity].on_applied
        if hook is not None:
            hook(session, uids)
    return report


class _Apply:
    """One batch being written: its rows, what goes to the outbox, references to resolve."""

    def __init__(self, session: Session, source: str, encrypt: Encrypt) -> None:
        self.session, self.source, self.encrypt = session, source, encrypt
        self.dialect = session.get_bind().dialect
        self.now = utcnow()
        self.report = ApplyReport()
        self.changed: dict[str, list[str]] = {}  # entity → the uids the batch changed here
        self.outbox: list[tuple[int, dict[str, Any]]] = []  # (position in the batch, row)
        # references to records later in the batch: (spec, uid, ref attr, target uid)
        self.unresolved: list[tuple[SyncSpec, str, str, str]] = []

    def run(
        self,
        versions: dict[str, dict[str, dict[int, tuple[int, dict[str, Any]]]]],
        specs: dict[str, SyncSpec],
    ) -> tuple[ApplyReport, dict[str, list[str]]]:
        """Write what is newer than ours; the report, and by entity the uids changed."""
        for spec in _dependency_order(specs.values()):
            self._entity(spec, versions[spec.entity])
        self._resolve_late()
        if self.outbox:
            self.outbox.sort(key=lambda item: item[0])
            # Core, not ORM objects: a batch is thousands of rows
            insert_rows(self.session, [row for _, row in self.outbox])
        return self.report, self.changed

    def _entity(
        self, spec: SyncSpec, mine: dict[str, dict[int, tuple[int, dict[str, Any]]]]
    ) -> None:
        shape = _shape(spec.model, self.dialect)
        existing = _ids_of(self.session, spec, mine)
        targets = self._targets(shape, mine)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        applied = 0
        for uid, vs in mine.items():
            have = existing.get(uid)
            newer = sorted(v for v in vs if have is None or v > have.version)
            self.report.stale += len(vs) - len(newer)
            if not newer:
                continue
            # one writer per record: its origin node, the one it has here or its first version's
            owner = have.origin_node if have is not None else vs[newer[0]][1]["origin_node"]
            if any(vs[v][1]["origin_node"] != owner for v in newer):
                raise ApplyRefused(
                    f"{spec.entity} {uid} 属于节点 {owner}，不能由其他节点修改 "
                    "(the record belongs to another node)"
                )
            if self._unplaced(shape, spec, vs[newer[-1]][1], targets, mine):
                self.report.unplaced += len(newer)
                continue
            # the record's versions ascending, in the places its changes held in the batch
            places = sorted(vs[v][0] for v in newer)
            for v, position in zip(newer, places, strict=True):
                forwarded = _forwarded(shape, spec, vs[v][1], self.encrypt)
                self.outbox.append((position, self._outbox_row(spec, forwarded)))
            row = self._row(shape, spec, forwarded, targets)  # the table keeps the newest
            if have is None:
                inserts.append(row)
            else:
                row["_id"] = have.id
                updates.append(row)
            applied += len(newer)
            self.changed.setdefault(spec.entity, []).append(uid)
        if applied:
            self.report.applied += applied
            self.report.by_entity[spec.entity] = applied
        _check_foreign(self.session, spec, shape, [*inserts, *updates])
        _write(self.session, shape, inserts, updates)

    def _unplaced(
        self,
        shape: _Shape,
        spec: SyncSpec,
        entry: dict[str, Any],
        targets: dict[str, dict[str, _Have]],
        mine: dict[str, Any],
    ) -> bool:
        """A record from the parent about a division here (``also_down``) that names, in a
        reference it cannot do without, a record this node does not hold (an enterprise the
        agency above registered itself never comes down): it has no place here and is left
        out, rather than failing this batch and every later one. Its later versions are left
        out alike; nothing of it is forwarded. A reference it can do without is left empty
        (see :meth:`_row`)."""
        if self.source != "parent" or not spec.also_down:
            return False
        payload = entry["payload"]
        for uid_key, entity in shape.required:
            target = str(payload.get(uid_key) or "")
            if target in targets[entity] or (entity == spec.entity and target in mine):
                continue
            log.warning(
                "left out %s %s from the parent: its %s %s is not held here",
                spec.entity,
                entry["uid"],
                entity,
                target or "-",
            )
            return True
        return False

    def _targets(
        self, shape: _Shape, mine: dict[str, dict[int, tuple[int, dict[str, Any]]]]
    ) -> dict[str, dict[str, _Have]]:
        """The records the batch's references name that exist here, by entity and uid."""
        wanted: dict[str, set[str]] = {}  # entity referred to → the uids the batch names
        for _attr, _name, uid_key, entity in shape.refs:
            named = wanted.setdefault(entity, set())
            for vs in mine.values():
                for _, entry in vs.values():
                    if target := entry["payload"].get(uid_key):
                        named.add(str(target))
        return {
            entity: _ids_of(self.session, spec_for(entity), uids)  # type: ignore[arg-type]
            for entity, uids in wanted.items()
        }

    def _row(
        self,
        shape: _Shape,
        spec: SyncSpec,
        forwarded: dict[str, Any],
        targets: dict[str, dict[str, _Have]],
    ) -> dict[str, Any]:
        """The values to write for a forwarded payload, by column name in the table's order
        (references as local ids; dates and times still as the text they travel as)."""
        try:
            row = dict(zip(shape.columns, shape.get(forwarded), strict=True))
        except KeyError:  # the sender's version lacks columns: they keep ours (or the default)
            row = {
                n: forwarded[k]
                for k, n in zip(shape.keys, shape.columns, strict=True)
                if k in forwarded
            }
        for attr, name, uid_key, entity in shape.refs:
            target_uid = forwarded[uid_key]
            target = targets[entity].get(str(target_uid)) if target_uid else None
            row[name] = target.id if target else None
            if target_uid and target is None:  # a record later in the batch (or not yet here)
                self.unresolved.append((spec, forwarded["uid"], attr, str(target_uid)))
        return row

    def _outbox_row(self, spec: SyncSpec, forwarded: dict[str, Any]) -> dict[str, Any]:
        return {
            "entity": spec.entity,
            "uid": forwarded["uid"],
            "origin_node": forwarded["origin_node"],
            "version": forwarded["version"],
            "op": "delete" if forwarded.get("deleted") else "upsert",
            "payload": forwarded,
            "source": self.source,
            "created_at": self.now,
        }

    def _resolve_late(self) -> None:
        """References to records that arrived later in the same batch (an organisation and
        its parent organisation), set once every row of the batch is written: one lookup and
        one executemany per entity and reference."""
        by_ref: dict[tuple[str, str], tuple[SyncSpec, list[tuple[str, str]]]] = {}
        for spec, uid, attr, target_uid in self.unresolved:
            by_ref.setdefault((spec.entity, attr), (spec, []))[1].append((uid, target_uid))
        for (_entity, attr), (spec, pairs) in by_ref.items():
            target = spec_for(spec.refs[attr])
            assert target is not None  # only references to synced entities are resolved
            found = _ids_of(self.session, target, [t for _, t in pairs])
            params = [{"p_uid": u, "p_ref": found[t].id} for u, t in pairs if t in found]
            if params:
                shape = _shape(spec.model, self.dialect)
                self.session.execute(
                    update(shape.table)
                    .where(shape.table.c.uid == bindparam("p_uid"))
                    .values({shape.names[attr]: bindparam("p_ref")}),
                    params,
                )


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


def _forwarded(
    shape: _Shape, spec: SyncSpec, entry: dict[str, Any], encrypt: Encrypt
) -> dict[str, Any]:
    """The payload to store and forward: the columns we know (references as uids), encrypted
    columns under our key, as :func:`~anjian.core.sync.outbox.snapshot` makes it."""
    payload: dict[str, Any] = entry["payload"]
    forwarded = dict(payload)
    if not shape.accepted.issuperset(payload):
        for unknown in payload.keys() - shape.forwarded:  # columns this node does not have
            del forwarded[unknown]
    for _attr, _name, uid_key, _entity in shape.refs:
        forwarded.setdefault(uid_key, None)
    uid = forwarded["uid"] = entry["uid"]
    forwarded["origin_node"] = entry["origin_node"]
    forwarded["version"] = entry["version"]
    for key in spec.encrypted:
        if key in forwarded:
            forwarded[key] = encrypt(uid, key, forwarded[key])
    return forwarded


def _check_foreign(
    session: Session, spec: SyncSpec, shape: _Shape, rows: list[dict[str, Any]]
) -> None:
    """Refuse the batch if a row names a division (or another record that does not travel by
    uid) that this node does not have: one lookup per key for the whole batch, in place of the
    foreign-key trigger's query per row (see :func:`~anjian.db.without_row_triggers`)."""
    for key, target in shape.foreign:
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
    session: Session, shape: _Shape, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    """Insert and update in bulk."""
    table = shape.table
    with _bad_values_refused():
        for group in _by_keys(inserts):
            _insert(session, shape, group)
        for group in _by_keys(updates):
            cols = {k: bindparam(f"p_{k}") for k in group[0] if k != "_id"}
            stmt = (
                update(table)
                .where(table.c.id == bindparam("p__id"))
                .where(table.c.version < bindparam("p_version"))
                .values(cols)
            )
            params = [{f"p_{k}": v for k, v in r.items()} for r in _parsed(shape, group)]
            session.execute(stmt, params)


@contextmanager
def _bad_values_refused() -> Iterator[None]:
    """A value the driver or the database cannot take (text in a number column, a list where
    text goes) refuses the batch with the database's words, instead of failing the request."""
    try:
        yield
    except IntegrityError:
        raise  # not the sender's values alone: the request fails and is retried
    except (StatementError, psycopg.DataError, psycopg.ProgrammingError, TypeError) as exc:
        cause = getattr(exc, "orig", None) or exc
        diag = getattr(cause, "diag", None)
        where = getattr(diag, "context", None)  # COPY alarms, line 3, column raised_at: "x"
        raise ApplyRefused(
            f"同步数据格式错误 (malformed change): {str(cause).splitlines()[0]}"
            + (f" ({where.splitlines()[0]})" if where else "")
        ) from None


def _parsed(shape: _Shape, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their dates and times read from the ISO text they travel as (for a statement
    with parameters; COPY takes the text as it is)."""
    parsers = [(name, parse) for name, parse in shape.parsed.items() if name in rows[0]]
    for row in rows:
        for name, parse in parsers:
            value = row[name]
            if isinstance(value, str):
                try:
                    row[name] = parse(value)
                except ValueError:
                    raise ApplyRefused(
                        f"同步数据格式错误：{name} 不是日期时间 (malformed change: {name})"
                    ) from None
            elif value is not None and not isinstance(value, date):
                raise ApplyRefused(f"同步数据格式错误：{name} (malformed change: {name})")
    return rows


def _insert(session: Session, shape: _Shape, rows: list[dict[str, Any]]) -> None:
    """Insert rows that set the same columns. On PostgreSQL, rows that set every column are
    copied in (COPY): a multi-row INSERT of a batch's new records (an alarm storm's alarms)
    costs the driver and the server far more to build and parse than to store. Dates and
    times go in as the ISO text they travelled as (with their UTC offset). Rows lacking a
    column go through INSERT, which fills in the column's default."""
    if session.get_bind().dialect.name != "postgresql" or len(rows[0]) < len(shape.columns):
        session.execute(insert(shape.table), _parsed(shape, rows))
        return
    columns = list(rows[0])
    get = itemgetter(*columns)
    processed = [(i, shape.processed[c]) for i, c in enumerate(columns) if c in shape.processed]
    with copy_in(session, shape.table.name, columns) as copy:
        for row in rows:
            values = get(row)
            if processed:
                values = list(values)
                for i, process in processed:
                    if values[i] is not None:
                        values[i] = process(values[i])
            copy.write_row(values)


def _by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped by the keys they set (one executemany each); usually one group. Rows
    from :meth:`_Apply._row` that set the same columns list them in the same order."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())
