"""Outbox upkeep: changes the parent has stored go after ANJIAN_OUTBOX_RETENTION_DAYS; what a
parent has not stored, what travels down (directives, and records made here that also go down),
and a node's history before it has a parent stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from anjian.config import get_settings
from anjian.core.audit.service import SYSTEM
from anjian.core.sync.models import OutboxEntry
from anjian.core.sync.outbox import insert_rows
from anjian.core.sync.service import parent_link, prune_outbox, set_parent
from anjian.db import utcnow


def _add(node, uid: str, entity: str, source: str, days_ago: int) -> int:
    with node.db() as s:
        insert_rows(
            s,
            [
                {
                    "created_at": utcnow() - timedelta(days=days_ago),
                    "entity": entity,
                    "uid": uid,
                    "origin_node": "node-140622",
                    "version": 1,
                    "op": "upsert",
                    "payload": {"uid": uid},
                    "source": source,
                }
            ],
        )
    with node.db() as s:
        return int(s.scalar(select(OutboxEntry.seq).where(OutboxEntry.uid == uid)))


def _fresh_outbox(node) -> None:
    """An outbox in time order (the personas' changes were written just now)."""
    with node.db() as s:
        s.execute(delete(OutboxEntry))


def _parent_stored(node, seq: int) -> None:  # type: ignore[no-untyped-def]
    """Link the node to a parent that has stored our changes up to ``seq``."""
    with node.db() as s:
        set_parent(s, SYSTEM, "http://10.0.0.1:8000", "k" * 43, "000000")
        parent_link(s).up_seq = seq  # type: ignore[union-attr]


def _left(node) -> set[str]:
    with node.db() as s:
        return set(s.scalars(select(OutboxEntry.uid)))


def test_only_old_changes_the_parent_stored_go(personas) -> None:
    assert get_settings().outbox_retention_days == 90
    _fresh_outbox(personas)
    _add(personas, "old-local", "enterprise", "local", 100)
    _add(personas, "old-child", "alarm", "child", 100)
    _add(personas, "old-from-parent", "directive", "parent", 100)
    stored = _add(personas, "old-directive-made-here", "directive", "local", 100)
    _add(personas, "old-not-stored", "enterprise", "local", 95)
    _add(personas, "recent", "enterprise", "local", 10)
    before = _left(personas)
    assert prune_outbox() == 0  # no parent yet: the history waits for the day it is linked
    assert _left(personas) == before

    _parent_stored(personas, stored)
    assert prune_outbox() == 2
    left = _left(personas)
    assert not {"old-local", "old-child"} & left
    assert {
        "old-from-parent",
        "old-directive-made-here",
        "recent",
        "old-not-stored",
    } <= left
    assert prune_outbox() == 0


def test_records_made_here_that_also_go_down_stay_for_the_children(personas) -> None:
    """An inspection made here of a lower division's enterprise goes down as well as up: it
    stays for children that have not pulled it; one a child sent up never goes down and goes."""
    _fresh_outbox(personas)
    _add(personas, "old-inspection-from-child", "enforcement_inspection", "child", 100)
    stored = _add(personas, "old-inspection-made-here", "enforcement_inspection", "local", 100)
    _parent_stored(personas, stored)
    assert prune_outbox() == 1
    assert _left(personas) == {"old-inspection-made-here"}


def test_kept_for_ever_when_the_retention_is_zero(personas, monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "outbox_retention_days", 0)
    _add(personas, "old-local", "enterprise", "local", 1000)
    _parent_stored(personas, 10**9)
    assert prune_outbox() == 0 and "old-local" in _left(personas)


def test_the_national_node_keeps_no_history_for_a_parent(personas, monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "node_division", "000000")
    _fresh_outbox(personas)
    _add(personas, "old-child", "alarm", "child", 100)
    _add(personas, "recent-child", "alarm", "child", 1)
    assert prune_outbox() == 1
    assert "old-child" not in _left(personas) and "recent-child" in _left(personas)


def test_a_parent_restored_from_before_the_retention_is_told_what_cannot_be_resent(
    personas,
) -> None:
    from anjian.core.audit.models import AuditRecord
    from anjian.core.sync.protocol import seal
    from anjian.core.sync.service import accept_ack

    _fresh_outbox(personas)
    _add(personas, "old-local", "enterprise", "local", 100)
    stored = _add(personas, "stored", "enterprise", "local", 100)
    _parent_stored(personas, stored)
    assert prune_outbox() == 2
    with personas.db() as s:
        link = parent_link(s)
        assert link is not None and link.pruned_seq == stored
        # the parent comes back from a backup that held our changes up to seq 3 only
        ack = seal(b"k" * 43, {"kind": "ack"}, {"status": "rewind", "stored_seq": 3})
        accept_ack(s, link, ack)
        assert link.up_seq == 3 and link.down_seq == 0
        assert link.last_error and f"4–{stored}" in link.last_error
    with personas.db() as s:
        gap = s.scalar(select(AuditRecord).where(AuditRecord.action == "sync.gap"))
        assert gap is not None and gap.result == "failure"
        # a parent that lost nothing we deleted: no such error
        link = parent_link(s)
        ack = seal(b"k" * 43, {"kind": "ack"}, {"status": "rewind", "stored_seq": stored})
        accept_ack(s, link, ack)  # type: ignore[arg-type]
        assert link.last_error is None  # type: ignore[union-attr]


def test_a_sequence_number_is_never_given_twice(personas) -> None:
    """Once the upkeep has deleted every row (a quiet node), a new change must still be
    numbered above what the parent has acknowledged (SQLite: AUTOINCREMENT, migration 0011)."""
    first = _add(personas, "before", "enterprise", "local", 1)
    _fresh_outbox(personas)
    assert _add(personas, "after", "enterprise", "local", 0) > first


def test_a_child_above_the_newest_row_left_is_not_sent_everything_again(personas) -> None:
    """A child whose cursor is above the newest outbox row left here (the upkeep deleted the
    newest rows) has seen it all: no re-pull from the start, as after a restore."""
    from anjian.core.sync.protocol import open_sealed, seal
    from anjian.core.sync.service import link_child
    from samples import sync_header

    with personas.db() as s:
        key = link_child(s, SYSTEM, "140600").encode()
    r = personas.client.post(
        "/api/v1/directives",
        headers=personas.login("sheng"),
        json={"title": "关于 140600 的安全检查通知", "target_division": "140600"},
    )
    assert r.status_code == 201
    with personas.db() as s:  # all of it written long ago, in time order
        s.execute(update(OutboxEntry).values(created_at=utcnow() - timedelta(days=101)))
    newest = _add(personas, "old-local", "enterprise", "local", 100)
    _parent_stored(personas, newest)
    assert prune_outbox() >= 1 and "old-local" not in _left(personas)

    def pull(since: int) -> dict:
        header = sync_header("pull", "140600", since)
        r = personas.client.post(
            "/api/v1/sync/pull",
            content=seal(key, header, {}),
            headers={"content-type": "application/vnd.anjian.sync"},
        )
        assert r.status_code == 200, r.text
        return open_sealed(key, r.content)[1]

    body = pull(newest)  # the child had pulled up to the deleted row
    assert body["entries"] == [] and body["last_seq"] == newest
    body = pull(newest + 1000)  # a cursor beyond anything given here: a restored parent
    assert [e["payload"]["title"] for e in body["entries"]] == ["关于 140600 的安全检查通知"]
