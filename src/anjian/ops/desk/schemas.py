"""Pydantic models of the service desk's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anjian.core.fields import one_of, text
from anjian.core.paging import PageOut
from anjian.ops.desk.rules import CATEGORIES, KINDS

Division = Annotated[str, Field(pattern=r"^\d{6}$", description="行政区划代码 (GB/T 2260)")]
Link = Annotated[str, AfterValidator(text(500, required=True))]


class TicketCreate(BaseModel):
    """A request or incident: what kind, which category of system, where, how urgent."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, AfterValidator(one_of(KINDS, "工单类型", "kind"))] = "request"
    category: Annotated[str, AfterValidator(one_of(CATEGORIES, "类别", "category"))]
    division_code: Division
    priority: int = Field(default=3, ge=1, le=4, description="优先级: 1 紧急 … 4 低")
    title: Annotated[str, AfterValidator(text(200, required=True))]
    description: Annotated[str, AfterValidator(text(5000))] = ""
    requester: Annotated[str, AfterValidator(text(100))] = ""


class TicketResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Annotated[str, AfterValidator(text(5000, required=True))]
    knowledge: list[Link] = Field(default_factory=list, max_length=20, description="知识库条目")


class TicketRate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: int = Field(ge=1, le=5, description="满意度 1–5")
    feedback: Annotated[str, AfterValidator(text(2000))] = ""


class RuleSet(BaseModel):
    """A routing rule: ``category`` at ``division_code`` (and below) goes to ``team``; an empty
    team removes it."""

    model_config = ConfigDict(extra="forbid")

    category: Annotated[str, AfterValidator(one_of(CATEGORIES, "类别", "category"))]
    division_code: Division
    team: Annotated[str, AfterValidator(text(100))]


class RuleRead(BaseModel):
    category: str
    division_code: str
    team: str


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    kind: str
    category: str
    division_code: str
    priority: int
    title: str
    description: str
    source: str
    requester: str
    cause: str | None
    team: str
    team_division: str
    state: str
    owner: str
    opened_at: datetime
    own_due_at: datetime
    resolve_due_at: datetime
    owned_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str
    escalations: int
    escalated_for: str | None
    knowledge: list[str]
    satisfaction: int | None
    feedback: str
    origin_node: str
    breach: str | None = Field(
        default=None, description="超时: own (未按时受理) | resolve (未按时解决)"
    )


class TicketPage(PageOut):
    items: list[TicketRead]


class StatRow(BaseModel):
    key: str
    opened: int
    resolved: int
    escalations: int
    mean_hours_to_resolve: float | None
    mean_satisfaction: float | None
