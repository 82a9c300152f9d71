"""Request and response bodies of accident reporting (事故报送)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anjian.accidents.rules import CRITERION_LABELS, Classification, top_tier


def _count(value: Any) -> Any:
    """A whole number of people: JSON integers only (no booleans, no text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("integer", f"应为整数，实为 {value!r} (must be a whole number)")
    return value


def _money(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("number", f"应为数字，实为 {value!r} (must be a number)")
    return value


People = Annotated[int, BeforeValidator(_count), Field(ge=0, le=100_000)]


class ClassifyRequest(BaseModel):
    """The numbers that grade an accident."""

    model_config = ConfigDict(extra="forbid")

    deaths: People = Field(default=0, description="死亡人数")
    missing: People = Field(default=0, description="下落不明人数")
    serious_injuries: People = Field(default=0, description="重伤人数（含急性工业中毒）")
    direct_loss_cny: Annotated[Decimal, BeforeValidator(_money), Field(ge=0, le=10**13)] = Field(
        default=Decimal(0), description="直接经济损失（元）"
    )


class ClassifyResult(BaseModel):
    """The grade (特别重大|重大|较大|一般), the measure that decided it, the grade without the
    missing persons, and how far up the report must go."""

    grade: str
    grade_code: int = Field(description="1 特别重大 … 4 一般")
    criterion: str
    criterion_label: str
    grade_without_missing: str
    provisional: bool = Field(description="下落不明人员计入后等级升高（暂定等级）")
    report_to: str = Field(description="须报至: national | province | city")

    @classmethod
    def of(cls, c: Classification) -> ClassifyResult:
        return cls(
            grade=c.grade.label,
            grade_code=int(c.grade),
            criterion=c.criterion,
            criterion_label=CRITERION_LABELS[c.criterion],
            grade_without_missing=c.grade_without_missing.label,
            provisional=c.provisional,
            report_to=top_tier(c.grade),
        )
