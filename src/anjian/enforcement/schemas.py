"""Enforcement request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anjian.core.fields import invalid, text
from anjian.enforcement.rules.draw import MIN_INSPECTORS, Weighting
from anjian.enterprises.schemas import Category, DivisionCode

MAX_DRAW = 10_000  # enterprises in one draw


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
    id: int
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


class DrawPage(BaseModel):
    """One page of draws and the total number of matches."""

    total: int
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
