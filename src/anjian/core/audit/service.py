"""Writing, reading and verifying audit records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.models import AuditHead, AuditRecord
from anjian.core.audit.rules import GENESIS, link_hash
from anjian.core.audit.seals import Seal, highest
from anjian.core.paging import Total, paged
from anjian.core.scope import Scope, unscoped
from anjian.db import after_read, utcnow


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (or the system), from where, in which division."""

    user_id: int | None
    username: str
    ip: str | None = None
    division_code: str | None = None


SYSTEM = Actor(user_id=None, username="system")


def _key() -> bytes:
    return get_settings().key_file("audit")


def _fields(rec: AuditRecord) -> dict[str, Any]:
    ts = rec.ts if rec.ts.tzinfo else rec.ts.replace(tzinfo=UTC)
    return {
        "seq": rec.seq,
        "ts": ts.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": rec.actor_id,
        "actor_name": rec.actor_name,
        "ip": rec.ip,
        "action": rec.action,
        "object_type": rec.object_type,
        "object_id": rec.object_id,
        "division_code": rec.division_code,
        "result": rec.result,
        "detail": rec.detail,
    }


def audit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    division_code: str | None = None,
    result: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one record to the chain inside the caller's transaction (in a read-only unit of
    work: in the short writing unit that follows the read)."""
    if after_read(
        session,
        lambda writer: audit(
            writer,
            actor,
            action,
            object_type=object_type,
            object_id=object_id,
            division_code=division_code,
            result=result,
            detail=detail,
        ),
    ):
        return
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    rec = AuditRecord(
        seq=head.seq + 1,
        ts=utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.username,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=object_id,
        division_code=division_code or actor.division_code,
        result=result,
        detail=detail or {},
        prev_hash=head.hash,
        hash="",
    )
    rec.hash = link_hash(_key(), rec.prev_hash, _fields(rec))
    head.seq, head.hash = rec.seq, rec.hash
    session.add(rec)
    session.flush()


class Shown(Protocol):
    """A record shown to a user or acted on: its id and the division it lies in."""

    id: int
    division_code: str


def audit_record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    record: Shown,
    *,
    result: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit ``action`` on one record: the record names the object (its id, of ``object_type``)
    and the division it lies in."""
    audit(
        session,
        actor,
        action,
        object_type=object_type,
        object_id=str(record.id),
        division_code=record.division_code,
        result=result,
        detail=detail,
    )


def audit_read(session: Session, actor: Actor, object_type: str, shown: Sequence[Shown]) -> None:
    """Audit a read that shows personal data (people's names with their phones, even masked):
    one ``<object_type>.read`` record per request naming the record shown, or every record of
    a page shown (``detail.ids``); nothing when nothing was shown."""
    if not shown:
        return
    one = shown[0] if len(shown) == 1 else None
    audit(
        session,
        actor,
        f"{object_type}.read",
        object_type=object_type,
        object_id=str(one.id) if one is not None else None,
        division_code=one.division_code if one is not None else None,
        detail={} if one is not None else {"ids": [r.id for r in shown]},
    )


def audit_reveal(
    session: Session, actor: Actor, object_type: str, shown: Shown, fields: Sequence[str]
) -> None:
    """Audit showing personal data in full (a phone number unmasked): one
    ``<object_type>.reveal`` record naming the record and the fields shown, never the values."""
    audit_record(
        session, actor, f"{object_type}.reveal", object_type, shown, detail={"fields": list(fields)}
    )


@dataclass(frozen=True)
class ChainReport:
    """Outcome of verifying the chain."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session, batch: int = 5000, seals: Iterable[Seal] = ()) -> ChainReport:
    """Recompute every link; report the first record that was changed, removed or reordered.
    Against ``seals`` (whose MACs were checked): the chain must agree with every seal and reach
    the highest sealed record, or it was cut (the newest records removed, the table emptied)."""
    key = _key()
    sealed = {s.seq: s for s in seals}
    top = highest(sealed.values())
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for rec in _iter_records(session, batch):
        if rec.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                expected_seq,
                f"record {expected_seq} is missing (next found: {rec.seq})",
            )
        if rec.prev_hash != expected_prev:
            return ChainReport(False, checked, rec.seq, "link to the previous record is broken")
        if link_hash(key, rec.prev_hash, _fields(rec)) != rec.hash:
            return ChainReport(False, checked, rec.seq, "record content does not match its hash")
        seal = sealed.get(rec.seq)
        if seal is not None and seal.hash != rec.hash:
            return ChainReport(
                False,
                checked,
                rec.seq,
                f"record {rec.seq} differs from its seal of {seal.sealed_at:%Y-%m-%d %H:%M} UTC "
                "(the chain was rewritten)",
            )
        expected_prev, expected_seq, checked = rec.hash, rec.seq + 1, checked + 1
    last = expected_seq - 1
    if top is not None and top.seq > last:
        return ChainReport(
            False,
            checked,
            last + 1,
            f"第 {last + 1}–{top.seq} 条记录缺失: 审计链在第 {last} 条后被截断; "
            f"{top.sealed_at:%Y-%m-%d %H:%M} UTC 封印至第 {top.seq} 条 "
            f"(records {last + 1}–{top.seq} are missing: the chain was cut after {last}; "
            f"sealed at {top.seq} on {top.sealed_at:%Y-%m-%d %H:%M} UTC)",
        )
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last or head.hash != expected_prev):
        return ChainReport(
            False,
            checked,
            expected_seq,
            f"records after {last} were removed (head is at {head.seq})",
        )
    return ChainReport(True, checked)


@unscoped("verifying the chain reads every record of the node")
def _iter_records(session: Session, batch: int) -> Iterator[AuditRecord]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.seq > last)
                .order_by(AuditRecord.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for rec in rows:
            session.expunge(rec)


def list_audit(
    session: Session,
    scope: Scope,
    *,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditRecord], Total]:
    """Audit records in scope, newest first, with the total count (exact up to the count limit)."""
    stmt = scope.select(AuditRecord)
    if action:
        stmt = stmt.where(AuditRecord.action.startswith(action))
    if actor:
        stmt = stmt.where(AuditRecord.actor_name == actor)
    return paged(session, stmt, (AuditRecord.seq.desc(),), limit=limit, offset=offset)
