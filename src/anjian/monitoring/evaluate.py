"""The alarm evaluator of the ingest (报警判定): each point's new readings, in time order, fed
to the pure rules (:func:`anjian.monitoring.rules.step`), their events turned into threshold
alarms raised, escalated and ended (超限报警 → 恢复), and a coal-mine methane point's power cut
(断电) kept as a record of its own. The points and their live state are read without the ORM (a
batch touches hundreds); the alarms are ORM objects the ingest flushes and records together."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.scope import unscoped
from anjian.core.sync.outbox import record_changes, remember_uids
from anjian.monitoring.alarms import point_alarm
from anjian.monitoring.batch import Outcome, at_ms
from anjian.monitoring.models import ALARM_ENTITY, POINT_ENTITY, Alarm, MonitoringPoint
from anjian.monitoring.rules import (
    AlarmKind,
    AlarmState,
    Bound,
    End,
    Escalate,
    Raise,
    Thresholds,
    step,
)

if TYPE_CHECKING:
    from anjian.monitoring.live import PointCache


@dataclass(slots=True)
class PointRow:
    """What the ingest needs of a point, read without the ORM (a batch touches hundreds)."""

    id: int
    enterprise_id: int
    code: str
    division_code: str
    supervision_category: str
    major_hazard_id: int | None
    ll: float | None
    l: float | None  # noqa: E741
    h: float | None
    hh: float | None
    dead_band: float
    delay_s: float
    power_cut: bool
    restore: float | None
    status: str
    uid: str

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.ll, self.l, self.h, self.hh, self.dead_band, self.delay_s)


POINT_COLUMNS = [getattr(MonitoringPoint, f) for f in PointRow.__dataclass_fields__]


@dataclass(slots=True)
class LiveRow:
    """A point's evaluator state (the monitoring_point_live row)."""

    point_id: int
    last_ts: int | None = None
    last_value: float | None = None
    active_bound: str | None = None
    pending_bound: str | None = None
    pending_since: int | None = None
    alarm_id: int | None = None
    power_cut_alarm_id: int | None = None

    @property
    def at_rest(self) -> bool:
        """No alarm open and no bound pending: in-band readings change nothing but the last."""
        return not (
            self.active_bound or self.pending_bound or self.alarm_id or self.power_cut_alarm_id
        )


LIVE_COLUMNS = list(LiveRow.__dataclass_fields__)


@unscoped("the ingest: the open alarms of the points a batch evaluates")
def _open_alarms(session: Session, alarm_ids: set[int]) -> dict[int, Alarm]:
    return {a.id: a for a in session.scalars(select(Alarm).where(Alarm.id.in_(sorted(alarm_ids))))}


class Evaluator:
    """Feeds each point's new readings to the rules and turns their events into alarms,
    counted in the outcome of the batch whose reading caused them."""

    def __init__(self, session: Session, alarm_ids: set[int] | None = None) -> None:
        self.session = session
        self.changed: dict[int, tuple[Alarm, Outcome]] = {}  # by id(): new alarms have no key
        # The open alarms the batch may touch, read in one query (and held: the session's
        # identity map keeps only weak references).
        self.alarms: dict[int, Alarm] = _open_alarms(session, alarm_ids) if alarm_ids else {}

    def _alarm(self, alarm_id: int | None) -> Alarm | None:
        if alarm_id is None:
            return None
        return self.alarms.get(alarm_id) or self.session.get(Alarm, alarm_id)

    def _touch(self, alarm: Alarm, out: Outcome) -> None:
        self.changed.setdefault(id(alarm), (alarm, out))

    def _raise(
        self,
        p: PointRow,
        kind: AlarmKind,
        bound: Bound,
        threshold: float | None,
        value: float,
        ts: int,
        out: Outcome,
    ) -> Alarm:
        alarm = point_alarm(
            p,
            kind,
            bound.level,
            bound.value,
            ts,
            threshold=threshold,
            trigger_threshold=threshold,
            value=value,
            peak=value,
            peak_at=at_ms(ts),
        )
        self.session.add(alarm)
        out.raised += 1
        self._touch(alarm, out)
        return alarm

    def _end(self, alarm: Alarm, ts: int, out: Outcome) -> None:
        alarm.ended_at = at_ms(ts)
        out.ended += 1
        self._touch(alarm, out)

    def _peak(self, alarm: Alarm, value: float, ts: int, high: bool, out: Outcome) -> None:
        """Keep the worst value (the highest of a high alarm, the lowest of a low one) and
        when it came: set on the alarm the batch already holds, written by the same flush."""
        if alarm.peak is None or (value > alarm.peak if high else value < alarm.peak):
            alarm.peak, alarm.peak_at = value, at_ms(ts)
            self._touch(alarm, out)

    def run(
        self, p: PointRow, live: LiveRow, readings: list[tuple[int, float, Outcome]]
    ) -> tuple[Alarm | None, Alarm | None]:
        """Evaluate ``readings`` (newer than the last one, in time order); the point's open
        threshold alarm and power-cut record afterwards."""
        t = p.thresholds
        state = AlarmState(
            active=Bound(live.active_bound) if live.active_bound else None,
            pending=Bound(live.pending_bound) if live.pending_bound else None,
            pending_since_ms=live.pending_since,
        )
        alarm = self._alarm(live.alarm_id)
        cut = self._alarm(live.power_cut_alarm_id)
        for ts, value, out in readings:
            state, events = step(t, state, value, ts)
            for ev in events:
                if isinstance(ev, Raise):
                    threshold = getattr(t, ev.bound)
                    alarm = self._raise(p, AlarmKind.THRESHOLD, ev.bound, threshold, value, ts, out)
                elif isinstance(ev, Escalate) and alarm is not None:
                    alarm.level, alarm.bound = ev.bound.level, ev.bound.value
                    alarm.threshold = getattr(t, ev.bound)
                    out.escalated += 1
                    self._touch(alarm, out)
                elif isinstance(ev, End) and alarm is not None:
                    self._end(alarm, ts, out)
                    alarm = None
            if alarm is not None and state.active is not None:
                self._peak(alarm, value, ts, state.active.high, out)
            if p.power_cut and p.hh is not None:
                cut = self._power_cut(p, cut, value, ts, out)
        live.active_bound = state.active.value if state.active else None
        live.pending_bound = state.pending.value if state.pending else None
        live.pending_since = state.pending_since_ms
        return alarm, cut

    def _power_cut(
        self, p: PointRow, cut: Alarm | None, value: float, ts: int, out: Outcome
    ) -> Alarm | None:
        """Coal-mine methane: a power cut (断电) at the HH concentration is its own record; it
        ends when the value falls below the restore concentration (复电浓度)."""
        hh = p.hh if p.hh is not None else math.inf
        restore = p.restore if p.restore is not None else hh
        if cut is None:
            if value < hh:
                return None
            return self._raise(p, AlarmKind.POWER_CUT, Bound.HH, hh, value, ts, out)
        if value < restore:
            self._end(cut, ts, out)
            return None
        self._peak(cut, value, ts, True, out)
        return cut


def quiet(p: PointRow, live: LiveRow, readings: list[tuple[int, float, Outcome]]) -> bool:
    """Whether the evaluator can be skipped: nothing open or pending, and every value strictly
    inside the set points (where :func:`rules.step` changes nothing and raises nothing)."""
    if not live.at_rest:
        return False
    values = [r[1] for r in readings]
    lo, hi = min(values), max(values)
    return (
        (p.hh is None or hi < p.hh)
        and (p.h is None or hi < p.h)
        and (p.ll is None or lo > p.ll)
        and (p.l is None or lo > p.l)
    )


def judge(
    session: Session,
    cache: PointCache,
    fresh: dict[int, list[tuple[int, float, Outcome]]],
    touched: list[LiveRow],
) -> None:
    """Run the alarm evaluator over the readings just stored, by point (``fresh``: ts, value,
    the outcome of the batch that brought it; points of enterprises :meth:`PointCache.points`
    returned in this transaction), and record what changed: alarms raised, escalated or ended,
    the live states. ``touched``: live states whose last reading the caller moved already."""
    by_id = cache.by_id
    lives = cache.lives(session, sorted(fresh))
    evaluator = Evaluator(
        session,
        {a for pid in fresh for a in (lives[pid].alarm_id, lives[pid].power_cut_alarm_id) if a},
    )
    opened: list[tuple[LiveRow, Alarm | None, Alarm | None]] = []
    for pid in sorted(fresh):
        live = lives[pid]
        last = live.last_ts if live.last_ts is not None else -1
        newer = [r for r in fresh[pid] if r[0] > last]
        if not newer:
            continue  # late readings are stored, but an alarm is judged on the newest data
        newer.sort()  # by time: a point's times are unique here, so the outcome is never compared
        touched.append(live)
        if not quiet(by_id[pid], live, newer):
            opened.append((live, *evaluator.run(by_id[pid], live, newer)))
        live.last_ts, live.last_value = newer[-1][0], newer[-1][1]
    session.flush()  # new alarms get their keys
    for live, alarm, cut in opened:
        live.alarm_id = alarm.id if alarm is not None else None
        live.power_cut_alarm_id = cut.id if cut is not None else None
    # Rows outside the quiet path may have changed their alarm state: written at once.
    cache.evaluated(session, touched, [live for live, _, _ in opened])
    changed = list(evaluator.changed.values())
    if changed:  # their points' uids, which the synced alarms carry
        uids = {a.point_id: by_id[a.point_id].uid for a, _ in changed if a.point_id in by_id}
        remember_uids(session, POINT_ENTITY, uids)
    record_changes(session, [alarm for alarm, _ in changed], entity=ALARM_ENTITY)
    for alarm, out in changed:
        out.alarms.append(alarm.id)
