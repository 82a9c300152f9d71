"""Penalty clocks, stages, discretion bands and late payment, at their boundaries; document
numbers; working days over the official 2026 holiday schedule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from anjian.core.errors import Conflict, Invalid
from anjian.core.workdays import add_working_days, is_working_day, known
from anjian.enforcement.rules.documents import DocumentKind, check_prefix, document_number
from anjian.enforcement.rules.penalties import (
    Discretion,
    PenaltyPeriods,
    PenaltyStage,
    advance,
    check_fine,
    decision_deadline,
    discretion_band,
    earliest_hearing,
    hearing_request_deadline,
    late_payment,
    payment_deadline,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 4), True),  # Friday
        (date(2026, 12, 5), False),  # Saturday
        (date(2026, 10, 1), False),  # 国庆节 on a Thursday
        (date(2026, 10, 8), True),
        (date(2026, 2, 16), False),  # 春节 on a Monday
        (date(2026, 1, 4), True),  # 调休: a Sunday worked in 2026
        (date(2099, 1, 5), True),  # an unknown year: Monday to Friday
        (date(2099, 1, 4), False),
    ],
)
def test_working_days_follow_the_official_schedule(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_an_unknown_year_is_said_to_be_unknown() -> None:
    assert known(date(2026, 6, 1)) and not known(date(2099, 6, 1))


def test_the_hearing_request_window_is_five_working_days_after_the_notice() -> None:
    # Notice on Friday 2026-12-04: Mon 7 … Fri 11 are the five working days.
    assert hearing_request_deadline(date(2026, 12, 4)) == date(2026, 12, 11)
    # Notice on Wednesday 2026-09-30: the National Day holiday (Oct 1–7) does not count and
    # Saturday Oct 10 is worked (调休): Oct 8, 9, 10, 12, 13.
    assert hearing_request_deadline(date(2026, 9, 30)) == add_working_days(date(2026, 10, 7), 5)
    assert hearing_request_deadline(date(2026, 9, 30)) == date(2026, 10, 13)
    assert earliest_hearing(date(2026, 12, 4)) == date(2026, 12, 15)


def test_calendar_day_periods_run_from_the_day_after_the_event() -> None:
    assert decision_deadline(date(2026, 1, 1)) == date(2026, 4, 1)
    assert payment_deadline(date(2026, 12, 20)) == date(2027, 1, 4)
    shorter = PenaltyPeriods(payment_days=10)
    assert payment_deadline(date(2026, 12, 20), shorter) == date(2026, 12, 30)


@pytest.mark.parametrize(
    ("paid_on", "surcharge"),
    [
        (date(2026, 3, 15), "0.00"),  # on the last day
        (date(2026, 3, 1), "0.00"),
        (date(2026, 3, 16), "300.00"),  # one day late: 3 % of 10 000
        (date(2026, 4, 17), "9900.00"),  # 33 days
        (date(2026, 4, 18), "10000.00"),  # 34 days would be 10 200: capped at the fine
        (date(2027, 3, 15), "10000.00"),
    ],
)
def test_late_payment_adds_three_percent_a_day_never_more_than_the_fine(
    paid_on: date, surcharge: str
) -> None:
    assert late_payment(Decimal(10000), date(2026, 3, 15), paid_on) == Decimal(surcharge)


def test_discretion_bands_split_the_range_in_thirds_and_cover_it() -> None:
    low, high = Decimal(0), Decimal(50000)
    bands = [discretion_band(low, high, b) for b in Discretion]
    assert bands == [
        (Decimal(0), Decimal(16667)),
        (Decimal(16667), Decimal(33333)),
        (Decimal(33333), Decimal(50000)),
    ]
    assert check_fine(Decimal("16667"), low, high, Discretion.LENIENT) == Decimal("16667.00")
    assert check_fine(Decimal("50000"), low, high, Discretion.SEVERE) == Decimal("50000.00")


@pytest.mark.parametrize(
    "amount",
    [Decimal("16668"), Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), Decimal("1e30")],
)
def test_a_fine_outside_its_band_is_refused_naming_the_amount(amount: Decimal) -> None:
    with pytest.raises(Invalid) as refused:
        check_fine(amount, Decimal(0), Decimal(50000), Discretion.LENIENT)
    assert refused.value.field == "amount"


def test_an_inverted_range_is_refused() -> None:
    with pytest.raises(Invalid):
        discretion_band(Decimal(10), Decimal(5), Discretion.ORDINARY)


def test_a_case_moves_only_along_its_steps() -> None:
    assert advance(PenaltyStage.FILED, PenaltyStage.NOTIFIED) is PenaltyStage.NOTIFIED
    assert advance(PenaltyStage.NOTIFIED, PenaltyStage.HEARING) is PenaltyStage.HEARING
    assert advance(PenaltyStage.DECIDED, PenaltyStage.CLOSED) is PenaltyStage.CLOSED
    with pytest.raises(Conflict, match="已立案，不能转为已决定"):
        advance(PenaltyStage.FILED, PenaltyStage.DECIDED)
    with pytest.raises(Conflict, match="罚款未缴纳"):
        advance(PenaltyStage.DECIDED, PenaltyStage.CLOSED, fine=Decimal(100))
    with pytest.raises(Conflict):
        advance(PenaltyStage.CLOSED, PenaltyStage.FILED)


def test_document_numbers_read_prefix_kind_year_serial() -> None:
    assert (
        document_number("晋朔应急", DocumentKind.PENALTY_DECISION, 2026, 3)
        == "晋朔应急罚〔2026〕3号"
    )
    assert DocumentKind.RECTIFICATION_ORDER.label == "责令限期整改指令书"
    with pytest.raises(Invalid):
        document_number("晋", DocumentKind.PENALTY_DECISION, 2026, 0)
    assert check_prefix("  晋朔应急 ") == "晋朔应急"
    for bad in ["", "  ", "晋\x00", "晋" * 21, "a\nb"]:
        with pytest.raises(Invalid):
            check_prefix(bad)
