"""Request and response bodies of emergency plans (应急预案) and drills (演练)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anjian.core.fields import PatchModel, one_of, text
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead
from anjian.emergency.plans.rules import CATEGORIES, DRILL_FORMS, DRILL_SCALES, RATINGS
from anjian.emergency.rules.events import EVENT_TYPES
from anjian.enterprises.schemas import DivisionCode

Category = Annotated[str, AfterValidator(one_of(CATEGORIES, "预案类别", "category"))]
EventType = Annotated[str, AfterValidator(one_of(EVENT_TYPES, "事件类型", "event_types"))]
DrillForm = Annotated[str, AfterValidator(one_of(DRILL_FORMS, "演练形式", "form"))]
DrillScale = Annotated[str, AfterValidator(one_of(DRILL_SCALES, "演练规模", "scale"))]
Rating = Annotated[str, AfterValidator(one_of(RATINGS, "评估结论", "rating"))]
# Days as plans carry them: within the years a plan or a drill may sensibly name.
Day = Annotated[date, Field(ge=date(1990, 1, 1), le=date(2100, 12, 31))]
Title = Annotated[str, AfterValidator(text(200, required=True))]


class ResponseLevel(BaseModel):
    """One response level of a plan and the conditions that start it (启动条件)."""

    model_config = ConfigDict(extra="forbid")

    level: Annotated[int, Field(ge=1, le=4, description="响应级别 1 (Ⅰ) … 4 (Ⅳ)")]
    trigger: Annotated[str, AfterValidator(text(1000, required=True))]


class PlanRole(BaseModel):
    """A role of the plan's organisation (总指挥, 抢险救援组 …) and its duty."""

    model_config = ConfigDict(extra="forbid")

    role: Annotated[str, AfterValidator(text(64, required=True))]
    duty: Annotated[str, AfterValidator(text(1000))] = ""


Levels = Annotated[list[ResponseLevel], Field(max_length=4)]
Roles = Annotated[list[PlanRole], Field(max_length=30)]
EventTypes = Annotated[list[EventType], Field(max_length=len(EVENT_TYPES))]
ResourceIds = Annotated[list[int], Field(max_length=100)]


class PlanCreate(BaseModel):
    """A plan of a division of your jurisdiction (the agency's own: issued, no filing) or of an
    enterprise in scope (to be filed, 备案, with the agency)."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    category: Category
    division_code: DivisionCode
    enterprise_id: int | None = None
    owner: Annotated[str, AfterValidator(text(200))] = ""
    event_types: EventTypes = []
    response_levels: Levels = []
    roles: Roles = []
    resource_ids: ResourceIds = []
    summary: Annotated[str, AfterValidator(text(4000))] = ""
    issued_on: Day


class PlanUpdate(PatchModel):
    """The fields sent change, while the plan is not filed (a filed plan changes by revision)."""

    model_config = ConfigDict(extra="forbid")
    not_null = ("title", "category", "owner", "event_types", "response_levels", "roles")
    not_null += ("resource_ids", "summary", "issued_on")

    title: Title | None = None
    category: Category | None = None
    owner: Annotated[str, AfterValidator(text(200))] | None = None
    event_types: EventTypes | None = None
    response_levels: Levels | None = None
    roles: Roles | None = None
    resource_ids: ResourceIds | None = None
    summary: Annotated[str, AfterValidator(text(4000))] | None = None
    issued_on: Day | None = None


class PlanReview(BaseModel):
    """The agency's review of a submitted enterprise plan: filed (已备案) or returned."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["filed", "returned"]
    opinion: Annotated[str, AfterValidator(text(2000))] = ""


class PlanRevision(BaseModel):
    """修订: the plan was assessed and revised on ``revised_on``; what changed."""

    model_config = ConfigDict(extra="forbid")

    revised_on: Day
    note: Annotated[str, AfterValidator(text(2000, required=True))]


class LinkedResource(BaseModel):
    uid: str
    id: int | None
    name: str
    kind_label: str


class PlanRead(RecordRead):
    """A plan as users see it: labels and names for codes, when it is due for revision and
    whether that is near or past, its linked resources and its drills' count."""

    title: str
    category: str
    category_label: str
    division_code: str
    division_name: str
    enterprise_id: int | None
    enterprise_name: str
    owner: str
    event_types: list[str]
    event_type_labels: list[str]
    response_levels: list[ResponseLevel]
    roles: list[PlanRole]
    resources: list[LinkedResource]
    summary: str
    issued_on: date
    revised_on: date | None
    edition: int
    revision_due: date
    revision_status: str
    revision_label: str
    filing_state: str
    filing_label: str
    submitted_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: str
    review_opinion: str
    filing_number: str
    last_drill_on: date | None
    drill_overdue: bool
    created_by: str


class PlanPage(PageOut):
    items: list[PlanRead]


class DrillCreate(BaseModel):
    """A drill planned for a day: of a plan in scope (placed like it), or of a division of your
    jurisdiction or an enterprise in scope."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    plan_id: int | None = None
    division_code: DivisionCode | None = None
    enterprise_id: int | None = None
    form: DrillForm
    scale: DrillScale
    organiser: Annotated[str, AfterValidator(text(200))] = ""
    place: Annotated[str, AfterValidator(text(300))] = ""
    planned_on: Day


class DrillRecord(BaseModel):
    """演练实施: held on a day (not in the future), with how many took part and what happened."""

    model_config = ConfigDict(extra="forbid")

    held_on: Day
    participants: Annotated[int, Field(ge=1, le=1_000_000)]
    record: Annotated[str, AfterValidator(text(8000, required=True))]


class DrillEvaluation(BaseModel):
    """演练评估: the rating, the problems found and what is to be improved."""

    model_config = ConfigDict(extra="forbid")

    rating: Rating
    problems: Annotated[str, AfterValidator(text(4000))] = ""
    improvements: Annotated[str, AfterValidator(text(4000))] = ""


class DrillCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, AfterValidator(text(1000, required=True))]


class DrillRead(RecordRead):
    title: str
    plan_uid: str
    plan_id: int | None
    plan_title: str
    division_code: str
    division_name: str
    enterprise_id: int | None
    enterprise_name: str
    form: str
    form_label: str
    scale: str
    scale_label: str
    organiser: str
    place: str
    planned_on: date
    state: str
    state_label: str
    held_on: date | None
    participants: int | None
    record: str
    rating: str
    rating_label: str
    problems: str
    improvements: str
    evaluated_by: str
    evaluated_at: datetime | None
    created_by: str


class DrillPage(PageOut):
    items: list[DrillRead]


class PlanStatistics(BaseModel):
    """Plans and drills in scope (under ``division``) for one year: plans by category and
    filing state, revisions overdue or near, plans not drilled in time, drills by form, state
    and rating."""

    division: str
    division_name: str
    year: int
    plans: int
    by_category: dict[str, int]
    by_filing_state: dict[str, int]
    revision_overdue: int
    revision_due_soon: int
    drill_overdue: int
    drills: int
    drills_by_form: dict[str, int]
    drills_by_state: dict[str, int]
    drills_by_rating: dict[str, int]
    participants: int
