"""Excel export and all-or-nothing import of the registry through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from enterprise_helpers import make_uscc, row, sheet_rows, xlsx
from openpyxl import load_workbook
from sqlalchemy import func, select

from anjian.core.audit.service import SYSTEM
from anjian.core.iam.service import field_cipher
from anjian.core.scope import Scope
from anjian.core.sync.models import OutboxEntry
from anjian.db import make_engine, unit_of_work
from anjian.enterprises import excel
from anjian.enterprises.excel import HEADERS
from anjian.enterprises.models import Enterprise
from anjian.enterprises.schemas import EnterpriseCreate
from anjian.enterprises.service import create_enterprise

API = "/api/v1/enterprises"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Auth = Callable[[str], dict[str, str]]
EVERYTHING = Scope.for_division(None, "admin", ["000000"])
COL = {h: i for i, h in enumerate(HEADERS)}


def upload(node: Any, headers: dict[str, str], data: bytes, name: str = "企业.xlsx") -> Any:
    return node.client.post(f"{API}/import", files={"file": (name, data, XLSX)}, headers=headers)


def counts(node: Any) -> tuple[int, int]:
    """(enterprises, outbox rows): an import that fails must leave both unchanged."""
    with node.db() as s:
        return (
            s.scalar(select(func.count()).select_from(Enterprise)) or 0,
            s.scalar(select(func.count()).select_from(OutboxEntry)) or 0,
        )


def export(node: Any, headers: dict[str, str], **params: str) -> bytes:
    r = node.client.get(f"{API}/export.xlsx", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    return r.content


# --- export ------------------------------------------------------------------------------------


def test_export_has_chinese_headers_labels_and_masked_phones(personas: Any, auth: Auth) -> None:
    rows = sheet_rows(export(personas, auth("sheng")))
    assert rows[0] == HEADERS
    assert HEADERS == (
        "统一社会信用代码",
        "企业名称",
        "行政区划代码",
        "地址",
        "经度",
        "纬度",
        "行业代码",
        "监管类别",
        "规模",
        "从业人数",
        "法定代表人",
        "法定代表人电话",
        "安全负责人",
        "安全负责人电话",
        "许可证编号",
        "许可证有效期",
        "状态",
    )
    by_name = {r[COL["企业名称"]]: r for r in rows[1:]}
    assert set(by_name) == {"应县金鼎煤业有限公司", "山阴县晋北化工有限公司"}
    mine = by_name["应县金鼎煤业有限公司"]
    assert mine[COL["行政区划代码"]] == "140622"
    assert (mine[COL["经度"]], mine[COL["纬度"]]) == (113.19, 39.55)
    assert (mine[COL["监管类别"]], mine[COL["规模"]], mine[COL["状态"]]) == (
        "煤矿",
        "中型",
        "正常生产",
    )
    assert mine[COL["法定代表人电话"]] == "139****5678"
    assert mine[COL["安全负责人电话"]] == "136****5432"
    chem = by_name["山阴县晋北化工有限公司"]
    assert chem[COL["安全负责人电话"]] is None
    (rec,) = personas.audits("enterprise.export")
    assert rec.actor_name == "sheng" and rec.detail == {"count": 2, "filters": {}}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("yingxian", {"应县金鼎煤业有限公司"}),
        ("shanyin", {"山阴县晋北化工有限公司"}),
        ("qiye", {"应县金鼎煤业有限公司"}),
        ("jianchaju", {"应县金鼎煤业有限公司"}),
    ],
)
def test_export_is_scoped(personas: Any, auth: Auth, persona: str, expected: set[str]) -> None:
    rows = sheet_rows(export(personas, auth(persona)))
    assert {r[COL["企业名称"]] for r in rows[1:]} == expected


def test_export_applies_filters(personas: Any, auth: Auth) -> None:
    rows = sheet_rows(export(personas, auth("sheng"), category="hazardous_chemicals"))
    assert [r[COL["企业名称"]] for r in rows[1:]] == ["山阴县晋北化工有限公司"]
    (rec,) = personas.audits("enterprise.export")
    assert rec.detail["filters"] == {"category": "hazardous_chemicals"}


def test_export_keeps_formula_like_text_as_text(personas: Any, auth: Auth) -> None:
    name = '=HYPERLINK("http://evil.example","点击")'
    with personas.db() as s:
        create_enterprise(
            s,
            SYSTEM,
            EVERYTHING,
            EnterpriseCreate(
                uscc=make_uscc(), name=name, division_code="140622", supervision_category="other"
            ),
        )
    ws = load_workbook(BytesIO(export(personas, auth("sheng")))).worksheets[0]
    cells = [r[COL["企业名称"]] for r in ws.iter_rows(min_row=2)]
    (cell,) = [c for c in cells if c.value == name]
    assert cell.data_type == "s"  # a string, not a formula Excel would evaluate


# --- import ------------------------------------------------------------------------------------


def test_import_creates_every_row(personas: Any, auth: Auth) -> None:
    codes = [make_uscc("140622") for _ in range(3)]
    data = xlsx(
        [
            row(
                统一社会信用代码=codes[0],
                企业名称="应县新建煤业",
                行政区划代码=140622,  # typed as a number in Excel
                监管类别="coal_mine",  # code
                规模="large",
                从业人数=820,
                法定代表人电话=13912340000,  # a number cell
                安全负责人="孙安全",
                安全负责人电话="0349-5020000",
                许可证编号="（晋）MK安许证字〔2024〕001",
                许可证有效期=date(2027, 6, 30),
                经度=113.1,
                纬度="39.6",
                行业代码="b06",
            ),
            row(
                统一社会信用代码=codes[1].lower(),
                企业名称="应县顺达加油站",
                行政区划代码="140622",
                监管类别="危险化学品",  # Chinese label
                规模="微型",
                状态="停产停业",
                许可证有效期="2026/1/5",
            ),
            row(
                统一社会信用代码=codes[2],
                企业名称="应县某冶金厂",
                行政区划代码="140622",
                监管类别="冶金工贸",
                从业人数=35.0,  # Excel keeps whole numbers as floats
            ),
        ]
    )
    before = counts(personas)
    r = upload(personas, auth("yingxian"), data)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 3
    after = counts(personas)
    assert after == (before[0] + 3, before[1] + 3)
    with personas.db() as s:
        got = {e.uscc: e for e in s.scalars(select(Enterprise).where(Enterprise.uscc.in_(codes)))}
        # the IDs answered are the enterprises made, in the file's order
        assert r.json()["ids"] == [got[c].id for c in codes]
        first, second, third = (got[c] for c in codes)
        assert (first.division_code, first.supervision_category, first.scale) == (
            "140622",
            "coal_mine",
            "large",
        )
        assert (first.employees, first.industry_code, first.lat) == (820, "B06", 39.6)
        assert first.licence_valid_until == date(2027, 6, 30)
        assert first.legal_rep_phone_enc.startswith("sm4gcm:")
        assert field_cipher().decrypt(first.legal_rep_phone_enc) == "13912340000"
        assert field_cipher().decrypt(first.safety_manager_phone_enc) == "03495020000"
        assert (second.supervision_category, second.scale, second.status) == (
            "hazardous_chemicals",
            "micro",
            "suspended",
        )
        assert second.licence_valid_until == date(2026, 1, 5)
        assert (third.supervision_category, third.employees, third.status) == (
            "metallurgy_trade",
            35,
            "operating",
        )
    creates = [a for a in personas.audits("enterprise.create") if a.actor_name == "yingxian"]
    assert len(creates) == 3
    (summary,) = personas.audits("enterprise.import")
    assert summary.result == "success"
    assert summary.detail == {"file": "企业.xlsx", "rows": 3, "imported": 3}


def test_import_with_bad_rows_imports_nothing_and_reports_each(personas: Any, auth: Auth) -> None:
    good = make_uscc("140622")
    with personas.db() as s:
        existing = s.get(Enterprise, personas.enterprises["ying_mine"]).uscc  # type: ignore[union-attr]
    base = {"企业名称": "应县某企业", "行政区划代码": "140622", "监管类别": "其他"}
    data = xlsx(
        [
            row(**base, 统一社会信用代码=good),  # row 2: fine on its own
            row(**base, 统一社会信用代码="91350100M000100Y44"),  # 3: wrong check character
            row(**base | {"行政区划代码": "149999"}, 统一社会信用代码=make_uscc()),  # 4
            row(**base | {"行政区划代码": "140621"}, 统一社会信用代码=make_uscc()),  # 5: 山阴
            row(**base, 统一社会信用代码=good),  # 6: same code as row 2
            row(**base, 统一社会信用代码=existing),  # 7: already registered
            [None] * len(HEADERS),  # an empty row is skipped, not an error
            row(  # 9: several problems in one row
                统一社会信用代码=make_uscc(),
                行政区划代码="140622",
                监管类别="糕点",
                经度="东经113",
                从业人数="很多",
                法定代表人电话="139-abc",
            ),
            # 10: a bad cell does not hide the row's other problems (山阴 is not 应县's).
            row(**base | {"行政区划代码": "140621", "经度": 200}, 统一社会信用代码=existing),
        ]
    )
    before = counts(personas)
    r = upload(personas, auth("yingxian"), data)
    assert r.status_code == 422
    report = r.json()
    assert "未导入任何数据" in report["detail"]
    got = [(e["row"], e["column"], e["message"]) for e in report["errors"]]
    expected = [
        (3, "统一社会信用代码", "校验位错误"),
        (4, "行政区划代码", "行政区划代码不存在"),
        (5, "行政区划代码", "不在您的管辖范围内"),
        (6, "统一社会信用代码", "与第 2 行重复"),
        (7, "统一社会信用代码", "已登记"),
        (9, "企业名称", "必填"),
        (9, "经度", "应为数字"),
        (9, "监管类别", "监管类别无效"),
        (9, "从业人数", "应为整数"),
        (9, "法定代表人电话", "电话号码"),
        (10, "统一社会信用代码", "与第 7 行重复"),
        (10, "行政区划代码", "不在您的管辖范围内"),
        (10, "经度", "中国境内"),
    ]
    assert [(row_, col) for row_, col, _ in got] == [(row_, col) for row_, col, _ in expected]
    for (_, _, message), (_, _, fragment) in zip(got, expected, strict=True):
        assert fragment in message
    assert counts(personas) == before
    (attempt,) = personas.audits("enterprise.import")
    assert attempt.result == "failure"
    assert attempt.detail == {"file": "企业.xlsx", "rows": 8, "errors": 13}


def test_import_is_for_officials(personas: Any, auth: Auth) -> None:
    data = xlsx(
        [row(统一社会信用代码=make_uscc(), 企业名称="x", 行政区划代码="140622", 监管类别="其他")]
    )
    r = upload(personas, auth("qiye"), data)
    assert r.status_code == 403


def test_inspection_bureau_imports_coal_mines_only(personas: Any, auth: Auth) -> None:
    data = xlsx(
        [
            row(
                统一社会信用代码=make_uscc(),
                企业名称="甲煤矿",
                行政区划代码="140622",
                监管类别="煤矿",
            ),
            row(
                统一社会信用代码=make_uscc(),
                企业名称="乙化工",
                行政区划代码="140621",
                监管类别="危险化学品",
            ),
        ]
    )
    r = upload(personas, auth("jianchaju"), data)
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "监管类别")]


def test_import_refuses_what_is_not_a_workbook(personas: Any, auth: Auth) -> None:
    r = upload(personas, auth("sheng"), b"uscc,name\n1,2\n", name="企业.csv")
    assert r.status_code == 422
    assert r.json()["field"] == "file"
    assert "xlsx" in r.json()["detail"]


def test_import_reports_missing_columns_and_empty_files(personas: Any, auth: Auth) -> None:
    headers = [h for h in HEADERS if h != "监管类别"]
    r = upload(personas, auth("sheng"), xlsx([["x"] * len(headers)], headers=headers))
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(1, "监管类别")]
    empty = upload(personas, auth("sheng"), xlsx([]))
    assert empty.status_code == 422
    assert "没有企业数据" in empty.json()["errors"][0]["message"]


def test_headers_may_be_reordered_and_marked_required(personas: Any, auth: Auth) -> None:
    code = make_uscc("140621")
    data = xlsx(
        [["山阴县某加油站", "hazardous_chemicals", code, "140621", "备注"]],
        headers=["企业名称*", "监管类别", "统一社会信用代码*", "行政区划代码", "备注"],
    )
    r = upload(personas, auth("shanyin"), data)
    assert r.status_code == 200, r.text
    with personas.db() as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.uscc == code))
        assert ent is not None and ent.name == "山阴县某加油站"


# --- round trip --------------------------------------------------------------------------------


def test_reimporting_an_export_finds_only_the_duplicates(personas: Any, auth: Auth) -> None:
    """The export is valid import input (labels, masked phones, text codes): re-imported into
    the same node, the only complaint is that every enterprise is already registered."""
    data = export(personas, auth("sheng"))
    r = upload(personas, auth("sheng"), data)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "统一社会信用代码"),
        (3, "统一社会信用代码"),
    ]
    assert all("已登记" in e["message"] for e in errors)


def test_export_import_round_trip_to_a_fresh_node(
    personas: Any, auth: Auth, sqlite_template: Path, tmp_path: Path
) -> None:
    """Export here, import into a fresh database, export there: the same sheet comes back
    (phones excepted: an export only carries them masked, so they arrive empty)."""
    with personas.db() as s:
        create_enterprise(
            s,
            SYSTEM,
            EVERYTHING,
            EnterpriseCreate(
                uscc=make_uscc("140602"),
                name="朔城区全字段烟花有限公司",
                division_code="140602",
                address="朔城区北旺庄",
                lng=112.43,
                lat=39.33,
                industry_code="C2672",
                supervision_category="fireworks",
                scale="large",
                employees=1250,
                legal_rep="郑法人",
                legal_rep_phone="13800001111",
                safety_manager="冯安全",
                licence_no="（晋）YH安许证字〔2025〕017",
                licence_valid_until=date(2028, 3, 31),
                status="suspended",
            ),
        )
    first = export(personas, auth("sheng"))
    target = tmp_path / "fresh.db"
    target.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{target}")
    try:
        with unit_of_work(engine) as s:
            outcome = excel.import_workbook(
                s, SYSTEM, EVERYTHING, excel.read_file(first), source="first.xlsx"
            )
            assert outcome.ok, outcome.errors
            assert outcome.imported == 3
        with unit_of_work(engine) as s:
            copied = {e.uscc: e for e in s.scalars(select(Enterprise))}
            second, _ = excel.export_workbook(s, EVERYTHING, SYSTEM)
    finally:
        engine.dispose()
    with personas.db() as s:
        originals = {e.uscc: e for e in s.scalars(select(Enterprise))}
    assert set(copied) == set(originals)
    fields = [
        "name", "division_code", "address", "lng", "lat", "industry_code",
        "supervision_category", "scale", "employees", "legal_rep", "safety_manager",
        "licence_no", "licence_valid_until", "status",
    ]  # fmt: skip
    for uscc, original in originals.items():
        assert {f: getattr(copied[uscc], f) for f in fields} == {
            f: getattr(original, f) for f in fields
        }
        assert copied[uscc].legal_rep_phone_enc is None
    phones = (COL["法定代表人电话"], COL["安全负责人电话"])
    strip = [tuple(v for i, v in enumerate(r) if i not in phones) for r in sheet_rows(first)]
    assert [
        tuple(v for i, v in enumerate(r) if i not in phones) for r in sheet_rows(second)
    ] == strip
