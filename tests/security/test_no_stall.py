"""One slow write must not stall the node: reads and /healthz answer while a write holds the
database (on SQLite its single write lock), and a read request takes no write lock itself."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from held import a_write_in_progress


def _answers_while_held(node: Any, call: Callable[[], Any]) -> Any:
    """``call``'s answer, got while another connection holds a write open; fails if it had
    to wait for that write (the write is only given up once the call has returned)."""
    answers: list[Any] = []
    with a_write_in_progress(node):
        worker = threading.Thread(target=lambda: answers.append(call()), daemon=True)
        worker.start()
        worker.join(10)
        answered = bool(answers)
    worker.join(60)
    assert answered, "the request waited for the write in progress"
    return answers[0]


def test_healthz_answers_while_a_write_holds_the_database(node: Any) -> None:
    r = _answers_while_held(node, lambda: node.client.get("/healthz"))
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_a_read_request_takes_no_write_lock(personas: Any) -> None:
    headers = personas.login("yingxian")
    r = _answers_while_held(
        personas, lambda: personas.client.get("/api/v1/enterprises/map", headers=headers)
    )
    assert r.status_code == 200, r.text
    assert "应县金鼎煤业有限公司" in r.text
    page = _answers_while_held(personas, lambda: personas.client.get("/login"))
    assert page.status_code == 200


def test_what_a_read_records_is_still_recorded(personas: Any) -> None:
    """An audited read (personal data) and the session's idle clock are written after the
    read, in a short write of their own."""
    from sqlalchemy import select, update

    from anjian.core.audit.models import AuditRecord
    from anjian.core.iam.models import AuthSession

    headers = personas.login("yingxian")
    ent = personas.enterprises["ying_mine"]
    with personas.db() as s:  # the session was last seen an hour ago
        s.execute(update(AuthSession).values(last_seen_at=AuthSession.created_at))
        before = s.scalar(select(AuthSession.last_seen_at))
    assert personas.client.get(f"/api/v1/enterprises/{ent}", headers=headers).status_code == 200
    with personas.db() as s:
        reads = s.scalars(
            select(AuditRecord).where(
                AuditRecord.object_type == "enterprise", AuditRecord.object_id == str(ent)
            )
        ).all()
        seen = s.scalar(select(AuthSession.last_seen_at))
    assert any(rec.actor_name == "yingxian" and "read" in rec.action for rec in reads)
    assert seen is not None and before is not None and seen >= before


@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/enterprises"])
def test_an_expired_session_is_refused_on_a_read(personas: Any, path: str) -> None:
    from sqlalchemy import update

    from anjian.core.iam.models import AuthSession

    headers = personas.login("yingxian")
    with personas.db() as s:
        s.execute(update(AuthSession).values(revoked=True))
    assert personas.client.get(path, headers=headers).status_code == 401


def test_the_alarm_streams_session_check_reads_while_a_write_holds_the_database(
    personas: Any,
) -> None:
    """The live alarm board re-checks its session every 30 s; it must neither wait for a
    write nor fail with "database is locked" (it refreshed the idle clock in a read)."""
    from sqlalchemy import update

    from anjian.core.iam.models import AuthSession
    from anjian.web.session import stream_scope

    token = personas.login("yingxian")["Authorization"].removeprefix("Bearer ")
    with personas.db() as s:  # last seen a while ago: a refresh of the idle clock would be due
        s.execute(update(AuthSession).values(last_seen_at=AuthSession.created_at))
    scope = _answers_while_held(personas, lambda: stream_scope(token))
    assert scope is not None and scope.covers_code("140622") and not scope.covers_code("140621")


def test_an_upload_is_parsed_before_the_write_lock_is_taken(personas: Any) -> None:
    """A hostile spreadsheet is refused while another write holds the database: the import
    reads the file before its transaction writes (it held SQLite's lock for minutes)."""
    from hostile_files import declared_dimension, zip_bomb

    from anjian.core.downloads import XLSX_MEDIA_TYPE

    headers = personas.login("sheng")
    for data in (zip_bomb(), declared_dimension()[:-200]):  # a bomb, a truncated package
        r = _answers_while_held(
            personas,
            lambda data=data: personas.client.post(
                "/api/v1/enterprises/import",
                files={"file": ("x.xlsx", data, XLSX_MEDIA_TYPE)},
                headers=headers,
            ),
        )
        assert r.status_code == 422 and r.json()["field"] == "file", r.text


def test_passwords_are_hashed_and_checked_outside_the_write_lock(
    personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 takes ≈ 0.2 s a password: a login, a password change or a new user must not
    hold SQLite's write lock meanwhile (every other writer of the node would wait)."""
    if not personas.url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no database-wide write lock")
    from argon2 import PasswordHasher

    path = personas.url.removeprefix("sqlite:///")
    lock_free: list[bool] = []

    def write_lock_free() -> bool:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    def spied(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: PasswordHasher, *args: Any) -> Any:
            lock_free.append(write_lock_free())
            return original(self, *args)

        return call

    monkeypatch.setattr(PasswordHasher, "verify", spied(PasswordHasher.verify))
    monkeypatch.setattr(PasswordHasher, "hash", spied(PasswordHasher.hash))
    headers = personas.login("yingxian")
    bad = {"username": "yingxian", "password": "Wrong#2026x"}
    assert personas.client.post("/api/v1/auth/login", json=bad).status_code == 401
    change = {"old_password": "Anjian#2026", "new_password": "Another#2026"}
    r = personas.client.post("/api/v1/auth/password", json=change, headers=headers)
    assert r.status_code == 204, r.text
    personas.add_user("xinren", "official", "140622", password="Newcomer#2026")
    assert len(lock_free) >= 5 and all(lock_free), lock_free


def test_a_refused_write_is_audited_without_stalling_the_node(personas: Any) -> None:
    """A refused write's audit record (``access.denied``) waits for the write in progress in a
    worker thread: meanwhile /healthz answers (the event loop is not held), and the refusal
    is answered and audited once the write is done."""
    import time

    headers = personas.login("yingxian")  # an official: the node's settings are the admins'
    refused: list[Any] = []
    health: list[Any] = []

    def refused_write() -> None:
        body = {"value": "10"}
        path = "/api/v1/node/settings/session_idle_minutes"
        refused.append(personas.client.put(path, json=body, headers=headers))

    with a_write_in_progress(personas):
        writer = threading.Thread(target=refused_write, daemon=True)
        writer.start()
        time.sleep(0.5)  # refused, and waiting to write its audit record
        probe = threading.Thread(
            target=lambda: health.append(personas.client.get("/healthz")), daemon=True
        )
        probe.start()
        probe.join(5)
        assert health and health[0].status_code == 200, "the node stalled behind an audit write"
        assert not refused  # its audit record still waits for the write in progress
    writer.join(60)
    assert refused and refused[0].status_code == 403, refused
    denied = personas.audits("access.denied")
    assert denied and denied[-1].detail["path"].endswith("/session_idle_minutes")
