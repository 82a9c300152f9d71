"""立即同步: an operator ends the forwarder's back-off once the link is back, through the API
or the node page, instead of waiting up to ANJIAN_SYNC_MAX_BACKOFF_S."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select

from anjian.core.audit.models import AuditRecord
from anjian.core.audit.service import SYSTEM
from anjian.core.sync.forwarder import Forwarder, request_sync
from anjian.core.sync.models import SyncLink
from anjian.core.sync.service import set_parent

UNANSWERED = "http://127.0.0.1:9"  # the discard port: nothing listens, every round fails


def _last_error_at(node) -> datetime | None:
    with node.db() as s:
        return s.scalar(select(SyncLink.last_error_at).where(SyncLink.role == "parent"))


def _when(check, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s")


def test_sync_now_ends_a_long_back_off(node) -> None:
    with node.db() as s:
        set_parent(s, SYSTEM, UNANSWERED, "k" * 43, "000000")
    forwarder = Forwarder(interval=15.0, max_backoff=60.0)  # after a failure: 30 s
    forwarder.start()
    try:
        first = _when(lambda: _last_error_at(node), timeout=10)
        time.sleep(1.0)
        assert _last_error_at(node) == first  # backing off: no attempt for half a minute
        request_sync()
        second = _when(lambda: (t := _last_error_at(node)) and t > first and t, timeout=5)
        assert (second - first).total_seconds() < 10
    finally:
        forwarder.stop()
        forwarder.join(timeout=10)
    assert not forwarder.is_alive()


def test_the_api_asks_for_it_audited_and_for_admins_only(personas) -> None:
    client = personas.client
    admin, official = personas.login("admin"), personas.login("sheng")
    r = client.post("/api/v1/node/sync-now", headers=admin)
    assert r.status_code == 409 and r.json()["field"] == "parent"  # the top node: no parent
    with personas.db() as s:
        set_parent(s, SYSTEM, UNANSWERED, "k" * 43, "000000")
    assert client.post("/api/v1/node/sync-now", headers=official).status_code == 403
    r = client.post("/api/v1/node/sync-now", headers=admin)
    assert r.status_code == 200 and r.json() == {"requested": True, "parent": UNANSWERED}
    with personas.db() as s:
        done = s.scalars(select(AuditRecord).where(AuditRecord.action == "node.sync_now")).all()
    assert [a.actor_name for a in done] == ["admin"]


def test_node_status_over_the_api(personas) -> None:
    with personas.db() as s:
        set_parent(s, SYSTEM, UNANSWERED, "k" * 43, "000000")
    r = personas.client.get("/api/v1/node/status", headers=personas.login("sheng"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["division_code"], body["tier"]) == ("140000", "province")
    parent = next(link for link in body["links"] if link["role"] == "parent")
    assert parent["url"] == UNANSWERED and parent["backlog"] >= 2  # the personas' enterprises
    assert (
        personas.client.get("/api/v1/node/status", headers=personas.login("qiye")).status_code
        == 403
    )
