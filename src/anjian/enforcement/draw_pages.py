"""双随机抽查 console pages: the draws in scope, the form of a new draw (a division of the
user's jurisdiction, categories, how many enterprises, officers per check, weighting, an
optional seed), and one draw with its enterprises and teams (names and certificate numbers),
its seed and population hash, the 校验 that recomputes it, and for each drawn check the button
that plans its inspection — the service calls the API makes."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.core.clock import today_in_china
from anjian.core.errors import Invalid
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.core.paging import PageNumber
from anjian.core.scope import Scope
from anjian.enforcement import draws, inspections
from anjian.enforcement.models import Draw, DrawCheck, Inspection
from anjian.enforcement.page_common import (
    ACTIVE,
    PAGE_SIZE,
    TEMPLATES,
    here,
    is_official,
    labels,
)
from anjian.enforcement.rules.draw import MIN_INSPECTORS, Weighting
from anjian.enforcement.schemas import DrawCreate, InspectionCreate
from anjian.enterprises.service import enterprise_names
from anjian.web.forms import FormPage, alert, call, division_choices, run_form
from anjian.web.layout import division_name, page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx

router = pages_router(TEMPLATES)

DRAW_LABELS = {
    "division_code": "抽查区域",
    "categories": "行业类别",
    "enterprise_count": "抽取企业数",
    "inspectors_per_check": "每户执法人员数",
    "weights": "抽取方式",
    "seed": "随机种子",
}
CHECK_LABELS = {"planned_on": "计划检查日期", "draw_check_id": "抽查结果"}


def _whole(value: str) -> Any:
    """A whole number typed in a form, or the text for the schema to refuse in its words."""
    return int(value) if value.isdigit() else value


def _inspections_of(session: Session, scope: Scope, checks: list[DrawCheck]) -> dict[int, int]:
    """The inspection planned from each check, by check id (as far as the user sees them)."""
    ids = [c.id for c in checks]
    if not ids:
        return {}
    stmt = scope.select(Inspection, Inspection.draw_check_id, Inspection.id).where(
        Inspection.draw_check_id.in_(ids)
    )
    return {int(c): int(i) for c, i in session.execute(stmt)}


@router.get("/enforcement/draws")
def draw_list(request: Request, ctx: StaffPageCtx, page_no: PageNumber = 1) -> Response:
    """双随机抽查: the draws in scope, newest first."""
    rows, total = draws.list_draws(
        ctx.db, ctx.scope, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    counts = {d.id: len(draws.checks_of(ctx.db, d)) for d in rows}
    return page(
        request,
        ctx,
        "enforcement/draws.html",
        {
            "items": rows,
            "counts": counts,
            "division_names": {
                d.division_code: division_name(ctx.db, d.division_code) for d in rows
            },
            "people": display_names(ctx.db, [d.drawn_by for d in rows]),
            "may_draw": is_official(ctx),
            **pager_of(total, page_no, PAGE_SIZE),
            **labels(),
        },
        active=ACTIVE,
    )


# The form of a draw: the divisions to draw in, whether the user's agency may draw at all.
_new_page = FormPage(
    "enforcement/draw_new.html",
    ACTIVE,
    lambda ctx: {
        "divisions": division_choices(ctx),
        "may_draw": is_official(ctx),
        "min_inspectors": MIN_INSPECTORS,
        **labels(),
    },
    labels=DRAW_LABELS,
)


@router.get("/enforcement/draws/new")
def draw_new(request: Request, ctx: StaffPageCtx) -> Response:
    """The form of a new draw, over a division of the user's jurisdiction."""
    values = {
        "division_code": ctx.user.division_code,
        "categories": [],
        "enterprise_count": "5",
        "inspectors_per_check": str(MIN_INSPECTORS),
        "weights": Weighting.RISK.value,
        "seed": "",
    }
    return _new_page(request, ctx, values)


@router.post("/enforcement/draws/new")
async def draw_create(request: Request, ctx: StaffPageCtx) -> Response:
    """Draw (the API's service call): to the draw's page, or the form with its errors."""
    raw = await request.form()
    chosen = [v for v in raw.getlist("categories") if isinstance(v, str)]
    made: list[Draw] = []

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {
            "division_code": form.get("division_code", ""),
            "categories": chosen,
            "enterprise_count": _whole(form.get("enterprise_count", "")),
            "inspectors_per_check": _whole(form.get("inspectors_per_check", "")),
            "weights": form.get("weights", ""),
        }
        if form.get("seed"):
            body["seed"] = form["seed"]
        return call(
            DrawCreate,
            body,
            lambda data: made.append(draws.make_draw(ctx.db, ctx.actor, ctx.scope, ctx.user, data)),
        )

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(f"/enforcement/draws/{made[0].id}?done=draw", status_code=303)
    if "weights" in errors:
        errors["weights"] = "请选择抽取方式"
    return _new_page(request, ctx, {**values, "categories": chosen}, errors, status)


def _detail_page(
    request: Request,
    ctx: Context,
    draw: Draw,
    *,
    errors: dict[str, str] | None = None,
    failed_check: int | None = None,
    status_code: int = 200,
) -> Response:
    checks = draws.checks_of(ctx.db, draw)
    names = enterprise_names(ctx.db, (c.enterprise_id for c in checks))
    planned = _inspections_of(ctx.db, ctx.scope, checks)
    verification = None
    if request.query_params.get("verify") == "1":
        verification = draws.verify(ctx.db, ctx.scope, draw.id, ctx.user)
    # A check's inspection is planned here by an official whose scope covers it, once.
    may_plan = is_official(ctx) and here(draw)
    done = request.query_params.get("done", "")
    errors = errors or {}
    return page(
        request,
        ctx,
        "enforcement/draw_detail.html",
        {
            "d": draw,
            "checks": checks,
            "names": names,
            "division_names": {
                code: division_name(ctx.db, code)
                for code in {draw.division_code, *(c.division_code for c in checks)}
            },
            "planned": planned,
            "may_plan": may_plan,
            "drawn_by": display_names(ctx.db, [draw.drawn_by]).get(draw.drawn_by, draw.drawn_by),
            "verification": verification,
            "done": {"draw": "抽取完成，结果已记录并同步上报。", "plan": "检查已安排。"}.get(
                done, ""
            ),
            "errors": errors,
            "alert": alert(errors, CHECK_LABELS),
            "failed_check": failed_check,
            "today": today_in_china().isoformat(),
            **labels(),
        },
        active=ACTIVE,
        status_code=status_code,
    )


@router.get("/enforcement/draws/{draw_id:int}")
def draw_detail(request: Request, draw_id: int, ctx: StaffPageCtx) -> Response:
    """One draw: its enterprises and teams, seed and population hash; ``?verify=1`` shows the
    recomputation (校验)."""
    return _detail_page(request, ctx, draws.get_draw(ctx.db, ctx.scope, draw_id))


@router.post("/enforcement/draws/{draw_id:int}/checks/{check_id:int}/inspection")
async def draw_check_inspection(
    request: Request, draw_id: int, check_id: int, ctx: StaffPageCtx
) -> Response:
    """Plan the inspection of a drawn check (its enterprise and team from the draw), as
    ``POST /api/v1/enforcement/inspections {"draw_check_id"}`` does; errors shown at the row."""
    draw = draws.get_draw(ctx.db, ctx.scope, draw_id)
    if check_id not in {c.id for c in draws.checks_of(ctx.db, draw)}:
        raise Invalid("抽查结果不属于本次抽查 (not a check of this draw)", field="draw_check_id")
    made: list[int] = []

    def act(form: dict[str, str]) -> dict[str, str]:
        body = {"draw_check_id": check_id, "planned_on": form.get("planned_on") or None}

        def plan(data: InspectionCreate) -> None:
            insp = inspections.plan_inspection(ctx.db, ctx.actor, ctx.scope, ctx.user, data)
            made.append(insp.id)

        return call(InspectionCreate, body, plan)

    _values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(
            f"/enforcement/draws/{draw_id}?done=plan#check-{check_id}", status_code=303
        )
    draw = draws.get_draw(ctx.db, ctx.scope, draw_id)  # after a rollback, read afresh
    return _detail_page(
        request, ctx, draw, errors=errors, failed_check=check_id, status_code=status
    )
