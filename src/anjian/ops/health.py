"""Node health (节点健康): each node measures itself every minute and reports it as a synced
record that travels up the tiers (:class:`anjian.ops.models.NodeHealth`), so a parent sees its
whole subtree; :func:`subtree` judges each report (:func:`anjian.ops.rules.health_problems`,
and :func:`anjian.ops.rules.replication_problems` for a node on 一主两备)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from anjian import __version__
from anjian.config import get_settings
from anjian.core.metrics import REGISTRY
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import record_change
from anjian.core.sync.status import node_status
from anjian.db import database_hosts, utcnow
from anjian.ops.models import HEALTH_ENTITY, BackupRun, NodeHealth
from anjian.ops.rules import health_problems, replication_problems

REPORT_EVERY_S = 60.0
ONLINE_MS = 300_000  # a point whose last reading is this recent counts as reporting


def database_bytes(session: Session) -> int:
    """Size of the node's database (PostgreSQL's own figure; the SQLite file and its WAL)."""
    url = make_url(get_settings().effective_database_url)
    if url.get_backend_name() == "postgresql":
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    path = Path(url.database or "")
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.is_file())


def replication(session: Session) -> dict[str, Any]:
    """The node's 一主两备 as its primary sees it: how many standbys the node is configured with
    (its database hosts, less the primary) and those streaming from the primary now, with
    their synchronous state and replay lag. Reading other sessions' replication state takes
    superuser or ``pg_monitor`` (otherwise ``state`` reads as unknown)."""
    url = make_url(get_settings().effective_database_url)
    if url.get_backend_name() != "postgresql":
        return {}
    rows = session.execute(
        text(
            "SELECT application_name, state, sync_state,"
            " extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication"
            " ORDER BY application_name"
        )
    )
    standbys = [
        {"name": name, "state": state or "unknown", "sync": sync or "unknown", "lag_s": lag}
        for name, state, sync, lag in rows
    ]
    return {"standbys_expected": max(len(database_hosts(url)) - 1, 0), "standbys": standbys}


def disk_free_bytes() -> int:
    """Free space where the data directory lies."""
    folder = get_settings().data_dir
    return shutil.disk_usage(folder if folder.exists() else Path(".")).free


def last_good_backup(session: Session) -> datetime | None:
    return session.scalar(select(func.max(BackupRun.finished_at)).where(BackupRun.ok.is_(True)))


@unscoped("the node measures itself: every point and refusal of the node")
def measure(session: Session) -> dict[str, Any]:
    """This node's figures now."""
    _me, links = node_status(session)
    parent = next((link for link in links if link.role == "parent"), None)
    now_ms = int(utcnow().timestamp() * 1000)
    reporting = session.scalar(
        text("SELECT count(*) FROM monitoring_point_live WHERE last_ts >= :since"),
        {"since": now_ms - ONLINE_MS},
    )
    refusals = session.scalar(text("SELECT coalesce(sum(count), 0) FROM ingest_rejections"))
    return {
        "backlog": parent.backlog if parent else None,
        "lag_s": parent.lag_s if parent else None,
        "last_backup_at": last_good_backup(session),
        "figures": {
            "version": __version__,
            "children": sum(1 for link in links if link.role == "child"),
            "points_reporting": int(reporting or 0),
            "ingest_refusals": int(refusals or 0),
            "live_streams": int(REGISTRY.get_sample_value("anjian_live_streams") or 0),
            "database_bytes": database_bytes(session),
            "disk_free_bytes": disk_free_bytes(),
            **replication(session),
        },
    }


@unscoped("the node's own health record")
def report(session: Session) -> NodeHealth:
    """Measure this node and record it as its health report (a new version, queued to travel
    up)."""
    settings = get_settings()
    node = settings.effective_node_id
    row = session.scalars(
        select(NodeHealth).where(NodeHealth.origin_node == node, NodeHealth.deleted.is_(False))
    ).first()
    if row is None:
        row = NodeHealth(origin_node=node, figures={})
    figures = measure(session)
    row.division_code, row.node_id = settings.node_division, node
    row.reported_at, row.every_s = utcnow(), REPORT_EVERY_S
    row.backlog, row.lag_s = figures["backlog"], figures["lag_s"]
    row.last_backup_at, row.figures = figures["last_backup_at"], figures["figures"]
    record_change(session, row, entity=HEALTH_ENTITY)
    return row


@dataclass(frozen=True)
class Judged:
    """A node's last report with what is wrong with it."""

    health: NodeHealth
    problems: list[tuple[str, str]]

    @property
    def severity(self) -> str:
        """``red``, ``orange`` or ``green``: the worst of its problems."""
        found = {s for s, _ in self.problems}
        return "red" if "red" in found else "orange" if "orange" in found else "green"


def subtree(session: Session, scope: Scope) -> list[Judged]:
    """The health reports of this node and every node below it that the user's scope covers,
    the worst first, then by division."""
    now = utcnow()
    rows = session.scalars(scope.select(NodeHealth).order_by(NodeHealth.division_code))
    judged = [
        Judged(
            r,
            health_problems(now, r.reported_at, r.every_s, r.lag_s, r.last_backup_at)
            + replication_problems(r.figures if isinstance(r.figures, dict) else {}),
        )
        for r in rows
    ]
    order = {"red": 0, "orange": 1, "green": 2}
    return sorted(judged, key=lambda j: (order[j.severity], j.health.division_code))
