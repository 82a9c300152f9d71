"""Finished days of readings packed into one row per point and hour (PostgreSQL): what a user
relies on is that nothing changes for them — the trend and the raw readings of a packed day are
what they were, a reading of that day arriving late is kept (and a redelivered one not
doubled), the retention still drops the day — while the day takes a fraction of the space; and
a day past the retention is archived, with its SM3 digest, before it is dropped."""

from __future__ import annotations

import csv
import lzma
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from anjian.enterprises.rules import compose_uscc
from anjian.monitoring.partitions import DAY_MS, day_of, day_start_ms, partition_name

API = "/api/v1/monitoring"
MINE_USCC = compose_uscc("140622", "MA0K0001")


def _ingest(node: Any, readings: list[dict[str, Any]]) -> None:
    from anjian.monitoring.ingest import ingest

    with node.db() as s:
        out = ingest(s, node.enterprises["ying_mine"], {"readings": readings})
    assert out.rejected == [], out.rejected


def _pack(*args: str) -> Any:
    from anjian.cli import app

    return CliRunner().invoke(app, ["readings", "pack", *args])


def _archive(*args: str) -> Any:
    from anjian.cli import app

    return CliRunner().invoke(app, ["readings", "archive", *args])


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


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_days_past_the_retention_are_archived_with_their_digest_then_dropped(
    personas: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from anjian.config import get_settings
    from anjian.core.crypto import sm3_file
    from anjian.monitoring.packing import pack_day
    from anjian.monitoring.partitions import ensure_partitions

    node = personas
    (pid,) = node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level"})
    monkeypatch.setenv("ANJIAN_MONITORING_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    now = int(time.time() * 1000)
    day = day_of(now) - 40  # older than the ingest accepts: written as a node had kept it
    start = day_start_ms(day) + 3_600_000
    ensure_partitions(node.engine, [start])

    def store(first: int, last: int) -> None:
        with node.db() as s:
            s.execute(
                text(
                    "INSERT INTO readings (point_id, ts, value, status) "
                    "SELECT :pid, :start + i * 60000, i / 10.0, CASE WHEN i = 7 THEN 2 ELSE 0 END "
                    "FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS i"
                ),
                {"pid": pid, "start": start, "first": first, "last": last},
            )

    store(0, 59)
    pack_day(node.engine, day)
    store(60, 99)  # the day in both forms: packed and as stored

    # no directory named, a file, a directory that cannot be made: refused, nothing dropped
    assert "--to" in _archive().output
    (tmp_path / "file").write_text("x")
    assert "not a directory" in _archive("--to", str(tmp_path / "file")).output
    result = _archive("--to", str(tmp_path / "file" / "sub"))
    assert result.exit_code == 1 and "cannot write the archive" in result.output
    with node.db() as s:
        assert s.scalar(text(f"SELECT count(*) FROM {partition_name(day)}")) == 40

    result = _archive("--to", str(tmp_path / "archive"))
    assert result.exit_code == 0, result.output
    path = tmp_path / "archive" / f"readings-{partition_name(day)[-8:]}.csv.xz"
    assert f"day {day}: 100 readings" in result.stdout
    with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["uscc", "point", "ts", "value", "status"]
    assert [int(line[2]) for line in lines[1:]] == [start + i * 60_000 for i in range(100)]
    assert {(line[0], line[1]) for line in lines[1:]} == {(MINE_USCC, "LT-1")}
    assert [line[4] for line in lines[1:]].count("2") == 1
    digest, name = (tmp_path / "archive" / f"{path.name}.sm3").read_text().split()
    assert (digest, name) == (sm3_file(path), path.name)
    with node.db() as s:
        left = s.scalar(
            text("SELECT count(*) FROM pg_class WHERE relname IN (:a, :b)"),
            {"a": partition_name(day), "b": partition_name(day, "readings_packed")},
        )
    assert left == 0
    audit = node.audits("readings.archive")[-1]
    assert audit.detail["sm3"] == [digest]
