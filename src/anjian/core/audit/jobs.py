"""Sealing the audit chain's head: on demand (``anjian audit checkpoint``) and every few minutes
inside ``anjian serve``."""

from __future__ import annotations

import logging

from anjian.core.audit.seals import Seal, append_to_file, make_seal
from anjian.core.audit.service import Actor, audit
from anjian.core.periodic import Job, Periodic
from anjian.db import unit_of_work

log = logging.getLogger("anjian.audit")


def checkpoint(actor: Actor | None = None, *, if_moved: bool = False) -> Seal | None:
    """Seal the head in one transaction, then append the seal to the file. An operator's
    checkpoint is audited first, so that its seal covers its own record; the scheduled one
    (``actor`` None, ``if_moved``) seals only a head that moved since the last seal."""
    with unit_of_work() as db:
        if actor is not None:
            audit(db, actor, "audit.checkpoint", object_type="audit_seal")
        seal = make_seal(db, if_moved=if_moved)
    if seal is not None:
        append_to_file(seal)
    return seal


def _seal_if_moved() -> None:
    seal = checkpoint(if_moved=True)
    if seal is not None:
        log.info("audit chain sealed at record %d", seal.seq)


def seal_watch(interval: float) -> Periodic:
    """The thread that seals the head at start and then every ``interval`` seconds, when it
    moved."""
    return Periodic("anjian-audit-seal", [Job("sealing the audit chain", _seal_if_moved, interval)])
