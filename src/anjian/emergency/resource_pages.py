"""Console page of emergency resources (应急资源): the resources in scope by kind, on a map
coloured by kind (each marker linking to its row) and in the list; the form that registers one,
the Excel template and its import (all or nothing, the row report shown on refusal); and, at
each warehouse (物资储备库) this node keeps, its supplies — a stock set (入库、盘点) and a transfer
(调拨) to another warehouse kept here — with expired and near-expiry supplies marked. Every form
is the API's service call; a refusal is shown at the form in Chinese. Staff only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.core.iam.deps import Context
from anjian.core.paging import MAX_PAGE, PageNumber
from anjian.emergency import excel, resources
from anjian.emergency.api import MAX_UPLOAD_BYTES
from anjian.emergency.rules.resources import (
    EXPIRY_NOTICE_DAYS,
    KIND_LABELS,
    STATUS_LABELS,
    ResourceKind,
    expiry_state,
)
from anjian.emergency.schemas import ResourceCreate, SupplySet, TransferCreate
from anjian.web.forms import (
    FormRefusal,
    alert,
    call,
    division_choices,
    run_form,
    said_at_fields,
)
from anjian.web.imports import ImportPage
from anjian.web.layout import jurisdiction_map, page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx

router = pages_router(Path(__file__).parent / "templates")
ACTIVE = "emergency"
PAGE = "/emergency/resources"
PAGE_SIZE = 20
# The map's colour of each kind (its legend says which is which).
KIND_COLOURS = {
    ResourceKind.TEAM: "#d63939",
    ResourceKind.EQUIPMENT: "#f76707",
    ResourceKind.WAREHOUSE: "#206bc4",
    ResourceKind.EXPERT: "#ae3ec9",
    ResourceKind.SHELTER: "#2fb344",
    ResourceKind.MEDICAL: "#d6336c",
}
LABELS = {
    "kind": "类别",
    "name": "名称",
    "division_code": "行政区划",
    "owner": "所属单位",
    "address": "地址",
    "lng": "经度",
    "lat": "纬度",
    "status": "状态",
    "specialty": "专业",
    "headcount": "人数",
    "capacity": "容量",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "note": "备注",
}
SUPPLY_LABELS = {"name": "物资名称", "unit": "单位", "quantity": "数量", "expires_on": "有效期至"}
TRANSFER_LABELS = {
    "to_warehouse_id": "调入储备库",
    "supply_id": "物资",
    "quantity": "调拨数量",
    "reason": "事由",
}
DONE = {
    "create": "应急资源已登记。",
    "stock": "库存已更新。",
    "transfer": "调拨完成：调出库和调入库的库存已同时更新。",
}
# The small forms of a warehouse (their name's first part) and the labels of their fields.
SMALL_FORMS = {"stock": SUPPLY_LABELS, "supply": SUPPLY_LABELS, "transfer": TRANSFER_LABELS}
# How many warehouses a transfer may name as where it goes.
MAX_DESTINATIONS = 500


def _view(kind: str, page_no: int) -> tuple[str, int]:
    """The list shown: a known kind (else all) and a page number in range."""
    return (kind if kind in KIND_LABELS else ""), max(1, min(page_no, MAX_PAGE))


def _listing(kind: str, page_no: int, anchor: str = "", **extra: str) -> str:
    """The list page's address: ``kind`` and ``page_no`` kept, ``extra`` added (done, …)."""
    query = {"kind": kind, "page": str(page_no) if page_no > 1 else "", **extra}
    said = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return f"{PAGE}{'?' + said if said else ''}{'#' + anchor if anchor else ''}"


def _amount(r: Any) -> str:
    """A resource's numbers as the map says them: a team's people, a place's capacity."""
    said = []
    if r.headcount is not None:
        said.append(f"人数 {r.headcount}")
    if r.capacity is not None:
        said.append(f"容量 {r.capacity}")
    return "，".join(said)


def _map(ctx: Context, kind: str) -> dict[str, Any]:
    """The listed resources that have a position, coloured by kind, each linking to its row."""
    points = [
        {
            "id": r.uid,
            "name": r.name,
            "lng": r.lng,
            "lat": r.lat,
            "category": KIND_LABELS.get(r.kind, r.kind),
            "status": STATUS_LABELS.get(r.status, r.status),
            "lines": [x for x in (_amount(r), r.owner) if x],
            "colour": KIND_COLOURS.get(r.kind, "#666"),
            "href": _listing(kind, place // PAGE_SIZE + 1, f"resource-{r.id}"),
            "link_label": "在列表中查看",
        }
        for place, r in resources.map_points(ctx.db, ctx.scope, kind=kind or None)
    ]
    return jurisdiction_map(ctx.db, ctx.scope, points)


def _destinations(ctx: Context, node: str) -> list[tuple[str, str]]:
    """The warehouses in scope a transfer may go to: those this node keeps."""
    rows, _ = resources.list_resources(
        ctx.db, ctx.scope, kind=ResourceKind.WAREHOUSE, limit=MAX_DESTINATIONS
    )
    views = resources.present(ctx.db, rows)
    return [
        (str(v.id), f"{v.name}（{v.division_name}）")
        for r, v in zip(rows, views, strict=True)
        if r.origin_node == node
    ]


def _forms(
    warehouses: list[Any], kept_here: set[int], destinations: list[tuple[str, str]]
) -> set[str]:
    """The warehouse forms the page offers (named as its refusals are): at each warehouse kept
    here a supply's 入库, the 盘点 of each supply held, and 调拨 when there is stock to move
    and another warehouse to move it to."""
    forms: set[str] = set()
    for w in (w for w in warehouses if w.id in kept_here):
        forms |= {f"supply-{w.id}", *(f"stock-{s.id}" for s in w.supplies)}
        away = any(code != str(w.id) for code, _ in destinations)
        if away and any(s.quantity > 0 for s in w.supplies):
            forms.add(f"transfer-{w.id}")
    return forms


def _warehouse_of(request: Request, warehouses: list[Any]) -> int | None:
    """The listed warehouse a form was done at (the query's ``at``), if any."""
    at = request.query_params.get("at", "")
    return next((w.id for w in warehouses if str(w.id) == at), None)


def _list_page(
    request: Request,
    ctx: Context,
    page_no: int,
    kind: str,
    refusal: FormRefusal | None = None,
    at: int | None = None,
) -> Response:
    """The page; ``refusal``: a form refused, ``at`` the warehouse it was posted to."""
    refusal = refusal or FormRefusal()
    kind, page_no = _view(kind, page_no)
    rows, total = resources.list_resources(
        ctx.db, ctx.scope, kind=kind or None, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    node = get_settings().effective_node_id
    items = resources.present(ctx.db, rows)
    kept_here = {r.id for r in rows if r.origin_node == node}
    today = today_in_china()
    warehouses = [r for r in items if r.kind == ResourceKind.WAREHOUSE]
    small = SMALL_FORMS.get(refusal.form.split("-")[0])
    destinations = _destinations(ctx, node) if kept_here & {w.id for w in warehouses} else []
    shown = {"create", *_forms(warehouses, kept_here, destinations)}
    said = said_at_fields(refusal.errors, small) if small else alert(refusal.errors, LABELS)
    return page(
        request,
        ctx,
        "emergency/resources.html",
        {
            "items": items,
            "kept_here": kept_here,
            "warehouses": warehouses,
            "expiry": {
                s.id: expiry_state(s.expires_on, today) for w in warehouses for s in w.supplies
            },
            "notice_days": EXPIRY_NOTICE_DAYS,
            "destinations": destinations,
            "map": _map(ctx, kind),
            "kind_colours": KIND_COLOURS,
            "kinds": KIND_LABELS,
            "statuses": STATUS_LABELS,
            "kind": kind,
            "filters": {"kind": kind},
            "here": {"kind": kind, "page_no": str(page_no)},
            "division_choices": division_choices(ctx),
            "form": refusal.form,
            "values": refusal.values or {"division_code": ctx.user.division_code},
            "errors": refusal.errors,
            "alert": said,
            # A refused form the page does not offer (a warehouse kept elsewhere, or out of
            # scope): its refusal said at the warehouse, or on top when it is not listed.
            "stray": said if refusal.errors and refusal.form not in shown else "",
            "stray_at": at if any(w.id == at for w in warehouses) else None,
            "open_form": refusal.form == "create" or request.query_params.get("new") == "1",
            "done": DONE.get(request.query_params.get("done", ""), ""),
            # What a warehouse's form did is said at the warehouse (the page opens there).
            "done_at": _warehouse_of(request, warehouses),
            "imported": request.query_params.get("imported", ""),
            **pager_of(total, page_no, PAGE_SIZE),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/emergency/resources")
def resource_list(
    request: Request, ctx: StaffPageCtx, page_no: PageNumber = 1, kind: str = ""
) -> Response:
    """应急资源: the resources in scope by kind on the map and in the list, the registration
    form, the Excel import, and the supplies of the warehouses listed."""
    return _list_page(request, ctx, page_no, kind)


def _optional(form: dict[str, str], name: str) -> str | None:
    """A blank optional field (经度, 人数, 联系电话, 有效期至 …) means none."""
    return form.get(name) or None


@router.post("/emergency/resources")
async def resource_create(request: Request, ctx: StaffPageCtx) -> Response:
    """Register a resource through the API's service call; errors shown at the form."""

    def act(form: dict[str, str]) -> dict[str, str]:
        texts = ("kind", "name", "division_code", "owner", "address", "specialty")
        body: dict[str, Any] = {k: form.get(k, "") for k in (*texts, "contact_name", "note")}
        body["status"] = form.get("status") or "available"
        numbers = ("lng", "lat", "headcount", "capacity", "contact_phone")
        body |= {k: _optional(form, k) for k in numbers}

        def create(data: ResourceCreate) -> None:
            res = resources.create_resource(ctx.db, ctx.actor, ctx.scope, data)
            place = resources.place_in_list(ctx.db, ctx.scope, res.id, res.kind)
            form["__at__"] = _listing(
                res.kind, place // PAGE_SIZE + 1, f"resource-{res.id}", done="create"
            )

        return call(ResourceCreate, body, create)

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(values["__at__"], 303)
    return _list_page(request, ctx, 1, "", FormRefusal("create", errors, values, status))


def _shown(values: dict[str, str]) -> tuple[str, int]:
    """The list a warehouse's form was posted from (its hidden ``kind`` and ``page_no``)."""
    number = values.get("page_no", "")
    return _view(values.get("kind", ""), int(number) if number.isdigit() and len(number) < 9 else 1)


@router.post("/emergency/resources/{warehouse_id:int}/supplies")
async def supply_set(request: Request, warehouse_id: int, ctx: StaffPageCtx) -> Response:
    """Set a warehouse's stock of a supply (名称 + 单位): a new supply (入库) or a count of one
    held (盘点, its ``supply_id`` naming the form)."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {k: form.get(k, "") for k in ("name", "unit", "quantity")}
        body["expires_on"] = _optional(form, "expires_on")
        return call(
            SupplySet,
            body,
            lambda data: resources.set_supply(ctx.db, ctx.actor, ctx.scope, warehouse_id, data),
        )

    values, errors, status = await run_form(request, ctx, act)
    kind, page_no = _shown(values)
    if not errors:
        return RedirectResponse(
            _listing(
                kind, page_no, f"warehouse-{warehouse_id}", done="stock", at=str(warehouse_id)
            ),
            303,
        )
    held = values.get("supply_id", "")
    which = f"stock-{held}" if held else f"supply-{warehouse_id}"
    refusal = FormRefusal(which, errors, values, status)
    return _list_page(request, ctx, page_no, kind, refusal, at=warehouse_id)


@router.post("/emergency/resources/{warehouse_id:int}/transfers")
async def supply_transfer(request: Request, warehouse_id: int, ctx: StaffPageCtx) -> Response:
    """调拨 a quantity of one of a warehouse's supplies to another warehouse kept here: both
    stocks in one transaction."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {"from_warehouse_id": warehouse_id}
        body |= {k: form.get(k, "") for k in ("to_warehouse_id", "supply_id", "quantity")}
        body["reason"] = form.get("reason", "")
        return call(
            TransferCreate,
            body,
            lambda data: resources.transfer(ctx.db, ctx.actor, ctx.scope, data),
        )

    values, errors, status = await run_form(request, ctx, act)
    kind, page_no = _shown(values)
    if not errors:
        return RedirectResponse(
            _listing(
                kind, page_no, f"warehouse-{warehouse_id}", done="transfer", at=str(warehouse_id)
            ),
            303,
        )
    which = f"transfer-{warehouse_id}"
    refusal = FormRefusal(which, errors, values, status)
    return _list_page(request, ctx, page_no, kind, refusal, at=warehouse_id)


IMPORT = ImportPage(
    excel.read_file,
    MAX_UPLOAD_BYTES,
    back=PAGE,
    what="应急资源",
    active=ACTIVE,
    heading="应急管理 · 应急资源导入结果",
    template_href="/api/v1/emergency/resources/template.xlsx",
    tabs="emergency/_tabs.html",
    tab="resources",
)


@router.post("/emergency/resources/import")
async def resource_import(request: Request, ctx: StaffPageCtx) -> Response:
    """Import the .xlsx template (all rows or none); on refusal the problems row by row."""
    return await IMPORT(
        request,
        ctx,
        lambda sheet, source: excel.import_resources(
            ctx.db, ctx.actor, ctx.scope, sheet, source=source
        ),
    )
