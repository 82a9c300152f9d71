"""Alarm rules of online monitoring, by the table: set points, dead band, delay, escalation, the
closed loop; and the presets against the reference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anjian.monitoring.presets import PRESETS
from anjian.monitoring.rules import (
    AlarmState,
    Bound,
    End,
    Escalate,
    Raise,
    Thresholds,
    bound_label,
    live_level,
    step,
    threshold_problem,
    transition_problem,
    zone,
)

TANK = Thresholds(ll=1.0, l=2.0, h=8.0, hh=9.0, dead_band=0.5)


def run(t: Thresholds, values: list[float], period_ms: int = 1000) -> list[tuple[int, object]]:
    """Feed values one period apart; the events with the index of the reading."""
    state = AlarmState()
    events: list[tuple[int, object]] = []
    for i, v in enumerate(values):
        state, evs = step(t, state, v, i * period_ms)
        events += [(i, e) for e in evs]
    return events


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5.0, None),
        (8.0, Bound.H),  # reaching the set point alarms (≥)
        (8.99, Bound.H),
        (9.0, Bound.HH),
        (2.0, Bound.L),
        (1.0, Bound.LL),
        (0.0, Bound.LL),
        (2.01, None),
    ],
)
def test_zone_is_the_worst_set_point_reached(value: float, expected: Bound | None) -> None:
    assert zone(TANK, value) == expected


def test_levels_follow_the_issue_convention() -> None:
    assert (Bound.HH.level, Bound.LL.level, Bound.H.level, Bound.L.level) == (1, 1, 2, 2)


def test_noise_around_a_set_point_raises_one_alarm_not_a_storm() -> None:
    values = [7.0, 8.1, 7.9, 8.2, 7.8, 8.05, 7.6, 8.3, 7.4]  # dead band 0.5 below h = 8.0
    events = run(TANK, values)
    assert [type(e) for _, e in events] == [Raise, End]
    assert events[0] == (1, Raise(Bound.H, 8.1, 1000))
    assert events[1][0] == 8  # ends only below 7.5


def test_escalation_and_end() -> None:
    events = run(TANK, [5.0, 8.5, 9.2, 8.6, 7.0])
    assert [e for _, e in events] == [
        Raise(Bound.H, 8.5, 1000),
        Escalate(Bound.HH, 9.2, 2000),
        End(7.0, 4000),
    ]


def test_a_value_that_jumps_straight_to_high_high_raises_level_one() -> None:
    events = run(TANK, [5.0, 9.5])
    assert events == [(1, Raise(Bound.HH, 9.5, 1000))]


def test_low_side_with_dead_band() -> None:
    events = run(TANK, [5.0, 1.9, 2.3, 2.6])
    assert [e for _, e in events] == [Raise(Bound.L, 1.9, 1000), End(2.6, 3000)]


def test_swing_to_the_other_side_ends_and_raises_again() -> None:
    events = run(TANK, [8.5, 0.5])
    assert [e for _, e in events] == [
        Raise(Bound.H, 8.5, 0),
        End(0.5, 1000),
        Raise(Bound.LL, 0.5, 1000),
    ]


def test_delay_filters_a_short_excursion_and_raises_a_lasting_one() -> None:
    t = Thresholds(h=10.0, delay_s=3.0)
    assert run(t, [5, 11, 12, 5, 5]) == []  # 2 s beyond: filtered out
    events = run(t, [5, 11, 12, 13, 14, 5])
    assert events[0] == (4, Raise(Bound.H, 14, 4000))  # 3 s after the first crossing
    assert isinstance(events[1][1], End)


def test_delay_applies_to_escalation_too() -> None:
    t = Thresholds(h=10.0, hh=20.0, delay_s=2.0)
    events = run(t, [11, 12, 13, 21, 12, 13])
    assert [type(e) for _, e in events] == [Raise]  # the HH excursion lasted 1 s only
    events = run(t, [11, 12, 13, 21, 22, 23])
    assert [e for _, e in events][1] == Escalate(Bound.HH, 23, 5000)


def test_only_the_set_points_given_are_checked() -> None:
    t = Thresholds(hh=50.0)
    assert [type(e) for _, e in run(t, [10, 49.9, 50, 60, 49])] == [Raise, End]
    assert run(Thresholds(), [1e9, -1e9]) == []


@given(st.lists(st.floats(min_value=-100, max_value=100), max_size=60))
def test_alarms_alternate_raise_then_end(values: list[float]) -> None:
    """Whatever the signal: every End closes a Raise, escalations only inside an alarm, and
    an alarm is open at the end exactly when the last event was not an End."""
    open_ = False
    for _, ev in run(TANK, values):
        if isinstance(ev, Raise):
            assert not open_
            open_ = True
        elif isinstance(ev, Escalate):
            assert open_
        else:
            assert open_
            open_ = False


@pytest.mark.parametrize(
    ("thresholds", "field"),
    [
        (Thresholds(ll=1, l=2, h=3, hh=4), None),
        (Thresholds(h=3, hh=3), None),  # coal T2: alarm and power cut at the same value
        (Thresholds(l=5, h=3), "h"),
        (Thresholds(ll=3, l=2), "l"),
        (Thresholds(h=9, hh=8), "hh"),
        (Thresholds(h=1, dead_band=-1), "dead_band"),
        (Thresholds(h=1, delay_s=-1), "delay_s"),
        (Thresholds(h=float("nan")), "h"),
    ],
)
def test_threshold_problems_name_the_field(thresholds: Thresholds, field: str | None) -> None:
    problem = threshold_problem(thresholds)
    assert (problem[0] if problem else None) == field


@pytest.mark.parametrize(
    ("action", "state", "ended", "ok"),
    [
        ("acknowledge", "raised", False, True),
        ("acknowledge", "acknowledged", False, False),
        ("handle", "raised", False, False),
        ("handle", "acknowledged", False, True),
        ("close", "handled", True, True),
        ("close", "handled", False, False),  # still beyond its set point
        ("close", "acknowledged", True, False),
        ("close", "closed", True, False),
    ],
)
def test_alarm_closed_loop(action: str, state: str, ended: bool, ok: bool) -> None:
    assert (transition_problem(action, state, ended=ended) is None) == ok


def test_presets_match_the_reference() -> None:
    t1 = PRESETS["coal_ch4_t1_face"]
    assert (t1.h, t1.hh, t1.restore, t1.power_cut) == (1.0, 1.5, 1.0, True)
    t7 = PRESETS["coal_ch4_t7_drainage_roadway"]
    assert (t7.h, t7.hh, t7.restore) == (2.5, 2.5, 2.5)
    assert not PRESETS["coal_ch4_t0_upper_corner"].verified  # restore value unconfirmed
    gas = PRESETS["gas_combustible"]
    assert (gas.h, gas.hh, gas.unit) == (25.0, 50.0, "%LEL")
    o2 = PRESETS["gas_o2"]
    assert (o2.l, o2.h) == (19.5, 23.5)
    for preset in PRESETS.values():
        t = Thresholds(preset.ll, preset.l, preset.h, preset.hh, preset.dead_band, preset.delay_s)
        assert threshold_problem(t) is None, preset.code


@pytest.mark.parametrize(
    ("code", "alarm", "cut", "restore", "verified"),
    [
        # 煤矿安全规程 concentration rules (REFERENCE §5.6(a))
        ("coal_ch4_district_return", 1.0, 1.0, 1.0, True),
        ("coal_ch4_wing_return", 0.75, None, None, True),  # no power cut
        ("coal_ch4_main_return", 0.75, None, None, True),
        # 煤矿安全规程 (2016) Art. 498 table, not in the reference: editable, unverified
        ("coal_ch4_onboard", 1.0, 1.5, 1.0, False),
        ("coal_ch4_coal_bunker", 1.5, 1.5, 1.5, False),
        ("coal_ch4_enclosed_belt", 1.5, 1.5, 1.0, False),
    ],
)
def test_methane_presets_by_location(
    code: str, alarm: float, cut: float | None, restore: float | None, verified: bool
) -> None:
    preset = PRESETS[code]
    assert (preset.kind, preset.unit) == ("ch4", "%CH4")
    assert (preset.h, preset.hh, preset.restore) == (alarm, cut, restore)
    assert preset.power_cut == (cut is not None)
    assert preset.verified == verified
    assert ("unverified against the official table" in preset.source) == (not verified)


@pytest.mark.parametrize(
    ("value", "alarm", "cut"),
    [(0.74, None, False), (0.75, Bound.H, False), (5.0, Bound.H, False)],
)
def test_main_return_alarms_at_0_75_and_never_cuts_power(
    value: float, alarm: Bound | None, cut: bool
) -> None:
    preset = PRESETS["coal_ch4_main_return"]
    assert zone(Thresholds(h=preset.h, hh=preset.hh), value) is alarm
    assert preset.power_cut is cut


@pytest.mark.parametrize(
    ("bound", "kind", "label"),
    [
        # GB/T 50493-2019 §5.5.2: the lower set point is 一级报警, the higher 二级报警
        ("h", "combustible_gas", "一级报警"),
        ("hh", "combustible_gas", "二级报警"),
        ("h", "toxic_gas", "一级报警"),
        ("hh", "toxic_gas", "二级报警"),
        ("l", "combustible_gas", "低报"),  # a set point the standard does not name
        ("ll", "toxic_gas", "低低报"),
        ("h", "o2", "过氧报警"),
        ("l", "o2", "欠氧报警"),
        ("hh", "o2", "高高报"),
        # every other kind keeps the generic names
        ("h", "ch4", "高报"),
        ("hh", "ch4", "高高报"),
        ("hh", "tank_level", "高高报"),
        ("ll", "tank_level", "低低报"),
        ("h", "", "高报"),  # an alarm whose point is not on this node
    ],
)
def test_set_point_names_by_kind(bound: str, kind: str, label: str) -> None:
    assert bound_label(bound, kind) == label


def test_gas_labels_leave_the_severity_order_alone() -> None:
    # The board's 一级 (most severe) is still the higher set point, whatever its name.
    assert Bound.HH.level == 1 and Bound.H.level == 2
    assert zone(Thresholds(h=25.0, hh=50.0), 50.0) is Bound.HH


@pytest.mark.parametrize("code", [c for c, p in PRESETS.items() if p.kind == "combustible_gas"])
def test_combustible_gas_presets_stay_within_gb_50493(code: str) -> None:
    preset = PRESETS[code]
    assert preset.unit == "%LEL"
    assert preset.h is not None and preset.h <= 25.0  # 一级报警 ≤ 25 %LEL
    assert preset.hh is not None and preset.hh <= 50.0  # 二级报警 ≤ 50 %LEL
    assert preset.h < preset.hh


@pytest.mark.parametrize("code", [c for c, p in PRESETS.items() if p.kind == "toxic_gas"])
def test_toxic_gas_presets_are_100_and_200_percent_of_one_limit(code: str) -> None:
    preset = PRESETS[code]
    assert preset.h is not None and preset.hh == 2 * preset.h  # ≤ 100 % OEL, ≤ 200 % OEL


@pytest.mark.parametrize(
    ("inherent", "l1", "l2", "degraded", "expected"),
    [
        ("low", 0, 0, 0, "low"),
        (None, 0, 0, 0, "low"),  # no inherent level: blue
        ("low", 0, 1, 0, "general"),
        ("low", 0, 0, 3, "general"),  # unwatched points
        ("low", 0, 2, 3, "general"),  # 二级 and unwatched: still one level
        ("low", 1, 0, 0, "significant"),
        ("general", 1, 5, 2, "major"),
        ("significant", 1, 0, 0, "major"),
        ("major", 0, 1, 0, "major"),  # never above red
        ("major", 0, 0, 0, "major"),
    ],
)
def test_live_level(inherent: str | None, l1: int, l2: int, degraded: int, expected: str) -> None:
    risk = live_level(inherent, level1_alarms=l1, level2_alarms=l2, degraded_points=degraded)
    assert risk.level == expected
    assert (risk.raised_by > 0) == bool(risk.reasons and expected != (inherent or "low"))
