"""Working days (工作日) for deadlines the law counts in them.

The Administrative Penalty Law (2021) Art. 85 counts its 二日/三日/五日/七日 periods in working
days, without statutory holidays. Which days are holidays and which weekend days are worked
instead (调休) is set each year by the State Council; the `chinese-calendar` package carries those
schedules for the years it knows. For a year it does not know yet, Monday to Friday are taken as
working days and :func:`known` says so, so a page can mark such a deadline as provisional."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

_FIRST, _LAST = (min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year)


def known(day: date) -> bool:
    """True when the official holiday schedule of ``day``'s year is known."""
    return _FIRST <= day.year <= _LAST


def is_working_day(day: date) -> bool:
    """True for a working day: by the official schedule where known, else Monday to Friday."""
    if known(day):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (the day of the event itself is not counted,
    as in the law's "告知后五日内"); ``days`` ≥ 1."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day
