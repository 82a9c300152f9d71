"""Request and response bodies of accident reporting (事故报送)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)
from pydantic_core import PydanticCustomError

from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    CRITERION_LABELS,
    KINDS,
    MAX_REPLY_EXTENSION_DAYS,
    NEAR_MISS_CRITERIA,
    Classification,
    top_tier,
)
from anjian.core.fields import PatchModel, one_of, text
from anjian.core.paging import PageOut
from anjian.directives.schemas import DirectiveRead


def _count(value: Any) -> Any:
    """A whole number of people: JSON integers only (no booleans, no text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("integer", f"应为整数，实为 {value!r} (must be a whole number)")
    return value


def _money(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PydanticCustomError("number", f"应为数字，实为 {value!r} (must be a number)")
    return value


People = Annotated[int, BeforeValidator(_count), Field(ge=0, le=100_000)]
Money = Annotated[Decimal, BeforeValidator(_money), Field(ge=0, le=10**13)]


class ClassifyRequest(BaseModel):
    """The numbers that grade an accident."""

    model_config = ConfigDict(extra="forbid")

    deaths: People = Field(default=0, description="死亡人数")
    missing: People = Field(default=0, description="下落不明人数")
    serious_injuries: People = Field(default=0, description="重伤人数（含急性工业中毒）")
    direct_loss_cny: Money = Field(default=Decimal(0), description="直接经济损失（元）")


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


_TYPE = one_of(ACCIDENT_TYPES, "事故类别", "accident type")
_KIND = one_of(KINDS, "报告类别", "kind")
_NEAR_MISS = one_of(NEAR_MISS_CRITERIA, "较大涉险事故情形", "near-miss criterion")


class AccidentCreate(BaseModel):
    """A first report (快报), usable in the first minutes: when, where, what kind, who reports;
    everything else may follow."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: AwareDatetime = Field(description="事故发生时间 (ISO 8601 with zone)")
    known_at: AwareDatetime | None = Field(
        default=None, description="单位负责人接到报告的时间 (默认为发生时间)"
    )
    division_code: Annotated[str, Field(min_length=6, max_length=6)] = Field(
        description="事故发生地行政区划代码"
    )
    place: Annotated[str, AfterValidator(text(300, required=True))] = Field(description="地点")
    accident_type: Annotated[str, AfterValidator(_TYPE)] = Field(
        description="事故类别 (GB 6441), e.g. machinery (机械伤害), gas_explosion (瓦斯爆炸)"
    )
    kind: Annotated[str, AfterValidator(_KIND)] = Field(
        default="accident",
        description="accident (生产安全事故) | near_miss (较大涉险事故, 安监总局令第 21 号第 26 条)",
    )
    near_miss_criterion: Annotated[str | None, AfterValidator(_NEAR_MISS)] = Field(
        default=None,
        description="较大涉险事故的情形 (kind near_miss 必填): endangered_10 | trapped_3 | "
        "evacuated_500 | pollution | key_site | other",
    )
    reporter: Annotated[str, AfterValidator(text(64, required=True))] = Field(description="报告人")
    reporter_phone: Annotated[str | None, AfterValidator(text(20))] = Field(
        default=None, description="联系电话"
    )
    enterprise_id: int | None = Field(default=None, description="事故单位 (已登记企业)")
    unit_name: Annotated[str | None, AfterValidator(text(200))] = Field(
        default=None, description="事故单位名称 (未登记企业时填写)"
    )
    industry_code: Annotated[str | None, AfterValidator(text(8))] = Field(
        default=None, description="行业 (GB/T 4754)"
    )
    lng: float | None = Field(default=None, ge=73, le=136, description="经度")
    lat: float | None = Field(default=None, ge=3, le=54, description="纬度")
    deaths: People = Field(default=0, description="死亡人数")
    missing: People = Field(default=0, description="下落不明人数")
    serious_injuries: People = Field(default=0, description="重伤人数（含急性工业中毒）")
    minor_injuries: People = Field(default=0, description="轻伤人数")
    direct_loss_cny: Money = Field(default=Decimal(0), description="直接经济损失（元，初步估计）")
    summary: Annotated[str, AfterValidator(text(5000))] = Field(default="", description="简要经过")
    measures: Annotated[str, AfterValidator(text(5000))] = Field(
        default="", description="已采取的措施"
    )


class ChainStepRead(BaseModel):
    """One agency's step in the reporting chain with its two clocks: the statutory one (法定时限,
    from when the unit's head learned of the accident: 1 h to the county, 2 h more per level)
    and the agency's own (本级时限: 2 h from its own receipt, Art. 11), which alone decides
    whether this agency is late."""

    tier: str
    tier_label: str
    division_code: str
    origin_node: str
    receive_due_at: datetime = Field(description="法定时限: due to reach this level")
    received_at: datetime | None
    report_due_at: datetime | None = Field(
        description="法定时限: due to be passed on (null: the top of the chain)"
    )
    hold_due_at: datetime | None = Field(
        description="本级时限: received_at + 2 h (null before it is received, and at the top)"
    )
    reported_at: datetime | None
    reported_by: str
    late: bool = Field(
        description="迟报 of this agency: passed up after its own 2 h (or not yet, past them)"
    )
    received_late: bool = Field(
        description="the report reached this level after its statutory time (a level below or "
        "the unit was late, not this one)"
    )


class AccidentRead(BaseModel):
    """An accident report as users see it (the reporter's phone masked), with its reporting
    chain on the detail view."""

    id: int
    uid: str
    origin_node: str
    division_code: str
    division_name: str = ""
    enterprise_id: int | None
    unit_name: str
    industry_code: str
    occurred_at: datetime
    known_at: datetime
    place: str
    lng: float | None
    lat: float | None
    accident_type: str
    accident_type_label: str
    kind: str = Field(description="accident | near_miss (较大涉险事故)")
    kind_label: str
    near_miss_criterion: str
    near_miss_criterion_label: str
    deaths: int
    missing: int
    serious_injuries: int
    minor_injuries: int
    direct_loss_cny: Decimal
    grade: int
    grade_label: str
    grade_criterion: str
    provisional: bool
    report_to: str
    summary: str
    measures: str
    reporter: str
    reporter_phone: str | None
    reported_at: datetime
    follow_ups: int
    updated_at: datetime
    chain: list[ChainStepRead] = Field(default_factory=list, description="报送环节 (detail view)")
    investigation: InvestigationRead | None = Field(
        default=None, description="事故调查 (detail view)"
    )
    corrective_measures: list[MeasureRead] = Field(
        default_factory=list, description="整改措施及落实情况 (detail view)"
    )
    supervision: DirectiveRead | None = Field(
        default=None, description="挂牌督办 of the investigation, while open (detail view)"
    )


class AccidentPage(PageOut):
    items: list[AccidentRead]


class FollowUpCreate(BaseModel):
    """A follow-up report (续报): the numbers as they stand now (those sent replace the earlier
    ones) and what has happened since."""

    model_config = ConfigDict(extra="forbid")

    deaths: People | None = Field(default=None, description="死亡人数")
    missing: People | None = Field(default=None, description="下落不明人数")
    serious_injuries: People | None = Field(default=None, description="重伤人数")
    minor_injuries: People | None = Field(default=None, description="轻伤人数")
    # Money inside the Optional: a bound on the union would be applied to None as well.
    direct_loss_cny: Money | None = Field(default=None, description="直接经济损失（元）")
    note: Annotated[str, AfterValidator(text(5000, required=True))] = Field(
        description="续报内容 (what has changed)"
    )


class InvestigationCreate(BaseModel):
    """Open the investigation: the team (names and units), or the unit itself entrusted with it
    (an 一般 accident without casualties, by the county-level government: Art. 19)."""

    model_config = ConfigDict(extra="forbid")

    team: Annotated[str, AfterValidator(text(5000, required=True))] = Field(description="调查组")
    entrusted_to_unit: StrictBool = Field(
        default=False, description="委托事故发生单位组织调查 (未造成人员伤亡的一般事故)"
    )


class InvestigationUpdate(PatchModel):
    """Findings as they come (the fields sent replace the earlier ones) and the one extension;
    a field sent as null is left as it was."""

    model_config = ConfigDict(extra="forbid")

    team: Annotated[str | None, AfterValidator(text(5000))] = None
    extension_days: int | None = Field(
        default=None, ge=1, le=60, description="延期天数 (一次, ≤60)"
    )
    reply_extension_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPLY_EXTENSION_DAYS,
        description="批复延长天数 (仅特别重大事故, 一次, ≤30)",
    )
    direct_causes: Annotated[str | None, AfterValidator(text(10000))] = None
    indirect_causes: Annotated[str | None, AfterValidator(text(10000))] = None
    nature: Annotated[str | None, AfterValidator(text(32))] = Field(
        default=None, description="事故性质, e.g. 责任事故"
    )
    responsibility: Annotated[str | None, AfterValidator(text(10000))] = None
    penalties: Annotated[str | None, AfterValidator(text(10000))] = None
    measures: Annotated[str | None, AfterValidator(text(10000))] = None


class InvestigationRead(BaseModel):
    """An investigation as users see it, with its deadline and whether it is overdue."""

    id: int
    uid: str
    origin_node: str
    accident_uid: str
    lead_division: str
    team: str
    started_at: datetime
    due_at: datetime
    extension_days: int
    direct_causes: str
    indirect_causes: str
    nature: str
    responsibility: str
    penalties: str
    measures: str
    closed_at: datetime | None
    closed_by: str
    entrusted_to_unit: bool = Field(description="委托事故发生单位调查")
    report_submitted_at: datetime | None = Field(description="调查报告提交政府的时间")
    reply_extension_days: int
    reply_last_day: date | None = Field(
        description="批复期限 (last day, Beijing): 15 days after the report was received, "
        "特别重大 30 (+ extension); null before the report is submitted"
    )
    replied_on: date | None = Field(description="批复日期")
    reply_by: str = Field(description="批复机关")
    reply_doc_no: str = Field(description="批复文号")
    overdue: bool = Field(description="逾期: the report not submitted (or closed) by its deadline")
    reply_overdue: bool = Field(description="批复逾期: not replied by its last day")


class InvestigationReportCreate(BaseModel):
    """The investigation report submitted to the government (报告提交)."""

    model_config = ConfigDict(extra="forbid")

    submitted_at: AwareDatetime | None = Field(
        default=None, description="提交时间 (ISO 8601 with zone; default now)"
    )


class ReplyCreate(BaseModel):
    """The government's reply to the investigation report (批复): when, by whom, its number."""

    model_config = ConfigDict(extra="forbid")

    replied_on: date = Field(description="批复日期")
    reply_by: Annotated[str, AfterValidator(text(200, required=True))] = Field(
        description="批复机关, e.g. 朔州市人民政府"
    )
    reply_doc_no: Annotated[str, AfterValidator(text(64, required=True))] = Field(
        description="批复文号"
    )


class InvestigationItem(BaseModel):
    """An investigation in the ledger, with the accident it is about."""

    accident_id: int
    accident_place: str
    accident_grade_label: str
    unit_name: str
    occurred_at: datetime
    supervised: bool = Field(description="挂牌督办中")
    investigation: InvestigationRead


class InvestigationPage(PageOut):
    items: list[InvestigationItem]


class MeasureCreate(BaseModel):
    """A corrective measure the investigation requires (整改措施): what, who, by when."""

    model_config = ConfigDict(extra="forbid")

    content: Annotated[str, AfterValidator(text(5000, required=True))] = Field(
        description="整改措施"
    )
    responsible: Annotated[str, AfterValidator(text(200, required=True))] = Field(
        description="责任单位"
    )
    due_date: date = Field(description="整改期限")


class MeasureNoteCreate(BaseModel):
    """Progress reported on a measure (落实情况), or the agency's verification (验收意见)."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, AfterValidator(text(5000, required=True))]


class MeasureRead(BaseModel):
    """A corrective measure and where its follow-up stands."""

    id: int
    uid: str
    origin_node: str
    content: str
    responsible: str
    due_date: date
    progress: str
    progress_at: datetime | None
    progress_by: str
    verified_at: datetime | None
    verified_by: str
    overdue: bool = Field(description="逾期: not verified done by its deadline")
