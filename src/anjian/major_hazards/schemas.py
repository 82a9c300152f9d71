"""Request and response bodies of the major hazard source (重大危险源) calculator.

Validators raise :class:`PydanticCustomError` with Chinese-first messages, so a bad value comes
back as a 422 naming its field (``units.0.chemicals.1.quantity_t``); what needs the tables
(unknown chemical, ambiguous CAS) is refused by the rules with the same field convention."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anjian.major_hazards.rules import (
    UNIT_KINDS,
    ChemicalAssessment,
    ChemicalInput,
    UnitAssessment,
    UnitInput,
)

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


class ChemicalIn(BaseModel):
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


class UnitIn(BaseModel):
    """A production unit (生产单元) or storage unit (储存单元) with its chemicals."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Kind = Field(description="production(生产单元) 或 storage(储存单元)")
    people_within_500m: People = Field(
        description="厂区边界外 500 米范围内常住人数 (people within 500 m outside the site)"
    )
    chemicals: Annotated[
        list[ChemicalIn], AfterValidator(_count(1, MAX_CHEMICALS, "化学品", "chemicals"))
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

    units: Annotated[list[UnitIn], AfterValidator(_count(1, MAX_UNITS, "单元", "units"))]


class ChemicalOut(BaseModel):
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
    def of(cls, chem: ChemicalAssessment) -> ChemicalOut:
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


class UnitOut(BaseModel):
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
    chemicals: list[ChemicalOut]
    warnings: list[str]

    @classmethod
    def of(cls, unit: UnitAssessment) -> UnitOut:
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
            chemicals=[ChemicalOut.of(c) for c in unit.chemicals],
            warnings=list(unit.warnings),
        )


class AssessResponse(BaseModel):
    """The result for each unit, in the order given."""

    units: list[UnitOut]
