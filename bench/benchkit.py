"""What the benchmarks share: a log line, free ports, waiting for a condition, percentiles, and
a fresh database per run (a PostgreSQL database dropped at the end, or a SQLite file)."""

from __future__ import annotations

import socket
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


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
