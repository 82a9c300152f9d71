"""Inbox source of the self-inspection tasks (自查任务, see ``anjian.core.inbox``): for
enterprises the tasks not done, of the running periods and those missed lately, the earliest
due first, in the user's scope."""

from __future__ import annotations

from datetime import timedelta

from anjian.core.clock import today_in_china
from anjian.core.iam.deps import Context
from anjian.core.inbox import ENTERPRISE, Found, InboxItem, source
from anjian.core.paging import paged_rows
from anjian.hidden_hazards.checklists.rules import FREQUENCIES
from anjian.hidden_hazards.checklists.tasks import tasks_in_scope
from anjian.hidden_hazards.models import InspectionTask

# A self-inspection task missed (its period over) stays in the enterprise's inbox this many days:
# it may still be done, late; older ones stay on the record of the completion rate (完成率).
MISSED_TASK_DAYS = 7


@source(
    "inspections.due",
    "待完成的自查任务",
    ENTERPRISE,
    order=20,
    empty="没有待完成的自查任务：任务由排查清单按频次（每日、每周、每月）生成，清单见“排查清单”。",
    link="/inspections?state=pending",
)
def inspections_due(ctx: Context, limit: int) -> Found:
    """Self-inspection tasks (自查任务) not done: those of the running periods and those
    missed in the last :data:`MISSED_TASK_DAYS` days (still to be done, late), the earliest
    due first."""
    today = today_in_china()
    stmt = tasks_in_scope(ctx.scope).where(
        InspectionTask.done_at.is_(None),
        InspectionTask.due_date >= today - timedelta(days=MISSED_TASK_DAYS),
    )
    rows, total = paged_rows(
        ctx.db, stmt, (InspectionTask.due_date, InspectionTask.id), limit=limit
    )
    items = [
        InboxItem(
            title=f"{cl.name}（{cl.post}）" if cl.post else cl.name,
            detail=f"{FREQUENCIES.get(cl.frequency, cl.frequency)}排查 · {task.period}",
            url=f"/inspections/{task.id}",
            due_date=task.due_date,
            overdue=task.due_date < today,
        )
        for task, cl, _name in rows
    ]
    return Found(total, items)
