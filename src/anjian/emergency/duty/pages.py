"""值班值守 console page: who is on duty now at the user's desk (names, 值班电话), what waits
for the duty officer with a one-click 接报 per alarm, accident quick report and report from
below, the 电话接报 form, the receipts with their received and passed-on times (overdue
marked) and a 转报 form for those still waiting, the next seven days' roster with the 排班 form, and the
handover form and log. Every form is the API's service call; a refusal is shown in Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.clock import CST, beijing_if_naive
from anjian.core.errors import NotFound
from anjian.core.iam.deps import Context
from anjian.core.paging import PageNumber
from anjian.emergency.duty import handovers, inbox, receipts, rosters
from anjian.emergency.duty.rules import CALL_SOURCES
from anjian.emergency.duty.schemas import (
    BelowReceipt,
    CallReceipt,
    HandoverCreate,
    OriginReceipt,
    PassOn,
    ShiftCreate,
)
from anjian.emergency.rules.events import EVENT_TYPES, LEVEL_LABELS
from anjian.web.forms import FormRefusal, alert, call, division_choices, run_form
from anjian.web.layout import division_name, page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx

router = pages_router(Path(__file__).parent / "templates")
ACTIVE = "emergency"
PAGE = "/emergency/duty"
PAGE_SIZE = 20
HANDOVERS_SHOWN = 10
DUTY_LABELS = {
    "received_at": "接报时间",
    "source": "接报来源",
    "caller": "来电人/单位",
    "content": "接报内容",
    "title": "事件名称",
    "event_type": "事件类型",
    "division_code": "行政区划",
    "place": "地点",
    "level": "响应级别",
    "passed_to": "转报对象",
    "passed_on_at": "转报时间",
    "starts_at": "接班时间",
    "ends_at": "交班时间",
    "leader": "带班领导",
    "officers": "值班员",
    "duty_phone": "值班电话",
    "note": "备注",
    "handed_by": "交班人",
    "taken_by": "接班人",
    "at": "交接时间",
    "notes": "交接事项",
}
DONE = {
    "logged": "已登记接报。",
    "below": "已接报下级报告，并记入该事件时间线。",
    "passed": "已登记转报。",
    "shift": "已排班。",
    "shift_delete": "已删除班次。",
    "handover": "交接班已登记。",
}
_NAMES = re.compile(r"[、，,；;\s]+")


def _local(value: str) -> str | None:
    """A time typed in a datetime-local field (Beijing time) as the API's aware ISO text;
    None when blank; anything unreadable as typed, for the schema to refuse."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return value
    return beijing_if_naive(parsed).isoformat()


def _names(value: str) -> list[str]:
    """Duty officers typed in one field, separated by 、，, or spaces."""
    return [n for n in _NAMES.split(value) if n]


def _week() -> tuple[datetime, datetime]:
    """The seven days from today 00:00 in Beijing time (as UTC-comparable times): the desk
    sees tonight's and tomorrow's shifts on a Sunday too, not a week that ends tonight."""
    today = datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today + timedelta(days=7)


def _page(
    request: Request, ctx: Context, page_no: int = 1, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    desk = ctx.user.division_code
    at_desk = ctx.scope.covers_code(desk)
    now_on = rosters.on_duty_now(ctx.db, ctx.scope, ctx.actor) if at_desk else None
    waiting = inbox.inbox(ctx.db, ctx.scope, ctx.actor)
    rows, total = receipts.list_receipts(
        ctx.db, ctx.scope, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    first_day, last_day_end = _week()
    week, _ = rosters.list_shifts(
        ctx.db,
        ctx.scope,
        division=desk if at_desk else None,
        from_=first_day,
        to=last_day_end,
        limit=100,
    )
    log, _ = handovers.list_handovers(
        ctx.db, ctx.scope, division=desk if at_desk else None, limit=HANDOVERS_SHOWN
    )
    values = refusal.values or {}
    defaults = {"division_code": desk, "source": "call", "event_type": "", "open_event": "1"}
    return page(
        request,
        ctx,
        "emergency/duty.html",
        {
            "desk_name": division_name(ctx.db, desk) if at_desk else "",
            "at_desk": at_desk,
            "now_on": now_on,
            "inbox": waiting,
            "receipts": receipts.present(ctx.db, rows),
            "week": rosters.present_shifts(ctx.db, week),
            "week_from": first_day,
            "handovers": handovers.present(ctx.db, log),
            "here": get_settings().effective_node_id,
            "event_types": EVENT_TYPES,
            "levels": {str(k): v for k, v in LEVEL_LABELS.items()},
            "sources": CALL_SOURCES,
            "division_choices": division_choices(ctx, depth=1),
            "form": refusal.form,
            "values": values if refusal.form == "call" else defaults,
            "form_values": values,
            "errors": refusal.errors,
            "alert": alert(refusal.errors, DUTY_LABELS),
            # forms without a field per error (a row's 转报, a one-click 接报) say each in full
            "said": "；".join(
                f"{DUTY_LABELS[f]}：{m}" if f in DUTY_LABELS else m
                for f, m in refusal.errors.items()
            ),
            "done": DONE.get(request.query_params.get("done", ""), ""),
            "limit_minutes": waiting.limit_minutes,
            **pager_of(total, page_no, PAGE_SIZE),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get(PAGE)
def duty_page(request: Request, ctx: StaffPageCtx, page_no: PageNumber = 1) -> Response:
    """值班值守: on duty now, the inbox with one-click 接报, the 电话接报 form, the receipts
    with 转报, this week's roster and the handovers."""
    return _page(request, ctx, page_no)


async def _submit(
    request: Request,
    ctx: Context,
    form_name: str,
    act: Callable[[dict[str, str]], dict[str, str]],
    redirect: Callable[[dict[str, str]], str],
) -> Response:
    """Run a form of the page: redirect on success, the page with the refusal otherwise."""
    values, errors, status = await run_form(request, ctx, act)
    if errors:
        return _page(request, ctx, 1, FormRefusal(form_name, errors, values, status))
    return RedirectResponse(redirect(values), 303)


def _to_event(values: dict[str, str]) -> str:
    event_id = values.get("__event__")
    return f"/emergency/events/{event_id}?done=create" if event_id else f"{PAGE}?done=logged"


@router.post(f"{PAGE}/call")
async def call_receipt(request: Request, ctx: StaffPageCtx) -> Response:
    """电话接报 from the form: the receipt and (unless unticked) its event in one step."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {
            k: form.get(k, "") for k in ("source", "caller", "content", "title", "place")
        }
        body["division_code"] = form.get("division_code") or None
        body["received_at"] = _local(form.get("received_at", ""))
        body["event_type"] = form.get("event_type") or None
        body["level"] = form.get("level") or None
        body["open_event"] = form.get("open_event") == "1"

        def receive(data: CallReceipt) -> None:
            _, ev = receipts.receive_call(ctx.db, ctx.actor, ctx.scope, data)
            if ev is not None:
                form["__event__"] = str(ev.id)

        return call(CallReceipt, body, receive)

    return await _submit(request, ctx, "call", act, _to_event)


_ONE_CLICK: dict[str, Callable[..., Any]] = {
    "alarm": receipts.receive_alarm,
    "accident": receipts.receive_accident,
}


@router.post(PAGE + "/{origin}/{origin_id:int}")
async def one_click(request: Request, origin: str, origin_id: int, ctx: StaffPageCtx) -> Response:
    """One-click 接报 of an alarm or an accident quick report (to the new event's page) or of
    a report from below (``event``: back here)."""
    if origin not in (*_ONE_CLICK, "event"):
        raise NotFound(f"未知接报来源: {origin[:20]}")

    def act(form: dict[str, str]) -> dict[str, str]:
        if origin == "event":
            receipts.receive_from_below(ctx.db, ctx.actor, ctx.scope, origin_id, BelowReceipt())
            return {}
        _, ev = _ONE_CLICK[origin](ctx.db, ctx.actor, ctx.scope, origin_id, OriginReceipt())
        form["__event__"] = str(ev.id)
        return {}

    def redirect(values: dict[str, str]) -> str:
        return f"{PAGE}?done=below" if origin == "event" else _to_event(values)

    return await _submit(request, ctx, "inbox", act, redirect)


@router.post(PAGE + "/receipts/{receipt_id:int}/pass-on")
async def pass_on(request: Request, receipt_id: int, ctx: StaffPageCtx) -> Response:
    """转报 of a receipt: to whom, and when (blank: now)."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body = {
            "passed_to": form.get("passed_to", ""),
            "passed_on_at": _local(form.get("passed_on_at", "")),
        }
        form["__receipt__"] = str(receipt_id)
        return call(
            PassOn,
            body,
            lambda data: receipts.pass_on(ctx.db, ctx.actor, ctx.scope, receipt_id, data),
        )

    return await _submit(request, ctx, "pass_on", act, lambda _: f"{PAGE}?done=passed")


@router.post(PAGE + "/shifts")
async def create_shift(request: Request, ctx: StaffPageCtx) -> Response:
    """排班 from the form (times in Beijing time; officers separated by 、 or commas)."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body = {
            "division_code": form.get("division_code", ""),
            "starts_at": _local(form.get("starts_at", "")),
            "ends_at": _local(form.get("ends_at", "")),
            "leader": form.get("leader", ""),
            "officers": _names(form.get("officers", "")),
            "duty_phone": form.get("duty_phone", ""),
            "note": form.get("note", ""),
        }
        errors = call(
            ShiftCreate, body, lambda data: rosters.create_shift(ctx.db, ctx.actor, ctx.scope, data)
        )
        # an officer's own error (officers.0) is shown at the field
        return {k.split(".")[0]: v for k, v in errors.items()}

    return await _submit(request, ctx, "shift", act, lambda _: f"{PAGE}?done=shift")


@router.post(PAGE + "/shifts/{shift_id:int}/delete")
async def delete_shift(request: Request, shift_id: int, ctx: StaffPageCtx) -> Response:
    """Remove a shift not yet started."""

    def act(form: dict[str, str]) -> dict[str, str]:
        rosters.delete_shift(ctx.db, ctx.actor, ctx.scope, shift_id)
        return {}

    return await _submit(request, ctx, "roster", act, lambda _: f"{PAGE}?done=shift_delete")


@router.post(PAGE + "/handovers")
async def create_handover(request: Request, ctx: StaffPageCtx) -> Response:
    """交接班 from the form (the shift on duty now, if any)."""

    def act(form: dict[str, str]) -> dict[str, str]:
        shift = form.get("shift_id", "")
        body = {
            "handed_by": form.get("handed_by", ""),
            "taken_by": form.get("taken_by", ""),
            "notes": form.get("notes", ""),
            "shift_id": shift or None,
        }
        return call(
            HandoverCreate,
            body,
            lambda data: handovers.create_handover(ctx.db, ctx.actor, ctx.scope, data),
        )

    return await _submit(request, ctx, "handover", act, lambda _: f"{PAGE}?done=handover")
