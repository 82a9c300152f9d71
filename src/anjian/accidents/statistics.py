"""Accident statistics (事故统计 "一张表"): counts, deaths, missing, injuries and direct loss by
jurisdiction, industry, type, grade or month over a period, beside the same period last year
(同比) and the change; the per-division table drills down province → city → county; each table
exports to Excel.

The period is a run of Beijing calendar days (Asia/Shanghai), by default 1 January of this year
to today; an accident counts in the day it happened (``occurred_at``, stored in UTC). The same
period last year is each end a year earlier, 29 February becoming 28 February. The pure helpers
come first (no I/O), then the queries: every figure is summed in SQL over the scoped accidents
(the same scope as the accident list), never by loading the accidents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.orm import Session

from anjian.accidents.models import Accident
from anjian.accidents.rules import ACCIDENT, ACCIDENT_TYPES, NEAR_MISS, Grade
from anjian.core.clock import CST, today_in_china
from anjian.core.divisions import service as divisions
from anjian.core.divisions.rules import NATIONAL, Tier, prefix_of, tier_of
from anjian.core.divisions.service import division_names
from anjian.core.errors import Invalid
from anjian.core.scope import Scope, breakdown, division_filter
from anjian.core.xlsx import write_sheet
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import industry_label

CENT = Decimal("0.01")

# What a table can be broken down by, and the heading of its first column.
BY_LABELS: dict[str, str] = {
    "division": "地区",
    "industry": "行业",
    "type": "类别",
    "grade": "等级",
    "month": "月份",
}
NO_INDUSTRY = "未填写"
NATIONAL_LABEL = "全国"
# Sanity bounds of a period: a typo such as 0202-01-01 is refused rather than answered with a
# table of 1,800 years of months (the month table has one row per month of the period).
MIN_YEAR = 1950
MAX_YEAR = 9998  # the day after the end must still be a date
MAX_PERIOD_DAYS = 10 * 366


# --- the period and 同比 (pure) ------------------------------------------------------------------


def year_before(day: date) -> date:
    """The same day a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 Feb in a leap year: the year before has no such day
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    """A statistics period (Beijing calendar days, both ends included) and the same period a
    year earlier."""

    start: date
    end: date

    @property
    def last_start(self) -> date:
        return year_before(self.start)

    @property
    def last_end(self) -> date:
        return year_before(self.end)

    @property
    def last_year(self) -> Period:
        return Period(self.last_start, self.last_end)


def resolve_period(start: date | None, end: date | None, today: date) -> Period:
    """The period asked for: by default 1 January of ``today``'s year to ``today``; only an end
    given starts on 1 January of its year; only a start given ends today. 422 naming ``start``
    when it is after the end (or before 1950), ``end`` when the period is longer than ten
    years."""
    if end is None:
        end = today
    if start is None:
        start = date(end.year, 1, 1)
    if start > end:
        raise Invalid(
            f"统计起始日期 {start} 晚于截止日期 {end} (start is after end)", field="start"
        )
    if start.year < MIN_YEAR:
        raise Invalid(
            f"统计起始日期应不早于 {MIN_YEAR} 年: {start} (start before {MIN_YEAR})",
            field="start",
        )
    if end.year > MAX_YEAR:
        raise Invalid(f"统计截止日期超出范围: {end} (end out of range)", field="end")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise Invalid("统计期间不能超过 10 年 (the period may span at most ten years)", field="end")
    return Period(start, end)


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants [from, to) of Beijing days ``start`` … ``end`` (both included)."""
    lo = datetime.combine(start, time(), CST).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), CST).astimezone(UTC)
    return lo, hi


def months_of(start: date, end: date) -> list[date]:
    """The first day of every month the period touches, in order."""
    out: list[date] = []
    month = start.replace(day=1)
    while month <= end:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def change(current: int, last: int) -> tuple[int, float | None]:
    """The change against last year: the difference and the percentage of last year's figure
    (one decimal, half up); no percentage when last year had none (it is not defined)."""
    diff = current - last
    if last == 0:
        return diff, None
    pct = (Decimal(diff) * 100 / Decimal(last)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return diff, float(pct)


# --- the table -------------------------------------------------------------------------------


class Figures(BaseModel):
    """What is counted over a period: accidents (起数), deaths, missing, seriously and slightly
    injured, direct economic loss (CNY) — of accidents only — and, apart, the 较大涉险事故
    reported (SAWS Order No. 21 Art. 26), which are no accidents of any grade."""

    count: int = 0
    deaths: int = 0
    missing: int = 0
    serious_injuries: int = 0
    minor_injuries: int = 0
    direct_loss_cny: Decimal = Field(default=Decimal("0.00"), description="直接经济损失（元）")
    near_misses: int = Field(default=0, description="较大涉险事故起数 (not in count)")

    def plus(self, other: Figures) -> Figures:
        return Figures(
            near_misses=self.near_misses + other.near_misses,
            count=self.count + other.count,
            deaths=self.deaths + other.deaths,
            missing=self.missing + other.missing,
            serious_injuries=self.serious_injuries + other.serious_injuries,
            minor_injuries=self.minor_injuries + other.minor_injuries,
            direct_loss_cny=self.direct_loss_cny + other.direct_loss_cny,
        )


class StatisticsRow(Figures):
    """One row: this period's figures, last year's same period, and the change of the count
    and of the deaths (同比增减 and 同比%, null when last year had none)."""

    key: str = Field(description="division code, industry code, type, grade 1–4 or YYYY-MM")
    label: str
    drill: str | None = Field(
        default=None, description="division to drill into (division rows that have divisions below)"
    )
    last_year: Figures = Field(description="去年同期")
    count_change: int
    count_change_pct: float | None
    deaths_change: int
    deaths_change_pct: float | None

    @classmethod
    def of(
        cls, key: str, label: str, current: Figures, last: Figures, drill: str | None = None
    ) -> StatisticsRow:
        count_diff, count_pct = change(current.count, last.count)
        deaths_diff, deaths_pct = change(current.deaths, last.deaths)
        return cls(
            **current.model_dump(),
            key=key,
            label=label,
            drill=drill,
            last_year=last,
            count_change=count_diff,
            count_change_pct=count_pct,
            deaths_change=deaths_diff,
            deaths_change_pct=deaths_pct,
        )


class DivisionCrumb(BaseModel):
    """A division on the way from the user's own jurisdiction down to the table's."""

    code: str
    name: str


class StatisticsTable(BaseModel):
    """One statistics table: the rows, the total, the period and last year's."""

    by: str
    by_label: str
    division_code: str = Field(description="the jurisdiction the table covers")
    division_name: str
    path: list[DivisionCrumb] = Field(
        description="from your own jurisdiction (first; ask for it without `division`) down to "
        "this one (last)"
    )
    start: date
    end: date
    last_start: date
    last_end: date
    rows: list[StatisticsRow]
    total: StatisticsRow


# --- the queries -----------------------------------------------------------------------------

_SUMMED = (
    Accident.deaths,
    Accident.missing,
    Accident.serious_injuries,
    Accident.minor_injuries,
    Accident.direct_loss_cny,
)


def _money(value: Any) -> Decimal:
    # SQLite keeps NUMERIC as a float: the sum is brought back to whole fen.
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


def _figures(
    session: Session,
    scope: Scope,
    key: ColumnElement[Any],
    period: Period,
    root: str,
) -> dict[Any, Figures]:
    """The figures of the scoped accidents of ``period`` under ``root``, by ``key``. The key is
    computed in a subquery so that GROUP BY names a plain column (a grouped expression with
    bound values is not recognised as the selected one on PostgreSQL). 较大涉险事故 are counted
    in ``near_misses`` only: their numbers enter no accident figure."""
    lo, hi = utc_bounds(period.start, period.end)
    inner = scope.restrict(select(key.label("k"), Accident.kind, *_SUMMED), Accident).where(
        Accident.occurred_at >= lo, Accident.occurred_at < hi
    )
    if prefix_of(root):
        inner = inner.where(division_filter(Accident.division_code, root))
    sub = inner.subquery()
    accident = sub.c.kind == ACCIDENT
    stmt = select(
        sub.c.k,
        func.count().filter(accident),
        *(func.coalesce(func.sum(sub.c[col.key]).filter(accident), 0) for col in _SUMMED),
        func.count().filter(sub.c.kind == NEAR_MISS),
    ).group_by(sub.c.k)
    out: dict[Any, Figures] = {}
    for k, n, deaths, missing, serious, minor, loss, near in session.execute(stmt):
        out[k] = Figures(
            near_misses=int(near),
            count=int(n),
            deaths=int(deaths),
            missing=int(missing),
            serious_injuries=int(serious),
            minor_injuries=int(minor),
            direct_loss_cny=_money(loss),
        )
    return out


def _month_index(bounds: Sequence[datetime]) -> ColumnElement[int]:
    """The position of an accident's month in the period, given the UTC starts of the months
    after the first (a CASE on the indexed time column: the same SQL on SQLite and PostgreSQL,
    with the Beijing month boundaries computed here)."""
    if not bounds:
        return literal_column("0")
    return case(*((Accident.occurred_at < b, i) for i, b in enumerate(bounds)), else_=len(bounds))


def _month_bounds(period: Period) -> list[datetime]:
    return [utc_bounds(m, m)[0] for m in months_of(period.start, period.end)[1:]]


def _home(session: Session, scope: Scope) -> str:
    """The user's own jurisdiction: the division all of the scope lies in (an enterprise user's
    enterprise's county; an inspection area of two counties, their city)."""
    if scope.is_enterprise:
        ent = session.get(Enterprise, scope.enterprise_id)
        return ent.division_code if ent is not None else NATIONAL
    if not scope.prefixes:
        return NATIONAL
    common = scope.prefixes[0]
    for p in scope.prefixes[1:]:
        while not p.startswith(common):
            common = common[:-1]
    # cut back to a whole layer (province 2, city 4, county 6 digits)
    layer = max(n for n in (0, 2, 4, 6) if n <= len(common))
    return common[:layer].ljust(6, "0")


def _path(session: Session, home: str, root: str) -> list[DivisionCrumb]:
    """The divisions from ``home`` down to ``root`` (a prefecture layer that does not exist, as
    above a province-administered county, is skipped)."""
    start = len(prefix_of(home))
    codes = [home]
    for n in (2, 4):
        if start < n < len(prefix_of(root)):
            codes.append(root[:n].ljust(6, "0"))
    if root != home:
        codes.append(root)
    names = division_names(session, codes)
    return [
        DivisionCrumb(code=c, name=_division_label(c, names))
        for c in codes
        if c in names or c in (home, root)
    ]


def _division_label(code: str, names: dict[str, str]) -> str:
    return NATIONAL_LABEL if code == NATIONAL else names.get(code, code)


def _division_rows(
    session: Session, scope: Scope, root: str, period: Period
) -> list[StatisticsRow]:
    """One row per division one tier below ``root`` (the root itself for a county), listed
    even without accidents. Grouped by the place's code in SQL, then folded into the child that
    holds it here, so a county administered directly by its province (429004) is its own row."""
    # an enterprise user's table is their own place
    shown = (lambda code: code == root) if scope.is_enterprise else scope.overlaps
    children = divisions.children_with_zeros(session, root, shown)
    folded: list[dict[str, Figures]] = []
    for p in (period, period.last_year):
        sums: dict[str, Figures] = {}
        for code, figs in _figures(session, scope, Accident.division_code, p, root).items():
            child = children.child_of(str(code))
            sums[child] = sums[child].plus(figs) if child in sums else figs
        folded.append(sums)
    current, last = folded
    return [
        StatisticsRow.of(
            code,
            name,
            current.get(code, Figures()),
            last.get(code, Figures()),
            drill=code
            if code != root and tier_of(code) is not Tier.COUNTY and scope.covers_code(code)
            else None,
        )
        for code, name in children.rows(session, [*current, *last])
    ]


def _keyed_rows(
    session: Session,
    scope: Scope,
    root: str,
    period: Period,
    column: ColumnElement[Any],
    order: Callable[[str], Any],
    label: Callable[[str], str],
    always: Iterable[str] = (),
) -> list[StatisticsRow]:
    current = {str(k): v for k, v in _figures(session, scope, column, period, root).items()}
    last = {str(k): v for k, v in _figures(session, scope, column, period.last_year, root).items()}
    keys = sorted(set(always) | set(current) | set(last), key=order)
    return [
        StatisticsRow.of(k, label(k), current.get(k, Figures()), last.get(k, Figures()))
        for k in keys
    ]


def _industry_label(code: str) -> str:
    return industry_label(code) if code else NO_INDUSTRY


_TYPE_ORDER = {code: i for i, code in enumerate(ACCIDENT_TYPES)}


def _month_rows(session: Session, scope: Scope, root: str, period: Period) -> list[StatisticsRow]:
    """Every month of the period (months without accidents too), beside the same month last
    year (both periods have as many months: shifting a year keeps every day in its month)."""
    months = months_of(period.start, period.end)
    current = _figures(session, scope, _month_index(_month_bounds(period)), period, root)
    last_period = period.last_year
    last = _figures(session, scope, _month_index(_month_bounds(last_period)), last_period, root)
    return [
        StatisticsRow.of(
            f"{m:%Y-%m}",
            f"{m.year}年{m.month}月",
            current.get(i, Figures()),
            last.get(i, Figures()),
        )
        for i, m in enumerate(months)
    ]


def statistics(
    session: Session,
    scope: Scope,
    *,
    by: str,
    division: str | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> StatisticsTable:
    """The accident statistics of the scope (under ``division`` if given: 404 outside it) over
    the period (default 1 January to today, Beijing time) beside the same period last year, by
    ``division`` (the divisions one tier below, each with what lies under it), ``industry``,
    ``type``, ``grade`` (all four) or ``month`` (every month of the period); 422 naming ``by``
    for anything else, ``start`` for a start after the end."""
    if by not in BY_LABELS:
        raise Invalid(f"统计维度应为 {' | '.join(BY_LABELS)}: {by} (unknown breakdown)", field="by")
    period = resolve_period(start, end, today or today_in_china())
    home = _home(session, scope)
    division = (division or "").strip() or None
    # Your own jurisdiction by its code too (the breadcrumb's first link): an inspection area of
    # two counties is not itself in scope, their city is only its common ancestor.
    if division and division != home:
        root, _width = breakdown(scope, division)  # 422 malformed, 404 outside the scope
    else:
        root = home
    if by == "division":
        rows = _division_rows(session, scope, root, period)
    elif by == "industry":
        rows = _keyed_rows(
            session,
            scope,
            root,
            period,
            Accident.industry_code,
            order=lambda k: (k == "", k),  # 未填写 last
            label=_industry_label,
        )
    elif by == "type":
        rows = _keyed_rows(
            session,
            scope,
            root,
            period,
            Accident.accident_type,
            order=lambda k: (_TYPE_ORDER.get(k, len(_TYPE_ORDER)), k),
            label=lambda k: ACCIDENT_TYPES.get(k, k),
        )
    elif by == "grade":
        rows = _keyed_rows(
            session,
            scope,
            root,
            period,
            Accident.grade,
            order=int,
            label=lambda k: Grade(int(k)).label,
            always=[str(int(g)) for g in Grade],
        )
    else:
        rows = _month_rows(session, scope, root, period)
    current, last = Figures(), Figures()
    for row in rows:
        current = current.plus(Figures(**{n: getattr(row, n) for n in Figures.model_fields}))
        last = last.plus(row.last_year)
    path = _path(session, home, root)
    return StatisticsTable(
        by=by,
        by_label=BY_LABELS[by],
        division_code=root,
        division_name=path[-1].name,
        path=path,
        start=period.start,
        end=period.end,
        last_start=period.last_start,
        last_end=period.last_end,
        rows=rows,
        total=StatisticsRow.of("total", "合计", current, last),
    )


# --- Excel -----------------------------------------------------------------------------------

_COLUMNS: tuple[tuple[str, int, Callable[[StatisticsRow], Any]], ...] = (
    ("起数", 8, lambda r: r.count),
    ("死亡", 8, lambda r: r.deaths),
    ("下落不明", 10, lambda r: r.missing),
    ("重伤", 8, lambda r: r.serious_injuries),
    ("轻伤", 8, lambda r: r.minor_injuries),
    ("直接经济损失(元)", 18, lambda r: r.direct_loss_cny),
    ("去年同期起数", 14, lambda r: r.last_year.count),
    ("起数同比增减", 14, lambda r: r.count_change),
    ("起数同比%", 12, lambda r: r.count_change_pct),
    ("去年同期死亡", 14, lambda r: r.last_year.deaths),
    ("死亡同比增减", 14, lambda r: r.deaths_change),
    ("死亡同比%", 12, lambda r: r.deaths_change_pct),
    ("去年同期下落不明", 16, lambda r: r.last_year.missing),
    ("去年同期重伤", 14, lambda r: r.last_year.serious_injuries),
    ("去年同期轻伤", 14, lambda r: r.last_year.minor_injuries),
    ("去年同期直接经济损失(元)", 24, lambda r: r.last_year.direct_loss_cny),
    ("较大涉险事故起数", 16, lambda r: r.near_misses),  # apart: not in 起数
)


def title_of(table: StatisticsTable) -> str:
    """The table's title: what, where, which period and which period it is compared with."""
    return (
        f"{table.division_name}生产安全事故统计（按{table.by_label}）"
        f" 统计期间 {table.start:%Y-%m-%d} 至 {table.end:%Y-%m-%d}，"
        f"去年同期 {table.last_start:%Y-%m-%d} 至 {table.last_end:%Y-%m-%d}"
    )


def statistics_xlsx(table: StatisticsTable) -> bytes:
    """The table as one .xlsx sheet: a title line naming the division and the period, the
    Chinese headers, a row per line of the table and the total (合计) last."""
    columns = [(table.by_label, 16), *((name, width) for name, width, _ in _COLUMNS)]
    rows = [[r.label, *(get(r) for _, _, get in _COLUMNS)] for r in [*table.rows, table.total]]
    return write_sheet("事故统计", columns, rows, caption=title_of(table))
