"""Background work of hidden-hazard governance: overdue hazards flagged and self-inspection
tasks scheduled without anyone asking."""

from __future__ import annotations

import logging
import threading
from datetime import date

from anjian.core.audit.service import SYSTEM
from anjian.core.clock import today_in_china
from anjian.db import unit_of_work
from anjian.hidden_hazards.checklists import ensure_tasks
from anjian.hidden_hazards.service import flag_overdue

log = logging.getLogger("anjian.hidden_hazards")


def check_overdue(today: date | None = None) -> int:
    """Flag this node's overdue hazards (逾期) in one transaction; how many were flagged."""
    with unit_of_work() as db:
        return flag_overdue(db, SYSTEM, today or today_in_china())


def schedule_inspections(today: date | None = None) -> int:
    """Create this node's missing self-inspection tasks of the current period (排查任务) in one
    transaction; how many were created."""
    with unit_of_work() as db:
        return ensure_tasks(db, today or today_in_china())


class OverdueWatch(threading.Thread):
    """Runs :func:`check_overdue` and :func:`schedule_inspections` at start and then every
    ``interval`` seconds."""

    def __init__(self, interval: float = 600.0) -> None:
        super().__init__(name="anjian-overdue", daemon=True)
        self.interval = interval
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                flagged = check_overdue()
                if flagged:
                    log.info("flagged %d overdue hidden hazards", flagged)
            except Exception:
                log.exception("overdue check failed")
            try:
                created = schedule_inspections()
                if created:
                    log.info("created %d self-inspection tasks", created)
            except Exception:
                log.exception("self-inspection scheduling failed")
            self._stopping.wait(self.interval)
