"""A node on 一主两备 reports its replication in its health figures, measured on a real
primary with a synchronous and an asynchronous standby (``cluster.py``): both streaming, then
orange as the standbys are lost — ``备库 1/2``, then ``无同步备库``."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster

from node_env import in_process


@pytest.fixture
def cluster(pg_template: str) -> Iterator[Cluster]:
    """Three instances of the machine's PostgreSQL (``pg_template``: required in CI)."""
    made = Cluster(base_port=55441)
    try:
        made.up()
        yield made
    finally:
        made.down()


def _measured(cluster: Cluster, tmp_path: Path) -> dict[str, Any]:
    from anjian.db import unit_of_work
    from anjian.ops.health import replication

    hosts = "&".join(f"host=127.0.0.1:{port}" for port in cluster.ports.values())
    env = {
        "ANJIAN_DATA_DIR": str(tmp_path / "data"),
        "ANJIAN_DATABASE_URL": f"postgresql+psycopg://postgres@/postgres?{hosts}"
        "&target_session_attrs=read-write&connect_timeout=2",
    }
    with in_process(env), unit_of_work(read_only=True) as s:
        return replication(s)


def _until(cluster: Cluster, tmp_path: Path, streaming: int) -> dict[str, Any]:
    """The figures once ``streaming`` standbys stream (a walsender ends when its peer dies)."""
    end = time.monotonic() + 30
    while True:
        got = _measured(cluster, tmp_path)
        count = sum(1 for s in got["standbys"] if s["state"] == "streaming")
        if count == streaming or time.monotonic() > end:
            return got
        time.sleep(0.2)


@pytest.mark.slow
def test_the_health_figures_follow_the_standbys(cluster: Cluster, tmp_path: Path) -> None:
    from anjian.ops.rules import replication_problems

    got = _measured(cluster, tmp_path)
    assert got["standbys_expected"] == 2
    assert {(s["name"], s["state"], s["sync"]) for s in got["standbys"]} == {
        ("s1", "streaming", "sync"),
        ("s2", "streaming", "async"),
    }
    assert replication_problems(got) == []
    cluster.kill("s2")  # the remote standby's machine is lost
    got = _until(cluster, tmp_path, 1)
    assert replication_problems(got) == [("orange", "备库 1/2")]
    cluster.kill("s1")  # and the synchronous one: commits now wait on the primary
    got = _until(cluster, tmp_path, 0)
    assert replication_problems(got) == [("orange", "备库 0/2"), ("orange", "无同步备库")]
