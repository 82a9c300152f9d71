"""检查计划 console pages: the annual inspection plans in scope with their progress, one plan's
months (the cumulative target against the inspections finished) and the enterprises behind, and
the form that makes a plan of the user's agency (officials). Figures come from
:func:`anjian.enforcement.plans.progress`, as the API's do."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.core.clock import today_in_china
from anjian.core.iam.deps import Context
from anjian.core.paging import PageNumber
from anjian.enforcement import plans
from anjian.enforcement.page_common import (
    ACTIVE,
    PAGE_SIZE,
    TEMPLATES,
    is_official,
    labels,
)
from anjian.enforcement.rules.inspections import PLAN_FREQUENCY, UNGRADED_FREQUENCY
from anjian.enforcement.schemas import PlanCreate
from anjian.web.forms import FormRefusal, alert, call, run_form
from anjian.web.layout import division_name, page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx

router = pages_router(TEMPLATES)

FREQUENCY_CLASSES = (
    ("major", "重大风险"),
    ("significant", "较大风险"),
    ("general", "一般风险"),
    ("low", "低风险"),
    ("ungraded", "未评级"),
)
DEFAULT_FREQUENCY = {**PLAN_FREQUENCY, "ungraded": UNGRADED_FREQUENCY}
PLAN_LABELS = {
    "name": "计划名称",
    "year": "年度",
    "categories": "行业类别",
    "frequency": "检查频次",
    **{f"freq_{code}": f"{label}检查频次" for code, label in FREQUENCY_CLASSES},
}


def _months(read: Any) -> list[dict[str, Any]]:
    """Each month's cumulative target and done, with the bar's share of the year's target."""
    top = max(read.monthly_target[-1], read.monthly_done[-1], 1)
    return [
        {
            "month": m,
            "target": t,
            "done": d,
            "target_pct": round(100 * t / top),
            "done_pct": round(100 * d / top),
            "short": d < t,
        }
        for m, (t, d) in enumerate(zip(read.monthly_target, read.monthly_done, strict=True), 1)
    ]


def _plan_values(ctx: Context) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "", "year": str(today_in_china().year), "categories": []}
    values |= {f"freq_{code}": str(n) for code, n in DEFAULT_FREQUENCY.items()}
    return values


def _list_page(
    request: Request, ctx: Context, page_no: int, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    rows, total = plans.list_plans(
        ctx.db, ctx.scope, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    items = [plans.progress(ctx.db, ctx.scope, p) for p in rows]
    return page(
        request,
        ctx,
        "enforcement/plans.html",
        {
            "items": items,
            "agencies": {
                i.agency_division: division_name(ctx.db, i.agency_division) for i in items
            },
            "may_create": is_official(ctx),
            "values": refusal.values or _plan_values(ctx),
            "errors": refusal.errors,
            "alert": alert(refusal.errors, PLAN_LABELS),
            "classes": FREQUENCY_CLASSES,
            "open_form": bool(refusal.errors) or request.query_params.get("new") == "1",
            "done": request.query_params.get("done") == "1",
            **pager_of(total, page_no, PAGE_SIZE),
            **labels(),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/enforcement/plans")
def plan_list(request: Request, ctx: StaffPageCtx, page_no: PageNumber = 1) -> Response:
    """检查计划: the plans in scope, the latest year first, with what is due and done; the form
    to make one for those who may (officials)."""
    return _list_page(request, ctx, page_no)


@router.post("/enforcement/plans")
async def plan_create(request: Request, ctx: StaffPageCtx) -> Response:
    """Make a plan of the user's agency (the API's service call); errors shown at the form."""
    raw = await request.form()
    chosen = [v for v in raw.getlist("categories") if isinstance(v, str)]

    def act(form: dict[str, str]) -> dict[str, str]:
        frequency: dict[str, Any] = {}
        for code, _label in FREQUENCY_CLASSES:
            typed = form.get(f"freq_{code}", "")
            if typed:
                frequency[code] = int(typed) if typed.isdigit() else typed
        body = {"name": form.get("name", ""), "year": form.get("year", ""), "categories": chosen}
        body["frequency"] = frequency

        def create(data: PlanCreate) -> None:
            plan = plans.create_plan(ctx.db, ctx.actor, ctx.scope, ctx.user, data)
            form["__id__"] = str(plan.id)

        return call(PlanCreate, body, create)

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(f"/enforcement/plans/{values['__id__']}?done=1", status_code=303)
    if "frequency" in errors:  # a count beyond 0–52 is refused on the whole map
        errors["frequency"] = "每年检查次数应为 0–52 的整数"
    return _list_page(
        request, ctx, 1, FormRefusal("plan", errors, {**values, "categories": chosen}, status)
    )


@router.get("/enforcement/plans/{plan_id:int}")
def plan_detail(request: Request, plan_id: int, ctx: StaffPageCtx) -> Response:
    """One plan: the year's figures, month by month the cumulative target against the
    inspections finished, and the enterprises behind (linked to their files)."""
    plan = plans.get_plan(ctx.db, ctx.scope, plan_id)
    read = plans.progress(ctx.db, ctx.scope, plan)
    return page(
        request,
        ctx,
        "enforcement/plan_detail.html",
        {
            "p": read,
            "agency": division_name(ctx.db, plan.agency_division),
            "months": _months(read),
            "classes": FREQUENCY_CLASSES,
            "done": request.query_params.get("done") == "1",
            "this_month": today_in_china().month if today_in_china().year == read.year else 0,
            **labels(),
        },
        active=ACTIVE,
    )
