"""The unit of work: read-only units neither wait behind writers (SQLite) nor write; what
they queue is written after them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from anjian.core.orgs.models import Organisation
from anjian.db import WriteInReadUnit, after_read, unit_of_work


def _count(name: str) -> int:
    with unit_of_work(read_only=True) as s:
        return s.scalar(select(func.count()).where(Organisation.name == name)) or 0


def test_a_read_only_unit_reads_while_a_writer_holds_the_database(node) -> None:
    waited: list[float] = []

    def reader() -> None:
        t0 = time.monotonic()
        _count("无")
        waited.append(time.monotonic() - t0)

    with unit_of_work() as writer:
        writer.add(
            Organisation(name="写入中", kind="agency", division_code="140000", origin_node="t")
        )
        writer.flush()  # the write lock (SQLite) or the row (PostgreSQL) is held from here
        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(10)
        assert waited and waited[0] < 5, "a read-only unit queued behind the writer"
        assert _count("写入中") == 0  # and sees only what is committed


def _org(name: str) -> Organisation:
    return Organisation(name=name, kind="agency", division_code="140000", origin_node="t")


def test_a_read_only_unit_refuses_to_write(node) -> None:
    with pytest.raises(WriteInReadUnit), unit_of_work(read_only=True) as s:
        s.add(_org("不应保存"))
        s.flush()
    with pytest.raises(WriteInReadUnit), unit_of_work(read_only=True) as s:
        s.execute(insert(Organisation).values(name="不应保存", kind="agency", origin_node="t"))
    assert _count("不应保存") == 0


def test_what_a_read_queues_is_written_after_it_and_only_if_it_succeeds(node) -> None:
    with unit_of_work(read_only=True) as s:
        assert after_read(s, lambda w: w.add(_org("读后写入")))
        assert _count("读后写入") == 0  # not while the read runs
    assert _count("读后写入") == 1
    with pytest.raises(RuntimeError), unit_of_work(read_only=True) as s:
        after_read(s, lambda w: w.add(_org("读失败")))
        raise RuntimeError("the read failed")
    assert _count("读失败") == 0
    with unit_of_work() as s:  # a writing unit writes itself
        assert not after_read(s, lambda w: w.add(_org("不排队")))


def test_migrations_build_the_schema_the_models_declare(sqlite_template: Path) -> None:
    """A model changed without its migration (or the reverse) shows up here, not in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import anjian.models  # noqa: F401
    from anjian.db import Base, make_engine

    engine = make_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_sqlite_writers_take_turns_under_a_steady_write_load(tmp_path: Path) -> None:
    """A writer arriving while others write back to back gets in within a few of their
    transactions (in the order writers come), not after losing SQLite's polling race for
    seconds — the forwarder's acknowledgement under an alarm storm."""
    from sqlalchemy import text

    from anjian.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (writer TEXT)"))
    stop = threading.Event()

    def hammer(name: str) -> None:
        while not stop.is_set():
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:w)"), {"w": name})
                time.sleep(0.02)  # a transaction that holds the lock a while, like an ingest

    threads = [threading.Thread(target=hammer, args=(f"h{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    waits = []
    try:
        for _ in range(30):
            t0 = time.monotonic()
            with engine.begin() as conn:
                waits.append(time.monotonic() - t0)
                conn.execute(text("INSERT INTO t VALUES ('late')"))
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        engine.dispose()
    assert max(waits) < 0.5, f"waited up to {max(waits):.2f}s for the write lock"
