"""One accident on the console (事故详情): its numbers and grade, the reporting chain with each
agency's step and its clocks, the people to call, follow-up reports (续报) and 上报; its
investigation and corrective measures come from :mod:`anjian.accidents.investigation_pages` and
:mod:`anjian.accidents.measure_pages`. Every form posts to one route and is the service call the
API makes; its errors are shown at the form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.accidents import (
    contacts,
    investigation_pages,
    investigations,
    measure_pages,
    measures,
    reporting,
)
from anjian.accidents.models import Accident
from anjian.accidents.page_forms import (
    DetailForm,
    named,
    number,
    template_labels,
    text_form,
)
from anjian.accidents.report_pages import NUMBER_FIELDS, REPORT_LABELS
from anjian.accidents.rules import (
    TIER_LABELS,
    TIERS_UP,
    Grade,
    follow_up_last_day,
    follow_up_until,
    reporting_chain,
)
from anjian.accidents.schemas import ChainStepRead, FollowUpCreate
from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.core.divisions.service import agencies_over_division, division_names
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.db import utcnow
from anjian.enterprises import service as enterprises
from anjian.enterprises.service import is_enterprise_user
from anjian.web.forms import FormRefusal, alert, validated
from anjian.web.layout import page, revealed_phone
from anjian.web.offloop import page_routes
from anjian.web.render import query
from anjian.web.session import PageCtx, check_csrf, refused

router = page_routes()

REPORTED = "事故快报已报送，并同步上报上级节点。其余情况可稍后续报。"  # ?done=report, from 快报

# --- clocks of the chain -------------------------------------------------------------------------


def _span(seconds: float) -> str:
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分" if hours else f"{minutes} 分"


@dataclass(frozen=True)
class Clock:
    """A deadline a step is running against now, as the page shows it (and the script counts
    down): the agency's own (本级, 2 h from its receipt: overdue is its 迟报) or the statutory
    one (法定, from when the unit's head learned of it: overdue may be a lower level's doing)."""

    kind: str  # own | statutory
    label: str
    due: datetime
    overdue: bool
    text: str


def _clock(kind: str, label: str, due: datetime, now: datetime) -> Clock:
    left = (due - now).total_seconds()
    text = f"已超时 {_span(left)}" if left < 0 else f"剩余 {_span(left)}"
    return Clock(kind=kind, label=label, due=due, overdue=left < 0, text=text)


def _clocks(step: ChainStepRead, now: datetime) -> list[Clock]:
    """The clocks of a step not yet passed up: its own 2 h once it has received the report,
    and the statutory time to pass it on (or, at the top, to receive it)."""
    if step.reported_at is not None:
        return []
    clocks = []
    if step.hold_due_at is not None:
        clocks.append(_clock("own", "本级时限（接报后 2 小时）", step.hold_due_at, now))
    if step.report_due_at is not None:
        clocks.append(_clock("statutory", "法定上报时限", step.report_due_at, now))
    elif step.received_at is None:
        clocks.append(_clock("statutory", "法定接收时限", step.receive_due_at, now))
    return clocks


@dataclass(frozen=True)
class ChainCell:
    """One tier of the chain on the detail page: its step as this node sees it, or None when
    the step is another node's record that has not come here (those above never come down)."""

    tier: str
    tier_label: str
    division_code: str
    division_name: str
    step: ChainStepRead | None
    clocks: list[Clock]


def _chain_cells(ctx: Context, acc: Accident, steps: list[ChainStepRead]) -> list[ChainCell]:
    by_tier = {s.tier: s for s in steps}
    agencies = agencies_over_division(ctx.db, acc.division_code)
    expected = {
        st.tier: st.division for st in reporting_chain(agencies, Grade(acc.grade), acc.kind)
    }
    ordered = [t for t in TIERS_UP if t in expected or t in by_tier]
    codes = [by_tier[t].division_code if t in by_tier else expected[t] for t in ordered]
    names = division_names(ctx.db, codes)
    now = utcnow()
    return [
        ChainCell(
            tier=tier,
            tier_label=TIER_LABELS[tier],
            division_code=code,
            division_name=names.get(code, "全国" if code == "000000" else code),
            step=by_tier.get(tier),
            clocks=_clocks(by_tier[tier], now) if tier in by_tier else [],
        )
        for tier, code in zip(ordered, codes, strict=True)
    ]


# --- one accident --------------------------------------------------------------------------------


def _my_open_step(ctx: Context, steps: list[ChainStepRead]) -> ChainStepRead | None:
    """The user's agency's step this node may stamp (上报), for offering the button; the
    service decides when it is pressed."""
    agency = reporting.chain_agency(ctx.db, ctx.user)
    if agency is None:
        return None
    here = get_settings().effective_node_id
    return next(
        (
            s
            for s in steps
            if s.division_code == agency
            and s.origin_node == here
            and s.reported_at is None
            and s.report_due_at is not None
        ),
        None,
    )


def _detail_page(
    request: Request, ctx: Context, acc: Accident, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    labels = FORMS[refusal.form].labels if refusal.form in FORMS else {}
    errors = named(refusal.errors, labels)
    view = reporting.present(ctx.db, [acc])[0]
    steps = reporting.chain_of(ctx.db, acc)
    inv = investigations.investigation_of(ctx.db, acc)
    found = measures.measures_of(ctx.db, acc)
    here = get_settings().effective_node_id
    until = follow_up_until(acc.occurred_at, acc.accident_type)
    unit = contacts.unit_of(ctx.db, ctx.scope, acc)
    full = contacts.handles(ctx.db, ctx.user, acc)
    if full:
        shown = contacts.handler_contacts(ctx.db, ctx.actor, ctx.scope, acc, unit)
    else:
        shown = [c.masked() for c in contacts.contacts_of(acc)]
        shown += [c.masked() for c in enterprises.contacts_of(unit)] if unit is not None else []
    reveal_at = {"reporter_phone": f"/accidents/{acc.id}/contacts/reveal"}
    unit_at = f"/enterprises/{unit.id}/contacts/reveal" if unit is not None else ""
    people = display_names(
        ctx.db,
        [s.reported_by for s in steps]
        + ([inv.closed_by] if inv is not None else [])
        + [n for m in found for n in (m.progress_by, m.verified_by)],
    )
    done = request.query_params.get("done", "")
    return page(
        request,
        ctx,
        "accidents/detail.html",
        {
            "a": view,
            "cells": _chain_cells(ctx, acc, steps),
            "late": any(s.late for s in steps),
            "my_step": _my_open_step(ctx, steps),
            "agency": not is_enterprise_user(ctx.scope),
            "local": acc.origin_node == here,
            "follow_up_last_day": follow_up_last_day(acc.occurred_at, acc.accident_type),
            "follow_up_open": utcnow() < until,
            "form": refusal.form,
            "errors": errors,
            "alert": alert(errors, labels),
            "values": refusal.values,
            "done": REPORTED if done == "report" else FORMS[done].done if done in FORMS else "",
            "contacts": [(c, reveal_at.get(c.field, unit_at)) for c in shown],
            "contacts_full": full,
            "people": people,
            "today": today_in_china(),
            "here": here,
            **investigation_pages.investigation_context(ctx, acc, inv),
            **measure_pages.measure_context(ctx, inv, found),
            **template_labels(),
        },
        active="accidents",
        status_code=refusal.status_code,
    )


@router.post("/accidents/{accident_id:int}/contacts/reveal")
async def accident_reveal(request: Request, accident_id: int, ctx: PageCtx) -> Response:
    """显示号码: the reporter's full phone as a tel: link (audited)."""
    return await revealed_phone(
        request,
        lambda field: contacts.reveal_contacts(ctx.db, ctx.actor, ctx.scope, accident_id, field),
    )


@router.get("/accidents/{accident_id:int}")
def accident_detail(request: Request, accident_id: int, ctx: PageCtx) -> Response:
    """One accident: its numbers and grade, the reporting chain with its clocks, follow-ups
    and the investigation, with the forms this user may use."""
    acc = reporting.read_accident(ctx.db, ctx.scope, accident_id, ctx.actor)
    return _detail_page(request, ctx, acc)


# --- the forms -------------------------------------------------------------------------------------


def _follow_up(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body: dict[str, Any] = {"note": form.get("note", "")}
    body |= {n: number(form[n]) for n in NUMBER_FIELDS if form.get(n)}
    data, errors = validated(FollowUpCreate, body)
    if data is not None:
        reporting.follow_up(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _report_up(ctx: Context, accident_id: int, _form: dict[str, str]) -> dict[str, str]:
    agency = reporting.chain_agency(ctx.db, ctx.user)
    reporting.report_up(ctx.db, ctx.actor, ctx.scope, accident_id, agency)
    return {}


FORMS: dict[str, DetailForm] = {
    "report-up": DetailForm(_report_up, {}, "已上报，上报时间已记录。", anchor="chain"),
    "follow-up": DetailForm(
        _follow_up,
        {**{f: REPORT_LABELS[f] for f in NUMBER_FIELDS}, "note": "续报内容"},
        "续报已记录，事故等级已按最新数字重新核定。",
        anchor="follow-up",
    ),
    **investigation_pages.FORMS,
    **measure_pages.FORMS,
}


@router.post("/accidents/{accident_id:int}/{action}")
async def accident_action(
    request: Request, accident_id: int, action: str, ctx: PageCtx
) -> Response:
    """One of the detail page's forms: 上报, 续报, or a step of the investigation, each the
    service call the API makes; errors are shown at the form."""
    form = text_form(await request.form())
    check_csrf(request, form.get("csrf"))
    handler = FORMS.get(action)
    status = 422
    try:
        errors = (
            handler.act(ctx, accident_id, form) if handler else {"__all__": f"未知操作: {action}"}
        )
    except AnjianError as exc:
        errors, status = refused(request, ctx, exc), exc.status
    if errors:
        acc = reporting.get_accident(ctx.db, ctx.scope, accident_id)
        return _detail_page(request, ctx, acc, FormRefusal(action, errors, form, status))
    return RedirectResponse(
        f"/accidents/{accident_id}?{query({'done': action})}#{FORMS[action].anchor}",
        status_code=303,
    )
