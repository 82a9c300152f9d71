"""A fresh install: what ``anjian init`` creates is private to the node's user (data directory
and keys 0700, the SQLite database and its -wal/-shm 0600), and what an installed package needs
at run time is a runtime dependency and ships in the wheel. The whole first run from a built
wheel in a clean virtualenv is ``scripts/smoke_fresh.sh`` (run by ``.ci/run``)."""

from __future__ import annotations

import logging
import os
import re
import socket
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.core.iam.models import User
from anjian.enterprises.models import Enterprise
from node_env import reset_caches

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fresh_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A node configured for a data directory that does not exist yet (SQLite in it)."""
    data_dir = tmp_path / "srv" / "data"
    monkeypatch.setenv("ANJIAN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("ANJIAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("ANJIAN_CONFIG", raising=False)
    monkeypatch.setenv("ANJIAN_NODE_DIVISION", "140000")
    reset_caches()
    yield data_dir
    reset_caches()


def test_init_creates_a_private_data_dir_and_database(fresh_data_dir: Path) -> None:
    old = os.umask(0o022)  # the usual umask: files would be world-readable by default
    try:
        result = CliRunner().invoke(cli, ["init"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    database = fresh_data_dir / "anjian.db"
    assert _mode(fresh_data_dir) == 0o700
    assert _mode(fresh_data_dir.parent) == 0o700  # a missing parent is created private too
    assert _mode(database) == 0o600
    for suffix in ("-wal", "-shm"):
        side = database.with_name(database.name + suffix)
        if side.exists():  # SQLite may have checkpointed and removed them already
            assert _mode(side) == 0o600, side
    from anjian.config import get_settings

    get_settings().key_file("console")  # keys are made on first use
    keys = fresh_data_dir / "keys"
    assert _mode(keys) == 0o700
    assert [k.name for k in keys.iterdir() if _mode(k) != 0o600] == []


def test_wal_files_follow_the_database_mode(tmp_path: Path) -> None:
    from sqlalchemy import text

    from anjian.db import make_engine

    old = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'x.db'}")
        with engine.connect() as conn:  # hold it open: -wal and -shm exist meanwhile
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.commit()
            files = sorted((tmp_path / "new").iterdir())
            assert [f.name for f in files] == ["x.db", "x.db-shm", "x.db-wal"]
            assert {f.name: _mode(f) for f in files} == dict.fromkeys(
                ["x.db", "x.db-shm", "x.db-wal"], 0o600
            )
        engine.dispose()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new") == 0o700


def test_an_existing_data_dir_keeps_its_mode(tmp_path: Path) -> None:
    from anjian.config import private_dir

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    os.chmod(shared, 0o750)
    private_dir(shared / "inner")
    assert _mode(shared) == 0o750
    assert _mode(shared / "inner") == 0o700


def test_runtime_imports_are_runtime_dependencies() -> None:
    """Every third-party package the code imports is in ``dependencies``, not only in the
    test extras (httpx was: ./dev demo failed on a fresh clone with ModuleNotFoundError)."""
    import ast
    import sys

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_dist_name(d) for d in meta["dependencies"]}
    # import name -> distribution name where they differ
    dist_of = {
        "argon2": "argon2-cffi",
        "docx": "python-docx",
        "paho": "paho-mqtt",
        "pydantic_settings": "pydantic-settings",
        "pydantic_core": "pydantic",
        "starlette": "fastapi",
        "yaml": "pyyaml",
    }
    imported: set[str] = set()
    for path in (ROOT / "src" / "anjian").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "anjian"}
    missing = sorted(m for m in third_party if dist_of.get(m, m).replace("_", "-") not in runtime)
    assert missing == []


def _dist_name(requirement: str) -> str:
    import re

    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match
    return match.group(0).lower().replace("_", "-")


def test_the_wheel_carries_console_assets_and_migrations() -> None:
    """package-data covers what ``anjian serve`` reads from the package: templates, static
    files (vendor assets included once copied) and every Alembic file."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = meta["tool"]["setuptools"]["package-data"]["anjian"]
    for needed in ("**/*.html", "**/*.mako", "**/*.ini", "web/static/**/*"):
        assert needed in patterns


# --- the demo's terminal and broker ------------------------------------------------------------


def test_the_demo_broker_moves_off_a_port_another_broker_holds(
    node: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Mosquitto on the embedded broker's port: the demo's broker (and so its simulator)
    moves to a free port instead of publishing into the foreign broker."""
    from anjian.config import get_settings
    from anjian.monitoring.broker import embedded_port_for_demo
    from anjian.monitoring.cli import demo_broker_port
    from anjian.monitoring.mqtt import broker_of

    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        held = foreign.getsockname()[1]
        assert embedded_port_for_demo("127.0.0.1", held) != held
        monkeypatch.setenv("ANJIAN_MQTT_INGEST", "true")
        monkeypatch.setenv("ANJIAN_MQTT_EMBEDDED_PORT", str(held))
        get_settings.cache_clear()
        demo_broker_port()
        moved = broker_of(get_settings())
        assert moved.port != held and not moved.shared
        assert int(os.environ["ANJIAN_MQTT_EMBEDDED_PORT"]) == moved.port
        # an external broker is configured on purpose: left alone
        monkeypatch.setenv("ANJIAN_MQTT_URL", f"mqtt://127.0.0.1:{held}")
        get_settings.cache_clear()
        demo_broker_port()
        assert broker_of(get_settings()).port == held
    with socket.socket() as probe:  # a free port stays as configured
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert embedded_port_for_demo("127.0.0.1", free) == free


def test_simulator_posts_stay_out_of_the_access_log() -> None:
    from anjian.monitoring.cli import NotSimulatorPosts

    def record(path: str) -> logging.LogRecord:  # as uvicorn's access logger makes them
        return logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "POST", path, "1.1", 200),
            None,
        )

    quiet = NotSimulatorPosts()
    assert not quiet.filter(record("/api/v1/monitoring/readings"))
    assert quiet.filter(record("/login"))


def test_minute_report_counts_readings_and_new_alarms(node: Any) -> None:
    from anjian.monitoring.cli import minute_report
    from anjian.monitoring.simulate import Stats

    lines: list[str] = []
    report = minute_report(lines.append)
    report(Stats(batches=10, readings=600, skipped=1))
    report(Stats(batches=25, readings=1500, skipped=1))
    assert "发送读数 600 条" in lines[0] and "新报警 0 条" in lines[0]
    assert "发送读数 900 条" in lines[1] and "未送达 0 批" in lines[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_banner_lists_what_the_database_holds(node: Any) -> None:
    from sqlalchemy import func, select

    from anjian.accidents.models import Accident
    from anjian.hidden_hazards.models import HiddenHazard
    from anjian.major_hazards.models import MajorHazardSource
    from anjian.monitoring.models import MonitoringPoint

    result = CliRunner().invoke(cli, ["demo", "--enterprises", "20"])
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())  # Rich wraps long lines at the terminal width
    banner = flat[flat.index("数据库现有") : flat.index("控制台")]
    with node.db() as s:
        for label, model in (
            ("隐患", HiddenHazard),
            ("重大危险源", MajorHazardSource),
            ("事故", Accident),
            ("监测点", MonitoringPoint),
            ("企业", Enterprise),
            ("用户", User),
        ):
            count = s.scalar(select(func.count()).select_from(model))
            assert count and re.search(rf"[:·]{label}{count}[·(]", banner), (label, count, banner)
    # the logins come after the banner, each on its own line
    out = result.output
    assert out.index("数据库现有") < out.index("演示账户")
    assert "qiye" in out.split("演示账户")[1]
