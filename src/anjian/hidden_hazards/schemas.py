"""Request and response bodies of hidden-hazard governance (隐患排查治理)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anjian.core.fields import invalid, one_of, text
from anjian.core.paging import PageOut
from anjian.hidden_hazards.rules import (
    ACTION_LABELS,
    CATEGORIES,
    GRADES,
    OVERDUE_ACTION,
    SOURCES,
    STATE_LABELS,
    HazardAction,
    HazardState,
)

if TYPE_CHECKING:
    from anjian.hidden_hazards.models import HazardStep, HiddenHazard


def _not_negative(value: float | None) -> float | None:
    if value is not None and value < 0:
        raise invalid("funds_cny", f"资金不能为负数: {value:g} (funds cannot be negative)")
    return value


class HazardCreate(BaseModel):
    """A hidden hazard as found (排查发现): where, what, and by what kind of inspection."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int
    place: Annotated[str, AfterValidator(text(200, required=True))]
    description: Annotated[str, AfterValidator(text(4000, required=True))]
    category: Annotated[str, AfterValidator(one_of(CATEGORIES, "隐患类别", "hazard category"))] = (
        "site"
    )
    source: Annotated[str, AfterValidator(one_of(SOURCES, "隐患来源", "hazard source"))] | None = (
        None  # default: self_check for enterprise users, inspection for officials
    )
    found_at: datetime | None = None


class HazardRegistrationCreate(BaseModel):
    """登记: the grade and the rectification's who, what, how much and by when (五落实)."""

    model_config = ConfigDict(extra="forbid")

    grade: Annotated[str, AfterValidator(one_of(GRADES, "隐患等级", "hazard grade"))]
    major_criterion: Annotated[str, AfterValidator(text(500))] = ""
    deadline: date
    responsible: Annotated[str, AfterValidator(text(64, required=True))]
    measures: Annotated[str, AfterValidator(text(4000, required=True))]
    funds_cny: Annotated[float | None, AfterValidator(_not_negative)] = None
    category: (
        Annotated[str, AfterValidator(one_of(CATEGORIES, "隐患类别", "hazard category"))] | None
    ) = None


class GovernancePlanUpdate(BaseModel):
    """治理方案 of a major hazard: every part is text; all are needed before rectification."""

    model_config = ConfigDict(extra="forbid")

    goal: Annotated[str, AfterValidator(text(2000))] = ""
    measures: Annotated[str, AfterValidator(text(4000))] = ""
    funds: Annotated[str, AfterValidator(text(1000))] = ""
    organisation: Annotated[str, AfterValidator(text(1000))] = ""
    deadline: Annotated[str, AfterValidator(text(1000))] = ""
    safety_measures: Annotated[str, AfterValidator(text(4000))] = ""
    emergency_plan: Annotated[str, AfterValidator(text(4000))] = ""


class HazardStepCreate(BaseModel):
    """The note that goes with a step (what was done, why it was refused)."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, AfterValidator(text(4000))] = ""


class HazardStepRead(BaseModel):
    """One step of the loop as shown in the hazard's timeline."""

    action: str
    action_label: str
    from_state: str
    to_state: str
    actor: str
    at: datetime
    note: str

    @classmethod
    def of(cls, step: HazardStep) -> HazardStepRead:
        try:
            label = ACTION_LABELS[HazardAction(step.action)]
        except ValueError:
            label = {OVERDUE_ACTION: "逾期升级"}.get(step.action, step.action)
        return cls(
            action=step.action,
            action_label=label,
            from_state=step.from_state,
            to_state=step.to_state,
            actor=step.actor,
            at=step.at,
            note=step.note,
        )


class HazardRead(BaseModel):
    """A hidden hazard as shown to users, with where it stands and what may come next."""

    id: int
    uid: str
    number: str
    origin_node: str
    version: int
    updated_at: datetime
    enterprise_id: int
    enterprise_name: str = ""
    division_code: str
    place: str
    description: str
    category: str
    category_label: str
    grade: str
    grade_label: str
    major_criterion: str
    source: str
    source_label: str
    source_ref: str = ""
    found_by: str
    found_at: datetime
    photos: list[Any]
    state: str
    state_label: str
    deadline: date | None
    responsible: str
    measures: str
    funds_cny: float | None
    plan: dict[str, Any] | None
    reported_to_agency_at: datetime | None
    registered_by: str
    registered_at: datetime | None
    rectified_by: str
    rectified_at: datetime | None
    rectification_note: str
    accepted_by: str
    accepted_at: datetime | None
    acceptance_note: str
    closed_at: datetime | None
    overdue: bool
    escalated_at: datetime | None
    supervision_uid: str | None = None  # the open 挂牌督办 order, if any
    steps: list[HazardStepRead] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        hz: HiddenHazard,
        *,
        enterprise_name: str = "",
        steps: list[HazardStep] | None = None,
        supervision_uid: str | None = None,
    ) -> HazardRead:
        values = {name: getattr(hz, name) for name in cls.model_fields if hasattr(hz, name)}
        values.update(
            enterprise_name=enterprise_name,
            category_label=CATEGORIES.get(hz.category, hz.category),
            grade_label=GRADES.get(hz.grade, hz.grade),
            source_label=SOURCES.get(hz.source, hz.source),
            state_label=STATE_LABELS.get(HazardState(hz.state), hz.state),
            supervision_uid=supervision_uid,
            steps=[HazardStepRead.of(s) for s in steps or []],
        )
        return cls(**values)


class HazardPage(PageOut):
    """One page of the hazard ledger (隐患台账) and the number of matches."""

    items: list[HazardRead]


class HazardStats(BaseModel):
    """Counts for one jurisdiction (or one enterprise)."""

    division_code: str
    division_name: str
    found: int
    closed: int
    open: int
    overdue: int
    major_open: int
    rectification_rate: float | None  # 整改率, %


class HazardFilters(TypedDict, total=False):
    """The filters shared by the ledger list and its Excel export (see ``list_hazards``)."""

    enterprise_id: int | None
    division: str | None
    state: str | None
    grade: str | None
    overdue: bool | None
    q: str | None
    found_from: datetime | None
    found_to: datetime | None
