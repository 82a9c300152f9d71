"""Request and response bodies of the major hazard source (重大危险源) calculator and register.

Validators raise :class:`PydanticCustomError` with Chinese-first messages, so a bad value comes
back as a 422 naming its field (``units.0.chemicals.1.quantity_t``); what needs the tables
(unknown chemical, ambiguous CAS) is refused by the rules with the same field convention."""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anjian.core.fields import PatchModel, text
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead, record_fields
from anjian.major_hazards.rules import (
    GRADE_LABELS,
    UNIT_KINDS,
    ChemicalAssessment,
    ChemicalInput,
    UnitAssessment,
    UnitInput,
)

if TYPE_CHECKING:
    from anjian.major_hazards.models import MajorHazardSource

DECIMALS = 4  # of q/Q, S and R in responses; is_major and the grade use the exact values
MAX_UNITS = 100
MAX_CHEMICALS = 200
MAX_CATEGORIES = 10
_CATEGORY_SEPARATORS = re.compile(r"[;,；，、\s]+")


def _quantity(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise PydanticCustomError(
            "quantity",
            "数量应为非负有限数值（吨）: {value} (quantity must be a finite number ≥ 0 t)",
            {"value": value},
        )
    return value


def _people(value: int) -> int:
    if value < 0:
        raise PydanticCustomError(
            "people",
            "500 米范围内人数不能为负数: {value} (people within 500 m cannot be negative)",
            {"value": value},
        )
    return value


def _kind(value: str) -> str:
    if value not in UNIT_KINDS:
        raise PydanticCustomError(
            "kind",
            "单元类型无效: {value}，应为 production(生产单元) 或 storage(储存单元) "
            "(kind must be production or storage)",
            {"value": value},
        )
    return value


def _category_list(value: Any) -> Any:
    """One symbol, several separated by ``;`` or ``,``, or a list; blank means none."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in _CATEGORY_SEPARATORS.split(value) if part]
    return value


def _count(low: int, high: int, what_zh: str, what_en: str) -> Any:
    def check(value: list[Any]) -> list[Any]:
        if not low <= len(value) <= high:
            raise PydanticCustomError(
                "count",
                f"{what_zh}应为 {low}–{high} 个，实为 {len(value)} 个 "
                f"({what_en}: {low} to {high} expected)",
            )
        return value

    return check


Quantity = Annotated[float, AfterValidator(_quantity)]
People = Annotated[int, AfterValidator(_people)]
Kind = Annotated[str, AfterValidator(_kind)]
Categories = Annotated[
    list[Annotated[str, Field(max_length=10)]],
    BeforeValidator(_category_list),
    AfterValidator(_count(0, MAX_CATEGORIES, "危险性类别", "categories")),
]


class ChemicalCreate(BaseModel):
    """A chemical of a unit: its name (standard name or alias) and/or CAS number, its maximum
    quantity in tonnes, and — when not in Table 1 — its Table 2 category (e.g. ``W5.3``;
    several for a substance of several hazard classes)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str | None = Field(None, max_length=200, description="名称或别名 (name or alias)")
    cas: str | None = Field(None, max_length=20, description="CAS 号 (CAS number)")
    quantity_t: Quantity = Field(description="最大存在量，吨 (maximum quantity, t)")
    category: Categories = Field(
        default_factory=list,
        description="表2危险性类别，如 W5.3 或 [W2, J3] (Table 2 category symbols)",
    )

    def to_input(self) -> ChemicalInput:
        return ChemicalInput(
            quantity_t=self.quantity_t,
            name=self.name or None,
            cas=self.cas or None,
            categories=tuple(self.category),
        )


class UnitCreate(BaseModel):
    """A production unit (生产单元) or storage unit (储存单元) with its chemicals."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Kind = Field(description="production(生产单元) 或 storage(储存单元)")
    people_within_500m: People = Field(
        description="厂区边界外 500 米范围内常住人数 (people within 500 m outside the site)"
    )
    chemicals: Annotated[
        list[ChemicalCreate], AfterValidator(_count(1, MAX_CHEMICALS, "化学品", "chemicals"))
    ]

    def to_input(self) -> UnitInput:
        return UnitInput(
            name=self.name,
            kind=self.kind,
            people_within_500m=self.people_within_500m,
            chemicals=[chem.to_input() for chem in self.chemicals],
        )


class AssessRequest(BaseModel):
    """The units to identify and grade; nothing is saved."""

    model_config = ConfigDict(extra="forbid")

    units: Annotated[list[UnitCreate], AfterValidator(_count(1, MAX_UNITS, "单元", "units"))]


class ChemicalRead(BaseModel):
    """One chemical's share of its unit."""

    name: str
    cas: str | None
    source_table: int = Field(description="1: 表1 named chemical; 2: 表2 by category")
    category: str | None
    quantity_t: float
    critical_quantity_t: float
    q_over_Q: float
    beta: float
    beta_source: str = Field(description="table3, table4 (by category) or default (β = 1)")

    @classmethod
    def of(cls, chem: ChemicalAssessment) -> ChemicalRead:
        return cls(
            name=chem.name,
            cas=chem.cas,
            source_table=chem.source_table,
            category=chem.category,
            quantity_t=chem.quantity_t,
            critical_quantity_t=chem.critical_quantity_t,
            q_over_Q=round(chem.q_over_Q, DECIMALS),
            beta=chem.beta,
            beta_source=chem.beta_source,
        )


class UnitRead(BaseModel):
    """Identification and grading of one unit; ``grade`` and ``grade_label`` are null when the
    unit is not a major hazard source."""

    name: str
    kind: str
    kind_label: str
    people_within_500m: int
    is_major: bool
    sum_q_over_Q: float
    R: float
    alpha: float
    grade: int | None = Field(description="1 (一级, highest) … 4 (四级)")
    grade_label: str | None
    chemicals: list[ChemicalRead]
    warnings: list[str]

    @classmethod
    def of(cls, unit: UnitAssessment) -> UnitRead:
        return cls(
            name=unit.name,
            kind=unit.kind,
            kind_label=unit.kind_label,
            people_within_500m=unit.people_within_500m,
            is_major=unit.is_major,
            sum_q_over_Q=round(unit.sum_q_over_Q, DECIMALS),
            R=round(unit.R, DECIMALS),
            alpha=unit.alpha,
            grade=unit.grade,
            grade_label=unit.grade_label,
            chemicals=[ChemicalRead.of(c) for c in unit.chemicals],
            warnings=list(unit.warnings),
        )


class AssessResponse(BaseModel):
    """The result for each unit, in the order given."""

    units: list[UnitRead]


# --- the register (重大危险源登记、备案) -------------------------------------------------------


# 备案 of a major hazard source with the agency (《危险化学品重大危险源监督管理暂行规定》,
# Order 40 Art. 23–24): the enterprise submits, the agency files it under a number or returns it.
class FilingState(StrEnum):
    """Where a source's filing (备案, Order 40 Art. 23–24) stands."""

    UNFILED = "unfiled"
    SUBMITTED = "submitted"
    FILED = "filed"
    RETURNED = "returned"


FILING_STATES: dict[str, str] = {
    FilingState.UNFILED: "未备案",
    FilingState.SUBMITTED: "已提交",
    FilingState.FILED: "已备案",
    FilingState.RETURNED: "退回",
}
RESPONSIBLE_ROLES: dict[str, str] = {
    "responsible_main": "主要负责人",
    "responsible_technical": "技术负责人",
    "responsible_operational": "操作负责人",
}
NOT_MAJOR_NOTE = (
    "未构成重大危险源：各单元 S = Σq/Q 均小于 1，已登记但不分级，无需备案 "
    "(not a major hazard source: S < 1 in every unit; registered, not graded, no filing)"
)

SourceName = Annotated[str, AfterValidator(text(200, required=True))]
Person = Annotated[str, AfterValidator(text(64))]


class SourceUnitCreate(UnitCreate):
    """A unit of a registered source, in the calculator's shape; ``people_within_500m`` may be
    left out, then the source's figure applies."""

    people_within_500m: People | None = Field(  # type: ignore[assignment]
        default=None,
        description="本单元厂区边界外 500 米范围内常住人数；不填则取危险源的人数 "
        "(defaults to the source's people_within_500m)",
    )

    def resolved(self, default_people: int) -> UnitInput:
        """The unit as the rules take it, the source's head count filling a missing one."""
        people = self.people_within_500m
        return UnitInput(
            name=self.name,
            kind=self.kind,
            people_within_500m=default_people if people is None else people,
            chemicals=[chem.to_input() for chem in self.chemicals],
        )


SourceUnits = Annotated[
    list[SourceUnitCreate], AfterValidator(_count(1, MAX_UNITS, "单元", "units"))
]


class SourceCreate(BaseModel):
    """A major hazard source to register: identified and graded by GB 18218-2018 on saving. A
    source whose units all stay below their thresholds is accepted and flagged not major."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    enterprise_id: int = Field(description="所属企业 ID")
    name: SourceName = Field(description="危险源名称，如 液氯储罐区")
    people_within_500m: People = Field(
        description="厂区边界外 500 米范围内常住人数 (people within 500 m outside the site)"
    )
    units: SourceUnits = Field(description="生产单元、储存单元及其危险化学品 (as /assess takes)")
    responsible_main: Person = Field(default="", description="包保责任人：主要负责人")
    responsible_technical: Person = Field(default="", description="包保责任人：技术负责人")
    responsible_operational: Person = Field(default="", description="包保责任人：操作负责人")


class SourceUpdate(PatchModel):
    """A change to a source: only the fields sent change. New units or head count mean a new
    identification and grading, and a filed source must then be filed again."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    not_null = "*"  # every column is NOT NULL

    name: SourceName | None = None
    people_within_500m: People | None = None
    units: SourceUnits | None = None
    responsible_main: Person | None = None
    responsible_technical: Person | None = None
    responsible_operational: Person | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their new values (units as plain dicts, complete:
        a unit's unset head count is null, not missing)."""
        changes = super().changes()
        if self.units is not None:
            changes["units"] = [unit.model_dump() for unit in self.units]
        return changes


class FilingAcceptanceCreate(BaseModel):
    """予以备案: the filing number the agency gives."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    filing_no: Annotated[str, AfterValidator(text(64, required=True))] = Field(
        description="备案编号"
    )


class FilingReturnCreate(BaseModel):
    """退回: why the filing is sent back (what to correct)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    reason: Annotated[str, AfterValidator(text(500, required=True))] = Field(description="退回原因")


class SourceUnitRead(BaseModel):
    """A unit as registered (its chemicals as given) and its stored assessment."""

    name: str
    kind: str
    people_within_500m: int | None = Field(description="as given; null: the source's figure")
    chemicals: list[ChemicalCreate]
    result: UnitRead


class SourceRead(RecordRead):
    """A major hazard source as shown to users: its units with their assessment, the source's
    figures (those of its highest-graded unit), the three persons and the filing."""

    enterprise_id: int
    enterprise_name: str
    division_code: str
    name: str
    people_within_500m: int
    units: list[SourceUnitRead]
    is_major: bool
    sum_q_over_Q: float = Field(description="S of the unit that sets the grade")
    R: float = Field(description="R of the unit that sets the grade")
    grade: int | None = Field(description="1 (一级, highest) … 4 (四级); null when not major")
    grade_label: str | None
    assessed_at: datetime
    assessment_note: str = Field(description="why there is no grade, when not major")
    responsible_main: str
    responsible_technical: str
    responsible_operational: str
    filing_state: str = Field(description="unfiled | submitted | filed | returned")
    filing_state_label: str
    filing_no: str
    filed_at: datetime | None
    filed_by: str
    return_reason: str = Field(default="", description="退回原因 of the last return, if returned")
    monitoring_points: list[dict[str, Any]] = Field(
        default_factory=list,
        description="关联的监测监控点 (reserved: linked when the monitoring issue lands)",
    )

    @classmethod
    def of(
        cls, src: MajorHazardSource, *, enterprise_name: str, return_reason: str = ""
    ) -> SourceRead:
        return cls(
            **record_fields(src),
            enterprise_id=src.enterprise_id,
            enterprise_name=enterprise_name,
            division_code=src.division_code,
            name=src.name,
            people_within_500m=src.people_within_500m,
            units=[SourceUnitRead.model_validate(unit) for unit in src.units or []],
            is_major=src.is_major,
            sum_q_over_Q=round(src.sum_q_over_q, DECIMALS),
            R=round(src.r_value, DECIMALS),
            grade=src.grade,
            grade_label=GRADE_LABELS.get(src.grade) if src.grade is not None else None,
            assessed_at=src.assessed_at,
            assessment_note="" if src.is_major else NOT_MAJOR_NOTE,
            responsible_main=src.responsible_main,
            responsible_technical=src.responsible_technical,
            responsible_operational=src.responsible_operational,
            filing_state=src.filing_state,
            filing_state_label=FILING_STATES.get(src.filing_state, src.filing_state),
            filing_no=src.filing_no,
            filed_at=src.filed_at,
            filed_by=src.filed_by,
            return_reason=return_reason if src.filing_state == FilingState.RETURNED else "",
        )


class SourcePage(PageOut):
    """One page of the register and the total number of matches."""

    items: list[SourceRead]


class SummaryCount(BaseModel):
    """How many sources have one grade or one filing state."""

    code: str
    label: str
    count: int


class SourceSummary(BaseModel):
    """The register in scope at a glance: sources by grade, major sources by filing state."""

    total: int
    major: int
    not_major: int
    grades: list[SummaryCount]
    filing: list[SummaryCount] = Field(description="major sources only: filing is for them")
