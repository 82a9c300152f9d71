"""Records made above about a lower division's enterprise (``also_down``) go down to the child
whose area holds it, as the 山西 node serves its pulls: a provincial inspection of a county mine
with its finding and document reaches 朔州 and 应县, not 太原; what a child sent up never comes
back down; plans and draws stay up. At the child, a reference it cannot resolve is left empty,
and a record naming an enterprise it does not hold is left out without stopping the link."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from anjian.core.audit.service import SYSTEM
from anjian.core.scope import Scope
from anjian.core.sync.apply import apply_batch
from anjian.core.sync.models import OutboxEntry
from anjian.core.sync.protocol import open_sealed, seal
from anjian.core.sync.service import link_child, link_cipher
from anjian.enforcement.models import Finding, Inspection
from anjian.enterprises.rules import compose_uscc
from anjian.enterprises.service import create_enterprise
from enforcement_world import officer
from samples import mine_enterprise, sync_header

CITY, SIBLING, COUNTY = "140600", "140100", "140622"  # 朔州市, 太原市, 应县
API = "/api/v1/enforcement"
SEALED = {"content-type": "application/vnd.anjian.sync"}
UNKNOWN = "01938f4e-0000-7000-8000-00000000dead"


@pytest.fixture
def province(personas: Any) -> Any:
    """The 山西 node with three children (朔州, 太原 and 应县 directly) and two officers of the
    province (sheng, zfsheng)."""
    with personas.db() as s:
        personas.keys = {d: link_child(s, SYSTEM, d).encode() for d in (CITY, SIBLING, COUNTY)}
    personas.headers = personas.login("sheng")
    personas.add_user("zfsheng", "official", "140000", display_name="省执法员")
    personas.team = [
        officer(personas, name, f"1400000{n}") for n, name in ((1, "sheng"), (2, "zfsheng"))
    ]
    return personas


def _post(node: Any, path: str, body: Any = None) -> dict[str, Any]:
    r = node.client.post(f"{API}{path}", headers=node.headers, json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _inspect(node: Any, enterprise: str) -> dict[str, Any]:
    body = {
        "enterprise_id": node.enterprises[enterprise],
        "team": node.team,
        "planned_on": "2026-12-08",
    }
    return _post(node, "/inspections", body)


def _pull(node: Any, division: str) -> list[dict[str, Any]]:
    """What the node serves the child ``division`` from the start of its outbox."""
    header = sync_header("pull", division)
    key = node.keys[division]
    r = node.client.post("/api/v1/sync/pull", content=seal(key, header, {}), headers=SEALED)
    assert r.status_code == 200, r.text
    return open_sealed(key, r.content)[1]["entries"]


def _enforcement(entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(e["entity"], e["uid"]) for e in entries if e["entity"].startswith("enforcement_")}


def _latest(node: Any, entity: str, uid: str) -> dict[str, Any]:
    """The newest payload of a record in the node's outbox."""
    with node.db() as s:
        entry = s.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.entity == entity, OutboxEntry.uid == uid)
            .order_by(OutboxEntry.seq.desc())
        ).first()
        assert entry is not None
        return copy.deepcopy(entry.payload)


def _change(payload: dict[str, Any], entity: str, uid: str, origin: str, **values: Any) -> dict:
    """A change of ``entity`` shaped like ``payload`` (a record of this node), as another node
    would send it: its own uid, origin and version 1."""
    payload = {**payload, **values, "uid": uid, "origin_node": origin, "version": 1}
    return {
        "entity": entity,
        "uid": uid,
        "origin_node": origin,
        "version": 1,
        "op": "upsert",
        "payload": payload,
    }


def _city_enterprise(node: Any) -> None:
    """A 朔州 enterprise placed at the city's own division (``city_works``)."""
    data = mine_enterprise().model_copy(
        update={
            "uscc": compose_uscc(CITY, "MA0K0600"),
            "name": "朔州市市属煤业有限公司",
            "division_code": CITY,
        }
    )
    with node.db() as s:
        ent = create_enterprise(s, SYSTEM, Scope.for_division(None, "admin", ["000000"]), data)
        node.enterprises["city_works"] = ent.id


def test_what_the_province_does_about_a_county_goes_down_to_its_area_only(province) -> None:
    _city_enterprise(province)
    ying = _inspect(province, "ying_mine")
    shan = _inspect(province, "shan_chem")  # 山阴县, 140621: 朔州's, not 应县's
    # placed at 朔州 itself: the city's, not its counties' (unlike a directive to 朔州)
    city_level = _inspect(province, "city_works")
    _post(province, f"/inspections/{ying['id']}/start")
    finding = _post(
        province,
        f"/inspections/{ying['id']}/findings",
        {"item_code": "MK02", "place": "1201 工作面", "description": "甲烷超限仍在作业"},
    )
    record = _post(province, f"/inspections/{ying['id']}/documents", {"kind": "inspection_record"})
    # a plan is the province's own (placed by its division) and a draw over the province is
    # drawn from the whole province: neither goes down, nor the draw's checks
    plan = _post(province, "/plans", {"name": "2026 年度省级检查计划", "year": 2026})
    draw = _post(province, "/draws", {"division_code": "140000", "enterprise_count": 1})

    ying_records = {
        ("enforcement_inspection", ying["uid"]),
        ("enforcement_finding", finding["uid"]),
        ("enforcement_document", record["uid"]),
    }
    assert _enforcement(_pull(province, COUNTY)) == ying_records
    assert _enforcement(_pull(province, CITY)) == {
        *ying_records,
        ("enforcement_inspection", shan["uid"]),
        ("enforcement_inspection", city_level["uid"]),
    }
    assert _enforcement(_pull(province, SIBLING)) == set()
    # every version goes down, in order: planned, then on site (and its checklist marked)
    versions = [
        e["version"] for e in _pull(province, COUNTY) if e["entity"] == "enforcement_inspection"
    ]
    assert versions == sorted(versions) and versions[0] == 1 and len(versions) >= 2
    pulled = {e["uid"] for e in _pull(province, CITY)}
    assert plan["uid"] not in pulled and draw["uid"] not in pulled


def test_what_a_child_sent_up_never_goes_back_down(province) -> None:
    ying = _inspect(province, "ying_mine")
    like = _latest(province, "enforcement_inspection", ying["uid"])
    from_city = "01938f4e-0000-7000-8000-0000000c1700"
    city_made = _change(
        like, "enforcement_inspection", from_city, f"node-{CITY}", agency_division=CITY
    )
    header = sync_header("push", CITY, last_seq=1, count=1)
    key = province.keys[CITY]
    r = province.client.post(
        "/api/v1/sync/push", content=seal(key, header, [{**city_made, "seq": 1}]), headers=SEALED
    )
    assert r.status_code == 200 and open_sealed(key, r.content)[1]["applied"] == 1, r.text
    # an inspection the nation made of the 应县 mine, received from our parent: passed on
    from_nation = "01938f4e-0000-7000-8000-0000000a7100"
    nation_made = _change(
        like, "enforcement_inspection", from_nation, "node-000000", agency_division="000000"
    )
    with province.db() as s:
        report = apply_batch(
            s, [nation_made], source="parent", cipher=link_cipher(), allowed_prefix=None
        )
    assert report.applied == 1

    for child in (CITY, COUNTY):
        uids = {uid for _, uid in _enforcement(_pull(province, child))}
        assert uids == {ying["uid"], from_nation}, child  # never the city's own, nor to 应县
    with province.db() as s:
        sources = dict(
            s.execute(
                select(OutboxEntry.uid, OutboxEntry.source).where(
                    OutboxEntry.uid.in_([from_city, from_nation])
                )
            ).all()
        )
    assert sources == {from_city: "child", from_nation: "parent"}


def test_at_the_child_unresolved_references_stay_empty_and_unplaced_records_stay_out(
    province,
) -> None:
    """The 山西 node here plays a child receiving from its parent: an inspection of the 应县
    mine made above from a drawn check the node does not hold, with a finding turned into a
    hidden hazard above, applies with both references empty; an inspection of an enterprise
    the node does not hold is left out with its finding and document, batch after batch."""
    ying = _inspect(province, "ying_mine")
    _post(province, f"/inspections/{ying['id']}/start")
    finding = _post(
        province,
        f"/inspections/{ying['id']}/findings",
        {"place": "回风巷", "description": "风门损坏"},
    )
    doc = _post(province, f"/inspections/{ying['id']}/documents", {"kind": "inspection_record"})
    insp_like = _latest(province, "enforcement_inspection", ying["uid"])
    finding_like = _latest(province, "enforcement_finding", finding["uid"])
    doc_like = _latest(province, "enforcement_document", doc["uid"])
    above = "node-000000"
    placed, placed_finding = (f"01938f4e-0000-7000-8000-00000000a00{n}" for n in (1, 2))
    lost, lost_finding, lost_doc = (f"01938f4e-0000-7000-8000-00000000b00{n}" for n in (1, 2, 3))
    batch = [
        _change(
            insp_like,
            "enforcement_inspection",
            placed,
            above,
            draw_check_uid=UNKNOWN,
            source="draw",
            source_ref=UNKNOWN,
        ),
        _change(
            finding_like,
            "enforcement_finding",
            placed_finding,
            above,
            inspection_uid=placed,
            hidden_hazard_uid=UNKNOWN,
        ),
        _change(insp_like, "enforcement_inspection", lost, above, enterprise_uid=UNKNOWN),
        _change(
            finding_like,
            "enforcement_finding",
            lost_finding,
            above,
            inspection_uid=lost,
            enterprise_uid=UNKNOWN,
        ),
        _change(
            doc_like,
            "enforcement_document",
            lost_doc,
            above,
            inspection_uid=lost,
            enterprise_uid=UNKNOWN,
            serial=99,
        ),
    ]
    with province.db() as s:
        report = apply_batch(s, batch, source="parent", cipher=link_cipher(), allowed_prefix=None)
    assert (report.applied, report.unplaced) == (2, 3)
    with province.db() as s:
        insp = s.scalar(select(Inspection).where(Inspection.uid == placed))
        assert insp is not None and insp.draw_check_id is None and insp.source_ref == UNKNOWN
        assert insp.enterprise_id == province.enterprises["ying_mine"]
        got = s.scalar(select(Finding).where(Finding.uid == placed_finding))
        assert got is not None and got.inspection_id == insp.id and got.hidden_hazard_id is None
        assert s.scalar(select(Inspection).where(Inspection.uid == lost)) is None
        queued = dict(
            s.execute(
                select(OutboxEntry.uid, OutboxEntry.payload).where(OutboxEntry.source == "parent")
            ).all()
        )
    # what applied is passed on to our children as it came, its references as uids
    assert set(queued) == {placed, placed_finding}
    assert queued[placed_finding]["hidden_hazard_uid"] == UNKNOWN
    # the next version of the left-out inspection is left out too, without stopping the batch
    later = _change(insp_like, "enforcement_inspection", lost, above, enterprise_uid=UNKNOWN)
    later["version"] = later["payload"]["version"] = 2
    with province.db() as s:
        report = apply_batch(s, [later], source="parent", cipher=link_cipher(), allowed_prefix=None)
    assert (report.applied, report.unplaced) == (0, 1)
    # the county's official sees the inspection made above, with its finding
    headers = province.login("yingxian")
    r = province.client.get(f"{API}/inspections", headers=headers, params={"size": 50})
    assert r.status_code == 200, r.text
    shown = {i["uid"]: i for i in r.json()["items"]}
    assert placed in shown and lost not in shown
    r = province.client.get(f"{API}/inspections/{shown[placed]['id']}", headers=headers)
    assert [f["uid"] for f in r.json()["findings"]] == [placed_finding]
