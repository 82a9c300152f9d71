"""The investigation part of an accident's console page (事故调查): what it shows and which of
its forms this user is offered — 立案调查 (and 委托), findings, 结案, the report to the
government and its reply (批复), and 挂牌督办 by an agency above the lead — and the forms
themselves, each the service call the API makes."""

from __future__ import annotations

from typing import Any

from anjian.accidents import investigations, reporting
from anjian.accidents.models import Accident, Investigation
from anjian.accidents.page_forms import DetailForm, local_time, number
from anjian.accidents.rules import (
    MAX_REPLY_EXTENSION_DAYS,
    TIER_LABELS,
    Grade,
    may_supervise,
    reply_extension_refusal,
)
from anjian.accidents.schemas import (
    InvestigationCreate,
    InvestigationReportCreate,
    InvestigationUpdate,
    ReplyCreate,
)
from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.core.divisions.rules import tier_of
from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import Context
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises.service import is_enterprise_user
from anjian.web.forms import validated

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


def _can_supervise(
    ctx: Context, acc: Accident, inv: Investigation | None, supervised: bool
) -> bool:
    """Whether to offer the 挂牌督办 form: an agency above the lead, the case not closed, no
    order open (the service decides when it is sent)."""
    if is_enterprise_user(ctx.scope) or supervised:
        return False
    if inv is not None and inv.closed_at is not None:
        return False
    _lead, lead_tier = investigations.lead_of(ctx.db, acc, inv)
    return may_supervise(tier_of(ctx.user.division_code).value, lead_tier)


def investigation_context(ctx: Context, acc: Accident, inv: Investigation | None) -> dict[str, Any]:
    """The investigation's part of the detail page: the investigation and its 挂牌督办 order
    as users see them, and the forms offered by the tests the service applies."""
    here = get_settings().effective_node_id
    agency = not is_enterprise_user(ctx.scope)
    order = investigations.supervision_of(ctx.db, acc)
    # 立案调查 and its 委托 choice are offered by the tests the service applies
    can_open = (
        agency
        and inv is None
        and investigations.may_open_investigation(ctx.db, acc, ctx.user.division_code)
    )
    inv_view = investigations.present_investigation(inv, acc) if inv is not None else None
    # 调查情况, 结案, 报告提交 and 批复: the lead or one above, at the node that holds it
    inv_writable = (
        agency
        and inv is not None
        and inv.origin_node == here
        and investigations.leads_or_above(ctx.scope, inv)
    )
    names = division_names(ctx.db, [inv.lead_division] if inv is not None else [])
    return {
        "inv": inv_view,
        "can_open_investigation": can_open,
        "can_entrust": can_open
        and investigations.entrust_refused(ctx.db, acc, ctx.user.division_code) is None,
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
        "lead_tier": TIER_LABELS[investigations.lead_of(ctx.db, acc, None)[1]],
        "investigation_fields": INVESTIGATION_LABELS,
        "supervision": order,
        "can_supervise": _can_supervise(ctx, acc, inv, order is not None),
    }


# --- the forms -------------------------------------------------------------------------------------


def _open_investigation(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {"team": form.get("team", ""), "entrusted_to_unit": bool(form.get("entrusted_to_unit"))}
    data, errors = validated(InvestigationCreate, body)
    if data is not None:
        lead = ctx.user.division_code
        investigations.open_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, lead, data)
    return errors


def _investigation_changes(
    ctx: Context, accident_id: int, form: dict[str, str]
) -> tuple[InvestigationUpdate | None, dict[str, str]]:
    """What the investigation form changed, as the API's request body (None: nothing), or its
    errors. Only the changed fields are sent, so the audit record names them (the form shows
    every field)."""
    inv = investigations.investigation_of(
        ctx.db, reporting.get_accident(ctx.db, ctx.scope, accident_id)
    )
    body: dict[str, Any] = {
        n: form[n]
        for n in INVESTIGATION_TEXT_FIELDS
        if n in form and (inv is None or form[n] != getattr(inv, n))
    }
    for name in ("extension_days", "reply_extension_days"):
        if form.get(name):
            body[name] = number(form[name])
    if not body:
        return None, {}
    data, errors = validated(InvestigationUpdate, body)
    return data, errors


def _update_investigation(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    data, errors = _investigation_changes(ctx, accident_id, form)
    if data is not None:
        investigations.update_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, data)
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
        investigations.update_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    investigations.close_investigation(ctx.db, ctx.actor, ctx.scope, accident_id)
    return {}


def _submit_report(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    raw = form.get("submitted_at", "")
    when = local_time(raw) if raw else None
    if raw and when is None:
        return {"submitted_at": "时间格式应为 YYYY-MM-DD HH:MM"}
    data, errors = validated(InvestigationReportCreate, {"submitted_at": when})
    if data is not None:
        investigations.submit_report(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _record_reply(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {k: form.get(k, "") for k in ("reply_by", "reply_doc_no")}
    data, errors = validated(ReplyCreate, {**body, "replied_on": form.get("replied_on") or None})
    if data is not None:
        investigations.record_reply(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _supervise(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {k: form.get(k, "") for k in ("title", "requirements")}
    data, errors = validated(
        SupervisionCreate, {**body, "due_date": form.get("due_date") or None}, {}
    )
    if data is not None:
        investigations.supervise(ctx.db, ctx.actor, ctx.scope, ctx.user, accident_id, data)
    return errors


FORMS = {
    "investigation": DetailForm(
        _open_investigation,
        {"team": "调查组"},  # a refused 委托 is shown on top, with its reason
        "已立案调查。",
    ),
    "investigation-update": DetailForm(
        _update_investigation, INVESTIGATION_LABELS, "调查情况已保存。"
    ),
    "investigation-close": DetailForm(_close_investigation, INVESTIGATION_LABELS, "调查已结案。"),
    "investigation-report": DetailForm(
        _submit_report,
        {"submitted_at": "报告提交时间"},
        "调查报告提交时间已记录，批复时限开始计算。",
    ),
    "investigation-reply": DetailForm(
        _record_reply,
        {"replied_on": "批复日期", "reply_by": "批复机关", "reply_doc_no": "批复文号"},
        "批复已记录。",
    ),
    "supervise": DetailForm(
        _supervise,
        {"title": "督办标题", "requirements": "督办要求", "due_date": "督办期限"},
        "已挂牌督办，督办通知已下发牵头调查部门。",
        anchor="supervision",
    ),
}
