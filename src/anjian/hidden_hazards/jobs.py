"""Background work of hidden-hazard governance: overdue hazards flagged and self-inspection
tasks scheduled without anyone asking."""

from __future__ import annotations

import logging
from datetime import date

from anjian.core.audit.service import SYSTEM
from anjian.core.clock import today_in_china
from anjian.core.periodic import Job, Periodic
from anjian.db import unit_of_work
from anjian.hidden_hazards.checklists.tasks import ensure_tasks
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


def _flag_overdue() -> None:
    flagged = check_overdue()
    if flagged:
        log.info("flagged %d overdue hidden hazards", flagged)


def _schedule_inspections() -> None:
    created = schedule_inspections()
    if created:
        log.info("created %d self-inspection tasks", created)


def overdue_watch(interval: float = 600.0) -> Periodic:
    """The thread that runs :func:`check_overdue` and :func:`schedule_inspections` at start and
    then every ``interval`` seconds."""
    return Periodic(
        "anjian-overdue",
        [
            Job("overdue check", _flag_overdue, interval),
            Job("self-inspection scheduling", _schedule_inspections, interval),
        ],
    )
