"""Duty API (值班值守): rosters and who is on duty now, 接报 in one step (a call, an alarm, an
accident quick report, a report from below), 转报, the inbox of the duty officer and the
handover log. Agencies only: an enterprise user is refused (403)."""

# No ``from __future__ import annotations``: FastAPI reads the filters' annotations.

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from anjian.core.api_kit import DivisionQuery, ListFilters, list_page
from anjian.core.clock import BeijingDateTime
from anjian.core.iam.deps import Ctx
from anjian.core.paging import Paging
from anjian.emergency.duty import handovers, inbox, receipts, rosters
from anjian.emergency.duty.models import DutyReceipt
from anjian.emergency.duty.schemas import (
    BelowReceipt,
    CallReceipt,
    HandoverCreate,
    HandoverPage,
    HandoverRead,
    Inbox,
    OnDutyNow,
    OriginReceipt,
    PassOn,
    ReceiptPage,
    ReceiptRead,
    ShiftCreate,
    ShiftPage,
    ShiftRead,
)

router = APIRouter(prefix="/api/v1/emergency/duty", tags=["emergency 应急管理"])

FromQuery = Annotated[
    BeijingDateTime | None, Query(alias="from", description="起 (ISO 8601; 无时区为北京时间)")
]
ToQuery = Annotated[
    BeijingDateTime | None, Query(alias="to", description="止，不含 (ISO 8601; 无时区为北京时间)")
]


@dataclass(frozen=True)
class ShiftFilters(ListFilters):
    division: DivisionQuery = None
    from_: FromQuery = None
    to: ToQuery = None


@dataclass(frozen=True)
class ReceiptFilters(ListFilters):
    division: DivisionQuery = None
    source: Annotated[
        str | None,
        Query(max_length=16, description="call | alarm | accident | report_below | other"),
    ] = None
    from_: FromQuery = None
    to: ToQuery = None
    passed_on: Annotated[bool | None, Query(description="已转报 (true) 或待转报 (false)")] = None


@dataclass(frozen=True)
class HandoverFilters(ListFilters):
    division: DivisionQuery = None


def _receipt(ctx: Ctx, row: DutyReceipt) -> ReceiptRead:
    return receipts.present(ctx.db, [row])[0]


# --- shifts ------------------------------------------------------------------------------------


@router.post("/shifts", response_model=ShiftRead, status_code=201)
def create_shift(body: ShiftCreate, ctx: Ctx) -> ShiftRead:
    """排班: a shift of a desk in your jurisdiction — leader (带班领导), officers (值班员), the
    desk's phone (值班电话). 422 when it ends before it starts or lasts over 7 days, 409 when
    it overlaps another shift of that desk."""
    row = rosters.create_shift(ctx.db, ctx.actor, ctx.scope, body)
    return rosters.present_shifts(ctx.db, [row])[0]


@router.get("/shifts", response_model=ShiftPage)
def list_shifts(ctx: Ctx, filters: Annotated[ShiftFilters, Depends()], paging: Paging) -> ShiftPage:
    """Shifts in scope reaching into [from, to), the earliest first."""
    return list_page(ShiftPage, rosters.list_shifts, ctx, filters, paging, rosters.present_shifts)


@router.delete("/shifts/{shift_id}", response_model=ShiftRead)
def delete_shift(shift_id: int, ctx: Ctx) -> ShiftRead:
    """Remove a shift not yet started (409 once it has started)."""
    row = rosters.delete_shift(ctx.db, ctx.actor, ctx.scope, shift_id)
    return rosters.present_shifts(ctx.db, [row])[0]


@router.get("/now", response_model=OnDutyNow)
def on_duty_now(
    ctx: Ctx,
    division: Annotated[
        str | None, Query(max_length=6, description="值班室所在行政区划，默认本级")
    ] = None,
) -> OnDutyNow:
    """Who is on duty now at a desk: leader, officers, phone — or ``shift`` null with a
    message when nobody is rostered."""
    return rosters.on_duty_now(ctx.db, ctx.scope, ctx.actor, division)


# --- receipts ----------------------------------------------------------------------------------


@router.post("/receipts", response_model=ReceiptRead, status_code=201)
def receive_call(body: CallReceipt, ctx: Ctx) -> ReceiptRead:
    """电话接报: a call logged at your desk with the duty officer's clock and, unless
    ``open_event`` is false, the event it reports opened in the same step (``title`` and
    ``event_type`` required then)."""
    row, _ = receipts.receive_call(ctx.db, ctx.actor, ctx.scope, body)
    return _receipt(ctx, row)


OptionalOrigin = Annotated[OriginReceipt | None, Body()]


@router.post("/receipts/from-alarm/{alarm_id}", response_model=ReceiptRead, status_code=201)
def receive_alarm(alarm_id: int, ctx: Ctx, body: OptionalOrigin = None) -> ReceiptRead:
    """接报 of a monitoring alarm in scope: logged and opened as an event at its enterprise in
    one step (409 when the alarm was received already)."""
    data = body or OriginReceipt()
    row, _ = receipts.receive_alarm(ctx.db, ctx.actor, ctx.scope, alarm_id, data)
    return _receipt(ctx, row)


@router.post("/receipts/from-accident/{accident_id}", response_model=ReceiptRead, status_code=201)
def receive_accident(accident_id: int, ctx: Ctx, body: OptionalOrigin = None) -> ReceiptRead:
    """接报 of an accident quick report in scope: logged and opened as a production-accident
    event in one step (409 when the accident was received already)."""
    data = body or OriginReceipt()
    row, _ = receipts.receive_accident(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return _receipt(ctx, row)


@router.post("/receipts/from-event/{event_id}", response_model=ReceiptRead, status_code=201)
def receive_from_below(
    event_id: int, ctx: Ctx, body: Annotated[BelowReceipt | None, Body()] = None
) -> ReceiptRead:
    """接报 of a report from below: an event kept by a lower node is logged here and its
    timeline gets this desk's receipt; no new event (409 for an event this node keeps or one
    received here already)."""
    data = body or BelowReceipt()
    row, _ = receipts.receive_from_below(ctx.db, ctx.actor, ctx.scope, event_id, data)
    return _receipt(ctx, row)


@router.get("/receipts", response_model=ReceiptPage)
def list_receipts(
    ctx: Ctx, filters: Annotated[ReceiptFilters, Depends()], paging: Paging
) -> ReceiptPage:
    """Receipts in scope, the latest received first, each with the minutes to passing on and
    whether that exceeded the limit (``limit_minutes``)."""
    items, total = receipts.list_receipts(
        ctx.db, ctx.scope, **filters.kwargs(), limit=paging.size, offset=paging.offset
    )
    return ReceiptPage(
        total=total,
        limit_minutes=receipts.pass_on_limit(),
        items=receipts.present(ctx.db, items),
    )


@router.get("/receipts/{receipt_id}", response_model=ReceiptRead)
def get_receipt(receipt_id: int, ctx: Ctx) -> ReceiptRead:
    """One receipt with the minutes to passing on and the overdue flag."""
    return _receipt(ctx, receipts.get_receipt(ctx.db, ctx.scope, receipt_id))


@router.patch("/receipts/{receipt_id}", response_model=ReceiptRead)
def pass_on(receipt_id: int, body: PassOn, ctx: Ctx) -> ReceiptRead:
    """转报: to whom and when (default now; not before the receipt, not in the future); once."""
    return _receipt(ctx, receipts.pass_on(ctx.db, ctx.actor, ctx.scope, receipt_id, body))


@router.get("/inbox", response_model=Inbox)
def duty_inbox(ctx: Ctx) -> Inbox:
    """What waits for the duty officer: open alarms (the severe first), accident quick reports
    of the last 72 h and events from lower nodes not yet received, and your desk's receipts
    not yet passed on."""
    return inbox.inbox(ctx.db, ctx.scope, ctx.actor)


# --- handovers ---------------------------------------------------------------------------------


@router.post("/handovers", response_model=HandoverRead, status_code=201)
def create_handover(body: HandoverCreate, ctx: Ctx) -> HandoverRead:
    """交接班: who to whom, when, notes; the open events and receipts are taken by the server."""
    row = handovers.create_handover(ctx.db, ctx.actor, ctx.scope, body)
    return handovers.present(ctx.db, [row])[0]


@router.get("/handovers", response_model=HandoverPage)
def list_handovers(
    ctx: Ctx, filters: Annotated[HandoverFilters, Depends()], paging: Paging
) -> HandoverPage:
    """The handover log in scope, the latest first."""
    return list_page(
        HandoverPage, handovers.list_handovers, ctx, filters, paging, handovers.present
    )
