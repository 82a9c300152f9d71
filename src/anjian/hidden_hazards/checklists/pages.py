"""排查清单 and 自查任务 console pages: the self-inspection tasks with this month's completion
rate and the 完成自查 form, and the checklists with their items and latest tasks.

Everything goes through the checklist and task services with the user's scope, as the API
does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.paging import MAX_PAGE
from anjian.enterprises.service import enterprise_by_id, enterprise_names
from anjian.hidden_hazards.checklists import service, tasks
from anjian.hidden_hazards.checklists.rules import (
    FREQUENCIES,
    TASK_STATES,
    TaskState,
    task_completable,
)
from anjian.hidden_hazards.checklists.schemas import CompletionCreate
from anjian.web.forms import posted_form, validated
from anjian.web.layout import page, pager_of
from anjian.web.offloop import page_routes
from anjian.web.session import PageCtx, refused

router = page_routes()

TASK_BADGES = {
    TaskState.PENDING: "bg-blue-lt",
    TaskState.DONE: "bg-green-lt",
    TaskState.MISSED: "bg-red-lt",
}
TASK_TABS = (
    (TaskState.PENDING, "待排查"),
    (TaskState.MISSED, "逾期未排查"),
    (TaskState.DONE, "已完成"),
    ("", "全部"),
)
TASK_PAGE_SIZE = 50


def _task_labels() -> dict[str, Any]:
    return {"task_states": TASK_STATES, "task_badges": TASK_BADGES, "frequencies": FREQUENCIES}


@router.get("/inspections")
def inspection_list(
    request: Request,
    ctx: PageCtx,
    state: str = "pending",
    page_no: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """自查任务: the self-inspection tasks of the enterprise (or the jurisdiction), latest due
    first, by state, with this month's completion rate (完成率)."""
    state = state if state in dict(TASK_TABS) else "pending"
    items, total = tasks.list_tasks(
        ctx.db,
        ctx.scope,
        state=state or None,
        limit=TASK_PAGE_SIZE,
        offset=(page_no - 1) * TASK_PAGE_SIZE,
    )
    today = today_in_china()
    rates = tasks.completion(ctx.db, ctx.scope, today.replace(day=1), today, today=today)
    return page(
        request,
        ctx,
        "hidden_hazards/inspections.html",
        {
            "items": items,
            "state": state,
            "tabs": TASK_TABS,
            "rates": rates,
            **pager_of(total, page_no, TASK_PAGE_SIZE),
            **_task_labels(),
        },
        active="inspections",
    )


def _task_page(
    request: Request,
    ctx: Context,
    task_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    task, cl = tasks.get_task(ctx.db, ctx.scope, task_id)
    ent = enterprise_by_id(ctx.db, task.enterprise_id)
    local = ent is not None and ent.origin_node in ("", get_settings().effective_node_id)
    today = today_in_china()
    return page(
        request,
        ctx,
        "hidden_hazards/inspection.html",
        {
            "task": task,
            "checklist": cl,
            # the service's own rule: the form only when the report would be accepted
            "can_complete": local
            and task_completable(task.done_at is not None, task.period_start, today),
            "local": local,
            "errors": errors or {},
            # a refusal not about a field of the form (already done, period not started …)
            "form_error": next(
                (m for f, m in (errors or {}).items() if f not in ("note", "hazards_found")), ""
            ),
            "values": values or {},
            "done": request.query_params.get("done") == "1",
            **_task_labels(),
        },
        active="inspections",
        status_code=status_code,
    )


@router.get("/inspections/{task_id}")
def inspection_detail(request: Request, task_id: int, ctx: PageCtx) -> Response:
    """One self-inspection task: what to check (the checklist's items) and, while it is open,
    the form to report it done (完成自查)."""
    return _task_page(request, ctx, task_id)


@router.post("/inspections/{task_id}/complete")
async def inspection_complete(request: Request, task_id: int, ctx: PageCtx) -> Response:
    """完成自查 from the task page: the note and the number of hazards found."""
    form = await posted_form(request)
    values = {k: form.get(k, "") for k in ("note", "hazards_found")}
    data, errors = validated(
        CompletionCreate,
        {"note": values["note"], "hazards_found": values["hazards_found"].strip() or 0},
    )
    status = 422
    if data is not None:
        try:
            tasks.complete_task(
                ctx.db, ctx.actor, ctx.scope, task_id, data.note, data.hazards_found
            )
        except AnjianError as exc:
            errors, status = refused(request, ctx, exc), exc.status
    if errors:
        return _task_page(request, ctx, task_id, errors=errors, values=values, status_code=status)
    return RedirectResponse(f"/inspections/{task_id}?done=1", status_code=303)


@router.get("/checklists")
def checklist_list(
    request: Request,
    ctx: PageCtx,
    active: str = "1",
    q: str = "",
    page_no: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """排查清单: the checklists in scope by enterprise, in use (or deactivated)."""
    items, total = service.list_checklists(
        ctx.db,
        ctx.scope,
        active={"1": True, "0": False}.get(active),
        q=q or None,
        limit=TASK_PAGE_SIZE,
        offset=(page_no - 1) * TASK_PAGE_SIZE,
    )
    names = enterprise_names(ctx.db, {c.enterprise_id for c in items})
    return page(
        request,
        ctx,
        "hidden_hazards/checklists.html",
        {
            "items": items,
            "names": names,
            "active_filter": active,
            "q": q,
            **pager_of(total, page_no, TASK_PAGE_SIZE),
            **_task_labels(),
        },
        active="inspections",
    )


@router.get("/checklists/{checklist_id}")
def checklist_detail(request: Request, checklist_id: int, ctx: PageCtx) -> Response:
    """One checklist: its items with their basis and its latest tasks."""
    cl = service.get_checklist(ctx.db, ctx.scope, checklist_id)
    latest, total = tasks.list_tasks(ctx.db, ctx.scope, checklist_id=cl.id, limit=20)
    return page(
        request,
        ctx,
        "hidden_hazards/checklist.html",
        {
            "checklist": cl,
            "enterprise_name": enterprise_names(ctx.db, {cl.enterprise_id}).get(
                cl.enterprise_id, ""
            ),
            "tasks": latest,
            "tasks_total": total,
            **_task_labels(),
        },
        active="inspections",
    )
