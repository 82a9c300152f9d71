"""The terminal exchange (移动执法终端): a terminal bound to an officer downloads the officer's
inspections and the enterprises' files, uploads what was recorded offline all or nothing, a
retried upload changes nothing, a change on a moved-on version is a 409 with both versions, and
a revoked terminal's token stops working while its uploads stay."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from enforcement_world import API, officer, plan_inspection

TERMINAL = "/api/v1/terminal/changes"


@pytest.fixture
def field(personas: Any) -> Any:
    """An inspection of the 应县 mine planned for yingxian and zf1, and zf1's tablet."""
    node = personas
    node.headers = node.login("yingxian")
    node.officers = [officer(node, "yingxian", "C1"), officer(node, "zf1", "C2")]
    node.inspection = plan_inspection(node).json()
    r = node.client.post(
        f"{API}/inspectors/{node.officers[1]}/terminals",
        headers=node.headers,
        json={"name": "平板 A"},
    )
    assert r.status_code == 201, r.text
    node.terminal = r.json()
    assert node.terminal["token"].startswith("tml_")
    node.tablet = {"Authorization": f"Bearer {node.terminal['token']}"}
    return node


def _at(minutes: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def _changes(node: Any, base: int) -> list[dict[str, Any]]:
    uid = node.inspection["uid"]
    return [
        {
            "change_id": "c-start-0001",
            "entity": "inspection",
            "action": "start",
            "uid": uid,
            "base_version": base,
            "at": _at(90),
        },
        {
            "change_id": "c-find-0001",
            "entity": "finding",
            "action": "create",
            "uid": str(uuid.uuid4()),
            "base_version": 0,
            "at": _at(60),
            "inspection_uid": uid,
            "item_code": "MK05",
            "place": "北翼回风巷",
            "description": "风门损坏",
        },
        {
            "change_id": "c-finish-0001",
            "entity": "inspection",
            "action": "finish",
            "uid": uid,
            "base_version": base,
            "at": _at(30),
            "summary": "发现 1 项问题",
            "results": {"MK01": "ok"},
        },
    ]


def test_download_work_offline_and_upload_once(field: Any) -> None:
    r = field.client.get(TERMINAL, headers=field.tablet)
    assert r.status_code == 200, r.text
    first = r.json()
    (insp,) = first["inspections"]
    assert insp["uid"] == field.inspection["uid"] and len(insp["checklist"]) == 15
    (ent,) = first["enterprises"]
    assert ent["name"] == "应县金鼎煤业有限公司" and "phone" not in str(ent)
    # Nothing changed since: an empty download.
    again = field.client.get(TERMINAL, headers=field.tablet, params={"since": _at(-5)}).json()
    assert again["inspections"] == [] and again["enterprises"] == []
    changes = _changes(field, insp["version"])
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": changes})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["repeated"] for x in results] == [False, False, False]
    # The connection dropped before the answer: the retry changes nothing.
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": changes})
    assert r.status_code == 200 and [x["repeated"] for x in r.json()["results"]] == [True] * 3
    done = field.client.get(f"{API}/inspections/{insp['id']}", headers=field.headers).json()
    assert done["state"] == "finished" and len(done["findings"]) == 1
    assert done["findings"][0]["uid"] == changes[1]["uid"]
    assert done["started_at"].startswith(changes[0]["at"][:16])
    assert done["findings"][0]["found_by"] == "zf1"
    # The county sees the finding recorded offline, ready to become a hidden hazard.
    r = field.client.post(
        f"{API}/findings/{done['findings'][0]['id']}/hazard", headers=field.headers
    )
    assert r.status_code == 200
    with field.db() as s:
        from anjian.core.audit.models import AuditRecord

        by_tablet = s.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.actor_name == "zf1", AuditRecord.action.like("enforcement.inspection.%")
            )
        )
    assert by_tablet == 3


def test_a_change_on_a_moved_on_version_is_a_conflict_with_both_versions(field: Any) -> None:
    insp = field.client.get(TERMINAL, headers=field.tablet).json()["inspections"][0]
    # Meanwhile the county starts the inspection from the console.
    r = field.client.post(f"{API}/inspections/{insp['id']}/start", headers=field.headers)
    assert r.status_code == 200
    r = field.client.post(
        TERMINAL, headers=field.tablet, json={"changes": _changes(field, insp["version"])}
    )
    assert r.status_code == 409, r.text
    conflicts = r.json()["conflicts"]
    assert {c["change_id"] for c in conflicts} == {"c-start-0001", "c-finish-0001"}
    assert (
        conflicts[0]["server"]["state"] == "on_site" and conflicts[0]["client"]["action"] == "start"
    )
    # Nothing was applied: no finding, and the new finding's change can be sent again.
    now = field.client.get(f"{API}/inspections/{insp['id']}", headers=field.headers).json()
    assert now["findings"] == [] and now["state"] == "on_site"
    resolved = [c for c in _changes(field, now["version"]) if c["action"] != "start"]
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": resolved})
    assert r.status_code == 200, r.text


def test_a_revoked_terminal_is_refused_and_its_uploads_stay(field: Any) -> None:
    insp = field.client.get(TERMINAL, headers=field.tablet).json()["inspections"][0]
    field.client.post(
        TERMINAL, headers=field.tablet, json={"changes": _changes(field, insp["version"])[:2]}
    )
    r = field.client.post(
        f"{API}/inspectors/{field.officers[1]}/terminals/{field.terminal['id']}/revoke",
        headers=field.headers,
    )
    assert r.status_code == 200 and r.json()["revoked_at"] and r.json()["token"] is None
    assert field.client.get(TERMINAL, headers=field.tablet).status_code == 401
    done = field.client.get(f"{API}/inspections/{insp['id']}", headers=field.headers).json()
    assert len(done["findings"]) == 1
    listed = field.client.get(
        f"{API}/inspectors/{field.officers[1]}/terminals", headers=field.headers
    )
    assert [t["token"] for t in listed.json()] == [None]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer tml_" + "x" * 200},
        {"Authorization": "Bearer tml_unknown"},
    ],
)
def test_unknown_tokens_are_401(field: Any, headers: dict[str, str]) -> None:
    assert field.client.get(TERMINAL, headers=headers).status_code == 401
    # A console session is not a terminal token.
    assert field.client.get(TERMINAL, headers=field.headers).status_code == 401


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"at": "2026-12-01T08:00:00"}, "at"),  # no time zone
        ({"at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}, "at"),
        ({"change_id": "short"}, "change_id"),
        ({"change_id": "bad id with spaces"}, "change_id"),
        ({"uid": "not-a-uid"}, "uid"),
        ({"base_version": 2**40}, "base_version"),
        ({"action": "explode"}, "action"),
        ({"place": "x" * 201}, "place"),
        ({"description": "\x00"}, "description"),
    ],
)
@pytest.mark.one_backend
def test_bad_changes_are_refused_and_nothing_is_applied(
    field: Any, change: dict[str, Any], field_name: str
) -> None:
    insp = field.client.get(TERMINAL, headers=field.tablet).json()["inspections"][0]
    changes = _changes(field, insp["version"])
    changes[1] = {**changes[1], **change}
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": changes})
    assert r.status_code == 422 and field_name in r.text, r.text
    now = field.client.get(f"{API}/inspections/{insp['id']}", headers=field.headers).json()
    assert now["state"] == "planned" and now["findings"] == []


def test_uploads_are_bounded(field: Any) -> None:
    insp = field.client.get(TERMINAL, headers=field.tablet).json()["inspections"][0]
    one = _changes(field, insp["version"])[1]
    many = [{**one, "change_id": f"c-{n:08d}", "uid": str(uuid.uuid4())} for n in range(201)]
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": many})
    assert r.status_code == 422
    assert (
        field.client.post(TERMINAL, headers=field.tablet, json={"changes": []}).status_code == 422
    )


def test_an_inspection_new_to_the_terminal_brings_its_enterprise_file(field: Any) -> None:
    first = field.client.get(TERMINAL, headers=field.tablet).json()
    assert [e["name"] for e in first["enterprises"]] == ["应县金鼎煤业有限公司"]
    # Later, an inspection of another enterprise of the county, whose file has not changed
    # since the terminal's cursor: the terminal never had it, so it comes with the inspection.
    from anjian.core.audit.service import SYSTEM
    from anjian.core.scope import Scope
    from anjian.enterprises.rules import compose_uscc
    from anjian.enterprises.service import create_enterprise
    from samples import mine_enterprise

    with field.db() as s:
        other = create_enterprise(
            s,
            SYSTEM,
            Scope.for_division(None, "admin", ["000000"]),
            mine_enterprise().model_copy(
                update={"uscc": compose_uscc("140622", "MA0K0009"), "name": "应县第二煤矿"}
            ),
        )
        other_id = other.id
    since = datetime.now(UTC).isoformat()  # the enterprise's file is older than the cursor
    time.sleep(0.01)
    r = plan_inspection(field, enterprise_id=other_id)
    assert r.status_code == 201, r.text
    later = field.client.get(TERMINAL, headers=field.tablet, params={"since": since}).json()
    assert [i["enterprise_name"] for i in later["inspections"]] == ["应县第二煤矿"]
    assert [e["name"] for e in later["enterprises"]] == ["应县第二煤矿"]


def test_a_finding_on_an_inspection_finished_meanwhile_is_a_conflict(field: Any) -> None:
    insp = field.client.get(TERMINAL, headers=field.tablet).json()["inspections"][0]
    started = field.client.post(
        TERMINAL, headers=field.tablet, json={"changes": _changes(field, insp["version"])[:1]}
    )
    assert started.status_code == 200, started.text
    # Offline, the tablet records a finding; meanwhile the county finishes the inspection.
    r = field.client.post(
        f"{API}/inspections/{insp['id']}/finish", headers=field.headers, json={"summary": "已结束"}
    )
    assert r.status_code == 200, r.text
    finding = {**_changes(field, 0)[1], "change_id": "c-find-late1"}
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": [finding]})
    assert r.status_code == 409, r.text
    (conflict,) = r.json()["conflicts"]
    assert conflict["change_id"] == "c-find-late1"
    assert conflict["server"]["state"] == "finished" and conflict["server"]["summary"] == "已结束"
    assert conflict["client"]["place"] == "北翼回风巷"
    # A finding before the batch's own start is refused the same way; after it, it is fine.
    fresh = plan_inspection(field).json()
    start = {
        **_changes(field, fresh["version"])[0],
        "uid": fresh["uid"],
        "change_id": "c-start-0002",
    }
    early = {**finding, "inspection_uid": fresh["uid"], "uid": str(uuid.uuid4())}
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": [early, start]})
    assert r.status_code == 409 and [c["change_id"] for c in r.json()["conflicts"]] == [
        "c-find-late1"
    ]
    r = field.client.post(TERMINAL, headers=field.tablet, json={"changes": [start, early]})
    assert r.status_code == 200, r.text
