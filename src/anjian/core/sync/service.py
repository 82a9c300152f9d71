"""Node links and the exchange of changes: push up, pull down, bundles for file ferries."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Text, delete, func, select, true, type_coerce
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.crypto import FieldCipher
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import prefix_of, tier_of
from anjian.core.errors import AnjianError, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from anjian.core.sync.apply import ApplyRefused, apply_batch
from anjian.core.sync.guard import UNKNOWN, Source, clip
from anjian.core.sync.models import OutboxEntry, SyncLink
from anjian.core.sync.outbox import outbox_counter, settled_head
from anjian.core.sync.protocol import (
    SealError,
    check_fresh,
    check_header,
    message_id,
    open_sealed,
    peek_header,
    seal,
)
from anjian.core.sync.registry import all_specs, spec_for
from anjian.db import unit_of_work, utcnow

# Changes per push: a long backlog drains faster in bigger batches (fewer round trips, commits
# and acknowledgements); 5,000 enterprise changes are a few MB in memory while they are sealed.
PUSH_BATCH = 5000
PULL_BATCH = 500
UP_SOURCES = ("local", "child")
DOWN_SOURCES = ("local", "parent")


def _cipher() -> FieldCipher:
    return FieldCipher(get_settings().key_file("field"))


def link_key(link: SyncLink) -> bytes:
    """The shared secret of a link (kept SM4-encrypted at rest)."""
    return (_cipher().decrypt(link.key_enc) or "").encode()


def _node_actor(division: str, node_id: str | None = None) -> Actor:
    return Actor(user_id=None, username=f"node:{node_id or division}", division_code=division)


# --- links -------------------------------------------------------------------------------------


def parent_link(session: Session) -> SyncLink | None:
    """This node's link to its parent, if it has one."""
    return session.scalar(select(SyncLink).where(SyncLink.role == "parent"))


def child_links(session: Session) -> list[SyncLink]:
    return list(
        session.scalars(
            select(SyncLink).where(SyncLink.role == "child").order_by(SyncLink.division_code)
        )
    )


def set_parent(
    session: Session, actor: Actor, url: str, key: str, parent_division: str
) -> SyncLink:
    """Point this node at its parent (URL and the link key the parent issued)."""
    if not url.startswith(("http://", "https://")):
        raise Invalid("上级节点地址应以 http:// 或 https:// 开头 (parent URL)", field="parent")
    if len(key) < 32:
        raise Invalid(
            "链路密钥过短，请使用上级节点 `anjian node link` 打印的密钥 (link key too short)",
            field="link_key",
        )
    link = parent_link(session)
    if link is None:
        link = SyncLink(role="parent", division_code=parent_division, key_enc="")
        session.add(link)
    link.url, link.division_code, link.revoked = url.rstrip("/"), parent_division, False
    link.key_enc = _cipher().encrypt(key) or ""
    session.flush()
    audit(
        session,
        actor,
        "node.parent",
        object_type="sync_link",
        object_id=str(link.id),
        detail={"url": link.url, "parent_division": parent_division},
    )
    return link


def link_child(session: Session, actor: Actor, child_division: str) -> str:
    """Register (or re-key) a child node of this node's jurisdiction; returns the new link key,
    shown once. The old key, if any, stops working at once."""
    own = get_settings().node_division
    if session.get(Division, child_division) is None:
        raise Invalid(f"行政区划代码不存在: {child_division} (unknown division)", field="division")
    if child_division == own or not child_division.startswith(prefix_of(own)):
        raise Invalid(
            f"{child_division} 不是本节点 {own} 的下级行政区划 (not below this node)",
            field="division",
        )
    key = secrets.token_urlsafe(32)
    link = session.scalar(
        select(SyncLink).where(SyncLink.role == "child", SyncLink.division_code == child_division)
    )
    if link is None:
        link = SyncLink(role="child", division_code=child_division, key_enc="")
        session.add(link)
    link.key_enc, link.revoked = _cipher().encrypt(key) or "", False
    session.flush()
    audit(
        session,
        actor,
        "node.link",
        object_type="sync_link",
        object_id=str(link.id),
        division_code=child_division,
        detail={"child": child_division},
    )
    return key


def revoke_child(session: Session, actor: Actor, child_division: str) -> None:
    """Stop accepting anything from a child until it is linked again."""
    link = session.scalar(
        select(SyncLink).where(SyncLink.role == "child", SyncLink.division_code == child_division)
    )
    if link is None:
        raise NotFound(f"没有该下级节点: {child_division} (no such child)", field="division")
    link.revoked = True
    audit(
        session,
        actor,
        "node.revoke",
        object_type="sync_link",
        object_id=str(link.id),
        division_code=child_division,
    )


# --- outgoing ----------------------------------------------------------------------------------


Decrypt = Callable[[str | None], str | None]


def _decryptor(cipher: FieldCipher) -> Decrypt:
    """Decrypt fields for one batch; a ciphertext repeated in it (a record's unchanged phone
    across its versions) is decrypted once."""
    return lru_cache(maxsize=4096)(cipher.decrypt)


def _transport(change: Row[Any], decrypt: Decrypt) -> dict[str, Any]:
    """A change read by :func:`_changes` as it travels: its stored JSON text is passed on as
    it is, unless it holds encrypted fields."""
    seq, entity, uid, origin_node, version, op, text = change
    spec = spec_for(entity)
    payload: Any
    if spec is not None and spec.encrypted:
        payload = orjson.loads(text)
        for key in spec.encrypted:
            payload[key] = decrypt(payload.get(key))  # travels inside the sealed batch only
    else:
        payload = orjson.Fragment(text)
    return {
        "seq": seq,
        "entity": entity,
        "uid": uid,
        "origin_node": origin_node,
        "version": version,
        "op": op,
        "payload": payload,
    }


def _changes(
    session: Session, after: int, head: int, sources: tuple[str, ...], limit: int | None
) -> list[Row[Any]]:
    """Outbox changes from ``sources`` after seq ``after`` up to ``head``, as plain rows (no
    ORM objects: a batch is thousands of them) with the payload as its JSON text."""
    c = OutboxEntry.__table__.c
    stmt = (
        select(
            c.seq,
            c.entity,
            c.uid,
            c.origin_node,
            c.version,
            c.op,
            type_coerce(c.payload, Text).label("payload"),
        )
        .where(c.seq > after, c.seq <= head, c.source.in_(sources))
        .order_by(c.seq)
    )
    return list(session.connection().execute(stmt.limit(limit) if limit else stmt).all())


def pending_up(session: Session, after: int, limit: int | None) -> list[Row[Any]]:
    """Changes to send upward after outbox seq ``after`` (only settled ones: see
    :func:`~anjian.core.sync.outbox.settled_head`)."""
    head = settled_head(session)
    if head is None:
        return []
    return _changes(session, after, head, UP_SOURCES, limit)


def _header(kind: str, **extra: Any) -> dict[str, Any]:
    settings = get_settings()
    return {
        "v": 1,
        "kind": kind,
        "from_division": settings.node_division,
        "from_node": settings.effective_node_id,
        "ts": utcnow().isoformat(),
        **extra,
    }


def build_push(
    session: Session, link: SyncLink, limit: int = PUSH_BATCH, kind: str = "push"
) -> tuple[bytes, int]:
    """A sealed batch of the changes the parent has not stored yet, and how many it holds."""
    entries = pending_up(session, link.up_seq, limit)
    decrypt = _decryptor(_cipher())
    last = entries[-1].seq if entries else link.up_seq
    message = seal(
        link_key(link),
        _header(
            kind,
            to_division=link.division_code,
            since=link.up_seq,
            last_seq=last,
            count=len(entries),
        ),
        [_transport(e, decrypt) for e in entries],
    )
    return message, len(entries)


def backlog(session: Session, link: SyncLink) -> tuple[int, datetime | None]:
    """How many changes wait for the parent, and since when the oldest waits."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxEntry.created_at)).where(
            OutboxEntry.seq > link.up_seq, OutboxEntry.source.in_(UP_SOURCES)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest


_PRUNE_CHUNK = 5000  # outbox rows deleted per transaction


def prunable(session: Session, now: datetime) -> tuple[ColumnElement[bool], ...] | None:
    """Which outbox rows may go (older than ``ANJIAN_OUTBOX_RETENTION_DAYS``), or None. Only
    changes that travel up and that the parent has stored (at the national node, which has no
    parent, every one): a node with no parent yet keeps its history for the day it is linked,
    and what travels down (directives made here or passed on from above) stays for children
    that have not pulled it."""
    days = get_settings().outbox_retention_days
    if not days:
        return None
    link = parent_link(session)
    if link is not None:
        acked = OutboxEntry.seq <= link.up_seq
    elif tier_of(get_settings().node_division).value == "national":
        acked = true()
    else:
        return None
    cutoff = now - timedelta(days=days)
    # Rows are written in time order, so the first recent one bounds the search: the hourly
    # upkeep reads the old end of the outbox through its key, not the whole table.
    first_recent = session.scalar(
        select(OutboxEntry.seq)
        .where(OutboxEntry.created_at >= cutoff)
        .order_by(OutboxEntry.seq)
        .limit(1)
    )
    downward = [s.entity for s in all_specs() if s.downward]
    return (
        acked,
        OutboxEntry.seq < first_recent if first_recent is not None else true(),
        OutboxEntry.created_at < cutoff,
        OutboxEntry.source.in_(UP_SOURCES),
        OutboxEntry.entity.not_in(downward),
    )


def prune_outbox(now: datetime | None = None) -> int:
    """Delete the outbox rows :func:`prunable` allows, a few thousand per transaction; how
    many went. A parent restored from a backup older than the retention cannot be refilled
    with what was deleted: keep its backups newer than that."""
    with unit_of_work(read_only=True) as db:
        where = prunable(db, now or utcnow())
    if where is None:
        return 0
    removed = 0
    while True:
        with unit_of_work() as db:
            seqs = db.scalars(
                select(OutboxEntry.seq).where(*where).order_by(OutboxEntry.seq).limit(_PRUNE_CHUNK)
            ).all()
            if not seqs:
                return removed
            db.execute(delete(OutboxEntry).where(OutboxEntry.seq.in_(seqs)))
            link = parent_link(db)
            if link is not None:
                link.pruned_seq = max(link.pruned_seq, seqs[-1])
        removed += len(seqs)


# --- incoming from a child ---------------------------------------------------------------------


def _child_for(
    session: Session, message: bytes, source: Source | None, *, lock: bool = False
) -> tuple[SyncLink, dict[str, Any], Any]:
    """Identify, authenticate and open a child's message; refusals are audited (through the
    guard of ``source`` when it came online: summarised and rate-limited). ``lock``: hold the
    link row until the transaction ends, so that two pushes of one child (a request still
    running here after the child was restarted and sent again) are applied one after the
    other. Every header field is bounded before anything is written."""
    try:
        claimed = peek_header(message)
        check_header(claimed)
    except SealError as exc:
        raise _refuse(session, None, {}, str(exc), source, Unauthorized(str(exc))) from None
    division = claimed["from_division"]
    stmt = select(SyncLink).where(SyncLink.role == "child", SyncLink.division_code == division)
    link = session.scalar(stmt.with_for_update() if lock else stmt)
    if link is None or link.revoked:
        raise _refuse(
            session,
            None,
            claimed,
            "unknown or revoked child",
            source,
            Forbidden(f"未登记或已吊销的下级节点: {division} (unknown or revoked child node)"),
        )
    try:
        header, body = open_sealed(link_key(link), message)
    except SealError as exc:
        raise _refuse(session, link, claimed, str(exc), source, Unauthorized(str(exc))) from None
    return link, header, body


def _refuse(
    session: Session,
    link: SyncLink | None,
    header: dict[str, Any],
    reason: str,
    source: Source | None,
    error: AnjianError,
) -> AnjianError:
    """Record a refused message (the caller commits it although the request fails) and return
    the error to raise. Values from the message are clipped: a stranger's header must not be
    copied into the audit log. Online refusals go through the guard: one record per claimed
    child and interval, and 429 once the address or the claimed child refuses too often."""
    division = link.division_code if link else None
    actor = _node_actor(division or "", clip(header.get("from_node")) if link else UNKNOWN)
    detail = {"reason": clip(reason, 160), "kind": clip(header.get("kind"), 16)}
    if link is None:
        detail["claimed"] = clip(header.get("from_division"), 16)
    if source is None:
        audit(session, actor, "sync.refused", result="failure", detail=detail)
        return error
    throttled = source.guard.refuse(session, source.ip, division or UNKNOWN, actor, detail)
    return throttled or error


@dataclass(frozen=True)
class PushResult:
    """What a parent did with a push or a bundle."""

    status: str  # ok | rewind
    stored_seq: int
    applied: int = 0
    stale: int = 0
    by_entity: dict[str, int] | None = None


def receive_push(
    session: Session, message: bytes, *, online: bool = True, source: Source | None = None
) -> tuple[PushResult, SyncLink]:
    """Store a child's batch idempotently and say how far we have stored its changes. If the
    child continues from further than we have (our database was restored from a backup), ask
    it to rewind to what we have.

    Every entry is applied by version, never skipped by its sequence number: a child restored
    from a backup numbers new changes with sequence numbers we have already acknowledged.

    ``source``: where an online message came from; a message accepted before (a replay of a
    captured request, or a proxy sending it again) is then a no-op: the answer says what we
    have stored, and neither the cursor nor the time of last contact moves."""
    link, header, entries = _child_for(session, message, source, lock=True)
    if online:
        try:
            check_fresh(header, utcnow())
        except SealError as exc:
            raise _refuse(session, link, header, str(exc), source, Unauthorized(str(exc))) from None
    if source is not None and source.guard.replayed(message_id(message)):
        return PushResult("ok", link.up_seq), link
    link.node_id = str(header.get("from_node") or link.node_id)
    link.last_contact_at = utcnow()
    since = int(header.get("since", 0))
    if since > link.up_seq:
        return PushResult("rewind", link.up_seq), link
    try:
        report = apply_batch(
            session,
            entries,
            source="child",
            cipher=_cipher(),
            allowed_prefix=prefix_of(link.division_code),
        )
    except ApplyRefused as exc:
        session.rollback()
        raise _refuse(session, link, header, str(exc), source, Forbidden(str(exc))) from None
    # What we acknowledge is what this batch covered, even below what we held before: a
    # restored child must resend from there (the changes it numbers again are new to us).
    link.up_seq = int(header.get("last_seq", link.up_seq))
    if report.applied:
        audit(
            session,
            _node_actor(link.division_code, link.node_id),
            "sync.receive",
            object_type="sync_link",
            object_id=str(link.id),
            division_code=link.division_code,
            detail={
                "applied": report.applied,
                "stale": report.stale,
                "entities": report.by_entity,
                "online": online,
            },
        )
    if source is not None:
        source.guard.accepted(message_id(message))
    return PushResult("ok", link.up_seq, report.applied, report.stale, report.by_entity), link


def push_response(link: SyncLink, result: PushResult) -> bytes:
    return seal(
        link_key(link),
        _header("ack", to_division=link.division_code),
        {
            "status": result.status,
            "stored_seq": result.stored_seq,
            "applied": result.applied,
            "stale": result.stale,
        },
    )


def accept_ack(session: Session, link: SyncLink, message: bytes) -> dict[str, Any]:
    """Open the parent's answer to a push and move the cursor to what it has stored (back, too,
    when the parent lost data)."""
    try:
        header, body = open_sealed(link_key(link), message)
    except SealError as exc:
        raise Unauthorized(f"上级节点应答校验失败: {exc}") from None
    link.node_id = str(header.get("from_node") or link.node_id)
    link.division_code = str(header.get("from_division") or link.division_code)
    link.last_contact_at, link.last_error = utcnow(), None
    if body.get("status") == "rewind":
        # The parent lost data (restored from a backup): what it sends down may now reuse
        # sequence numbers we have passed, so pull everything again (applying is idempotent).
        link.down_seq = 0
        _resend_from(session, link, int(body["stored_seq"]))
    else:
        link.up_seq = int(body["stored_seq"])
    return body


def _resend_from(session: Session, link: SyncLink, stored: int) -> None:
    """The parent holds our changes only up to ``stored`` (restored from a backup): send again
    from there. Changes the outbox upkeep has deleted since cannot be: say so on the link (the
    node page and `anjian node status` show it) and in the audit log."""
    if stored < link.pruned_seq:
        message = (
            f"上级节点恢复的数据早于本节点变更日志保留期：序号 {stored + 1}–{link.pruned_seq} "
            "中已删除的变更无法重发，请核对上级数据 (the parent was restored from a backup older "
            "than our outbox retention; changes deleted here cannot be resent)"
        )
        link.last_error, link.last_error_at = message, utcnow()
        audit(
            session,
            _node_actor(get_settings().node_division),
            "sync.gap",
            result="failure",
            object_type="sync_link",
            object_id=str(link.id),
            detail={"stored_seq": stored, "pruned_seq": link.pruned_seq},
        )
    link.up_seq = stored


# --- downward: directives pulled by children -----------------------------------------------------


def _relevant(target: str, child_division: str) -> bool:
    """A directive addressed above, at or below the child's division reaches the child."""
    return child_division.startswith(prefix_of(target)) or target.startswith(
        prefix_of(child_division)
    )


def build_pull(link: SyncLink) -> bytes:
    # ``stored``: how far the parent acknowledged our changes; more than it now holds means it
    # was restored from a backup (see serve_pull).
    return seal(
        link_key(link),
        _header("pull", to_division=link.division_code, since=link.down_seq, stored=link.up_seq),
        {},
    )


def serve_pull(session: Session, message: bytes, source: Source | None = None) -> bytes:
    """Directives (and other downward records) for one child after its cursor. A pull
    accepted before (see :func:`receive_push`) is answered without counting as contact."""
    link, header, _body = _child_for(session, message, source)
    try:
        check_fresh(header, utcnow())
    except SealError as exc:
        raise _refuse(session, link, header, str(exc), source, Unauthorized(str(exc))) from None
    if source is None or not source.guard.replayed(message_id(message)):
        link.last_contact_at = utcnow()
    if source is not None:
        source.guard.accepted(message_id(message))
    since = int(header.get("since", 0))
    head = settled_head(session)
    if head is None:  # writers held the outbox too long: nothing this time, the child asks again
        return seal(
            link_key(link),
            _header("down", to_division=link.division_code),
            {"entries": [], "last_seq": since, "head_seq": since, "stored_seq": link.up_seq},
        )
    if since > outbox_counter(session) or int(header.get("stored", 0)) > link.up_seq:
        # Our database was restored from a backup: sequence numbers the child has passed may
        # be reused, so it starts over (applying is idempotent). A cursor above the newest row
        # that is left (the upkeep deleted the newest) is no restore: nothing new, same cursor.
        since = 0
    rows = _changes(session, since, head, DOWN_SOURCES, PULL_BATCH)
    decrypt = _decryptor(_cipher())
    out = []
    for row in rows:
        spec = spec_for(row.entity)
        if spec is None or not spec.downward:
            continue
        target = orjson.loads(row.payload).get(spec.division_attr, "")
        if _relevant(str(target), link.division_code):
            out.append(_transport(row, decrypt))
    last = rows[-1].seq if len(rows) == PULL_BATCH else max(head, since)
    return seal(
        link_key(link),
        _header("down", to_division=link.division_code),
        {"entries": out, "last_seq": last, "head_seq": max(head, since), "stored_seq": link.up_seq},
    )


def apply_pull(session: Session, link: SyncLink, message: bytes) -> tuple[int, bool]:
    """Apply what the parent sent down; returns how many records changed here, and whether
    the parent has more after this batch."""
    try:
        _, body = open_sealed(link_key(link), message)
    except SealError as exc:
        raise Unauthorized(f"上级节点下发数据校验失败: {exc}") from None
    report = apply_batch(
        session, body["entries"], source="parent", cipher=_cipher(), allowed_prefix=None
    )
    link.down_seq = int(body["last_seq"])
    link.last_contact_at, link.last_error = utcnow(), None
    stored = body.get("stored_seq")
    if stored is not None and int(stored) < link.up_seq:
        # The parent holds less of ours than it acknowledged (restored from a backup): resend
        # from there, even if we have nothing new to push.
        _resend_from(session, link, int(stored))
    return report.applied, int(body["last_seq"]) < int(body.get("head_seq", body["last_seq"]))


# --- node status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkStatus:
    role: str
    division_code: str
    division_name: str
    node_id: str | None
    url: str | None
    revoked: bool
    last_contact_at: datetime | None
    last_error: str | None
    up_seq: int
    down_seq: int
    backlog: int | None
    lag_s: float | None


def node_status(session: Session) -> tuple[dict[str, Any], list[LinkStatus]]:
    """This node and its links, with backlog and lag toward the parent."""
    settings = get_settings()
    own = session.get(Division, settings.node_division)
    me = {
        "node_id": settings.effective_node_id,
        "division_code": settings.node_division,
        "division_name": own.name if own else "",
        "tier": tier_of(settings.node_division).value,
        "outbox_head": session.scalar(select(func.max(OutboxEntry.seq))) or 0,
    }
    out: list[LinkStatus] = []
    links = [parent_link(session), *child_links(session)]
    for link in links:
        if link is None:
            continue
        div = session.get(Division, link.division_code)
        count: int | None = None
        lag: float | None = None
        if link.role == "parent":
            count, oldest = backlog(session, link)
            lag = (utcnow() - oldest).total_seconds() if oldest else 0.0
        out.append(
            LinkStatus(
                link.role,
                link.division_code,
                div.name if div else "",
                link.node_id,
                link.url,
                link.revoked,
                link.last_contact_at,
                link.last_error,
                link.up_seq,
                link.down_seq,
                count,
                lag,
            )
        )
    return me, out


def check_parent_division(child: str, parent: str) -> None:
    """A parent must be a division above the child (or the nation)."""
    if parent == child or not child.startswith(prefix_of(parent)):
        raise Conflict(
            f"{parent} 不是 {child} 的上级行政区划 (parent must be above the node)", field="parent"
        )
