"""The closed loop of a hidden hazard as a table: every state × action, acceptance, overdue."""

from __future__ import annotations

from datetime import date

import pytest

from anjian.hidden_hazards.checklists.rules import task_completable
from anjian.hidden_hazards.rules import (
    Acceptor,
    HazardAction,
    HazardState,
    IllegalTransition,
    acceptance_problem,
    is_overdue,
    missing_plan_parts,
    next_state,
    rectification_rate,
    supervision_blocks_acceptance,
)

S, A = HazardState, HazardAction
LEGAL = {
    (None, A.REPORT): S.FOUND,
    (S.FOUND, A.REGISTER): S.REGISTERED,
    (S.REGISTERED, A.START): S.RECTIFYING,
    (S.RECTIFYING, A.FINISH): S.RECTIFIED,
    (S.RECTIFIED, A.ACCEPT): S.CLOSED,
    (S.RECTIFIED, A.REJECT): S.RECTIFYING,
}


@pytest.mark.parametrize("state", [None, *HazardState])
@pytest.mark.parametrize("action", list(HazardAction))
def test_every_state_and_action(state: HazardState | None, action: HazardAction) -> None:
    if (state, action) in LEGAL:
        assert next_state(state, action) == LEGAL[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as err:
            next_state(state, action)
        assert "不能执行" in str(err.value)


def test_a_refusal_says_what_can_be_done_instead() -> None:
    with pytest.raises(IllegalTransition, match="当前可执行: 验收销号、验收退回"):
        next_state(S.RECTIFIED, A.START)
    with pytest.raises(IllegalTransition, match="已销号"):
        next_state(S.CLOSED, A.REJECT)


AGENCY, ENTERPRISE = True, False


@pytest.mark.parametrize(
    ("grade", "rectifier", "acceptor", "is_agency", "problem"),
    [
        ("general", "zhang", "li", ENTERPRISE, None),
        ("general", "zhang", "zhang", ENTERPRISE, "整改人"),
        ("general", "zhang", "zhang", AGENCY, "整改人"),
        ("major", "zhang", "li", ENTERPRISE, "监管部门验收"),
        ("major", "zhang", "li", AGENCY, None),
    ],
)
def test_who_may_accept(grade, rectifier, acceptor, is_agency, problem) -> None:
    found = acceptance_problem(grade, rectifier, Acceptor(acceptor, is_agency))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("grade", "supervised", "blocked"),
    [
        ("major", True, True),
        ("major", False, False),
        ("general", True, False),  # orders concern major hazards only
    ],
)
def test_an_open_supervision_order_blocks_the_write_off(grade, supervised, blocked) -> None:
    found = supervision_blocks_acceptance(grade, supervised)
    assert (found is not None and "挂牌督办" in found) if blocked else found is None


@pytest.mark.parametrize(
    ("state", "deadline", "today", "overdue"),
    [
        ("registered", date(2026, 11, 30), date(2026, 11, 30), False),  # the last day is in time
        ("registered", date(2026, 11, 30), date(2026, 12, 1), True),
        ("rectifying", date(2026, 11, 30), date(2026, 12, 1), True),
        ("rectified", date(2026, 11, 30), date(2026, 12, 1), False),  # done, awaiting acceptance
        ("closed", date(2026, 11, 30), date(2027, 1, 1), False),
        ("found", None, date(2027, 1, 1), False),  # no deadline before registration
    ],
)
def test_overdue(state: str, deadline: date | None, today: date, overdue: bool) -> None:
    assert is_overdue(state, deadline, today) is overdue


def test_plan_parts_and_rate() -> None:
    assert missing_plan_parts(None)[0] == "goal"
    assert missing_plan_parts({"goal": "x", "measures": " "})[:2] == ["measures", "funds"]
    full = dict.fromkeys(
        [
            "goal",
            "measures",
            "funds",
            "organisation",
            "deadline",
            "safety_measures",
            "emergency_plan",
        ],
        "有",
    )
    assert missing_plan_parts(full) == []
    assert rectification_rate(0, 0) is None
    assert rectification_rate(3, 2) == 66.7
    assert rectification_rate(4, 4) == 100.0


@pytest.mark.parametrize(
    ("done", "today", "completable"),
    [
        (False, date(2026, 11, 30), False),  # the day before the period starts
        (False, date(2026, 12, 1), True),  # its first day
        (False, date(2027, 1, 15), True),  # long after its due date: late, still allowed
        (True, date(2026, 12, 2), False),  # once only
    ],
)
def test_a_task_is_completable_once_from_its_first_day(
    done: bool, today: date, completable: bool
) -> None:
    assert task_completable(done, date(2026, 12, 1), today) is completable
