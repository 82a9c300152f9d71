"""Enterprise console pages (一企一档): list, detail, edit form and the enterprise map.

Every read goes through the enterprise service with the user's scope, exactly as the API does;
writes go through the service too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from anjian.core.errors import AnjianError
from anjian.core.paging import PageNumber
from anjian.enterprises import excel, service
from anjian.enterprises.api import MAX_UPLOAD_BYTES
from anjian.enterprises.labels import CATEGORY_COLOURS
from anjian.enterprises.rules import SCALES, STATUSES, SUPERVISION_CATEGORIES
from anjian.enterprises.schemas import EnterpriseUpdate
from anjian.web import dossier
from anjian.web.forms import posted_form
from anjian.web.imports import ImportPage
from anjian.web.layout import (
    division_name,
    jurisdiction_map,
    maintained_elsewhere,
    page,
    pager_of,
    revealed_phone,
)
from anjian.web.render import map_tiles, pages_router, zh
from anjian.web.session import PageCtx, StaffPageCtx, refused

router = pages_router(Path(__file__).parent / "templates")

PAGE_SIZE = 20
STATUS_BADGES = {
    "operating": "bg-green-lt",
    "suspended": "bg-yellow-lt",
    "construction": "bg-blue-lt",
    "closed": "bg-secondary-lt",
}


# --- the form of the edit page -----------------------------------------------------------------

# (field, label, input kind, choices, hint)
FIELDS: list[tuple[str, str, str, dict[str, str] | None, str]] = [
    ("name", "企业名称", "text", None, ""),
    ("division_code", "行政区划代码", "text", None, "6 位 GB/T 2260 代码"),
    ("address", "地址", "text", None, ""),
    ("supervision_category", "监管类别", "select", SUPERVISION_CATEGORIES, ""),
    ("industry_code", "行业代码", "text", None, "GB/T 4754，如 B06、C26"),
    ("scale", "企业规模", "select", SCALES, ""),
    ("status", "经营状态", "select", STATUSES, ""),
    ("employees", "从业人数", "number", None, ""),
    ("lng", "经度", "decimal", None, "如 113.19"),
    ("lat", "纬度", "decimal", None, "如 39.55"),
    ("legal_rep", "法定代表人", "text", None, ""),
    ("legal_rep_phone", "法定代表人电话", "phone", None, "留空则不修改"),
    ("safety_manager", "安全负责人", "text", None, ""),
    ("safety_manager_phone", "安全负责人电话", "phone", None, "留空则不修改"),
    ("licence_no", "安全生产许可证编号", "text", None, ""),
    ("licence_valid_until", "许可证有效期至", "date", None, ""),
]
_NULLABLE = {"lng", "lat", "employees", "licence_no", "licence_valid_until"}
_PHONES = set(service.PHONE_COLUMNS)

# Pydantic's own error types, in Chinese (our validators already speak Chinese).
_PYDANTIC_ZH = {
    "float_parsing": "请输入数字",
    "float_type": "请输入数字",
    "int_parsing": "请输入整数",
    "int_type": "请输入整数",
    "int_from_float": "请输入整数",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "missing": "必填",
    "string_type": "请输入文本",
    "extra_forbidden": "不允许修改此项",
}


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Field → Chinese message, the first error of each field."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else "__all__"
        message = _PYDANTIC_ZH.get(err["type"]) or zh(err["msg"])
        errors.setdefault(field, message)
    return errors


def _form_values(ent: Any) -> dict[str, Any]:
    values = {name: getattr(ent, name, None) for name, *_ in FIELDS if name not in _PHONES}
    return {k: "" if v is None else str(v) for k, v in values.items()}


def _editable(ctx: Any) -> set[str]:
    if ctx.scope.is_enterprise:
        return set(service.ENTERPRISE_EDITABLE)
    return {name for name, *_ in FIELDS}


def _changes_from_form(form: dict[str, str], editable: set[str]) -> dict[str, Any]:
    """The PATCH body a submitted form means: blank phones are left alone, other blank
    optional fields are cleared."""
    data: dict[str, Any] = {}
    for name, *_ in FIELDS:
        if name not in editable or name not in form:
            continue
        value = form[name].strip()
        if name in _PHONES:
            if value:
                data[name] = value
        elif name in _NULLABLE and value == "":
            data[name] = None
        else:
            data[name] = value
    return data


# --- pages -------------------------------------------------------------------------------------


@router.get("/enterprises")
def enterprise_list(
    request: Request,
    ctx: PageCtx,
    q: str = "",
    category: str = "",
    status: str = "",
    division: str = "",
    page_no: PageNumber = 1,
) -> Response:
    """企业档案: the enterprises in scope, filtered and paged."""
    filters = {"q": q.strip(), "category": category, "status": status, "division": division}
    items, total = service.list_enterprises(
        ctx.db,
        ctx.scope,
        q=filters["q"] or None,
        category=category or None,
        status=status or None,
        division=division or None,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    return page(
        request,
        ctx,
        "enterprises/list.html",
        {
            "rows": service.present(ctx.db, items),
            **pager_of(total, page_no, PAGE_SIZE),
            "filters": filters,
            "division_label": division_name(ctx.db, division) if division else "",
            "categories": SUPERVISION_CATEGORIES,
            "statuses": STATUSES,
            "status_badges": STATUS_BADGES,
            "colours": CATEGORY_COLOURS,
            "imported": request.query_params.get("imported"),
        },
        active="enterprises",
    )


@router.get("/enterprises/{enterprise_id}")
def enterprise_detail(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """One enterprise file (一企一档): every field, phones masked, its place on a small map, and
    its records in every domain, each counted and linked to its list filtered to it."""
    ent = service.get_enterprise(ctx.db, ctx.scope, enterprise_id, ctx.actor)
    view = service.present(ctx.db, [ent])[0]
    return page(
        request,
        ctx,
        "enterprises/detail.html",
        {
            "e": view,
            "map": {
                "tiles": map_tiles(),
                "points": [
                    {
                        "id": view.id,
                        "name": view.name,
                        "lng": view.lng,
                        "lat": view.lat,
                        "colour": CATEGORY_COLOURS.get(view.supervision_category, "#666"),
                    }
                ]
                if view.lng is not None and view.lat is not None
                else [],
                "zoom": 11,
            },
            "status_badges": STATUS_BADGES,
            "colours": CATEGORY_COLOURS,
            "saved": request.query_params.get("saved") == "1",
            "maintained_by": maintained_elsewhere(ent),
            "records": dossier.record_links(ctx.db, ctx.scope, ent.id),
        },
        active="enterprises",
    )


@router.post("/enterprises/{enterprise_id}/contacts/reveal")
async def enterprise_reveal(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """显示号码: one full phone of the file as a tel: link (audited)."""
    return await revealed_phone(
        request,
        lambda field: service.reveal_contacts(ctx.db, ctx.actor, ctx.scope, enterprise_id, field),
    )


def _edit_page(
    request: Request,
    ctx: Any,
    ent: Any,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = service.present(ctx.db, [ent])[0]
    return page(
        request,
        ctx,
        "enterprises/edit.html",
        {
            "e": view,
            "fields": FIELDS,
            "values": values,
            "errors": errors or {},
            "editable": _editable(ctx),
            "maintained_by": maintained_elsewhere(ent),
            "masked": {
                "legal_rep_phone": view.legal_rep_phone_masked,
                "safety_manager_phone": view.safety_manager_phone_masked,
            },
        },
        active="enterprises",
        status_code=status_code,
    )


@router.get("/enterprises/{enterprise_id}/edit")
def enterprise_edit(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """The edit form of an enterprise file."""
    ent = service.get_enterprise(ctx.db, ctx.scope, enterprise_id, ctx.actor)
    return _edit_page(request, ctx, ent, _form_values(ent))


@router.post("/enterprises/{enterprise_id}/edit")
async def enterprise_save(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """Save the edit form (a PATCH through the service); errors are shown at their fields."""
    form = await posted_form(request)
    ent = service.get_enterprise(ctx.db, ctx.scope, enterprise_id, ctx.actor)
    values = {**_form_values(ent), **{k: v for k, v in form.items() if k not in _PHONES}}
    try:
        data = EnterpriseUpdate.model_validate(_changes_from_form(form, _editable(ctx)))
    except ValidationError as exc:
        return _edit_page(request, ctx, ent, values, form_errors(exc), status_code=422)
    try:
        service.update_enterprise(ctx.db, ctx.actor, ctx.scope, enterprise_id, data)
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        ent = service.get_enterprise(ctx.db, ctx.scope, enterprise_id, ctx.actor)
        return _edit_page(request, ctx, ent, values, errors, status_code=exc.status)
    return RedirectResponse(f"/enterprises/{enterprise_id}?saved=1", status_code=303)


IMPORT = ImportPage(
    excel.read_file,
    MAX_UPLOAD_BYTES,
    back="/enterprises",
    what="企业档案",
    active="enterprises",
    heading="企业导入结果",
)


@router.post("/enterprises/import")
async def enterprise_import(request: Request, ctx: StaffPageCtx) -> Response:
    """Import an .xlsx registry (all rows or none); problems are listed row by row."""
    # The registry is parsed off the event loop (ImportPage): a large one takes seconds to read.
    return await IMPORT(
        request,
        ctx,
        lambda sheet, source: excel.import_workbook(
            ctx.db, ctx.actor, ctx.scope, sheet, source=source
        ),
    )


@router.get("/map")
def enterprise_map(request: Request, ctx: PageCtx, category: str = "", q: str = "") -> Response:
    """企业地图: the located enterprises in scope, coloured by supervision category."""
    points = service.map_points(ctx.db, ctx.scope, category=category or None, q=q.strip() or None)
    data = jurisdiction_map(
        ctx.db,
        ctx.scope,
        [
            {
                "id": p.id,
                "name": p.name,
                "lng": p.lng,
                "lat": p.lat,
                "category": p.category_label,
                "status": STATUSES.get(p.status, p.status),
                "colour": CATEGORY_COLOURS.get(p.category, "#666"),
            }
            for p in points
        ],
    )
    return page(
        request,
        ctx,
        "enterprises/map.html",
        {
            "data": data,
            "count": len(points),
            "categories": SUPERVISION_CATEGORIES,
            "colours": CATEGORY_COLOURS,
            "filters": {"category": category, "q": q},
        },
        active="map",
    )
