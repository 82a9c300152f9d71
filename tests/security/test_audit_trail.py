"""The audit trail anchored against truncation: seals of the chain's head kept outside the
database (a file, the parent node), REPLACE refused like UPDATE, the head only moving forward."""

from __future__ import annotations

import json
import stat
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.core.audit.jobs import checkpoint, seal_watch
from anjian.core.audit.models import AuditRecord, AuditSeal
from anjian.core.audit.rules import GENESIS
from anjian.core.audit.seals import seal_file
from anjian.core.audit.service import SYSTEM, Actor, audit, verify_chain
from anjian.core.sync.models import OutboxEntry
from anjian.core.sync.protocol import open_sealed, seal
from anjian.core.sync.service import build_push, link_child, set_parent
from samples import sync_header

SEALED = {"content-type": "application/vnd.anjian.sync"}
FORGED_NAME = "'forged' AS actor_name"  # record 1 again, under another name


def _write(node, n: int) -> None:
    with node.db() as s:
        for i in range(n):
            audit(s, Actor(user_id=None, username=f"u{i}"), "test.write", detail={"i": i})


def _drop_guards(node) -> None:
    """What an attacker with the database's owner rights does first."""
    with node.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_records_no_change ON audit_records"))
            conn.execute(text("DROP TRIGGER audit_head_guard ON audit_head"))
            return
        for name in (
            "audit_records_no_update",
            "audit_records_no_delete",
            "audit_records_no_replace",
            "audit_head_forward",
            "audit_head_no_delete",
        ):
            conn.execute(text(f"DROP TRIGGER {name}"))


def _cut_after(node, keep: int) -> None:
    """Delete every record above ``keep`` and move the head back to the last one kept."""
    with node.engine.begin() as conn:
        last = conn.execute(
            text("SELECT hash FROM audit_records WHERE seq = :k"), {"k": keep}
        ).scalar()
        conn.execute(text("DELETE FROM audit_records WHERE seq > :k"), {"k": keep})
        conn.execute(
            text("UPDATE audit_head SET seq = :k, hash = :h"), {"k": keep, "h": last or GENESIS}
        )


def _sealed(node, n: int) -> None:
    """Write ``n`` records and seal them with `anjian audit checkpoint` (the seal is one more)."""
    _write(node, n)
    assert _cli("checkpoint").exit_code == 0


def _cut_unguarded(node, keep: int) -> None:
    """The attack: the guards dropped, then every record above ``keep`` deleted."""
    _drop_guards(node)
    _cut_after(node, keep)


def _verify_fails(*messages: str) -> None:
    """`anjian audit verify` exits 1 and says each of ``messages``."""
    result = _cli("verify")
    assert result.exit_code == 1
    for message in messages:
        assert message in result.output


class _Run:
    """A command's exit code and its output with rich's line wrapping undone."""

    def __init__(self, *args: str) -> None:
        result = CliRunner().invoke(cli, ["audit", *args])
        self.exit_code = result.exit_code
        self.output = " ".join(result.output.split())


def _cli(*args: str) -> _Run:
    return _Run(*args)


def test_checkpoint_writes_the_seal_to_the_file_and_the_outbox(node) -> None:
    _write(node, 3)
    result = _cli("checkpoint")
    assert result.exit_code == 0, result.output
    assert "第 4 条" in result.output  # its own audit record (4) is under the seal
    path = seal_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    line = json.loads(path.read_text().splitlines()[-1])
    assert line["seq"] == 4 and line["node"] == "node-140000" and len(line["mac"]) == 64
    with node.db() as s:
        assert s.scalar(select(AuditRecord.action).where(AuditRecord.seq == 4)) == (
            "audit.checkpoint"
        )
        assert s.scalar(select(AuditRecord.hash).where(AuditRecord.seq == 4)) == line["hash"]
        row = s.scalar(select(AuditSeal))
        assert (row.seq, row.hash, row.mac) == (4, line["hash"], line["mac"])
        assert s.scalar(select(OutboxEntry.entity).where(OutboxEntry.uid == row.uid)) == (
            "audit_seal"
        )
    verified = _cli("verify")
    assert verified.exit_code == 0, verified.output
    assert "最近封印至第 4 条" in verified.output


def test_truncated_chain_names_the_missing_range(node) -> None:
    _sealed(node, 5)  # sealed at 6
    _cut_unguarded(node, 2)
    with node.db() as s:
        assert verify_chain(s).ok  # what the links alone cannot see
    _verify_fails(
        "records 3–6 are missing: the chain was cut after 2; sealed at 6",
        "第 3–6 条记录缺失",
    )


def test_emptied_table_is_detected(node) -> None:
    _sealed(node, 4)  # sealed at 5
    _cut_unguarded(node, 0)
    _verify_fails("records 1–5 are missing: the chain was cut after 0")


def test_a_chain_rewritten_with_the_key_differs_from_its_seal(node) -> None:
    """Whoever holds the audit key can rewrite a record and every link after it, so the links
    hold again; the seal made before still names the record that changed."""
    from anjian.core.audit.rules import link_hash
    from anjian.core.audit.service import _fields, _key

    _sealed(node, 3)  # sealed at 4
    _drop_guards(node)
    with node.db() as s:
        records = s.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
        prev = records[1].hash
        for rec in records[2:]:  # record 3 changed, 3 and 4 linked again under the key
            if rec.seq == 3:
                rec.actor_name = "someone-else"
            rec.prev_hash = prev
            rec.hash = prev = link_hash(_key(), prev, _fields(rec))
        s.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    with node.db() as s:
        assert verify_chain(s).ok
    _verify_fails("record 4 differs from its seal")


def test_seals_recorded_in_the_database_also_anchor_the_chain(node) -> None:
    """The file lost too (a new data directory with the old key): the database's own seals,
    whose MACs need the key, still show the cut."""
    _sealed(node, 3)
    seal_file().unlink()
    _cut_unguarded(node, 1)
    _verify_fails("records 2–4 are missing")


def test_forged_or_altered_seal_lines_are_reported(node) -> None:
    _sealed(node, 2)
    path = seal_file()
    line = json.loads(path.read_text())
    line["seq"] = 2  # an altered seal: its MAC no longer holds
    with path.open("a") as f:
        f.write(json.dumps(line) + "\nnot a seal\n")
    _verify_fails(
        "seal file line 2: MAC does not match",
        "seal file line 3 is not a seal",
    )


def test_replace_and_upsert_are_refused_like_update(node) -> None:
    _write(node, 2)
    sqlite = node.engine.dialect.name == "sqlite"
    columns = (
        "seq, ts, actor_id, actor_name, ip, action, object_type, object_id, division_code, "
        "result, detail, prev_hash, hash"
    )
    forged = f"SELECT {columns.replace('actor_name', FORGED_NAME)} FROM audit_records WHERE seq = 1"
    attempts = [
        f"INSERT INTO audit_records ({columns}) {forged} ON CONFLICT (seq) DO UPDATE "
        "SET actor_name = excluded.actor_name",
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        "UPDATE audit_head SET seq = 1",  # moving the head back
        "UPDATE audit_head SET seq = seq + 2",  # or past records that are not there
        "DELETE FROM audit_head",
    ]
    if sqlite:
        attempts += [
            f"INSERT OR REPLACE INTO audit_records ({columns}) {forged}",
            f"REPLACE INTO audit_records ({columns}) {forged}",
            "INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)",
        ]
    else:
        attempts.append("TRUNCATE audit_head")
    for stmt in attempts:
        with pytest.raises(DBAPIError, match="append-only"), node.engine.begin() as conn:
            conn.execute(text(stmt), {"genesis": GENESIS} if ":genesis" in stmt else {})
    with node.db() as s:
        assert s.scalar(select(AuditRecord.actor_name).where(AuditRecord.seq == 1)) == "u0"
    _write(node, 1)  # the application still appends
    with node.db() as s:
        report = verify_chain(s)
    assert report.ok and report.checked == 3


def test_the_job_seals_a_moved_head_only(node) -> None:
    _write(node, 2)
    watch = seal_watch(interval=3600)
    watch.start()
    try:
        for _ in range(100):
            if seal_file().exists():
                break
            watch.join(0.05)
    finally:
        watch.stop()
        watch.join(10)
    lines = seal_file().read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == 2  # no record of its own
    assert checkpoint(if_moved=True) is None  # a quiet node is not sealed again
    _write(node, 1)
    assert checkpoint(if_moved=True).seq == 3
    assert len(seal_file().read_text().splitlines()) == 2


def test_seals_travel_up_and_the_parent_sees_a_child_cut_below_them(node) -> None:
    # Up: a seal is a synced record in the push to the parent.
    _sealed(node, 2)
    with node.db() as s:
        link = set_parent(s, SYSTEM, "http://127.0.0.1:9", "k" * 40, "000000")
        message, _count = build_push(s, link)
    sent = [e for e in open_sealed(b"k" * 40, message)[1] if e["entity"] == "audit_seal"]
    assert len(sent) == 1 and sent[0]["payload"]["seq"] == 3
    # Down here as a parent: a child's seals are stored; a later one below an earlier one
    # (the child's chain cut and sealed again) is reported by `anjian audit verify`.
    with node.db() as s:
        key = link_child(s, SYSTEM, "140600").encode()
    template = sent[0]["payload"]

    def entry(seq: int, chain_seq: int, uid: str) -> dict[str, Any]:
        payload = dict(
            template, uid=uid, origin_node="node-140600", division_code="140600", seq=chain_seq
        )
        return {
            "seq": seq,
            "entity": "audit_seal",
            "uid": uid,
            "origin_node": "node-140600",
            "version": 1,
            "op": "upsert",
            "payload": payload,
        }

    entries = [
        entry(1, 250, "01938f4e-0000-7000-8000-0000000000a1"),
        entry(2, 100, "01938f4e-0000-7000-8000-0000000000a2"),
    ]
    header = sync_header("push", "140600", last_seq=2, count=2)
    r = node.client.post("/api/v1/sync/push", content=seal(key, header, entries), headers=SEALED)
    assert r.status_code == 200, r.text
    with node.db() as s:
        held = s.scalars(select(AuditSeal.seq).where(AuditSeal.origin_node == "node-140600")).all()
    assert sorted(held) == [100, 250]
    result = _cli("verify")
    assert result.exit_code == 2  # our own chain is intact: the child's was cut
    assert "node node-140600's audit chain went back from 250 to 100" in result.output
    assert "审计链完整" in result.output
