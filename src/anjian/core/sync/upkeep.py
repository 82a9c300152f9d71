"""Outbox upkeep: the backlog of a link and pruning what every link has acknowledged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, true
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.divisions.rules import tier_of
from anjian.core.sync.links import UP_SOURCES, parent_link
from anjian.core.sync.models import OutboxEntry, SyncLink
from anjian.core.sync.registry import all_specs
from anjian.db import unit_of_work, utcnow


def backlog(session: Session, link: SyncLink) -> tuple[int, datetime | None]:
    """How many changes wait for the parent, and since when the oldest waits."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxEntry.created_at)).where(
            OutboxEntry.seq > link.up_seq, OutboxEntry.source.in_(UP_SOURCES)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest


_PRUNE_CHUNK = 5000  # outbox rows deleted per transaction


def prunable(session: Session, now: datetime) -> tuple[ColumnElement[bool], ...] | None:
    """Which outbox rows may go (older than ``ANJIAN_OUTBOX_RETENTION_DAYS``), or None. Only
    changes that travel up and that the parent has stored (at the national node, which has no
    parent, every one): a node with no parent yet keeps its history for the day it is linked,
    and what travels down (directives and ``also_down`` records made here, or passed on from
    above) stays for children that have not pulled it."""
    days = get_settings().outbox_retention_days
    if not days:
        return None
    link = parent_link(session)
    if link is not None:
        acked = OutboxEntry.seq <= link.up_seq
    elif tier_of(get_settings().node_division).value == "national":
        acked = true()
    else:
        return None
    cutoff = now - timedelta(days=days)
    # Rows are written in time order, so the first recent one bounds the search: the hourly
    # upkeep reads the old end of the outbox through its key, not the whole table.
    first_recent = session.scalar(
        select(OutboxEntry.seq)
        .where(OutboxEntry.created_at >= cutoff)
        .order_by(OutboxEntry.seq)
        .limit(1)
    )
    downward = [s.entity for s in all_specs() if s.downward]
    # Records made here that also go down (an inspection of a county's enterprise made at the
    # province) stay like directives: we do not know which children have pulled them (a child's
    # pull cursor is not kept here). What came from a child never goes down, so it may go.
    also_down = [s.entity for s in all_specs() if s.also_down]
    return (
        acked,
        OutboxEntry.seq < first_recent if first_recent is not None else true(),
        OutboxEntry.created_at < cutoff,
        OutboxEntry.source.in_(UP_SOURCES),
        OutboxEntry.entity.not_in(downward),
        or_(OutboxEntry.entity.not_in(also_down), OutboxEntry.source != "local"),
    )


def prune_outbox(now: datetime | None = None) -> int:
    """Delete the outbox rows :func:`prunable` allows, a few thousand per transaction; how
    many went. A parent restored from a backup older than the retention cannot be refilled
    with what was deleted: keep its backups newer than that."""
    with unit_of_work(read_only=True) as db:
        where = prunable(db, now or utcnow())
    if where is None:
        return 0
    removed = 0
    while True:
        with unit_of_work() as db:
            seqs = db.scalars(
                select(OutboxEntry.seq).where(*where).order_by(OutboxEntry.seq).limit(_PRUNE_CHUNK)
            ).all()
            if not seqs:
                return removed
            db.execute(delete(OutboxEntry).where(OutboxEntry.seq.in_(seqs)))
            link = parent_link(db)
            if link is not None:
                link.pruned_seq = max(link.pruned_seq, seqs[-1])
        removed += len(seqs)
