"""Use cases of operations (运维): a backup made and recorded (with its audit record), and the
scheduled backups kept to their number."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import Settings
from anjian.core.audit.service import Actor, audit
from anjian.core.errors import AnjianError
from anjian.db import unit_of_work, utcnow
from anjian.ops.backup import Made, make_backup, read_key
from anjian.ops.models import BackupRun

log = logging.getLogger("anjian.ops")
SCHEDULED_PREFIX = "anjian-"
SCHEDULED_SUFFIX = ".bak"


def backup_node(settings: Settings, actor: Actor, to: Path, key: bytes, kind: str) -> Made:
    """Back the node up to ``to``; the run is recorded and audited, a failed one too (and its
    error raised again)."""
    started = utcnow()
    try:
        made = make_backup(settings, to, key, kind=kind)
    except Exception as exc:
        with unit_of_work() as db:
            _record(db, actor, kind, started, to, None, str(exc))
        raise
    with unit_of_work() as db:
        _record(db, actor, kind, started, to, made, "")
    return made


def _record(
    session: Session,
    actor: Actor,
    kind: str,
    started: datetime,
    to: Path,
    made: Made | None,
    error: str,
) -> None:
    run = BackupRun(
        kind=kind,
        started_at=started,
        finished_at=utcnow(),
        ok=made is not None,
        file=str(to),
        size=made.size if made else 0,
        sm3=made.sm3 if made else "",
        error=error[:2000],
    )
    session.add(run)
    session.flush()
    audit(
        session,
        actor,
        "backup.create",
        object_type="backup",
        object_id=str(run.id),
        result="success" if made else "failure",
        detail={"file": str(to), "kind": kind, "size": run.size, "sm3": run.sm3}
        | ({"error": run.error[:300]} if error else {}),
    )


def last_backup(session: Session) -> BackupRun | None:
    """The node's last good backup."""
    return session.scalars(
        select(BackupRun).where(BackupRun.ok.is_(True)).order_by(BackupRun.id.desc()).limit(1)
    ).first()


def scheduled_backup(settings: Settings, actor: Actor) -> Made | None:
    """The scheduled backup, when one is configured (``ANJIAN_BACKUP_DIR`` and
    ``ANJIAN_BACKUP_KEY_FILE``): a new file named by the time, then the oldest beyond
    ``ANJIAN_BACKUP_KEEP`` removed (only after the new one is whole)."""
    if not settings.backup_dir:
        return None
    if not settings.backup_key_file:
        raise AnjianError(
            "ANJIAN_BACKUP_DIR 已设置而 ANJIAN_BACKUP_KEY_FILE 未设置", field="backup"
        )
    folder = Path(settings.backup_dir)
    key = read_key(Path(settings.backup_key_file))
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{SCHEDULED_PREFIX}{settings.effective_node_id}-{stamp}{SCHEDULED_SUFFIX}"
    made = backup_node(settings, actor, folder / name, key, "scheduled")
    kept = sorted(
        (
            p
            for p in folder.glob(
                f"{SCHEDULED_PREFIX}{settings.effective_node_id}-*{SCHEDULED_SUFFIX}"
            )
            if p.is_file()
        ),
        key=lambda p: p.name,
    )
    for old in kept[: -settings.backup_keep]:
        old.unlink(missing_ok=True)
        log.info("removed old backup %s", old)
    return made
