"""Seals of the audit chain's head (封印): what anchors the chain against truncation.

The chain's links show a record changed, removed inside the chain or reordered, but not the
newest records removed together with the head moved back, nor the table emptied: the rest still
links. A seal — HMAC-SM3 under the audit key of (node, head seq, head hash, time) — is kept
where the database's user cannot reach it: appended to ``<data dir>/audit/seals.log`` and
synced to the parent node as an ``audit_seal`` record. ``anjian audit verify`` checks the chain
against them: the chain must reach the highest sealed record and agree with every seal."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings, private_dir
from anjian.core.audit.models import AuditHead, AuditSeal
from anjian.core.audit.rules import GENESIS, seal_mac, seal_regressions
from anjian.core.sync.outbox import record_change
from anjian.db import utcnow


@dataclass(frozen=True)
class Seal:
    """One seal of the head: this node's records 1…``seq`` ended in ``hash`` at ``sealed_at``."""

    node: str
    seq: int
    hash: str
    sealed_at: datetime
    mac: str

    def line(self) -> str:
        """The seal as one line of the seal file."""
        return json.dumps(
            {
                "node": self.node,
                "seq": self.seq,
                "hash": self.hash,
                "sealed_at": self.sealed_at.isoformat(),
                "mac": self.mac,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def _key() -> bytes:
    return get_settings().key_file("audit")


def seal_file() -> Path:
    """Where this node appends its seals."""
    return get_settings().data_dir / "audit" / "seals.log"


def make_seal(
    session: Session, at: datetime | None = None, *, if_moved: bool = False
) -> Seal | None:
    """Seal the chain's head as it stands in this transaction and record the seal as a synced
    ``audit_seal`` (it travels to the parent). With ``if_moved``, None when the head has not
    moved past this node's last seal (a quiet node is not sealed again and again). Append the
    seal to the file with :func:`append_to_file` once the transaction has committed: a seal of
    records that were rolled back would read as a cut chain."""
    settings = get_settings()
    node = settings.effective_node_id
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if if_moved:
        last = session.scalar(select(func.max(AuditSeal.seq)).where(AuditSeal.origin_node == node))
        if last is not None and last >= seq:
            return None
    at = at or utcnow()
    seal = Seal(node, seq, head_hash, at, seal_mac(_key(), node, seq, head_hash, at))
    row = AuditSeal(
        division_code=settings.node_division,
        seq=seal.seq,
        hash=seal.hash,
        sealed_at=seal.sealed_at,
        mac=seal.mac,
    )
    record_change(session, row, entity="audit_seal")
    return seal


def append_to_file(seal: Seal, path: Path | None = None) -> None:
    """Append one seal to the seal file (directory 0700, file 0600), flushed to disk."""
    path = path or seal_file()
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (seal.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: Path | None = None) -> tuple[list[Seal], list[str]]:
    """The seals of the file whose MAC holds, and a problem for each line that does not (or is
    not a seal at all). No file: no seals."""
    path = path or seal_file()
    if not path.exists():
        return [], []
    key = _key()
    seals: list[Seal] = []
    problems: list[str] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
            seal = Seal(
                str(raw["node"]),
                int(raw["seq"]),
                str(raw["hash"]),
                datetime.fromisoformat(raw["sealed_at"]),
                str(raw["mac"]),
            )
        except (ValueError, KeyError, TypeError):
            problems.append(
                f"封印文件第 {number} 行无法读取 (seal file line {number} is not a seal)"
            )
            continue
        if seal_mac(key, seal.node, seal.seq, seal.hash, seal.sealed_at) != seal.mac:
            problems.append(
                f"封印文件第 {number} 行校验码不符 (seal file line {number}: MAC does not match, "
                "the seal was forged or altered)"
            )
            continue
        seals.append(seal)
    return seals, problems


def own_seals(session: Session) -> tuple[list[Seal], list[str]]:
    """This node's seals as recorded in the database whose MAC holds, and a problem for each
    that does not (a row forged without the key)."""
    key = _key()
    node = get_settings().effective_node_id
    seals: list[Seal] = []
    problems: list[str] = []
    rows = session.scalars(
        select(AuditSeal).where(AuditSeal.origin_node == node).order_by(AuditSeal.id)
    )
    for row in rows:
        seal = Seal(node, row.seq, row.hash, row.sealed_at, row.mac)
        if seal_mac(key, node, seal.seq, seal.hash, seal.sealed_at) != seal.mac:
            problems.append(
                f"数据库中的封印 {row.uid} 校验码不符 (seal {row.uid} in the database: MAC "
                "does not match)"
            )
            continue
        seals.append(seal)
    return seals, problems


def received_seal_problems(session: Session) -> list[str]:
    """Problems in the seals other nodes sent here (see :func:`seal_regressions`)."""
    node = get_settings().effective_node_id
    rows = session.execute(
        select(AuditSeal.origin_node, AuditSeal.seq, AuditSeal.hash, AuditSeal.sealed_at)
        .where(AuditSeal.origin_node != node)
        .order_by(AuditSeal.id)  # the order received: a child's clock cannot reorder them
    )
    return seal_regressions([tuple(r) for r in rows])


def highest(seals: Iterable[Seal]) -> Seal | None:
    """The seal of the highest record (the latest of those), or None."""
    return max(seals, key=lambda s: (s.seq, s.sealed_at), default=None)
