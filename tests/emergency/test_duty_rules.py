"""Duty rules by table: a shift's validity and overlap, who is on duty at a moment, minutes
from receipt to passing on and the overdue limit, and how an alarm or an accident reads as an
event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from anjian.emergency.duty.rules import (
    CALL_SOURCES,
    MAX_SHIFT,
    RECEIPT_SOURCES,
    accident_title,
    alarm_event_type,
    alarm_phrase,
    alarm_title,
    casualties,
    elapsed_minutes,
    first_overlap,
    on_duty_at,
    overdue,
    overlaps,
    pass_on_problem,
    received_problem,
    shift_problem,
)
from anjian.emergency.rules.events import SOURCES

T0 = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)  # 08:00 Beijing time


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)


@dataclass(frozen=True)
class Shift:
    name: str
    starts_at: datetime
    ends_at: datetime


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (at(0), at(24), None),
        (at(0), at(0, 1), None),
        (at(0), T0 + MAX_SHIFT, None),  # exactly 7 days
        (at(0), T0 + MAX_SHIFT + timedelta(seconds=1), "ends_at"),
        (at(0), at(0), "ends_at"),  # ends when it starts
        (at(1), at(0), "ends_at"),  # ends before it starts
    ],
)
def test_shift_validity(start: datetime, end: datetime, problem: str | None) -> None:
    got = shift_problem(start, end)
    assert (got[0] if got else None) == problem
    if got:
        assert "(" in got[1] and got[1][0] > "\u3000"  # Chinese first, English after


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((0, 8), (8, 16), False),  # one ends as the other starts: a handover
        ((8, 16), (0, 8), False),
        ((0, 8), (7, 9), True),
        ((0, 24), (2, 3), True),  # one inside the other
        ((2, 3), (0, 24), True),
        ((0, 8), (9, 10), False),
        ((0, 8), (0, 8), True),  # the same span
    ],
)
def test_overlap_of_half_open_spans(a: tuple[int, int], b: tuple[int, int], overlap: bool) -> None:
    assert overlaps(at(a[0]), at(a[1]), at(b[0]), at(b[1])) is overlap


def test_first_overlap_names_the_shift_in_the_way() -> None:
    day, night = Shift("白班", at(0), at(12)), Shift("夜班", at(12), at(24))
    assert first_overlap(at(11), at(13), [day, night]) is day
    assert first_overlap(at(12), at(13), [day, night]) is night
    assert first_overlap(at(24), at(36), [day, night]) is None
    assert first_overlap(at(0), at(1), []) is None


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(0), "白班"),  # starts: on duty
        (at(11, 59), "白班"),
        (at(12), "夜班"),  # the day shift ended, the night shift started
        (at(23, 59), "夜班"),
        (at(24), None),  # nobody rostered
        (at(-1), None),
    ],
)
def test_who_is_on_duty_at_a_moment(when: datetime, expected: str | None) -> None:
    shifts = [Shift("白班", at(0), at(12)), Shift("夜班", at(12), at(24))]
    got = on_duty_at(shifts, when)
    assert (got.name if got else None) == expected


def test_of_overlapping_shifts_the_latest_started_is_on_duty() -> None:
    shifts = [Shift("周班", at(0), at(168)), Shift("加班", at(10), at(14))]
    assert on_duty_at(shifts, at(11)).name == "加班"  # type: ignore[union-attr]
    assert on_duty_at(shifts, at(15)).name == "周班"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("passed", "now", "minutes", "late"),
    [
        (at(0, 10), at(5), 10, False),  # passed on after 10 minutes
        (at(0, 30), at(5), 30, False),  # exactly the limit: not over it
        (at(0, 31), at(5), 31, True),
        (at(0, 30), at(0, 30), 30, False),
        (None, at(0, 29), 29, False),  # still waiting, within the limit
        (None, at(0, 31), 31, True),  # still waiting, over it
        (None, at(0, 0), 0, False),
        (T0, T0, 0, False),
    ],
)
def test_minutes_to_pass_on_and_the_limit(
    passed: datetime | None, now: datetime, minutes: int, late: bool
) -> None:
    assert elapsed_minutes(T0, passed, now) == minutes
    assert overdue(T0, passed, now, limit_minutes=30) is late


def test_the_limit_is_a_parameter() -> None:
    assert overdue(T0, at(0, 20), at(1), limit_minutes=15) is True
    assert overdue(T0, at(0, 20), at(1), limit_minutes=60) is False
    assert elapsed_minutes(T0, None, at(-1)) == 0  # a clock behind never gives negative minutes
    assert elapsed_minutes(T0, None, at(0, 0.99)) == 0  # whole minutes
    assert elapsed_minutes(T0, None, at(2)) == 120


@pytest.mark.parametrize(
    ("received", "passed", "problem"),
    [
        (T0, at(0, 1), None),
        (T0, T0, None),  # at once
        (T0, at(0, -1), "早于接报"),
        (T0, at(3), "晚于现在"),
    ],
)
def test_passing_on_times(received: datetime, passed: datetime, problem: str | None) -> None:
    got = pass_on_problem(received, passed, at(2))
    assert (problem is None and got is None) or (problem is not None and problem in (got or ""))


def test_a_receipt_is_never_in_the_future() -> None:
    assert received_problem(at(1), at(1)) is None
    assert received_problem(at(0), at(1)) is None
    assert "晚于现在" in (received_problem(at(1, 1), at(1)) or "")


def test_sources_are_those_of_events() -> None:
    assert RECEIPT_SOURCES is SOURCES
    assert set(RECEIPT_SOURCES) == {"call", "alarm", "accident", "report_below", "other"}
    assert CALL_SOURCES == {"call": "电话接报", "other": "其他"}


@pytest.mark.parametrize(
    ("label", "phrase"),
    [
        ("高高报", "高高报警"),
        ("高报", "高报警"),
        ("一级报警", "一级报警"),
        ("断电", "断电报警"),
        ("离线", "离线报警"),
    ],
)
def test_alarm_phrases(label: str, phrase: str) -> None:
    assert alarm_phrase(label) == phrase


def test_alarm_titles() -> None:
    assert alarm_title("应县金鼎煤业", "1201 甲烷", "高高报", "严重") == (
        "应县金鼎煤业 1201 甲烷 高高报警（严重）"
    )
    assert alarm_title("应县金鼎煤业", "", "断电", "严重") == "应县金鼎煤业 断电报警（严重）"
    assert alarm_title(" 某厂 ", "储罐", "一级报警", "") == "某厂 储罐 一级报警"


@pytest.mark.parametrize(
    ("category", "kind", "event_type"),
    [
        ("hazardous_chemicals", "combustible_gas", "chemical_leak"),
        ("coal_mine", "toxic_gas", "chemical_leak"),  # a gas detector: a leak first
        ("coal_mine", "methane", "mine"),
        ("non_coal_mine", "", "mine"),
        ("hazardous_chemicals", "temperature", "other"),
        ("", "", "other"),
    ],
)
def test_the_event_type_an_alarm_opens(category: str, kind: str, event_type: str) -> None:
    assert alarm_event_type(category, kind) == event_type


def test_accident_titles_and_casualties() -> None:
    assert accident_title("应县金鼎煤业", "透水", False) == "应县金鼎煤业透水事故"
    assert accident_title("某厂", "中毒和窒息", True) == "某厂中毒和窒息较大涉险事故"
    assert casualties(0, 0, 0, 0) == "暂无人员伤亡"
    assert casualties(1, 2, 0, 3) == "死亡 1 人、失踪 2 人、轻伤 3 人"
    assert casualties(0, 0, 4, 0) == "重伤 4 人"
