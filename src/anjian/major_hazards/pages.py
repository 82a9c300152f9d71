"""重大危险源 console pages: the register with its counts by grade and the GB 18218-2018
calculator, and one source with its units, the three responsible persons and its filing (备案),
where each user is offered the filing step that is theirs to take.

Everything goes through the major-hazard service and rules with the user's scope, as the API
does; forms carry the session's CSRF token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.core.paging import PageNumber
from anjian.enterprises.service import enterprise_in_scope, is_enterprise_user
from anjian.major_hazards import rules, service
from anjian.major_hazards.models import MajorHazardSource
from anjian.major_hazards.rules import GRADE_LABELS, UNIT_KINDS
from anjian.major_hazards.schemas import (
    FILING_STATES,
    AssessRequest,
    FilingAcceptanceCreate,
    FilingReturnCreate,
    FilingState,
    UnitRead,
)
from anjian.web import dossier
from anjian.web.dossier import EnterpriseFilter
from anjian.web.forms import posted_form
from anjian.web.layout import division_name, maintained_elsewhere, page, pager_of
from anjian.web.render import pages_router, zh
from anjian.web.session import PageCtx, refused

router = pages_router(Path(__file__).parent / "templates")

PAGE_SIZE = 20
# 红橙黄蓝: the colours by which major hazard sources are commonly marked, 一级 … 四级.
# red, orange, yellow, blue (console.css: WCAG AA contrast)
GRADE_BADGES = {1: "grade-1", 2: "grade-2", 3: "grade-3", 4: "grade-4"}
FILING_BADGES = {
    FilingState.UNFILED: "bg-secondary-lt",
    FilingState.SUBMITTED: "bg-blue-lt",
    FilingState.FILED: "bg-green-lt",
    FilingState.RETURNED: "bg-red-lt",
}
DONE = {
    "submit": "已提交备案，等待监管部门办理。",
    "file": "已予以备案。",
    "return": "已退回，企业修改后可重新提交。",
}

# --- the calculator form -----------------------------------------------------------------------

UNIT_SLOTS = 3  # units in the form
CHEMICAL_SLOTS = 6  # chemical rows per unit
_CHEMICAL_KEYS = {"name": "name", "cas": "cas", "quantity_t": "q", "category": "cat"}
_UNIT_KEYS = {"name": "name", "kind": "kind", "people_within_500m": "people"}
_PYDANTIC_ZH = {
    "missing": "必填",
    "float_parsing": "请输入数字（吨）",
    "float_type": "请输入数字（吨）",
    "int_parsing": "请输入整数",
    "int_type": "请输入整数",
    "int_from_float": "请输入整数",
    "string_too_long": "内容过长",
}
# the example of the form's hint: GB 18218-2018's method on 液氯 and 液氨
EXAMPLE = {
    "u0_name": "液氯液氨罐区",
    "u0_kind": "storage",
    "u0_people": "60",
    "u0_c0_name": "液氯",
    "u0_c0_q": "8",
    "u0_c1_name": "液氨",
    "u0_c1_q": "5",
}


def _filled(form: dict[str, str], *keys: str) -> bool:
    return any(form.get(k, "").strip() for k in keys)


def calculator_request(form: dict[str, str]) -> tuple[dict[str, Any], dict[int, tuple[int, ...]]]:
    """The /assess body a submitted calculator form means, and for each unit sent the form slot
    it came from and the slots of its chemicals (blank units and rows are left out)."""
    units: list[dict[str, Any]] = []
    slots: dict[int, tuple[int, ...]] = {}
    for i in range(UNIT_SLOTS):
        rows = [
            j
            for j in range(CHEMICAL_SLOTS)
            if _filled(form, *(f"u{i}_c{j}_{k}" for k in ("name", "cas", "q")))
        ]
        if not rows and not _filled(form, f"u{i}_name"):
            continue
        people = form.get(f"u{i}_people", "").strip()
        chemicals = []
        for j in rows:
            p = f"u{i}_c{j}_"
            chemical: dict[str, Any] = {"quantity_t": form.get(p + "q", "").strip() or None}
            for key in ("name", "cas"):
                if form.get(p + key, "").strip():
                    chemical[key] = form[p + key].strip()
            if form.get(p + "cat", "").strip():
                chemical["category"] = form[p + "cat"].strip()
            chemicals.append(chemical)
        slots[len(units)] = (i, *rows)
        units.append(
            {
                "name": form.get(f"u{i}_name", "").strip() or f"单元{i + 1}",
                "kind": form.get(f"u{i}_kind", "storage"),
                "people_within_500m": people or None,
                "chemicals": chemicals,
            }
        )
    return {"units": units}, slots


def form_key(path: tuple[Any, ...] | list[Any], slots: dict[int, tuple[int, ...]]) -> str:
    """The form field of an error's path (``units.0.chemicals.1.name`` → ``u0_c1_name``)."""
    parts = [str(p) for p in path]
    if len(parts) < 3 or parts[0] != "units" or not parts[1].isdigit():
        return "__all__"
    unit_slots = slots.get(int(parts[1]))
    if unit_slots is None:
        return "__all__"
    u = f"u{unit_slots[0]}_"
    if parts[2] in _UNIT_KEYS and len(parts) == 3:
        return u + _UNIT_KEYS[parts[2]]
    if parts[2] == "chemicals" and len(parts) >= 5 and parts[3].isdigit():
        index = int(parts[3])
        if index + 1 < len(unit_slots) and parts[4] in _CHEMICAL_KEYS:
            return f"{u}c{unit_slots[index + 1]}_{_CHEMICAL_KEYS[parts[4]]}"
    return u + "name" if parts[2] == "chemicals" else "__all__"


def assess_form(form: dict[str, str]) -> tuple[list[UnitRead], dict[str, str]]:
    """The calculator's results for a submitted form, or the errors at their fields."""
    body, slots = calculator_request(form)
    try:
        request = AssessRequest.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            key = form_key(tuple(err.get("loc", ())), slots)
            errors.setdefault(key, _PYDANTIC_ZH.get(err["type"]) or zh(err["msg"]))
        if not body["units"]:
            errors = {"__all__": "请至少填写一个单元及其危险化学品"}
        return [], errors
    try:
        results = rules.assess_units([unit.to_input() for unit in request.units])
    except AnjianError as exc:
        return [], {form_key(tuple((exc.field or "").split(".")), slots): zh(exc.message)}
    return [UnitRead.of(unit) for unit in results], {}


# --- helpers -----------------------------------------------------------------------------------


def _list_context(ctx: Context, **filters: Any) -> dict[str, Any]:
    page_no = filters.pop("page_no")
    grade = int(filters["grade"]) if re.fullmatch(r"[1-4]", filters["grade"]) else None
    eid = filters.pop("enterprise", None)
    ent = enterprise_in_scope(ctx.db, ctx.scope, eid) if eid else None
    filters["enterprise"] = ent.id if ent else ""
    items, total = service.list_sources(
        ctx.db,
        ctx.scope,
        enterprise_id=ent.id if ent else None,
        q=filters["q"] or None,
        grade=grade,
        filing_state=filters["filing_state"] if filters["filing_state"] in FILING_STATES else None,
        division=filters["division"] or None,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    return {
        "rows": service.present(ctx.db, items),
        **pager_of(total, page_no, PAGE_SIZE),
        "filters": filters,
        "enterprise": ent,
        "division_label": division_name(ctx.db, filters["division"]),
        "summary": service.summary(ctx.db, ctx.scope),
        "grade_labels": GRADE_LABELS,
        "grade_badges": GRADE_BADGES,
        "filing_states": FILING_STATES,
        "filing_badges": FILING_BADGES,
        "unit_kinds": UNIT_KINDS,
        "unit_slots": UNIT_SLOTS,
        "chemical_slots": CHEMICAL_SLOTS,
        "values": {},
        "errors": {},
        "results": None,
    }


def _list_filters(
    q: str, grade: str, filing_state: str, division: str, page_no: int, enterprise: int | None
) -> Any:
    return {
        "q": q.strip(),
        "grade": grade,
        "filing_state": filing_state,
        "division": division,
        "page_no": page_no,
        "enterprise": enterprise,
    }


# --- pages -------------------------------------------------------------------------------------


@router.get("/major-hazards")
def source_list(
    request: Request,
    ctx: PageCtx,
    q: str = "",
    grade: str = "",
    filing_state: str = "",
    division: str = "",
    page_no: PageNumber = 1,
    enterprise: EnterpriseFilter = None,
) -> Response:
    """重大危险源: the register in scope, its counts by grade and the calculator;
    ``enterprise``: one enterprise's sources (一企一档)."""
    context = _list_context(
        ctx, **_list_filters(q, grade, filing_state, division, page_no, enterprise)
    )
    context["values"] = EXAMPLE if request.query_params.get("example") == "1" else {}
    return page(request, ctx, "major_hazards/list.html", context, active="major_hazards")


@router.get("/major-hazards/assess")
def calculator_link() -> Response:
    """The calculator lives on the register page."""
    return RedirectResponse("/major-hazards#calculator", status_code=303)


@router.post("/major-hazards/assess")
async def calculate(request: Request, ctx: PageCtx) -> Response:
    """辨识分级计算: identify and grade the units of the form (nothing is saved)."""
    form = await posted_form(request)
    results, errors = assess_form(form)
    context = _list_context(ctx, **_list_filters("", "", "", "", 1, None))
    context.update(
        values={k: v for k, v in form.items() if k != "csrf"}, errors=errors, results=results
    )
    return page(
        request,
        ctx,
        "major_hazards/list.html",
        context,
        active="major_hazards",
        status_code=422 if errors else 200,
    )


def _detail(
    request: Request,
    ctx: Context,
    src: MajorHazardSource,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = service.present(ctx.db, [src])[0]
    writable = not maintained_elsewhere(src)
    agency = not is_enterprise_user(ctx.scope)
    return page(
        request,
        ctx,
        "major_hazards/detail.html",
        {
            "s": view,
            "people": display_names(ctx.db, [src.filed_by]),
            "division_label": division_name(ctx.db, src.division_code),
            "grade_badges": GRADE_BADGES,
            "filing_badges": FILING_BADGES,
            "maintained_by": maintained_elsewhere(src),
            "can_submit": writable
            and view.is_major
            and view.filing_state in service.FILING_STEPS["submit"][0],
            "can_decide": writable and agency and view.filing_state == FilingState.SUBMITTED,
            "done": DONE.get(request.query_params.get("done", ""), ""),
            "error": error,
            "values": values or {},
        },
        active="major_hazards",
        status_code=status_code,
    )


@router.get("/major-hazards/{source_id}")
def source_detail(request: Request, source_id: int, ctx: PageCtx) -> Response:
    """One source: its units and chemicals with q/Q and β, the three persons, its filing."""
    return _detail(request, ctx, service.get_source(ctx.db, ctx.scope, source_id))


async def _filing_step(request: Request, ctx: Context, source_id: int, action: str) -> Response:
    form = await posted_form(request)
    values = {k: v for k, v in form.items() if k != "csrf"}
    try:
        if action == "submit":
            service.submit_source(ctx.db, ctx.actor, ctx.scope, source_id)
        elif action == "file":
            number = FilingAcceptanceCreate.model_validate({"filing_no": form.get("filing_no", "")})
            service.file_source(ctx.db, ctx.actor, ctx.scope, source_id, number.filing_no)
        else:
            why = FilingReturnCreate.model_validate({"reason": form.get("reason", "")})
            service.return_filing(ctx.db, ctx.actor, ctx.scope, source_id, why.reason)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = _PYDANTIC_ZH.get(err["type"]) or zh(err["msg"])
        label = "备案编号" if action == "file" else "退回原因"
        src = service.get_source(ctx.db, ctx.scope, source_id)
        return _detail(
            request, ctx, src, error=f"{label}：{message}", values=values, status_code=422
        )
    except AnjianError as exc:
        if exc.status == 404:
            raise
        errors = refused(request, ctx, exc)
        src = service.get_source(ctx.db, ctx.scope, source_id)
        return _detail(
            request,
            ctx,
            src,
            error=next(iter(errors.values())),
            values=values,
            status_code=exc.status,
        )
    return RedirectResponse(f"/major-hazards/{source_id}?done={action}", status_code=303)


@router.post("/major-hazards/{source_id}/submit")
async def submit_form(request: Request, source_id: int, ctx: PageCtx) -> Response:
    """提交备案."""
    return await _filing_step(request, ctx, source_id, "submit")


@router.post("/major-hazards/{source_id}/file")
async def file_form(request: Request, source_id: int, ctx: PageCtx) -> Response:
    """予以备案 (agency officials)."""
    return await _filing_step(request, ctx, source_id, "file")


@router.post("/major-hazards/{source_id}/return")
async def return_form(request: Request, source_id: int, ctx: PageCtx) -> Response:
    """退回 (agency officials)."""
    return await _filing_step(request, ctx, source_id, "return")


dossier.register(
    dossier.RecordLink(
        "major_hazards",
        "重大危险源",
        30,
        count=lambda db, scope, eid: service.list_sources(db, scope, enterprise_id=eid, limit=0)[1],
        href=lambda eid: f"/major-hazards?enterprise={eid}",
        note=lambda db, scope, eid: (
            f"构成重大危险源 {n}"
            if (n := service.list_sources(db, scope, enterprise_id=eid, major=True, limit=0)[1])
            else ""
        ),
    )
)
