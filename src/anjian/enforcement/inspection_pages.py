"""行政执法 console pages of the officers' daily work: the inspections in scope (the officer's own
open ones first) with the 新建检查 form, and one inspection with its enterprise, team, checklist,
findings and documents, where the inspecting agency's officials take the next step. The officers
(:mod:`anjian.enforcement.inspector_pages`) and an enterprise's enforcement history
(:mod:`anjian.enforcement.history_pages`) are mounted with them.

Every form is the service call the API makes, with the user's scope; a step is offered only in
the state where the service accepts it, and a refusal is shown at its form in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from anjian.core.clock import today_in_china
from anjian.core.divisions.service import division_names
from anjian.core.errors import AnjianError, Invalid, NotFound
from anjian.core.iam.deps import Context
from anjian.core.iam.models import Role
from anjian.core.iam.people import display_names
from anjian.core.images import MAX_IMAGE_BYTES
from anjian.core.paging import PageNumber
from anjian.enforcement import documents, evidence, history_pages, inspections, inspector_pages
from anjian.enforcement.inspectors import list_inspectors
from anjian.enforcement.models import Inspection
from anjian.enforcement.page_kit import (
    STATE_BADGES,
    agency_officers,
    chinese,
    labelled,
    may_plan,
)
from anjian.enforcement.rules.documents import CompulsoryMeasure, DocumentKind
from anjian.enforcement.rules.inspections import (
    SIGNER_ROLES,
    SOURCE_LABELS,
    STATE_LABELS,
    InspectionSource,
    InspectionState,
)
from anjian.enforcement.schemas import (
    DocumentCreate,
    FindingCreate,
    InspectionCreate,
    InspectionFinish,
    InspectionRead,
)
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.enterprises.service import enterprise_choices, enterprise_in_scope
from anjian.web.dossier import EnterpriseFilter
from anjian.web.forms import FormRefusal, validated
from anjian.web.layout import maintained_elsewhere, page, pager_of
from anjian.web.render import pages_router, query
from anjian.web.session import StaffPageCtx, check_csrf, refused

router = pages_router(Path(__file__).parent / "templates")
router.include_router(inspector_pages.router)
router.include_router(history_pages.router)

PAGE_SIZE = 20
MINE_LIMIT = 500  # open inspections looked through for the officer's own (a county's fit)
ENTERPRISE_CHOICES = 500  # a county's enterprises fit the 新建检查 select; the API takes any
RESULT_CHOICES = [("ok", "符合"), ("finding", "不符合"), ("na", "不适用")]
DOCUMENT_CHOICES = [(k.value, k.label) for k in list(DocumentKind)[:3]]
PLAN_LABELS = {
    "enterprise_id": "被检查企业",
    "team": "检查组",
    "planned_on": "计划检查日期",
    "source": "检查来源",
    "source_ref": "来源说明",
}
FINDING_LABELS = {
    "item_code": "对应检查条目",
    "place": "部位",
    "description": "问题描述",
    "major": "重大事故隐患",
}
FINISH_LABELS = {"summary": "检查情况", "results": "检查结果"}
DOCUMENT_LABELS = {
    "kind": "文书种类",
    "deadline": "整改期限",
    "opinion": "复查意见",
    "measure": "强制措施",
    "subject": "措施对象",
}


# --- the list --------------------------------------------------------------------------------------


def _my_officers(ctx: Context) -> list[Any]:
    """The user's own registrations as an officer (none, or one)."""
    return [i for i in list_inspectors(ctx.db, ctx.scope) if i.user_id == ctx.user.id]


def _mine(ctx: Context, me: set[int]) -> list[Inspection]:
    """The open inspections (待检查, 检查中) in scope whose team has one of ``me`` (the
    user's officer ids), soonest first."""
    if not me:
        return []
    rows: list[Inspection] = []
    for state in (InspectionState.ON_SITE, InspectionState.PLANNED):
        found, _ = inspections.list_inspections(ctx.db, ctx.scope, state=state, limit=MINE_LIMIT)
        rows += [i for i in found if any(int(m["inspector_id"]) in me for m in i.team)]
    return sorted(rows, key=lambda i: (i.state != InspectionState.ON_SITE, i.planned_on, i.id))


def _plan_choices(ctx: Context) -> dict[str, Any]:
    """What the 新建检查 form offers: the enterprises in scope, the agency's active officers,
    the sources; empty when the user may not plan."""
    if not may_plan(ctx):
        return {"can_plan": False, "officers": agency_officers(ctx)}
    return {
        "can_plan": True,
        "officers": agency_officers(ctx),
        "enterprises": enterprise_choices(ctx.db, ctx.scope, ENTERPRISE_CHOICES),
        "sources": [(s.value, SOURCE_LABELS[s]) for s in InspectionSource if s != "draw"],
    }


def _list_page(
    request: Request,
    ctx: Context,
    *,
    state: str = "",
    page_no: int = 1,
    enterprise: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise) if enterprise else None
    state = state if state in STATE_LABELS else ""
    found, total = inspections.list_inspections(
        ctx.db,
        ctx.scope,
        enterprise_id=ent.id if ent else None,
        state=state or None,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    officers = _my_officers(ctx)
    mine = _mine(ctx, {o.id for o in officers}) if page_no == 1 and not ent and not state else []
    mine_ids = {i.id for i in mine}
    rows = [i for i in found if i.id not in mine_ids]
    filters = {"state": state, "enterprise": ent.id if ent else ""}
    errors = errors or {}
    return page(
        request,
        ctx,
        "enforcement/inspections.html",
        {
            "mine": inspections.present(ctx.db, mine),
            "rows": inspections.present(ctx.db, rows),
            "mine_count": len(mine),
            "may_pair": any(o.active for o in officers),  # /terminal/pair accepts active officers
            **pager_of(total, page_no, PAGE_SIZE),
            "filters": filters,
            "enterprise": ent,
            "states": list(STATE_LABELS.items()),
            "state_badges": STATE_BADGES,
            "agencies": _agency_names(ctx, found + mine),
            "values": values or {"planned_on": today_in_china().isoformat(), "source": "plan"},
            "errors": errors,
            "alert": labelled(errors, PLAN_LABELS),
            **_plan_choices(ctx),
        },
        active="enforcement",
        status_code=status_code,
    )


def _agency_names(ctx: Context, rows: list[Inspection]) -> dict[str, str]:
    return division_names(ctx.db, {i.agency_division for i in rows})


@router.get("/enforcement")
def enforcement_home() -> Response:
    """行政执法 opens on the inspections."""
    return RedirectResponse("/enforcement/inspections", status_code=303)


@router.get("/enforcement/inspections")
def inspection_list(
    request: Request,
    ctx: StaffPageCtx,
    state: str = "",
    page_no: PageNumber = 1,
    enterprise: EnterpriseFilter = None,
) -> Response:
    """检查任务: the officer's own open inspections, then all in scope, latest planned first;
    ``state`` 待检查/检查中/已完成; ``enterprise``: one enterprise's (一企一档)."""
    return _list_page(request, ctx, state=state, page_no=page_no, enterprise=enterprise)


def _form(raw: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in raw.items() if isinstance(v, str)}


@router.post("/enforcement/inspections")
async def plan_form(request: Request, ctx: StaffPageCtx) -> Response:
    """新建检查: an inspection of an enterprise by a team of the agency's officers."""
    raw = await request.form()
    form = _form(raw)
    check_csrf(request, form.get("csrf"))
    team = [str(v) for v in raw.getlist("team")]
    body: dict[str, Any] = {
        "enterprise_id": form.get("enterprise_id") or None,
        "team": [int(t) if t.isdigit() and len(t) < 11 else t for t in team],
        "planned_on": form.get("planned_on", ""),
        "source": form.get("source", "plan"),
        "source_ref": form.get("source_ref", ""),
    }
    values: dict[str, Any] = {**form, "team": team}
    errors: dict[str, str] = {} if body["enterprise_id"] else {"enterprise_id": "请选择企业"}
    data, errors = validated(InspectionCreate, body, errors)
    status = 422
    if data is not None:
        try:
            insp = inspections.plan_inspection(ctx.db, ctx.actor, ctx.scope, ctx.user, data)
        except AnjianError as exc:
            errors, status = refused(request, ctx, exc), exc.status
            errors = {k: chinese(v) for k, v in errors.items()}
        else:
            return RedirectResponse(
                f"/enforcement/inspections/{insp.id}?done=plan", status_code=303
            )
    return _list_page(request, ctx, values=values, errors=errors, status_code=status)


# --- one inspection ---------------------------------------------------------------------------------


def _may_act(ctx: Context, insp: Inspection) -> bool:
    """Whether the user takes steps on the inspection: an official of the agency that planned
    it, on the node that keeps it (the service's ``acting_on``)."""
    return (
        ctx.user.role == Role.OFFICIAL
        and ctx.user.division_code == insp.agency_division
        and not maintained_elsewhere(insp)
    )


def _offers(ctx: Context, insp: Inspection, view: InspectionRead) -> dict[str, bool]:
    """The steps the service would accept now, by form."""
    act = _may_act(ctx, insp)
    kinds = {d.kind for d in view.documents}
    return {
        "start": act and insp.state == InspectionState.PLANNED,
        "finding": act and insp.state == InspectionState.ON_SITE,
        "finish": act and insp.state == InspectionState.ON_SITE,
        "hazard": act,
        "inspection_record": act and insp.state != InspectionState.PLANNED,
        "rectification_order": act and bool(view.findings),
        "review_opinion": act and DocumentKind.RECTIFICATION_ORDER in kinds,
        "compulsory_measure": act and insp.state != InspectionState.PLANNED and bool(view.findings),
    }


DONE = {
    "plan": "检查已安排，检查组到现场后点「开始检查」。",
    "start": "检查已开始，可记录发现的问题。",
    "finding": "问题已记录。",
    "finish": "检查已结束，检查结果已记录。",
    "document": "文书已出具，可下载打印。",
    "hazard": "已转为企业隐患，进入隐患排查治理流程。",
    "photo": "照片已上传。",
}


def _detail_page(
    request: Request, ctx: Context, insp: Inspection, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    view = inspections.present(ctx.db, [insp])[0]
    ent = enterprise_in_scope(ctx.db, ctx.scope, insp.enterprise_id)
    divisions = division_names(ctx.db, [insp.division_code, insp.agency_division])
    people = display_names(
        ctx.db,
        [insp.created_by]
        + [f.found_by for f in view.findings]
        + [d.issued_by for d in view.documents],
    )
    labels = {
        "plan": PLAN_LABELS,
        "finding": FINDING_LABELS,
        "finish": FINISH_LABELS,
        "document": DOCUMENT_LABELS,
    }.get(refusal.form, {})
    found_items = {f.item_code for f in view.findings if f.item_code}
    offers = _offers(ctx, insp, view)
    # A refusal of a form the page no longer offers (the state moved on) is shown on top.
    shown_at_form = {
        "finding": offers["finding"],
        "finish": offers["finish"],
        "document": any(
            offers[k]
            for k in (
                "inspection_record",
                "rectification_order",
                "review_opinion",
                "compulsory_measure",
            )
        ),
    }
    return page(
        request,
        ctx,
        "enforcement/inspection.html",
        {
            "i": view,
            "e": ent,
            "category": SUPERVISION_CATEGORIES.get(ent.supervision_category, ""),
            "divisions": divisions,
            "people": people,
            "state_badges": STATE_BADGES,
            "result_labels": documents.RESULT_LABELS,
            "result_choices": RESULT_CHOICES,
            "document_choices": DOCUMENT_CHOICES,
            "found_items": found_items,
            "offers": offers,
            "top_alert": not shown_at_form.get(refusal.form, False),
            "maintained_by": maintained_elsewhere(insp),
            "signer_roles": SIGNER_ROLES,
            "criteria_note": inspections.criteria_note(),
            "form": refusal.form,
            "errors": refusal.errors,
            "alert": labelled(refusal.errors, labels),
            "values": refusal.values,
            "done": DONE.get(request.query_params.get("done", ""), ""),
            "today": today_in_china().isoformat(),
            "measures": [(str(m), m.label) for m in CompulsoryMeasure],
        },
        active="enforcement",
        status_code=refusal.status_code,
    )


@router.get("/enforcement/inspections/{inspection_id:int}")
def inspection_detail(request: Request, inspection_id: int, ctx: StaffPageCtx) -> Response:
    """One inspection with the steps this user may take on it."""
    insp = inspections.get_inspection(ctx.db, ctx.scope, inspection_id)
    return _detail_page(request, ctx, insp)


# --- the steps ------------------------------------------------------------------------------------


def _start(ctx: Context, iid: int, _form: dict[str, str]) -> dict[str, str]:
    inspections.start(ctx.db, ctx.actor, ctx.scope, ctx.user, iid)
    return {}


def _finding(ctx: Context, iid: int, form: dict[str, str]) -> dict[str, str]:
    body = {
        "item_code": form.get("item_code", ""),
        "place": form.get("place", ""),
        "description": form.get("description", ""),
        "major": form.get("major") == "1",
    }
    data, errors = validated(FindingCreate, body)
    if data is not None:
        inspections.add_finding(ctx.db, ctx.actor, ctx.scope, ctx.user, iid, data)
    return errors


def _finish(ctx: Context, iid: int, form: dict[str, str]) -> dict[str, str]:
    results = {k[2:]: v for k, v in form.items() if k.startswith("r_") and v}
    data, errors = validated(
        InspectionFinish, {"summary": form.get("summary", ""), "results": results}
    )
    if data is not None:
        inspections.finish(ctx.db, ctx.actor, ctx.scope, ctx.user, iid, data)
    return errors


def _document(ctx: Context, iid: int, form: dict[str, str]) -> dict[str, str]:
    kind = form.get("kind", "")
    body: dict[str, Any] = {"kind": kind}
    if kind == DocumentKind.RECTIFICATION_ORDER:
        body["deadline"] = form.get("deadline") or None
        if body["deadline"] is None:
            return {"deadline": "请填写整改期限"}
    if kind == DocumentKind.REVIEW_OPINION:
        body["opinion"] = form.get("opinion", "")
    if kind == DocumentKind.COMPULSORY_MEASURE:
        body["measure"] = form.get("measure") or None
        body["subject"] = form.get("subject", "")
        if body["measure"] is None:
            return {"measure": "请选择强制措施"}
    data, errors = validated(DocumentCreate, body, pattern_messages={"kind": "请选择文书种类"})
    if data is not None:
        documents.issue_document(ctx.db, ctx.actor, ctx.scope, ctx.user, iid, data)
    return {"kind": "请选择文书种类"} if "kind" in errors else errors


@dataclass(frozen=True)
class Step:
    """A form of the inspection page: ``act`` reads the posted fields and makes the service
    call, returning the errors at the fields (none when it went through)."""

    act: Callable[[Context, int, dict[str, str]], dict[str, str]]


STEPS: dict[str, Step] = {
    "start": Step(_start),
    "finding": Step(_finding),
    "finish": Step(_finish),
    "document": Step(_document),
}


@router.post("/enforcement/inspections/{inspection_id:int}/{action}")
async def inspection_step(
    request: Request, inspection_id: int, action: str, ctx: StaffPageCtx
) -> Response:
    """开始检查, 记录问题, 结束检查 or 出具文书: the service call the API makes; a refusal is
    shown at the form."""
    form = _form(await request.form())
    check_csrf(request, form.get("csrf"))
    step = STEPS.get(action)
    if step is None:
        raise NotFound(f"未知操作: {action}")
    status = 422
    try:
        errors = step.act(ctx, inspection_id, form)
    except AnjianError as exc:
        if exc.status == 404:
            raise
        errors, status = refused(request, ctx, exc), exc.status
    if errors:
        insp = inspections.get_inspection(ctx.db, ctx.scope, inspection_id)
        errors = {k: chinese(v) for k, v in errors.items()}
        return _detail_page(request, ctx, insp, FormRefusal(action, errors, form, status))
    return RedirectResponse(
        f"/enforcement/inspections/{inspection_id}?{query({'done': action})}#{action}",
        status_code=303,
    )


async def _photo_of(raw: FormData) -> tuple[str, bytes]:
    upload = raw.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        raise Invalid("请选择照片 (choose a photo)", field="file")
    return upload.filename, await upload.read(MAX_IMAGE_BYTES + 1)


@router.post("/enforcement/inspections/{inspection_id:int}/findings/{finding_id:int}/{action}")
async def finding_step(
    request: Request, inspection_id: int, finding_id: int, action: str, ctx: StaffPageCtx
) -> Response:
    """转为隐患 (``hazard``: the finding becomes a hidden hazard of the enterprise) or 上传照片
    (``photo``) of one finding."""
    raw = await request.form()
    form = _form(raw)
    check_csrf(request, form.get("csrf"))
    if action not in ("hazard", "photo"):
        raise NotFound(f"未知操作: {action}")
    finding = inspections.get_finding(ctx.db, ctx.scope, finding_id)
    if finding.inspection_id != inspection_id:
        raise NotFound(f"检查发现不存在: {finding_id}")
    try:
        if action == "hazard":
            inspections.to_hazard(ctx.db, ctx.actor, ctx.scope, ctx.user, finding_id)
        else:
            name, data = await _photo_of(raw)
            evidence.add_photo(ctx.db, ctx.actor, ctx.scope, ctx.user, finding, name, data)
    except AnjianError as exc:
        if exc.status == 404:
            raise
        errors = {k: chinese(v) for k, v in refused(request, ctx, exc).items()}
        insp = inspections.get_inspection(ctx.db, ctx.scope, inspection_id)
        return _detail_page(request, ctx, insp, FormRefusal(action, errors, status_code=exc.status))
    return RedirectResponse(
        f"/enforcement/inspections/{inspection_id}?done={action}#finding-{finding_id}",
        status_code=303,
    )
