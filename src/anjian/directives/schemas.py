"""Directive bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anjian.core.fields import text


class DirectiveCreate(BaseModel):
    kind: str = Field(default="notice", pattern="^(notice|directive)$")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20000)
    target_division: str = Field(pattern=r"^\d{6}$")
    due_date: date | None = None


class SupervisionCreate(BaseModel):
    """挂牌督办 of one record (a major hidden hazard, an accident's investigation): the
    agency's requirements and deadline; the title defaults to one naming the record."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, AfterValidator(text(200))] = ""
    requirements: Annotated[str, AfterValidator(text(20000, required=True))]
    due_date: date


class ReceiptCreate(BaseModel):
    note: str = Field(default="", max_length=500)


class ReceiptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: str
    division_code: str
    signed_by: str
    signed_at: datetime
    note: str
    origin_node: str


class DirectiveRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: str
    kind: str
    title: str
    body: str
    issuer_division: str
    issuer_name: str
    target_division: str
    issued_at: datetime
    due_date: date | None
    origin_node: str
    version: int
    subject_entity: str = ""
    subject_uid: str = ""
    closed_at: datetime | None = None
    closed_by: str = ""
    closure_note: str = ""
    receipts: list[ReceiptRead] = []
    signed_here: bool = False


class ClosureCreate(BaseModel):
    """The issuing agency's acceptance opinion when it closes a 挂牌督办 order."""

    note: str = Field(min_length=1, max_length=2000)
