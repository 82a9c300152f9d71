"""Background work of hidden-hazard governance: overdue hazards flagged without anyone asking."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

from anjian.core.audit.service import SYSTEM
from anjian.db import unit_of_work
from anjian.hidden_hazards.service import flag_overdue

log = logging.getLogger("anjian.hidden_hazards")
_CST = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """Deadlines are calendar dates in Beijing time."""
    return datetime.now(_CST).date()


def check_overdue(today: date | None = None) -> int:
    """Flag this node's overdue hazards (逾期) in one transaction; how many were flagged."""
    with unit_of_work() as db:
        return flag_overdue(db, SYSTEM, today or today_in_china())


class OverdueWatch(threading.Thread):
    """Runs :func:`check_overdue` at start and then every ``interval`` seconds."""

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
            self._stopping.wait(self.interval)
