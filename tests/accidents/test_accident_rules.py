"""Accident rules by the table (Order No. 493): grade boundaries exactly as Art. 3 draws them
("以上" includes the number, "以下" excludes it), the highest criterion winning, missing persons,
the reporting chain and its clocks, follow-up and investigation deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from anjian.accidents.rules import (
    Grade,
    agency_late,
    chain,
    classify,
    deadline,
    entrust_refusal,
    follow_up_until,
    hold_due,
    investigating_tier,
    investigation_due,
    is_late,
    lead_agency,
    may_lead,
    reply_extension_refusal,
    reply_last_day,
    reply_overdue,
    reporting_chain,
    step_deadlines,
    top_tier,
)

G1, G2, G3, G4 = (
    Grade.ESPECIALLY_SERIOUS,
    Grade.SERIOUS,
    Grade.RELATIVELY_SERIOUS,
    Grade.ORDINARY,
)


@pytest.mark.parametrize(
    ("deaths", "injuries", "loss", "grade", "criterion"),
    [
        (0, 0, 0, G4, "deaths"),
        (2, 9, 9_999_999, G4, "deaths"),  # every measure just below 较大
        (3, 0, 0, G3, "deaths"),
        (0, 10, 0, G3, "serious_injuries"),
        (0, 0, 10_000_000, G3, "direct_loss_cny"),
        (9, 49, 49_999_999, G3, "deaths"),
        (10, 0, 0, G2, "deaths"),
        (0, 50, 0, G2, "serious_injuries"),
        (0, 0, 50_000_000, G2, "direct_loss_cny"),
        (29, 99, 99_999_999, G2, "deaths"),
        (30, 0, 0, G1, "deaths"),
        (0, 100, 0, G1, "serious_injuries"),
        (0, 0, 100_000_000, G1, "direct_loss_cny"),
        (1, 12, 60_000_000, G2, "direct_loss_cny"),  # the highest criterion wins
        (4, 55, 0, G2, "serious_injuries"),
    ],
)
def test_grade_boundaries(
    deaths: int, injuries: int, loss: int, grade: Grade, criterion: str
) -> None:
    c = classify(deaths, 0, injuries, loss)
    assert (c.grade, c.criterion, c.provisional) == (grade, criterion, False)
    assert c.grade.label == {G1: "特别重大", G2: "重大", G3: "较大", G4: "一般"}[grade]


def test_missing_persons_raise_a_provisional_grade() -> None:
    c = classify(2, 1, 0, 0)
    assert (c.grade, c.grade_without_missing, c.provisional) == (G3, G4, True)
    c = classify(2, 1, 0, 0, missing_as_deaths=False)
    assert (c.grade, c.provisional) == (G4, False)
    # missing persons do not matter when another measure already decides
    c = classify(0, 5, 60, 0)
    assert (c.grade, c.criterion, c.provisional) == (G2, "serious_injuries", False)


@pytest.mark.parametrize(
    ("grade", "top", "tiers"),
    [
        (G1, "national", ["county", "city", "province", "national"]),
        (G2, "national", ["county", "city", "province", "national"]),
        (G3, "province", ["county", "city", "province"]),
        (G4, "city", ["county", "city"]),
    ],
)
def test_how_far_a_report_goes(grade: Grade, top: str, tiers: list[str]) -> None:
    assert top_tier(grade) == top
    assert chain(grade) == tiers
    assert chain(grade, "province") == (
        ["province", "national"] if top == "national" else ["province"]
    )


def test_clocks_of_the_chain() -> None:
    known = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert deadline(known, 0) == known + timedelta(hours=1)  # the unit
    assert deadline(known, 1) == known + timedelta(hours=3)  # the county passes it on
    assert deadline(known, 3) == known + timedelta(hours=7)  # reaching the national level
    due = deadline(known, 1)
    assert not is_late(due, due, due)
    assert is_late(due, due + timedelta(seconds=1), due)
    assert not is_late(due, None, due - timedelta(minutes=1))
    assert is_late(due, None, due + timedelta(minutes=1))  # not reported yet, past due


@pytest.mark.parametrize(
    ("place", "grade", "steps", "lead"),
    [
        # 应县, 较大: county → city → province (3 h at the city, 5 h at the province)
        (
            "140622",
            G3,
            [("county", "140622"), ("city", "140600"), ("province", "140000")],
            "140600",
        ),
        # a district of 北京, 较大: to the municipal agency once, due 3 h after (not 5 h)
        ("110105", G3, [("county", "110105"), ("province", "110000")], "110000"),
        # 仙桃 (no city above it), 一般: its province is the level above
        ("429004", G4, [("county", "429004"), ("province", "420000")], "429004"),
        ("429004", G3, [("county", "429004"), ("province", "420000")], "420000"),
        # 东莞 (a city without districts), 一般: the city is where it stops
        ("441900", G4, [("city", "441900")], "441900"),
        # a place given as the province, 重大: province → nation
        ("140000", G2, [("province", "140000"), ("national", "000000")], "140000"),
    ],
)
def test_the_chain_of_a_real_place(
    place: str, grade: Grade, steps: list[tuple[str, str]], lead: str
) -> None:
    from anjian.core.divisions.rules import agencies_over
    from anjian.core.divisions.service import read_reference

    agencies = agencies_over(place, {d.code for d in read_reference()})
    got = reporting_chain(agencies, grade)
    assert [(st.tier, st.division) for st in got] == steps
    assert [st.hop for st in got] == list(range(len(steps)))
    assert [st.top for st in got] == [False] * (len(steps) - 1) + [True]
    known = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    receive, report = step_deadlines(known, got[-1])
    assert receive == known + timedelta(hours=1 + 2 * (len(steps) - 1)) and report is None
    assert step_deadlines(known, got[0]) == (
        known + timedelta(hours=1),
        None if len(steps) == 1 else known + timedelta(hours=3),
    )
    assert lead_agency(agencies, grade)[0] == lead


def test_follow_up_and_investigation_deadlines() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    # 2026-01-01 08:00 Beijing time: counted from the next day, to 24:00 of the last day
    cst = ZoneInfo("Asia/Shanghai")
    assert follow_up_until(at, "mechanical") == datetime(2026, 2, 1, tzinfo=cst)
    assert follow_up_until(at, "fire") == datetime(2026, 1, 9, tzinfo=cst)
    assert follow_up_until(at, "road_traffic") == datetime(2026, 1, 9, tzinfo=cst)
    # 23:30 UTC on 31 December is already 1 January in Beijing: the day counts from there
    late_evening = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert follow_up_until(late_evening, "mechanical") == datetime(2026, 2, 1, tzinfo=cst)
    assert investigation_due(at) == at + timedelta(days=60)
    assert investigation_due(at, 60) == at + timedelta(days=120)
    with pytest.raises(ValueError):
        investigation_due(at, 61)
    assert [investigating_tier(g) for g in (G1, G2, G3, G4)] == [
        "national",
        "province",
        "city",
        "county",
    ]


# --- issue 16: each level's own clock, near misses, 委托, 批复 -------------------------------------

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "reported", "top", "now", "due", "late"),
    [
        # Art. 11: two hours from the level's own receipt, whenever the report arrived
        (T0, None, False, T0, T0 + timedelta(hours=2), False),
        (T0, T0 + timedelta(hours=2), False, T0 + timedelta(hours=9), T0 + timedelta(hours=2), False),
        (T0, T0 + timedelta(hours=2, seconds=1), False, T0, T0 + timedelta(hours=2), True),
        (T0, None, False, T0 + timedelta(hours=2), T0 + timedelta(hours=2), False),
        (T0, None, False, T0 + timedelta(hours=2, seconds=1), T0 + timedelta(hours=2), True),
        # no clock before the level has received the report, however late the level below is
        (None, None, False, T0 + timedelta(days=1), None, False),
        # the top of the chain passes nothing on
        (T0, None, True, T0 + timedelta(days=1), None, False),
    ],
)  # fmt: skip
def test_each_level_runs_its_own_two_hours(
    received: datetime | None,
    reported: datetime | None,
    top: bool,
    now: datetime,
    due: datetime | None,
    late: bool,
) -> None:
    assert hold_due(received, top) == due
    assert agency_late(received, reported, top, now) is late


@pytest.mark.parametrize(
    ("grade", "kind", "top", "tiers"),
    [
        (G4, "accident", "city", ["county", "city"]),
        (G4, "near_miss", "province", ["county", "city", "province"]),  # like a 较大 accident
        (G3, "near_miss", "province", ["county", "city", "province"]),
        (G2, "near_miss", "national", ["county", "city", "province", "national"]),
    ],
)
def test_a_near_miss_goes_up_like_a_serious_accident(
    grade: Grade, kind: str, top: str, tiers: list[str]
) -> None:
    from anjian.core.divisions.rules import agencies_over
    from anjian.core.divisions.service import read_reference

    assert top_tier(grade, kind) == top and chain(grade, kind=kind) == tiers
    agencies = agencies_over("140622", {d.code for d in read_reference()})
    assert [st.tier for st in reporting_chain(agencies, grade, kind)] == tiers


@pytest.mark.parametrize(
    ("agency", "lead", "ok"),
    [
        ("county", "county", True),
        ("city", "county", True),  # 提级调查
        ("county", "city", False),  # a 较大 accident: the county is not offered it
        ("city", "city", True),
        ("city", "province", False),
        ("national", "province", True),
    ],
)
def test_who_may_open_the_investigation(agency: str, lead: str, ok: bool) -> None:
    assert may_lead(agency, lead) is ok


@pytest.mark.parametrize(
    ("grade", "numbers", "by_lead", "reason"),
    [
        (G4, (0, 0, 0, 0), True, None),  # 未造成人员伤亡的一般事故, by the county
        (G4, (1, 0, 0, 0), True, "造成人员伤亡"),
        (G4, (0, 1, 0, 0), True, "造成人员伤亡"),  # a missing person is a casualty
        (G4, (0, 0, 1, 0), True, "造成人员伤亡"),
        (G4, (0, 0, 0, 1), True, "造成人员伤亡"),  # minor injuries too
        (G3, (0, 0, 0, 0), True, "仅一般事故"),  # 较大 by its loss
        (G1, (0, 0, 0, 0), True, "仅一般事故"),
        (G4, (0, 0, 0, 0), False, "县级人民政府"),  # a city that took it over
    ],
)
def test_entrusting_the_unit_with_the_investigation(
    grade: Grade, numbers: tuple[int, int, int, int], by_lead: bool, reason: str | None
) -> None:
    got = entrust_refusal(grade, *numbers, by_required_lead=by_lead)
    assert got is None if reason is None else (got is not None and reason in got)


CST = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("submitted", "grade", "extension", "last_day"),
    [
        # 15 days from the day after receipt (Beijing calendar days)
        (datetime(2026, 1, 1, 8, 0, tzinfo=CST), G4, 0, date(2026, 1, 16)),
        (datetime(2026, 1, 1, 23, 59, tzinfo=CST), G2, 0, date(2026, 1, 16)),
        (datetime(2026, 1, 1, 8, 0, tzinfo=CST), G3, 0, date(2026, 1, 16)),
        # 23:30 UTC on 31 December is already 1 January in Beijing
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), G4, 0, date(2026, 1, 16)),
        # 特别重大: 30 days, extended by at most 30
        (datetime(2026, 1, 1, 8, 0, tzinfo=CST), G1, 0, date(2026, 1, 31)),
        (datetime(2026, 1, 1, 8, 0, tzinfo=CST), G1, 30, date(2026, 3, 2)),
    ],
)
def test_the_reply_is_due_within_15_or_30_days(
    submitted: datetime, grade: Grade, extension: int, last_day: date
) -> None:
    assert reply_last_day(submitted, grade, extension) == last_day
    assert not reply_overdue(last_day, last_day, last_day)  # on the last day: on time
    assert not reply_overdue(last_day, None, last_day)
    assert reply_overdue(last_day, None, last_day + timedelta(days=1))
    assert reply_overdue(last_day, last_day + timedelta(days=1), last_day)
    assert not reply_overdue(None, None, last_day + timedelta(days=99))  # no report yet


@pytest.mark.parametrize(
    ("grade", "days", "already", "reason"),
    [
        (G1, 30, 0, None),
        (G1, 1, 0, None),
        (G1, 31, 0, "1–30"),
        (G1, 0, 0, "1–30"),
        (G1, 10, 10, "已延长过一次"),
        (G2, 10, 0, "仅特别重大"),
        (G4, 1, 0, "仅特别重大"),
    ],
)
def test_only_an_especially_serious_accidents_reply_is_extended(
    grade: Grade, days: int, already: int, reason: str | None
) -> None:
    got = reply_extension_refusal(grade, days, already)
    assert got is None if reason is None else (got is not None and reason in got)


@pytest.mark.parametrize(
    ("agency", "chain", "lead", "handles"),
    [
        ("140622", ["140622", "140600"], "140622", True),  # the county: on the chain, leads
        ("140600", ["140622", "140600"], "140622", True),  # the city: on the chain
        ("140000", ["140622", "140600"], "140622", False),  # the province: above a 一般 chain
        ("140000", ["140622", "140600"], "140000", True),  # …unless it took the case over
        ("140621", ["140622", "140600"], "140622", False),  # the sibling county
        (None, ["140622", "140600"], "140622", False),  # an inspection bureau, a unit
    ],
)
def test_who_handles_an_accident(
    agency: str | None, chain: list[str], lead: str, handles: bool
) -> None:
    from anjian.accidents.rules import handles_accident

    assert handles_accident(agency, chain, lead) is handles
