"""Reachable people (issue 16): phones are masked wherever a record is shown; an official in
scope reveals one in full with one audited request; the officials handling an accident see its
contacts in full; an export keeps masking unless full numbers are asked for (audited)."""

from __future__ import annotations

from typing import Any

import pytest

from samples import recent_accident

ENT = "/api/v1/enterprises"
ACC = "/api/v1/accidents"
LEGAL, SAFETY, REPORTER = "13912345678", "13698765432", "13512340000"


def _accident(node: Any, headers: dict[str, str], **extra: Any) -> int:
    r = node.client.post(ACC, json=recent_accident(node, REPORTER, **extra), headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_an_official_in_scope_reveals_a_phone_and_the_reveal_is_audited(personas: Any) -> None:
    node, mine = personas, personas.enterprises["ying_mine"]
    official = node.login("yingxian")
    # masked by default: the file, the list
    shown = node.client.get(f"{ENT}/{mine}", headers=official).json()
    assert shown["legal_rep_phone_masked"] == "139****5678"
    listed = node.client.get(ENT, headers=official).text
    assert LEGAL not in listed and SAFETY not in listed and "139****5678" in listed
    assert node.audits("enterprise.reveal") == []
    # one field
    r = node.client.post(
        f"{ENT}/{mine}/contacts/reveal", params={"field": "legal_rep_phone"}, headers=official
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "object_type": "enterprise",
        "object_id": mine,
        "contacts": [
            {"field": "legal_rep_phone", "label": "法定代表人", "name": "王建国", "phone": LEGAL}
        ],
    }
    [rec] = node.audits("enterprise.reveal")
    assert (rec.actor_name, rec.actor_id) == ("yingxian", node.users["yingxian"])
    assert (rec.object_type, rec.object_id, rec.division_code) == (
        "enterprise",
        str(mine),
        "140622",
    )
    assert rec.detail == {"fields": ["legal_rep_phone"]}
    assert LEGAL not in str(rec.detail)  # the audit names the field, never the number
    # all fields; the city above reaches it too
    r = node.client.post(f"{ENT}/{mine}/contacts/reveal", headers=node.login("shuozhou"))
    assert [c["phone"] for c in r.json()["contacts"]] == [LEGAL, SAFETY]
    assert node.audits("enterprise.reveal")[-1].detail == {
        "fields": ["legal_rep_phone", "safety_manager_phone"]
    }
    # a GET does not reveal
    assert node.client.get(f"{ENT}/{mine}/contacts/reveal", headers=official).status_code == 405


def test_out_of_scope_is_the_same_404_as_missing(personas: Any) -> None:
    node, mine = personas, personas.enterprises["ying_mine"]
    chem = node.enterprises["shan_chem"]
    sibling = node.client.post(f"{ENT}/{mine}/contacts/reveal", headers=node.login("shanyin"))
    missing = node.client.post(f"{ENT}/999999/contacts/reveal", headers=node.login("shanyin"))
    assert sibling.status_code == missing.status_code == 404
    assert sibling.json()["detail"].split(":")[0] == missing.json()["detail"].split(":")[0]
    assert LEGAL not in sibling.text
    # an enterprise user: its own numbers, not another enterprise's
    unit = node.login("qiye")
    own = node.client.post(f"{ENT}/{mine}/contacts/reveal", headers=unit)
    assert own.status_code == 200 and own.json()["contacts"][0]["phone"] == LEGAL
    assert node.client.post(f"{ENT}/{chem}/contacts/reveal", headers=unit).status_code == 404
    # and an accident of someone else's county
    acc = _accident(node, node.login("yingxian"))
    r = node.client.post(f"{ACC}/{acc}/contacts/reveal", headers=node.login("shanyin"))
    assert r.status_code == 404 and REPORTER not in r.text
    assert [r.actor_name for r in node.audits("enterprise.reveal")] == ["qiye"]
    assert node.audits("accident.reveal") == []


def test_an_accident_reporter_phone_is_masked_until_revealed(personas: Any) -> None:
    node = personas
    acc = _accident(node, node.login("yingxian"))
    province = node.login("sheng")  # a general accident: the chain ends at the city
    view = node.client.get(f"{ACC}/{acc}", headers=province).json()
    assert view["reporter_phone"] == "135****0000"
    assert REPORTER not in node.client.get(ACC, headers=province).text
    r = node.client.post(f"{ACC}/{acc}/contacts/reveal", headers=province)
    assert r.status_code == 200, r.text
    assert r.json()["contacts"] == [
        {"field": "reporter_phone", "label": "报告人", "name": "张报告", "phone": REPORTER}
    ]
    [rec] = node.audits("accident.reveal")
    assert (rec.actor_name, rec.object_id, rec.detail) == (
        "sheng",
        str(acc),
        {"fields": ["reporter_phone"]},
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "field",
    ["x" * 65, "legal_rep_phone\x00", "phone\u202e", "' OR 1=1 --", "safety_manager", "-1"],
)
@pytest.mark.one_backend
def test_hostile_field_names_are_refused_naming_the_field(personas: Any, field: str) -> None:
    node, mine = personas, personas.enterprises["ying_mine"]
    official = node.login("yingxian")
    for url in (f"{ENT}/{mine}/contacts/reveal", f"{ACC}/1/contacts/reveal"):
        r = node.client.post(url, params={"field": field}, headers=official)
        assert r.status_code in (404, 422), (url, r.text)
        if "enterprises" in url:
            assert r.status_code == 422 and "field" in r.text, r.text
    huge = node.client.post(f"{ENT}/{10**30}/contacts/reveal", headers=official)
    assert huge.status_code in (404, 422) and huge.status_code != 500
    assert node.audits("enterprise.reveal") == []


def _phones(xlsx: bytes) -> list[tuple[Any, Any]]:
    from anjian.core.xlsx_reader import read_sheet

    sheet = read_sheet(xlsx, max_rows=100)
    legal, safety = sheet.header.index("法定代表人电话"), sheet.header.index("安全负责人电话")
    return [
        (
            cells[legal] if len(cells) > legal else None,
            cells[safety] if len(cells) > safety else None,
        )
        for _n, cells in sheet.rows
    ]


def test_the_export_masks_unless_full_numbers_are_asked_for(personas: Any) -> None:
    node = personas
    official = node.login("yingxian")
    masked = node.client.get(f"{ENT}/export.xlsx", headers=official)
    assert masked.status_code == 200
    assert _phones(masked.content) == [("139****5678", "136****5432")]
    [plain] = node.audits("enterprise.export")
    assert plain.detail["count"] == 1
    full = node.client.get(f"{ENT}/export.xlsx?full_numbers=true", headers=official)
    assert full.status_code == 200
    assert _phones(full.content) == [(LEGAL, SAFETY)]
    [rec] = node.audits("enterprise.export_full_numbers")
    assert (rec.actor_name, rec.object_type, rec.detail["count"]) == ("yingxian", "enterprise", 1)
    assert len(node.audits("enterprise.export")) == 1  # the full one is its own kind
    # the city exports both counties' files in full: the record names how many
    node.client.get(
        f"{ENT}/export.xlsx", params={"full_numbers": "1"}, headers=node.login("shuozhou")
    )
    assert node.audits("enterprise.export_full_numbers")[-1].detail["count"] == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("value", ["maybe", "true\x00", "2", "x" * 5000, "tru\u0435"])
@pytest.mark.one_backend
def test_a_hostile_full_numbers_value_is_refused(personas: Any, value: str) -> None:
    node = personas
    r = node.client.get(
        f"{ENT}/export.xlsx", params={"full_numbers": value}, headers=node.login("yingxian")
    )
    assert r.status_code == 422 and "full_numbers" in r.text, r.text
    assert node.audits("enterprise.export_full_numbers") == []
    assert node.audits("enterprise.export") == []
