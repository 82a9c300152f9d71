"""Changes going up: what a node sends its parent (push, sealed), what a parent makes of a
child's push (apply, acknowledge, ask for a resend)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Row, Text, select, type_coerce
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import audit, audit_record
from anjian.core.crypto import FieldCipher
from anjian.core.divisions.rules import prefix_of
from anjian.core.errors import AnjianError, Forbidden, Unauthorized
from anjian.core.sync.apply import ApplyRefused, apply_batch
from anjian.core.sync.guard import UNKNOWN, Source, clip
from anjian.core.sync.links import (
    PUSH_BATCH,
    UP_SOURCES,
    link_cipher,
    link_key,
    node_actor,
)
from anjian.core.sync.models import OutboxEntry, SyncLink
from anjian.core.sync.outbox import settled_head
from anjian.core.sync.protocol import (
    SealError,
    check_fresh,
    check_header,
    message_id,
    open_sealed,
    peek_header,
    seal,
)
from anjian.core.sync.registry import spec_for
from anjian.db import utcnow

# --- outgoing ----------------------------------------------------------------------------------


Decrypt = Callable[[str | None], str | None]


def decryptor(cipher: FieldCipher) -> Decrypt:
    """Decrypt fields for one batch; a ciphertext repeated in it (a record's unchanged phone
    across its versions) is decrypted once."""
    return lru_cache(maxsize=4096)(cipher.decrypt)


def transport_form(change: Row[Any], decrypt: Decrypt) -> dict[str, Any]:
    """A change read by :func:`changes_for` as it travels: its stored JSON text is passed on as
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


def changes_for(
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
    return changes_for(session, after, head, UP_SOURCES, limit)


def message_header(kind: str, **extra: Any) -> dict[str, Any]:
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
    decrypt = decryptor(link_cipher())
    last = entries[-1].seq if entries else link.up_seq
    message = seal(
        link_key(link),
        message_header(
            kind,
            to_division=link.division_code,
            since=link.up_seq,
            last_seq=last,
            count=len(entries),
        ),
        [transport_form(e, decrypt) for e in entries],
    )
    return message, len(entries)


# --- incoming from a child ---------------------------------------------------------------------


def child_for(
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
        raise refuse(session, None, {}, str(exc), source, Unauthorized(str(exc))) from None
    division = claimed["from_division"]
    stmt = select(SyncLink).where(SyncLink.role == "child", SyncLink.division_code == division)
    link = session.scalar(stmt.with_for_update() if lock else stmt)
    if link is None or link.revoked:
        raise refuse(
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
        raise refuse(session, link, claimed, str(exc), source, Unauthorized(str(exc))) from None
    return link, header, body


def refuse(
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
    actor = node_actor(division or "", clip(header.get("from_node")) if link else UNKNOWN)
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
    link, header, entries = child_for(session, message, source, lock=True)
    if online:
        try:
            check_fresh(header, utcnow())
        except SealError as exc:
            raise refuse(session, link, header, str(exc), source, Unauthorized(str(exc))) from None
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
            cipher=link_cipher(),
            allowed_prefix=prefix_of(link.division_code),
        )
    except ApplyRefused as exc:
        session.rollback()
        raise refuse(session, link, header, str(exc), source, Forbidden(str(exc))) from None
    # What we acknowledge is what this batch covered, even below what we held before: a
    # restored child must resend from there (the changes it numbers again are new to us).
    link.up_seq = int(header.get("last_seq", link.up_seq))
    if report.applied:
        audit_record(
            session,
            node_actor(link.division_code, link.node_id),
            "sync.receive",
            "sync_link",
            link,
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
        message_header("ack", to_division=link.division_code),
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
        resend_from(session, link, int(body["stored_seq"]))
    else:
        link.up_seq = int(body["stored_seq"])
    return body


def resend_from(session: Session, link: SyncLink, stored: int) -> None:
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
            node_actor(get_settings().node_division),
            "sync.gap",
            result="failure",
            object_type="sync_link",
            object_id=str(link.id),
            detail={"stored_seq": stored, "pruned_seq": link.pruned_seq},
        )
    link.up_seq = stored
