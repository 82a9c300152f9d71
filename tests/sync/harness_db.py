"""The databases of a test network's nodes: a SQLite file each, or PostgreSQL databases the
harness creates from one migrated template and drops afterwards (see :mod:`harness`)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PG_ADMIN = os.environ.get("ANJIAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_reachable(admin_url: str = PG_ADMIN) -> bool:
    import psycopg

    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _pg_exec(sql: str, admin_url: str = PG_ADMIN) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def _pg_url(dbname: str, admin_url: str = PG_ADMIN) -> str:
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def build_schema(url: str) -> None:
    """Migrate a database and load the divisions (what `anjian init` does), in-process."""
    from anjian.core.divisions.service import load_reference
    from anjian.db import make_engine, unit_of_work
    from anjian.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        with unit_of_work(engine) as s:
            load_reference(s)
    finally:
        engine.dispose()


class Databases:
    """Fresh databases for the nodes of one network, copied from one migrated template, and
    dropped (PostgreSQL) at :meth:`close`. ``template``: a migrated SQLite file, or the name
    of a migrated PostgreSQL database; built here when not given."""

    def __init__(self, backend: str, root: Path, template: str | Path | None = None) -> None:
        if backend not in ("sqlite", "postgres"):
            raise ValueError(f"unknown backend {backend!r}")
        self.backend, self.root = backend, root
        self.tag = uuid.uuid4().hex[:8]
        self._created: list[str] = []
        self._own_template: str | None = None
        self.template = template

    def _template(self) -> str | Path:
        if self.template is not None:
            return self.template
        self.root.mkdir(parents=True, exist_ok=True)
        if self.backend == "sqlite":
            path = self.root / "template.db"
            build_schema(f"sqlite:///{path}")
            self.template = path
        else:
            name = f"anjian_net_tpl_{self.tag}"
            _pg_exec(f'CREATE DATABASE "{name}"')
            self._own_template = name
            build_schema(_pg_url(name))
            self.template = name
        return self.template

    def create(self, label: str) -> str:
        """A fresh migrated database for one node; returns its SQLAlchemy URL."""
        template = self._template()
        if self.backend == "sqlite":
            target = self.root / f"{label}.db"
            shutil.copy(template, target)
            return f"sqlite:///{target}"
        name = f"anjian_net_{self.tag}_{label}"
        _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.append(name)
        return _pg_url(name)

    def empty(self, url: str) -> None:
        """Replace a node's database with an empty one, as on a new machine (the node must be
        stopped): where ``anjian restore`` puts a backup back."""
        if self.backend == "sqlite":
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        name = url.rsplit("/", 1)[1]
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_exec(f'CREATE DATABASE "{name}"')

    def close(self) -> None:
        """Drop the databases made here, all at once (one after another, each drop takes most
        of a second)."""
        if self.backend != "postgres":
            return

        def drop(name: str) -> None:
            try:
                _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # keep dropping the others
                print(f"harness: could not drop {name}: {exc}", file=sys.stderr)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(drop, self._created))
        if self._own_template:  # after the copies: a template in use cannot be dropped
            drop(self._own_template)
        self._created.clear()
