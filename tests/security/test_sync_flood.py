"""The node-to-node endpoints answer strangers: every header field is bounded before anything
is written, refusals are rate-limited (429 with Retry-After) and audited as one record per
claimed node and interval with a count, and a replayed message is a no-op."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from anjian.core.audit.models import AuditRecord
from anjian.core.audit.service import SYSTEM
from anjian.core.sync.guard import SyncGuard
from anjian.core.sync.models import SyncLink
from anjian.core.sync.protocol import MAGIC, SealError, check_header, open_sealed, seal
from anjian.core.sync.service import link_child
from anjian.db import utcnow
from samples import sync_header

CHILD = "140600"
SEALED = {"content-type": "application/vnd.anjian.sync"}
MB = "x" * (1024 * 1024)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def linked(personas):
    with personas.db() as s:
        personas.link_key = link_child(s, SYSTEM, CHILD).encode()
    personas.clock = Clock()
    personas.client.app.state.sync_guard = SyncGuard(10, 300, clock=personas.clock)
    return personas


def _header(**extra: Any) -> dict[str, Any]:
    return {**sync_header("push", CHILD, last_seq=0, count=0), **extra}


def _post(node, message: bytes, path: str = "push"):  # type: ignore[no-untyped-def]
    return node.client.post(f"/api/v1/sync/{path}", content=message, headers=SEALED)


def _refusals(node) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    with node.db() as s:
        return list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == "sync.refused")
                .order_by(AuditRecord.seq)
            )
        )


def _size(rec: AuditRecord) -> int:
    return len(json.dumps(rec.detail, ensure_ascii=False)) + len(rec.actor_name or "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from_division", "14060"),
        ("from_division", 140600),
        ("from_node", "node 140600"),
        ("from_node", "n" * 65),
        ("to_division", "abcdef"),
        ("kind", "x" * 17),
        ("v", 2),
        ("ts", "yesterday"),
        ("ts", "2026-12-04T10:00:00"),  # no zone
        ("since", -1),
        ("since", 2**63),
        ("last_seq", True),
        ("count", "5"),
        ("stored", 1.5),
    ],
)
def test_every_header_field_is_bounded(field, value) -> None:
    with pytest.raises(SealError, match=f"字段 {field} 无效"):
        check_header(_header(**{field: value}))


def test_a_sound_header_passes() -> None:
    check_header(_header(since=2**63 - 1, to_division="140000"))


def test_huge_fields_from_a_stranger_are_never_copied_into_the_audit(linked) -> None:
    for _ in range(20):
        huge_header = seal(b"k" * 43, _header(from_node=MB), [])
        assert _post(linked, huge_header).status_code == 401  # header over its size limit
        bad_node = seal(b"k" * 43, _header(from_node="n" * 1500), [])
        assert _post(linked, bad_node).status_code == 401
        forged = seal(b"k" * 43, _header(kind="push", from_node="node-140600"), [{"x": MB}])
        assert _post(linked, forged).status_code in (401, 429)
        linked.clock.now += 60  # slow enough not to be throttled: only the audit is tested
    records = _refusals(linked)
    assert records and all(_size(r) < 400 for r in records), [_size(r) for r in records]
    # 60 refusals over 20 minutes from two claimed senders (the child, and unknown ones): per
    # sender and 5-minute interval one full record and one summary at most.
    assert len(records) <= 2 * 2 * 4


def test_a_flood_of_refusals_is_throttled_and_summarised(linked) -> None:
    forged = seal(b"w" * 43, _header(), [])  # claims the child, wrong key
    answers = [_post(linked, forged) for _ in range(40)]
    codes = [r.status_code for r in answers]
    assert codes[:10] == [401] * 10
    assert set(codes[10:]) == {429}
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert "过于频繁" in answers[-1].json()["detail"]
    full = _refusals(linked)
    assert len(full) == 1 and full[0].detail["reason"].startswith("同步数据校验失败")
    assert full[0].ip  # from where
    # Waiting lets the address in again; a new interval starts with a full record and the
    # finished one is summarised with its count, once.
    linked.clock.now += 300
    assert _post(linked, forged).status_code == 401
    records = _refusals(linked)
    summaries = [r for r in records if r.detail.get("reason") == "summary"]
    counts = {r.actor_name: r.detail["count"] for r in summaries}
    # 10 refusals claimed the child, the other 30 requests were answered 429 unread.
    assert counts == {"node:140600": 10, "node:throttled": 30}
    assert len(records) == 1 + 2 + 1
    assert _post(linked, forged).status_code == 401
    assert len(_refusals(linked)) == 4  # counted, not written


def test_unknown_senders_share_one_record_per_interval(linked) -> None:
    for i in range(8):
        message = seal(b"k" * 43, _header(from_division=f"1407{i:02d}"), [])
        assert _post(linked, message).status_code == 403
    records = _refusals(linked)
    assert len(records) == 1 and records[0].detail["claimed"] == "140700"
    assert records[0].actor_name == "node:unknown"


def _link(node) -> SyncLink:  # type: ignore[no-untyped-def]
    with node.db() as s:
        link = s.scalar(select(SyncLink).where(SyncLink.division_code == CHILD))
        s.expunge(link)
        return link


def test_a_replayed_push_is_a_no_op(linked) -> None:
    first = seal(linked.link_key, _header(since=0, last_seq=2), [])
    assert _post(linked, first).status_code == 200
    second = seal(linked.link_key, _header(since=2, last_seq=5), [])
    assert _post(linked, second).status_code == 200
    before = _link(linked)
    assert before.up_seq == 5
    # The first message again (a captured request, within the freshness window).
    r = _post(linked, first)
    assert r.status_code == 200
    assert open_sealed(linked.link_key, r.content)[1]["stored_seq"] == 5
    after = _link(linked)
    assert after.up_seq == 5  # the cursor did not move back
    assert after.last_contact_at == before.last_contact_at  # and no contact was counted
    # A new message that really does resend from 2 (a child restored from a backup) is heard.
    resend = seal(linked.link_key, _header(since=0, last_seq=2), [])
    assert _post(linked, resend).status_code == 200
    assert _link(linked).up_seq == 2


def test_a_replayed_pull_does_not_count_as_contact(linked) -> None:
    pull = seal(linked.link_key, _header(kind="pull", since=0, stored=0), {})
    assert _post(linked, pull, "pull").status_code == 200
    before = _link(linked).last_contact_at
    again = _post(linked, pull, "pull")
    assert again.status_code == 200
    assert _link(linked).last_contact_at == before


def test_an_oversized_body_is_refused_unread(linked) -> None:
    r = linked.client.post(
        "/api/v1/sync/push",
        content=MAGIC + b"\n",
        headers={**SEALED, "content-length": str(65 * 1024 * 1024)},
    )
    assert r.status_code == 400 and r.json()["field"] == "body"
    with linked.db() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "sync.refused")
            )
            == 0
        )


def test_a_stale_message_is_refused_even_when_sealed_right(linked) -> None:
    old = seal(linked.link_key, _header(ts=(utcnow() - timedelta(hours=1)).isoformat()), [])
    assert _post(linked, old).status_code == 401
    assert _link(linked).last_contact_at is None
