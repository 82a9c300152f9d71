"""Node health (节点健康): a node reports itself as one synced record that travels up; a parent's
``GET /api/v1/ops/health`` lists its subtree within the caller's jurisdiction, the worst first —
red where a node is silent or late, orange where it was not backed up for two days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from anjian.core.sync.models import OutboxEntry
from anjian.db import database_hosts
from anjian.ops.health import REPORT_EVERY_S, report
from anjian.ops.models import HEALTH_ENTITY, NodeHealth
from anjian.ops.rules import health_problems, replication_problems
from samples import node_health


def test_health_problems_by_the_table() -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    minute, fresh = timedelta(minutes=1), now - timedelta(hours=1)
    table = [
        (now - minute, 60, 0.5, fresh, []),
        (now - 2 * minute, 60, None, fresh, []),  # no parent: no lag
        (now - 4 * minute, 60, 0.5, fresh, [("red", "失联")]),  # three reports missed
        (now - 2 * minute, 10, 0.5, fresh, []),  # never silent under three minutes
        (now - 20 * minute, 600, 0.5, fresh, []),  # reports every ten minutes
        (now - minute, 60, 601.0, fresh, [("red", "转发滞后")]),
        (now - minute, 60, 600.0, fresh, []),
        (now - minute, 60, 0.5, None, [("orange", "未备份")]),
        (now - minute, 60, 0.5, now - timedelta(days=2, minutes=1), [("orange", "两天未备份")]),
        (
            now - 9 * minute,
            60,
            900.0,
            None,
            [("red", "失联"), ("red", "转发滞后"), ("orange", "未备份")],
        ),
    ]
    for reported, every, lag, backup, expected in table:
        assert health_problems(now, reported, every, lag, backup) == expected, (reported, lag)


def test_replication_problems_by_the_table() -> None:
    s1 = {"name": "s1", "state": "streaming", "sync": "sync"}
    s2 = {"name": "s2", "state": "streaming", "sync": "async"}
    catching_up = {"name": "s2", "state": "catchup", "sync": "async"}
    table: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({}, []),  # SQLite: nothing to say
        ({"standbys_expected": 0, "standbys": []}, []),  # one PostgreSQL server
        ({"standbys_expected": 2, "standbys": [s1, s2]}, []),
        ({"standbys_expected": 2, "standbys": [s1, catching_up]}, [("orange", "备库 1/2")]),
        ({"standbys_expected": 2, "standbys": [s1]}, [("orange", "备库 1/2")]),
        (
            {"standbys_expected": 2, "standbys": [s2]},
            [("orange", "备库 1/2"), ("orange", "无同步备库")],
        ),
        (
            {"standbys_expected": 2, "standbys": []},
            [("orange", "备库 0/2"), ("orange", "无同步备库")],
        ),
        ({"standbys_expected": 1, "standbys": [{**s1, "sync": "quorum"}]}, []),
        # a child's figures as sent, not of the shape: nothing judged, nothing raised
        ({"standbys_expected": "2", "standbys": []}, []),
        ({"standbys_expected": True, "standbys": []}, []),
        ({"standbys_expected": 2**70, "standbys": "s1"}, []),
        (
            {"standbys_expected": 1, "standbys": ["s1", None, 3]},
            [
                ("orange", "备库 0/1"),
                ("orange", "无同步备库"),
            ],
        ),
    ]
    for figures, expected in table:
        assert replication_problems(figures) == expected, figures


def test_the_database_hosts_a_url_names() -> None:
    table = [
        ("postgresql+psycopg://a@db1:5433/anjian", ["db1:5433"]),
        ("postgresql+psycopg://a@db1/anjian", ["db1:5432"]),
        (
            "postgresql+psycopg://a@/anjian?host=db1:5432&host=db2:5432&host=db3:5432"
            "&target_session_attrs=read-write",
            ["db1:5432", "db2:5432", "db3:5432"],
        ),
        ("postgresql+psycopg://a@/anjian?host=db1:5432,db2:5432", ["db1:5432", "db2:5432"]),
        ("sqlite:///data/anjian.db", []),
    ]
    for url, hosts in table:
        assert database_hosts(make_url(url)) == hosts, url


def test_a_node_reports_itself_as_one_record_that_travels_up(personas: Any) -> None:
    node = personas
    with node.db() as s:
        first = report(s)
        assert first.division_code == "140000" and first.every_s == REPORT_EVERY_S
    with node.db() as s:
        report(s)
    with node.db() as s:
        rows = list(s.scalars(select(NodeHealth)))
        assert len(rows) == 1 and rows[0].version == 2 and rows[0].origin_node == "node-140000"
        figures = rows[0].figures
        assert figures["database_bytes"] > 100_000 and figures["disk_free_bytes"] > 0
        assert figures["points_reporting"] == 0 and figures["children"] == 0
        queued = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == HEALTH_ENTITY)).all()
        assert [e.version for e in queued] == [1, 2]


def _received(node: Any, division: str, *, ago_s: float, lag_s: float | None, backup: bool) -> None:
    """A health record as it arrives from the node of ``division`` below."""
    with node.db() as s:
        s.add(
            node_health(
                division,
                ago_s=ago_s,
                lag_s=lag_s,
                backlog=3 if lag_s else 0,
                backup_ago_h=3 if backup else None,
                figures={"points_reporting": 12, "database_bytes": 2_500_000_000},
            )
        )


def test_the_subtree_is_listed_worst_first_within_the_jurisdiction(personas: Any) -> None:
    node = personas
    _received(node, "140600", ago_s=30, lag_s=1.0, backup=True)  # 朔州市: well
    _received(node, "140622", ago_s=900, lag_s=1.0, backup=True)  # 应县: silent
    _received(node, "140621", ago_s=30, lag_s=1500.0, backup=False)  # 山阴县: late, no backup
    _received(node, "140100", ago_s=30, lag_s=None, backup=False)  # 太原市: no backup
    province = node.client.get("/api/v1/ops/health", headers=node.login("sheng"))
    assert province.status_code == 200, province.text
    got = [(h["division_code"], h["severity"], h["problems"]) for h in province.json()]
    assert got == [
        ("140621", "red", ["转发滞后", "未备份"]),
        ("140622", "red", ["失联"]),
        ("140100", "orange", ["未备份"]),
        ("140600", "green", []),
    ]
    assert province.json()[0]["division_name"] == "山阴县"
    city = node.client.get("/api/v1/ops/health", headers=node.login("shuozhou")).json()
    assert {h["division_code"] for h in city} == {"140600", "140621", "140622"}
    county = node.client.get("/api/v1/ops/health", headers=node.login("yingxian")).json()
    assert [h["division_code"] for h in county] == ["140622"]
    assert node.client.get("/api/v1/ops/health", headers=node.login("qiye")).status_code == 403
    assert node.client.get("/api/v1/ops/health").status_code == 401
