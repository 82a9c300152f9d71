"""Operations' scheduled work inside ``anjian serve``: this node's health reported every minute
(it travels up the tiers), and the scheduled backups (``ANJIAN_BACKUP_DIR``), looked at every
ten minutes and made when :func:`anjian.ops.rules.backup_due` says so."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from anjian.config import get_settings
from anjian.core.audit.service import SYSTEM
from anjian.core.periodic import Job, Periodic
from anjian.db import unit_of_work, utcnow
from anjian.ops.desk.service import escalate_overdue, incidents_from_health
from anjian.ops.health import REPORT_EVERY_S, report
from anjian.ops.models import BackupRun
from anjian.ops.rules import backup_due
from anjian.ops.service import scheduled_backup

log = logging.getLogger("anjian.ops")
LOOK_EVERY_S = 600.0


def _backup_if_due() -> None:
    settings = get_settings()
    if not settings.backup_dir:
        return
    with unit_of_work(read_only=True) as db:
        last_ok = db.scalar(
            select(func.max(BackupRun.finished_at)).where(
                BackupRun.kind == "scheduled", BackupRun.ok.is_(True)
            )
        )
        last_try = db.scalar(
            select(func.max(BackupRun.started_at)).where(BackupRun.kind == "scheduled")
        )
    if not backup_due(utcnow(), last_ok, last_try, settings.backup_every_hours):
        return
    made = scheduled_backup(settings, SYSTEM)
    if made is not None:
        log.info("scheduled backup written: %s (%d bytes, SM3 %s)", made.path, made.size, made.sm3)


def _report_health() -> None:
    with unit_of_work() as db:
        report(db)


def _desk_clocks() -> None:
    with unit_of_work() as db:
        escalated = escalate_overdue(db)
        opened = incidents_from_health(db)
    if escalated or opened:
        log.info("service desk: %d escalated, %d incidents opened", len(escalated), len(opened))


def ops_watch() -> Periodic:
    """The thread that reports this node's health, keeps the service desk's clocks (and opens
    incidents from the subtree's health) and makes the scheduled backups."""
    return Periodic(
        "anjian-ops",
        [
            Job("node health report", _report_health, REPORT_EVERY_S),
            Job("service desk clocks", _desk_clocks, REPORT_EVERY_S),
            Job("scheduled backup", _backup_if_due, LOOK_EVERY_S),
        ],
    )
