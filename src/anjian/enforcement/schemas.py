"""Enforcement request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from anjian.core.fields import Uid, invalid, text
from anjian.core.paging import PageOut
from anjian.enforcement.rules.documents import CompulsoryMeasure
from anjian.enforcement.rules.draw import MIN_INSPECTORS, Weighting
from anjian.enforcement.rules.inspections import InspectionSource
from anjian.enforcement.rules.penalties import Discretion
from anjian.enterprises.schemas import Category, DivisionCode, Lat, Lng

MAX_DRAW = 10_000  # enterprises in one draw
ItemResult = Literal["ok", "finding", "na"]  # 符合, 不符合, 不适用


def _seed(value: str | None) -> str | None:
    if value is not None and not (1 <= len(value) <= 64 and value.isprintable()):
        raise invalid("seed", "随机种子须为 1–64 个可打印字符 (seed: 1–64 printable characters)")
    return value


def _certificate(value: str) -> str:
    value = value.strip()
    if not (1 <= len(value) <= 32 and value.isprintable()):
        raise invalid(
            "certificate_no", "执法证号须为 1–32 个可打印字符 (certificate_no: 1–32 characters)"
        )
    return value


class ConflictCreate(BaseModel):
    """A declared conflict of interest (利害关系) with an enterprise: the draw avoids it."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    reason: Annotated[str, AfterValidator(text(200, required=True))]


class ConflictRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    enterprise_id: int
    enterprise_name: str = ""
    reason: str
    declared_at: datetime


class InspectorCreate(BaseModel):
    """Register an official as an enforcement officer (执法人员) with their certificate."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=2**31 - 1)
    certificate_no: Annotated[str, AfterValidator(_certificate)]


class InspectorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    division_code: str
    certificate_no: str
    active: bool
    conflicts: list[ConflictRead] = []


class DrawCreate(BaseModel):
    """A random draw (双随机) over the enterprises of a jurisdiction."""

    model_config = ConfigDict(extra="forbid")

    division_code: DivisionCode
    categories: list[Category] = Field(default_factory=list, max_length=20)
    enterprise_count: int = Field(ge=1, le=MAX_DRAW)
    inspectors_per_check: int = Field(default=MIN_INSPECTORS, ge=MIN_INSPECTORS, le=10)
    seed: Annotated[str | None, AfterValidator(_seed)] = None
    weights: Weighting = Weighting.UNIFORM


class TeamMember(BaseModel):
    """An officer of a team, as recorded with the draw or inspection (``inspector_id`` there)."""

    model_config = ConfigDict(populate_by_name=True)

    id: int = Field(validation_alias=AliasChoices("id", "inspector_id"))
    name: str
    certificate_no: str


class DrawnEnterprise(BaseModel):
    id: int
    name: str = ""
    division_code: str
    inspectors: list[TeamMember]


class DrawRead(BaseModel):
    id: int
    uid: str
    seed: str
    population_hash: str
    division_code: str
    categories: list[str]
    weights: str
    enterprise_count: int
    inspectors_per_check: int
    drawn_at: datetime
    drawn_by: str
    origin_node: str
    enterprises: list[DrawnEnterprise]


class DrawPage(PageOut):
    """One page of draws and the total number of matches."""

    items: list[DrawRead]


class DrawVerification(BaseModel):
    """The draw recomputed from its recorded seed and population."""

    id: int
    matches: bool
    population_hash: str
    population_hash_matches: bool
    # whether today's population in the jurisdiction is still the one drawn from
    population_unchanged: bool | None
    message: str


class InspectionCreate(BaseModel):
    """Plan an on-site inspection (现场检查): of a drawn check (enterprise and team from the draw
    unless given) or of any enterprise in scope with a team of officers."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    draw_check_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    source: InspectionSource = InspectionSource.PLAN
    source_ref: Annotated[str, AfterValidator(text(64))] = ""
    team: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=10
    )
    planned_on: date


class InspectionFinish(BaseModel):
    """The inspection's conclusion (检查情况) and the checklist's results by item code."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, AfterValidator(text(4000, required=True))]
    results: dict[Annotated[str, Field(max_length=16)], ItemResult] = Field(
        default_factory=dict, max_length=200
    )


class FindingCreate(BaseModel):
    """A problem found on site; ``item_code`` names the checklist item it breaks, if any."""

    model_config = ConfigDict(extra="forbid")

    item_code: Annotated[str, AfterValidator(text(16))] = ""
    place: Annotated[str, AfterValidator(text(200, required=True))]
    description: Annotated[str, AfterValidator(text(4000, required=True))]
    major: bool = False
    lng: Lng = Field(default=None, description="发现位置经度")
    lat: Lat = Field(default=None, description="发现位置纬度")


class ImageEntry(BaseModel):
    """An image kept with a record: its SM3 digest (the file's name at the node that holds it),
    name, media type, size, and who attached it when."""

    sm3: str
    name: str
    type: str
    size: int
    by: str
    at: str


SignerRole = Literal["enterprise", "inspector"]


class SignatureEntry(ImageEntry):
    """A signature drawn on site, with who signed and as whom (被检查单位 or 执法人员)."""

    signer: str
    role: SignerRole


class FindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    inspection_id: int
    enterprise_id: int
    item_code: str
    place: str
    description: str
    major: bool
    hidden_hazard_id: int | None
    lng: float | None = None
    lat: float | None = None
    photos: list[ImageEntry] = []
    signatures: list[SignatureEntry] = []
    found_by: str
    found_at: datetime


class DocumentCreate(BaseModel):
    """Issue a document of an inspection: 现场检查记录, 责令限期整改指令书 (with the deadline),
    整改复查意见书 (with the opinion) or 强制措施决定书 (with the measure and what it applies to)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal[
        "inspection_record", "rectification_order", "review_opinion", "compulsory_measure"
    ]
    deadline: date | None = None
    opinion: Annotated[str, AfterValidator(text(4000))] = ""
    measure: CompulsoryMeasure | None = None
    subject: Annotated[str, AfterValidator(text(1000))] = ""  # the facilities, goods or site


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    kind: str
    kind_label: str = ""
    number: str
    year: int
    serial: int
    inspection_id: int | None
    enterprise_id: int
    agency_division: str
    issued_by: str
    issued_at: datetime
    content: dict[str, Any]


class InspectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    origin_node: str
    version: int
    enterprise_id: int
    enterprise_name: str = ""
    division_code: str
    agency_division: str
    source: str
    source_label: str = ""
    source_ref: str
    draw_check_id: int | None
    team: list[TeamMember]
    checklist: list[dict[str, str]]
    planned_on: date
    state: str
    state_label: str = ""
    started_at: datetime | None
    finished_at: datetime | None
    summary: str
    created_by: str
    findings: list[FindingRead] = []
    documents: list[DocumentRead] = []


class InspectionPage(PageOut):
    items: list[InspectionRead]


Yuan = Annotated[Decimal, Field(ge=0, le=Decimal("1e10"), max_digits=14, decimal_places=2)]


class PenaltyCreate(BaseModel):
    """File a penalty case (立案): the enterprise, the facts and the legal basis by code (GET
    /api/v1/enforcement/penalty-bases lists them), from an inspection or not."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    inspection_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    basis: Annotated[str, AfterValidator(text(16, required=True))]
    facts: Annotated[str, AfterValidator(text(4000, required=True))]
    filed_on: date


class PenaltyNotice(BaseModel):
    """The proposed penalty (告知): the fine within the band of the discretion, served on a day."""

    model_config = ConfigDict(extra="forbid")

    fine: Yuan
    discretion: Discretion
    notified_on: date


class HearingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested_on: date


class PenaltyDecision(BaseModel):
    """The decision (决定): never heavier than the notice (Administrative Penalty Law Art. 45)."""

    model_config = ConfigDict(extra="forbid")

    fine: Yuan
    discretion: Discretion
    decided_on: date
    served_on: date | None = None  # 送达; default: the day of the decision


class PenaltyPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paid_on: date
    amount: Yuan


class PenaltyRead(BaseModel):
    id: int
    uid: str
    origin_node: str
    enterprise_id: int
    enterprise_name: str = ""
    agency_division: str
    inspection_id: int | None
    basis_code: str
    article: str
    facts: str
    range_low: Decimal
    range_high: Decimal
    discretion: str
    proposed_fine: Decimal | None
    fine: Decimal | None
    late_fee: Decimal | None
    paid: Decimal | None
    stage: str
    stage_label: str
    filed_on: date
    notified_on: date | None
    hearing_requested_on: date | None
    decided_on: date | None
    served_on: date | None
    paid_on: date | None
    closed_on: date | None
    # The clocks: last days of each period, and whether the working-day calendar is provisional.
    statement_deadline: date | None = None
    hearing_request_deadline: date | None = None
    decision_deadline: date
    decision_late: bool = False
    payment_deadline: date | None = None
    calendar_provisional: bool = False
    documents: list[DocumentRead] = []


class PenaltyPage(PageOut):
    items: list[PenaltyRead]


Times = Annotated[int, Field(ge=0, le=52)]


class PlanCreate(BaseModel):
    """An annual plan: its name, year, categories (all when empty) and inspections a year by
    risk class (重大/较大/一般/低; unset classes take the platform's defaults)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, AfterValidator(text(100, required=True))]
    year: int = Field(ge=2000, le=2100)
    categories: list[Category] = Field(default_factory=list, max_length=20)
    frequency: dict[Literal["major", "significant", "general", "low", "ungraded"], Times] = Field(
        default_factory=dict
    )


class PlanEnterprise(BaseModel):
    id: int
    name: str
    risk: str | None
    required: int
    done: int


class PlanRead(BaseModel):
    id: int
    uid: str
    agency_division: str
    year: int
    name: str
    categories: list[str]
    frequency: dict[str, int]
    enterprises: int
    required: int
    done: int
    progress: float | None
    # Cumulative by month: what should be done by the end of each month, and what was.
    monthly_target: list[int]
    monthly_done: list[int]
    behind: list[PlanEnterprise]  # enterprises with fewer inspections than due so far


class PlanPage(PageOut):
    items: list[PlanRead]


ChangeId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class TerminalCreate(BaseModel):
    """Bind a terminal to an officer (the caller, or an officer of the caller's agency)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, AfterValidator(text(64, required=True))]


class TerminalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    inspector_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_upload_at: datetime | None
    token: str | None = None  # shown once, when the terminal is bound


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change_id: ChangeId
    uid: Uid
    base_version: int = Field(ge=0, le=2**31 - 1)
    at: AwareDatetime


class StartChange(_Change):
    """The team arrived on site (检查开始), at ``at``."""

    entity: Literal["inspection"]
    action: Literal["start"]


class FinishChange(_Change):
    """The inspection finished at ``at`` with its summary and checklist results."""

    entity: Literal["inspection"]
    action: Literal["finish"]
    summary: Annotated[str, AfterValidator(text(4000, required=True))]
    results: dict[Annotated[str, Field(max_length=16)], ItemResult] = Field(
        default_factory=dict, max_length=200
    )


class FindingChange(_Change):
    """A finding recorded on the terminal at ``at`` (a new record: ``base_version`` 0)."""

    entity: Literal["finding"]
    action: Literal["create"]
    inspection_uid: Uid
    item_code: Annotated[str, AfterValidator(text(16))] = ""
    place: Annotated[str, AfterValidator(text(200, required=True))]
    description: Annotated[str, AfterValidator(text(4000, required=True))]
    major: bool = False
    lng: Lng = None
    lat: Lat = None


TerminalChange = Annotated[
    StartChange | FinishChange | FindingChange, Field(discriminator="action")
]


class ChangesUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: list[TerminalChange] = Field(min_length=1, max_length=200)


class ChangeResult(BaseModel):
    change_id: str
    entity: str
    uid: str
    version: int
    repeated: bool = False  # already applied by an earlier upload: nothing changed now


class ChangesApplied(BaseModel):
    results: list[ChangeResult]


class EnterpriseFile(BaseModel):
    """What a terminal carries of an enterprise it will inspect (一企一档, without phones)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    version: int
    name: str
    uscc: str
    division_code: str
    address: str
    lng: float | None
    lat: float | None
    supervision_category: str
    legal_rep: str
    safety_manager: str


class TerminalChanges(BaseModel):
    """What changed for the terminal's officer since the cursor. Records may repeat across
    downloads: apply each by (uid, version)."""

    cursor: str
    inspections: list[InspectionRead]
    enterprises: list[EnterpriseFile]


class EnforcementStats(BaseModel):
    """One row of the enforcement statistics (the first row: the total)."""

    division_code: str
    division_name: str
    inspections: int  # finished, planned in the year
    findings: int
    documents: int
    penalties: int  # decided in the year
    fines: Decimal  # yuan decided in the year
    paid: Decimal  # yuan paid in the year, surcharges included


class EnforcementHistory(BaseModel):
    """An enterprise's enforcement history (一企一档): its inspections and penalty cases, the
    latest first, each with its documents."""

    enterprise_id: int
    inspections: list[InspectionRead]
    penalties: list[PenaltyRead]
