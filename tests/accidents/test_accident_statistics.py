"""Accident statistics (事故统计 "一张表"): the period and 同比 rules by the table, then the
figures through the API by division (with drill-down), industry, type, grade and month, in
each user's jurisdiction, and the Excel export holding the same figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest

from anjian.accidents.statistics import (
    Period,
    change,
    months_of,
    resolve_period,
    utc_bounds,
    year_before,
)
from anjian.core.errors import Invalid

URL = "/api/v1/accidents/statistics"

# --- the period and 同比 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 30), date(2025, 11, 30)),
        (date(2024, 2, 29), date(2023, 2, 28)),  # leap day: the year before has none
        (date(2028, 2, 29), date(2027, 2, 28)),
        (date(2025, 3, 1), date(2024, 3, 1)),
        (date(2025, 2, 28), date(2024, 2, 28)),
        (date(2027, 1, 1), date(2026, 1, 1)),
    ],
)
def test_year_before(day: date, expected: date) -> None:
    assert year_before(day) == expected


@pytest.mark.parametrize(
    ("start", "end", "today", "expected", "last"),
    [
        # default: 1 January of this year to today, beside the same days last year
        (None, None, date(2026, 11, 30), (date(2026, 1, 1), date(2026, 11, 30)),
         (date(2025, 1, 1), date(2025, 11, 30))),
        (None, None, date(2024, 2, 29), (date(2024, 1, 1), date(2024, 2, 29)),
         (date(2023, 1, 1), date(2023, 2, 28))),
        # only an end: from 1 January of its year
        (None, date(2025, 6, 30), date(2026, 11, 30), (date(2025, 1, 1), date(2025, 6, 30)),
         (date(2024, 1, 1), date(2024, 6, 30))),
        # only a start: to today
        (date(2025, 7, 1), None, date(2026, 11, 30), (date(2025, 7, 1), date(2026, 11, 30)),
         (date(2024, 7, 1), date(2025, 11, 30))),
        (date(2024, 2, 29), date(2024, 3, 31), date(2026, 11, 30),
         (date(2024, 2, 29), date(2024, 3, 31)), (date(2023, 2, 28), date(2023, 3, 31))),
        (date(2026, 5, 1), date(2026, 5, 1), date(2026, 11, 30),
         (date(2026, 5, 1), date(2026, 5, 1)), (date(2025, 5, 1), date(2025, 5, 1))),
    ],
)  # fmt: skip
def test_the_period_and_the_same_period_last_year(
    start: date | None,
    end: date | None,
    today: date,
    expected: tuple[date, date],
    last: tuple[date, date],
) -> None:
    period = resolve_period(start, end, today)
    assert (period.start, period.end) == expected
    assert (period.last_start, period.last_end) == last
    assert period.last_year == Period(*last)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2026, 5, 2), date(2026, 5, 1), "start"),
        (date(202, 1, 1), date(2026, 5, 1), "start"),  # a typo, not a period of 1,800 years
        (date(2010, 1, 1), date(2026, 5, 1), "end"),  # more than ten years
        (date(9999, 1, 1), date(9999, 12, 31), "end"),
    ],
)
def test_a_wrong_period_names_its_field(start: date, end: date, field: str) -> None:
    with pytest.raises(Invalid) as err:
        resolve_period(start, end, date(2026, 11, 30))
    assert err.value.field == field


@pytest.mark.parametrize(
    ("current", "last", "expected"),
    [
        (3, 2, (1, 50.0)),
        (2, 2, (0, 0.0)),
        (1, 3, (-2, -66.7)),
        (1, 6, (-5, -83.3)),
        (13, 4, (9, 225.0)),
        (1, 8, (-7, -87.5)),
        (2, 0, (2, None)),  # no percentage of nothing
        (0, 0, (0, None)),
        (0, 5, (-5, -100.0)),
    ],
)
def test_change_against_last_year(current: int, last: int, expected: tuple[int, Any]) -> None:
    assert change(current, last) == expected


def test_beijing_days_and_months() -> None:
    # Beijing midnight is 16:00 UTC the day before; the end day is included
    assert utc_bounds(date(2026, 1, 1), date(2026, 1, 31)) == (
        datetime(2025, 12, 31, 16, tzinfo=UTC),
        datetime(2026, 1, 31, 16, tzinfo=UTC),
    )
    assert months_of(date(2025, 11, 30), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert months_of(date(2024, 2, 29), date(2024, 2, 29)) == [date(2024, 2, 1)]


# --- through the API ---------------------------------------------------------------------------

PERIOD = {"start": "2026-01-01", "end": "2026-06-30"}  # last year: 2025-01-01 … 2025-06-30


def _file(node: Any, headers: dict[str, str], **body: Any) -> None:
    report = {
        "place": "事故地点",
        "reporter": "李安全",
        "reporter_phone": "13698765432",
        **body,
    }
    r = node.client.post("/api/v1/accidents", json=report, headers=headers)
    assert r.status_code == 201, r.text


def _seed(node: Any) -> None:
    """Four accidents in the period (朔州: 应县 ×2, 山阴县; 大同: 新荣区), three in last year's
    same period (应县, 山阴县 ×2), and one just before the period (Beijing time)."""
    sheng = node.login("sheng")
    this_year = [
        # 2 deaths + 1 missing: 较大; at 00:30 Beijing on 1 January (still 31 Dec in UTC)
        dict(occurred_at="2026-01-01T00:30:00+08:00", division_code="140622",
             accident_type="roof_fall", industry_code="B06", deaths=2, missing=1,
             serious_injuries=1, direct_loss_cny="1000000.50"),
        dict(occurred_at="2026-06-30T23:59:00+08:00", division_code="140621",
             accident_type="fire", deaths=1, direct_loss_cny=500000),
        dict(occurred_at="2026-02-10T09:00:00+08:00", division_code="140212",
             accident_type="road_traffic", industry_code="G54", deaths=10),  # 重大
    ]  # fmt: skip
    last_year = [
        dict(occurred_at="2025-03-20T08:00:00+08:00", division_code="140622",
             accident_type="roof_fall", industry_code="B06", deaths=1),
        dict(occurred_at="2025-06-30T12:00:00+08:00", division_code="140621",
             accident_type="fire", deaths=3, direct_loss_cny=100),  # 较大
        dict(occurred_at="2025-02-28T12:00:00+08:00", division_code="140621",
             accident_type="machinery", minor_injuries=1),
        # before the period (Beijing 31 Dec), after last year's: in neither
        dict(occurred_at="2025-12-31T23:30:00+08:00", division_code="140622",
             accident_type="roof_fall", deaths=5),
    ]  # fmt: skip
    for body in this_year + last_year:
        _file(node, sheng, **body)
    # the coal mine reports its own: its industry (B06) and category come from the registry
    _file(
        node,
        node.login("qiye"),
        occurred_at="2026-03-15T10:00:00+08:00",
        division_code="140622",
        enterprise_id=node.enterprises["ying_mine"],
        accident_type="machinery",
        minor_injuries=2,
        direct_loss_cny=20000,
    )


def _get(node: Any, who: str, status: int = 200, **params: Any) -> Any:
    r = node.client.get(URL, params={**PERIOD, **params}, headers=node.login(who))
    assert r.status_code == status, r.text
    return r.json()


def _rows(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in table["rows"]}


def _brief(row: dict[str, Any]) -> tuple[Any, ...]:
    """count, deaths, last year's count and deaths, and the two changes."""
    return (
        row["count"],
        row["deaths"],
        row["last_year"]["count"],
        row["last_year"]["deaths"],
        row["count_change"],
        row["count_change_pct"],
        row["deaths_change"],
        row["deaths_change_pct"],
    )


def test_by_division_drills_down_from_province_to_county(personas: Any) -> None:
    node = personas
    _seed(node)
    province = _get(node, "sheng")
    assert (province["division_code"], province["division_name"], province["by_label"]) == (
        "140000",
        "山西省",
        "地区",
    )
    assert (province["start"], province["end"]) == ("2026-01-01", "2026-06-30")
    assert (province["last_start"], province["last_end"]) == ("2025-01-01", "2025-06-30")
    rows = _rows(province)
    assert len(rows) == 11 and all(code[:2] == "14" and code[4:] == "00" for code in rows)
    shuozhou = rows["140600"]
    assert (shuozhou["label"], shuozhou["drill"]) == ("朔州市", "140600")
    assert _brief(shuozhou) == (3, 3, 3, 4, 0, 0.0, -1, -25.0)
    assert (shuozhou["missing"], shuozhou["serious_injuries"], shuozhou["minor_injuries"]) == (
        1,
        1,
        2,
    )
    assert Decimal(shuozhou["direct_loss_cny"]) == Decimal("1520000.50")
    assert Decimal(shuozhou["last_year"]["direct_loss_cny"]) == Decimal("100.00")
    assert _brief(rows["140200"]) == (1, 10, 0, 0, 1, None, 10, None)
    taiyuan = rows["140100"]  # no accidents: listed all the same
    assert _brief(taiyuan) == (0, 0, 0, 0, 0, None, 0, None) and taiyuan["drill"] == "140100"
    total = province["total"]
    assert (total["key"], total["label"]) == ("total", "合计")
    assert _brief(total) == (4, 13, 3, 4, 1, 33.3, 9, 225.0)
    assert Decimal(total["direct_loss_cny"]) == Decimal("1520000.50")
    assert [c["name"] for c in province["path"]] == ["山西省"]

    # drill into the city: its counties, none to drill into
    city = _get(node, "sheng", division="140600")
    assert [(c["code"], c["name"]) for c in city["path"]] == [
        ("140000", "山西省"),
        ("140600", "朔州市"),
    ]
    counties = _rows(city)
    assert set(counties) == {"140602", "140603", "140621", "140622", "140623", "140681"}
    assert all(row["drill"] is None for row in counties.values())
    assert _brief(counties["140622"]) == (2, 2, 1, 1, 1, 100.0, 1, 100.0)
    assert _brief(counties["140621"]) == (1, 1, 2, 3, -1, -50.0, -2, -66.7)
    assert _brief(city["total"])[:4] == (3, 3, 3, 4)
    # the city official's own table is the same
    assert _rows(_get(node, "shuozhou")) == counties
    assert [c["name"] for c in _get(node, "shuozhou")["path"]] == ["朔州市"]

    # a county: one row, itself; its path from the province
    county = _get(node, "sheng", division="140622")
    assert list(_rows(county)) == ["140622"] and county["rows"][0]["drill"] is None
    assert [c["code"] for c in county["path"]] == ["140000", "140600", "140622"]


def test_scope_keeps_to_the_jurisdiction(personas: Any) -> None:
    node = personas
    _seed(node)
    own = _get(node, "yingxian")
    assert list(_rows(own)) == ["140622"]
    assert _brief(own["total"])[:4] == (2, 2, 1, 1)  # 山阴县's accidents do not count
    for other in ("140621", "140600"):
        refused = _get(node, "yingxian", 404, division=other)
        assert refused["field"] == "division"
    assert _get(node, "sheng", 422, division="14")["field"] == "division"
    # the coal-mine inspection area (应县 and 山阴县, coal mines only): their city's counties
    bureau = _get(node, "jianchaju")
    assert (bureau["division_code"], list(_rows(bureau))) == ("140600", ["140621", "140622"])
    assert _brief(bureau["total"])[:2] == (1, 0)  # only the coal mine's
    assert _get(node, "jianchaju", division="140600")["rows"] == bureau["rows"]
    # the enterprise: its own accidents
    ent = _get(node, "qiye")
    assert list(_rows(ent)) == ["140622"] and _brief(ent["total"])[:3] == (1, 0, 0)
    assert node.client.get(URL).status_code == 401


def test_by_industry_type_grade_and_month(personas: Any) -> None:
    node = personas
    _seed(node)
    industry = _get(node, "sheng", by="industry")
    assert [(r["key"], r["label"]) for r in industry["rows"]] == [
        ("B06", "B06 煤炭开采和洗选业"),
        ("G54", "G54 道路运输业"),
        ("", "未填写"),
    ]
    rows = _rows(industry)
    assert _brief(rows["B06"])[:4] == (2, 2, 1, 1)
    assert _brief(rows[""])[:4] == (1, 1, 2, 3)

    types = _get(node, "sheng", by="type")
    assert [(r["key"], r["label"]) for r in types["rows"]] == [
        ("machinery", "机械伤害"),
        ("fire", "火灾"),
        ("roof_fall", "冒顶片帮"),
        ("road_traffic", "道路交通事故"),
    ]
    assert _brief(_rows(types)["machinery"])[:4] == (1, 0, 1, 0)
    assert _brief(_rows(types)["road_traffic"]) == (1, 10, 0, 0, 1, None, 10, None)

    grades = _get(node, "sheng", by="grade")
    assert [
        (r["key"], r["label"], r["count"], r["last_year"]["count"]) for r in grades["rows"]
    ] == [
        ("1", "特别重大", 0, 0),
        ("2", "重大", 1, 0),
        ("3", "较大", 1, 1),
        ("4", "一般", 2, 2),
    ]

    months = _get(node, "sheng", by="month")
    assert [
        (r["key"], r["label"], r["count"], r["last_year"]["count"]) for r in months["rows"]
    ] == [
        ("2026-01", "2026年1月", 1, 0),  # 00:30 on 1 January, Beijing time
        ("2026-02", "2026年2月", 1, 1),
        ("2026-03", "2026年3月", 1, 1),
        ("2026-04", "2026年4月", 0, 0),
        ("2026-05", "2026年5月", 0, 0),
        ("2026-06", "2026年6月", 1, 1),  # 23:59 on 30 June
    ]
    assert _rows(months)["2026-02"]["deaths"] == 10
    for table in (industry, types, grades, months):
        assert _brief(table["total"]) == (4, 13, 3, 4, 1, 33.3, 9, 225.0), table["by"]
        assert table["division_code"] == "140000"
    # a month table of a county, over a period across the turn of the year
    county = _get(node, "yingxian", by="month", start="2025-12-01", end="2026-01-31")
    assert [(r["key"], r["count"], r["deaths"]) for r in county["rows"]] == [
        ("2025-12", 1, 5),
        ("2026-01", 1, 2),
    ]
    # one day, one month
    day = _get(node, "sheng", by="month", start="2026-03-15", end="2026-03-15")
    assert [(r["key"], r["count"], r["last_year"]["count"]) for r in day["rows"]] == [
        ("2026-03", 1, 0)
    ]


def test_defaults_and_wrong_parameters(personas: Any) -> None:
    node = personas
    from anjian.core.clock import today_in_china

    today = today_in_china()
    r = node.client.get(URL, headers=node.login("sheng"))
    assert r.status_code == 200, r.text
    table = r.json()
    assert (table["by"], table["start"], table["end"]) == (
        "division",
        date(today.year, 1, 1).isoformat(),
        today.isoformat(),
    )
    assert table["last_start"] == date(today.year - 1, 1, 1).isoformat()
    assert table["last_end"] == year_before(today).isoformat()
    for params, field in (
        ({"by": "county"}, "by"),
        ({"start": "2026-06-02", "end": "2026-06-01"}, "start"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2000-01-01", "end": "2026-06-01"}, "end"),
    ):
        bad = _get(node, "sheng", 422, **params)
        assert bad["field"] == field, (params, bad)


def test_the_excel_export_holds_the_same_figures(personas: Any) -> None:
    from openpyxl import load_workbook

    node = personas
    _seed(node)
    headers = node.login("sheng")
    r = node.client.get(f"{URL}.xlsx", params={**PERIOD, "division": "140600"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="accident-statistics.xlsx"' in r.headers["content-disposition"]
    ws = load_workbook(BytesIO(r.content)).worksheets[0]
    lines = [list(row) for row in ws.iter_rows(values_only=True)]
    title, header, *body = lines
    assert "朔州市" in title[0] and "2026-01-01 至 2026-06-30" in title[0]
    assert "去年同期 2025-01-01 至 2025-06-30" in title[0]
    assert header[:8] == ["地区", "起数", "死亡", "下落不明", "重伤", "轻伤", "直接经济损失(元)",
                          "去年同期起数"]  # fmt: skip
    assert header[8:13] == [
        "起数同比增减",
        "起数同比%",
        "去年同期死亡",
        "死亡同比增减",
        "死亡同比%",
    ]
    by_label = {line[0]: dict(zip(header, line, strict=True)) for line in body}
    assert list(by_label) == ["朔城区", "平鲁区", "山阴县", "应县", "右玉县", "怀仁市", "合计"]
    ying = by_label["应县"]
    assert (ying["起数"], ying["死亡"], ying["下落不明"], ying["去年同期起数"]) == (2, 2, 1, 1)
    assert (ying["起数同比增减"], ying["起数同比%"], ying["死亡同比%"]) == (1, 100, 100)
    assert Decimal(str(ying["直接经济损失(元)"])) == Decimal("1020000.5")
    total = by_label["合计"]
    assert (total["起数"], total["死亡"], total["去年同期起数"], total["去年同期死亡"]) == (
        3,
        3,
        3,
        4,
    )
    assert (total["起数同比增减"], total["起数同比%"], total["死亡同比%"]) == (0, 0, -25)
    assert by_label["朔城区"]["起数同比%"] is None  # no percentage of nothing
    # the same table as the JSON
    api = _get(node, "sheng", division="140600")
    assert [r["count"] for r in api["rows"]] == [by_label[r["label"]]["起数"] for r in api["rows"]]
    # another breakdown, another first column
    types = node.client.get(f"{URL}.xlsx", params={**PERIOD, "by": "type"}, headers=headers)
    ws = load_workbook(BytesIO(types.content)).worksheets[0]
    assert ws["A2"].value == "类别" and ws["A3"].value == "机械伤害"
    assert (
        node.client.get(f"{URL}.xlsx", params={"by": "x"}, headers=headers).json()["field"] == "by"
    )
