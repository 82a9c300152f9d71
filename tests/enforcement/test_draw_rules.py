"""The random draw (双随机一公开): reproducible from its seed, uniform when uniform, weighted by
risk when asked, and inspectors assigned without conflicts and with pairs repeated rarely."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest

from anjian.core.errors import Invalid
from anjian.enforcement.rules.draw import (
    Candidate,
    Inspector,
    Weighting,
    assign_inspectors,
    draw_enterprises,
    lot,
    population_hash,
)

# Critical values of the chi-square distribution at p = 0.001 for the degrees of freedom used.
CHI2_999 = {9: 27.877, 44: 78.750}


def chi_square(counts: Counter, cells: list, expected: float) -> float:
    return sum((counts[c] - expected) ** 2 / expected for c in cells)


def test_the_same_seed_over_the_same_population_gives_the_same_draw() -> None:
    people = [Candidate(i, "general") for i in range(1, 51)]
    first = draw_enterprises(people, 7, "seed-2026")
    assert draw_enterprises(list(reversed(people)), 7, "seed-2026") == first
    assert draw_enterprises(people, 7, "seed-2027") != first
    assert len(set(first)) == 7 and set(first) <= {c.id for c in people}


def test_lots_are_fixed_numbers_so_a_draw_can_be_checked_anywhere() -> None:
    # The lot is SM3 of "seed|id": its value must never change between versions.
    assert lot("abc", 1) == lot("abc", 1)
    assert 0 < lot("abc", 1) < 1
    assert lot("abc", 1) != lot("abc", 2) != lot("abd", 1)
    assert round(lot("abc", 1), 12) == round(lot("abc", 1), 12)


def test_the_population_hash_ignores_order_and_sees_every_change() -> None:
    people = [Candidate(1, "major"), Candidate(2, None)]
    staff = [Inspector(10, frozenset({1})), Inspector(11)]
    base = population_hash(people, staff)
    assert population_hash(list(reversed(people)), list(reversed(staff))) == base
    assert population_hash([Candidate(1, "low"), Candidate(2, None)], staff) != base
    assert population_hash(people, [Inspector(10), Inspector(11)]) != base
    assert population_hash(people[:1], staff) != base


def test_a_uniform_draw_picks_each_enterprise_and_each_pair_equally_often() -> None:
    people = [Candidate(i) for i in range(1, 11)]
    draws = [draw_enterprises(people, 3, f"s{n}") for n in range(6000)]
    single = Counter(e for d in draws for e in d)
    # 6000 draws of 3 from 10: each enterprise expected 1800 times.
    assert chi_square(single, list(range(1, 11)), 1800) < CHI2_999[9]
    pairs = Counter(p for d in draws for p in combinations(sorted(d), 2))
    cells = list(combinations(range(1, 11), 2))
    # each of the 45 pairs is in 3 of the 120 equally likely subsets: 6000 × 3 / 45 = 400.
    assert chi_square(pairs, cells, 400) < CHI2_999[44]


def test_a_risk_weighted_draw_favours_the_riskier_enterprise_by_its_weight() -> None:
    people = [Candidate(1, "major"), Candidate(2, "low")]
    wins = Counter(draw_enterprises(people, 1, f"r{n}", Weighting.RISK)[0] for n in range(4000))
    # weights 4 : 1 → the major one first with probability 0.8 (± 4 standard deviations).
    assert abs(wins[1] / 4000 - 0.8) < 4 * (0.8 * 0.2 / 4000) ** 0.5
    equal = Counter(
        draw_enterprises(people, 1, f"r{n}", Weighting.RISK, {"major": 1, "low": 1})[0]
        for n in range(4000)
    )
    assert abs(equal[1] / 4000 - 0.5) < 4 * (0.25 / 4000) ** 0.5


@pytest.mark.parametrize(
    ("count", "weights", "field"),
    [
        (0, None, "enterprise_count"),
        (4, None, "enterprise_count"),
        (1, {"major": 0.0}, "weights"),
        (1, {"major": float("nan")}, "weights"),
        (1, {"major": float("inf")}, "weights"),
        (1, {"major": -1.0}, "weights"),
    ],
)
def test_impossible_draws_are_refused_naming_the_field(count, weights, field) -> None:
    people = [Candidate(1, "major"), Candidate(2), Candidate(3)]
    with pytest.raises(Invalid) as refused:
        if weights is None:
            draw_enterprises(people, count, "x")
        else:
            draw_enterprises(people, count, "x", Weighting.RISK, weights)
    assert refused.value.field == field


def test_inspectors_with_a_conflict_are_never_assigned() -> None:
    staff = [
        Inspector(1, frozenset({100})),
        Inspector(2),
        Inspector(3),
        Inspector(4, frozenset({100})),
    ]
    for n in range(50):
        (check,) = assign_inspectors([100], staff, 2, f"c{n}")
        assert set(check.inspector_ids) == {2, 3}


def test_every_check_has_at_least_two_inspectors_and_too_few_is_refused() -> None:
    staff = [Inspector(1), Inspector(2, frozenset({7}))]
    with pytest.raises(Invalid) as refused:
        assign_inspectors([7], staff, 2, "x")
    assert refused.value.field == "inspectors_per_check" and "不足 2 名" in refused.value.message
    with pytest.raises(Invalid):
        assign_inspectors([8], staff, 1, "x")
    (check,) = assign_inspectors([8], staff, 2, "x")
    assert check.inspector_ids == (1, 2)


def test_pairs_that_inspected_an_enterprise_before_come_last() -> None:
    staff = [Inspector(i) for i in range(1, 6)]
    past = {(1, 9): 3, (2, 9): 1, (3, 9): 2}
    (check,) = assign_inspectors([9], staff, 2, "x", past)
    assert check.inspector_ids == (4, 5)
    (check,) = assign_inspectors([9], staff, 3, "x", past)
    assert set(check.inspector_ids) == {2, 4, 5}


def test_the_work_is_spread_over_the_inspectors_of_one_draw() -> None:
    staff = [Inspector(i) for i in range(1, 7)]
    checks = assign_inspectors(list(range(100, 109)), staff, 2, "spread")
    load = Counter(i for c in checks for i in c.inspector_ids)
    # 9 checks × 2 = 18 places over 6 inspectors: three each.
    assert set(load.values()) == {3}


@pytest.mark.parametrize(
    ("times", "targets"),
    [
        (4, [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4]),
        (1, [0] * 11 + [1]),
        (12, list(range(1, 13))),
        (0, [0] * 12),
        (2, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2]),
    ],
)
def test_plan_targets_spread_over_the_year(times: int, targets: list[int]) -> None:
    from anjian.enforcement.rules.inspections import monthly_targets

    assert monthly_targets(times) == targets


def test_plan_progress_is_capped_and_none_without_work() -> None:
    from anjian.enforcement.rules.inspections import plan_progress

    assert plan_progress(4, 1) == 25.0
    assert plan_progress(4, 6) == 100.0
    assert plan_progress(0, 0) is None
