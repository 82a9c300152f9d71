"""Risk-grading console pages (风险分级管控): the four-colour summary of the jurisdiction, each
enterprise's risk points with its four-colour map (风险四色图), and the form that adds a point
with a live LEC / LS calculator (an htmx fragment computed on the server).

Every read and write goes through the risk service with the user's scope, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from anjian.core.divisions import service as divisions
from anjian.core.errors import AnjianError, Invalid
from anjian.core.paging import PageNumber
from anjian.enterprises import service as enterprises
from anjian.enterprises.pages import form_errors
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.enterprises.service import enterprise_in_scope
from anjian.risk import service
from anjian.risk.labels import LEVEL_BADGES, LEVEL_HEX, LEVELS, UNGRADED_HEX
from anjian.risk.rules import (
    LEC_C,
    LEC_E,
    LEC_L,
    LEVELS_WORST_FIRST,
    LS_L,
    LS_S,
    RiskLevel,
)
from anjian.risk.schemas import CONTROL_LEVELS, KINDS, RiskPointCreate, plain_number
from anjian.web import dossier
from anjian.web.forms import posted_form
from anjian.web.layout import division_name, jurisdiction_map, maintained_elsewhere, page, pager_of
from anjian.web.render import map_tiles, pages_router, render, zh
from anjian.web.session import PageCtx, check_csrf, refused

router = pages_router(Path(__file__).parent / "templates")

PAGE_SIZE = 20
METHOD_LABELS = {"LEC": "作业条件危险性评价法（LEC）", "LS": "风险矩阵法（LS）"}
# (factor, label, table) of each method, in the order of the formula.
FACTOR_TABLES: dict[str, list[tuple[str, str, dict[Any, str]]]] = {
    "LEC": [
        ("L", "L 事故发生的可能性", LEC_L),
        ("E", "E 暴露于危险环境的频繁程度", LEC_E),
        ("C", "C 发生事故可能造成的后果", LEC_C),
    ],
    "LS": [("L", "L 事故发生的可能性", LS_L), ("S", "S 后果严重程度", LS_S)],
}
_TEXT_FIELDS = ("name", "kind", "location", "hazards", "control_measures", "control_level")
_OPTIONAL_TEXT = ("responsible",)


def _number(value: str | None) -> Any:
    """A form value as a number (blank: None); anything else is passed on to be refused."""
    if value is None or value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return plain_number(number)


def _method(value: str | None) -> str:
    return value if value in FACTOR_TABLES else "LEC"


def calculator_context(values: dict[str, str], errors: dict[str, str] | None = None) -> dict:
    """What the calculator fragment shows: the method's factor selects (a value not in the
    method's table is dropped) and, once every factor is chosen, the score and level."""
    method = _method(values.get("method"))
    factors = []
    chosen: dict[str, Any] = {}
    for name, label, table in FACTOR_TABLES[method]:
        wanted = _number(values.get(name))
        options = [(plain_number(v), meaning) for v, meaning in table.items()]
        selected = wanted if any(wanted == v for v, _ in options) else None
        chosen[name] = selected
        factors.append({"name": name, "label": label, "options": options, "selected": selected})
    result = problem = None
    if all(v is not None for v in chosen.values()):
        try:
            a = service.assess(method, chosen)
        except Invalid as exc:
            problem = zh(exc.message)
        else:
            level = RiskLevel(a.level)
            result = {
                "formula": ("D = " if method == "LEC" else "R = ")
                + " × ".join(str(chosen[n]) for n, *_ in FACTOR_TABLES[method])
                + f" = {a.score}",
                "level": level.value,
                "label": level.label,
                "colour_label": level.colour_label,
                "badge": LEVEL_BADGES[level.value],
                "band": a.band,
                "convention": a.convention,
            }
    return {
        "method": method,
        "methods": METHOD_LABELS,
        "factors": factors,
        "result": result,
        "problem": problem,
        "errors": errors or {},
    }


@router.get("/risk")
def risk_overview(
    request: Request,
    ctx: PageCtx,
    division: str = "",
    q: str = "",
    page_no: PageNumber = 1,
) -> Response:
    """风险分级: counts by level in the jurisdiction, enterprises at their worst level and the
    four-colour map. An enterprise user goes straight to their own enterprise."""
    if ctx.scope.is_enterprise:
        return RedirectResponse(f"/risk/enterprise/{ctx.scope.enterprise_id}", status_code=303)
    rows = service.summary(ctx.db, ctx.scope, division or None)
    ents, total = enterprises.list_enterprises(
        ctx.db,
        ctx.scope,
        q=q.strip() or None,
        division=division or None,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    levels = service.enterprise_levels(ctx.db, ctx.scope, [e.id for e in ents])
    names = divisions.division_names(ctx.db, (e.division_code for e in ents))
    risk_map = service.risk_map(ctx.db, ctx.scope)
    data = jurisdiction_map(
        ctx.db,
        ctx.scope,
        [
            {
                "id": e.id,
                "name": e.name,
                "lng": e.lng,
                "lat": e.lat,
                "category": e.level_label,
                "status": f"{e.level.colour_label}色" if e.level else "尚无风险点",
                "colour": LEVEL_HEX[e.level.value] if e.level else UNGRADED_HEX,
            }
            for e in risk_map.enterprises
        ],
    )
    filters = {"division": division, "q": q.strip()}
    return page(
        request,
        ctx,
        "risk/overview.html",
        {
            "summary": rows,
            "levels": LEVELS,
            "enterprises": [
                {
                    "e": e,
                    "division_name": names.get(e.division_code, e.division_code),
                    "category": SUPERVISION_CATEGORIES.get(
                        e.supervision_category, e.supervision_category
                    ),
                    "level": levels.get(e.id),
                }
                for e in ents
            ],
            **pager_of(total, page_no, PAGE_SIZE),
            "filters": filters,
            "division_label": division_name(ctx.db, division) if division else "",
            "level_badges": LEVEL_BADGES,
            "data": data,
            "count": len(data["points"]),
            "ungraded_hex": UNGRADED_HEX,
        },
        active="risk",
    )


def _enterprise_page(
    request: Request,
    ctx: Any,
    enterprise_id: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise_id)
    points, _total = service.list_points(ctx.db, ctx.scope, enterprise_id=ent.id, limit=None)
    views = service.present(ctx.db, points)
    counts = {level.value: 0 for level in LEVELS_WORST_FIRST}
    for p in views:
        counts[p.level.value] += 1
    worst = service.enterprise_levels(ctx.db, ctx.scope, [ent.id]).get(ent.id)
    located = [p for p in views if p.lng is not None and p.lat is not None]
    data = {
        "tiles": map_tiles(),
        "places": [{"name": ent.name, "lng": ent.lng, "lat": ent.lat}]
        if ent.lng is not None and ent.lat is not None
        else [],
        "points": [
            {
                "id": ent.id,
                "name": p.name,
                "lng": p.lng,
                "lat": p.lat,
                "category": f"{p.level_label}（{p.colour_label}）",
                "status": p.kind_label + (f" · {p.location}" if p.location else ""),
                "colour": LEVEL_HEX[p.level.value],
            }
            for p in located
        ],
        "zoom": 14,
    }
    values = values or {"kind": "area", "control_level": "post", "method": "LEC"}
    return page(
        request,
        ctx,
        "risk/enterprise.html",
        {
            "ent": ent,
            "ent_division": division_name(ctx.db, ent.division_code),
            "points": views,
            "maintained": {p.id: maintained_elsewhere(p) for p in views},
            "counts": counts,
            "levels": LEVELS,
            "worst": worst,
            "level_badges": LEVEL_BADGES,
            "data": data,
            "located": len(located),
            "kinds": KINDS,
            "control_levels": CONTROL_LEVELS,
            "values": values,
            "errors": errors or {},
            "calc": calculator_context(values, errors),
            "saved": request.query_params.get("saved"),
        },
        active="risk",
        status_code=status_code,
    )


@router.get("/risk/enterprise/{enterprise_id}")
def risk_enterprise(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """One enterprise's risk points, its four-colour map and the form to add a point."""
    return _enterprise_page(request, ctx, enterprise_id)


@router.get("/risk/calculator")
def risk_calculator(request: Request, ctx: PageCtx) -> Response:
    """The calculator fragment of the add form, recomputed on every change (htmx)."""
    values = {k: v for k, v in request.query_params.items()}
    return render(request, "risk/calculator.html", {"calc": calculator_context(values)})


def _create_body(enterprise_id: int, form: dict[str, str]) -> dict[str, Any]:
    method = _method(form.get("method"))
    body: dict[str, Any] = {"enterprise_id": enterprise_id, "method": method}
    for name in _TEXT_FIELDS + _OPTIONAL_TEXT:
        body[name] = form.get(name, "")
    for name in ("lng", "lat"):
        body[name] = _number(form.get(name))
    for name, *_ in FACTOR_TABLES[method]:
        body[name] = _number(form.get(name))
    return body


@router.post("/risk/enterprise/{enterprise_id}/points")
async def risk_point_add(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """Save the add form (through the service); errors are shown at their fields."""
    form = await posted_form(request)
    enterprise_in_scope(ctx.db, ctx.scope, enterprise_id)
    values = {k: v for k, v in form.items() if k != "csrf"}
    try:
        data = RiskPointCreate.model_validate(_create_body(enterprise_id, form))
    except ValidationError as exc:
        return _enterprise_page(
            request, ctx, enterprise_id, values, form_errors(exc), status_code=422
        )
    try:
        service.create_point(ctx.db, ctx.actor, ctx.scope, data)
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        return _enterprise_page(request, ctx, enterprise_id, values, errors, status_code=exc.status)
    return RedirectResponse(f"/risk/enterprise/{enterprise_id}?saved=added", status_code=303)


@router.post("/risk/points/{point_id}/delete")
async def risk_point_delete(request: Request, point_id: int, ctx: PageCtx) -> Response:
    """Delete a risk point (a tombstone, through the service) and return to its enterprise."""
    form = await request.form()
    csrf = form.get("csrf")
    check_csrf(request, csrf if isinstance(csrf, str) else None)
    pt = service.delete_point(ctx.db, ctx.actor, ctx.scope, point_id)
    url = f"/risk/enterprise/{pt.enterprise_id}?saved=deleted"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


dossier.register(
    dossier.RecordLink(
        "risk_points",
        "风险点",
        20,
        count=lambda db, scope, eid: service.list_points(db, scope, enterprise_id=eid, limit=0)[1],
        href=lambda eid: f"/risk/enterprise/{eid}",
    )
)
