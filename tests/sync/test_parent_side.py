"""A parent node receiving from a child, driven with sealed messages as a child sends them:
idempotent apply, newest version wins, jurisdiction, keys, replays, rewind, directives down."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.core.audit.models import AuditRecord
from anjian.core.audit.service import SYSTEM
from anjian.core.orgs.models import Organisation
from anjian.core.sync.models import OutboxEntry
from anjian.core.sync.protocol import open_sealed, seal
from anjian.core.sync.service import build_push, link_child, set_parent
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import compose_uscc
from samples import sync_header

CHILD = "140600"  # 朔州市, a child of the 山西 node
SEALED = {"content-type": "application/vnd.anjian.sync"}


@pytest.fixture
def linked(personas):
    with personas.db() as s:
        personas.link_key = link_child(s, SYSTEM, CHILD).encode()
    return personas


def _template(node) -> dict[str, Any]:
    """An enterprise payload shaped like any node's outbox payload."""
    with node.db() as s:
        entry = s.scalar(select(OutboxEntry).where(OutboxEntry.entity == "enterprise"))
        payload = copy.deepcopy(entry.payload)
    payload["legal_rep_phone_enc"] = "13900001111"  # plaintext inside the sealed batch
    payload["safety_manager_phone_enc"] = None
    return payload


def _entry(
    node,
    seq: int,
    uid: str,
    version: int,
    *,
    division: str = "140622",
    name: str = "朔州测试煤业有限公司",
    serial: str = "MA0T0001",
) -> dict[str, Any]:
    payload = _template(node)
    payload.update(
        uid=uid,
        origin_node="node-140622",
        version=version,
        name=name,
        division_code=division,
        uscc=compose_uscc(division, serial),
    )
    return {
        "seq": seq,
        "entity": "enterprise",
        "uid": uid,
        "origin_node": "node-140622",
        "version": version,
        "op": "upsert",
        "payload": payload,
    }


def _push(
    node, entries, *, since: int = 0, key: bytes | None = None, ts=None, division: str = CHILD
):
    header = {
        "v": 1,
        "kind": "push",
        "from_division": division,
        "from_node": f"node-{division}",
        "ts": (ts or utcnow()).isoformat(),
        "since": since,
        "last_seq": entries[-1]["seq"] if entries else since,
        "count": len(entries),
    }
    message = seal(key or node.link_key, header, entries)
    return node.client.post("/api/v1/sync/push", content=message, headers=SEALED)


def _ack(node, r) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return open_sealed(node.link_key, r.content)[1]


UID = "01938f4e-0000-7000-8000-000000000001"


def test_child_changes_are_stored_read_only_and_attributed(linked) -> None:
    ack = _ack(linked, _push(linked, [_entry(linked, 1, UID, 1)]))
    assert ack == {"status": "ok", "stored_seq": 1, "applied": 1, "stale": 0}
    with linked.db() as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.uid == UID))
        assert ent.origin_node == "node-140622" and ent.version == 1
        assert ent.legal_rep_phone_enc.startswith("sm4gcm:")  # re-encrypted under our key
        forwarded = s.scalar(select(OutboxEntry).where(OutboxEntry.uid == UID))
        assert forwarded.source == "child"  # queued to go on up to our own parent
    # Visible to the province official through the API, attributed to its origin…
    headers = linked.login("sheng")
    body = linked.client.get(f"/api/v1/enterprises/{ent.id}", headers=headers).json()
    assert body["origin_node"] == "node-140622"
    assert body["legal_rep_phone_masked"] == "139****1111"
    # …but read-only here: the single writer is the county.
    r = linked.client.patch(
        f"/api/v1/enterprises/{ent.id}", headers=headers, json={"address": "改"}
    )
    assert r.status_code == 403
    assert "只读" in r.json()["detail"]


def test_replays_and_older_versions_are_no_ops(linked) -> None:
    _ack(
        linked, _push(linked, [_entry(linked, 1, UID, 1), _entry(linked, 2, UID, 2, name="新名称")])
    )
    again = _ack(
        linked, _push(linked, [_entry(linked, 1, UID, 1), _entry(linked, 2, UID, 2, name="新名称")])
    )
    assert again["applied"] == 0 and again["stale"] == 2
    older = _ack(linked, _push(linked, [_entry(linked, 3, UID, 1, name="旧名称")], since=2))
    assert older["applied"] == 0 and older["stale"] == 1
    newer = _ack(linked, _push(linked, [_entry(linked, 4, UID, 3, name="第三版")], since=3))
    assert newer["applied"] == 1 and newer["stored_seq"] == 4
    with linked.db() as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.uid == UID))
        assert (ent.name, ent.version) == ("第三版", 3)
        assert (
            s.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.uid == UID)) == 1
        )


def test_several_versions_in_one_batch_each_go_on_once_and_the_newest_is_kept(linked) -> None:
    batch = [
        _entry(linked, 1, UID, 2, name="第二版"),
        _entry(linked, 2, UID, 1, name="第一版"),
        _entry(linked, 3, UID, 3, name="第三版"),
        _entry(linked, 4, UID, 2, name="第二版"),  # the same version twice: a replay
    ]
    ack = _ack(linked, _push(linked, batch))
    assert (ack["applied"], ack["stale"]) == (3, 1)
    with linked.db() as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.uid == UID))
        assert (ent.name, ent.version) == ("第三版", 3)
        queued = s.scalars(
            select(OutboxEntry).where(OutboxEntry.uid == UID).order_by(OutboxEntry.seq)
        ).all()
        # every version goes on up exactly once, oldest first, under this node's key
        assert [(e.version, e.payload["name"]) for e in queued] == [
            (1, "第一版"),
            (2, "第二版"),
            (3, "第三版"),
        ]
        assert all(e.payload["legal_rep_phone_enc"].startswith("sm4gcm:") for e in queued)


def test_what_goes_on_up_is_what_came_in_with_personal_fields_under_our_key(linked) -> None:
    """Stored and forwarded verbatim (tabs, line breaks, backslashes and quotes too: the outbox
    is written with COPY's escapes on PostgreSQL); a phone a record keeps across its versions
    keeps one ciphertext here, as at the origin, and goes on up as plaintext."""
    name = '朔州\t"测试"\\煤业\n有限公司'
    other = "01938f4e-0000-7000-8000-000000000002"
    batch = [
        _entry(linked, 1, UID, 1, name=name),
        _entry(linked, 2, UID, 2, name=name + "二"),
        _entry(linked, 3, other, 1, serial="MA0T0002"),
    ]
    batch[2]["payload"]["legal_rep_phone_enc"] = "13700002222"
    _ack(linked, _push(linked, batch))
    with linked.db() as s:
        queued = s.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)).all()[-3:]
        assert [e.payload["name"] for e in queued[:2]] == [name, name + "二"]
        phones = [e.payload["legal_rep_phone_enc"] for e in queued]
        assert phones[0] == phones[1] != phones[2]  # unchanged: one ciphertext
        assert all(p.startswith("sm4gcm:") and "1111" not in p for p in phones)
        link = set_parent(s, SYSTEM, "http://127.0.0.1:9", "k" * 40, "000000")
        message, _count = build_push(s, link)
    up = open_sealed(b"k" * 40, message)[1][-3:]
    assert [e["payload"]["name"] for e in up[:2]] == [name, name + "二"]
    assert [e["payload"]["legal_rep_phone_enc"] for e in up] == [
        "13900001111",
        "13900001111",
        "13700002222",
    ]
    assert [e["payload"]["uid"] for e in up] == [UID, UID, other]


def test_a_reference_to_a_record_later_in_the_batch_is_resolved(linked) -> None:
    def org(seq: int, uid: str, name: str, parent_uid: str | None) -> dict[str, Any]:
        payload = {
            "uid": uid,
            "origin_node": "node-140622",
            "version": 1,
            "updated_at": utcnow().isoformat(),
            "deleted": False,
            "name": name,
            "kind": "agency",
            "division_code": "140622",
            "parent_uid": parent_uid,
            "area_codes": None,
            "enterprise_uid": UID,
        }
        return {
            "seq": seq,
            "entity": "organisation",
            "uid": uid,
            "origin_node": "node-140622",
            "version": 1,
            "op": "upsert",
            "payload": payload,
        }

    child_uid, parent_uid = (
        "01938f4e-0000-7000-8000-0000000000c1",
        "01938f4e-0000-7000-8000-0000000000c2",
    )
    batch = [
        org(1, child_uid, "应县应急管理局执法大队", parent_uid),  # its parent comes next
        org(2, parent_uid, "应县应急管理局", None),
        _entry(linked, 3, UID, 1),  # the enterprise both refer to, last
    ]
    assert _ack(linked, _push(linked, batch))["applied"] == 3
    with linked.db() as s:
        orgs = {
            o.uid: o
            for o in s.scalars(
                select(Organisation).where(Organisation.origin_node == "node-140622")
            )
        }
        ent = s.scalar(select(Enterprise).where(Enterprise.uid == UID))
        assert orgs[child_uid].parent_id == orgs[parent_uid].id
        assert orgs[child_uid].enterprise_id == ent.id == orgs[parent_uid].enterprise_id
        forwarded = s.scalar(select(OutboxEntry).where(OutboxEntry.uid == child_uid))
        assert forwarded.payload["parent_uid"] == parent_uid  # references travel on as uids


def test_records_outside_the_childs_jurisdiction_are_refused_whole(linked) -> None:
    inside = _entry(linked, 1, UID, 1)
    outside = _entry(
        linked, 2, "01938f4e-0000-7000-8000-000000000002", 1, division="140105", serial="MA0T0002"
    )  # 太原市小店区: not 朔州's
    r = _push(linked, [inside, outside])
    assert r.status_code == 403
    assert "管辖" in r.json()["detail"]
    with linked.db() as s:
        assert (
            s.scalar(select(Enterprise).where(Enterprise.uid == UID)) is None
        )  # nothing half-applied
        refused = s.scalars(select(AuditRecord).where(AuditRecord.action == "sync.refused")).all()
        assert refused and refused[-1].actor_name == "node:node-140600"


def test_a_division_the_parent_does_not_have_is_refused_whole(linked) -> None:
    known = _entry(linked, 1, UID, 1)
    unknown = _entry(
        linked, 2, "01938f4e-0000-7000-8000-000000000002", 1, division="140699", serial="MA0T0002"
    )  # inside 朔州's prefix, but no such county
    r = _push(linked, [known, unknown])
    assert r.status_code == 403
    assert "140699" in r.json()["detail"] and "行政区划" in r.json()["detail"]
    with linked.db() as s:
        assert s.scalar(select(Enterprise).where(Enterprise.uid == UID)) is None
    assert _ack(linked, _push(linked, [known]))["applied"] == 1  # the link is not stuck


@pytest.mark.parametrize(
    ("field", "value"),
    [("uid", "x" * 37), ("uid", 7), ("origin_node", ""), ("version", "2"), ("payload", None)],
)
def test_a_malformed_change_is_refused_naming_its_field(linked, field, value) -> None:
    bad = _entry(linked, 2, "01938f4e-0000-7000-8000-000000000002", 1, serial="MA0T0002")
    bad[field] = value
    r = _push(linked, [_entry(linked, 1, UID, 1), bad])
    assert r.status_code == 403
    assert f"malformed change: {field}" in r.json()["detail"]
    with linked.db() as s:
        assert s.scalar(select(Enterprise).where(Enterprise.uid == UID)) is None


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [("updated_at", "昨天", "updated_at"), ("name", {"zh": "名称"}, ""), ("deleted", "yes", "")],
)
def test_a_value_its_column_cannot_take_is_refused_whole(linked, key, value, named) -> None:
    bad = _entry(linked, 2, "01938f4e-0000-7000-8000-000000000002", 1, serial="MA0T0002")
    bad["payload"][key] = value
    r = _push(linked, [_entry(linked, 1, UID, 1), bad])
    assert r.status_code == 403, r.text
    assert "malformed change" in r.json()["detail"] and named in r.json()["detail"]
    with linked.db() as s:
        assert s.scalar(select(Enterprise).where(Enterprise.uid == UID)) is None
    assert _ack(linked, _push(linked, [_entry(linked, 1, UID, 1)]))["applied"] == 1


def test_a_record_of_another_node_cannot_be_taken_over(linked) -> None:
    """Each record has one writer, its origin node: a change naming another origin for a record
    held here (a uid learnt somewhere) is refused, whatever its version."""
    assert _ack(linked, _push(linked, [_entry(linked, 1, UID, 1)]))["applied"] == 1
    takeover = _entry(linked, 2, UID, 9, name="冒名修改")
    takeover["origin_node"] = takeover["payload"]["origin_node"] = "node-140621"
    r = _push(linked, [takeover], since=1)
    assert r.status_code == 403 and "another node" in r.json()["detail"]
    with linked.db() as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.uid == UID))
        assert (ent.name, ent.version, ent.origin_node) == (
            "朔州测试煤业有限公司",
            1,
            "node-140622",
        )
    # nor can a batch give a new record's versions two writers
    other = "01938f4e-0000-7000-8000-000000000003"
    first, second = _entry(linked, 2, other, 1, serial="MA0T0003"), _entry(linked, 3, other, 2)
    second["origin_node"] = second["payload"]["origin_node"] = "node-140621"
    r = _push(linked, [first, second], since=1)
    assert r.status_code == 403 and "another node" in r.json()["detail"]


def test_the_rest_of_the_applying_transaction_keeps_its_foreign_key_checks(linked) -> None:
    from anjian.config import get_settings
    from anjian.core.crypto import FieldCipher
    from anjian.core.sync.apply import apply_batch

    with linked.db() as s:
        report = apply_batch(
            s,
            [_entry(linked, 1, UID, 1)],
            source="child",
            cipher=FieldCipher(get_settings().key_file("field")),
            allowed_prefix="1406",
        )
        assert report.applied == 1
        ent = s.scalar(select(Enterprise).where(Enterprise.uid == UID))
        ent.division_code = "140699"  # no such division: the key check must still refuse it
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_wrong_revoked_or_foreign_keys_are_refused_and_logged(linked) -> None:
    assert _push(linked, [_entry(linked, 1, UID, 1)], key=b"w" * 43).status_code == 401
    # A key issued to another child does not work for this one.
    with linked.db() as s:
        other = link_child(s, SYSTEM, "140200").encode()
    assert _push(linked, [_entry(linked, 1, UID, 1)], key=other).status_code == 401
    # An unknown child.
    assert _push(linked, [], division="140700", key=other).status_code == 403
    assert CliRunner().invoke(cli, ["node", "revoke", CHILD]).exit_code == 0
    assert _push(linked, [_entry(linked, 1, UID, 1)]).status_code == 403
    with linked.db() as s:
        refused = s.scalars(select(AuditRecord).where(AuditRecord.action == "sync.refused")).all()
        # The first refusal per claimed child (and for unknown ones) in an interval is recorded
        # in full, the rest counted for a summary (tests/security/test_sync_flood.py).
        assert [(r.actor_name, r.detail.get("claimed")) for r in refused] == [
            ("node:node-140600", None),
            ("node:unknown", "140700"),
        ]
        assert s.scalar(select(Enterprise).where(Enterprise.uid == UID)) is None


def test_stale_message_is_refused_as_a_replay(linked) -> None:
    from datetime import timedelta

    r = _push(linked, [_entry(linked, 1, UID, 1)], ts=utcnow() - timedelta(hours=2))
    assert r.status_code == 401


def test_parent_that_lost_data_asks_the_child_to_rewind(linked) -> None:
    _ack(linked, _push(linked, [_entry(linked, 1, UID, 1)]))
    # The child believes the parent stored up to 7 (the parent was restored from a backup).
    ack = _ack(linked, _push(linked, [_entry(linked, 8, UID, 2)], since=7))
    assert ack["status"] == "rewind" and ack["stored_seq"] == 1


def test_directives_go_down_only_to_the_children_they_concern(linked) -> None:
    headers = linked.login("sheng")
    for target in ("140600", "140622", "140100"):
        r = linked.client.post(
            "/api/v1/directives",
            headers=headers,
            json={
                "kind": "directive",
                "title": f"关于 {target} 的安全检查通知",
                "target_division": target,
            },
        )
        assert r.status_code == 201, r.text
    whole = linked.client.post(
        "/api/v1/directives",
        headers=headers,
        json={"title": "全省通知", "target_division": "140000"},
    )
    assert whole.status_code == 201
    header = sync_header("pull", CHILD)
    r = linked.client.post(
        "/api/v1/sync/pull", content=seal(linked.link_key, header, {}), headers=SEALED
    )
    assert r.status_code == 200
    body = open_sealed(linked.link_key, r.content)[1]
    titles = {e["payload"]["title"] for e in body["entries"]}
    assert titles == {"关于 140600 的安全检查通知", "关于 140622 的安全检查通知", "全省通知"}
    assert body["last_seq"] == body["head_seq"]


def test_bundle_import_applies_once_and_refuses_tampering(linked, tmp_path) -> None:
    header = {
        "v": 1,
        "kind": "bundle",
        "from_division": CHILD,
        "from_node": "node-140600",
        "ts": "2026-01-01T00:00:00+00:00",
        "since": 0,
        "last_seq": 1,
        "count": 1,
    }
    bundle = tmp_path / "to-parent.bundle"
    bundle.write_bytes(seal(linked.link_key, header, [_entry(linked, 1, UID, 1)]))
    runner = CliRunner()
    first = runner.invoke(cli, ["sync", "import", str(bundle)])
    assert first.exit_code == 0, first.output
    assert "应用 1 条" in first.output
    second = runner.invoke(cli, ["sync", "import", str(bundle)])
    assert second.exit_code == 0 and "应用 0 条" in second.output
    data = bytearray(bundle.read_bytes())
    data[-10] = ord("A") if data[-10] != ord("A") else ord("B")
    bundle.write_bytes(bytes(data))
    tampered = runner.invoke(cli, ["sync", "import", str(bundle)])
    assert tampered.exit_code == 1
    assert "篡改" in tampered.output


def test_same_credit_code_from_two_counties_does_not_stall_the_link(linked) -> None:
    """Each county checks only its own registry: their parent keeps both records (a conflict for
    officials to resolve) rather than refusing the second on every retry."""
    first = _entry(linked, 1, UID, 1)
    second = _entry(
        linked, 2, "01938f4e-0000-7000-8000-000000000009", 1, division="140621", serial="MA0T0009"
    )
    second["origin_node"] = second["payload"]["origin_node"] = "node-140621"
    second["payload"]["uscc"] = first["payload"]["uscc"]
    ack = _ack(linked, _push(linked, [first, second]))
    assert ack["status"] == "ok" and ack["applied"] == 2
    with linked.db() as s:
        rows = s.scalars(
            select(Enterprise).where(Enterprise.uscc == first["payload"]["uscc"])
        ).all()
    assert sorted(r.origin_node for r in rows) == ["node-140621", "node-140622"]
    # Registering that code again here is still refused.
    r = linked.client.post(
        "/api/v1/enterprises",
        headers=linked.login("sheng"),
        json={
            "uscc": first["payload"]["uscc"],
            "name": "重复企业",
            "division_code": "140600",
            "supervision_category": "other",
        },
    )
    assert r.status_code == 409 and r.json()["field"] == "uscc"
    # The conflict is reported to the officials above both counties, not to either county.
    conflicts = linked.client.get(
        "/api/v1/enterprises/conflicts", headers=linked.login("shuozhou")
    ).json()
    assert [c["uscc"] for c in conflicts] == [first["payload"]["uscc"]]
    assert {r["origin_node"] for r in conflicts[0]["records"]} == {"node-140621", "node-140622"}
    assert (
        linked.client.get("/api/v1/enterprises/conflicts", headers=linked.login("yingxian")).json()
        == []
    )
