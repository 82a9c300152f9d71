"""Request and response bodies of emergency management (应急管理): resources and their
supplies, transfers, the nearest resources, dispersion and threat zones."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from anjian.core.fields import PatchModel, one_of, text
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead
from anjian.emergency.rules.events import EVENT_TYPES, SOURCES
from anjian.emergency.rules.resources import KIND_LABELS, STATUS_LABELS
from anjian.enterprises.schemas import DivisionCode, Lat, Lng, Phone

Kind = Annotated[str, AfterValidator(one_of(KIND_LABELS, "资源类别", "kind"))]
Status = Annotated[str, AfterValidator(one_of(STATUS_LABELS, "资源状态", "status"))]
Count = Annotated[int | None, Field(ge=0, le=10_000_000)]
Quantity = Annotated[int, Field(ge=0, le=2**31 - 1)]


class ResourceCreate(BaseModel):
    """A resource of the agency (no ``enterprise_id``) or of an enterprise in scope."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    name: Annotated[str, AfterValidator(text(200, required=True))]
    division_code: DivisionCode
    enterprise_id: int | None = None
    owner: Annotated[str, AfterValidator(text(200))] = ""
    address: Annotated[str, AfterValidator(text(300))] = ""
    lng: Lng = None
    lat: Lat = None
    status: Status = "available"
    specialty: Annotated[str, AfterValidator(text(200))] = ""
    headcount: Count = None
    capacity: Count = None
    contact_name: Annotated[str, AfterValidator(text(64))] = ""
    contact_phone: Phone = None
    note: Annotated[str, AfterValidator(text(2000))] = ""


class ResourceUpdate(PatchModel):
    """The fields sent change; the kind, division and enterprise stay."""

    model_config = ConfigDict(extra="forbid")
    not_null = ("name", "owner", "address", "status", "specialty", "contact_name", "note")

    name: Annotated[str, AfterValidator(text(200, required=True))] | None = None
    owner: Annotated[str, AfterValidator(text(200))] | None = None
    address: Annotated[str, AfterValidator(text(300))] | None = None
    lng: Lng = None
    lat: Lat = None
    status: Status | None = None
    specialty: Annotated[str, AfterValidator(text(200))] | None = None
    headcount: Count = None
    capacity: Count = None
    contact_name: Annotated[str, AfterValidator(text(64))] | None = None
    contact_phone: Phone = None
    note: Annotated[str, AfterValidator(text(2000))] | None = None


class SupplyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    warehouse_id: int
    name: str
    unit: str
    quantity: int
    expires_on: date | None
    expired: bool = False


class ResourceRead(RecordRead):
    """A resource as users see it: names for codes, the phone masked."""

    kind: str
    kind_label: str
    name: str
    division_code: str
    division_name: str = ""
    enterprise_id: int | None
    enterprise_name: str = ""
    owner: str
    address: str
    lng: float | None
    lat: float | None
    status: str
    status_label: str
    specialty: str
    headcount: int | None
    capacity: int | None
    contact_name: str
    contact_phone: str | None
    note: str
    created_by: str
    supplies: list[SupplyRead] = []


class ResourcePage(PageOut):
    items: list[ResourceRead]


class NearResource(BaseModel):
    """A resource and how far it is from the place asked about (great circle, km)."""

    distance_km: float
    available: bool
    resource: ResourceRead


class NearestAnswer(BaseModel):
    lng: float
    lat: float
    kind: str | None
    items: list[NearResource]


class SupplySet(BaseModel):
    """Set a warehouse's stock of one supply (by name and unit): a new supply, or a count. A
    count without ``expires_on`` keeps the expiry the stock has; ``null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, AfterValidator(text(100, required=True))]
    unit: Annotated[str, AfterValidator(text(16, required=True))]
    quantity: Quantity
    expires_on: date | None = None


class TransferCreate(BaseModel):
    """调拨: move ``quantity`` of a supply from one warehouse to another of this node."""

    model_config = ConfigDict(extra="forbid")

    from_warehouse_id: int
    to_warehouse_id: int
    supply_id: int
    quantity: Annotated[int, Field(ge=1, le=2**31 - 1)]
    reason: Annotated[str, AfterValidator(text(500))] = ""


class TransferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    from_warehouse_id: int
    to_warehouse_id: int
    supply_name: str
    unit: str
    quantity: int
    reason: str
    transferred_by: str
    transferred_at: datetime


class DispersionRequest(BaseModel):
    """A steady Gaussian plume (``gaussian_plume``) of a continuous point release: the
    concentration at a receptor (x downwind, y crosswind, z height, in metres), and with ``lng``,
    ``lat`` and ``wind_from_deg`` the threat zones of ``thresholds_mg_m3`` or of a chemical's
    ``levels``. The stability class is derived from the weather when not given. (NaN and
    infinities never reach here: core.inputs refuses them in every JSON body.)"""

    model_config = ConfigDict(extra="forbid")

    model: Literal["gaussian_plume"] = "gaussian_plume"
    release_g_s: Annotated[float, Field(ge=0, le=1e7, description="释放速率 g/s")]
    release_height_m: Annotated[float, Field(ge=0, le=1000, description="释放高度 m")] = 0.0
    wind_speed_m_s: Annotated[float, Field(ge=0.5, le=50, description="10 m 高风速 m/s")]
    stability: Literal["A", "B", "C", "D", "E", "F"] | None = None
    daytime: bool | None = Field(default=None, description="无 stability 时：白天/夜间")
    insolation: Literal["strong", "moderate", "slight"] | None = None
    cloud_cover_octas: Annotated[int, Field(ge=0, le=8)] | None = None
    terrain: Literal["rural", "urban"] = "rural"
    receptor_x_m: Annotated[float, Field(ge=-1e5, le=1e5)] | None = None
    receptor_y_m: Annotated[float, Field(ge=-1e5, le=1e5)] = 0.0
    receptor_z_m: Annotated[float, Field(ge=0, le=1e4)] = 0.0
    lng: Lng = None
    lat: Lat = None
    wind_from_deg: Annotated[float, Field(ge=0, le=360, description="风向（来向）")] | None = None
    thresholds_mg_m3: Annotated[
        list[Annotated[float, Field(gt=0, le=1e9)]], Field(max_length=5)
    ] = []
    chemical: Annotated[str, AfterValidator(text(50))] | None = None
    levels: Annotated[
        list[Literal["AEGL-1", "AEGL-2", "AEGL-3", "ERPG-1", "ERPG-2", "ERPG-3", "IDLH"]],
        Field(max_length=5),
    ] = []
    max_distance_m: Annotated[float, Field(gt=10, le=50_000)] = 20_000.0


class ChemicalInfo(BaseModel):
    name: str
    cas: str
    dense: bool
    dense_note: str | None
    verified: bool
    sources: list[str]


class DispersionAnswer(BaseModel):
    """The concentration at the receptor (when one was given) and the threat zones (GeoJSON,
    when a place was given), with the class used and what limits the result. Each zone's
    properties name what in the caller's scope lies inside it: ``enterprises``, ``resources``
    and ``targets`` (protection targets, nearest the source first: ``name``, ``kind_label``,
    ``population``, ``distance_m``), with ``target_count``, ``population_total`` and
    ``population_unknown`` (targets without a recorded population) over every target inside."""

    model: str
    stability: str
    stability_derived: bool
    concentration_mg_m3: float | None = None
    sigma_y_m: float | None = None
    sigma_z_m: float | None = None
    chemical: ChemicalInfo | None = None
    zones: dict[str, Any] | None = None
    warnings: list[str] = []


# --- events -----------------------------------------------------------------------------------

EventType = Annotated[str, AfterValidator(one_of(EVENT_TYPES, "事件类型", "event type"))]
Source = Annotated[str, AfterValidator(one_of(SOURCES, "接报来源", "source"))]
Level = Annotated[int, Field(ge=1, le=4, description="响应级别 1 (Ⅰ) … 4 (Ⅳ)")]
ShortText = Annotated[str, AfterValidator(text(64, required=True))]


class CommandGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    lead: Annotated[str, AfterValidator(text(64))] = ""
    members: Annotated[list[ShortText], Field(max_length=50)] = []


class EventCreate(BaseModel):
    """接报: an event received now (or at ``received_at``) in a division of your jurisdiction,
    or at an enterprise in scope."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, AfterValidator(text(200, required=True))]
    event_type: EventType
    division_code: DivisionCode
    enterprise_id: int | None = None
    place: Annotated[str, AfterValidator(text(300))] = ""
    lng: Lng = None
    lat: Lat = None
    level: Level | None = None
    source: Source = "call"
    source_ref: Annotated[str, AfterValidator(text(64))] = ""
    received_at: AwareDatetime | None = None
    reporter: Annotated[str, AfterValidator(text(200))] = ""
    summary: Annotated[str, AfterValidator(text(4000))] = ""


class LevelChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level
    reason: Annotated[str, AfterValidator(text(1000, required=True))]


class SituationReport(BaseModel):
    """续报: what is known now (casualties, spread, measures)."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, AfterValidator(text(4000, required=True))]


class CommandSet(BaseModel):
    """The command structure (指挥部): 总指挥, 现场指挥 and the groups."""

    model_config = ConfigDict(extra="forbid")

    commander: Annotated[str, AfterValidator(text(64, required=True))]
    site_commander: Annotated[str, AfterValidator(text(64))] = ""
    groups: Annotated[list[CommandGroup], Field(max_length=20)] = []


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, AfterValidator(text(200, required=True))]
    owner: ShortText
    due_at: AwareDatetime | None = None


class DispatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_id: int
    note: Annotated[str, AfterValidator(text(500))] = ""


class DispatchStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["dispatched", "arrived", "released"]


class EventClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review: Annotated[str, AfterValidator(text(8000, required=True))]


class OrderCreate(BaseModel):
    """指令: an order about an event to a division below the issuer's (it reaches that
    division and everything below it, and is signed for there)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, AfterValidator(text(200, required=True))]
    body: Annotated[str, AfterValidator(text(4000))] = ""
    target_division: DivisionCode


class OrderReceiptRead(BaseModel):
    """签收 of an order by one division, with the minutes it took from issue."""

    division_code: str
    division_name: str
    signed_by: str
    signed_at: datetime
    note: str
    minutes: int


class OrderRead(BaseModel):
    """An order about the event, who issued it to whom, and its receipts in the reader's
    scope; ``can_sign`` when the reader's division may sign for it now."""

    uid: str
    title: str
    body: str
    issuer_name: str
    issuer_division: str
    target_division: str
    target_name: str
    issued_at: datetime
    origin_node: str
    receipts: list[OrderReceiptRead]
    signed: bool
    can_sign: bool


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: str
    kind: str
    kind_label: str = ""
    text: str
    detail: dict[str, Any]
    at: datetime
    by: str


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    title: str
    owner: str
    due_at: datetime | None
    state: str
    done_at: datetime | None
    overdue: bool = False


class DispatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    resource_uid: str
    resource_name: str
    resource_kind: str
    state: str
    state_label: str = ""
    times: dict[str, datetime]  # each step: when (stored as ISO text)
    note: str


class EventRead(RecordRead):
    number: str
    title: str
    event_type: str
    event_type_label: str
    division_code: str
    division_name: str = ""
    enterprise_id: int | None
    enterprise_name: str = ""
    place: str
    lng: float | None
    lat: float | None
    level: int | None
    level_label: str
    state: str
    state_label: str
    source: str
    source_ref: str
    received_at: datetime
    reporter: str
    summary: str
    commander: str
    site_commander: str
    groups: list[dict[str, Any]]
    closed_at: datetime | None
    review: str
    created_by: str
    timeline: list[EntryRead] = []
    tasks: list[TaskRead] = []
    dispatches: list[DispatchRead] = []
    orders: list[OrderRead] = []
    # The latest 扩散分析: ``at``, ``by``, the ``request`` and the ``answer`` (zones as GeoJSON).
    analysis: dict[str, Any] | None = None


class EventPage(PageOut):
    items: list[EventRead]
