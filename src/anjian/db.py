"""Database wiring: declarative base, engine and the unit of work (one transaction per
request, job or command)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from anjian.config import get_settings, private_file

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# 64-bit keys on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit (and must be
# spelled INTEGER to be the rowid).
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use anjian.db.utcnow()")
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def json_dumps(value: object) -> str:
    """JSON text of a column value (orjson: JSON columns, the outbox above all, are written at
    sync's bulk rates)."""
    return orjson.dumps(value).decode()


JSON_CODEC = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}


@contextmanager
def copy_in(session: Session, table: str, columns: Iterable[str]) -> Iterator[Any]:
    """A PostgreSQL ``COPY table (columns) FROM STDIN`` (text format) on the session's own
    connection, inside its transaction: the bulk path for thousands of rows at once."""
    conn = session.connection()
    conn.info[_WROTE] = True  # past SQLAlchemy's statement events: see _watch_writes
    driver: Any = conn.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with driver.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        yield copy


_ROW_TRIGGERS_SKIPPABLE: dict[str, bool] = {}  # database URL → may we skip row triggers
_REPLICA_UTC = text(
    "SELECT set_config('session_replication_role', 'replica', true),"
    " set_config('TimeZone', 'UTC', true)"
)


@contextmanager
def without_row_triggers(session: Session) -> Iterator[None]:
    """Bulk writes that skip per-row triggers (on PostgreSQL, where the database role may set
    ``session_replication_role``), as a logical-replication apply writes: a received batch's
    foreign keys are checked by the caller for the whole batch at once, not by a trigger
    query per row and key. Elsewhere, or without the privilege, the triggers run as usual.
    Inside, text timestamps without an offset are read as UTC (as :class:`UTCDateTime` reads
    naive values)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield
        return
    key = str(bind.url)
    skip = _ROW_TRIGGERS_SKIPPABLE.get(key)
    if skip:  # one round trip: both settings last until the transaction ends
        session.execute(_REPLICA_UTC)
    else:
        session.execute(text("SET LOCAL TimeZone = 'UTC'"))
    if skip is None:  # the first time: may this role skip triggers? (probed once per database)
        try:
            with session.begin_nested():  # a refusal must not abort the caller's transaction
                session.execute(text("SET LOCAL session_replication_role = replica"))
            skip = True
        except DBAPIError:
            skip = False
        _ROW_TRIGGERS_SKIPPABLE[key] = skip
    yield
    if skip:
        session.execute(text("SET LOCAL session_replication_role = origin"))


class JSONText(TypeDecorator[Any]):
    """A JSON value kept as its text: the outbox, whose changes are passed on as the JSON
    they were stored as (read as text, never decoded on the way; PostgreSQL's json type would
    also re-parse every row written, to validate what orjson wrote)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: object) -> str | None:
        return None if value is None else json_dumps(value)

    def process_result_value(self, value: str | None, dialect: object) -> Any:
        return None if value is None else orjson.loads(value)


class _Turns:
    """A lock handed to waiters in the order they asked (FIFO), with a timeout."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._busy:
                self._busy = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn in self._waiting:  # gave up before its turn came
                self._waiting.remove(turn)
                return False
        return True  # handed the turn as it gave up

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # handed over: stays busy
            else:
                self._busy = False


WRITE_WAIT_S = 30.0  # SQLite: how long a writer waits for its turn (as for the lock itself)
_WRITE_TURN = "anjian_write_turn"  # connection info key: this connection holds the turn


@dataclass
class Attempt:
    """What one attempt at an HTTP request did to the database, for the replay of a request
    the database failed (:mod:`anjian.core.replay`): ``wrote`` once a transaction that wrote
    began to commit — committed, or perhaps committed when the COMMIT's answer was lost —
    and ``failed`` when the database failed the request; ``number`` counts the attempts."""

    number: int = 1
    wrote: bool = False
    failed: bool = False


ATTEMPT: ContextVar[Attempt | None] = ContextVar("anjian_attempt", default=None)
_WROTE = "anjian_wrote"  # connection info: the transaction open on it has written
# statements that read; anything else (INSERT, UPDATE, COPY, a WITH that may write…) writes
_READS = ("SELECT", "SHOW", "SET", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA")


def _watch_writes(engine: Engine) -> None:
    """Mark :data:`ATTEMPT` when a transaction that wrote commits. The mark is set before the
    COMMIT goes out, so a commit whose outcome is unknown counts as done: a request is never
    replayed over a write that may have landed."""

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if ATTEMPT.get() is not None and not statement.lstrip()[:9].upper().startswith(_READS):
            conn.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        attempt = ATTEMPT.get()
        if conn.info.pop(_WROTE, False) and attempt is not None:
            attempt.wrote = True

    event.listen(engine, "rollback", lambda conn: conn.info.pop(_WROTE, None))


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout, and a new
    database file (with its folder) is created private to this user (0600, folder 0700)."""
    engine = _make_engine(url)
    _watch_writes(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_file(Path(database))
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **JSON_CODEC
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            # Transactions are begun by us (below), not implicitly by the driver.
            dbapi_conn.isolation_level = None

        # SQLite lets one writer in at a time and has the others poll for the lock: under a
        # steady write load (an alarm storm's ingest) a waiting writer such as the forwarder's
        # acknowledgement could lose that race for seconds. This process's writers queue here
        # first, in the order they come.
        turns = _Turns()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # IMMEDIATE takes the write lock up front: a transaction that reads and then writes
            # (the audit chain head) waits its turn instead of failing with "database is locked".
            # A read-only unit does not queue for it: in WAL mode readers never wait.
            if conn.get_execution_options().get(READ_ONLY, False):
                conn.exec_driver_sql("BEGIN")
                return
            if turns.acquire(timeout=WRITE_WAIT_S):
                conn.info[_WRITE_TURN] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _end_turn(conn.info)
                raise

        def _end_turn(info: dict[str, Any]) -> None:
            if info.pop(_WRITE_TURN, False):
                turns.release()

        event.listen(engine, "commit", lambda conn: _end_turn(conn.info))
        event.listen(engine, "rollback", lambda conn: _end_turn(conn.info))
        # a connection given back to the pool in the middle of a transaction ends it too
        event.listen(engine.pool, "checkin", lambda _dbapi, record: _end_turn(record.info))
        return engine
    return create_engine(url, pool_pre_ping=True, **JSON_CODEC)


def database_hosts(url: URL) -> list[str]:
    """The hosts a PostgreSQL URL names (``host:port``): one, or each of a multi-host URL's
    (``?host=a:5432&host=b:5432``, the 一主两备 node's); none for SQLite."""
    listed = url.query.get("host")
    if listed:
        hosts = [listed] if isinstance(listed, str) else list(listed)
        return [h for entry in hosts for h in entry.split(",") if h]
    if url.get_backend_name() != "postgresql":
        return []
    return [f"{url.host or 'localhost'}:{url.port or 5432}"]


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().effective_database_url)


@lru_cache
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


READ_ONLY = "anjian_read_only"  # execution option of a read-only unit's connections
_AFTER_READ = "anjian_after_read"  # session info of a read-only unit: writes queued for after it


@lru_cache
def _reading(engine: Engine) -> Engine:
    """``engine`` whose every transaction is a read (on SQLite: a plain ``BEGIN`` that neither
    queues for nor takes the write lock), however often the session begins one."""
    return engine.execution_options(**{READ_ONLY: True})


class WriteInReadUnit(RuntimeError):
    """Code working in a read-only unit of work tried to write: the write must be queued with
    :func:`after_read` (or the work done in a writing unit)."""


@event.listens_for(Session, "before_flush")
def _refuse_flush_in_read(session: Session, _context: Any, _instances: Any) -> None:
    if _AFTER_READ not in session.info:
        return
    changed = session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
    if changed:
        raise WriteInReadUnit(f"a read-only unit of work tried to write: {changed!r}")


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml_in_read(state: Any) -> None:
    if _AFTER_READ in state.session.info and (
        state.is_insert or state.is_update or state.is_delete
    ):
        raise WriteInReadUnit(f"a read-only unit of work tried to write: {state.statement}")


def after_read(session: Session, write: Callable[[Session], object]) -> bool:
    """In a read-only unit of work, queue ``write`` for the short writing unit that follows it
    (run only if the read ends without error) and answer True; in a writing unit answer False,
    and the caller writes in ``session`` itself. This is how a read records what it must (its
    audit record, the session's idle clock) without holding SQLite's write lock while it reads."""
    queue = session.info.get(_AFTER_READ)
    if queue is None:
        return False
    queue.append(write)
    return True


@contextmanager
def read_first(session: Session) -> Iterator[bool]:
    """The block's queries as a read of its own, when ``session`` can write and has no
    transaction open yet: on SQLite the write lock is then taken by the writes that follow (at
    their first query), not held through slow work in the block such as hashing a password.
    Objects loaded in the block stay loaded; refresh those the writes depend on. Yields whether
    the block read on its own."""
    own = not session.in_transaction() and not session.get_bind().get_execution_options().get(
        READ_ONLY, False
    )
    if own:
        session.connection(execution_options={READ_ONLY: True})
    yield own
    if own:
        session.commit()  # ends the read: nothing was changed


WRITER_LOCKS = 0x414A  # the advisory-lock space of one_writer_at_a_time (two-key form)


def one_writer_at_a_time(session: Session, name: str) -> None:
    """Until the transaction ends, the writers that name ``name`` go one at a time, so that a
    check made before a write (no overlapping shift, say) still holds when it commits: a
    PostgreSQL advisory lock, taken here and waited for by the next; SQLite's writers already
    take turns."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
            {"space": WRITER_LOCKS, "name": name},
        )


@contextmanager
def unit_of_work(engine: Engine | None = None, *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any error.

    Services never commit; whoever opens the unit of work (request, job, CLI command) does,
    so a change, its audit record and its outbox row land together or not at all.
    ``read_only``: the unit reads (a write in it raises :class:`WriteInReadUnit`) and on SQLite
    never waits behind writers nor holds the write lock; what it queued with
    :func:`after_read` is written afterwards in one short writing unit."""
    engine = engine or get_engine()
    session = _factory(_reading(engine) if read_only else engine)()
    queued: list[Callable[[Session], object]] = []
    if read_only:
        session.info[_AFTER_READ] = queued
    try:
        yield session
        if read_only:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    if queued:
        with unit_of_work(engine) as writer:
            for write in queued:
                write(writer)
