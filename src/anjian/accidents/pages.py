"""事故报送 console pages: the accidents of the jurisdiction, the quick report (快报) usable in
the first minutes after an accident, and one accident with its reporting chain (each agency's
step with its clocks), its follow-up reports (续报) and its investigation (事故调查).

Every read and write goes through the accident service with the user's scope, as the API does:
the grade is computed there, the writes are audited and synced there; the pages only turn form
fields into the API's request bodies and the service's errors into form messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.responses import Response

from anjian.accidents import service
from anjian.accidents.api import classify as classify_endpoint
from anjian.accidents.models import Accident, Investigation
from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    CRITERION_LABELS,
    GRADE_LABELS,
    KINDS,
    MAX_REPLY_EXTENSION_DAYS,
    NEAR_MISS_CRITERIA,
    TIERS_UP,
    Grade,
    follow_up_last_day,
    follow_up_until,
    may_supervise,
    reply_extension_refusal,
    reporting_chain,
)
from anjian.accidents.schemas import (
    AccidentCreate,
    ClassifyRequest,
    FollowUp,
    InvestigationOpen,
    InvestigationUpdate,
    MeasureCreate,
    MeasureNote,
    ReplyCreate,
    ReportSubmit,
    StepRead,
)
from anjian.config import get_settings
from anjian.core.clock import beijing_if_naive, today_in_china
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import tier_of
from anjian.core.divisions.service import agencies_over_division, division_names
from anjian.core.errors import AnjianError, Invalid
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.core.iam.service import field_cipher
from anjian.core.paging import PageNumber
from anjian.db import utcnow
from anjian.directives.models import Directive
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises import service as enterprises
from anjian.enterprises.models import Enterprise
from anjian.enterprises.service import enterprise_in_scope, is_enterprise_user
from anjian.web import dossier
from anjian.web.dossier import EnterpriseFilter
from anjian.web.forms import field_errors, validated
from anjian.web.layout import page, revealed_phone
from anjian.web.render import CST, add_template_dir, query
from anjian.web.session import PageCtx, check_csrf, refused

add_template_dir(Path(__file__).parent / "templates")

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
ENTERPRISE_CHOICES = 500  # a county's enterprises fit; the API takes any enterprise in scope
DIVISION_FILTER_CHOICES = 600  # beyond this (a national scope) the filter offers no counties
# red, orange, yellow, blue (console.css: WCAG AA contrast)
GRADE_BADGES = {1: "grade-1", 2: "grade-2", 3: "grade-3", 4: "grade-4"}
TIER_LABELS = service.TIER_LABELS
DONE_MESSAGES = {
    "report": "事故快报已报送，并同步上报上级节点。其余情况可稍后续报。",
    "report-up": "已上报，上报时间已记录。",
    "follow-up": "续报已记录，事故等级已按最新数字重新核定。",
    "investigation": "已立案调查。",
    "investigation-update": "调查情况已保存。",
    "investigation-close": "调查已结案。",
    "investigation-report": "调查报告提交时间已记录，批复时限开始计算。",
    "investigation-reply": "批复已记录。",
    "supervise": "已挂牌督办，督办通知已下发牵头调查部门。",
    "measure-add": "整改措施已记录。",
    "measure-progress": "落实情况已记录。",
    "measure-verify": "整改措施已验收。",
}
# Field labels of each form, for the messages that name what to correct.
REPORT_LABELS = {
    "occurred_at": "发生时间",
    "division_code": "发生地",
    "place": "地点",
    "accident_type": "事故类别",
    "kind": "报告类别",
    "near_miss_criterion": "涉险情形",
    "reporter": "报告人",
    "reporter_phone": "联系电话",
    "known_at": "接报时间",
    "enterprise_id": "事故单位",
    "unit_name": "单位名称",
    "industry_code": "行业",
    "deaths": "死亡人数",
    "missing": "下落不明人数",
    "serious_injuries": "重伤人数",
    "minor_injuries": "轻伤人数",
    "direct_loss_cny": "直接经济损失",
    "summary": "简要经过",
    "measures": "已采取的措施",
    "lng": "经度",
    "lat": "纬度",
}
REQUIRED_REPORT_FIELDS = (
    "occurred_at",
    "division_code",
    "place",
    "accident_type",
    "reporter",
    "reporter_phone",
)
KIND_FIELDS = ("kind", "near_miss_criterion")  # on the first screen: they decide the chain
MORE_REPORT_FIELDS = tuple(
    f for f in REPORT_LABELS if f not in REQUIRED_REPORT_FIELDS and f not in KIND_FIELDS
)
NUMBER_FIELDS = ("deaths", "missing", "serious_injuries", "minor_injuries", "direct_loss_cny")
FOLLOW_UP_LABELS = {**{f: REPORT_LABELS[f] for f in NUMBER_FIELDS}, "note": "续报内容"}
INVESTIGATION_LABELS = {
    "team": "调查组",
    "extension_days": "延期天数",
    "direct_causes": "直接原因",
    "indirect_causes": "间接原因",
    "nature": "事故性质",
    "responsibility": "责任认定",
    "penalties": "处理建议",
    "measures": "整改措施",
    "reply_extension_days": "批复延长天数",
}
INVESTIGATION_TEXT_FIELDS = tuple(
    f for f in INVESTIGATION_LABELS if f not in ("extension_days", "reply_extension_days")
)
FORM_LABELS = {
    "follow-up": FOLLOW_UP_LABELS,
    "investigation": {"team": "调查组"},  # a refused 委托 is shown on top, with its reason
    "investigation-report": {"submitted_at": "报告提交时间"},
    "investigation-reply": {
        "replied_on": "批复日期",
        "reply_by": "批复机关",
        "reply_doc_no": "批复文号",
    },
    "investigation-update": INVESTIGATION_LABELS,
    "investigation-close": INVESTIGATION_LABELS,
    "supervise": {"title": "督办标题", "requirements": "督办要求", "due_date": "督办期限"},
    "measure-add": {"content": "整改措施", "responsible": "责任单位", "due_date": "整改期限"},
    "measure-progress": {"note": "落实情况"},
    "measure-verify": {"note": "验收意见"},
}
_WHOLE = re.compile(r"-?\d+")


def _labels() -> dict[str, Any]:
    return {
        "grade_badges": GRADE_BADGES,
        "grade_labels": {int(g): label for g, label in GRADE_LABELS.items()},
        "accident_types": ACCIDENT_TYPES,
        "tier_labels": TIER_LABELS,
        "criterion_labels": CRITERION_LABELS,
        "kinds": KINDS,
        "near_miss_criteria": NEAR_MISS_CRITERIA,
    }


# --- form helpers --------------------------------------------------------------------------------


def _text_form(raw: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in raw.items() if isinstance(v, str)}


def _local_time(value: str) -> datetime | None:
    """A time typed in the form (Beijing time, ``YYYY-MM-DDTHH:MM`` as datetime-local sends
    it); None when it cannot be read."""
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return None
    return beijing_if_naive(parsed)


def _number(value: str) -> Any:
    """A whole number typed in the form as the API's JSON integer; anything else is passed on
    as typed, for the schema to refuse with its own message."""
    return int(value) if _WHOLE.fullmatch(value) else value


def _named(errors: dict[str, str], labels: dict[str, str]) -> dict[str, str]:
    """Service messages name a field by its code (e.g. 结案前须填写 direct_causes): use the
    label the user sees instead."""
    out = {}
    for field, message in errors.items():
        label = labels.get(field)
        out[field] = message.replace(field, label) if label else message
    return out


def _alert(errors: dict[str, str], labels: dict[str, str]) -> str:
    """The message on top of a form: a refusal that belongs to no field shown, or the fields
    to correct named."""
    loose = [m for f, m in errors.items() if f not in labels]
    if loose:
        return "；".join(loose)
    if errors:
        return "请改正以下项目：" + "、".join(labels[f] for f in errors)
    return ""


# --- choices ---------------------------------------------------------------------------------------


def _enterprise_choices(ctx: Context) -> list[tuple[int, str]]:
    stmt = ctx.scope.apply(
        select(Enterprise.id, Enterprise.name).where(Enterprise.deleted.is_(False)),
        division=Enterprise.division_code,
        enterprise=Enterprise.id,
        category=Enterprise.supervision_category,
    )
    rows = ctx.db.execute(stmt.order_by(Enterprise.name).limit(ENTERPRISE_CHOICES)).all()
    return [(int(i), str(n)) for i, n in rows]


def _own_enterprise(ctx: Context) -> Enterprise | None:
    if ctx.scope.enterprise_id is None:
        return None
    return enterprise_in_scope(ctx.db, ctx.scope, ctx.scope.enterprise_id)


def _place_choices(ctx: Context) -> list[tuple[str, list[tuple[str, str]]]]:
    """Where an accident of this user can have happened: the counties of the jurisdiction,
    grouped by their city (an enterprise user: their enterprise's county)."""
    ent = _own_enterprise(ctx)
    if ent is not None:
        names = division_names(ctx.db, [ent.division_code])
        return [("", [(ent.division_code, names.get(ent.division_code, ent.division_code))])]
    rows = ctx.db.execute(
        select(Division.code, Division.name, Division.parent_code)
        .where(ctx.scope.within(Division.code), Division.tier == "county")
        .order_by(Division.code)
    ).all()
    parents = division_names(ctx.db, {str(p) for _, _, p in rows if p})
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, parent in rows:
        groups.setdefault(parents.get(str(parent), ""), []).append((str(code), str(name)))
    return list(groups.items())


def _filter_divisions(ctx: Context) -> list[tuple[str, str, str]]:
    """The divisions the list can be narrowed to: (code, name, tier), cities and counties of
    the jurisdiction (no counties when there are too many to choose from)."""
    if is_enterprise_user(ctx.scope):
        return []
    stmt = (
        select(Division.code, Division.name, Division.tier)
        .where(ctx.scope.within(Division.code), Division.tier != "national")
        .order_by(Division.code)
    )
    rows = [(str(c), str(n), str(t)) for c, n, t in ctx.db.execute(stmt)]
    if len(rows) > DIVISION_FILTER_CHOICES:
        rows = [r for r in rows if r[2] != "county"]
    return rows


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


def _clocks(step: StepRead, now: datetime) -> list[Clock]:
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
    step: StepRead | None
    clocks: list[Clock]


def _chain_cells(ctx: Context, acc: Accident, steps: list[StepRead]) -> list[ChainCell]:
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


# --- the list ------------------------------------------------------------------------------------


@router.get("/accidents")
def accident_list(
    request: Request,
    ctx: PageCtx,
    grade: str = "",
    accident_type: str = "",
    division: str = "",
    kind: str = "",
    page_no: PageNumber = 1,
    enterprise: EnterpriseFilter = None,
) -> Response:
    """事故列表: the accidents and 较大涉险事故 of the jurisdiction (an enterprise: its own),
    newest first, each with its grade (or 较大涉险) and whether any step of its chain is late
    (迟报); ``kind`` lists one of them; ``enterprise``: one enterprise's (一企一档)."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise) if enterprise else None
    filters = {
        "grade": grade,
        "accident_type": accident_type,
        "division": division,
        "kind": kind,
        "enterprise": ent.id if ent else "",
    }
    error = ""
    try:
        items, total = service.list_accidents(
            ctx.db,
            ctx.scope,
            enterprise_id=ent.id if ent else None,
            division=division or None,
            grade=int(grade) if _WHOLE.fullmatch(grade) else None,
            accident_type=accident_type or None,
            kind=kind or None,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
    except AnjianError as exc:
        error = refused(request, ctx, exc).popitem()[1]
        items, total = [], 0
    late_uids = service.late_uids(ctx.db, items)
    late = {a.id: a.uid in late_uids for a in items}
    return page(
        request,
        ctx,
        "accidents/list.html",
        {
            "items": service.present(ctx.db, items),
            "late": late,
            "total": total,
            "filters": filters,
            "enterprise": ent,
            "error": error,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "divisions": _filter_divisions(ctx),
            **_labels(),
        },
        active="accidents",
    )


# --- the quick report (快报) ------------------------------------------------------------------------


def _new_page(
    request: Request,
    ctx: Context,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    errors = _named(errors or {}, REPORT_LABELS)
    is_enterprise = is_enterprise_user(ctx.scope)
    # the folded part opens by itself when it holds an error or what the user typed (an
    # enterprise user's own enterprise is filled in, not typed)
    typed = [f for f in MORE_REPORT_FIELDS if not (is_enterprise and f == "enterprise_id")]
    return page(
        request,
        ctx,
        "accidents/new.html",
        {
            "values": values,
            "errors": errors,
            "alert": _alert(errors, REPORT_LABELS),
            "more_open": any(errors.get(f) or values.get(f) for f in typed),
            "places": _place_choices(ctx),
            "enterprises": _enterprise_choices(ctx),
            "is_enterprise": is_enterprise,
            "labels": REPORT_LABELS,
            **_labels(),
        },
        active="accidents",
        status_code=status_code,
    )


@router.get("/accidents/new")
def accident_new(request: Request, ctx: PageCtx) -> Response:
    """The quick report form (快报): when, where, what, who reports; the rest may follow."""
    ent = _own_enterprise(ctx)
    if ent is not None:
        division = ent.division_code
    else:
        # a county official reports in their own county; others choose
        division = ctx.user.division_code
        if not any(division == code for _, group in _place_choices(ctx) for code, _ in group):
            division = ""
    values = {
        "occurred_at": utcnow().astimezone(CST).strftime("%Y-%m-%dT%H:%M"),
        "division_code": division,
        "reporter": ctx.user.display_name or ctx.user.username,
        "reporter_phone": field_cipher().decrypt(ctx.user.phone_enc) or "",
        "enterprise_id": str(ent.id) if ent is not None else "",
        "kind": "accident",
    }
    return _new_page(request, ctx, values)


@router.post("/accidents/new")
async def accident_report(request: Request, ctx: PageCtx) -> Response:
    """File the quick report of the form through the service (graded, audited, synced up);
    errors are shown at their fields and nothing is saved."""
    form = _text_form(await request.form())
    check_csrf(request, form.get("csrf"))
    values = {f: form.get(f, "") for f in REPORT_LABELS}
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    for name in REPORT_LABELS:
        value = values[name]
        if name in ("occurred_at", "known_at"):
            if value:
                when = _local_time(value)
                if when is None:
                    errors[name] = "时间格式应为 YYYY-MM-DD HH:MM"
                else:
                    body[name] = when
        elif name in NUMBER_FIELDS:
            if value:
                body[name] = _number(value)
        elif name == "reporter_phone":
            # a number to call back is what the first minutes need: required on the form
            # (the API leaves it optional for reports relayed without one)
            if not value:
                errors[name] = "必填"
            body[name] = value or None
        elif name in REQUIRED_REPORT_FIELDS:
            body[name] = value  # empty: the schema names it as required
        elif value:
            body[name] = value
    data, errors = validated(AccidentCreate, body, errors)
    if data is None:
        return _new_page(request, ctx, values, errors, status_code=422)
    try:
        acc = service.report_accident(ctx.db, ctx.actor, ctx.scope, data)
    except AnjianError as exc:
        return _new_page(request, ctx, values, refused(request, ctx, exc), exc.status)
    return RedirectResponse(f"/accidents/{acc.id}?done=report", status_code=303)


@router.get("/accidents/grade-preview")
def grade_preview(ctx: PageCtx, request: Request) -> Response:
    """The grade the numbers typed so far give (the API's calculator, nothing saved), for the
    form's live preview; ``{"error"}`` while they cannot be read yet."""
    params = {
        k: _number(v.strip())
        for k, v in request.query_params.items()
        if k in ClassifyRequest.model_fields and v.strip()
    }
    try:
        body = ClassifyRequest.model_validate(params)
    except ValidationError as exc:
        return JSONResponse({"error": "；".join(field_errors(exc).values())})
    result = classify_endpoint(body, ctx)
    return JSONResponse(
        {
            "grade": result.grade,
            "grade_code": result.grade_code,
            "provisional": result.provisional,
            "criterion_label": result.criterion_label,
            "report_to": TIER_LABELS[result.report_to],
        }
    )


# --- one accident --------------------------------------------------------------------------------


def _my_open_step(ctx: Context, steps: list[StepRead]) -> StepRead | None:
    """The user's agency's step this node may stamp (上报), for offering the button; the
    service decides when it is pressed."""
    agency = service.chain_agency(ctx.db, ctx.user)
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


def _can_supervise(
    ctx: Context, acc: Accident, inv: Investigation | None, order: Directive | None
) -> bool:
    """Whether to offer the 挂牌督办 form: an agency above the lead, the case not closed, no
    order open (the service decides when it is sent)."""
    if is_enterprise_user(ctx.scope) or order is not None:
        return False
    if inv is not None and inv.closed_at is not None:
        return False
    _lead, lead_tier = service.lead_of(ctx.db, acc, inv)
    return may_supervise(tier_of(ctx.user.division_code).value, lead_tier)


def _detail_page(
    request: Request,
    ctx: Context,
    acc: Accident,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    labels = FORM_LABELS.get(form, {})
    errors = _named(errors or {}, labels)
    view = service.present(ctx.db, [acc])[0]
    steps = service.chain_of(ctx.db, acc)
    inv = service.investigation_of(ctx.db, acc)
    order = service.supervision_of(ctx.db, acc)
    measures = service.measures_of(ctx.db, acc)
    here = get_settings().effective_node_id
    agency = not is_enterprise_user(ctx.scope)
    until = follow_up_until(acc.occurred_at, acc.accident_type)
    # 立案调查 and its 委托 choice are offered by the tests the service applies
    can_open = (
        agency
        and inv is None
        and service.may_open_investigation(ctx.db, acc, ctx.user.division_code)
    )
    inv_view = service.present_investigation(inv, acc) if inv is not None else None
    # 调查情况, 结案, 报告提交 and 批复: the lead or one above, at the node that holds it
    inv_writable = (
        agency
        and inv is not None
        and inv.origin_node == here
        and service.leads_or_above(ctx.scope, inv)
    )
    names = division_names(
        ctx.db, [acc.division_code] + ([inv.lead_division] if inv is not None else [])
    )
    unit = service.unit_of(ctx.db, ctx.scope, acc)
    full = service.handles(ctx.db, ctx.user, acc)
    if full:
        shown = service.handler_contacts(ctx.db, ctx.actor, ctx.scope, acc, unit)
    else:
        shown = [c.masked() for c in service.contacts_of(acc)]
        shown += [c.masked() for c in enterprises.contacts_of(unit)] if unit is not None else []
    reveal_at = {"reporter_phone": f"/accidents/{acc.id}/contacts/reveal"}
    unit_at = f"/enterprises/{unit.id}/contacts/reveal" if unit is not None else ""
    people = display_names(
        ctx.db,
        [s.reported_by for s in steps]
        + ([inv.closed_by] if inv is not None else [])
        + [n for m in measures for n in (m.progress_by, m.verified_by)],
    )
    return page(
        request,
        ctx,
        "accidents/detail.html",
        {
            "a": view,
            "cells": _chain_cells(ctx, acc, steps),
            "late": any(s.late for s in steps),
            "my_step": _my_open_step(ctx, steps),
            "inv": inv_view,
            "can_open_investigation": can_open,
            "can_entrust": can_open
            and service.entrust_refused(ctx.db, acc, ctx.user.division_code) is None,
            "can_edit_investigation": inv_writable and inv is not None and inv.closed_at is None,
            "can_submit_report": inv_writable
            and inv_view is not None
            and inv_view.report_submitted_at is None,
            "can_reply": inv_writable
            and inv_view is not None
            and inv_view.report_submitted_at is not None
            and inv_view.replied_on is None,
            "can_extend_reply": inv_view is not None
            and inv_view.replied_on is None
            and reply_extension_refusal(Grade(acc.grade), 1, inv_view.reply_extension_days) is None,
            "reply_days_left": (inv_view.reply_last_day - today_in_china()).days
            if inv_view is not None and inv_view.reply_last_day is not None
            else None,
            "max_reply_extension": MAX_REPLY_EXTENSION_DAYS,
            "inv_local": inv is not None and inv.origin_node == here,
            "lead_name": names.get(inv.lead_division, "") if inv is not None else "",
            "lead_tier": TIER_LABELS[service.lead_of(ctx.db, acc, None)[1]],
            "agency": agency,
            "local": acc.origin_node == here,
            "follow_up_last_day": follow_up_last_day(acc.occurred_at, acc.accident_type),
            "follow_up_open": utcnow() < until,
            "form": form,
            "errors": errors,
            "alert": _alert(errors, labels),
            "values": values or {},
            "done": DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
            "investigation_fields": INVESTIGATION_LABELS,
            "supervision": order,
            "can_supervise": _can_supervise(ctx, acc, inv, order),
            "measures": [service.present_measure(m) for m in measures],
            "contacts": [(c, reveal_at.get(c.field, unit_at)) for c in shown],
            "contacts_full": full,
            "people": people,
            "can_add_measure": agency
            and inv is not None
            and inv.origin_node == here
            and service.leads_or_above(ctx.scope, inv),
            "today": today_in_china(),
            "here": here,
            **_labels(),
        },
        active="accidents",
        status_code=status_code,
    )


@router.post("/accidents/{accident_id:int}/contacts/reveal")
async def accident_reveal(request: Request, accident_id: int, ctx: PageCtx) -> Response:
    """显示号码: the reporter's full phone as a tel: link (audited)."""
    return await revealed_phone(
        request,
        lambda field: service.reveal_contacts(ctx.db, ctx.actor, ctx.scope, accident_id, field),
    )


@router.get("/accidents/{accident_id:int}")
def accident_detail(request: Request, accident_id: int, ctx: PageCtx) -> Response:
    """One accident: its numbers and grade, the reporting chain with its clocks, follow-ups
    and the investigation, with the forms this user may use."""
    acc = service.read_accident(ctx.db, ctx.scope, accident_id, ctx.actor)
    return _detail_page(request, ctx, acc)


def _follow_up(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body: dict[str, Any] = {"note": form.get("note", "")}
    body |= {n: _number(form[n]) for n in NUMBER_FIELDS if form.get(n)}
    data, errors = validated(FollowUp, body)
    if data is not None:
        service.follow_up(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _open_investigation(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {"team": form.get("team", ""), "entrusted_to_unit": bool(form.get("entrusted_to_unit"))}
    data, errors = validated(InvestigationOpen, body)
    if data is not None:
        lead = ctx.user.division_code
        service.open_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, lead, data)
    return errors


def _investigation_changes(
    ctx: Context, accident_id: int, form: dict[str, str]
) -> tuple[InvestigationUpdate | None, dict[str, str]]:
    """What the investigation form changed, as the API's request body (None: nothing), or its
    errors. Only the changed fields are sent, so the audit record names them (the form shows
    every field)."""
    inv = service.investigation_of(ctx.db, service.get_accident(ctx.db, ctx.scope, accident_id))
    body: dict[str, Any] = {
        n: form[n]
        for n in INVESTIGATION_TEXT_FIELDS
        if n in form and (inv is None or form[n] != getattr(inv, n))
    }
    for name in ("extension_days", "reply_extension_days"):
        if form.get(name):
            body[name] = _number(form[name])
    if not body:
        return None, {}
    data, errors = validated(InvestigationUpdate, body)
    return data, errors


def _update_investigation(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    data, errors = _investigation_changes(ctx, accident_id, form)
    if data is not None:
        service.update_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    elif not errors:
        errors = {"__all__": "没有修改需要保存"}
    return errors


def _close_investigation(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    """结案 from the findings form: what was typed is saved first (in the same transaction, so a
    refused closure keeps nothing of it), then the service closes."""
    data, errors = _investigation_changes(ctx, accident_id, form)
    if errors:
        return errors
    if data is not None:
        service.update_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    service.close_investigation(ctx.db, ctx.actor, ctx.scope, accident_id)
    return {}


def _submit_report(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    raw = form.get("submitted_at", "")
    when = _local_time(raw) if raw else None
    if raw and when is None:
        return {"submitted_at": "时间格式应为 YYYY-MM-DD HH:MM"}
    data, errors = validated(ReportSubmit, {"submitted_at": when})
    if data is not None:
        service.submit_report(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _record_reply(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {k: form.get(k, "") for k in ("reply_by", "reply_doc_no")}
    data, errors = validated(ReplyCreate, {**body, "replied_on": form.get("replied_on") or None})
    if data is not None:
        service.record_reply(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _report_up(ctx: Context, accident_id: int, _form: dict[str, str]) -> dict[str, str]:
    agency = service.chain_agency(ctx.db, ctx.user)
    service.report_up(ctx.db, ctx.actor, ctx.scope, accident_id, agency)
    return {}


def _supervise(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {k: form.get(k, "") for k in ("title", "requirements")}
    data, errors = validated(
        SupervisionCreate, {**body, "due_date": form.get("due_date") or None}, {}
    )
    if data is not None:
        service.supervise(ctx.db, ctx.actor, ctx.scope, ctx.user, accident_id, data)
    return errors


def _add_measure(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {k: form.get(k, "") for k in ("content", "responsible")}
    data, errors = validated(MeasureCreate, {**body, "due_date": form.get("due_date") or None})
    if data is not None:
        service.add_measure(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _measure_id(form: dict[str, str]) -> int:
    raw = form.get("measure_id", "")
    if not _WHOLE.fullmatch(raw):
        raise Invalid(f"整改措施编号无效: {raw!r} (bad measure id)", field="measure_id")
    return int(raw)


def _measure_note(
    ctx: Context, accident_id: int, form: dict[str, str], verify: bool
) -> dict[str, str]:
    data, errors = validated(MeasureNote, {"note": form.get("note", "")})
    if data is not None:
        act = service.verify_measure if verify else service.report_progress
        act(ctx.db, ctx.actor, ctx.scope, accident_id, _measure_id(form), data.note)
    return errors


def _measure_progress(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    return _measure_note(ctx, accident_id, form, verify=False)


def _measure_verify(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    return _measure_note(ctx, accident_id, form, verify=True)


ACTIONS = {
    "report-up": _report_up,
    "follow-up": _follow_up,
    "investigation": _open_investigation,
    "investigation-update": _update_investigation,
    "investigation-close": _close_investigation,
    "investigation-report": _submit_report,
    "investigation-reply": _record_reply,
    "supervise": _supervise,
    "measure-add": _add_measure,
    "measure-progress": _measure_progress,
    "measure-verify": _measure_verify,
}
ANCHORS = {
    "report-up": "chain",
    "follow-up": "follow-up",
    "supervise": "supervision",
    "measure-add": "measures",
    "measure-progress": "measures",
    "measure-verify": "measures",
}


@router.post("/accidents/{accident_id:int}/{action}")
async def accident_action(
    request: Request, accident_id: int, action: str, ctx: PageCtx
) -> Response:
    """One of the detail page's forms: 上报, 续报, or a step of the investigation, each the
    service call the API makes; errors are shown at the form."""
    form = _text_form(await request.form())
    check_csrf(request, form.get("csrf"))
    handler = ACTIONS.get(action)
    status = 422
    try:
        errors = handler(ctx, accident_id, form) if handler else {"__all__": f"未知操作: {action}"}
    except AnjianError as exc:
        errors, status = refused(request, ctx, exc), exc.status
    if errors:
        acc = service.get_accident(ctx.db, ctx.scope, accident_id)
        return _detail_page(
            request, ctx, acc, form=action, errors=errors, values=form, status_code=status
        )
    anchor = ANCHORS.get(action, "investigation")
    return RedirectResponse(
        f"/accidents/{accident_id}?{query({'done': action})}#{anchor}", status_code=303
    )


dossier.register(
    dossier.RecordLink(
        "accidents",
        "事故",
        40,
        count=lambda db, scope, eid: service.list_accidents(db, scope, enterprise_id=eid, limit=0)[
            1
        ],
        href=lambda eid: f"/accidents?enterprise={eid}",
    )
)
