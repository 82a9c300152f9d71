"""Pure rules of accident reporting and investigation (事故报送、调查处理), from State Council
Order No. 493 (生产安全事故报告和调查处理条例, REFERENCE §2): the grade from the numbers, how far
up a report must go and by when, the follow-up window, the investigation's deadline. No I/O.

Grades (Art. 3; "以上" includes the number, "以下" excludes it): the highest grade reached by
any one of deaths, serious injuries (incl. acute industrial poisoning) and direct economic loss.

Missing persons (下落不明) are recorded apart. For the provisional grade of a report they count
as deaths (``missing_as_deaths``, the default): a report must go as far up as the worst outcome
still possible requires, and statistics count a person missing for 30 days as dead. The grade
without them is given alongside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import IntEnum

from anjian.core.clock import CST
from anjian.core.divisions.rules import tier_of

# Thresholds of Art. 3, worst grade first: 特别重大, 重大, 较大 (below the last: 一般).
DEATHS = (30, 10, 3)
SERIOUS_INJURIES = (100, 50, 10)
DIRECT_LOSS_CNY = (Decimal(100_000_000), Decimal(50_000_000), Decimal(10_000_000))


class Grade(IntEnum):
    """Accident grade, 1 the worst."""

    ESPECIALLY_SERIOUS = 1  # 特别重大
    SERIOUS = 2  # 重大
    RELATIVELY_SERIOUS = 3  # 较大
    ORDINARY = 4  # 一般

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]


GRADE_LABELS = {
    Grade.ESPECIALLY_SERIOUS: "特别重大",
    Grade.SERIOUS: "重大",
    Grade.RELATIVELY_SERIOUS: "较大",
    Grade.ORDINARY: "一般",
}
CRITERION_LABELS = {
    "deaths": "死亡人数",
    "serious_injuries": "重伤人数（含急性工业中毒）",
    "direct_loss_cny": "直接经济损失",
}


def _grade_of(value: Decimal | int, thresholds: tuple[Decimal | int, ...]) -> Grade:
    for grade, threshold in zip(
        (Grade.ESPECIALLY_SERIOUS, Grade.SERIOUS, Grade.RELATIVELY_SERIOUS),
        thresholds,
        strict=True,
    ):
        if value >= threshold:
            return grade
    return Grade.ORDINARY


@dataclass(frozen=True)
class Classification:
    """An accident's grade, the measure that decided it, and the grade without the missing."""

    grade: Grade
    criterion: str  # deaths | serious_injuries | direct_loss_cny (the first that reaches it)
    grade_without_missing: Grade
    provisional: bool  # missing persons raised the grade: it may fall when they are found


def classify(
    deaths: int,
    missing: int,
    serious_injuries: int,
    direct_loss_cny: Decimal | int,
    *,
    missing_as_deaths: bool = True,
) -> Classification:
    """The grade by Art. 3: the worst reached by deaths (plus the missing, if they count),
    serious injuries or direct loss (CNY)."""
    counted_deaths = deaths + (missing if missing_as_deaths else 0)
    measures = (
        ("deaths", _grade_of(counted_deaths, DEATHS)),
        ("serious_injuries", _grade_of(serious_injuries, SERIOUS_INJURIES)),
        ("direct_loss_cny", _grade_of(Decimal(direct_loss_cny), DIRECT_LOSS_CNY)),
    )
    criterion, grade = min(measures, key=lambda m: m[1])  # the worst grade; first on a tie
    without = min(
        _grade_of(deaths, DEATHS),
        measures[1][1],
        measures[2][1],
    )
    return Classification(
        grade=grade,
        criterion=criterion,
        grade_without_missing=without,
        provisional=grade < without,
    )


# --- the reporting chain (报告时限, Arts. 9–11) ---------------------------------------------------

UNIT_REPORT = timedelta(hours=1)  # the unit's head to the county-level agency
HOP_REPORT = timedelta(hours=2)  # each agency to the next one up


def top_tier(grade: Grade) -> str:
    """How far up a report of this grade must go: 特别重大/重大 to the national level (the
    State Council's department), 较大 to the province, 一般 to the city (设区的市)."""
    if grade <= Grade.SERIOUS:
        return "national"
    if grade == Grade.RELATIVELY_SERIOUS:
        return "province"
    return "city"


TIERS_UP = ("county", "city", "province", "national")


def _rank(tier: str) -> int:
    return TIERS_UP.index(tier)


def chain(grade: Grade, from_tier: str = "county") -> list[str]:
    """The tiers a report passes from ``from_tier`` up to the one the grade requires, each
    reporting to the next, where every level exists: e.g. 较大 from a county → [county, city,
    province]. :func:`reporting_chain` is the chain of a real place."""
    start = _rank(from_tier)
    end = _rank(top_tier(grade))
    return list(TIERS_UP[start : max(start, end) + 1])


@dataclass(frozen=True)
class ChainStep:
    """One agency of a report's chain: its division and tier, its place in the chain (hop 0
    receives the unit's report) and whether it is the top (passes nothing up)."""

    hop: int
    tier: str
    division: str
    top: bool


def _up_to(agencies: list[str], tier: str) -> list[str]:
    """``agencies`` (a place's, its own level first) up to the first at or above ``tier``."""
    out: list[str] = []
    for code in agencies:
        out.append(code)
        if _rank(tier_of(code).value) >= _rank(tier):
            break
    return out


def reporting_chain(agencies: list[str], grade: Grade) -> list[ChainStep]:
    """The agencies a report of this grade passes, from the place's own level to the one the
    grade requires, over the agencies that exist there (see
    :func:`anjian.core.divisions.rules.agencies_over`): where a level is missing (a county
    administered by its province) or is the level above itself (a municipality's districts),
    the report goes to the next agency up, once."""
    codes = _up_to(agencies, top_tier(grade))
    return [
        ChainStep(hop=i, tier=tier_of(code).value, division=code, top=i == len(codes) - 1)
        for i, code in enumerate(codes)
    ]


def lead_agency(agencies: list[str], grade: Grade) -> tuple[str, str]:
    """The agency that leads the investigation (its division and tier): the first over the
    place at or above the tier the grade requires (:func:`investigating_tier`)."""
    code = _up_to(agencies, investigating_tier(grade))[-1]
    return code, tier_of(code).value


def deadline(known_at: datetime, hop: int) -> datetime:
    """When step ``hop`` of the chain is due: the unit's report (hop 0) within an hour of the
    head learning of the accident, each agency's (hop ≥ 1) within two hours of receiving it —
    counted here from when the accident became known, i.e. 1 h + 2 h per hop."""
    return known_at + UNIT_REPORT + HOP_REPORT * hop


def step_deadlines(known_at: datetime, step: ChainStep) -> tuple[datetime, datetime | None]:
    """When the report is due to reach the agency of ``step`` and when that agency must pass it
    up (None at the top of the chain)."""
    receive = deadline(known_at, step.hop)
    return receive, None if step.top else deadline(known_at, step.hop + 1)


def is_late(due: datetime, reported_at: datetime | None, now: datetime) -> bool:
    """Whether a step is late (迟报): reported after its deadline, or not yet and past it."""
    return (reported_at or now) > due


# --- follow-up reports (续报/补报, Art. 13) --------------------------------------------------------

FOLLOW_UP_DAYS = 30
FOLLOW_UP_DAYS_ROAD_FIRE = 7  # road traffic and fire accidents
ROAD_FIRE_TYPES = frozenset({"road_traffic", "fire"})


def follow_up_last_day(occurred_at: datetime, accident_type: str) -> date:
    """The last day on which changed casualty numbers are reported (补报, Art. 13): 30 days
    (road traffic and fire: 7) after the day of the accident, counted in calendar days from
    the day after it (民法典 Art. 201), Beijing time."""
    days = FOLLOW_UP_DAYS_ROAD_FIRE if accident_type in ROAD_FIRE_TYPES else FOLLOW_UP_DAYS
    return occurred_at.astimezone(CST).date() + timedelta(days=days)


def follow_up_until(occurred_at: datetime, accident_type: str) -> datetime:
    """The end of the 补报 window: 24:00 Beijing time of :func:`follow_up_last_day`. After it
    casualty numbers no longer change; the direct economic loss, often known only later, may
    still be updated (and re-grades)."""
    last = follow_up_last_day(occurred_at, accident_type)
    return datetime.combine(last + timedelta(days=1), time(), tzinfo=CST)


# --- investigation (调查, Art. 29) -----------------------------------------------------------------

INVESTIGATION_DAYS = 60
MAX_EXTENSION_DAYS = 60


def investigation_due(occurred_at: datetime, extension_days: int = 0) -> datetime:
    """When the investigation report is due: 60 days from the accident, plus one approved
    extension of at most 60 days (technical appraisal time is not counted: add it to the
    extension's approval)."""
    if not 0 <= extension_days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"extension must be 0–{MAX_EXTENSION_DAYS} days")
    return occurred_at + timedelta(days=INVESTIGATION_DAYS + extension_days)


def investigating_tier(grade: Grade) -> str:
    """Which government leads the investigation: 特别重大 the State Council (national), 重大 the
    province, 较大 the city, 一般 the county."""
    return {
        Grade.ESPECIALLY_SERIOUS: "national",
        Grade.SERIOUS: "province",
        Grade.RELATIVELY_SERIOUS: "city",
        Grade.ORDINARY: "county",
    }[grade]


def may_supervise(supervisor_tier: str, lead_tier: str) -> bool:
    """Whether an agency of ``supervisor_tier`` may put an investigation led at ``lead_tier``
    under supervision (挂牌督办): only an agency above the one that leads it."""
    return TIERS_UP.index(supervisor_tier) > TIERS_UP.index(lead_tier)


# --- accident types (事故类别) --------------------------------------------------------------------
# GB 6441-1986 企业职工伤亡事故分类 (the twenty categories; not in ../shared/domain, taken from the
# standard's commonly published list), plus road traffic accidents (道路交通事故), which Order
# No. 493 treats apart for follow-up reports.
ACCIDENT_TYPES: dict[str, str] = {
    "object_strike": "物体打击",
    "vehicle": "车辆伤害",
    "machinery": "机械伤害",
    "lifting": "起重伤害",
    "electric_shock": "触电",
    "drowning": "淹溺",
    "burn": "灼烫",
    "fire": "火灾",
    "fall_from_height": "高处坠落",
    "collapse": "坍塌",
    "roof_fall": "冒顶片帮",
    "water_inrush": "透水",
    "blasting": "放炮",
    "explosive_blast": "火药爆炸",
    "gas_explosion": "瓦斯爆炸",
    "boiler_explosion": "锅炉爆炸",
    "vessel_explosion": "容器爆炸",
    "other_explosion": "其它爆炸",
    "poisoning_asphyxia": "中毒和窒息",
    "other_injury": "其它伤害",
    "road_traffic": "道路交通事故",
}


def handles_accident(agency: str | None, chain: list[str], lead: str) -> bool:
    """Whether the agency of division ``agency`` handles an accident: it is on the report's
    reporting chain (报送环节) or leads its investigation (组织调查). Those officials must reach
    the unit and the reporter at once (Order No. 493 Art. 9, 14: the agencies that receive the
    report go to the scene and organise the rescue), so they see the contacts in full. ``None``
    (an enterprise user, an inspection bureau, a rescue team) handles none."""
    return agency is not None and (agency in chain or agency == lead)
