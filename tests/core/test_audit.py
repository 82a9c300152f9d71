"""The audit chain: append-only, verifiable, tamper-evident; scoped reads."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.core.audit.service import Actor, audit, verify_chain


def _write(node, n: int = 6) -> None:
    with node.db() as s:
        for i in range(n):
            audit(
                s,
                Actor(user_id=None, username=f"u{i}", ip="10.0.0.1", division_code="140622"),
                "test.write",
                object_type="thing",
                object_id=str(i),
                detail={"i": i},
            )


def _drop_guard(node) -> None:
    """What an attacker with database access does first."""
    with node.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_records_no_change ON audit_records"))
        else:
            conn.execute(text("DROP TRIGGER audit_records_no_update"))
            conn.execute(text("DROP TRIGGER audit_records_no_delete"))


def _verify_cli():
    return CliRunner().invoke(cli, ["audit", "verify"])


def test_intact_chain_verifies(node) -> None:
    _write(node)
    result = _verify_cli()
    assert result.exit_code == 0, result.output
    assert "6" in result.output


def test_database_refuses_update_and_delete(node) -> None:
    _write(node, 2)
    for stmt in (
        "UPDATE audit_records SET result = 'x' WHERE seq = 1",
        "DELETE FROM audit_records WHERE seq = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), node.engine.begin() as conn:
            conn.execute(text(stmt))


@pytest.mark.parametrize(
    ("tampering", "named"),
    [
        pytest.param(
            "UPDATE audit_records SET actor_name = 'someone-else' WHERE seq = 3",
            "第 3 条",
            id="changed_record_is_named",
        ),
        pytest.param(
            "DELETE FROM audit_records WHERE seq = 4", "第 4 条", id="removed_record_is_named"
        ),
        pytest.param(
            "DELETE FROM audit_records WHERE seq = 6", "第 6 条", id="removed_tail_is_detected"
        ),
    ],
)
def test_tampered_record_is_named(node, tampering: str, named: str) -> None:
    _write(node)
    _drop_guard(node)
    with node.engine.begin() as conn:
        conn.execute(text(tampering))
    result = _verify_cli()
    assert result.exit_code == 1
    assert named in result.output


def test_reordered_records_are_detected(node) -> None:
    _write(node)
    _drop_guard(node)
    with node.engine.begin() as conn:  # swap the contents of records 2 and 5
        conn.execute(text("UPDATE audit_records SET seq = 1000 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_records SET seq = 2 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_records SET seq = 5 WHERE seq = 1000"))
    with node.db() as s:
        report = verify_chain(s)
    assert not report.ok
    assert report.first_broken_seq == 2


def test_rehashed_forgery_without_the_key_is_detected(node) -> None:
    """Recomputing plain SM3 hashes is not enough: links are HMAC-SM3 under a key outside the DB."""
    from anjian.core.audit.rules import canonical
    from anjian.core.crypto import sm3

    _write(node, 3)
    _drop_guard(node)
    with node.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_records SET hash = :h WHERE seq = 3"),
            {"h": sm3(canonical({"forged": True}))},
        )
    with node.db() as s:
        assert verify_chain(s).first_broken_seq == 3


def test_concurrent_writers_keep_one_chain(node) -> None:
    """Requests audit in parallel (threads, each its own transaction): the chain never forks."""
    from concurrent.futures import ThreadPoolExecutor

    def work(worker: int) -> None:
        for i in range(15):
            with node.db() as s:
                audit(
                    s,
                    Actor(user_id=None, username=f"w{worker}"),
                    "test.concurrent",
                    detail={"i": i},
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    with node.db() as s:
        report = verify_chain(s)
    assert report.ok, report
    assert report.checked == 60
