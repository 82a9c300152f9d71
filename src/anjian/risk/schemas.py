"""Request and response bodies of the risk-grading calculator (风险分级) and its tables.

Validators raise :class:`PydanticCustomError` with Chinese-first messages, so a bad value comes
back as a 422 naming the field; whether a factor is in its method's table is judged by the
rules (:mod:`anjian.risk.rules`), which name the field too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anjian.risk.rules import (
    LEC_C,
    LEC_E,
    LEC_L,
    LEVELS_WORST_FIRST,
    LS_L,
    LS_S,
    Assessment,
    Convention,
    LevelRange,
    Method,
    RiskLevel,
    band_ranges,
    level_ranges,
)

METHODS: tuple[Method, ...] = ("LEC", "LS")


def _method(value: Any) -> Any:
    """Upper-case the method name and refuse anything but LEC or LS."""
    method = value.strip().upper() if isinstance(value, str) else value
    if method not in METHODS:
        raise PydanticCustomError(
            "method",
            f"评价方法应为 LEC 或 LS，实为 {value} (method must be LEC or LS)",
        )
    return method


def _number(value: Any) -> Any:
    """A JSON number; booleans and numeric strings are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number", f"应为数字，实为 {value!r} (must be a number)")
    return value


Factor = Annotated[float | None, BeforeValidator(_number)]


class AssessRequest(BaseModel):
    """One assessment: ``{"method": "LEC", "L", "E", "C"}`` or ``{"method": "LS", "L", "S"}``."""

    model_config = ConfigDict(extra="forbid")

    method: Annotated[Literal["LEC", "LS"], BeforeValidator(_method)] = Field(
        description="评价方法: LEC (作业条件危险性评价法) or LS (风险矩阵)"
    )
    L: Factor = Field(default=None, description="事故发生的可能性 (likelihood; LEC and LS)")
    E: Factor = Field(default=None, description="暴露于危险环境的频繁程度 (exposure; LEC only)")
    C: Factor = Field(default=None, description="发生事故可能造成的后果 (consequence; LEC only)")
    S: Factor = Field(default=None, description="后果严重程度 (severity; LS only)")


class AssessResult(BaseModel):
    """The score (D for LEC, R for LS), its four-colour level and the convention used."""

    method: Method
    score: int | float
    D: int | float | None = Field(default=None, description="D = L × E × C (LEC only)")
    R: int | float | None = Field(default=None, description="R = L × S (LS only)")
    level: RiskLevel
    level_label: str
    colour: str
    colour_label: str
    band: str | None = Field(default=None, description="D 的经典五级含义 (LEC only)")
    convention: Convention

    @classmethod
    def of(cls, a: Assessment) -> AssessResult:
        """The response for an assessment of the rules."""
        return cls(
            method=a.method,
            score=a.score,
            D=a.score if a.method == "LEC" else None,
            R=a.score if a.method == "LS" else None,
            level=a.level,
            level_label=a.level.label,
            colour=a.level.colour,
            colour_label=a.level.colour_label,
            band=a.band,
            convention=a.convention,
        )


class Option(BaseModel):
    """One allowed value of a factor and its meaning."""

    value: int | float
    meaning: str


class LevelInfo(BaseModel):
    """A risk level with its names and colour."""

    level: RiskLevel
    label: str
    colour: str
    colour_label: str

    @classmethod
    def of(cls, level: RiskLevel) -> LevelInfo:
        """The names and colour of ``level``."""
        return cls(
            level=level, label=level.label, colour=level.colour, colour_label=level.colour_label
        )


class Threshold(LevelInfo):
    """A level's range of scores under the active convention; ``min``/``max`` null = open."""

    range: str
    min: int | float | None
    min_inclusive: bool
    max: int | float | None
    max_inclusive: bool

    @classmethod
    def of_range(cls, lr: LevelRange) -> Threshold:
        """The threshold row of a level range."""
        r = lr.range
        return cls(
            **LevelInfo.of(lr.level).model_dump(),
            range=lr.text,
            min=None if r.low is None else int(r.low),
            min_inclusive=r.low_inclusive,
            max=None if r.high is None else int(r.high),
            max_inclusive=r.high_inclusive,
        )


class Band(BaseModel):
    """One of the classic five bands of D."""

    range: str
    meaning: str


class LecTables(BaseModel):
    """The LEC value tables, the active convention's thresholds and the classic bands."""

    formula: str = "D = L × E × C"
    L: list[Option]
    E: list[Option]
    C: list[Option]
    convention: Convention
    thresholds: list[Threshold]
    bands: list[Band]


class LsTables(BaseModel):
    """The risk-matrix scales and the active convention's thresholds."""

    formula: str = "R = L × S"
    L: list[Option]
    S: list[Option]
    convention: Convention
    thresholds: list[Threshold]


class RiskTables(BaseModel):
    """Everything a form or tool needs to offer and grade the two methods."""

    levels: list[LevelInfo]
    LEC: LecTables
    LS: LsTables

    @classmethod
    def build(cls, lec_convention: Convention, ls_convention: Convention) -> RiskTables:
        """The tables with the thresholds of the given conventions."""

        def options(table: dict[float, str] | dict[int, str]) -> list[Option]:
            return [Option(value=v, meaning=m) for v, m in table.items()]

        return cls(
            levels=[LevelInfo.of(level) for level in LEVELS_WORST_FIRST],
            LEC=LecTables(
                L=options(LEC_L),
                E=options(LEC_E),
                C=options(LEC_C),
                convention=lec_convention,
                thresholds=[Threshold.of_range(r) for r in level_ranges("LEC", lec_convention)],
                bands=[
                    Band(range=r.text("D"), meaning=meaning)
                    for meaning, r in band_ranges(lec_convention)
                ],
            ),
            LS=LsTables(
                L=options(LS_L),
                S=options(LS_S),
                convention=ls_convention,
                thresholds=[Threshold.of_range(r) for r in level_ranges("LS", ls_convention)],
            ),
        )
