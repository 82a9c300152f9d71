"""Ingest of reading batches (数据接入), the same for MQTT and HTTP.

A batch is ``{"ts": <epoch ms>, "readings": [{"point", "value", "ts"?, "status"?}]}``. Each
reading is checked on its own: a bad one is counted against the enterprise with its reason and
skipped, the rest are stored. Readings are keyed by (point, time), so a batch delivered twice is
stored once; only readings stored for the first time are fed to the alarm evaluator, in time
order and only when newer than the point's last one, so a redelivery never raises an alarm
twice. The batch, its alarms and the evaluator's state are one transaction.

Readings are telemetry, not acts of a user: they are not written to the audit chain (at
thousands per second they would drown it); alarms carry their own history and travel up."""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from psycopg.errors import UniqueViolation
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.inputs import storable
from anjian.core.sync.outbox import record_change, record_changes, remember_uids
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.monitoring.models import (
    ALARM_ENTITY,
    POINT_ENTITY,
    Alarm,
    IngestRejection,
    MonitoringPoint,
    PointLive,
    Reading,
)
from anjian.monitoring.partitions import ensure_partitions
from anjian.monitoring.rules import (
    STATUSES,
    AlarmState,
    Bound,
    End,
    Escalate,
    Raise,
    Thresholds,
    step,
)
from anjian.monitoring.schemas import IngestResult, Rejected

# Status of a reading as stored (smallint); 0 is a normal measurement.
STATUS_CODES = {name: i for i, name in enumerate(STATUSES)}
MAX_READINGS = 10_000  # per batch

REASONS = {
    "malformed": "格式错误",
    "unknown_point": "未登记的测点",
    "not_numeric": "数值无效",
    "future": "时间超前",
    "too_old": "时间过早",
    "bad_status": "状态码无效",
    "too_many": "批量过大",
    "error": "无法处理",
}


class Parsed(NamedTuple):
    """One reading that passed the checks that need no database (a tuple: a batch has
    thousands)."""

    index: int
    point: str
    ts: int
    value: float | None  # None: a status report without a value
    status: str


@dataclass
class Outcome:
    """What a batch did, as counted while it is applied."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    raised: int = 0
    escalated: int = 0
    ended: int = 0
    alarms: list[int] = field(default_factory=list)  # ids of alarms raised or changed

    def reject(self, index: int | None, point: str | None, reason: str, message: str) -> None:
        # A point code is the gateway's text: its control characters (NUL above all, which
        # PostgreSQL refuses) and lone surrogates (which no UTF-8 answer can carry) are escaped.
        self.rejected.append(
            Rejected(
                index=index,
                point=storable(point) if point else point,
                reason=reason,
                message=storable(message),
            )
        )

    def result(self) -> IngestResult:
        return IngestResult(
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejected=sorted(self.rejected, key=lambda r: -1 if r.index is None else r.index),
            alarms_raised=self.raised,
            alarms_escalated=self.escalated,
            alarms_ended=self.ended,
        )


def now_ms() -> int:
    return int(time.time() * 1000)


# Epoch milliseconds a datetime can hold (years 1 to 9999); beyond them a time is malformed.
_MS_RANGE = (-62_135_596_800_000, 253_402_300_799_999)


def _epoch_ms(value: Any) -> int | None:
    """An epoch-millisecond time, or None when ``value`` is not one a datetime can hold."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    ms = int(value)
    return ms if _MS_RANGE[0] <= ms <= _MS_RANGE[1] else None


def _number(value: Any) -> float | None:
    """A measured value as a finite float, or None: not a number, NaN, an infinity (JSON's
    ``1e400`` decodes to one) or an integer beyond what a float holds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def parse(
    raw: bytes | str | dict[str, Any], out: Outcome, *, now: int | None = None
) -> list[Parsed]:
    """The readings of a batch that pass the checks needing no database; the others are
    recorded in ``out`` with their reason (a malformed batch is one rejection of it all)."""
    settings = get_settings()
    now = now_ms() if now is None else now
    latest = now + int(settings.monitoring_max_future_s * 1000)
    oldest = now - settings.monitoring_retention_days * 86_400_000
    try:
        body = json.loads(raw) if isinstance(raw, bytes | str) else raw
    except (ValueError, UnicodeDecodeError) as exc:
        out.reject(None, None, "malformed", f"JSON 无法解析 (malformed JSON): {exc}")
        return []
    readings = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(readings, list):
        out.reject(None, None, "malformed", "缺少 readings 数组 (readings must be an array)")
        return []
    if len(readings) > MAX_READINGS:
        out.reject(
            None,
            None,
            "too_many",
            f"一批最多 {MAX_READINGS} 条 (at most {MAX_READINGS} readings per batch)",
        )
        return []
    batch_ts = _epoch_ms(body.get("ts")) if body.get("ts") is not None else None
    if body.get("ts") is not None and batch_ts is None:
        out.reject(None, None, "malformed", "ts 应为毫秒时间戳 (ts must be epoch milliseconds)")
        return []
    parsed: list[Parsed] = []
    # The common case (an int time, a float or int value, status ok) is checked first by
    # exact type: this loop runs for every reading.
    for i, r in enumerate(readings):
        point = r.get("point") if type(r) is dict else None
        if type(point) is not str or not point:
            out.reject(i, None, "malformed", "缺少测点编码 point (point is required)")
            continue
        status = r.get("status", "ok")
        if status != "ok" and (type(status) is not str or status not in STATUSES):
            out.reject(i, point, "bad_status", f"状态码无效: {status!r} (unknown status)")
            continue
        ts = r.get("ts", batch_ts)
        if type(ts) is not int or not _MS_RANGE[0] <= ts <= _MS_RANGE[1]:
            ts = _epoch_ms(ts) if ts is not None else None
        if ts is None:
            out.reject(i, point, "malformed", "时间 ts 缺失或无效 (ts must be epoch milliseconds)")
            continue
        if ts > latest:
            out.reject(i, point, "future", f"时间超前于服务器时间: {ts} (time in the future)")
            continue
        if ts < oldest:
            out.reject(i, point, "too_old", f"时间早于保留期: {ts} (older than the retention)")
            continue
        value = r.get("value")
        if type(value) is float and value - value == 0.0:  # finite
            parsed.append(Parsed(i, point, ts, value, status))
            continue
        if value is None and status != "ok":
            parsed.append(Parsed(i, point, ts, None, status))
            continue
        number = _number(value)
        if number is None:
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
            out.reject(
                i, point, "not_numeric", f"数值无效: {shown} (value must be a finite number)"
            )
            continue
        parsed.append(Parsed(i, point, ts, number, status))
    return parsed


_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS readings_stage (point_id integer, ts bigint, "
    "value double precision, status smallint) ON COMMIT DELETE ROWS"
)


def _store(
    session: Session, rows: list[tuple[int, int, float, int]]
) -> set[tuple[int, int]] | None:
    """Store ``rows`` (point, ts, value, status), ignoring those already stored: the keys stored
    now, or None when every row was new. On PostgreSQL a binary COPY straight into the table,
    in a savepoint; only when some row is there already (a redelivery) is the batch copied into
    a temporary table and inserted with ON CONFLICT DO NOTHING, which is slower."""
    if session.get_bind().dialect.name != "postgresql":
        stmt = sqlite_insert(Reading).on_conflict_do_nothing()
        values = [{"point_id": p, "ts": t, "value": v, "status": st} for p, t, v, st in rows]
        stored = session.execute(stmt.returning(Reading.point_id, Reading.ts), values)
        return {(pid, ts) for pid, ts in stored}
    ensure_partitions(session, {row[1] for row in rows})
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur:  # type: ignore[union-attr]
        cur.execute("SAVEPOINT readings_copy")
        try:
            _copy(cur, "readings", rows)
        except UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT readings_copy")
        else:
            cur.execute("RELEASE SAVEPOINT readings_copy")
            return None
        cur.execute(_STAGE)
        _copy(cur, "readings_stage", rows)
        cur.execute(
            "INSERT INTO readings (point_id, ts, value, status) "
            "SELECT point_id, ts, value, status FROM readings_stage "
            "ON CONFLICT DO NOTHING RETURNING point_id, ts"
        )
        stored = {(pid, ts) for pid, ts in cur.fetchall()}
        cur.execute("TRUNCATE readings_stage")
    return stored


def _copy(cur: Any, table: str, rows: list[tuple[int, int, float, int]]) -> None:
    with cur.copy(f"COPY {table} (point_id, ts, value, status) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int4", "int8", "float8", "int2"])
        for row in rows:
            cp.write_row(row)


def at_ms(ts_ms: int) -> datetime:
    """The UTC time of an epoch-millisecond timestamp."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC)


@dataclass
class _Point:
    """What ingest needs of a point, read without the ORM (a batch touches hundreds)."""

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


_POINT_COLUMNS = [getattr(MonitoringPoint, f) for f in _Point.__dataclass_fields__]


@dataclass
class _Live:
    """A point's evaluator state (the monitoring_point_live row)."""

    point_id: int
    last_ts: int | None = None
    last_value: float | None = None
    active_bound: str | None = None
    pending_bound: str | None = None
    pending_since: int | None = None
    alarm_id: int | None = None
    power_cut_alarm_id: int | None = None


_LIVE_COLUMNS = list(_Live.__dataclass_fields__)


class _Evaluator:
    """Feeds each point's new readings to the rules and turns their events into alarms,
    counted in the outcome of the batch whose reading caused them."""

    def __init__(self, session: Session, alarm_ids: set[int] | None = None) -> None:
        self.session = session
        self.changed: dict[int, tuple[Alarm, Outcome]] = {}  # by id(): new alarms have no key
        # The open alarms the batch may touch, read in one query (and held: the session's
        # identity map keeps only weak references).
        self.alarms: dict[int, Alarm] = (
            {a.id: a for a in session.scalars(select(Alarm).where(Alarm.id.in_(sorted(alarm_ids))))}
            if alarm_ids
            else {}
        )

    def _alarm(self, alarm_id: int | None) -> Alarm | None:
        if alarm_id is None:
            return None
        return self.alarms.get(alarm_id) or self.session.get(Alarm, alarm_id)

    def _touch(self, alarm: Alarm, out: Outcome) -> None:
        self.changed.setdefault(id(alarm), (alarm, out))

    def _raise(
        self,
        p: _Point,
        kind: str,
        bound: Bound,
        threshold: float | None,
        value: float,
        ts: int,
        out: Outcome,
    ) -> Alarm:
        alarm = Alarm(
            enterprise_id=p.enterprise_id,
            division_code=p.division_code,
            supervision_category=p.supervision_category,
            point_id=p.id,
            major_hazard_id=p.major_hazard_id,
            kind=kind,
            level=bound.level,
            bound=bound.value,
            threshold=threshold,
            trigger_threshold=threshold,
            value=value,
            peak=value,
            peak_at=at_ms(ts),
            raised_at=at_ms(ts),
            state="raised",
            origin_node="",
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
        self, p: _Point, live: _Live, readings: list[tuple[int, float, Outcome]]
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
                    alarm = self._raise(p, "threshold", ev.bound, threshold, value, ts, out)
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
        self, p: _Point, cut: Alarm | None, value: float, ts: int, out: Outcome
    ) -> Alarm | None:
        """Coal-mine methane: a power cut (断电) at the HH concentration is its own record; it
        ends when the value falls below the restore concentration (复电浓度)."""
        hh = p.hh if p.hh is not None else math.inf
        restore = p.restore if p.restore is not None else hh
        if cut is None:
            if value < hh:
                return None
            return self._raise(p, "power_cut", Bound.HH, hh, value, ts, out)
        if value < restore:
            self._end(cut, ts, out)
            return None
        self._peak(cut, value, ts, True, out)
        return cut


def ingest(
    session: Session,
    enterprise_id: int,
    raw: bytes | str | dict[str, Any],
    *,
    now: int | None = None,
) -> Outcome:
    """Apply one batch of ``enterprise_id``'s gateway in the caller's transaction."""
    return ingest_many(session, [(enterprise_id, raw)], now=now)[0]


def ingest_many(
    session: Session,
    batches: list[tuple[int, bytes | str | dict[str, Any]]],
    *,
    now: int | None = None,
) -> list[Outcome]:
    """Apply several gateways' batches ``(enterprise_id, batch)`` in the caller's transaction,
    with one store of all their readings and one pass of the evaluator: the MQTT worker's path
    for many messages at a time. One outcome per batch."""
    outs = [Outcome() for _ in batches]
    parsed = [parse(raw, out, now=now) for (_eid, raw), out in zip(batches, outs, strict=True)]
    if any(parsed):
        _apply(session, [eid for eid, _ in batches], parsed, outs)
    for (enterprise_id, _raw), out in zip(batches, outs, strict=True):
        if out.rejected:
            count_rejections(session, enterprise_id, out.rejected)
    return outs


def _points(session: Session, enterprise_ids: set[int]) -> dict[tuple[int, str], _Point]:
    rows = session.execute(
        select(*_POINT_COLUMNS).where(
            MonitoringPoint.enterprise_id.in_(sorted(enterprise_ids)),
            MonitoringPoint.deleted.is_(False),
        )
    )
    return {(r.enterprise_id, r.code): _Point(*r) for r in rows}


def _lives(session: Session, point_ids: list[int]) -> dict[int, _Live]:
    """The evaluator state of ``point_ids``, locked on PostgreSQL (workers sharing the load
    evaluate a point one at a time); missing rows are made first, so two workers never both
    insert one."""
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
    stmt = (
        select(*(getattr(PointLive, c) for c in _LIVE_COLUMNS))
        .where(PointLive.point_id.in_(point_ids))
        .order_by(PointLive.point_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {r.point_id: _Live(*r) for r in session.execute(stmt)}


def _apply(
    session: Session, enterprise_ids: list[int], parsed: list[list[Parsed]], outs: list[Outcome]
) -> None:
    points = _points(session, {eid for eid, ps in zip(enterprise_ids, parsed, strict=True) if ps})
    rows: list[tuple[int, int, float, int]] = []
    row_outs: list[Outcome] = []  # the batch each row came in
    seen: set[tuple[int, int]] = set()
    latest_status: dict[int, tuple[int, str, Outcome]] = {}
    for eid, batch, out in zip(enterprise_ids, parsed, outs, strict=True):
        for r in batch:
            p = points.get((eid, r.point))
            if p is None:
                out.reject(
                    r.index, r.point, "unknown_point", f"测点未登记: {r.point} (unknown point)"
                )
                continue
            # a status matters when it is not ok, or the point is not ok (it may be back)
            if (r.status != "ok" or p.status != "ok") and r.ts >= latest_status.get(
                p.id, (-1, "", out)
            )[0]:
                latest_status[p.id] = (r.ts, r.status, out)
            if r.value is None:
                continue
            key = (p.id, r.ts)
            if key in seen:
                out.duplicates += 1
                continue
            seen.add(key)
            rows.append((p.id, r.ts, r.value, STATUS_CODES[r.status]))
            row_outs.append(out)
    stored = _store(session, rows) if rows else set()
    # Only readings stored just now, and measured normally, are evaluated.
    fresh: dict[int, list[tuple[int, float, Outcome]]] = defaultdict(list)
    for row, out in zip(rows, row_outs, strict=True):
        if stored is not None and (row[0], row[1]) not in stored:
            out.duplicates += 1
            continue
        out.accepted += 1
        if row[3] == 0:
            fresh[row[0]].append((row[1], row[2], out))
    by_id = {p.id: p for p in points.values()}
    for pid, (ts, status, out) in latest_status.items():
        if status != by_id[pid].status:
            orm_point = session.get(MonitoringPoint, pid)
            assert orm_point is not None
            set_status(session, orm_point, status, ts, out)
    if not fresh:
        return
    lives = _lives(session, sorted(fresh))
    remember_uids(session, POINT_ENTITY, {pid: by_id[pid].uid for pid in fresh})
    evaluator = _Evaluator(
        session,
        {a for live in lives.values() for a in (live.alarm_id, live.power_cut_alarm_id) if a},
    )
    opened: list[tuple[_Live, Alarm | None, Alarm | None]] = []
    touched: list[_Live] = []
    for pid in sorted(fresh):
        live = lives[pid]
        last = live.last_ts if live.last_ts is not None else -1
        newer = [r for r in fresh[pid] if r[0] > last]
        if not newer:
            continue  # late readings are stored, but an alarm is judged on the newest data
        newer.sort(key=lambda r: r[0])
        touched.append(live)
        if not _quiet(by_id[pid], live, newer):
            opened.append((live, *evaluator.run(by_id[pid], live, newer)))
        live.last_ts, live.last_value = newer[-1][0], newer[-1][1]
    session.flush()  # new alarms get their keys
    for live, alarm, cut in opened:
        live.alarm_id = alarm.id if alarm is not None else None
        live.power_cut_alarm_id = cut.id if cut is not None else None
    _save_lives(session, touched)
    changed = list(evaluator.changed.values())
    record_changes(session, [alarm for alarm, _ in changed], entity=ALARM_ENTITY)
    for alarm, out in changed:
        out.alarms.append(alarm.id)


def _quiet(p: _Point, live: _Live, readings: list[tuple[int, float, Outcome]]) -> bool:
    """Whether the evaluator can be skipped: nothing open or pending, and every value strictly
    inside the set points (where :func:`rules.step` changes nothing and raises nothing)."""
    if live.active_bound or live.pending_bound or live.alarm_id or live.power_cut_alarm_id:
        return False
    lo = min(r[1] for r in readings)
    hi = max(r[1] for r in readings)
    return (
        (p.hh is None or hi < p.hh)
        and (p.h is None or hi < p.h)
        and (p.ll is None or lo > p.ll)
        and (p.l is None or lo > p.l)
    )


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
_UPDATE_LIVES = text(
    "UPDATE monitoring_point_live AS l SET "
    + ", ".join(f"{c} = v.{c}" for c in _LIVE_COLUMNS if c != "point_id")
    + " FROM unnest("
    + ", ".join(f"CAST(:{c} AS {_UNNEST_TYPES[c]}[])" for c in _LIVE_COLUMNS)
    + ") AS v("
    + ", ".join(_LIVE_COLUMNS)
    + ") WHERE l.point_id = v.point_id"
)


def _save_lives(session: Session, lives: list[_Live]) -> None:
    """Write the evaluator's state back (one statement on PostgreSQL)."""
    if not lives:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_UPDATE_LIVES, {c: [getattr(lv, c) for lv in lives] for c in _LIVE_COLUMNS})
        return
    table = PointLive.__table__
    stmt = (
        update(table)
        .where(table.c.point_id == bindparam("_point_id"))
        .values({c: bindparam(f"_{c}") for c in _LIVE_COLUMNS if c != "point_id"})
    )
    session.connection().execute(
        stmt, [{f"_{c}": getattr(lv, c) for c in _LIVE_COLUMNS} for lv in lives]
    )


# Device states that raise a status alarm (维护 is planned work, not an alarm).
STATUS_ALARMS = frozenset({"fault", "offline", "power_off", "shutdown"})


def set_status(
    session: Session, p: MonitoringPoint, status: str, ts: int, out: Outcome | None = None
) -> bool:
    """Record a device status (设备状态) reported at ``ts`` if it is a change and newer than
    the one the point has; the change travels up with the point. A faulty, offline, unpowered
    or shut-down point gets a 二级 status alarm, ended when it reports normally again — unless
    the enterprise's whole monitoring system is down, which is one alarm for all its points.
    A point going from one of those states to another (a faulty sensor that falls silent) keeps
    its one open status alarm, which then names the newer state. Whether the status changed."""
    since = p.status_since
    if status == p.status or (since is not None and at_ms(ts) <= since):
        return False
    p.status, p.status_since = status, at_ms(ts)
    record_change(session, p, entity=POINT_ENTITY)
    current = session.scalars(
        select(Alarm).where(
            Alarm.point_id == p.id, Alarm.kind == "status", Alarm.ended_at.is_(None)
        )
    ).first()
    if current is not None and status in STATUS_ALARMS:
        current.bound = status  # still out of service: the same alarm, not a new one
        record_change(session, current, entity=ALARM_ENTITY)
        if out is not None:
            out.alarms.append(current.id)
        return True
    if current is not None:
        current.ended_at = at_ms(ts)
        record_change(session, current, entity=ALARM_ENTITY)
        if out is not None:
            out.ended += 1
            out.alarms.append(current.id)
    if status in STATUS_ALARMS and _system_alarm(session, p.enterprise_id) is None:
        alarm = Alarm(
            enterprise_id=p.enterprise_id,
            division_code=p.division_code,
            supervision_category=p.supervision_category,
            point_id=p.id,
            major_hazard_id=p.major_hazard_id,
            kind="status",
            level=2,
            bound=status,
            raised_at=at_ms(ts),
            state="raised",
            origin_node="",
        )
        record_change(session, alarm, entity=ALARM_ENTITY)
        if out is not None:
            out.raised += 1
            out.alarms.append(alarm.id)
    return True


def _system_alarm(session: Session, enterprise_id: int) -> Alarm | None:
    """The open alarm of the enterprise's whole monitoring system, if any."""
    return session.scalars(
        select(Alarm)
        .where(
            Alarm.enterprise_id == enterprise_id,
            Alarm.kind == "system",
            Alarm.ended_at.is_(None),
            Alarm.deleted.is_(False),
        )
        .order_by(Alarm.id.desc())
    ).first()


def count_rejections(session: Session, enterprise_id: int, rejected: list[Rejected]) -> None:
    """Add refused readings to the enterprise's counters, by reason, keeping the last message."""
    now = utcnow()
    by_reason: dict[str, tuple[int, str]] = {}
    for r in rejected:
        n, _ = by_reason.get(r.reason, (0, ""))
        detail = f"{r.point}: {r.message}" if r.point else r.message
        by_reason[r.reason] = (n + 1, detail[:300])
    for reason, (n, detail) in by_reason.items():
        row = session.get(IngestRejection, (enterprise_id, reason), with_for_update=True)
        if row is None:
            session.add(
                IngestRejection(
                    enterprise_id=enterprise_id,
                    reason=reason,
                    count=n,
                    last_at=now,
                    last_detail=detail,
                )
            )
        else:
            row.count += n
            row.last_at, row.last_detail = now, detail


# A whole monitoring system (监测系统) powered off or shut down is 一级; a fault, offline or
# maintenance report 二级.
SYSTEM_LEVELS = {"power_off": 1, "shutdown": 1, "fault": 2, "offline": 2, "maintenance": 2}


def system_status(
    session: Session,
    enterprise_id: int,
    raw: bytes | str | dict[str, Any],
    *,
    now: int | None = None,
) -> Outcome:
    """Apply a system-level status report ``{"ts"?, "status", "detail"?}`` of an enterprise's
    monitoring system: anything but ``ok`` opens one alarm for the whole system (not one per
    point) or changes the open one; ``ok`` ends it."""
    out = Outcome()
    try:
        body = json.loads(raw) if isinstance(raw, bytes | str) else raw
    except (ValueError, UnicodeDecodeError) as exc:
        body = None
        out.reject(None, None, "malformed", f"JSON 无法解析 (malformed JSON): {exc}")
    status = body.get("status") if isinstance(body, dict) else None
    ts = (
        _epoch_ms(body.get("ts", now_ms() if now is None else now))
        if isinstance(body, dict)
        else None
    )
    if body is not None and (type(status) is not str or status not in STATUSES or ts is None):
        out.reject(None, None, "bad_status", f"系统状态无效: {status!r} (unknown status or ts)")
    if out.rejected:
        count_rejections(session, enterprise_id, out.rejected)
        return out
    assert ts is not None and isinstance(status, str)
    alarm = _system_alarm(session, enterprise_id)
    if status == "ok":
        if alarm is not None:
            alarm.ended_at = at_ms(ts)
            out.ended += 1
    elif alarm is None:
        ent = session.get(Enterprise, enterprise_id)
        assert ent is not None
        alarm = Alarm(
            enterprise_id=ent.id,
            division_code=ent.division_code,
            supervision_category=ent.supervision_category,
            kind="system",
            level=SYSTEM_LEVELS[status],
            bound=status,
            raised_at=at_ms(ts),
            state="raised",
            origin_node="",
        )
        session.add(alarm)
        out.raised += 1
    elif alarm.bound != status:
        alarm.bound, alarm.level = status, min(alarm.level, SYSTEM_LEVELS[status])
        out.escalated += 1
    else:
        return out
    if alarm is not None:
        record_change(session, alarm, entity=ALARM_ENTITY)
        out.alarms.append(alarm.id)
    return out
