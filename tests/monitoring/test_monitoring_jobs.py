"""What monitoring does without anyone asking: silent points go offline with a status alarm (one
system alarm instead when the whole system is down), unacknowledged alarms are escalated to the
upper tier's duty desk, and each monitored unit carries a live risk level."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update

from anjian.core.audit.models import AuditRecord
from anjian.db import utcnow
from anjian.monitoring.models import Alarm, MonitoringPoint

API = "/api/v1/monitoring"


def _headers(node: Any, who: str) -> dict[str, str]:
    cache = node.__dict__.setdefault("_headers", {})
    if who not in cache:
        cache[who] = node.login(who)
    return cache[who]


def _points(node: Any, *codes: str, enterprise: str = "ying_mine", **extra: Any) -> list[int]:
    ids = []
    for code in codes:
        r = node.client.post(
            f"{API}/points",
            json={"enterprise_id": node.enterprises[enterprise], "code": code, **extra},
            headers=_headers(node, "admin"),
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _apply(node: Any, fn: Any, *args: Any) -> Any:
    with node.db() as s:
        return fn(s, *args)


def _alarms(node: Any, **query: Any) -> list[dict[str, Any]]:
    r = node.client.get("/api/v1/alarms", params=query, headers=_headers(node, "yingxian"))
    return r.json()["items"]


def test_silent_points_go_offline_and_a_system_outage_is_one_alarm(personas: Any) -> None:
    from anjian.monitoring.alarms import escalate_unacknowledged, mark_silent
    from anjian.monitoring.ingest import ingest, system_status

    node = personas
    mine = node.enterprises["ying_mine"]
    p1, p2, p3 = _points(node, "P1", "P2", "P3", kind="co", period_s=10)
    now = int(time.time() * 1000)
    _apply(node, ingest, mine, {"ts": now, "readings": [{"point": "P1", "value": 1.0}]})
    # 25 s: nobody silent for three periods yet; 31 s: P1 (last reading) and P2, P3 (never
    # reported since registration) are offline
    assert _apply(node, mark_silent, now + 25_000) == 0
    # a node that started watching 5 s later has heard nothing for 26 s only: not yet
    assert _apply(node, mark_silent, now + 31_000, now + 5_000) == 0
    assert _apply(node, mark_silent, now + 31_000) == 3
    assert _apply(node, mark_silent, now + 60_000) == 0  # already offline
    status = _alarms(node, kind="status", active="true")
    assert sorted(a["point_id"] for a in status) == [p1, p2, p3]
    assert {(a["level"], a["bound"], a["bound_label"]) for a in status} == {(2, "offline", "离线")}
    # P1 reports again: back to normal, its status alarm ends
    _apply(node, ingest, mine, {"ts": now + 61_000, "readings": [{"point": "P1", "value": 1.0}]})
    got = node.client.get(f"{API}/points/{p1}", headers=_headers(node, "qiye")).json()
    assert got["status"] == "ok"
    assert sorted(a["point_id"] for a in _alarms(node, kind="status", active="true")) == [p2, p3]
    # the whole system powered off: one 一级 alarm; points going silent meanwhile raise none
    _apply(node, system_status, mine, {"ts": now + 62_000, "status": "power_off"})
    assert _apply(node, mark_silent, now + 200_000) == 1  # P1 again
    assert len(_alarms(node, kind="status", active="true")) == 2
    system = _alarms(node, kind="system")
    assert [(a["level"], a["bound"], a["bound_label"]) for a in system] == [
        (1, "power_off", "断电")
    ]
    _apply(node, system_status, mine, {"ts": now + 300_000, "status": "ok"})
    assert _alarms(node, kind="system", active="true") == []
    # alarms left unacknowledged past their deadline are escalated (audited, and the stamp
    # travels up with the alarm); an acknowledged one is not
    with node.db() as s:
        status_ids = s.scalars(
            select(Alarm.id).where(Alarm.kind == "status").order_by(Alarm.id)
        ).all()
    assert len(status_ids) == 3
    r = node.client.post(
        f"/api/v1/alarms/{status_ids[0]}/acknowledge", headers=_headers(node, "qiye")
    )
    assert r.status_code == 200
    with node.db() as s:
        s.execute(update(Alarm).values(raised_at=utcnow() - timedelta(hours=1)))
    assert _apply(node, escalate_unacknowledged) == 3  # two status alarms and the system's
    assert _apply(node, escalate_unacknowledged) == 0
    desk = {a["id"] for a in _alarms(node, escalated="true")}
    assert len(desk) == 3 and status_ids[0] not in desk
    with node.db() as s:
        escalations = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "alarm.escalate")
        ).all()
        assert len(escalations) == 3
        assert s.get(MonitoringPoint, p3).status == "offline"


def test_live_risk_rises_with_alarms_and_falls_back(personas: Any) -> None:
    from anjian.monitoring.ingest import ingest

    node = personas
    chem = node.enterprises["shan_chem"]
    r = node.client.post(
        "/api/v1/major-hazards",
        json={
            "enterprise_id": chem,
            "name": "液氯液氨储罐区",
            "people_within_500m": 60,
            "units": [
                {
                    "name": "罐区",
                    "kind": "storage",
                    "chemicals": [
                        {"name": "液氯", "quantity_t": 8},
                        {"name": "液氨", "quantity_t": 5},
                    ],
                }
            ],
        },
        headers=_headers(node, "shanyin"),
    )
    assert r.status_code == 201, r.text
    source = r.json()
    assert source["grade"] == 3  # 三级: inherent 一般 (yellow)
    _points(
        node,
        "LT-1",
        enterprise="shan_chem",
        kind="tank_level",
        h=8,
        hh=9,
        major_hazard_id=source["id"],
    )
    board = node.client.get(f"{API}/live-risk", headers=_headers(node, "shanyin")).json()
    (src_row,) = board["major_hazards"]
    assert (src_row["inherent"], src_row["level"], src_row["colour"], src_row["raised_by"]) == (
        "general",
        "general",
        "yellow",
        0,
    )
    now = int(time.time() * 1000)
    _apply(node, ingest, chem, {"ts": now, "readings": [{"point": "LT-1", "value": 9.5}]})
    board = node.client.get(f"{API}/live-risk", headers=_headers(node, "shanyin")).json()
    (src_row,) = board["major_hazards"]
    (ent_row,) = board["enterprises"]
    assert (src_row["level"], src_row["level_label"], src_row["colour"]) == (
        "major",
        "重大风险",
        "red",
    )
    assert src_row["alarms_level1"] == 1 and src_row["reasons"] == ["严重报警 1 条"]
    assert (ent_row["id"], ent_row["level"], ent_row["lng"]) == (chem, "major", 112.82)
    # another county sees none of it
    other = node.client.get(f"{API}/live-risk", headers=_headers(node, "yingxian")).json()
    assert other == {"enterprises": [], "major_hazards": []}
    _apply(node, ingest, chem, {"ts": now + 1000, "readings": [{"point": "LT-1", "value": 5.0}]})
    board = node.client.get(f"{API}/live-risk", headers=_headers(node, "shuozhou")).json()
    assert [r["level"] for r in board["major_hazards"]] == ["general"]


def test_minute_summaries_are_made_once_and_draw_the_trend_above(personas: Any) -> None:
    from anjian.core.sync.models import OutboxEntry
    from anjian.monitoring.ingest import ingest
    from anjian.monitoring.jobs import summarise_minutes
    from anjian.monitoring.models import MinuteSummary

    node = personas
    mine = node.enterprises["ying_mine"]
    (pid,) = _points(node, "FT-1", kind="flow")
    now = int(time.time() * 1000)
    base = (now - 5 * 60_000) // 60_000 * 60_000
    readings = [
        {"point": "FT-1", "value": float(m * 10 + i), "ts": base + m * 60_000 + i * 10_000}
        for m in range(3)
        for i in range(6)
    ]
    _apply(node, ingest, mine, {"readings": readings})
    assert _apply(node, summarise_minutes, now) == 3
    assert _apply(node, summarise_minutes, now) == 0  # each minute once
    with node.db() as s:
        uid = s.get(MonitoringPoint, pid).uid
        rows = s.scalars(select(MinuteSummary).order_by(MinuteSummary.minute)).all()
        assert [r.minute for r in rows] == [base, base + 60_000, base + 120_000]
        assert rows[1].points == {uid: [6, 10.0, 15.0, 12.5]}
        sent = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "monitoring_minute")).all()
        assert len(sent) == 3
        # as an upper node holds it: a copy whose raw readings stayed at the access node
        s.execute(update(MonitoringPoint).values(origin_node="node-140622"))
    url = f"{API}/points/{pid}/series?from={base}&to={base + 180_000}&step=60"
    series = node.client.get(url, headers=_headers(node, "shuozhou")).json()
    assert [(b["ts"], b["n"], b["min"], b["max"], b["avg"]) for b in series["items"]] == [
        (base, 6, 0.0, 5.0, 2.5),
        (base + 60_000, 6, 10.0, 15.0, 12.5),
        (base + 120_000, 6, 20.0, 25.0, 22.5),
    ]


def test_expired_readings_go_and_recent_ones_stay(personas: Any) -> None:
    from anjian.db import get_engine
    from anjian.monitoring.jobs import keep_readings
    from anjian.monitoring.models import Reading
    from anjian.monitoring.partitions import DAY_MS, ensure_partitions

    node = personas
    (pid,) = _points(node, "FT-1", kind="flow")
    now = int(time.time() * 1000)
    old = now - 200 * DAY_MS  # beyond the default 180 days
    times = [old, old + 1000, now - DAY_MS, now]
    ensure_partitions(get_engine(), times)
    with node.db() as s:
        s.execute(
            Reading.__table__.insert(),
            [{"point_id": pid, "ts": t, "value": 1.0, "status": 0} for t in times],
        )
    assert keep_readings(now) >= 1  # a partition dropped (PostgreSQL) or two rows (SQLite)
    with node.db() as s:
        left = s.scalars(select(Reading.ts).order_by(Reading.ts)).all()
    assert left == [now - DAY_MS, now]
    if node.engine.dialect.name == "postgresql":
        with node.db() as s:
            parts = s.execute(
                text(
                    "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
                    "WHERE p.relname = 'readings'"
                )
            ).scalar()
        assert parts >= 2  # yesterday's, today's and tomorrow's made ahead


def test_expired_minute_summaries_go_and_recent_ones_stay(personas: Any, monkeypatch) -> None:
    from anjian.config import get_settings
    from anjian.monitoring import jobs
    from anjian.monitoring.models import MinuteSummary
    from anjian.monitoring.partitions import DAY_MS

    node = personas
    now = int(time.time() * 1000) // 60_000 * 60_000
    minutes = [now - 400 * DAY_MS, now - 367 * DAY_MS, now - 365 * DAY_MS, now - 60_000]
    with node.db() as s:
        for m in minutes:
            s.add(
                MinuteSummary(
                    enterprise_id=node.enterprises["ying_mine"],
                    division_code="140622",
                    minute=m,
                    points={},
                    uid=f"01938f4e-0000-7000-8000-{m % 10**12:012d}",
                    origin_node="node-140622",
                    version=1,
                )
            )
    monkeypatch.setattr(jobs, "_PRUNE_CHUNK", 1)  # several transactions, as a first prune
    assert get_settings().monitoring_minutes_retention_days == 366
    assert jobs.keep_minutes(now) == 2
    assert jobs.keep_minutes(now) == 0
    with node.db() as s:
        left = s.scalars(select(MinuteSummary.minute).order_by(MinuteSummary.minute)).all()
    assert left == minutes[2:]


def test_a_faulty_point_keeps_one_status_alarm_until_it_reports_normally(personas: Any) -> None:
    """A sensor reporting a fault (a frozen value) is not silent: the silence check leaves it
    faulty, run after run, rather than flipping it to offline and back with a new alarm each
    time; a move to another out-of-service state keeps the same alarm, naming the new state,
    which ends only when the point reports normally."""
    from anjian.monitoring.alarms import mark_silent
    from anjian.monitoring.ingest import ingest

    node = personas
    mine = node.enterprises["ying_mine"]
    (tt,) = _points(node, "TT-601", kind="co", period_s=10)
    now = int(time.time() * 1000)

    def status_alarms() -> list[dict[str, Any]]:
        return [a for a in _alarms(node, kind="status") if a["point_id"] == tt]

    def report(at: int, **reading: Any) -> None:
        _apply(node, ingest, mine, {"ts": at, "readings": [{"point": "TT-601", **reading}]})

    report(now, value=3.0)
    for k in range(1, 13):  # two minutes of fault reports, the silence check every 30 s
        report(now + k * 10_000, value=3.0, status="fault")
        if k % 3 == 0:
            assert _apply(node, mark_silent, now + k * 10_000 + 5_000) == 0
    with node.db() as s:
        assert s.get(MonitoringPoint, tt).status == "fault"
    status = status_alarms()
    assert [(a["bound"], a["ended_at"]) for a in status] == [("fault", None)]
    report(now + 130_000, status="offline")  # the gateway then loses the sensor
    again = status_alarms()
    assert [(a["id"], a["bound"], a["ended_at"]) for a in again] == [
        (status[0]["id"], "offline", None)
    ]
    report(now + 140_000, value=3.1)  # back to normal: the one alarm ends
    ended = status_alarms()
    assert len(ended) == 1 and ended[0]["ended_at"] is not None
