"""The ingest skips the alarm evaluator for a quiet point (nothing open or pending, every value
strictly inside its set points): that must be exactly when the rules would do nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from anjian.monitoring.batch import Outcome
from anjian.monitoring.evaluate import LiveRow, PointRow, quiet
from anjian.monitoring.rules import AlarmState, step

limits = st.one_of(st.none(), st.floats(min_value=-50, max_value=50))


@given(
    st.tuples(limits, limits, limits, limits).map(
        lambda t: sorted(t, key=lambda v: float("inf") if v is None else v)
    ),
    st.floats(min_value=0, max_value=5),
    st.floats(min_value=0, max_value=10),
    st.lists(st.floats(min_value=-60, max_value=60), min_size=1, max_size=20),
)
def test_quiet_points_are_those_the_rules_leave_alone(
    ordered: list[float | None], dead_band: float, delay_s: float, values: list[float]
) -> None:
    ll, l, h, hh = ordered  # noqa: E741
    p = PointRow(
        1, 1, "P", "140622", "", None, ll, l, h, hh, dead_band, delay_s, True, None, "ok", "u"
    )
    readings = [(1000 * i, v, Outcome()) for i, v in enumerate(values)]
    if not quiet(p, LiveRow(point_id=1), readings):
        return
    state = AlarmState()
    for ts, v, _ in readings:
        state, events = step(p.thresholds, state, v, ts)
        assert events == [] and state == AlarmState()
    assert hh is None or max(values) < hh  # no power cut either
