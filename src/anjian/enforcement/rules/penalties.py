"""Pure rules of administrative penalties (行政处罚): stages, clocks, discretion and late payment.

Sources: Administrative Penalty Law (行政处罚法, revised 2021) — Art. 42 (two officers), Art. 60
(decision within 90 days of filing), Art. 63–64 (hearing: requested within 5 days of the notice,
notified 7 days ahead), Art. 67 (fine paid within 15 days of receiving the decision), Art. 72
(3 % of the fine a day for late payment, never more than the fine), Art. 85 (二日/三日/五日/七日
are working days). The 3-day period for statements (陈述申辩) and the 10-day 复查 period follow
common practice of safety enforcement rules and are unverified here: both are settings
(:class:`PenaltyPeriods`), as are the discretion bands, which each province sets in its
裁量基准 and which default to thirds of the statutory range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from anjian.core.errors import Conflict, Invalid
from anjian.core.workdays import add_working_days

YUAN = Decimal("0.01")


class PenaltyStage(StrEnum):
    """Where a penalty case stands."""

    FILED = "filed"  # 立案
    NOTIFIED = "notified"  # 已告知 (行政处罚告知书 served)
    HEARING = "hearing"  # 听证 requested
    DECIDED = "decided"  # 已决定 (行政处罚决定书 served)
    PAID = "paid"  # 已缴纳
    CLOSED = "closed"  # 结案

    @property
    def label(self) -> str:
        """The stage's Chinese name."""
        return STAGE_LABELS[self]


STAGE_LABELS: dict[PenaltyStage, str] = {
    PenaltyStage.FILED: "已立案",
    PenaltyStage.NOTIFIED: "已告知",
    PenaltyStage.HEARING: "听证中",
    PenaltyStage.DECIDED: "已决定",
    PenaltyStage.PAID: "已缴纳",
    PenaltyStage.CLOSED: "已结案",
}

# The steps a case may take; a case is closed from DECIDED only when the decision imposes no
# fine (a warning) — a fine is closed once paid.
NEXT_STAGES: dict[PenaltyStage, tuple[PenaltyStage, ...]] = {
    PenaltyStage.FILED: (PenaltyStage.NOTIFIED,),
    PenaltyStage.NOTIFIED: (PenaltyStage.HEARING, PenaltyStage.DECIDED),
    PenaltyStage.HEARING: (PenaltyStage.DECIDED,),
    PenaltyStage.DECIDED: (PenaltyStage.PAID, PenaltyStage.CLOSED),
    PenaltyStage.PAID: (PenaltyStage.CLOSED,),
    PenaltyStage.CLOSED: (),
}


@dataclass(frozen=True)
class PenaltyPeriods:
    """The periods of a penalty case; the defaults are the law's (see the module docstring)."""

    statement_working_days: int = 3  # 陈述申辩 (unverified)
    hearing_request_working_days: int = 5  # Art. 64(1)
    hearing_notice_working_days: int = 7  # Art. 64(2)
    decision_days: int = 90  # Art. 60
    payment_days: int = 15  # Art. 67
    late_rate: Decimal = Decimal("0.03")  # Art. 72(1)
    review_days: int = 10  # 复查 after the rectification deadline (unverified)


PERIODS = PenaltyPeriods()


class Discretion(StrEnum):
    """The discretion band (自由裁量) a fine is set in."""

    LENIENT = "lenient"  # 从轻
    ORDINARY = "ordinary"  # 一般
    SEVERE = "severe"  # 从重

    @property
    def label(self) -> str:
        """The band's Chinese name."""
        return {"lenient": "从轻", "ordinary": "一般", "severe": "从重"}[self.value]


def advance(stage: PenaltyStage, to: PenaltyStage, *, fine: Decimal = Decimal(0)) -> PenaltyStage:
    """The next stage, or a Conflict naming the stage when the step is not allowed."""
    if to not in NEXT_STAGES[stage]:
        raise Conflict(
            f"处罚案件{stage.label}，不能转为{to.label} / cannot go from {stage} to {to}"
        )
    if stage is PenaltyStage.DECIDED and to is PenaltyStage.CLOSED and fine > 0:
        raise Conflict("罚款未缴纳，不能结案 / a fine must be paid before the case is closed")
    return to


def statement_deadline(notified_on: date, periods: PenaltyPeriods = PERIODS) -> date:
    """Last day for statements and defence (陈述申辩) after the notice was served."""
    return add_working_days(notified_on, periods.statement_working_days)


def hearing_request_deadline(notified_on: date, periods: PenaltyPeriods = PERIODS) -> date:
    """Last day to request a hearing: 5 working days after the notice (Art. 64(1))."""
    return add_working_days(notified_on, periods.hearing_request_working_days)


def earliest_hearing(notice_sent_on: date, periods: PenaltyPeriods = PERIODS) -> date:
    """The earliest day a hearing may be held when the parties were told on ``notice_sent_on``:
    they are notified 7 working days ahead (Art. 64(2))."""
    return add_working_days(notice_sent_on, periods.hearing_notice_working_days)


def decision_deadline(filed_on: date, periods: PenaltyPeriods = PERIODS) -> date:
    """Last day for the decision: 90 days from filing (立案) (Art. 60)."""
    return filed_on + timedelta(days=periods.decision_days)


def payment_deadline(decision_received_on: date, periods: PenaltyPeriods = PERIODS) -> date:
    """Last day to pay the fine: 15 days from receiving the decision (Art. 67)."""
    return decision_received_on + timedelta(days=periods.payment_days)


def review_deadline(rectification_due: date, periods: PenaltyPeriods = PERIODS) -> date:
    """Last day for the 复查 of a rectification order whose deadline is ``rectification_due``."""
    return rectification_due + timedelta(days=periods.review_days)


def late_payment(
    fine: Decimal, due: date, paid_on: date, periods: PenaltyPeriods = PERIODS
) -> Decimal:
    """The surcharge (加处罚款) for paying on ``paid_on`` a fine due on ``due``: the rate of the fine
    for each day late, never more than the fine itself (Art. 72(1))."""
    days_late = (paid_on - due).days
    if days_late <= 0 or fine <= 0:
        return Decimal("0.00")
    surcharge = (fine * periods.late_rate * days_late).quantize(YUAN, ROUND_HALF_UP)
    return min(surcharge, fine.quantize(YUAN, ROUND_HALF_UP))


def discretion_band(low: Decimal, high: Decimal, band: Discretion) -> tuple[Decimal, Decimal]:
    """The part of the statutory range ``low``–``high`` (yuan) a band allows: the lower, middle
    or upper third, rounded to whole yuan, so the bands meet and cover the range."""
    if low < 0 or high < low:
        raise Invalid("罚款幅度无效 / invalid fine range", field="fine_range")
    third = (high - low) / 3
    cuts = [low, (low + third).quantize(Decimal(1)), (low + 2 * third).quantize(Decimal(1)), high]
    index = list(Discretion).index(band)
    return cuts[index], cuts[index + 1]


def check_fine(amount: Decimal, low: Decimal, high: Decimal, band: Discretion) -> Decimal:
    """The fine, if it lies in its band of the statutory range; else an Invalid naming the band."""
    if not amount.is_finite() or amount < 0:
        raise Invalid("罚款金额无效 / invalid fine", field="amount")
    start, end = discretion_band(low, high, band)
    if not start <= amount <= end:
        raise Invalid(
            f"{band.label}处罚的罚款应在 {start}–{end} 元之间 / fine outside the {band} band",
            field="amount",
        )
    return amount.quantize(YUAN, ROUND_HALF_UP)
