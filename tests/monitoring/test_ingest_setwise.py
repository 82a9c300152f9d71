"""The set-wise ingest path (:mod:`anjian.monitoring.setwise`, PostgreSQL) decides every batch
exactly as the reading-by-reading path does. Two enterprises get the same points; one script of
worker transactions — clean batches, excursions that raise, escalate and end alarms, a delayed
bound, a methane power cut, redeliveries, late readings, status reports, unknown and deleted
points, and hostile batches (bad UTF-8, NUL, numbers beyond a double, fractional or textual
times, nested arrays, oversize batches, times out of the window) — runs through the set-wise
path for one enterprise and with it switched off for the other. Outcomes, stored readings,
alarms, live states, point statuses and refusal counters must be the same, and the set-wise
path must have taken the clean transactions itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from anjian.monitoring import setwise
from anjian.monitoring.batch import MAX_READINGS, Outcome, now_ms
from anjian.monitoring.ingest import ingest_many
from anjian.monitoring.live import PointCache
from anjian.monitoring.models import (
    Alarm,
    IngestRejection,
    MonitoringPoint,
    PointLive,
    Reading,
)
from anjian.monitoring.partitions import day_of, day_start_ms

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

POINTS = (
    {"code": "A", "kind": "tank_level", "ll": 1, "l": 2, "h": 8, "hh": 9},
    {"code": "B", "kind": "tank_level", "h": 8, "delay_s": 5},
    {"code": "C", "preset": "coal_ch4_t1_face"},
    {"code": "D", "kind": "flow"},
    {"code": "E", "kind": "pressure", "h": 8, "dead_band": 0.5},
    {"code": "Z", "kind": "flow"},
)
# The script's readings begin a minute before "now", on the same day (one day partition).
NOW = max(now_ms(), day_start_ms(day_of(now_ms())) + 120_000)
T = NOW - 60_000


def _batch(ts: int | None, *readings: tuple[Any, ...], **extra: Any) -> bytes:
    """A batch as a gateway sends it: readings (point, value[, ts[, status]])."""
    body: dict[str, Any] = {"readings": []}
    if ts is not None:
        body["ts"] = ts
    for r in readings:
        reading: dict[str, Any] = {"point": r[0], "value": r[1]}
        if len(r) > 2 and r[2] is not None:
            reading["ts"] = r[2]
        if len(r) > 3:
            reading["status"] = r[3]
        body["readings"].append(reading)
    body.update(extra)
    return json.dumps(body).encode()


def _delete_z(node: Any, enterprise_id: int) -> None:
    with node.db() as s:
        s.execute(
            update(MonitoringPoint)
            .where(MonitoringPoint.enterprise_id == enterprise_id, MonitoringPoint.code == "Z")
            .values(deleted=True)
        )


def _in_band(ts: int) -> bytes:
    return _batch(ts, ("A", 5.0), ("B", 5.0), ("C", 0.3), ("D", 12.5), ("E", 5.0), ("Z", 1.0))


# Each step is a worker transaction (a list of batches) or an act between transactions.
Step = list[bytes] | Callable[[Any, int], None]
SCRIPT: list[Step] = [
    [_in_band(T), _in_band(T + 1000)],
    # A above H then HH (raise, escalate); B above H (pending for 5 s); C above the cut
    [_batch(T + 2000, ("A", 8.5), ("B", 8.5), ("C", 1.2), ("D", 3.0), ("E", 8.2))],
    [_batch(T + 3000, ("A", 9.5), ("B", 8.6), ("C", 1.6), ("D", 3.0), ("E", 7.8))],
    # in band again: A ends; B back before its delay; C stays cut until below restore; E
    # stays raised inside the dead band
    [_batch(T + 4000, ("A", 5.0), ("B", 5.0), ("C", 1.1), ("E", 7.8)), _in_band(T + 5000)],
    [_batch(T + 6000, ("B", 8.6)), _batch(None, ("B", 8.7, T + 12_000), ("B", 8.8, T + 7000))],
    # a redelivery of an earlier transaction beside new readings
    [_in_band(T + 1000), _in_band(T + 13_000)],
    # a late reading (older than the last), alone and clean
    [_batch(T + 500, ("A", 9.9))],
    [_batch(T + 600, ("D", 4.0))],
    # an unknown point beside clean batches
    [_batch(T + 14_000, ("A", 5.0), ("NOPE", 1.0)), _in_band(T + 15_000)],
    # a status report, then the point back in order
    [_batch(T + 16_000, ("D", 1.0, None, "fault"))],
    [_batch(T + 17_000, ("D", 2.0))],
    [_in_band(T + 18_000)],
    _delete_z,
    [_in_band(T + 19_000)],
    [_batch(T + 20_000, ("A", 5.0), ("B", 5.0), ("C", 0.3), ("D", 1.0), ("E", 5.0))],
    # the same point and time twice in one transaction
    [_batch(T + 21_000, ("A", 5.0)), _batch(T + 21_000, ("A", 6.0))],
    # hostile batches, each beside a clean one
    [b"\xff\xfe{not utf-8", _batch(T + 22_000, ("A", 5.1))],
    [b'{"ts": %d, "readings": [{"point": "A\\u0000", "value": 1}]}' % (T + 23_000)],
    [b'{"ts": %d, "readings": [{"point": "A", "value": 1e400}]}' % (T + 24_000)],
    [b'{"ts": %d, "readings": [{"point": "A", "value": 5}]}' % (T + 25_000)],
    [b'{"ts": %d.5, "readings": [{"point": "A", "value": 5.2}]}' % (T + 26_000)],
    [b'{"readings": [{"point": "A", "value": 5.3, "ts": %d.0}]}' % (T + 27_000)],
    [b'{"readings": [{"point": "A", "value": 5.4, "ts": "%d"}]}' % (T + 28_000)],
    [b'{"readings": [{"point": "A", "value": "5.4", "ts": %d}]}' % (T + 29_000)],
    [b'{"readings": [{"point": "A", "value": true, "ts": %d}]}' % (T + 30_000)],
    [b'{"readings": [[{"point": "A", "value": 5.5, "ts": %d}]]}' % (T + 31_000)],
    [b'[{"point": "A", "value": 5.5}]', b"{}", b"null", b"", b'{"readings": 5}'],
    [b'{"readings": [{"point": "A", "value": 5.6}]}'],  # no time at all
    [b'{"ts": 1e30, "readings": [{"point": "A", "value": 5.6}]}'],
    [_batch(NOW + 3_600_000, ("A", 5.7)), _batch(NOW - 10**12, ("A", 5.7))],
    [_batch(T + 32_000, *[("A", 5.0, T + 32_000 + i) for i in range(MAX_READINGS + 1)])],
    [_batch(T + 33_000, ("A", 5.0), ("B\n", 5.0), ("", 5.0), (7, 5.0))],
    [_batch(T + 34_000, ("A", -0.0), ("B", 9e300), ("C", 0.0))],
    # nulls, which the record functions cannot tell from a missing key; other wrong types
    [b'{"ts": %d, "readings": [{"point": "A", "value": 5.0, "ts": null}]}' % (T + 37_000)],
    [b'{"ts": %d, "readings": [{"point": "A", "value": 5.0, "status": null}]}' % (T + 38_000)],
    [b'{"ts": "%d", "readings": [{"point": "A", "value": 5.0}]}' % (T + 39_000)],
    [b'{"ts": %d, "readings": [{"point": {"code": "A"}, "value": 5.0}]}' % (T + 40_000)],
    [b'{"ts": %d, "readings": [{"point": "A", "value": {"v": 5}}]}' % (T + 41_000)],
    [b'{"ts": %d, "readings": [{"point": "A", "value": 5.0, "status": "OK"}]}' % (T + 42_000)],
    [
        b'{"ts": %d, "readings": [{"point": "A", "value": 5.0, "unit": "m", "q": [1]}]}'
        % (T + 43_000)
    ],
    [b'{"ts": %d, "readings": [{"point": "A", "value": 5.0, "ts": %d.0}]}' % (T, T + 44_000)],
    [_in_band(T + 35_000), _batch(T + 36_000, ("A", 5.0), ("D", 1.0, None, "ok"))],
]


def _drive(node: Any, enterprise_id: int, cache: PointCache) -> list[list[tuple[Any, ...]]]:
    """Run the script for ``enterprise_id``; each transaction's outcomes and the last readings
    the worker holds after it."""
    outcomes = []
    for step in SCRIPT:
        if callable(step):
            step(node, enterprise_id)
            continue
        try:
            with node.db() as s:
                outs = ingest_many(s, [(enterprise_id, raw) for raw in step], cache=cache, now=NOW)
                held = cache.lives(s, [])  # what the worker holds: each point's last reading
        except BaseException:
            cache.clear()
            raise
        outcomes.append(
            sorted(
                (p.code, held[p.id].last_ts, held[p.id].last_value)
                for p in cache.by_id.values()
                if p.id in held
            )
        )
        outcomes.append(
            [
                (
                    o.accepted,
                    o.duplicates,
                    sorted((r.index, r.point, r.reason) for r in o.rejected),
                    o.raised,
                    o.escalated,
                    o.ended,
                    len(o.alarms),
                )
                for o in outs
            ]
        )
    with node.db() as s:
        cache.checkpoint(s)
    return outcomes


def _state(node: Any, enterprise_id: int) -> dict[str, Any]:
    """What the database holds of the enterprise's monitoring, by point code."""
    with node.db() as s:
        points = dict(
            s.execute(
                select(MonitoringPoint.id, MonitoringPoint.code).where(
                    MonitoringPoint.enterprise_id == enterprise_id
                )
            ).all()
        )
        ids = list(points)

        def moment(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {
            "readings": sorted(
                (points[r.point_id], r.ts, r.value, r.status)
                for r in s.scalars(select(Reading).where(Reading.point_id.in_(ids)))
            ),
            "alarms": sorted(
                (
                    points.get(a.point_id) if a.point_id else None,
                    a.kind,
                    a.bound,
                    a.level,
                    a.threshold,
                    a.trigger_threshold,
                    a.value,
                    a.peak,
                    moment(a.peak_at),
                    moment(a.raised_at),
                    moment(a.ended_at),
                )
                for a in s.scalars(select(Alarm).where(Alarm.enterprise_id == enterprise_id))
            ),
            "lives": sorted(
                (
                    points[lv.point_id],
                    lv.last_ts,
                    lv.last_value,
                    lv.active_bound,
                    lv.pending_bound,
                    lv.pending_since,
                    lv.alarm_id is not None,
                    lv.power_cut_alarm_id is not None,
                )
                for lv in s.scalars(select(PointLive).where(PointLive.point_id.in_(ids)))
            ),
            "statuses": sorted(
                s.execute(
                    select(MonitoringPoint.code, MonitoringPoint.status).where(
                        MonitoringPoint.enterprise_id == enterprise_id
                    )
                ).all()
            ),
            "refused": sorted(
                s.execute(
                    select(IngestRejection.reason, IngestRejection.count).where(
                        IngestRejection.enterprise_id == enterprise_id
                    )
                ).all()
            ),
        }


def test_set_wise_ingest_decides_every_batch_as_reading_by_reading(
    personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = personas
    setwise_id, plain_id = node.enterprises["ying_mine"], node.enterprises["shan_chem"]
    node.add_points("ying_mine", *POINTS)
    node.add_points("shan_chem", *POINTS)
    monkeypatch.setattr(setwise, "SUSPECT_S", 0.0)  # each transaction is tried set-wise
    taken: list[int] = []  # batches the set-wise path kept, per transaction
    real_apply = setwise.apply

    def counted(session: Any, batches: list[Any], *args: Any, **kwargs: Any) -> list[int]:
        rest = real_apply(session, batches, *args, **kwargs)
        taken.append(len(batches) - len(rest))
        return rest

    monkeypatch.setattr(setwise, "apply", counted)
    fast = _drive(node, setwise_id, PointCache(owner="setwise"))
    took = list(taken)
    monkeypatch.setattr(setwise, "apply", lambda _s, batches, *_a, **_k: list(range(len(batches))))
    plain = _drive(node, plain_id, PointCache(owner="plain"))

    assert fast == plain
    a, b = _state(node, setwise_id), _state(node, plain_id)
    for part in a:
        assert a[part] == b[part], part
    # The script did what it means to: alarms raised and ended, refusals counted, the late
    # reading stored; and the set-wise path took the clean transactions itself.
    assert {(al[0], al[1], al[2], al[10] is not None) for al in a["alarms"]} >= {
        ("A", "threshold", "hh", True),
        ("B", "threshold", "h", True),
        ("C", "power_cut", "hh", True),
    }
    assert ("A", T + 500, 9.9, 0) in a["readings"]
    assert {reason for reason, _ in a["refused"]} >= {"unknown_point", "malformed", "not_numeric"}
    assert all(took[i] > 0 for i in range(4)), took  # the first transactions are clean
    assert sum(took) >= 12, took


def test_a_bad_gateway_goes_reading_by_reading_while_the_others_stay_set_wise(
    personas: Any,
) -> None:
    node = personas
    bad_id, good_id = node.enterprises["ying_mine"], node.enterprises["shan_chem"]
    node.add_points("ying_mine", *POINTS)
    node.add_points("shan_chem", *POINTS)
    cache = PointCache(owner="worker")

    def run(*batches: tuple[int, bytes]) -> list[int]:
        with node.db() as s:
            outs = [Outcome() for _ in batches]
            return setwise.apply(s, list(batches), outs, cache, now=NOW)

    unknown = _batch(T, ("NOPE", 1.0))
    # one unknown point gives the whole transaction back, and marks its enterprise alone
    assert run((good_id, _in_band(T)), (bad_id, unknown)) == [0, 1]
    assert set(cache.suspects) == {bad_id}
    # next time the bad enterprise's batch is left aside at once; the good one is taken
    assert run((good_id, _in_band(T)), (bad_id, _batch(T, ("A", 5.0)))) == [1]
    with node.db() as s:
        stored = s.scalars(
            select(Reading.ts)
            .join(MonitoringPoint, MonitoringPoint.id == Reading.point_id)
            .where(MonitoringPoint.enterprise_id == good_id)
        ).all()
    assert len(stored) == 6 and set(stored) == {T}
    # once the time is up, it is tried again
    cache.suspects[bad_id] = 0.0
    assert run((bad_id, _batch(T + 1000, ("A", 5.0)))) == []
