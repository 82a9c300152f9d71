"""Pure rules of duty (值班值守): a shift's validity and overlap, who is on duty at a moment,
how long a receipt took to be passed on (转报) and whether that was too long, and how an alarm
or an accident reads as an event. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from anjian.emergency.rules.events import SOURCES

# The longest shift the roster takes: a desk rosters by the day or the week, never longer.
MAX_SHIFT = timedelta(days=7)

# How far back the inbox looks for accident quick reports not yet received.
INBOX_ACCIDENT_HOURS = 72

# The sources of a receipt: those of an event (电话接报, 监测报警, 事故快报, 下级报告, 其他).
RECEIPT_SOURCES = SOURCES
# What the 电话接报 form and endpoint take; the others come from their own one-step paths.
CALL_SOURCES = {code: SOURCES[code] for code in ("call", "other")}

# A monitoring point measuring these is a gas detector: its alarm is a leak (泄漏) first.
GAS_KINDS = frozenset({"combustible_gas", "toxic_gas"})


class Timed(Protocol):
    """Anything that runs from ``starts_at`` to ``ends_at`` (a shift)."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


T = TypeVar("T", bound=Timed)


def shift_problem(starts_at: datetime, ends_at: datetime) -> tuple[str, str] | None:
    """Why a shift cannot be rostered, as (field, message), or None when it can: it must end
    after it starts and last at most :data:`MAX_SHIFT`."""
    if ends_at <= starts_at:
        return "ends_at", "交班时间须晚于接班时间 (ends_at must be after starts_at)"
    if ends_at - starts_at > MAX_SHIFT:
        return "ends_at", "一个班次不能超过 7 天 (a shift lasts at most 7 days)"
    return None


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether two half-open spans [start, end) share a moment (one ending as the other
    starts does not: that is a handover)."""
    return a_start < b_end and b_start < a_end


def first_overlap(starts_at: datetime, ends_at: datetime, shifts: Iterable[T]) -> T | None:
    """The first of ``shifts`` that shares a moment with [starts_at, ends_at), if any."""
    return next((s for s in shifts if overlaps(starts_at, ends_at, s.starts_at, s.ends_at)), None)


def on_duty_at(shifts: Sequence[T], at: datetime) -> T | None:
    """The shift on duty at ``at`` (it started at or before and ends after); of several (never
    for one desk, whose shifts do not overlap) the one that started last."""
    covering = [s for s in shifts if s.starts_at <= at < s.ends_at]
    return max(covering, key=lambda s: s.starts_at) if covering else None


def elapsed_minutes(received_at: datetime, passed_on_at: datetime | None, now: datetime) -> int:
    """Whole minutes from the receipt to its passing on, or to ``now`` while it waits (never
    negative)."""
    end = passed_on_at or now
    return max(0, int((end - received_at).total_seconds() // 60))


def overdue(
    received_at: datetime,
    passed_on_at: datetime | None,
    now: datetime,
    limit_minutes: int,
) -> bool:
    """Whether the receipt was passed on later than ``limit_minutes`` after it came in, or has
    waited longer than that and is still not passed on. The limit is the setting
    ``duty_pass_on_minutes`` (30 by default; the national timing rule is not verified)."""
    end = passed_on_at or now
    return end - received_at > timedelta(minutes=limit_minutes)


def received_problem(received_at: datetime, now: datetime) -> str | None:
    """Why a receipt time is refused: the duty officer's clock never shows the future."""
    if received_at > now:
        return "接报时间不能晚于现在 (received in the future)"
    return None


def pass_on_problem(received_at: datetime, passed_on_at: datetime, now: datetime) -> str | None:
    """Why a passing-on time is refused: not before the receipt, not in the future."""
    if passed_on_at < received_at:
        return "转报时间不能早于接报时间 (passed on before it was received)"
    if passed_on_at > now:
        return "转报时间不能晚于现在 (passed on in the future)"
    return None


def alarm_phrase(bound_label: str) -> str:
    """An alarm's set point (or status) as a phrase: 高高报 → 高高报警, 一级报警 stays,
    断电 → 断电报警."""
    if bound_label.endswith("报警"):
        return bound_label
    if bound_label.endswith("报"):
        return bound_label + "警"
    return bound_label + "报警"


def alarm_title(enterprise: str, point: str, bound_label: str, level_label: str) -> str:
    """The title of the event an alarm becomes: the enterprise, the point, the alarm and its
    severity, e.g. ``应县金鼎煤业 1201 甲烷 高高报警（严重）``. The severity is said as
    monitoring says it (严重/预警), never 一级/二级, which gas detectors use for set points."""
    parts = [p for p in (enterprise.strip(), point.strip(), alarm_phrase(bound_label)) if p]
    return " ".join(parts) + (f"（{level_label}）" if level_label else "")


def alarm_event_type(supervision_category: str, point_kind: str) -> str:
    """The event type an alarm opens: a gas detector's alarm is a leak (危险化学品泄漏), an
    alarm at a coal or non-coal mine a mine event (矿山事故), any other 其他 (the officer
    changes it on the event when more is known)."""
    if point_kind in GAS_KINDS:
        return "chemical_leak"
    if supervision_category in ("coal_mine", "non_coal_mine"):
        return "mine"
    return "other"


def accident_title(unit_name: str, type_label: str, near_miss: bool) -> str:
    """The title of the event an accident quick report becomes, e.g. ``应县金鼎煤业透水事故``
    (a near miss: ``…较大涉险事故``)."""
    return f"{unit_name.strip()}{type_label}{'较大涉险事故' if near_miss else '事故'}"


def casualties(deaths: int, missing: int, serious: int, minor: int) -> str:
    """The casualties as a duty log says them (``死亡 1 人、失踪 2 人``), or 暂无人员伤亡."""
    said = [
        f"{label} {n} 人"
        for label, n in (("死亡", deaths), ("失踪", missing), ("重伤", serious), ("轻伤", minor))
        if n
    ]
    return "、".join(said) or "暂无人员伤亡"
