"""Request and response bodies of risk grading (风险分级): the calculator and its tables, and
the risk points (风险点) of enterprises with their four-colour summary and map.

Validators raise :class:`PydanticCustomError` with Chinese-first messages, so a bad value comes
back as a 422 naming the field; whether a factor is in its method's table is judged by the
rules (:mod:`anjian.risk.rules`), which name the field too."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anjian.core.fields import LAT_RANGE, LNG_RANGE, PatchModel, one_of, text, within
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead, record_fields
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

if TYPE_CHECKING:
    from anjian.risk.models import RiskPoint

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


# --- risk points (风险点) ------------------------------------------------------------------------

KINDS: dict[str, str] = {"area": "区域", "facility": "设施", "job": "作业"}
CONTROL_LEVELS: dict[str, str] = {
    "company": "公司级",
    "workshop": "车间级",
    "team": "班组级",
    "post": "岗位级",
}

Kind = Annotated[str, AfterValidator(one_of(KINDS, "风险点类型", "kind"))]
ControlLevel = Annotated[str, AfterValidator(one_of(CONTROL_LEVELS, "管控层级", "control level"))]
MethodName = Annotated[Literal["LEC", "LS"], BeforeValidator(_method)]
PointName = Annotated[str, AfterValidator(text(200, required=True))]
Location = Annotated[str, AfterValidator(text(200))]
LongText = Annotated[str, AfterValidator(text(4000))]
Responsible = Annotated[str, AfterValidator(text(64))]
PointLng = Annotated[float | None, AfterValidator(within(*LNG_RANGE, "经度", "lng"))]
PointLat = Annotated[float | None, AfterValidator(within(*LAT_RANGE, "纬度", "lat"))]

# Fields whose column is NOT NULL: PATCH may change them but never set them to null.
REQUIRED_ON_PATCH = (
    "name",
    "kind",
    "location",
    "hazards",
    "method",
    "L",
    "control_measures",
    "control_level",
    "responsible",
)


class RiskPointCreate(BaseModel):
    """A new risk point of an enterprise. The score (D or R) and the level are computed by the
    server from the factors under the node's convention; they cannot be sent."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    enterprise_id: int = Field(description="企业 ID")
    name: PointName = Field(description="风险点名称")
    kind: Kind = Field(description="类型: area (区域) | facility (设施) | job (作业)")
    location: Location = Field(default="", description="所在位置")
    lng: PointLng = Field(default=None, description="经度")
    lat: PointLat = Field(default=None, description="纬度")
    hazards: LongText = Field(default="", description="危险有害因素")
    method: MethodName = Field(description="评价方法: LEC (D = L × E × C) or LS (R = L × S)")
    L: Factor = Field(default=None, description="可能性 L (LEC and LS)")
    E: Factor = Field(default=None, description="暴露频繁程度 E (LEC only)")
    C: Factor = Field(default=None, description="后果 C (LEC only)")
    S: Factor = Field(default=None, description="严重程度 S (LS only)")
    control_measures: LongText = Field(default="", description="管控措施")
    control_level: ControlLevel = Field(
        description="管控层级: company (公司级) | workshop (车间级) | team (班组级) | post (岗位级)"
    )
    responsible: Responsible = Field(default="", description="责任人")


class RiskPointUpdate(PatchModel):
    """A change to a risk point: only the fields sent change. Sending the method or a factor
    assesses the point again (a new method needs all of its factors)."""

    not_null = REQUIRED_ON_PATCH

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: PointName | None = None
    kind: Kind | None = None
    location: Location | None = None
    lng: PointLng = None
    lat: PointLat = None
    hazards: LongText | None = None
    method: MethodName | None = None
    L: Factor = None
    E: Factor = None
    C: Factor = None
    S: Factor = None
    control_measures: LongText | None = None
    control_level: ControlLevel | None = None
    responsible: Responsible | None = None


def plain_number(value: float | None) -> int | float | None:
    """A stored float as the number people wrote: 540 rather than 540.0."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


class RiskPointRead(RecordRead):
    """A risk point with its assessment and four-colour level."""

    enterprise_id: int
    enterprise_name: str
    division_code: str
    name: str
    kind: str
    kind_label: str
    location: str
    lng: float | None
    lat: float | None
    hazards: str
    method: Method
    L: int | float
    E: int | float | None
    C: int | float | None
    S: int | float | None
    score: int | float = Field(description="D (LEC) or R (LS)")
    convention: str
    level: RiskLevel
    level_label: str
    colour: str
    colour_label: str
    control_measures: str
    control_level: str
    control_level_label: str
    responsible: str
    assessed_at: datetime

    @classmethod
    def of(cls, pt: RiskPoint, *, enterprise_name: str) -> RiskPointRead:
        """The view of a stored risk point."""
        level = RiskLevel(pt.level)
        return cls(
            **record_fields(pt),
            enterprise_id=pt.enterprise_id,
            enterprise_name=enterprise_name,
            division_code=pt.division_code,
            name=pt.name,
            kind=pt.kind,
            kind_label=KINDS.get(pt.kind, pt.kind),
            location=pt.location,
            lng=pt.lng,
            lat=pt.lat,
            hazards=pt.hazards,
            method=pt.method,  # type: ignore[arg-type]
            L=plain_number(pt.factor_l),  # type: ignore[arg-type]
            E=plain_number(pt.factor_e),
            C=plain_number(pt.factor_c),
            S=plain_number(pt.factor_s),
            score=plain_number(pt.score),  # type: ignore[arg-type]
            convention=pt.convention,
            level=level,
            level_label=level.label,
            colour=level.colour,
            colour_label=level.colour_label,
            control_measures=pt.control_measures,
            control_level=pt.control_level,
            control_level_label=CONTROL_LEVELS.get(pt.control_level, pt.control_level),
            responsible=pt.responsible,
            assessed_at=pt.assessed_at,
        )


class RiskPointPage(PageOut):
    """One page of a filtered risk-point list and the total number of matches."""

    items: list[RiskPointRead]


class LevelCounts(BaseModel):
    """How many (risk points or enterprises) are at each level."""

    major: int = 0
    significant: int = 0
    general: int = 0
    low: int = 0
    total: int = 0


class RiskSummary(BaseModel):
    """Risk points and enterprises by level in one jurisdiction; an enterprise counts at its
    worst risk point's level (enterprises without risk points are not counted)."""

    division_code: str
    division_name: str
    points: LevelCounts
    enterprises: LevelCounts


class RiskMapPoint(BaseModel):
    """A located risk point on the four-colour map."""

    id: int
    name: str
    kind: str
    kind_label: str
    enterprise_id: int
    enterprise_name: str
    lng: float
    lat: float
    level: RiskLevel
    level_label: str
    colour: str


class RiskMapEnterprise(BaseModel):
    """A located enterprise on the four-colour map, at its worst risk point's level (null:
    no risk point yet)."""

    id: int
    name: str
    lng: float
    lat: float
    level: RiskLevel | None
    level_label: str
    colour: str | None


class RiskMap(BaseModel):
    """The four-colour risk map (风险四色图): located risk points and enterprises."""

    points: list[RiskMapPoint]
    enterprises: list[RiskMapEnterprise]
