"""What the benchmarks share: a log line, free ports, waiting for a condition, percentiles, and
a fresh database per run (a PostgreSQL database dropped at the end, or a SQLite file)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ANJIAN = str(Path(sys.executable).parent / "anjian")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def reachable(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Database:
    """A fresh database for one run: a PostgreSQL database (dropped by :meth:`drop`) or a
    SQLite file under the run's directory."""

    backend: str
    url: str  # SQLAlchemy URL
    admin_url: str
    name: str | None = None

    @classmethod
    def create(cls, backend: str, root: Path, admin_url: str, label: str) -> Database:
        if backend == "sqlite":
            root.mkdir(parents=True, exist_ok=True)
            return cls(backend, f"sqlite:///{root / f'{label}.db'}", admin_url)
        import psycopg

        name = f"anjian_bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return cls(backend, f"{base}/{name}", admin_url, name)

    @property
    def plain_url(self) -> str:
        """libpq URL (PostgreSQL) or file path (SQLite)."""
        if self.backend == "sqlite":
            return self.url.removeprefix("sqlite:///")
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def drop(self) -> None:
        if self.name is None:
            return
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception as exc:
            log(f"could not drop {self.name}: {exc}")


def cli(env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 300) -> str:
    result = subprocess.run(
        [ANJIAN, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env["ANJIAN_DATA_DIR"],
    )
    if result.returncode != 0:
        raise RuntimeError(f"anjian {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result.stdout


def node_env(db: Database, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a node on ``db`` (no ``ANJIAN_*`` of the caller's): MFA off, no
    forwarder or background jobs, no MQTT ingest; ``settings`` (``ANJIAN_`` + upper name) on
    top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
    env |= {
        "ANJIAN_DATA_DIR": str(data_dir),
        "ANJIAN_DATABASE_URL": db.url,
        "ANJIAN_MFA_REQUIRED_ROLES": "[]",
        "ANJIAN_SYNC_FORWARDER": "false",
        "ANJIAN_BACKGROUND_JOBS": "false",
        "ANJIAN_MQTT_INGEST": "false",
        "ANJIAN_HOST": HOST,
        "ANJIAN_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }
    env |= {f"ANJIAN_{k.upper()}": v for k, v in settings.items()}
    data_dir.mkdir(parents=True, exist_ok=True)
    return env


@contextlib.contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``anjian serve`` on ``env`` until the block ends; yields its base URL."""
    import httpx

    url = f"http://{HOST}:{env['ANJIAN_PORT']}"
    proc = subprocess.Popen(
        [ANJIAN, "serve"],
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=env["ANJIAN_DATA_DIR"],
    )

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"anjian serve exited; see {log_path}")
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait(healthy, 60, "anjian serve")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
