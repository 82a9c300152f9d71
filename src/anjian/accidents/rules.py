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
from enum import IntEnum, StrEnum

from anjian.core.clock import CST
from anjian.core.divisions.rules import AGENCY_TIER_LABELS, Tier, tier_of

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


# --- what is reported: an accident or a 较大涉险事故 --------------------------------------------

ACCIDENT = "accident"
NEAR_MISS = "near_miss"
KINDS = {ACCIDENT: "事故", NEAR_MISS: "较大涉险事故"}
# SAWS Order No. 21 (生产安全事故信息报告和处置办法) Art. 26, REFERENCE §2.2: what makes an event
# a 较大涉险事故. Reported and passed up like a 较大 accident (to the province), counted apart
# from accidents: it does not enter the accident counts or grades.
NEAR_MISS_CRITERIA = {
    "endangered_10": "涉险 10 人以上",
    "trapped_3": "造成 3 人以上被困或者下落不明",
    "evacuated_500": "紧急疏散人员 500 人以上",
    "pollution": "对环境（人员密集场所、生活水源、农田、河流、水库、湖泊等）造成严重污染",
    "key_site": "危及重要场所和设施安全（电站、重要水利设施、危化品库、油气站和车站、码头、港口、机场及其他人员密集场所等）",
    "other": "其他较大涉险事故",
}


# --- the reporting chain (报告时限, Arts. 9–11) ---------------------------------------------------

UNIT_REPORT = timedelta(hours=1)  # the unit's head to the county-level agency
HOP_REPORT = timedelta(hours=2)  # each agency to the next one up


def top_tier(grade: Grade, kind: str = ACCIDENT) -> Tier:
    """How far up a report of this grade must go: 特别重大/重大 to the national level (the
    State Council's department), 较大 to the province, 一般 to the city (设区的市). A 较大涉险事故
    (``kind`` near_miss) goes at least as far as a 较大 accident (SAWS Order No. 21)."""
    if grade <= Grade.SERIOUS:
        return Tier.NATIONAL
    if grade == Grade.RELATIVELY_SERIOUS or kind == NEAR_MISS:
        return Tier.PROVINCE
    return Tier.CITY


TIERS_UP = (Tier.COUNTY, Tier.CITY, Tier.PROVINCE, Tier.NATIONAL)
# An agency of each tier, as the chain and the investigation name it (国家级, not the division's 国家).
TIER_LABELS = AGENCY_TIER_LABELS


def _rank(tier: str) -> int:
    return TIERS_UP.index(tier)


def chain(grade: Grade, from_tier: str = Tier.COUNTY, kind: str = ACCIDENT) -> list[str]:
    """The tiers a report passes from ``from_tier`` up to the one the grade (and kind) requires,
    each reporting to the next, where every level exists: e.g. 较大 from a county → [county,
    city, province]. :func:`reporting_chain` is the chain of a real place."""
    start = _rank(from_tier)
    end = _rank(top_tier(grade, kind))
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


def reporting_chain(agencies: list[str], grade: Grade, kind: str = ACCIDENT) -> list[ChainStep]:
    """The agencies a report of this grade (and kind) passes, from the place's own level to the
    one it requires, over the agencies that exist there (see
    :func:`anjian.core.divisions.rules.agencies_over`): where a level is missing (a county
    administered by its province) or is the level above itself (a municipality's districts),
    the report goes to the next agency up, once."""
    codes = _up_to(agencies, top_tier(grade, kind))
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
    """The statutory clock (法定时限) of step ``hop`` of the chain: the unit's report (hop 0)
    within an hour of the head learning of the accident, each agency's (hop ≥ 1) two hours
    after the one below was due — counted from when the accident became known, i.e. 1 h + 2 h
    per hop: when the report should have reached each level had every level kept its time."""
    return known_at + UNIT_REPORT + HOP_REPORT * hop


def step_deadlines(known_at: datetime, step: ChainStep) -> tuple[datetime, datetime | None]:
    """When the report is due to reach the agency of ``step`` and when that agency must pass it
    up (None at the top of the chain)."""
    receive = deadline(known_at, step.hop)
    return receive, None if step.top else deadline(known_at, step.hop + 1)


def is_late(due: datetime, reported_at: datetime | None, now: datetime) -> bool:
    """Whether a step is late (迟报): reported after its deadline, or not yet and past it."""
    return (reported_at or now) > due


def hold_due(received_at: datetime | None, top: bool) -> datetime | None:
    """The agency's own clock (本级时限, Art. 11 "每级上报的时间不得超过 2 小时"): two hours
    from when the report reached this level, whatever time it arrived — a unit or lower level
    that was late does not make this one late. None before it has received the report (no
    clock yet) and at the top of the chain (nothing to pass on)."""
    if received_at is None or top:
        return None
    return received_at + HOP_REPORT


def agency_late(
    received_at: datetime | None, reported_at: datetime | None, top: bool, now: datetime
) -> bool:
    """迟报 of an agency: its own two hours (:func:`hold_due`) passed before it passed the
    report up (or it has not yet, past them)."""
    due = hold_due(received_at, top)
    return due is not None and is_late(due, reported_at, now)


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


class InvestigationState(StrEnum):
    """Where an investigation stands: 在查 (not closed yet) or 已结案."""

    OPEN = "open"
    CLOSED = "closed"


def investigation_due(occurred_at: datetime, extension_days: int = 0) -> datetime:
    """When the investigation report is due: 60 days from the accident, plus one approved
    extension of at most 60 days (technical appraisal time is not counted: add it to the
    extension's approval)."""
    if not 0 <= extension_days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"extension must be 0–{MAX_EXTENSION_DAYS} days")
    return occurred_at + timedelta(days=INVESTIGATION_DAYS + extension_days)


def investigating_tier(grade: Grade) -> Tier:
    """Which government leads the investigation: 特别重大 the State Council (national), 重大 the
    province, 较大 the city, 一般 the county."""
    return {
        Grade.ESPECIALLY_SERIOUS: Tier.NATIONAL,
        Grade.SERIOUS: Tier.PROVINCE,
        Grade.RELATIVELY_SERIOUS: Tier.CITY,
        Grade.ORDINARY: Tier.COUNTY,
    }[grade]


def may_lead(agency_tier: str, lead_tier: str) -> bool:
    """Whether an agency of ``agency_tier`` may open the investigation whose lead, by the grade
    and the place, is of ``lead_tier`` (see :func:`lead_agency`): that agency or one above it,
    taking it over (Art. 20, 提级调查)."""
    return _rank(agency_tier) >= _rank(lead_tier)


def entrust_refusal(
    grade: Grade,
    deaths: int,
    missing: int,
    serious_injuries: int,
    minor_injuries: int,
    *,
    by_required_lead: bool,
) -> str | None:
    """Why the investigation may not be entrusted to the unit itself (委托事故发生单位调查), or
    None when it may: Art. 19 lets the county-level government entrust "未造成人员伤亡的一般事故"
    — an 一般 accident without casualties (no deaths, missing, serious or minor injuries) — and
    only that government (``by_required_lead``: the agency the grade requires, not one above
    taking the case over)."""
    if grade != Grade.ORDINARY:
        return f"仅一般事故可委托事故发生单位调查（本事故为{grade.label}事故）"
    if deaths or missing or serious_injuries or minor_injuries:
        return "造成人员伤亡的事故不能委托事故发生单位调查"
    if not by_required_lead:
        return "委托事故发生单位调查由县级人民政府决定"
    return None


# --- the reply to the investigation report (批复, Art. 32) --------------------------------------

REPLY_DAYS = 15  # 重大, 较大, 一般
REPLY_DAYS_ESPECIALLY_SERIOUS = 30
MAX_REPLY_EXTENSION_DAYS = 30  # 特别重大 only


def reply_extension_refusal(grade: Grade, days: int, already: int) -> str | None:
    """Why the reply's deadline may not be extended by ``days``, or None: only for a 特别重大
    accident, once, by at most 30 days (Art. 32 "特殊情况下，批复时间可以适当延长，但延长的时间
    最长不超过 30 日")."""
    if grade != Grade.ESPECIALLY_SERIOUS:
        return "仅特别重大事故的批复时间可以延长"
    if already:
        return "批复时间已延长过一次"
    if not 1 <= days <= MAX_REPLY_EXTENSION_DAYS:
        return f"批复延长时间为 1–{MAX_REPLY_EXTENSION_DAYS} 日"
    return None


def reply_last_day(submitted_at: datetime, grade: Grade, extension_days: int = 0) -> date:
    """The last day of the reply (批复) to the investigation report: 15 days from the day the
    government received it (重大, 较大, 一般), 30 days for 特别重大 plus its extension (at most
    30), counted in calendar days from the day after (民法典 Art. 201), Beijing time; the reply
    is on time on that day."""
    days = REPLY_DAYS_ESPECIALLY_SERIOUS if grade == Grade.ESPECIALLY_SERIOUS else REPLY_DAYS
    return submitted_at.astimezone(CST).date() + timedelta(days=days + extension_days)


def reply_overdue(last_day: date | None, replied_on: date | None, today: date) -> bool:
    """逾期 of the reply: given after its last day, or not yet and past it (no report
    submitted: no clock)."""
    return last_day is not None and (replied_on or today) > last_day


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
