"""The rules of plans and drills by the table: revision due days (29 February included), the
revision flag, a drill overdue, and the filing and drill steps allowed."""

from __future__ import annotations

from datetime import date

import pytest

from anjian.emergency.plans.rules import (
    add_months,
    drill_overdue,
    drill_step_allowed,
    filing_step_allowed,
    revision_due,
    revision_status,
)


@pytest.mark.parametrize(
    ("issued", "revised", "years", "due"),
    [
        (date(2023, 5, 10), None, 3, date(2026, 5, 10)),
        (date(2020, 2, 29), None, 3, date(2023, 2, 28)),
        (date(2020, 2, 29), None, 4, date(2024, 2, 29)),
        (date(2019, 1, 1), date(2024, 6, 30), 3, date(2027, 6, 30)),
    ],
)
def test_revision_due(issued: date, revised: date | None, years: int, due: date) -> None:
    assert revision_due(issued, revised, years) == due


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 5, 11), "overdue"),
        (date(2026, 5, 10), "due_soon"),
        (date(2026, 2, 9), "due_soon"),
        (date(2026, 2, 8), "ok"),
    ],
)
def test_revision_status(today: date, status: str) -> None:
    assert revision_status(date(2026, 5, 10), today, 90) == status


@pytest.mark.parametrize(
    ("day", "months", "later"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months(day: date, months: int, later: date) -> None:
    assert add_months(day, months) == later


@pytest.mark.parametrize(
    ("last", "since", "today", "overdue"),
    [
        (None, date(2026, 1, 1), date(2026, 12, 31), False),
        (None, date(2025, 1, 1), date(2026, 1, 2), True),
        (date(2026, 3, 1), date(2020, 1, 1), date(2027, 3, 1), False),
        (date(2026, 3, 1), date(2020, 1, 1), date(2027, 3, 2), True),
    ],
)
def test_drill_overdue(last: date | None, since: date, today: date, overdue: bool) -> None:
    assert drill_overdue(last, since, today, 12) is overdue


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("draft", "submitted", True),
        ("returned", "submitted", True),
        ("submitted", "filed", True),
        ("submitted", "returned", True),
        ("draft", "filed", False),
        ("filed", "submitted", False),
        ("not_required", "submitted", False),
    ],
)
def test_filing_steps(current: str, target: str, allowed: bool) -> None:
    assert filing_step_allowed(current, target) is allowed


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("planned", "held", True),
        ("planned", "cancelled", True),
        ("held", "evaluated", True),
        ("planned", "evaluated", False),
        ("evaluated", "held", False),
        ("cancelled", "held", False),
    ],
)
def test_drill_steps(current: str, target: str, allowed: bool) -> None:
    assert drill_step_allowed(current, target) is allowed
