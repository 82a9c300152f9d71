"""Emergency management API (应急管理): resources and the nearest of a kind, warehouses'
supplies and transfers (调拨)."""

# No ``from __future__ import annotations``: FastAPI reads the filters' annotations.

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, UploadFile

from anjian.core.api_kit import (
    IMPORT_REFUSED,
    JurisdictionFilters,
    import_answer,
    list_page,
    read_upload,
)
from anjian.core.contacts import RevealedContacts
from anjian.core.downloads import xlsx_response
from anjian.core.fields import Uid
from anjian.core.iam.deps import Ctx
from anjian.core.paging import Paging
from anjian.core.xlsx import ImportResult
from anjian.directives.schemas import ReceiptCreate
from anjian.emergency import analysis, events, excel, orders, resources
from anjian.emergency import dispersion as emergency_dispersion
from anjian.emergency.resources import MAX_NEAREST
from anjian.emergency.schemas import (
    CommandSet,
    DispatchCreate,
    DispatchStep,
    DispersionAnswer,
    DispersionRequest,
    EventClose,
    EventCreate,
    EventPage,
    EventRead,
    LevelChange,
    NearestAnswer,
    OrderCreate,
    OrderRead,
    ResourceCreate,
    ResourcePage,
    ResourceRead,
    ResourceUpdate,
    SituationReport,
    SupplyRead,
    SupplySet,
    TaskCreate,
    TransferCreate,
    TransferRead,
)

router = APIRouter(prefix="/api/v1/emergency", tags=["emergency 应急管理"])
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

KindQuery = Annotated[
    str | None,
    Query(max_length=16, description="team | equipment | warehouse | expert | shelter | medical"),
]


@dataclass(frozen=True)
class ResourceFilters(JurisdictionFilters):
    kind: KindQuery = None
    status: Annotated[
        str | None, Query(max_length=16, description="available | deployed | unavailable")
    ] = None
    q: Annotated[str | None, Query(max_length=100, description="名称包含")] = None


def _read(ctx: Ctx, row: object) -> ResourceRead:
    return resources.present(ctx.db, [row])[0]  # type: ignore[list-item]


@router.post("/resources", response_model=ResourceRead, status_code=201)
def create_resource(body: ResourceCreate, ctx: Ctx) -> ResourceRead:
    """Register a resource of a division in your jurisdiction, or of an enterprise in scope (an
    enterprise user: their own)."""
    return _read(ctx, resources.create_resource(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/resources", response_model=ResourcePage)
def list_resources(
    ctx: Ctx, filters: Annotated[ResourceFilters, Depends()], paging: Paging
) -> ResourcePage:
    """Resources in scope by kind and name (a warehouse with its supplies)."""
    return list_page(
        ResourcePage, resources.list_resources, ctx, filters, paging, resources.present
    )


@router.get("/resources/template.xlsx", response_class=Response)
def resources_template(ctx: Ctx) -> Response:
    """The Excel template of the resource import (应急资源导入模板)."""
    return xlsx_response(excel.template(), "emergency-resources-template", "应急资源导入模板")


@router.post("/resources/import", response_model=ImportResult, responses=IMPORT_REFUSED)
def import_resources(file: UploadFile, ctx: Ctx) -> Any:
    """Register resources from the template layout: all rows or none, with a row-by-row report
    (each resource audited and synced as one registered through the API)."""
    sheet = excel.read_file(read_upload(file, MAX_UPLOAD_BYTES))
    outcome = excel.import_resources(
        ctx.db, ctx.actor, ctx.scope, sheet, source=file.filename or ""
    )
    return import_answer(outcome, lambda: ImportResult(imported=len(outcome.ids), ids=outcome.ids))


@router.get("/resources/nearest", response_model=NearestAnswer)
def nearest_resources(
    ctx: Ctx,
    lng: Annotated[float, Query(ge=-180, le=180, description="经度")],
    lat: Annotated[float, Query(ge=-90, le=90, description="纬度")],
    kind: KindQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_NEAREST)] = 10,
) -> NearestAnswer:
    """The resources in scope (of ``kind``) nearest to a place by great-circle distance (km,
    ascending), each with whether it can be called now. Resources without a position are left
    out."""
    found = resources.nearest(ctx.db, ctx.scope, lng, lat, kind=kind, limit=limit)
    return NearestAnswer(lng=lng, lat=lat, kind=kind, items=resources.near_views(ctx.db, found))


@router.get("/resources/{resource_id}", response_model=ResourceRead)
def get_resource(resource_id: int, ctx: Ctx) -> ResourceRead:
    """One resource in scope."""
    return _read(ctx, resources.get_resource(ctx.db, ctx.scope, resource_id))


@router.patch("/resources/{resource_id}", response_model=ResourceRead)
def update_resource(resource_id: int, body: ResourceUpdate, ctx: Ctx) -> ResourceRead:
    """Change the fields sent (status 可调用/执行任务中/不可用, headcount, contact …)."""
    res = resources.update_resource(ctx.db, ctx.actor, ctx.scope, resource_id, body)
    return _read(ctx, res)


@router.post("/resources/{resource_id}/contacts/reveal", response_model=RevealedContacts)
def reveal_contact(resource_id: int, ctx: Ctx) -> RevealedContacts:
    """The contact's full phone number (audited as ``emergency_resource.reveal``)."""
    return resources.reveal_contact(ctx.db, ctx.actor, ctx.scope, resource_id)


@router.put("/resources/{resource_id}/supplies", response_model=SupplyRead)
def set_supply(resource_id: int, body: SupplySet, ctx: Ctx) -> SupplyRead:
    """Set a warehouse's stock of a supply (名称 + 单位): added when new, counted when not."""
    supply = resources.set_supply(ctx.db, ctx.actor, ctx.scope, resource_id, body)
    return SupplyRead.model_validate(supply)


@router.get("/resources/{resource_id}/transfers", response_model=list[TransferRead])
def list_transfers(resource_id: int, ctx: Ctx) -> list[TransferRead]:
    """A warehouse's transfers, out and in, the latest first."""
    rows = resources.transfers_of(ctx.db, ctx.scope, resource_id)
    return [TransferRead.model_validate(r) for r in rows]


@router.post("/transfers", response_model=TransferRead, status_code=201)
def transfer(body: TransferCreate, ctx: Ctx) -> TransferRead:
    """调拨: move a quantity of a supply between two warehouses of this node, both stocks in
    one transaction (409 when the source holds less)."""
    return TransferRead.model_validate(resources.transfer(ctx.db, ctx.actor, ctx.scope, body))


@router.post("/dispersion", response_model=DispersionAnswer)
def dispersion(body: DispersionRequest, ctx: Ctx) -> DispersionAnswer:
    """扩散分析: the steady Gaussian plume with ground reflection (Briggs σ, rural or urban) at a
    receptor — ``concentration_mg_m3``, ``sigma_y_m``, ``sigma_z_m`` — and, given ``lng``,
    ``lat`` and ``wind_from_deg``, the threat zones of ``thresholds_mg_m3`` or of a chemical's
    AEGL/ERPG/IDLH ``levels`` as GeoJSON polygons with the enterprises and resources in scope
    inside each. The stability class is derived from the weather when not given. A screening
    estimate: see ``warnings`` and the README for the model's limits."""
    return emergency_dispersion.analyse(ctx.db, ctx.scope, body)


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters(JurisdictionFilters):
    state: Annotated[str | None, Query(max_length=16, description="active | closed")] = None


def _event(ctx: Ctx, ev: object) -> EventRead:
    view = events.present(ctx.db, [ev])[0]  # type: ignore[list-item]
    return orders.with_orders(ctx.db, ctx.scope, ctx.user, view)


@router.post("/events", response_model=EventRead, status_code=201)
def create_event(body: EventCreate, ctx: Ctx) -> EventRead:
    """接报: an event received (a call, an alarm, an accident report, a report from below) in a
    division of your jurisdiction, with the time it was received."""
    return _event(ctx, events.create_event(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/events", response_model=EventPage)
def list_events(ctx: Ctx, filters: Annotated[EventFilters, Depends()], paging: Paging) -> EventPage:
    """Events in scope, those in progress first, the latest received first (without their
    timelines: open one for those)."""
    return list_page(
        EventPage,
        events.list_events,
        ctx,
        filters,
        paging,
        lambda db, rows: events.present(db, rows, detail=False),
    )


@router.get("/events/{event_id}", response_model=EventRead)
def get_event(event_id: int, ctx: Ctx) -> EventRead:
    """One event with its timeline, tasks and dispatched resources."""
    return _event(ctx, events.get_event(ctx.db, ctx.scope, event_id))


@router.post("/events/{event_id}/level", response_model=EventRead)
def change_level(event_id: int, body: LevelChange, ctx: Ctx) -> EventRead:
    """Set, raise or lower the response level (1 = Ⅰ … 4 = Ⅳ) with the reason."""
    return _event(ctx, events.change_level(ctx.db, ctx.actor, ctx.scope, event_id, body))


@router.post("/events/{event_id}/reports", response_model=EventRead)
def situation_report(event_id: int, body: SituationReport, ctx: Ctx) -> EventRead:
    """续报: a situation report on the timeline."""
    return _event(ctx, events.report(ctx.db, ctx.actor, ctx.scope, event_id, body))


@router.put("/events/{event_id}/command", response_model=EventRead)
def set_command(event_id: int, body: CommandSet, ctx: Ctx) -> EventRead:
    """The command structure: 总指挥, 现场指挥, groups with their members."""
    return _event(ctx, events.set_command(ctx.db, ctx.actor, ctx.scope, event_id, body))


@router.post("/events/{event_id}/tasks", response_model=EventRead, status_code=201)
def add_task(event_id: int, body: TaskCreate, ctx: Ctx) -> EventRead:
    """A task with its owner and deadline."""
    events.add_task(ctx.db, ctx.actor, ctx.scope, event_id, body)
    return _event(ctx, events.get_event(ctx.db, ctx.scope, event_id))


@router.post("/events/{event_id}/tasks/{task_id}/done", response_model=EventRead)
def finish_task(event_id: int, task_id: int, ctx: Ctx) -> EventRead:
    """A task done."""
    events.finish_task(ctx.db, ctx.actor, ctx.scope, event_id, task_id)
    return _event(ctx, events.get_event(ctx.db, ctx.scope, event_id))


@router.post("/events/{event_id}/dispatches", response_model=EventRead, status_code=201)
def dispatch(event_id: int, body: DispatchCreate, ctx: Ctx) -> EventRead:
    """Call a resource in scope to the event (requested)."""
    events.dispatch(ctx.db, ctx.actor, ctx.scope, event_id, body)
    return _event(ctx, events.get_event(ctx.db, ctx.scope, event_id))


@router.post("/events/{event_id}/dispatches/{dispatch_id}", response_model=EventRead)
def dispatch_step(event_id: int, dispatch_id: int, body: DispatchStep, ctx: Ctx) -> EventRead:
    """A dispatched resource moves on: dispatched, arrived or released (forward only)."""
    events.dispatch_step(ctx.db, ctx.actor, ctx.scope, event_id, dispatch_id, body)
    return _event(ctx, events.get_event(ctx.db, ctx.scope, event_id))


@router.post("/events/{event_id}/analysis", response_model=EventRead)
def analyse_event(event_id: int, body: DispersionRequest, ctx: Ctx) -> EventRead:
    """扩散分析 of the event's release: the dispersion body (a chemical and its levels, or
    thresholds; the release and the weather; ``wind_from_deg`` required), placed at the event
    unless ``lng``/``lat`` are given. The answer is kept with the event (``analysis``) and
    synced up with it, and summed up on the timeline."""
    return _event(ctx, analysis.analyse(ctx.db, ctx.actor, ctx.scope, event_id, body))


@router.post("/events/{event_id}/close", response_model=EventRead)
def close_event(event_id: int, body: EventClose, ctx: Ctx) -> EventRead:
    """结束 with the after-action review (总结评估); resources still out are released."""
    return _event(ctx, events.close_event(ctx.db, ctx.actor, ctx.scope, event_id, body))


@router.get("/events/{event_id}/orders", response_model=list[OrderRead])
def list_orders(event_id: int, ctx: Ctx) -> list[OrderRead]:
    """The orders (指令) about the event you may read — those you issued, those addressed to
    your division — with the receipts (签收) of the divisions in your scope."""
    ev = events.get_event(ctx.db, ctx.scope, event_id)
    return orders.of_event(ctx.db, ctx.scope, ctx.user, ev)


@router.post("/events/{event_id}/orders", response_model=OrderRead, status_code=201)
def issue_order(event_id: int, body: OrderCreate, ctx: Ctx) -> OrderRead:
    """下达指令 about an event in progress to a division below yours (at the node that keeps
    the event or one above it): a directive that flows down and is signed for there."""
    order = orders.issue(ctx.db, ctx.actor, ctx.scope, ctx.user, event_id, body)
    return orders.read(ctx.db, ctx.scope, ctx.user, event_id, order.uid)


@router.post("/events/{event_id}/orders/{uid}/receipts", response_model=OrderRead, status_code=201)
def sign_order(event_id: int, uid: Uid, body: ReceiptCreate, ctx: Ctx) -> OrderRead:
    """签收 an order about the event for your division; the receipt flows up to the issuer."""
    orders.sign(ctx.db, ctx.actor, ctx.scope, ctx.user, event_id, uid, body.note)
    return orders.read(ctx.db, ctx.scope, ctx.user, event_id, uid)
