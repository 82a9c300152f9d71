"""Request and response bodies of online monitoring (在线监测预警): points with their set points,
the ingest result, alarms and their disposition, series for trend charts.

The reading batch itself is parsed by :mod:`anjian.monitoring.batch`, not by Pydantic: one bad
reading must be counted and skipped, not refuse the whole batch."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anjian.core.fields import PatchModel, blank_is_none, one_of, text
from anjian.core.paging import PageOut
from anjian.monitoring.rules import (
    BOUNDS,
    KINDS,
    LEVEL_LABELS,
    STATUSES,
    AlarmKind,
    AlarmStateName,
    bound_label,
)
from anjian.risk.rules import RiskLevel

if TYPE_CHECKING:
    from anjian.monitoring.models import Alarm, MonitoringPoint

KIND_LABELS = {code: name for code, (name, _unit) in KINDS.items()}


def _number(value: Any) -> Any:
    """A JSON number (or null); booleans and text are refused."""
    value = blank_is_none(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number", f"应为数字，实为 {value!r} (must be a number)")
    return value


Number = Annotated[float | None, BeforeValidator(_number)]
Code = Annotated[str, AfterValidator(text(64, required=True))]


class PointFields(PatchModel):
    """The fields of a point that can be set and changed (``changes()``: those the client
    sent). No field is ``not_null``: a null set point removes it, and a null for a field every
    point has (kind, unit, name, …) is ignored by :func:`~anjian.monitoring.points.update_point`."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, AfterValidator(text(200))] = Field(
        default=None, description="名称，如「1#储罐液位」"
    )
    kind: Annotated[
        str | None, AfterValidator(lambda v: v and one_of(KIND_LABELS, "监测类型", "kind")(v))
    ] = Field(
        default=None,
        description="监测类型: " + ", ".join(f"{k} ({v})" for k, v in KIND_LABELS.items()),
    )
    unit: Annotated[str | None, AfterValidator(text(16))] = Field(default=None, description="单位")
    ll: Number = Field(default=None, description="低低报阈值 (严重)")
    l: Number = Field(default=None, description="低报阈值 (预警)")  # noqa: E741
    h: Number = Field(default=None, description="高报阈值 (预警)")
    hh: Number = Field(default=None, description="高高报阈值 (严重)")
    dead_band: Number = Field(default=None, description="回差: 恢复须越过阈值的幅度")
    delay_s: Number = Field(default=None, description="延时 (秒): 超限持续多久才报警")
    range_low: Number = Field(default=None, description="量程下限")
    range_high: Number = Field(default=None, description="量程上限")
    period_s: Annotated[int | None, Field(ge=1, le=86_400)] = Field(
        default=None, description="采样周期 (秒); 连续 3 个周期无数据即离线"
    )
    major_hazard_id: int | None = Field(default=None, description="所属重大危险源 ID")
    location: Annotated[str | None, AfterValidator(text(200))] = Field(
        default=None, description="安装位置"
    )


class PointCreate(PointFields):
    """A point to register: ``enterprise_id``, ``code`` (unique within the enterprise), ``kind``
    and ``unit`` (or a ``preset`` that supplies them), and any set points."""

    enterprise_id: int = Field(description="企业 ID")
    code: Code = Field(description="测点编码 (网关上报时使用, 企业内唯一)")
    preset: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, description="阈值预设 (GET /api/v1/monitoring/presets)"
    )


class PointUpdate(PointFields):
    """The fields to change; the code and the enterprise do not change."""


class EnterpriseRecordRead(BaseModel):
    """The first fields of a monitoring record as users see it: its ids, the node it was made
    at, and the enterprise (and division) it belongs to. Points and alarms both begin so."""

    id: int
    uid: str
    origin_node: str
    enterprise_id: int
    enterprise_name: str = ""
    division_code: str


class PointRead(EnterpriseRecordRead):
    """A monitoring point as users see it, with its live value and open alarm."""

    major_hazard_id: int | None
    code: str
    name: str
    kind: str
    kind_label: str
    unit: str
    range_low: float | None
    range_high: float | None
    period_s: int
    ll: float | None
    l: float | None  # noqa: E741
    h: float | None
    hh: float | None
    dead_band: float
    delay_s: float
    preset: str
    restore: float | None
    power_cut: bool
    location: str
    status: str
    status_label: str
    status_since: datetime | None
    last_ts: int | None = Field(default=None, description="最新数据时间 (epoch ms)")
    last_value: float | None = None
    alarm_bound: str | None = Field(default=None, description="当前超限: hh|h|l|ll")
    alarm_bound_label: str = Field(
        default="", description="当前超限的名称 (气体探测器按 GB/T 50493: 一级报警/二级报警)"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: MonitoringPoint, **extra: Any) -> PointRead:
        """The view of ``p`` (``extra``: enterprise name and live fields)."""
        bound = extra.get("alarm_bound")
        return cls(
            **{name: getattr(p, name) for name in _POINT_COLUMNS},
            kind_label=KIND_LABELS.get(p.kind, p.kind),
            status_label=STATUSES.get(p.status, p.status),
            alarm_bound_label=bound_label(bound, p.kind) if bound in BOUNDS else "",
            **extra,
        )


_POINT_COLUMNS = [
    name
    for name in PointRead.model_fields
    if name
    not in {
        "enterprise_name",
        "kind_label",
        "status_label",
        "last_ts",
        "last_value",
        "alarm_bound",
        "alarm_bound_label",
    }
]


class PointPage(PageOut):
    items: list[PointRead]


class PresetRead(BaseModel):
    """A threshold preset (阈值预设)."""

    code: str
    name: str
    kind: str
    unit: str
    ll: float | None
    l: float | None  # noqa: E741
    h: float | None
    hh: float | None
    dead_band: float
    delay_s: float
    restore: float | None
    power_cut: bool
    verified: bool
    source: str


class Rejected(BaseModel):
    """A reading refused, and why."""

    index: int | None = Field(description="批内序号 (null: the whole batch)")
    point: str | None = None
    reason: str
    message: str


class IngestResult(BaseModel):
    """What a batch did: readings stored, duplicates ignored, rejected readings with reasons,
    alarms raised, escalated and ended."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]
    alarms_raised: int = 0
    alarms_escalated: int = 0
    alarms_ended: int = 0


class AlarmRead(EnterpriseRecordRead):
    """An alarm as users see it."""

    point_id: int | None
    point_code: str = ""
    point_name: str = ""
    point_kind: str = Field(default="", description="测点监测类型 (KINDS)")
    unit: str = ""
    major_hazard_id: int | None
    kind: str
    level: int
    level_label: str
    bound: str
    bound_label: str
    threshold: float | None = Field(
        description="the set point of bound (after escalation the worse one)"
    )
    value: float | None = Field(description="触发值: the value that raised the alarm")
    trigger_threshold: float | None = Field(
        description="the set point the raising value crossed (before any escalation)"
    )
    peak: float | None = Field(
        description="峰值: the worst value while it lasted (highest when high, lowest when low)"
    )
    peak_at: datetime | None
    raised_at: datetime
    ended_at: datetime | None
    state: str
    state_label: str
    acknowledged_at: datetime | None
    acknowledged_by: str
    cause: str
    action: str
    handler: str
    handled_at: datetime | None
    handled_by: str
    closed_at: datetime | None
    closed_by: str
    escalated_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, a: Alarm, **extra: Any) -> AlarmRead:
        """The view of ``a`` (``extra``: names of its enterprise and point, the point's kind)."""
        if a.kind == AlarmKind.POWER_CUT:
            label = "断电"
        elif a.bound in BOUNDS:
            label = bound_label(a.bound, extra.get("point_kind", ""))
        else:
            label = STATUSES.get(a.bound, a.bound)
        return cls(
            **{name: getattr(a, name) for name in _ALARM_COLUMNS},
            level_label=LEVEL_LABELS.get(a.level, str(a.level)),
            bound_label=label,
            state_label=AlarmStateName(a.state).label,
            **extra,
        )


_ALARM_COLUMNS = [
    name
    for name in AlarmRead.model_fields
    if name
    not in {
        "enterprise_name",
        "point_code",
        "point_name",
        "point_kind",
        "unit",
        "level_label",
        "bound_label",
        "state_label",
    }
]


class AlarmPage(PageOut):
    items: list[AlarmRead]


class DispositionCreate(BaseModel):
    """The disposition of an alarm (处置记录): cause, action taken, person who acted."""

    model_config = ConfigDict(extra="forbid")

    cause: Annotated[str, AfterValidator(text(2000, required=True))] = Field(description="报警原因")
    action: Annotated[str, AfterValidator(text(2000, required=True))] = Field(
        description="处置措施"
    )
    handler: Annotated[str, AfterValidator(text(64, required=True))] = Field(description="处置人")


class SeriesPoint(BaseModel):
    """One bucket of a trend: its start (epoch ms), mean, min, max, count."""

    ts: int
    avg: float
    min: float
    max: float
    n: int


class SeriesRead(BaseModel):
    """A point's trend over a window, downsampled to buckets of ``step_s`` seconds."""

    point_id: int
    unit: str
    from_ms: int
    to_ms: int
    step_s: int
    items: list[SeriesPoint]


class TokenRead(BaseModel):
    """A new ingest credential (shown once)."""

    uscc: str
    token: str
    mqtt_username: str
    topic_readings: str
    topic_status: str


class RejectionRead(BaseModel):
    """Readings refused from one enterprise for one reason."""

    enterprise_id: int
    reason: str
    reason_label: str
    count: int
    last_at: datetime
    last_detail: str


class LiveRiskRow(BaseModel):
    """The live risk of one enterprise or major hazard source (动态风险)."""

    kind: str = Field(description="enterprise | major_hazard")
    id: int
    name: str
    enterprise_id: int
    enterprise_name: str = ""
    division_code: str = ""
    lng: float | None = None
    lat: float | None = None
    inherent: RiskLevel = Field(description="固有风险等级")
    level: RiskLevel = Field(description="动态风险等级")
    level_label: str
    colour: str
    raised_by: int = Field(description="因报警/测点状态上调的级数")
    reasons: list[str]
    alarms_level1: int
    alarms_level2: int
    points_degraded: int
    points: int


class LiveRiskBoard(BaseModel):
    """Live risk of the enterprises and major hazard sources in scope, worst first."""

    enterprises: list[LiveRiskRow]
    major_hazards: list[LiveRiskRow]


class ReadingsRead(BaseModel):
    """A point's raw readings (实时数据) as ``[ts (epoch ms), value, status code]``, from the
    node that holds them (``source``)."""

    point_id: int
    unit: str
    from_ms: int
    to_ms: int
    source: str = Field(description="接入节点 (the node the readings come from)")
    answered_at: datetime | None = Field(default=None, description="接入节点应答时间 (upper nodes)")
    readings: list[list[float]]
    truncated: bool
