"""What the alarm evaluator works from (报警判定的输入): the points of the enterprises whose
batches arrive and their live state (the monitoring_point_live rows), read from the database and
written back, and held in memory by an ingest worker between transactions.

Reading every point and live row and writing every live row back in each transaction was most of
the ingest's database work. A worker therefore keeps them (a :class:`PointCache` that lives as
long as the worker), which is right only while nobody else writes them. So, per enterprise, a row
of ``monitoring_ingest_epochs``:

- a worker claims an enterprise when it loads its points (raises the epoch, names itself the
  owner) and locks the enterprise's row in each transaction that ingests for it (``SELECT … FOR
  UPDATE``, in enterprise order); if the epoch is not the one it claimed, it loads the enterprise
  again;
- every other write to a point (the API, sync, the silence watch: a ``before_flush`` hook in
  :mod:`anjian.monitoring.models`) and every ingest outside a worker (HTTP; a cache used for one
  transaction) raises the epoch first, which waits for the worker's transaction to end.

Two workers that receive the same enterprise (a pinning set up twice, the web server's worker
beside ``anjian ingest``) stay correct: each finds the other's claim and loads again, only more
slowly. A live row's alarm state is written in the transaction that changed it; its last reading
at checkpoints (every :data:`CHECKPOINT_S`, and when the worker idles or stops), so a point's last
value on the pages lags by about that much."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from sqlalchemy import Integer, any_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from anjian.core.scope import unscoped
from anjian.monitoring.evaluate import LIVE_COLUMNS, POINT_COLUMNS, LiveRow, PointRow
from anjian.monitoring.models import HELD_ENTERPRISES, IngestEpoch, MonitoringPoint, PointLive

log = logging.getLogger("anjian.monitoring.live")
CHECKPOINT_S = 1.0  # a worker writes its points' last readings back at least this often

_ENSURE_EPOCHS = text(
    "INSERT INTO monitoring_ingest_epochs (enterprise_id, epoch) VALUES (:e, 0) "
    "ON CONFLICT (enterprise_id) DO NOTHING"
)


def _ids(session: Session, column: object, ids: list[int]) -> object:
    """``column IN ids`` as one array parameter on PostgreSQL: an IN list of thousands costs
    ten times as much to plan and bind (16 ms instead of 170 for 10,000 points)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))  # type: ignore[operator]
    return column.in_(ids)  # type: ignore[attr-defined]


@unscoped("the ingest: the points of the enterprises whose gateways sent a batch")
def load_points(session: Session, enterprise_ids: list[int]) -> list[PointRow]:
    """The live (not deleted) points of ``enterprise_ids``."""
    rows = session.execute(
        select(*POINT_COLUMNS).where(
            _ids(session, MonitoringPoint.enterprise_id, enterprise_ids),  # type: ignore[arg-type]
            MonitoringPoint.deleted.is_(False),
        )
    )
    return [PointRow(*r) for r in rows]


def load_lives(session: Session, point_ids: list[int]) -> dict[int, LiveRow]:
    """The live state of ``point_ids``; missing rows are made first (the enterprise's epoch row,
    locked by the caller, keeps two transactions from making one twice)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "INSERT INTO monitoring_point_live (point_id) "
                "SELECT unnest(CAST(:ids AS integer[])) ON CONFLICT DO NOTHING"
            ),
            {"ids": point_ids},
        )
    else:
        session.execute(
            sqlite_insert(PointLive).on_conflict_do_nothing(),
            [{"point_id": pid} for pid in point_ids],
        )
    stmt = select(*(getattr(PointLive, c) for c in LIVE_COLUMNS)).where(
        _ids(session, PointLive.point_id, point_ids)  # type: ignore[arg-type]
    )
    return {r.point_id: LiveRow(*r) for r in session.execute(stmt)}


_UNNEST_TYPES = {
    "point_id": "integer",
    "last_ts": "bigint",
    "last_value": "double precision",
    "active_bound": "varchar",
    "pending_bound": "varchar",
    "pending_since": "bigint",
    "alarm_id": "integer",
    "power_cut_alarm_id": "integer",
}


_LAST_COLUMNS = ["point_id", "last_ts", "last_value"]


def _update(columns: list[str]) -> TextClause:
    return text(
        "UPDATE monitoring_point_live AS l SET "
        + ", ".join(f"{c} = v.{c}" for c in columns if c != "point_id")
        + " FROM unnest("
        + ", ".join(f"CAST(:{c} AS {_UNNEST_TYPES[c]}[])" for c in columns)
        + ") AS v("
        + ", ".join(columns)
        + ") WHERE l.point_id = v.point_id"
    )


_UPDATE_LIVES, _UPDATE_LASTS = _update(LIVE_COLUMNS), _update(_LAST_COLUMNS)


def save_lives(session: Session, lives: list[LiveRow], *, last_only: bool = False) -> None:
    """Write live states back (one statement on PostgreSQL); ``last_only``: only the last
    readings (a checkpoint of rows whose alarm state was written when it changed)."""
    if not lives:
        return
    columns = _LAST_COLUMNS if last_only else LIVE_COLUMNS
    if session.get_bind().dialect.name == "postgresql":
        statement = _UPDATE_LASTS if last_only else _UPDATE_LIVES
        session.execute(statement, {c: [getattr(lv, c) for lv in lives] for c in columns})
        return
    table = PointLive.__table__
    stmt = (
        update(table)
        .where(table.c.point_id == bindparam("_point_id"))
        .values({c: bindparam(f"_{c}") for c in columns if c != "point_id"})
    )
    session.connection().execute(stmt, [{f"_{c}": getattr(lv, c) for c in columns} for lv in lives])


class PointCache:
    """The points and live states of the enterprises a worker ingests for (see the module).
    ``owner`` names the worker in the epochs table; a cache for one transaction (HTTP ingest)
    has none and saves every touched row at once. After a transaction that failed, call
    :meth:`clear`: the memory may hold what the database rolled back."""

    def __init__(self, owner: str | None = None, checkpoint_s: float = CHECKPOINT_S) -> None:
        self.owner, self.checkpoint_s = owner, checkpoint_s
        self._epochs: dict[int, int] = {}  # enterprise -> the epoch this cache claimed
        self._points: dict[int, dict[str, PointRow]] = {}  # enterprise -> code -> point
        self.by_id: dict[int, PointRow] = {}
        self._lives: dict[int, LiveRow] = {}
        self._unsaved: set[int] = set()  # points whose last reading waits for a checkpoint
        self._restless: set[int] = set()  # points whose live state is not at rest
        self._complete: set[int] = set()  # enterprises all of whose live states are held
        self._saved_at = time.monotonic()
        self._warned_at = 0.0  # another worker's claims were last logged then
        # enterprise -> until when (monotonic) its batches skip the set-wise path (setwise.py)
        self.suspects: dict[int, float] = {}

    def clear(self) -> None:
        """Forget everything (it is loaded again when needed)."""
        self._forget(list(self._epochs))

    def _forget(self, enterprise_ids: Iterable[int]) -> None:
        for eid in enterprise_ids:
            self._epochs.pop(eid, None)
            self._complete.discard(eid)
            for p in self._points.pop(eid, {}).values():
                self.by_id.pop(p.id, None)
                self._lives.pop(p.id, None)
                self._unsaved.discard(p.id)
                self._restless.discard(p.id)

    def points(
        self, session: Session, enterprise_ids: Iterable[int]
    ) -> dict[int, dict[str, PointRow]]:
        """The points of ``enterprise_ids`` by code, with their epoch rows locked for this
        transaction; an enterprise written by someone else since it was loaded is loaded again."""
        ids = sorted(set(enterprise_ids))
        if not ids:
            return {}
        new = [eid for eid in ids if eid not in self._epochs]
        if new:
            session.execute(_ENSURE_EPOCHS, [{"e": eid} for eid in new])
        rows = session.execute(
            select(IngestEpoch.enterprise_id, IngestEpoch.epoch, IngestEpoch.owner)
            .where(_ids(session, IngestEpoch.enterprise_id, ids))  # type: ignore[arg-type]
            .order_by(IngestEpoch.enterprise_id)
            .with_for_update()
        ).all()
        stale = [eid for eid, epoch, _ in rows if self._epochs.get(eid) != epoch]
        others = [
            (eid, owner)
            for eid, _, owner in rows
            if eid in self._epochs and owner is not None and owner != self.owner
        ]
        if self.owner and others and time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning(
                "enterprises whose messages reach another worker too, loaded again each time "
                "(slower; pin each enterprise to one worker): %s",
                ", ".join(f"{eid} ({owner})" for eid, owner in others[:10]),
            )
        held: set[int] = session.info.setdefault(HELD_ENTERPRISES, set())
        held.update(ids)
        if stale:
            self._claim(session, stale)
        return {eid: self._points[eid] for eid in ids}

    def _claim(self, session: Session, enterprise_ids: list[int]) -> None:
        self._forget(enterprise_ids)
        claimed = session.execute(
            update(IngestEpoch)
            .where(_ids(session, IngestEpoch.enterprise_id, enterprise_ids))  # type: ignore[arg-type]
            # a cache of one transaction (HTTP) leaves the worker's name in place
            .values(
                epoch=IngestEpoch.epoch + 1,
                owner=self.owner if self.owner else IngestEpoch.owner,
            )
            .returning(IngestEpoch.enterprise_id, IngestEpoch.epoch)
        )
        for eid, epoch in claimed:
            self._epochs[eid] = epoch
            self._points[eid] = {}
        for p in load_points(session, enterprise_ids):
            self._points[p.enterprise_id][p.code] = p
            self.by_id[p.id] = p

    def lives(self, session: Session, point_ids: list[int]) -> dict[int, LiveRow]:
        """The live states of ``point_ids`` (of enterprises :meth:`points` returned in this
        transaction), read once and then held."""
        missing = [pid for pid in point_ids if pid not in self._lives]
        if missing:
            loaded = load_lives(session, missing)
            self._lives.update(loaded)
            self._restless.update(pid for pid, live in loaded.items() if not live.at_rest)
        return self._lives

    def restless(self, session: Session, enterprise_ids: Iterable[int]) -> list[int]:
        """The points of ``enterprise_ids`` (returned by :meth:`points` in this transaction)
        whose live state is not at rest (an alarm open, a bound pending); the live states of
        all their points are read first where missing."""
        wanted = set(enterprise_ids)
        for eid in wanted - self._complete:
            self.lives(session, [p.id for p in self._points[eid].values()])
            self._complete.add(eid)
        by_id = self.by_id
        return sorted(pid for pid in self._restless if by_id[pid].enterprise_id in wanted)

    def evaluated(self, session: Session, touched: list[LiveRow], changed: list[LiveRow]) -> None:
        """After a pass of the evaluator: the rows whose alarm state ``changed`` are written now,
        the last readings of the ``touched`` ones at the next checkpoint."""
        save_lives(session, changed)  # with their last readings
        self._unsaved.update([live.point_id for live in touched])
        for live in changed:
            self._unsaved.discard(live.point_id)
            if live.at_rest:
                self._restless.discard(live.point_id)
            else:
                self._restless.add(live.point_id)
        if self.owner is None or time.monotonic() - self._saved_at >= self.checkpoint_s:
            self._save_unsaved(session, list(session.info.get(HELD_ENTERPRISES, ())))
            self._saved_at = time.monotonic()

    def _save_unsaved(self, session: Session, enterprise_ids: list[int]) -> None:
        """Write the waiting last readings of ``enterprise_ids`` (locked in this transaction;
        the rest of those rows was written when it changed)."""
        held, by_id = set(enterprise_ids), self.by_id
        due = [pid for pid in self._unsaved if by_id[pid].enterprise_id in held]
        self._unsaved.difference_update(due)
        save_lives(session, [self._lives[pid] for pid in due], last_only=True)

    @property
    def waiting(self) -> bool:
        """Whether some last readings wait for a checkpoint."""
        return bool(self._unsaved)

    def checkpoint(self, session: Session) -> None:
        """Write every waiting last reading (the worker idles or stops)."""
        enterprise_ids = {self.by_id[pid].enterprise_id for pid in self._unsaved}
        self.points(session, enterprise_ids)  # locks them; drops what went stale
        self._save_unsaved(session, list(enterprise_ids))
