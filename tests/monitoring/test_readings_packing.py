"""Finished days of readings packed into one row per point and hour (PostgreSQL): what a user
relies on is that nothing changes for them — the trend and the raw readings of a packed day are
what they were, a reading of that day arriving late is kept (and a redelivered one not
doubled), the retention still drops the day — while the day takes a fraction of the space."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from anjian.monitoring.partitions import DAY_MS, day_of, day_start_ms, partition_name

API = "/api/v1/monitoring"


def _ingest(node: Any, readings: list[dict[str, Any]]) -> None:
    from anjian.monitoring.ingest import ingest

    with node.db() as s:
        out = ingest(s, node.enterprises["ying_mine"], {"readings": readings})
    assert out.rejected == [], out.rejected


def _pack(*args: str) -> Any:
    from anjian.cli import app

    return CliRunner().invoke(app, ["readings", "pack", *args])


def _size(node: Any, table: str) -> int:
    with node.db() as s:
        return int(s.scalar(text(f"SELECT pg_total_relation_size('{table}')")) or 0)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_packed_day_reads_as_before_takes_less_room_and_takes_late_readings(
    personas: Any,
) -> None:
    node = personas
    (pid,) = node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    official = node.login("yingxian")
    now = int(time.time() * 1000)
    day = day_of(now) - 3
    start = day_start_ms(day) + 3_600_000  # 01:00 Beijing time, three days ago
    # two hours every 5 s, a faulty minute among them, and yesterday (not packed yet)
    readings = [
        {"point": "LT-1", "value": 5 + (i % 17) / 10, "ts": start + i * 5000} for i in range(1440)
    ]
    for r in readings[600:612]:
        r["status"] = "fault"
    _ingest(node, readings)
    yesterday = day_start_ms(day_of(now) - 1) + 7_200_000
    _ingest(node, [{"point": "LT-1", "value": 6.0, "ts": yesterday}])
    window = {"from": start - 60_000, "to": start + 2 * 3_600_000 + 60_000}
    series_url = f"{API}/points/{pid}/series"
    raw_url = f"{API}/points/{pid}/readings"
    before_series = node.client.get(series_url, params={**window, "step": 300}, headers=official)
    before_raw = node.client.get(raw_url, params=window, headers=official)
    assert before_series.status_code == before_raw.status_code == 200, before_raw.text
    hot_before = _size(node, partition_name(day))

    result = _pack()
    assert result.exit_code == 0, result.output
    assert f"day {day}: 1440 readings → 2 rows" in result.stdout
    assert str(day_of(now) - 1) not in result.stdout  # yesterday stays as it came
    with node.db() as s:
        assert s.scalar(text(f"SELECT count(*) FROM {partition_name(day)}")) == 0
        statuses = s.scalar(text("SELECT count(*) FROM readings_packed WHERE status IS NOT NULL"))
    assert statuses == 1  # only the hour with the faulty minute keeps a status array
    packed = _size(node, partition_name(day, "readings_packed"))
    assert packed < hot_before / 2, (packed, hot_before)
    after_series = node.client.get(series_url, params={**window, "step": 300}, headers=official)
    after_raw = node.client.get(raw_url, params=window, headers=official)
    assert after_series.json() == before_series.json()
    assert after_raw.json() == before_raw.json()
    assert len(after_raw.json()["readings"]) == 1440
    assert [r[2] for r in after_raw.json()["readings"]].count(0) == 1440 - 12

    # a late reading of that day, and one delivered again: kept once each
    _ingest(
        node,
        [
            {"point": "LT-1", "value": 9.9, "ts": start - 1000},
            {"point": "LT-1", "value": readings[0]["value"], "ts": start},
        ],
    )
    raw = node.client.get(raw_url, params=window, headers=official).json()["readings"]
    assert len(raw) == 1441 and raw[0][:2] == [start - 1000, 9.9]
    result = _pack()
    assert f"day {day}: 1441 readings → 3 rows" in result.stdout, result.output  # 00:59:59 too
    assert node.client.get(raw_url, params=window, headers=official).json()["readings"] == raw
    assert node.audits("readings.pack")

    # the retention drops the packed day with its partition
    from anjian.monitoring.partitions import drop_expired

    drop_expired(node.engine, 30, now_ms=day_start_ms(day + 1) + 30 * DAY_MS)
    with node.db() as s:
        left = s.scalar(
            text("SELECT count(*) FROM pg_class WHERE relname = :n"),
            {"n": partition_name(day, "readings_packed")},
        )
    assert left == 0


def test_packing_refuses_a_negative_age_and_leaves_sqlite_alone(personas: Any) -> None:
    result = _pack("--after-days", "-1")
    assert result.exit_code != 0 and "after-days" in result.output
    if personas.engine.dialect.name == "sqlite":
        result = _pack()
        assert result.exit_code == 0 and "nothing to do" in result.output
