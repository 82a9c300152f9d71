"""Test fixtures: real databases built by the migrations (SQLite always; PostgreSQL when the
server is reachable, and required in CI), a fresh node per test, named personas per tier, the
demo province (``anjian demo`` once per backend and worker, a copy for each test), and the MQTT
brokers and ingest worker of the monitoring and security tests.

Personas (Zulip style), all in 山西省 (140000), the node's jurisdiction:
  admin      node administrator                 140000
  sheng      province official  山西省           140000
  shuozhou   city official      朔州市           140600
  yingxian   county official    应县             140622
  shanyin    county official    山阴县           140621 (a sibling county of 应县)
  qiye       enterprise user of the 应县 enterprise 应县金鼎煤业有限公司
  jianchaju  coal-mine inspection bureau official whose area is 应县 and 山阴县 (coal mines only)
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from node_env import forget_session, reset_caches

if TYPE_CHECKING:
    from anjian.core.audit.models import AuditRecord

PASSWORD = "Anjian#2026"
PG_ADMIN = os.environ.get("ANJIAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NODE_DIVISION = "140000"


def _build(url: str) -> None:
    from anjian.core.divisions.service import load_reference
    from anjian.db import make_engine, unit_of_work
    from anjian.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as s:
        load_reference(s)
    engine.dispose()


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _pg_exec(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _sqlalchemy_pg(dbname: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``one_backend`` — tables of bad input, refused before the database has a
    say — run on PostgreSQL only, the production database (where NUL characters and 64-bit
    overflows are refused, not stored), or on SQLite when PostgreSQL is unreachable locally;
    ``ANJIAN_TEST_BACKENDS=both`` runs them on both. Each table's twin on the other backend
    added minutes to the run and no case of its own."""
    if os.environ.get("ANJIAN_TEST_BACKENDS") == "both":
        return
    marked = [item for item in items if item.get_closest_marker("one_backend")]
    if not marked:
        return
    drop = "sqlite" if os.environ.get("CI") or _pg_reachable() else "postgres"
    dropped = [
        item
        for item in marked
        if getattr(item, "callspec", None) is not None
        and drop in (item.callspec.params.get(f) for f in ("database_url", "demo"))
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in gone]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    _build(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not _pg_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN}: PostgreSQL variants skipped locally")
    name = f"anjian_tpl_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    _build(_sqlalchemy_pg(name))
    yield name
    _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database with the divisions loaded, on each backend. A test that uses
    the personas gets a copy of the database (and data directory) they were made in once per
    backend and worker (:func:`personas`): making them costs more than most tests do."""
    if "personas" in request.fixturenames:
        made: Template = request.getfixturevalue(f"personas_{request.param}")
        shutil.copytree(made.data_dir, tmp_path / "data")
        template = made.source
    else:
        base = "sqlite_template" if request.param == "sqlite" else "pg_template"
        template = str(request.getfixturevalue(base))
    if request.param == "sqlite":
        yield _sqlite_copy(template, tmp_path / "anjian.db")
        return
    with _pg_copy(template) as name:
        yield _sqlalchemy_pg(name)


@dataclass
class Node:
    """One node under test: its settings in the environment, its app and its database."""

    url: str
    data_dir: Path
    client: TestClient
    users: dict[str, int] = field(default_factory=dict)
    enterprises: dict[str, int] = field(default_factory=dict)
    output: str = ""  # what ``anjian demo`` printed (the ``demo`` fixture)

    @property
    def engine(self) -> Engine:
        from anjian.db import get_engine

        return get_engine()

    @contextmanager
    def db(self) -> Iterator[Session]:
        """A unit of work on the node's database (commits at the end)."""
        from anjian.db import unit_of_work

        with unit_of_work() as s:
            yield s

    def login(
        self, username: str, password: str = PASSWORD, otp: str | None = None
    ) -> dict[str, str]:
        """Log in through the API; returns the Authorization header."""
        body = {"username": username, "password": password}
        if otp:
            body["otp"] = otp
        r = self.client.post("/api/v1/auth/login", json=body)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def add_user(
        self, username: str, role: str, division_code: str, password: str = PASSWORD, **extra: Any
    ) -> int:
        """Add a user as the system does (``anjian user add``), ``extra`` being the further
        keywords of ``create_user``; remembered in ``users``, returns its id."""
        from anjian.core.audit.service import SYSTEM
        from anjian.core.iam.models import Role
        from anjian.core.iam.service import create_user

        with self.db() as s:
            user = create_user(
                s,
                SYSTEM,
                username=username,
                password=password,
                role=Role(role),
                division_code=division_code,
                **extra,
            )
            self.users[username] = user.id
        return user.id

    def enrol_mfa(self, username: str) -> tuple[str, list[str]]:
        """Bind an authenticator to ``username`` as the operator's CLI does; returns the TOTP
        secret and the recovery codes."""
        from anjian.core.audit.service import SYSTEM
        from anjian.core.iam.models import User
        from anjian.core.iam.service import enrol_totp_directly

        with self.db() as s:
            return enrol_totp_directly(s, SYSTEM, s.get(User, self.users[username]))

    def add_points(self, enterprise: str, *specs: dict[str, Any]) -> list[int]:
        """Monitoring points of the personas' ``enterprise`` (``ying_mine``…), each made from the
        fields of a ``PointCreate``, as the system; returns their ids."""
        from anjian.core.audit.service import SYSTEM
        from anjian.core.scope import Scope
        from anjian.monitoring.points import create_point
        from anjian.monitoring.schemas import PointCreate

        everything = Scope.for_division(None, "admin", ["000000"])
        enterprise_id = self.enterprises[enterprise]
        with self.db() as s:
            return [
                create_point(
                    s, SYSTEM, everything, PointCreate(enterprise_id=enterprise_id, **spec)
                ).id
                for spec in specs
            ]

    def audits(self, action: str | None = None, **columns: str) -> list[AuditRecord]:
        """The audit records of ``action`` (a pattern when it holds ``%``: ``"alarm.%"``) whose
        ``columns`` hold the values given (``object_type="checklist"``), oldest first."""
        from sqlalchemy import select

        from anjian.core.audit.models import AuditRecord

        stmt = select(AuditRecord).order_by(AuditRecord.seq)
        if action is not None:
            column = AuditRecord.action
            stmt = stmt.where(column.like(action) if "%" in action else column == action)
        for name, value in columns.items():
            stmt = stmt.where(getattr(AuditRecord, name) == value)
        with self.db() as s:
            return list(s.scalars(stmt))


# The settings of a node under test (with its database and data directory).
NODE_ENV = {
    "ANJIAN_NODE_DIVISION": NODE_DIVISION,
    "ANJIAN_MFA_REQUIRED_ROLES": "[]",
    "ANJIAN_SYNC_FORWARDER": "false",  # multi-node tests run real processes
    "ANJIAN_BACKGROUND_JOBS": "false",  # tests run the jobs when they mean to
    "ANJIAN_MQTT_INGEST": "false",  # MQTT tests start their own worker
    # Cheap argon2 here: hashing cost is not what these tests are about (≈ 0.2 s per login).
    "ANJIAN_PASSWORD_HASH_TIME_COST": "1",
    "ANJIAN_PASSWORD_HASH_MEMORY_KIB": "1024",
    # Tests log in as one persona dozens of times a minute; the rate-limit tests (tests/security)
    # give the application a guard of their own.
    "ANJIAN_LOGIN_RATE_PER_IP": "100000",
    "ANJIAN_LOGIN_RATE_PER_ACCOUNT": "100000",
}
# ``anjian demo`` as a newcomer meets it: with the default MFA roles.
DEMO_MFA_ROLES = '["admin", "official"]'


def _node_env(url: str, data_dir: Path, **env: str) -> dict[str, str]:
    """The settings of the node on ``url`` with its data in ``data_dir``: ``env`` over
    :data:`NODE_ENV`."""
    return {**NODE_ENV, "ANJIAN_DATABASE_URL": url, "ANJIAN_DATA_DIR": str(data_dir), **env}


def _client() -> TestClient:
    from anjian.app import create_app

    return TestClient(create_app(), base_url="https://testserver")


def _serve(url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[Node]:
    """The node on ``url`` with its data in ``data_dir``, ``env`` over :data:`NODE_ENV`."""
    for key, value in _node_env(url, data_dir, **env).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ANJIAN_CONFIG", raising=False)
    reset_caches()
    with _client() as client:
        yield Node(url=url, data_dir=data_dir, client=client)
    reset_caches()


@pytest.fixture
def node(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    """A node of 山西省 on a fresh database; MFA not required unless a test turns it on."""
    yield from _serve(database_url, tmp_path / "data", monkeypatch)


@pytest.fixture
def elsewhere(node: Node, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings of another node beside ``node``: a data directory of its own (not made
    yet) and an empty database of the same kind (a PostgreSQL database made for it and dropped
    after; a SQLite file not made yet) — where a backup is restored."""
    data = tmp_path / "elsewhere"
    if node.url.startswith("sqlite"):
        yield _node_env(f"sqlite:///{tmp_path / 'elsewhere.db'}", data)
        return
    name = f"anjian_else_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield _node_env(_sqlalchemy_pg(name), data)
    finally:
        reset_caches()
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the demo province: ``anjian demo`` run once per backend and worker, copied for each test ---


@dataclass(frozen=True)
class Template:
    """A database made once per backend and worker (a SQLite file, or a PostgreSQL database to
    copy with CREATE DATABASE … TEMPLATE) and the data directory with its keys: by ``anjian
    demo`` (``output`` is what it printed) or with the personas (their ids)."""

    source: str
    data_dir: Path
    output: str = ""
    users: dict[str, int] = field(default_factory=dict)
    enterprises: dict[str, int] = field(default_factory=dict)


@contextmanager
def _pg_copy(template: str, prefix: str = "anjian_t") -> Iterator[str]:
    """A PostgreSQL database copied from ``template`` (its name), dropped after the block."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield name
    finally:
        reset_caches()
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_copy(template: Path | str, target: Path) -> str:
    """A copy of the SQLite file ``template`` at ``target``; its URL."""
    shutil.copy(template, target)
    return f"sqlite:///{target}"


def _sqlite_settled(path: Path) -> None:
    """Everything in the file itself, none left in a -wal, so a plain copy is the database."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _seed_demo(url: str, data_dir: Path) -> Template:
    """Run ``anjian demo`` against ``url`` as a node under test would."""
    from typer.testing import CliRunner

    from node_env import in_process

    with in_process(_node_env(url, data_dir, ANJIAN_MFA_REQUIRED_ROLES=DEMO_MFA_ROLES)):
        from anjian.cli import app as cli

        result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    return Template(url, data_dir, output=result.output)


def _seed_personas(url: str, data_dir: Path) -> Template:
    """Make the personas on ``url`` through a node under test."""
    from node_env import in_process

    with in_process(_node_env(url, data_dir)), _client() as client:
        node = Node(url=url, data_dir=data_dir, client=client)
        _make_personas(node)
    return Template(url, data_dir, users=node.users, enterprises=node.enterprises)


_SEEDS = {"demo": _seed_demo, "personas": _seed_personas}


def _sqlite_made(kind: str, sqlite_template: Path, factory: pytest.TempPathFactory) -> Template:
    root = factory.mktemp(kind)
    path = root / f"{kind}.db"
    made = _SEEDS[kind](_sqlite_copy(sqlite_template, path), root / "data")
    _sqlite_settled(path)
    return replace(made, source=str(path))


def _pg_made(kind: str, pg_template: str, factory: pytest.TempPathFactory) -> Iterator[Template]:
    with _pg_copy(pg_template, f"anjian_{kind}") as name:
        made = _SEEDS[kind](_sqlalchemy_pg(name), factory.mktemp(kind) / "data")
        yield replace(made, source=name)


@pytest.fixture(scope="session")
def demo_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Template:
    return _sqlite_made("demo", sqlite_template, tmp_path_factory)


@pytest.fixture(scope="session")
def demo_postgres(pg_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    yield from _pg_made("demo", pg_template, tmp_path_factory)


@pytest.fixture(scope="session")
def personas_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Template:
    return _sqlite_made("personas", sqlite_template, tmp_path_factory)


@pytest.fixture(scope="session")
def personas_postgres(
    pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    yield from _pg_made("personas", pg_template, tmp_path_factory)


@pytest.fixture(params=["sqlite", "postgres"])
def demo(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Node]:
    """The node after ``anjian demo`` (default MFA roles: admin, official), on a copy of the
    database the session's demo made, so each test changes only its own; ``output`` is what
    ``anjian demo`` printed."""
    template: Template = request.getfixturevalue(f"demo_{request.param}")
    data_dir = tmp_path / "data"
    shutil.copytree(template.data_dir, data_dir)
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = _sqlite_copy(template.source, tmp_path / "anjian.db")
        else:
            url = _sqlalchemy_pg(stack.enter_context(_pg_copy(template.source)))
        for node in _serve(url, data_dir, monkeypatch, ANJIAN_MFA_REQUIRED_ROLES=DEMO_MFA_ROLES):
            node.output = template.output
            yield node


def _make_personas(node: Node) -> None:
    """The named personas of the module docstring, with their organisations and enterprises,
    made on ``node`` through the services."""
    from anjian.core.audit.service import SYSTEM
    from anjian.core.iam.models import Role
    from anjian.core.orgs.models import OrgKind
    from anjian.core.orgs.service import create_org
    from anjian.core.scope import Scope
    from anjian.enterprises.service import create_enterprise
    from samples import chem_enterprise, mine_enterprise

    everything = Scope.for_division(None, "admin", ["000000"])
    with node.db() as s:

        def agency(name: str, division: str, parent: Any = None) -> Any:
            parent_id = parent.id if parent is not None else None
            return create_org(
                s,
                SYSTEM,
                name=name,
                kind=OrgKind.AGENCY,
                division_code=division,
                parent_id=parent_id,
            )

        prov = agency("山西省应急管理厅", "140000")
        city = agency("朔州市应急管理局", "140600", prov)
        ying = agency("应县应急管理局", "140622", city)
        shan = agency("山阴县应急管理局", "140621", city)
        bureau = create_org(
            s,
            SYSTEM,
            name="朔州煤矿安全监察分局",
            kind=OrgKind.COAL_INSPECTION,
            division_code="140600",
            area_codes=["140622", "140621"],
        )
        mine = create_enterprise(s, SYSTEM, everything, mine_enterprise())
        chem = create_enterprise(s, SYSTEM, everything, chem_enterprise())
        node.enterprises = {"ying_mine": mine.id, "shan_chem": chem.id}
    specs = [
        ("admin", Role.ADMIN, "140000", prov.id, None),
        ("sheng", Role.OFFICIAL, "140000", prov.id, None),
        ("shuozhou", Role.OFFICIAL, "140600", city.id, None),
        ("yingxian", Role.OFFICIAL, "140622", ying.id, None),
        ("shanyin", Role.OFFICIAL, "140621", shan.id, None),
        ("jianchaju", Role.OFFICIAL, "140600", bureau.id, None),
        ("qiye", Role.ENTERPRISE, "140622", None, mine.id),
    ]
    for name, role, div, org, ent in specs:
        node.add_user(name, role, div, org_id=org, enterprise_id=ent, phone="13800138000")


@pytest.fixture
def personas(node: Node, request: pytest.FixtureRequest) -> Node:
    """The named personas of the module docstring, with their organisations and enterprises:
    the node's database is a copy of the one they were made in (:func:`database_url`)."""
    backend = "sqlite" if node.url.startswith("sqlite") else "postgres"
    made: Template = request.getfixturevalue(f"personas_{backend}")
    node.users, node.enterprises = dict(made.users), dict(made.enterprises)
    return node


@pytest.fixture
def county_admin(personas: Node) -> Node:
    """The personas and ``xianadmin``, an administrator of 应县 (140622) only."""
    personas.add_user("xianadmin", "admin", "140622")
    return personas


# MQTT: the machine's Mosquitto and an in-process ingest worker (monitoring and security tests).
@pytest.fixture
def mosquitto() -> int:
    """The machine's Mosquitto port (required in CI, the test skipped locally when absent)."""
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Mosquitto is required in CI but 127.0.0.1:1883 is unreachable")
        pytest.skip("Mosquitto unreachable at 127.0.0.1:1883: MQTT tests skipped locally")
    return 1883


@pytest.fixture
def own_mosquitto(mosquitto: int, tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of the test's own (its port): no other test's gateways on its topics, and a
    queue that holds a dead worker's whole backlog."""
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 100000\nmax_inflight_messages 100\n"
    )
    proc = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "mosquitto did not listen"
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def worker(personas: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Starts an in-process ingest worker with the settings of the test (torn down after)."""
    started: list[Any] = []

    def start(**env: str) -> Any:
        from anjian.config import get_settings
        from anjian.monitoring.mqtt import start_ingest

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        threads = start_ingest(get_settings())
        started.extend(threads)
        ingest = threads[-1]
        assert ingest.connected.wait(15), "ingest worker did not connect"
        return ingest

    yield start
    for thread in reversed(started):
        thread.stop()
        thread.join(timeout=10)
    for thread in started:
        if getattr(thread, "broker", None) is not None and thread.broker.shared:
            forget_session(thread.broker, thread.client_id)
