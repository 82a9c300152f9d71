"""隐患治理 console pages: the ledger with its statistics, reporting a hazard, and one hazard with
its closed loop, where each user is offered the step that is theirs to take; the inspection
checklists (排查清单) and the self-inspection tasks (自查任务) with the 完成自查 form.

Everything goes through the hidden-hazard service with the user's scope, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.core.paging import MAX_PAGE
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises.models import Enterprise
from anjian.enterprises.service import enterprise_in_scope, enterprise_names, is_enterprise_user
from anjian.hidden_hazards import checklists, photos, service
from anjian.hidden_hazards.checklists import TaskCompletion
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.rules import (
    CATEGORIES,
    FREQUENCIES,
    GRADES,
    PLAN_FIELDS,
    SOURCES,
    STATE_LABELS,
    TASK_STATES,
    HazardState,
    supervision_blocks_acceptance,
    task_completable,
)
from anjian.hidden_hazards.schemas import (
    GovernancePlan,
    HazardRegistration,
    HazardReport,
)
from anjian.web import dossier
from anjian.web.dossier import EnterpriseFilter
from anjian.web.forms import field_errors, validated
from anjian.web.layout import page
from anjian.web.render import add_template_dir
from anjian.web.session import PageCtx, check_csrf, refused

add_template_dir(Path(__file__).parent / "templates")

router = APIRouter(include_in_schema=False)

STATE_BADGES = {
    "found": "bg-purple-lt",
    "registered": "bg-blue-lt",
    "rectifying": "bg-yellow-lt",
    "rectified": "bg-orange-lt",
    "closed": "bg-green-lt",
}
TABS = (
    ("", "全部"),
    ("found", "待登记"),
    ("rectifying", "整改中"),
    ("rectified", "待验收"),
    ("overdue", "逾期"),
    ("closed", "已销号"),
)
ENTERPRISE_CHOICES = 500  # a county's hazard-bearing enterprises fit; the API has no limit


def _labels() -> dict[str, Any]:
    return {
        "state_labels": {s.value: label for s, label in STATE_LABELS.items()},
        "state_badges": STATE_BADGES,
        "grades": GRADES,
        "categories": CATEGORIES,
        "sources": SOURCES,
        "plan_fields": PLAN_FIELDS,
    }


@router.get("/hazards")
def hazard_list(
    request: Request,
    ctx: PageCtx,
    tab: str = "",
    grade: str = "",
    q: str = "",
    page_no: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    enterprise: EnterpriseFilter = None,
) -> Response:
    """隐患台账: the ledger of the jurisdiction (or the enterprise), newest first, with the
    jurisdiction's figures on top; ``enterprise``: one enterprise's hazards (一企一档)."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise) if enterprise else None
    filters: dict[str, Any] = {"grade": grade or None, "q": q or None}
    if ent is not None:
        filters["enterprise_id"] = ent.id
    if tab == "overdue":
        filters.update(overdue=True, state="open")
    elif tab:
        filters["state"] = tab
    size = 50
    items, total = service.list_hazards(
        ctx.db, ctx.scope, **filters, limit=size, offset=(page_no - 1) * size
    )
    names = enterprise_names(ctx.db, {h.enterprise_id for h in items})
    stats = service.statistics(ctx.db, ctx.scope)
    return page(
        request,
        ctx,
        "hidden_hazards/list.html",
        {
            "items": items,
            "names": names,
            "total": total,
            "stats": stats,
            "tab": tab,
            "tabs": TABS,
            "grade": grade,
            "q": q,
            "enterprise": ent,
            "page_no": page_no,
            "pages": max(1, (total + size - 1) // size),
            **_labels(),
        },
        active="hazards",
    )


def _enterprise_choices(ctx: Context) -> list[tuple[int, str]]:
    stmt = ctx.scope.apply(
        select(Enterprise.id, Enterprise.name).where(Enterprise.deleted.is_(False)),
        division=Enterprise.division_code,
        enterprise=Enterprise.id,
        category=Enterprise.supervision_category,
    )
    rows = ctx.db.execute(stmt.order_by(Enterprise.name).limit(ENTERPRISE_CHOICES)).all()
    return [(int(i), str(n)) for i, n in rows]


def _new_page(
    request: Request,
    ctx: Context,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        ctx,
        "hidden_hazards/new.html",
        {
            "values": values,
            "errors": errors or {},
            "enterprises": _enterprise_choices(ctx),
            **_labels(),
        },
        active="hazards",
        status_code=status_code,
    )


@router.get("/hazards/new")
def hazard_new(request: Request, ctx: PageCtx, enterprise_id: str = "") -> Response:
    """The form to report a hidden hazard (排查上报)."""
    values = {
        "enterprise_id": enterprise_id or str(ctx.scope.enterprise_id or ""),
        "place": "",
        "description": "",
        "category": "site",
    }
    return _new_page(request, ctx, values)


@router.post("/hazards/new")
async def hazard_report(request: Request, ctx: PageCtx) -> Response:
    """Report the hazard of the form; errors are shown at their fields."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    values = {k: form.get(k, "") for k in ("enterprise_id", "place", "description", "category")}
    try:
        data = HazardReport.model_validate(
            {
                "enterprise_id": values["enterprise_id"] or None,
                "place": values["place"].strip(),
                "description": values["description"].strip(),
                "category": values["category"],
            }
        )
    except ValidationError as exc:
        return _new_page(request, ctx, values, field_errors(exc), status_code=422)
    try:
        hz = service.report_hazard(ctx.db, ctx.actor, ctx.scope, data)
    except AnjianError as exc:
        return _new_page(request, ctx, values, refused(request, ctx, exc), exc.status)
    return RedirectResponse(f"/hazards/{hz.id}?done=report", status_code=303)


def _detail_page(
    request: Request,
    ctx: Context,
    hz: HiddenHazard,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    supervision = service.open_supervision(ctx.db, hz)
    view = service.present(ctx.db, hz)
    people = display_names(
        ctx.db,
        [view.found_by, view.rectified_by, view.accepted_by, *(s.actor for s in view.steps)],
    )
    agency = not is_enterprise_user(ctx.scope)
    return page(
        request,
        ctx,
        "hidden_hazards/detail.html",
        {
            "hz": view,
            "people": people,
            "supervision": supervision,
            "agency": agency,
            "local": hz.origin_node == get_settings().effective_node_id,
            "errors": errors or {},
            "values": values or {},
            "done": request.query_params.get("done", ""),
            "plan_missing": hz.grade == "major" and not (hz.plan and all(hz.plan.values())),
            # the service's own rule: no 验收销号 button while an open order forbids it
            "acceptance_blocked": supervision_blocks_acceptance(hz.grade, supervision is not None),
            "can_supervise": agency
            and hz.grade == "major"
            and supervision is None
            and hz.state in (HazardState.REGISTERED, HazardState.RECTIFYING, HazardState.RECTIFIED),
            **_labels(),
        },
        active="hazards",
        status_code=status_code,
    )


@router.get("/hazards/{hazard_id}")
def hazard_detail(request: Request, hazard_id: int, ctx: PageCtx) -> Response:
    """One hazard: its facts, the loop so far, and the next step for this user."""
    return _detail_page(request, ctx, service.get_hazard(ctx.db, ctx.scope, hazard_id))


@router.post("/hazards/{hazard_id}/{action}")
async def hazard_step(request: Request, hazard_id: int, action: str, ctx: PageCtx) -> Response:
    """Take one step of the loop from the detail page's forms."""
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    note = form.get("note", "").strip()
    errors: dict[str, str] = {}
    try:
        if action == "photo":
            upload = raw.get("file")
            if isinstance(upload, StarletteUpload) and upload.filename:
                data = await upload.read(photos.MAX_PHOTO_BYTES + 1)
                photos.add_photo(ctx.db, ctx.actor, ctx.scope, hazard_id, upload.filename, data)
            else:
                errors = {"file": "请选择照片"}
        elif action == "register":
            data, errors = validated(
                HazardRegistration,
                {
                    "grade": form.get("grade", ""),
                    "major_criterion": form.get("major_criterion", "").strip(),
                    "deadline": form.get("deadline", "").strip() or None,
                    "responsible": form.get("responsible", "").strip(),
                    "measures": form.get("measures", "").strip(),
                    "funds_cny": form.get("funds_cny", "").strip() or None,
                },
            )
            if data is not None:
                service.register_hazard(ctx.db, ctx.actor, ctx.scope, hazard_id, data)
        elif action == "plan":
            data, errors = validated(
                GovernancePlan, {k: form.get(k, "").strip() for k in PLAN_FIELDS}
            )
            if data is not None:
                service.set_plan(ctx.db, ctx.actor, ctx.scope, hazard_id, data)
        elif action == "supervise":
            data, errors = validated(
                SupervisionCreate,
                {
                    "requirements": form.get("requirements", "").strip(),
                    "due_date": form.get("due_date", "").strip() or None,
                },
            )
            if data is not None:
                service.supervise(ctx.db, ctx.actor, ctx.scope, ctx.user, hazard_id, data)
        elif action == "start":
            service.start_rectification(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        elif action == "finish":
            service.finish_rectification(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        elif action == "accept":
            service.accept(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        elif action == "reject":
            service.reject(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        else:
            errors = {"__all__": f"未知操作: {action}"}
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        status = exc.status
    else:
        status = 422
    if errors:
        hz = service.get_hazard(ctx.db, ctx.scope, hazard_id)
        return _detail_page(
            request, ctx, hz, errors=errors, values={**form, "action": action}, status_code=status
        )
    return RedirectResponse(f"/hazards/{hazard_id}?done={action}", status_code=303)


# --- 排查清单 and 自查任务 -------------------------------------------------------------------------

TASK_BADGES = {"pending": "bg-blue-lt", "done": "bg-green-lt", "missed": "bg-red-lt"}
TASK_TABS = (("pending", "待排查"), ("missed", "逾期未排查"), ("done", "已完成"), ("", "全部"))
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
    items, total = checklists.list_tasks(
        ctx.db,
        ctx.scope,
        state=state or None,
        limit=TASK_PAGE_SIZE,
        offset=(page_no - 1) * TASK_PAGE_SIZE,
    )
    today = checklists.beijing_today()
    rates = checklists.completion(ctx.db, ctx.scope, today.replace(day=1), today, today=today)
    return page(
        request,
        ctx,
        "hidden_hazards/inspections.html",
        {
            "items": items,
            "total": total,
            "state": state,
            "tabs": TASK_TABS,
            "rates": rates,
            "page_no": page_no,
            "pages": max(1, -(-total // TASK_PAGE_SIZE)),
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
    task, cl = checklists.get_task(ctx.db, ctx.scope, task_id)
    ent = ctx.db.get(Enterprise, task.enterprise_id)
    local = ent is not None and ent.origin_node in ("", get_settings().effective_node_id)
    today = checklists.beijing_today()
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
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    values = {k: form.get(k, "") for k in ("note", "hazards_found")}
    data, errors = validated(
        TaskCompletion,
        {"note": values["note"], "hazards_found": values["hazards_found"].strip() or 0},
    )
    status = 422
    if data is not None:
        try:
            checklists.complete_task(
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
    items, total = checklists.list_checklists(
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
            "total": total,
            "active_filter": active,
            "q": q,
            "page_no": page_no,
            "pages": max(1, -(-total // TASK_PAGE_SIZE)),
            **_task_labels(),
        },
        active="inspections",
    )


@router.get("/checklists/{checklist_id}")
def checklist_detail(request: Request, checklist_id: int, ctx: PageCtx) -> Response:
    """One checklist: its items with their basis and its latest tasks."""
    cl = checklists.get_checklist(ctx.db, ctx.scope, checklist_id)
    tasks, total = checklists.list_tasks(ctx.db, ctx.scope, checklist_id=cl.id, limit=20)
    return page(
        request,
        ctx,
        "hidden_hazards/checklist.html",
        {
            "checklist": cl,
            "enterprise_name": enterprise_names(ctx.db, {cl.enterprise_id}).get(
                cl.enterprise_id, ""
            ),
            "tasks": tasks,
            "tasks_total": total,
            **_task_labels(),
        },
        active="inspections",
    )


dossier.register(
    dossier.RecordLink(
        "hidden_hazards",
        "隐患",
        10,
        count=lambda db, scope, eid: service.list_hazards(db, scope, enterprise_id=eid, limit=0)[1],
        href=lambda eid: f"/hazards?enterprise={eid}",
        note=lambda db, scope, eid: (
            f"未销号 {n}"
            if (n := service.list_hazards(db, scope, enterprise_id=eid, state="open", limit=0)[1])
            else ""
        ),
    )
)
