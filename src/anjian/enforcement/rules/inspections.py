"""Pure rules of an on-site inspection (现场检查): where it comes from, how it moves, who may
make up its team.

An inspection is planned, started on site and finished with a summary; a finding is recorded
while it is under way. The team is at least two enforcement officers (Administrative Penalty
Law Art. 42), each with a certificate, none twice and none with a declared conflict of interest
with the enterprise (回避)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from anjian.core.errors import Conflict, Invalid
from anjian.enforcement.rules.draw import MIN_INSPECTORS


class InspectionSource(StrEnum):
    """Why an enterprise is inspected."""

    PLAN = "plan"  # 计划检查
    DRAW = "draw"  # 双随机抽查
    COMPLAINT = "complaint"  # 举报投诉
    ACCIDENT = "accident"  # 事故
    ALARM = "alarm"  # 监测报警
    OTHER = "other"  # 其他


SOURCE_LABELS: dict[str, str] = {
    InspectionSource.PLAN: "计划检查",
    InspectionSource.DRAW: "双随机抽查",
    InspectionSource.COMPLAINT: "举报投诉",
    InspectionSource.ACCIDENT: "事故调查",
    InspectionSource.ALARM: "监测报警",
    InspectionSource.OTHER: "其他",
}


class InspectionState(StrEnum):
    """Where an inspection stands."""

    PLANNED = "planned"  # 待检查
    ON_SITE = "on_site"  # 检查中
    FINISHED = "finished"  # 已完成


STATE_LABELS: dict[str, str] = {
    InspectionState.PLANNED: "待检查",
    InspectionState.ON_SITE: "检查中",
    InspectionState.FINISHED: "已完成",
}

_NEXT: dict[InspectionState, InspectionState] = {
    InspectionState.PLANNED: InspectionState.ON_SITE,
    InspectionState.ON_SITE: InspectionState.FINISHED,
}


def next_state(state: str, to: InspectionState) -> InspectionState:
    """The state after a step, or a Conflict naming where the inspection stands."""
    if _NEXT.get(InspectionState(state)) is not to:
        raise Conflict(
            f"检查{STATE_LABELS[state]}，不能转为{STATE_LABELS[to]} / cannot go from {state} to {to}",
            field="state",
        )
    return to


def can_record_findings(state: str) -> bool:
    """Findings are recorded on site, while the inspection is under way."""
    return state == InspectionState.ON_SITE


def check_team(
    member_ids: Iterable[int],
    known: Mapping[int, str],
    conflicted: Iterable[int] = (),
) -> list[int]:
    """The team's officer ids in the order given, if it is a lawful team: at least two, each a
    registered, active officer (``known``: id → certificate number), none twice, none with a
    declared conflict with the enterprise; else an Invalid naming ``team``."""
    team = list(member_ids)
    if len(set(team)) != len(team):
        raise Invalid("检查组成员重复 / an officer is listed twice", field="team")
    if len(team) < MIN_INSPECTORS:
        raise Invalid(
            f"现场检查至少须 {MIN_INSPECTORS} 名执法人员 / at least {MIN_INSPECTORS} officers",
            field="team",
        )
    unknown = [i for i in team if not known.get(i)]
    if unknown:
        raise Invalid(
            f"不是在岗持证的执法人员: {unknown} / not active certified officers", field="team"
        )
    barred = sorted(set(team) & set(conflicted))
    if barred:
        raise Invalid(
            f"执法人员 {barred} 已申报与该企业的利害关系，应当回避 / declared a conflict",
            field="team",
        )
    return team


# How often a plan inspects an enterprise in a year by its risk class, unless the plan says
# otherwise (this platform's defaults: a 重大 risk or major-hazard enterprise each quarter).
PLAN_FREQUENCY: dict[str, int] = {"major": 4, "significant": 2, "general": 1, "low": 1}
UNGRADED_FREQUENCY = 1


def monthly_targets(times_per_year: int) -> list[int]:
    """How many inspections should be done by the end of each month (cumulative, 12 values),
    spread evenly over the year: 4 a year → 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4."""
    if times_per_year < 0:
        raise Invalid("检查频次不能为负 / frequency cannot be negative", field="frequency")
    return [times_per_year * month // 12 for month in range(1, 13)]


def plan_progress(required: int, done: int) -> float | None:
    """Share of the required inspections done, in percent (None when none are required)."""
    return round(100.0 * min(done, required) / required, 1) if required else None


# Who signs a finding on site (现场签字确认): the inspected unit's person, or an officer.
SIGNER_ROLES = {"enterprise": "被检查单位", "inspector": "执法人员"}
