"""Rules of emergency plans (应急预案) and drills (演练): the kinds of plan, the filing (备案)
steps of an enterprise plan, when a plan is due for revision, the forms and steps of a drill.

Sources (《生产安全事故应急预案管理办法》, 应急管理部令第2号 2019 修正; AQ/T 9007-2019
《生产安全事故应急演练基本规范》) are not yet in REFERENCE.md: the three-year revision period and
the yearly drill are settings (``plan_revision_years``, ``drill_interval_months``), not constants
here. Pure functions, no I/O."""

from __future__ import annotations

import calendar
from datetime import date

CATEGORIES = {
    "overall": "综合（总体）应急预案",
    "special": "专项应急预案",
    "department": "部门应急预案",
    "onsite": "现场处置方案",
}
# 备案: an enterprise plan is drafted, submitted to the agency, then filed or returned; an
# agency's own plan is issued by it and needs no filing.
FILING_STATES = {
    "not_required": "无需备案",
    "draft": "待报备",
    "submitted": "待审查",
    "filed": "已备案",
    "returned": "已退回",
}
FILING_NEXT = {
    "draft": ("submitted",),
    "returned": ("submitted",),
    "submitted": ("filed", "returned"),
    "filed": (),
    "not_required": (),
}
# Which plans may still be edited in place (a filed plan changes by revision, 修订).
EDITABLE = frozenset({"not_required", "draft", "returned"})
REVISION_LABELS = {"overdue": "修订逾期", "due_soon": "即将到期", "ok": "有效期内"}

DRILL_FORMS = {"tabletop": "桌面演练", "live": "实战演练"}
DRILL_SCALES = {"single": "单项演练", "comprehensive": "综合演练"}
DRILL_STATES = {"planned": "计划中", "held": "已实施", "evaluated": "已评估", "cancelled": "已取消"}
DRILL_NEXT = {
    "planned": ("held", "cancelled"),
    "held": ("evaluated",),
    "evaluated": (),
    "cancelled": (),
}
RATINGS = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}


def filing_step_allowed(current: str, target: str) -> bool:
    """Whether a plan's filing may go from ``current`` to ``target``."""
    return target in FILING_NEXT.get(current, ())


def drill_step_allowed(current: str, target: str) -> bool:
    """Whether a drill may go from ``current`` to ``target``."""
    return target in DRILL_NEXT.get(current, ())


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def revision_due(issued_on: date, revised_on: date | None, years: int) -> date:
    """The day a plan is due for its next revision (评估修订): ``years`` after it was issued or
    last revised."""
    return add_years(revised_on or issued_on, years)


def revision_status(due: date, today: date, warn_days: int) -> str:
    """``overdue`` after the due day, ``due_soon`` within ``warn_days`` of it, else ``ok``."""
    if today > due:
        return "overdue"
    if (due - today).days <= warn_days:
        return "due_soon"
    return "ok"


def drill_overdue(last_held: date | None, since: date, today: date, interval_months: int) -> bool:
    """Whether a plan has gone longer than ``interval_months`` without a drill: counted from its
    last drill held, or from ``since`` (the day it was issued) when it has never been drilled."""
    return add_months(last_held or since, interval_months) < today
