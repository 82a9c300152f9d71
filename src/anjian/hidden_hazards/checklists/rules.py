"""Pure rules of inspection checklists and self-inspection tasks (排查清单与排查任务): the
periods a frequency cuts the calendar into, when a task is due, done or missed, and the
completion rate (完成率)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from anjian.core.clock import CST

FREQUENCIES = {"daily": "每日", "weekly": "每周", "monthly": "每月"}


class TaskState(StrEnum):
    """Where a self-inspection task stands."""

    PENDING = "pending"  # its period still runs, not done
    DONE = "done"
    MISSED = "missed"  # the period ended without it


TASK_STATES = {
    TaskState.PENDING: "待排查",
    TaskState.DONE: "已完成",
    TaskState.MISSED: "逾期未排查",
}


def period_of(frequency: str, day: date) -> tuple[str, date]:
    """The period ``day`` falls in for a checklist of ``frequency``, and the day its task is
    due: a day ('2026-11-29', due that day), an ISO week ('2026-W48', due its Sunday; the
    week of 2027-01-01 is '2026-W53') or a month ('2026-11', due its last day)."""
    if frequency == "daily":
        return day.isoformat(), day
    if frequency == "weekly":
        year, week, weekday = day.isocalendar()
        return f"{year}-W{week:02d}", date.fromordinal(day.toordinal() + 7 - weekday)
    if frequency == "monthly":
        first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return f"{day.year:04d}-{day.month:02d}", date.fromordinal(first_of_next.toordinal() - 1)
    raise ValueError(f"unknown frequency: {frequency!r}")


def period_start(period: str) -> date:
    """The first day of a period key made by :func:`period_of`."""
    if "-W" in period:
        year, week = period.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    if len(period) == 7:  # 2026-11
        return date(int(period[:4]), int(period[5:7]), 1)
    return date.fromisoformat(period)


def task_state(done: bool, due_date: date, today: date) -> TaskState:
    """pending (its period still runs), done, or missed (the period ended without it)."""
    if done:
        return TaskState.DONE
    return TaskState.MISSED if today > due_date else TaskState.PENDING


def task_completable(done: bool, period_begins: date, today: date) -> bool:
    """A self-inspection task may be reported done (完成自查) once, from the first day of its
    period on; after its due date it still may, counted late."""
    return not done and today >= period_begins


def beijing_date(moment: datetime) -> date:
    """The Beijing calendar date of a (UTC) moment: a task done at 23:30 on its due day is on
    time."""
    return moment.astimezone(CST).date()


def on_time(done_at: datetime, due_date: date) -> bool:
    """Whether a task done at ``done_at`` was done by its due date (Beijing time)."""
    return beijing_date(done_at) <= due_date


def completion_rate(done: int, due: int) -> float | None:
    """完成率: tasks done on time over tasks due, as a percentage (None when none were due)."""
    return round(100.0 * done / due, 1) if due else None
