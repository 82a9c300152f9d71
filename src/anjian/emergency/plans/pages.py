"""预案演练 console pages: the plans in scope with what needs doing first (plans waiting for
review, revisions overdue or near, plans not drilled), the year's figures, the coming drills and
the form of a new plan; one plan's page with its levels, roles and resources, its filing (报备,
审查) and revision, and its drills with the step each takes next. Enterprise users file their
own plans here; every form is the API's service call, its refusal shown at the form."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.core.errors import NotFound
from anjian.core.iam.deps import Context
from anjian.core.paging import PageNumber
from anjian.emergency.plans import drills, service, statistics
from anjian.emergency.plans.rules import (
    CATEGORIES,
    DRILL_FORMS,
    DRILL_NEXT,
    DRILL_SCALES,
    EDITABLE,
    FILING_STATES,
    RATINGS,
)
from anjian.emergency.plans.schemas import (
    DrillCancel,
    DrillCreate,
    DrillEvaluation,
    DrillRecord,
    PlanCreate,
    PlanReview,
    PlanRevision,
)
from anjian.emergency.rules.events import EVENT_TYPES, LEVEL_LABELS
from anjian.web.forms import FormRefusal, alert, call, division_choices, run_form
from anjian.web.layout import is_staff, page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import PageCtx

router = pages_router(Path(__file__).parent / "templates")
ACTIVE = "emergency"
PAGE_SIZE = 20
VIEWS = {"": "全部", "submitted": "待审查", "overdue": "修订逾期", "due_soon": "即将到期"}
LABELS = {
    "title": "名称",
    "category": "预案类别",
    "division_code": "行政区划",
    "owner": "编制单位",
    "event_types": "适用事件",
    "issued_on": "发布日期",
    "summary": "主要内容",
    "response_levels": "响应分级",
    "roles": "组织机构及职责",
    "decision": "审查结论",
    "opinion": "审查意见",
    "revised_on": "修订日期",
    "note": "修订内容",
    "form": "演练形式",
    "scale": "演练规模",
    "planned_on": "计划日期",
    "organiser": "组织单位",
    "place": "地点",
    "held_on": "实施日期",
    "participants": "参演人数",
    "record": "过程记录",
    "rating": "评估结论",
    "problems": "发现的问题",
    "improvements": "改进措施",
    "reason": "取消理由",
    "filing_state": "备案",
    "state": "状态",
}


def _levels(form: dict[str, str]) -> list[dict[str, Any]]:
    """The response levels typed in the form's four trigger boxes (Ⅰ … Ⅳ), those filled."""
    return [
        {"level": n, "trigger": form[f"trigger_{n}"]}
        for n in (1, 2, 3, 4)
        if form.get(f"trigger_{n}")
    ]


def _roles(text: str) -> list[dict[str, str]]:
    """The roles typed one a line as 角色：职责 (or 角色:职责)."""
    out = []
    for line in text.splitlines():
        role, _, duty = line.replace("：", ":").partition(":")
        if role.strip():
            out.append({"role": role.strip(), "duty": duty.strip()})
    return out


def _list_page(
    request: Request, ctx: Context, page_no: int, view: str, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    view = view if view in VIEWS else ""
    filters: dict[str, Any] = (
        {"filing_state": view} if view == "submitted" else {"revision": view or None}
    )
    rows, total = service.list_plans(
        ctx.db, ctx.scope, **filters, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    today = today_in_china()
    staff = is_staff(ctx)
    default_place = {"division_code": ctx.user.division_code, "issued_on": today.isoformat()}
    return page(
        request,
        ctx,
        "emergency/plans.html",
        {
            "items": service.present(ctx.db, rows),
            "stats": statistics.plan_statistics(ctx.db, ctx.scope, division=None, year=None),
            "coming": drills.present(ctx.db, drills.upcoming(ctx.db, ctx.scope, today)),
            "views": VIEWS,
            "today": today,
            "view": view,
            "filters": {"view": view},
            "categories": CATEGORIES,
            "event_types": EVENT_TYPES,
            "division_choices": division_choices(ctx, depth=1) if staff else [],
            "staff": staff,
            "enterprise_id": ctx.user.enterprise_id if not staff else None,
            "values": refusal.values or default_place,
            "errors": refusal.errors,
            "alert": alert(refusal.errors, LABELS),
            "open_form": bool(refusal.errors) or request.query_params.get("new") == "1",
            **pager_of(total, page_no, PAGE_SIZE),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/emergency/plans")
def plan_list(request: Request, ctx: PageCtx, page_no: PageNumber = 1, view: str = "") -> Response:
    """预案演练: the plans in scope, what needs doing first, and the year's figures."""
    return _list_page(request, ctx, page_no, view)


@router.post("/emergency/plans")
async def plan_create(request: Request, ctx: PageCtx) -> Response:
    """A new plan through the API's service call; an enterprise user's is their enterprise's."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {k: form.get(k, "") for k in ("title", "category", "owner")}
        body |= {k: form.get(k, "") for k in ("division_code", "issued_on", "summary")}
        body["event_types"] = [form["event_type"]] if form.get("event_type") else []
        body["response_levels"] = _levels(form)
        body["roles"] = _roles(form.get("roles", ""))
        if not is_staff(ctx):  # the enterprise's own plan, placed where the enterprise is
            body["enterprise_id"] = ctx.user.enterprise_id
            body["division_code"] = ctx.user.division_code

        def create(data: PlanCreate) -> None:
            form["__id__"] = str(service.create_plan(ctx.db, ctx.actor, ctx.scope, data).id)

        return call(PlanCreate, body, create)

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(f"/emergency/plans/{values['__id__']}?done=create", 303)
    return _list_page(request, ctx, 1, "", FormRefusal("plan", errors, values, status))


def _detail(
    request: Request, ctx: Context, plan_id: int, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    plan = service.get_plan(ctx.db, ctx.scope, plan_id)
    view = service.present(ctx.db, [plan])[0]
    rows, _ = drills.list_drills(ctx.db, ctx.scope, plan_id=plan_id, limit=50)
    here = plan.origin_node == get_settings().effective_node_id
    staff = is_staff(ctx)
    is_enterprise_plan = plan.enterprise_id is not None
    return page(
        request,
        ctx,
        "emergency/plan.html",
        {
            "p": view,
            "drills": drills.present(ctx.db, rows),
            "kept_at": "" if here else plan.origin_node,
            "levels": LEVEL_LABELS,
            "may_edit": here and plan.filing_state in EDITABLE,
            "may_submit": here
            and is_enterprise_plan
            and plan.filing_state in ("draft", "returned"),
            "may_review": here and staff and plan.filing_state == "submitted",
            "may_revise": here and plan.filing_state != "submitted",
            "may_drill": here,
            "drill_next": DRILL_NEXT if here else {},
            "forms": DRILL_FORMS,
            "scales": DRILL_SCALES,
            "ratings": RATINGS,
            "filing_states": FILING_STATES,
            "staff": staff,
            "today": today_in_china().isoformat(),
            "form": refusal.form,
            "errors": refusal.errors,
            "alert": alert(refusal.errors, LABELS),
            "values": refusal.values,
            "done": request.query_params.get("done", ""),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/emergency/plans/{plan_id:int}")
def plan_detail(request: Request, plan_id: int, ctx: PageCtx) -> Response:
    """One plan: its levels, roles, resources, filing and revision, and its drills."""
    return _detail(request, ctx, plan_id)


def _drill_of(plan_id: int) -> Callable[[dict[str, str]], dict[str, Any]]:
    def body(form: dict[str, str]) -> dict[str, Any]:
        keys = ("title", "form", "scale", "organiser", "place", "planned_on")
        return {"plan_id": plan_id, **{k: form.get(k, "") for k in keys}}

    return body


# Each step form of a plan: the API model, how the form makes its body, the service call.
_PLAN_STEPS: dict[str, tuple[type[BaseModel], Any, Any]] = {
    "review": (
        PlanReview,
        lambda f: {"decision": f.get("decision", ""), "opinion": f.get("opinion", "")},
        service.review_plan,
    ),
    "revise": (
        PlanRevision,
        lambda f: {"revised_on": f.get("revised_on", ""), "note": f.get("note", "")},
        service.revise_plan,
    ),
}
_DRILL_STEPS: dict[str, tuple[type[BaseModel], Any, Any]] = {
    "record": (
        DrillRecord,
        lambda f: {k: f.get(k, "") for k in ("held_on", "participants", "record")},
        drills.record_drill,
    ),
    "evaluate": (
        DrillEvaluation,
        lambda f: {k: f.get(k, "") for k in ("rating", "problems", "improvements")},
        drills.evaluate_drill,
    ),
    "cancel": (DrillCancel, lambda f: {"reason": f.get("reason", "")}, drills.cancel_drill),
}


@router.post("/emergency/plans/{plan_id:int}/{action}")
async def plan_step(request: Request, plan_id: int, action: str, ctx: PageCtx) -> Response:
    """A step from the plan's page: 报备 (submit), 审查 (review), 修订 (revise), a new drill
    (drill), or a drill's 记录实施 / 评估 / 取消 (record, evaluate, cancel with ``drill_id``)."""
    if action not in ("submit", "drill", *_PLAN_STEPS, *_DRILL_STEPS):
        raise NotFound(f"未知操作: {action}")

    def act(form: dict[str, str]) -> dict[str, str]:
        if action == "submit":
            service.submit_plan(ctx.db, ctx.actor, ctx.scope, plan_id)
            return {}
        if action == "drill":
            return call(
                DrillCreate,
                _drill_of(plan_id)(form),
                lambda data: drills.create_drill(ctx.db, ctx.actor, ctx.scope, data),
            )
        if action in _PLAN_STEPS:
            model, body, step = _PLAN_STEPS[action]
            return call(
                model, body(form), lambda data: step(ctx.db, ctx.actor, ctx.scope, plan_id, data)
            )
        drill_id = _drill_id(ctx, plan_id, form.get("drill_id", ""))
        model, body, step = _DRILL_STEPS[action]
        return call(
            model, body(form), lambda data: step(ctx.db, ctx.actor, ctx.scope, drill_id, data)
        )

    values, errors, status = await run_form(request, ctx, act)
    if errors:
        form = f"{action}-{values.get('drill_id', '')}" if action in _DRILL_STEPS else action
        return _detail(request, ctx, plan_id, FormRefusal(form, errors, values, status))
    return RedirectResponse(f"/emergency/plans/{plan_id}?done={action}", 303)


def _drill_id(ctx: Context, plan_id: int, value: str) -> int:
    """A drill of this plan, named by the form."""
    if not value.isdigit() or len(value) > 9:
        raise NotFound(f"演练无效: {value[:20]}")
    drill = drills.get_drill(ctx.db, ctx.scope, int(value))
    if drill.plan_uid != service.get_plan(ctx.db, ctx.scope, plan_id).uid:
        raise NotFound(f"该预案没有演练 {value}")
    return drill.id
