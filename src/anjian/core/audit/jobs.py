"""Sealing the audit chain's head: on demand (``anjian audit checkpoint``) and every few minutes
inside ``anjian serve``."""

from __future__ import annotations

import logging
import threading

from anjian.core.audit.seals import Seal, append_to_file, make_seal
from anjian.core.audit.service import Actor, audit
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


class SealWatch(threading.Thread):
    """Runs :func:`checkpoint` at start and then every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="anjian-audit-seal", daemon=True)
        self.interval = interval
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                seal = checkpoint(if_moved=True)
                if seal is not None:
                    log.info("audit chain sealed at record %d", seal.seq)
            except Exception:
                log.exception("sealing the audit chain failed")
            self._stopping.wait(self.interval)
