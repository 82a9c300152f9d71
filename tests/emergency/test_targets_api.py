"""Protection targets (防护目标) through the API: registered by an agency in its jurisdiction (never
by an enterprise user), shown with names and a masked phone (revealed on purpose, audited),
changed and removed at the node that keeps them, scoped (a sibling county sees nothing, the
province everything), synced up with the phone encrypted, imported from the Excel template all
or nothing — hostile spreadsheets refused before anything is written — and the pure rules."""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from anjian.core.downloads import XLSX_MEDIA_TYPE
from anjian.emergency.targets.rules import (
    KIND_LABELS,
    MAX_POPULATION,
    TargetKind,
    ZoneTotals,
    kind_of,
    missing_coordinate,
    zone_totals,
)

# The hostile files of tests/security (as bench/hostile_xlsx.py takes them).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "security"))
from hostile_files import REFUSED, column, package, row, sheet

API = "/api/v1/emergency"
COUNTY = "140622"  # 应县
SIBLING = "140621"  # 山阴县
PHONE = "13900001234"


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _create(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    data = {"kind": "school", "name": "应县第一中学", "division_code": COUNTY, **body}
    return node.client.post(f"{API}/targets", headers=headers or node.headers, json=data)


def _total(node: Any, headers: dict[str, str] | None = None, **params: Any) -> int:
    r = node.client.get(f"{API}/targets", headers=headers or node.headers, params=params)
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


# --- the rules ---------------------------------------------------------------------------------


def test_every_kind_has_a_chinese_label() -> None:
    assert set(KIND_LABELS) == {k.value for k in TargetKind}
    assert KIND_LABELS["crowded_place"] == "人员密集场所" and KIND_LABELS["school"] == "学校"
    assert all(len(code) <= 16 for code in KIND_LABELS)  # the column's width


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("school", "school"),
        ("学校", "school"),
        (" 幼儿园 ", "kindergarten"),
        ("养老机构", "nursing_home"),
        ("人员密集场所", "crowded_place"),
        ("其他", "other"),
        ("商场", None),  # a crowded place, but not a kind's name
        ("School", None),
        ("", None),
    ],
)
def test_kind_of_a_cell(text: str, kind: str | None) -> None:
    assert kind_of(text) == kind


@pytest.mark.parametrize(
    ("lng", "lat", "missing"),
    [
        (None, None, None),
        (113.2, 39.5, None),
        (113.2, None, "lat"),
        (None, 39.5, "lng"),
        (0.0, None, "lat"),  # zero is a value, not a blank
    ],
)
def test_a_position_is_both_coordinates_or_neither(
    lng: float | None, lat: float | None, missing: str | None
) -> None:
    assert missing_coordinate(lng, lat) == missing


@pytest.mark.parametrize(
    ("populations", "totals"),
    [
        ([], ZoneTotals(0, 0, 0)),
        ([1200], ZoneTotals(1, 1200, 0)),
        ([1200, None, 300], ZoneTotals(3, 1500, 1)),
        ([None, None], ZoneTotals(2, 0, 2)),
        ([0, MAX_POPULATION], ZoneTotals(2, MAX_POPULATION, 0)),
    ],
)
def test_a_zones_totals(populations: list[int | None], totals: ZoneTotals) -> None:
    assert zone_totals(iter(populations)) == totals


# --- through the API ---------------------------------------------------------------------------


def test_a_school_is_registered_shown_changed_and_its_phone_revealed(county: Any) -> None:
    r = _create(
        county,
        address="应县金城镇",
        lng=113.19,
        lat=39.56,
        population=1800,
        contact_name="王校长",
        contact_phone="139-0000-1234",
    )
    assert r.status_code == 201, r.text
    school = r.json()
    assert school["kind_label"] == "学校" and school["division_name"] == "应县"
    assert school["contact_phone"] != PHONE and school["contact_phone"].endswith("1234")
    assert school["population"] == 1800 and school["created_by"] == "yingxian"
    tid = school["id"]
    r = county.client.patch(
        f"{API}/targets/{tid}", headers=county.headers, json={"population": 1900}
    )
    assert r.status_code == 200 and r.json()["population"] == 1900, r.text
    assert r.json()["version"] == school["version"] + 1
    same = county.client.patch(
        f"{API}/targets/{tid}",
        headers=county.headers,
        json={"population": 1900, "contact_phone": PHONE},
    )
    assert same.json()["version"] == r.json()["version"]  # nothing changed, nothing written
    shown = county.client.post(f"{API}/targets/{tid}/contacts/reveal", headers=county.headers)
    assert shown.status_code == 200 and shown.json()["contacts"][0]["phone"] == PHONE
    actions = [a.action for a in county.audits("emergency%")]
    assert actions == [
        "emergency.target.create",
        "emergency.target.update",
        "emergency_protection_target.reveal",
    ]
    assert county.audits("emergency.target.update")[0].detail["fields"] == ["population"]
    assert PHONE not in str([a.detail for a in county.audits()])
    got = county.client.get(f"{API}/targets/{tid}", headers=county.headers).json()
    assert got["population"] == 1900 and got["address"] == "应县金城镇"


def test_the_position_is_both_coordinates_or_neither_also_when_changed(county: Any) -> None:
    r = _create(county, lng=113.19)
    assert r.status_code == 422 and r.json()["field"] == "lat", r.text
    assert _create(county, lat=39.5).json()["field"] == "lng"
    tid = _create(county, lng=113.19, lat=39.56).json()["id"]

    def patch(**body: Any) -> Any:
        return county.client.patch(f"{API}/targets/{tid}", headers=county.headers, json=body)

    r = patch(lat=None)
    assert r.status_code == 422 and r.json()["field"] == "lat", r.text
    r = patch(lng=None, lat=None)
    assert r.status_code == 200 and (r.json()["lng"], r.json()["lat"]) == (None, None)
    assert patch(lng=113.2).json()["field"] == "lat"
    assert patch(name=None).json()["field"] == "name"
    assert patch(kind="hospital").json()["kind_label"] == "医院"
    assert patch(division_code=SIBLING).json()["field"] == "division_code"  # stays


def test_scope_decides_who_registers_and_who_sees(county: Any) -> None:
    tid = _create(county).json()["id"]
    sibling = county.login("shanyin")
    assert county.client.get(f"{API}/targets/{tid}", headers=sibling).status_code == 404
    assert _total(county, sibling) == 0
    province = county.login("sheng")
    assert county.client.get(f"{API}/targets/{tid}", headers=province).status_code == 200
    assert _total(county, province) == 1
    r = _create(county, headers=sibling, name="越界学校")  # 应县 is not 山阴县's
    assert r.status_code == 403 and r.json()["field"] == "division_code"
    for method in ("PATCH", "DELETE"):
        r = county.client.request(
            method, f"{API}/targets/{tid}", headers=sibling, json={"population": 1}
        )
        assert r.status_code == 404, (method, r.text)
    r = county.client.post(f"{API}/targets/{tid}/contacts/reveal", headers=sibling)
    assert r.status_code == 404
    # An enterprise user neither sees targets nor writes them.
    qiye = county.login("qiye")
    r = _create(county, headers=qiye, name="企业登记的学校")
    assert r.status_code == 403 and r.json()["field"] == "division_code", r.text
    assert _total(county, qiye) == 0
    assert county.client.get(f"{API}/targets/{tid}", headers=qiye).status_code == 404
    r = county.client.patch(f"{API}/targets/{tid}", headers=qiye, json={"population": 1})
    assert r.status_code == 404
    assert county.client.delete(f"{API}/targets/{tid}", headers=qiye).status_code == 404
    r = county.client.post(
        f"{API}/targets/import",
        headers=qiye,
        files={"file": ("t.xlsx", _sheet(HEADER, GOOD[0]), XLSX_MEDIA_TYPE)},
    )
    assert r.status_code == 403, r.text
    # the refused writes are audited as such
    denied = {(a.detail["method"], a.detail["path"]) for a in county.audits("access.denied")}
    assert {
        ("POST", f"{API}/targets"),
        ("POST", f"{API}/targets/import"),
        ("DELETE", f"{API}/targets/{tid}"),
    } <= denied
    assert _total(county, province) == 1


def test_lists_filter_by_kind_division_and_words(county: Any) -> None:
    _create(county, name="应县第一中学", address="金城镇")
    _create(county, kind="hospital", name="应县人民医院", address="金城镇东街")
    _create(county, kind="residential", name="南河种村", address="南河种镇")
    province = county.login("sheng")
    _create(county, headers=province, kind="hospital", name="山阴县医院", division_code=SIBLING)
    assert _total(county, province) == 4
    assert _total(county, province, kind="hospital") == 2
    assert _total(county, province, division=COUNTY) == 3
    assert _total(county, province, division="140600") == 4
    assert _total(county, province, q="金城镇") == 2  # by address too
    assert _total(county, province, q="%") == 0  # a wildcard is a character
    listed = county.client.get(f"{API}/targets?kind=hospital", headers=province).json()
    assert [(i["name"], i["division_name"]) for i in listed["items"]] == [
        ("山阴县医院", "山阴县"),
        ("应县人民医院", "应县"),
    ]
    for params, field in (
        ({"kind": "boat"}, "kind"),
        ({"division": "14"}, "division"),
        ({"q": "字" * 101}, "q"),
        ({"kind": "x" * 17}, "kind"),
        ({"page": 2**63}, "page"),
    ):
        r = county.client.get(f"{API}/targets", headers=province, params=params)
        assert r.status_code == 422 and r.json()["field"] == field, (params, r.text)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "boat"}, "kind"),
        ({"kind": None}, "kind"),
        ({"division_code": "999999"}, "division_code"),
        ({"division_code": "12"}, "division_code"),
        ({"lng": 200.0, "lat": 39.0}, "lng"),
        ({"lng": 113.0, "lat": 95.0}, "lat"),
        ({"population": -1}, "population"),
        ({"population": MAX_POPULATION + 1}, "population"),
        ({"population": 2**63}, "population"),
        ({"population": 1.5}, "population"),
        ({"name": "中\x00学"}, "name"),
        ({"address": "金城镇\x1b[31m"}, "address"),
        ({"name": "校" * 201}, "name"),
        ({"name": "   "}, "name"),
        ({"note": "注" * 2001}, "note"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_name": "名" * 65}, "contact_name"),
        ({"created_at": "2026-01-01T08:00:00"}, "created_at"),  # not the caller's to say
        ({"unknown": 1}, "unknown"),
    ],
)
@pytest.mark.one_backend
def test_bad_targets_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    r = _create(county, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    assert _total(county) == 0


def test_a_target_is_removed_with_a_tombstone_that_travels_up(county: Any) -> None:
    from anjian.core.sync.models import OutboxEntry
    from anjian.core.sync.registry import spec_for
    from anjian.emergency.targets.models import ProtectionTarget

    spec = spec_for("emergency_protection_target")
    assert spec is not None and spec.model is ProtectionTarget
    assert spec.encrypted == ("contact_phone_enc",) and not spec.downward
    target = _create(county, contact_phone=PHONE).json()
    keep = _create(county, kind="hospital", name="应县人民医院").json()
    r = county.client.delete(f"{API}/targets/{target['id']}", headers=county.headers)
    assert r.status_code == 204, r.text
    path = f"{API}/targets/{target['id']}"
    assert county.client.get(path, headers=county.headers).status_code == 404
    assert _total(county) == 1
    assert county.client.delete(path, headers=county.headers).status_code == 404  # gone already
    assert [a.action for a in county.audits("emergency.target.delete")] == [
        "emergency.target.delete"
    ]
    with county.db() as s:
        entries = s.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.entity == "emergency_protection_target")
            .order_by(OutboxEntry.seq)
        ).all()
        assert [(e.uid, e.op) for e in entries] == [
            (target["uid"], "upsert"),
            (keep["uid"], "upsert"),
            (target["uid"], "delete"),
        ]
        # the phone is queued encrypted, never in clear
        assert PHONE not in str(entries[0].payload) and entries[0].payload["contact_phone_enc"]
        # a target received from another node is read-only here
        s.get(ProtectionTarget, keep["id"]).origin_node = "node-140622"
    for method, body in (("PATCH", {"population": 1}), ("DELETE", None)):
        r = county.client.request(
            method, f"{API}/targets/{keep['id']}", headers=county.headers, json=body
        )
        assert r.status_code == 403 and "只读" in r.json()["detail"], (method, r.text)
    assert _total(county) == 1


# --- the Excel import --------------------------------------------------------------------------

HEADER = [
    "类别(学校/幼儿园/医院/养老机构/…)*",
    "名称*",
    "行政区划代码*",
    "地址",
    "经度",
    "纬度",
    "人数",
    "联系人",
    "联系电话",
    "备注",
]
GOOD: list[list[Any]] = [
    ["学校", "应县第二中学", COUNTY, "金城镇", 113.19, 39.56, 1500, "李校长", 13800001111],
    ["hospital", "应县中医院", "140622", "", "113.2", "39.5", None, None, None, "床位 200"],
]


def _sheet(header: list[str], *rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for values in rows:
        ws.append(values)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(node: Any, data: bytes, headers: dict[str, str] | None = None) -> Any:
    return node.client.post(
        f"{API}/targets/import",
        headers=headers or node.headers,
        files={"file": ("targets.xlsx", data, XLSX_MEDIA_TYPE)},
    )


def _written(node: Any) -> tuple[int, int]:
    """What an import could have written: targets (tombstones too) and import audits."""
    from anjian.core.audit.models import AuditRecord
    from anjian.emergency.targets.models import ProtectionTarget

    with node.db() as s:
        targets = s.scalar(select(func.count()).select_from(ProtectionTarget)) or 0
        imports = s.scalar(
            select(func.count()).where(AuditRecord.action == "emergency.target.import")
        )
        return targets, imports or 0


def test_targets_are_imported_from_the_template_all_or_nothing(county: Any) -> None:
    template = county.client.get(f"{API}/targets/template.xlsx", headers=county.headers)
    assert template.status_code == 200
    header = [c.value for c in load_workbook(BytesIO(template.content)).active[1]]
    assert header == HEADER
    bad = [
        ["潜艇", "不存在的类别", COUNTY],
        ["医院", "越界医院", SIBLING],  # 山阴县: not 应县's
        ["医院", "", COUNTY],  # no name
        ["学校", "半个坐标", COUNTY, "", 113.2],  # a longitude without its latitude
        ["学校", "小数人数", COUNTY, "", None, None, 1.5],
        ["学校", "越界经度", COUNTY, "", 300, 39.5],  # off the map
        ["学校", "太多人", COUNTY, "", None, None, MAX_POPULATION + 1],
        ["学校", "乱号码", COUNTY, "", None, None, None, "", "call me"],
    ]
    r = _import(county, _sheet(header, *GOOD, *bad))
    assert r.status_code == 422, r.text
    problems = {(e["row"], e["column"]) for e in r.json()["errors"]}
    assert {
        (4, "类别"),
        (5, "行政区划代码"),
        (6, "名称"),
        (7, "纬度"),
        (8, "人数"),
        (9, "经度"),
        (10, "人数"),
        (11, "联系电话"),
    } <= problems
    assert not any(number in (2, 3) for number, _ in problems)
    assert "未导入任何数据" in r.json()["detail"]
    assert _total(county) == 0
    r = _import(county, _sheet(header, *GOOD))
    assert r.status_code == 200 and r.json()["imported"] == 2, r.text
    listed = county.client.get(f"{API}/targets", headers=county.headers).json()["items"]
    assert {(i["kind"], i["name"], i["population"]) for i in listed} == {
        ("school", "应县第二中学", 1500),
        ("hospital", "应县中医院", None),
    }
    assert next(i for i in listed if i["kind"] == "school")["contact_phone"].endswith("1111")
    assert [a.result for a in county.audits("emergency.target.import")] == [
        "failure",
        "success",
    ]
    assert len(county.audits("emergency.target.create")) == 2  # each row as through the API
    r = _import(county, _sheet(["名称", "人数"], ["某校", 1]))
    assert r.status_code == 422 and {e["column"] for e in r.json()["errors"]} >= {"类别"}
    r = _import(county, _sheet(header))
    assert r.status_code == 422 and "没有防护目标" in r.json()["errors"][0]["message"]


@pytest.mark.parametrize("name", REFUSED)
def test_hostile_files_are_refused_before_anything_is_written(county: Any, name: str) -> None:
    """Zip bombs, entity bombs, a million empty rows and files that are no workbook: a 422 on
    ``file``, and neither a target nor an import audit written."""
    build, words = REFUSED[name]
    before = _written(county)
    r = _import(county, build())
    assert r.status_code == 422, (name, r.text)
    assert r.json()["field"] == "file" and words in r.json()["detail"], r.text
    assert _written(county) == before


TEXT_HEADER = ("类别", "名称", "行政区划代码")
TEXT_ROW = ("学校", "应县第三中学", COUNTY)


def test_sparse_huge_sheets_cost_only_their_cells(county: Any) -> None:
    """A sheet declaring every cell Excel has (A1:XFD1048576), its one row at the very bottom,
    and rows filled across 16,384 columns, import what they hold."""
    declared = package(
        sheet(row(1, TEXT_HEADER) + row(1_048_576, TEXT_ROW), dimension="A1:XFD1048576")
    )
    r = _import(county, declared)
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    notes = [f"备注{n}" for n in range(4, 16_385)]
    wide = package(
        sheet(
            row(1, (*TEXT_HEADER, *notes)) + row(2, ("医院", "应县妇幼保健院", COUNTY, *notes)),
            dimension=f"A1:{column(16_384)}2",
        )
    )
    r = _import(county, wide)
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    names = {
        i["name"]
        for i in county.client.get(f"{API}/targets", headers=county.headers).json()["items"]
    }
    assert names == {"应县第三中学", "应县妇幼保健院"}


def _cells(*cells: str) -> bytes:
    """A sheet of the import's header and one row of raw cell XML (for values openpyxl would
    refuse to write)."""
    header = ("类别", "名称", "行政区划代码", "经度", "纬度", "人数")
    return package(sheet(row(1, header) + f'<row r="2">{"".join(cells)}</row>', dimension="A1:F2"))


def _text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


BASE = (_text("A2", "学校"), _text("B2", "应县第四中学"), _text("C2", COUNTY))


@pytest.mark.parametrize(
    ("cells", "column_"),
    [
        # 64-bit overflow and beyond: a whole number past any integer column, infinity
        (('<c r="F2"><v>99999999999999999999999</v></c>',), "人数"),
        (('<c r="F2"><v>9223372036854775808</v></c>',), "人数"),
        (('<c r="F2"><v>1e400</v></c>',), "人数"),
        (('<c r="D2"><v>1e400</v></c>', '<c r="E2"><v>39.5</v></c>'), "经度"),
        (('<c r="D2"><v>-1e308</v></c>', '<c r="E2"><v>39.5</v></c>'), "经度"),
        # dates without a zone where numbers belong
        (('<c r="F2" t="d"><v>2026-05-01T08:00:00</v></c>',), "人数"),
        (('<c r="D2" t="d"><v>2026-05-01T08:00:00</v></c>', '<c r="E2"><v>39.5</v></c>'), "经度"),
        (('<c r="F2" t="str"><v>NaN</v></c>',), "人数"),
    ],
)
@pytest.mark.one_backend
def test_hostile_values_are_reported_at_their_cells(
    county: Any, cells: tuple[str, ...], column_: str
) -> None:
    r = _import(county, _cells(*BASE, *cells))
    assert r.status_code == 422, r.text
    assert {(e["row"], e["column"]) for e in r.json()["errors"]} == {(2, column_)}, r.text
    assert _total(county) == 0


def test_control_characters_in_a_sheet_never_reach_the_database(county: Any) -> None:
    """XML cannot carry C0 controls: a sheet holding one as a character reference is no
    workbook (422 on ``file``); Excel's own escape ``_x001B_`` is kept as the text it is."""
    before = _written(county)
    r = _import(county, _cells(_text("A2", "学校"), _text("B2", "应县&#x1b;中学"), BASE[2]))
    assert r.status_code == 422 and r.json()["field"] == "file", r.text
    assert _written(county) == before
    r = _import(county, _cells(_text("A2", "学校"), _text("B2", "应县_x001B_中学"), BASE[2]))
    assert r.status_code == 200, r.text
    (item,) = county.client.get(f"{API}/targets", headers=county.headers).json()["items"]
    assert item["name"] == "应县_x001B_中学"
