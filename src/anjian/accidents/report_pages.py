"""事故报送 console pages: the accidents of the jurisdiction and the quick report (快报) usable
in the first minutes after an accident, with the live grade of the numbers typed so far.

Every read and write goes through the accident service with the user's scope, as the API does:
the grade is computed there, the writes are audited and synced there; the pages only turn form
fields into the API's request bodies and the service's errors into form messages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import Response

from anjian.accidents import reporting
from anjian.accidents.api import classify as classify_endpoint
from anjian.accidents.page_forms import (
    PAGE_SIZE,
    WHOLE,
    alert,
    local_time,
    named,
    number,
    template_labels,
    text_form,
)
from anjian.accidents.rules import ACCIDENT, TIER_LABELS
from anjian.accidents.schemas import AccidentCreate, ClassifyRequest
from anjian.core.clock import CST
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import Tier
from anjian.core.divisions.service import division_names
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.service import field_cipher
from anjian.core.paging import PageNumber
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.service import enterprise_choices, enterprise_in_scope, is_enterprise_user
from anjian.web.dossier import EnterpriseFilter
from anjian.web.forms import FormPage, field_errors, validated
from anjian.web.layout import page, pager_of
from anjian.web.offloop import page_routes
from anjian.web.session import PageCtx, check_csrf, refused

router = page_routes()

ENTERPRISE_CHOICES = 500  # a county's enterprises fit; the API takes any enterprise in scope
DIVISION_FILTER_CHOICES = 600  # beyond this (a national scope) the filter offers no counties
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


# --- choices ---------------------------------------------------------------------------------------


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
        .where(ctx.scope.within(Division.code), Division.tier == Tier.COUNTY)
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
        .where(ctx.scope.within(Division.code), Division.tier != Tier.NATIONAL)
        .order_by(Division.code)
    )
    rows = [(str(c), str(n), str(t)) for c, n, t in ctx.db.execute(stmt)]
    if len(rows) > DIVISION_FILTER_CHOICES:
        rows = [r for r in rows if r[2] != Tier.COUNTY]
    return rows


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
        items, total = reporting.list_accidents(
            ctx.db,
            ctx.scope,
            enterprise_id=ent.id if ent else None,
            division=division or None,
            grade=int(grade) if WHOLE.fullmatch(grade) else None,
            accident_type=accident_type or None,
            kind=kind or None,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
    except AnjianError as exc:
        error = refused(request, ctx, exc).popitem()[1]
        items, total = [], 0
    late_uids = reporting.late_uids(ctx.db, items)
    late = {a.id: a.uid in late_uids for a in items}
    return page(
        request,
        ctx,
        "accidents/list.html",
        {
            "items": reporting.present(ctx.db, items),
            "late": late,
            "filters": filters,
            "enterprise": ent,
            "error": error,
            **pager_of(total, page_no, PAGE_SIZE),
            "divisions": _filter_divisions(ctx),
            **template_labels(),
        },
        active="accidents",
    )


# --- the quick report (快报) ------------------------------------------------------------------------


class _ReportForm(FormPage):
    """The quick report's form: the service's messages name its fields by their labels, an
    alert on top says what to correct, and the folded part opens by itself when it holds an
    error or what the user typed (an enterprise user's own enterprise is filled in, not
    typed)."""

    def context(
        self, ctx: Context, values: dict[str, str], errors: dict[str, str]
    ) -> dict[str, Any]:
        errors = named(errors, REPORT_LABELS)
        is_enterprise = is_enterprise_user(ctx.scope)
        typed = [f for f in MORE_REPORT_FIELDS if not (is_enterprise and f == "enterprise_id")]
        return {
            **super().context(ctx, values, errors),
            "alert": alert(errors, REPORT_LABELS),
            "more_open": any(errors.get(f) or values.get(f) for f in typed),
            "is_enterprise": is_enterprise,
        }


_new_page = _ReportForm(
    "accidents/new.html",
    "accidents",
    lambda ctx: {
        "places": _place_choices(ctx),
        "enterprises": enterprise_choices(ctx.db, ctx.scope, ENTERPRISE_CHOICES),
        "labels": REPORT_LABELS,
        **template_labels(),
    },
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
        "kind": ACCIDENT,
    }
    return _new_page(request, ctx, values)


@router.post("/accidents/new")
async def accident_report(request: Request, ctx: PageCtx) -> Response:
    """File the quick report of the form through the service (graded, audited, synced up);
    errors are shown at their fields and nothing is saved."""
    form = text_form(await request.form())
    check_csrf(request, form.get("csrf"))
    values = {f: form.get(f, "") for f in REPORT_LABELS}
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    for name in REPORT_LABELS:
        value = values[name]
        if name in ("occurred_at", "known_at"):
            if value:
                when = local_time(value)
                if when is None:
                    errors[name] = "时间格式应为 YYYY-MM-DD HH:MM"
                else:
                    body[name] = when
        elif name in NUMBER_FIELDS:
            if value:
                body[name] = number(value)
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
        acc = reporting.report_accident(ctx.db, ctx.actor, ctx.scope, data)
    except AnjianError as exc:
        return _new_page(request, ctx, values, refused(request, ctx, exc), exc.status)
    return RedirectResponse(f"/accidents/{acc.id}?done=report", status_code=303)


@router.get("/accidents/grade-preview")
def grade_preview(ctx: PageCtx, request: Request) -> Response:
    """The grade the numbers typed so far give (the API's calculator, nothing saved), for the
    form's live preview; ``{"error"}`` while they cannot be read yet."""
    params = {
        k: number(v.strip())
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
