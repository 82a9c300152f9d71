"""Request and response bodies of duty (值班值守): shifts, receipts (接报) from a call, an
alarm, an accident or a report from below, passing on (转报), handovers and the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from anjian.core.fields import one_of, text
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead
from anjian.emergency.duty.rules import CALL_SOURCES
from anjian.emergency.schemas import EventType, Level
from anjian.enterprises.schemas import DivisionCode, Lat, Lng, Phone

Name = Annotated[str, AfterValidator(text(64, required=True))]
CallSource = Annotated[str, AfterValidator(one_of(CALL_SOURCES, "接报来源", "source"))]


# --- shifts ------------------------------------------------------------------------------------


class ShiftCreate(BaseModel):
    """排班: a shift of an agency's duty desk (a division of your jurisdiction)."""

    model_config = ConfigDict(extra="forbid")

    division_code: DivisionCode
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    leader: Name = Field(description="带班领导")
    officers: Annotated[list[Name], Field(min_length=1, max_length=20, description="值班员")]
    duty_phone: Phone = Field(default=None, description="值班电话 (办公电话)")
    note: Annotated[str, AfterValidator(text(500))] = ""


class ShiftRead(RecordRead):
    division_code: str
    division_name: str = ""
    starts_at: datetime
    ends_at: datetime
    leader: str
    officers: list[str]
    duty_phone: str
    note: str
    created_by: str
    on_duty: bool = False  # on duty now
    started: bool = False


class ShiftPage(PageOut):
    items: list[ShiftRead]


class OnDutyNow(BaseModel):
    """Who is on duty now at an agency's desk: the shift, or ``shift`` None with a message."""

    division_code: str
    division_name: str
    at: datetime
    shift: ShiftRead | None
    message: str = ""


# --- receipts ----------------------------------------------------------------------------------


class CallReceipt(BaseModel):
    """电话接报: a call logged at your desk and, with ``open_event`` (the default), the event it
    becomes — in a division of your jurisdiction or at an enterprise in scope."""

    model_config = ConfigDict(extra="forbid")

    received_at: AwareDatetime | None = Field(default=None, description="接报时间，默认现在")
    source: CallSource = "call"
    caller: Annotated[str, AfterValidator(text(200))] = Field(default="", description="来电人/单位")
    content: Annotated[str, AfterValidator(text(4000, required=True))]
    title: Annotated[str, AfterValidator(text(200))] = ""
    event_type: EventType | None = None
    division_code: DivisionCode | None = Field(default=None, description="事发地，默认本级")
    enterprise_id: int | None = None
    place: Annotated[str, AfterValidator(text(300))] = ""
    lng: Lng = None
    lat: Lat = None
    level: Level | None = None
    open_event: bool = True


class OriginReceipt(BaseModel):
    """接报 of an alarm or an accident quick report in one step: all optional (the time it
    reached the desk, default now; the response level; what the officer adds)."""

    model_config = ConfigDict(extra="forbid")

    received_at: AwareDatetime | None = None
    level: Level | None = None
    content: Annotated[str, AfterValidator(text(2000))] = ""


class BelowReceipt(BaseModel):
    """接报 of a report from below (an event a lower node keeps): no event is opened here."""

    model_config = ConfigDict(extra="forbid")

    received_at: AwareDatetime | None = None
    content: Annotated[str, AfterValidator(text(2000))] = ""


class PassOn(BaseModel):
    """转报: to whom (报告领导 or the agency above) and when, default now."""

    model_config = ConfigDict(extra="forbid")

    passed_to: Annotated[str, AfterValidator(text(200, required=True))]
    passed_on_at: AwareDatetime | None = None


class ReceiptEvent(BaseModel):
    """The event a receipt became, as far as this node holds it."""

    id: int
    uid: str
    number: str
    title: str
    level: int | None
    state: str


class ReceiptRead(RecordRead):
    division_code: str
    division_name: str = ""
    received_at: datetime
    source: str
    source_label: str
    source_ref: str
    caller: str
    content: str
    passed_on_at: datetime | None
    passed_to: str
    event_uid: str | None
    event: ReceiptEvent | None = None
    logged_by: str
    elapsed_minutes: int = Field(description="接报到转报（未转报：到现在）的分钟数")
    passed_on: bool
    overdue: bool = Field(description="超过转报时限")
    limit_minutes: int


class ReceiptPage(PageOut):
    limit_minutes: int
    items: list[ReceiptRead]


# --- inbox -------------------------------------------------------------------------------------


class InboxAlarm(BaseModel):
    id: int
    uid: str
    title: str
    enterprise_name: str
    division_code: str
    level: int
    level_label: str
    raised_at: datetime
    state_label: str
    escalated: bool


class InboxAccident(BaseModel):
    id: int
    uid: str
    title: str
    division_code: str
    grade_label: str
    casualties: str
    occurred_at: datetime
    reported_at: datetime


class InboxEvent(BaseModel):
    id: int
    uid: str
    number: str
    title: str
    division_code: str
    division_name: str
    level_label: str
    received_at: datetime
    origin_node: str


class Inbox(BaseModel):
    """What waits for the duty officer: alarms, accident quick reports and events from below
    not yet received (接报), and receipts not yet passed on (转报)."""

    alarms: list[InboxAlarm]
    accidents: list[InboxAccident]
    events: list[InboxEvent]
    receipts: list[ReceiptRead]
    limit_minutes: int


# --- handovers ---------------------------------------------------------------------------------


class HandoverCreate(BaseModel):
    """交接班 at an agency's desk (default: your own); the open items are taken by the
    server."""

    model_config = ConfigDict(extra="forbid")

    division_code: DivisionCode | None = None
    shift_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    handed_by: Name
    taken_by: Name
    at: AwareDatetime | None = None
    notes: Annotated[str, AfterValidator(text(4000))] = ""


class HandoverRead(RecordRead):
    division_code: str
    division_name: str = ""
    shift_uid: str | None
    handed_by: str
    taken_by: str
    at: datetime
    notes: str
    open_items: dict[str, Any]
    created_by: str


class HandoverPage(PageOut):
    items: list[HandoverRead]
