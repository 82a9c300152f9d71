"""Pure rules of online monitoring (在线监测预警): what a point measures, how its thresholds are
checked, how a threshold alarm (超限报警) is raised, escalated and ended, and the alarm's closed
loop. No I/O: the ingest and the services feed these functions and store what they return.

Alarm levels (the board's severity): level 1, 严重 (red), for high-high / low-low (高高报/低低报),
level 2, 预警 (orange), for high / low (高报/低报). GB/T 50493-2019 numbers a gas detector's two
set points the other way round (一级报警 = the lower set point, on H; 二级报警 the higher, on
HH), so the severity is never named 一级/二级 to users: an alarm shows one badge, its set point's
name (:func:`bound_label`) in its severity's colour, and the board sorts and filters by the
severity."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import pairwise

from anjian.risk.rules import LEVELS_WORST_FIRST, RiskLevel

# What a point measures (监测类型) → (Chinese name, default unit).
KINDS: dict[str, tuple[str, str]] = {
    "tank_level": ("储罐液位", "m"),
    "temperature": ("温度", "°C"),
    "pressure": ("压力", "MPa"),
    "flow": ("流量", "m³/h"),
    "combustible_gas": ("可燃气体浓度", "%LEL"),
    "toxic_gas": ("有毒气体浓度", "ppm"),
    "ch4": ("甲烷浓度", "%CH4"),
    "co": ("一氧化碳浓度", "ppm"),
    "o2": ("氧气浓度", "%VOL"),
    "wind_speed": ("风速", "m/s"),
    "tailings_water_level": ("库水位", "m"),
    "dry_beach_length": ("干滩长度", "m"),
    "phreatic_line": ("浸润线埋深", "m"),
    "displacement": ("位移", "mm"),
    "rainfall": ("降雨量", "mm"),
    "composition": ("组分", "%"),
    "other": ("其他", ""),
}

# Status codes a gateway may send with a reading or for the whole system (设备/系统状态).
STATUSES: dict[str, str] = {
    "ok": "正常",
    "fault": "故障",
    "offline": "离线",
    "power_off": "断电",
    "shutdown": "关闭",
    "maintenance": "维护",
}


class PointStatus(StrEnum):
    """A point's or a whole system's status code (its label is in :data:`STATUSES`)."""

    OK = "ok"
    FAULT = "fault"
    OFFLINE = "offline"
    POWER_OFF = "power_off"
    SHUTDOWN = "shutdown"
    MAINTENANCE = "maintenance"


class AlarmKind(StrEnum):
    """What raised an alarm: a threshold, a coal mine's power cut (断电), a point's device status
    or the enterprise's whole monitoring system."""

    THRESHOLD = "threshold"
    POWER_CUT = "power_cut"
    STATUS = "status"
    SYSTEM = "system"


class Bound(StrEnum):
    """A threshold a value has crossed."""

    HH = "hh"
    H = "h"
    L = "l"
    LL = "ll"

    @property
    def high(self) -> bool:
        return self in (Bound.HH, Bound.H)

    @property
    def level(self) -> int:
        """严重 (1) for high-high and low-low, 预警 (2) for high and low."""
        return 1 if self in (Bound.HH, Bound.LL) else 2

    @property
    def label(self) -> str:
        return {"hh": "高高报", "h": "高报", "l": "低报", "ll": "低低报"}[self.value]


BOUNDS = frozenset(b.value for b in Bound)
LEVEL_LABELS = {1: "严重", 2: "预警"}  # not 一级/二级: those are GB/T 50493 set-point names

# GB/T 50493-2019 §5.5.2 (REFERENCE §5.3): a combustible-gas detector's first set point
# (≤ 25 %LEL) is its 一级报警 and the second (≤ 50 %LEL) its 二级报警; a toxic-gas detector's
# likewise (≤ 100 % / ≤ 200 % OEL). The presets put the first on H and the second on HH. The
# oxygen detector's two set points are the over-oxygen (23.5 %VOL, H) and deficiency (19.5 %VOL,
# L) alarms. Other set points of these kinds keep the generic names.
GAS_DETECTOR_KINDS = frozenset({"combustible_gas", "toxic_gas"})
_KIND_BOUND_LABELS: dict[str, dict[str, str]] = {
    **{kind: {"h": "一级报警", "hh": "二级报警"} for kind in GAS_DETECTOR_KINDS},
    "o2": {"h": "过氧报警", "l": "欠氧报警"},
}


def bound_label(bound: str, kind: str) -> str:
    """The name of set point ``bound`` on a point measuring ``kind``: a gas detector's set
    points by GB/T 50493-2019, any other by the generic 高高报/高报/低报/低低报."""
    named = _KIND_BOUND_LABELS.get(kind, {})
    return named.get(bound) or Bound(bound).label


@dataclass(frozen=True)
class Thresholds:
    """A point's set points (any may be None), the dead band a value must clear to end an
    alarm (回差), and the delay a value must stay beyond a set point before it alarms (延时)."""

    ll: float | None = None
    l: float | None = None  # noqa: E741 — the industry's own name for the low set point
    h: float | None = None
    hh: float | None = None
    dead_band: float = 0.0
    delay_s: float = 0.0


def threshold_problem(t: Thresholds) -> tuple[str, str] | None:
    """Why a set of thresholds is unusable, as (field, message), or None when it is sound:
    set points must be finite and ordered ll ≤ l ≤ h ≤ hh, dead band and delay not negative."""
    named = [("ll", t.ll), ("l", t.l), ("h", t.h), ("hh", t.hh)]
    for name, value in [*named, ("dead_band", t.dead_band), ("delay_s", t.delay_s)]:
        if value is not None and not math.isfinite(value):
            return name, f"{name} 须为有限数值 ({name} must be a finite number)"
    if t.dead_band < 0:
        return "dead_band", "回差不能为负 (dead_band must not be negative)"
    if t.delay_s < 0:
        return "delay_s", "延时不能为负 (delay_s must not be negative)"
    present = [(name, value) for name, value in named if value is not None]
    for (lo_name, lo), (hi_name, hi) in pairwise(present):
        if lo > hi:  # type: ignore[operator]
            return hi_name, (
                f"阈值须满足 ll ≤ l ≤ h ≤ hh: {hi_name}={hi} 小于 {lo_name}={lo} "
                f"(thresholds must be ordered ll ≤ l ≤ h ≤ hh)"
            )
    return None


def zone(t: Thresholds, value: float) -> Bound | None:
    """The worst set point ``value`` has reached (≥ a high one, ≤ a low one), or None."""
    if t.hh is not None and value >= t.hh:
        return Bound.HH
    if t.h is not None and value >= t.h:
        return Bound.H
    if t.ll is not None and value <= t.ll:
        return Bound.LL
    if t.l is not None and value <= t.l:
        return Bound.L
    return None


def back_inside(t: Thresholds, high: bool, value: float) -> bool:
    """Whether ``value`` has cleared the band on the alarm's side by the dead band: below the
    lowest high set point minus the dead band, or above the highest low one plus it."""
    if high:
        edge = t.h if t.h is not None else t.hh
        return edge is None or value < edge - t.dead_band
    edge = t.l if t.l is not None else t.ll
    return edge is None or value > edge + t.dead_band


def worse(a: Bound, b: Bound) -> bool:
    """Whether ``a`` is a worse set point than ``b`` on the same side."""
    return a.high == b.high and a.level < b.level


@dataclass(frozen=True)
class AlarmState:
    """What the evaluator remembers of a point between readings: the bound of its open alarm
    (None when none is open) and a crossing that is waiting out the delay."""

    active: Bound | None = None
    pending: Bound | None = None
    pending_since_ms: int | None = None


@dataclass(frozen=True)
class Raise:
    """Open an alarm at ``bound`` (the value that raised it at ``ts_ms``)."""

    bound: Bound
    value: float
    ts_ms: int


@dataclass(frozen=True)
class Escalate:
    """The open alarm reached a worse set point (预警 → 严重)."""

    bound: Bound
    value: float
    ts_ms: int


@dataclass(frozen=True)
class End:
    """The value is back inside the band: the open alarm's condition has ended (恢复)."""

    value: float
    ts_ms: int


Event = Raise | Escalate | End


def step(
    t: Thresholds, state: AlarmState, value: float, ts_ms: int
) -> tuple[AlarmState, list[Event]]:
    """Feed one reading (in time order) to a point's alarm state.

    A crossing raises an alarm once it has lasted ``delay_s`` (at once with no delay); an open
    alarm reaching a worse set point on the same side escalates (after the same delay); it ends
    only when the value is back inside the band by the dead band, so noise around a set point
    raises one alarm, not a storm. A swing to the other side ends the alarm and starts over."""
    events: list[Event] = []
    z = zone(t, value)
    if state.active is not None:
        if back_inside(t, state.active.high, value):
            events.append(End(value, ts_ms))
            state = AlarmState()
            if z is None:
                return state, events
        elif z is None or not worse(z, state.active):
            # Still beyond (or within the dead band of) the open alarm's set point.
            return replace(state, pending=None, pending_since_ms=None), events
    if z is None:
        return AlarmState(), events
    if state.pending is None or state.pending.high != z.high:
        pending, since = z, ts_ms
    else:
        pending = z if worse(z, state.pending) else state.pending
        since = state.pending_since_ms if state.pending_since_ms is not None else ts_ms
    if (ts_ms - since) / 1000.0 < t.delay_s:
        return replace(state, pending=pending, pending_since_ms=since), events
    if state.active is None:
        events.append(Raise(pending, value, ts_ms))
    else:
        events.append(Escalate(pending, value, ts_ms))
    return AlarmState(active=pending), events


# --- the alarm's closed loop (报警处置闭环) --------------------------------------------------


class AlarmStateName(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    HANDLED = "handled"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "raised": "待确认",
            "acknowledged": "已确认",
            "handled": "已处置",
            "closed": "已关闭",
        }[self.value]


ALARM_STATES = frozenset(s.value for s in AlarmStateName)

# action → (the state it is taken from, the state it leads to)
TRANSITIONS: dict[str, tuple[AlarmStateName, AlarmStateName]] = {
    "acknowledge": (AlarmStateName.RAISED, AlarmStateName.ACKNOWLEDGED),
    "handle": (AlarmStateName.ACKNOWLEDGED, AlarmStateName.HANDLED),
    "close": (AlarmStateName.HANDLED, AlarmStateName.CLOSED),
}
ACTION_LABELS = {"acknowledge": "确认", "handle": "处置", "close": "关闭"}


def transition_problem(action: str, state: str, *, ended: bool) -> str | None:
    """Why ``action`` cannot be taken on an alarm in ``state``, or None when it can. An alarm
    whose condition has not ended (the value still beyond its set point) cannot be closed."""
    source, _target = TRANSITIONS[action]
    if state != source:
        current = AlarmStateName(state).label if state in ALARM_STATES else state
        return (
            f"报警当前状态为「{current}」，不能{ACTION_LABELS[action]} "
            f"(an alarm in state {state} cannot be {action}d; it must be {source.value})"
        )
    if action == "close" and not ended:
        return "报警尚未恢复（数值仍超限），不能关闭 (the value is still beyond its set point)"
    return None


# --- live risk (动态风险) ------------------------------------------------------------------------
#
# A unit's live level starts from its inherent level — a major hazard source's grade (一级 → 重大
# red, 二级 → 较大 orange, 三级 → 一般 yellow, 四级 → 低 blue), an enterprise's worst source or
# risk point — and rises with what its monitoring says now:
#   +2 levels while a 严重 (level-1) alarm (high-high/low-low, a coal-mine power cut, a whole monitoring
#      system powered off or shut down) is open: the unit is beyond its safe limits or blind;
#   +1 level while only 预警 (level-2) alarms are open, or while points are faulty or offline (the unit is
#      partly unwatched);
# never above 重大 (red). A unit without an inherent level counts as 低 (blue). When every alarm
# has ended and every point reports again, the live level is the inherent one.

GRADE_LEVELS = {
    1: RiskLevel.MAJOR.value,
    2: RiskLevel.SIGNIFICANT.value,
    3: RiskLevel.GENERAL.value,
    4: RiskLevel.LOW.value,
}
_RANKED = tuple(level.value for level in reversed(LEVELS_WORST_FIRST))  # least first


@dataclass(frozen=True)
class LiveRisk:
    """A unit's live level and why."""

    inherent: str
    level: str
    raised_by: int
    reasons: tuple[str, ...]


def live_level(
    inherent: str | None, *, level1_alarms: int, level2_alarms: int, degraded_points: int
) -> LiveRisk:
    """The live risk level (one of major/significant/general/low) of a unit from its inherent
    level and its open alarms and unwatched points, by the model above."""
    base = inherent if inherent in _RANKED else RiskLevel.LOW.value
    reasons: list[str] = []
    bump = 0
    if level1_alarms:
        bump = 2
        reasons.append(f"严重报警 {level1_alarms} 条")
    elif level2_alarms:
        bump = 1
        reasons.append(f"预警 {level2_alarms} 条")
    if degraded_points:
        bump = max(bump, 1)
        reasons.append(f"测点故障/离线 {degraded_points} 个")
    rank = min(_RANKED.index(base) + bump, len(_RANKED) - 1)
    return LiveRisk(
        inherent=base,
        level=_RANKED[rank],
        raised_by=rank - _RANKED.index(base),
        reasons=tuple(reasons),
    )
