"""隐患治理 console pages: the ledger with its statistics, reporting a hazard, and one hazard with
its closed loop, where each user is offered the step that is theirs to take; the pages of the
inspection checklists (排查清单) and self-inspection tasks (自查任务) are
:mod:`anjian.hidden_hazards.checklists.pages`, served with these.

Everything goes through the hidden-hazard service with the user's scope, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.core.paging import MAX_PAGE
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises.service import (
    enterprise_choices,
    enterprise_in_scope,
    enterprise_names,
    is_enterprise_user,
)
from anjian.hidden_hazards import photos, service
from anjian.hidden_hazards.checklists.pages import router as checklist_pages
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.rules import (
    CATEGORIES,
    GRADES,
    PLAN_FIELDS,
    SOURCES,
    STATE_LABELS,
    HazardGrade,
    HazardState,
    supervision_blocks_acceptance,
)
from anjian.hidden_hazards.schemas import (
    GovernancePlanUpdate,
    HazardCreate,
    HazardRegistrationCreate,
)
from anjian.web import dossier
from anjian.web.dossier import EnterpriseFilter
from anjian.web.forms import FormPage, field_errors, posted_form, validated
from anjian.web.layout import page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import PageCtx, check_csrf, refused

router = pages_router(Path(__file__).parent / "templates")
router.include_router(checklist_pages)

STATE_BADGES = {
    "found": "bg-purple-lt",
    "registered": "bg-blue-lt",
    "rectifying": "bg-yellow-lt",
    "rectified": "bg-orange-lt",
    "closed": "bg-green-lt",
}
TABS = (
    ("", "全部"),
    ("found", "待登记"),
    ("rectifying", "整改中"),
    ("rectified", "待验收"),
    ("overdue", "逾期"),
    ("closed", "已销号"),
)
ENTERPRISE_CHOICES = 500  # a county's hazard-bearing enterprises fit; the API has no limit


def _labels() -> dict[str, Any]:
    return {
        "state_labels": {s.value: label for s, label in STATE_LABELS.items()},
        "state_badges": STATE_BADGES,
        "grades": GRADES,
        "categories": CATEGORIES,
        "sources": SOURCES,
        "plan_fields": PLAN_FIELDS,
    }


@router.get("/hazards")
def hazard_list(
    request: Request,
    ctx: PageCtx,
    tab: str = "",
    grade: str = "",
    q: str = "",
    page_no: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    enterprise: EnterpriseFilter = None,
) -> Response:
    """隐患台账: the ledger of the jurisdiction (or the enterprise), newest first, with the
    jurisdiction's figures on top; ``enterprise``: one enterprise's hazards (一企一档)."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise) if enterprise else None
    filters: dict[str, Any] = {"grade": grade or None, "q": q or None}
    if ent is not None:
        filters["enterprise_id"] = ent.id
    if tab == "overdue":
        filters.update(overdue=True, state="open")
    elif tab:
        filters["state"] = tab
    size = 50
    items, total = service.list_hazards(
        ctx.db, ctx.scope, **filters, limit=size, offset=(page_no - 1) * size
    )
    names = enterprise_names(ctx.db, {h.enterprise_id for h in items})
    stats = service.statistics(ctx.db, ctx.scope)
    return page(
        request,
        ctx,
        "hidden_hazards/list.html",
        {
            "items": items,
            "names": names,
            "stats": stats,
            "tab": tab,
            "tabs": TABS,
            "grade": grade,
            "q": q,
            "enterprise": ent,
            **pager_of(total, page_no, size),
            **_labels(),
        },
        active="hazards",
    )


_new_page = FormPage(
    "hidden_hazards/new.html",
    "hazards",
    lambda ctx: {
        "enterprises": enterprise_choices(ctx.db, ctx.scope, ENTERPRISE_CHOICES),
        **_labels(),
    },
)


@router.get("/hazards/new")
def hazard_new(request: Request, ctx: PageCtx, enterprise_id: str = "") -> Response:
    """The form to report a hidden hazard (排查上报)."""
    values = {
        "enterprise_id": enterprise_id or str(ctx.scope.enterprise_id or ""),
        "place": "",
        "description": "",
        "category": "site",
    }
    return _new_page(request, ctx, values)


@router.post("/hazards/new")
async def hazard_report(request: Request, ctx: PageCtx) -> Response:
    """Report the hazard of the form; errors are shown at their fields."""
    form = await posted_form(request)
    values = {k: form.get(k, "") for k in ("enterprise_id", "place", "description", "category")}
    try:
        data = HazardCreate.model_validate(
            {
                "enterprise_id": values["enterprise_id"] or None,
                "place": values["place"].strip(),
                "description": values["description"].strip(),
                "category": values["category"],
            }
        )
    except ValidationError as exc:
        return _new_page(request, ctx, values, field_errors(exc), status_code=422)
    try:
        hz = service.report_hazard(ctx.db, ctx.actor, ctx.scope, data)
    except AnjianError as exc:
        return _new_page(request, ctx, values, refused(request, ctx, exc), exc.status)
    return RedirectResponse(f"/hazards/{hz.id}?done=report", status_code=303)


def _detail_page(
    request: Request,
    ctx: Context,
    hz: HiddenHazard,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    supervision = service.open_supervision(ctx.db, hz)
    view = service.present(ctx.db, hz)
    people = display_names(
        ctx.db,
        [view.found_by, view.rectified_by, view.accepted_by, *(s.actor for s in view.steps)],
    )
    agency = not is_enterprise_user(ctx.scope)
    return page(
        request,
        ctx,
        "hidden_hazards/detail.html",
        {
            "hz": view,
            "people": people,
            "supervision": supervision,
            "agency": agency,
            "local": hz.origin_node == get_settings().effective_node_id,
            "errors": errors or {},
            "values": values or {},
            "done": request.query_params.get("done", ""),
            "plan_missing": hz.grade == HazardGrade.MAJOR
            and not (hz.plan and all(hz.plan.values())),
            # the service's own rule: no 验收销号 button while an open order forbids it
            "acceptance_blocked": supervision_blocks_acceptance(hz.grade, supervision is not None),
            "can_supervise": agency
            and hz.grade == HazardGrade.MAJOR
            and supervision is None
            and hz.state in (HazardState.REGISTERED, HazardState.RECTIFYING, HazardState.RECTIFIED),
            **_labels(),
        },
        active="hazards",
        status_code=status_code,
    )


@router.get("/hazards/{hazard_id}")
def hazard_detail(request: Request, hazard_id: int, ctx: PageCtx) -> Response:
    """One hazard: its facts, the loop so far, and the next step for this user."""
    return _detail_page(request, ctx, service.get_hazard(ctx.db, ctx.scope, hazard_id))


@router.post("/hazards/{hazard_id}/{action}")
async def hazard_step(request: Request, hazard_id: int, action: str, ctx: PageCtx) -> Response:
    """Take one step of the loop from the detail page's forms."""
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    note = form.get("note", "").strip()
    errors: dict[str, str] = {}
    try:
        if action == "photo":
            upload = raw.get("file")
            if isinstance(upload, StarletteUpload) and upload.filename:
                data = await upload.read(photos.MAX_PHOTO_BYTES + 1)
                photos.add_photo(ctx.db, ctx.actor, ctx.scope, hazard_id, upload.filename, data)
            else:
                errors = {"file": "请选择照片"}
        elif action == "register":
            data, errors = validated(
                HazardRegistrationCreate,
                {
                    "grade": form.get("grade", ""),
                    "major_criterion": form.get("major_criterion", "").strip(),
                    "deadline": form.get("deadline", "").strip() or None,
                    "responsible": form.get("responsible", "").strip(),
                    "measures": form.get("measures", "").strip(),
                    "funds_cny": form.get("funds_cny", "").strip() or None,
                },
            )
            if data is not None:
                service.register_hazard(ctx.db, ctx.actor, ctx.scope, hazard_id, data)
        elif action == "plan":
            data, errors = validated(
                GovernancePlanUpdate, {k: form.get(k, "").strip() for k in PLAN_FIELDS}
            )
            if data is not None:
                service.set_plan(ctx.db, ctx.actor, ctx.scope, hazard_id, data)
        elif action == "supervise":
            data, errors = validated(
                SupervisionCreate,
                {
                    "requirements": form.get("requirements", "").strip(),
                    "due_date": form.get("due_date", "").strip() or None,
                },
            )
            if data is not None:
                service.supervise(ctx.db, ctx.actor, ctx.scope, ctx.user, hazard_id, data)
        elif action == "start":
            service.start_rectification(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        elif action == "finish":
            service.finish_rectification(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        elif action == "accept":
            service.accept(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        elif action == "reject":
            service.reject(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
        else:
            errors = {"__all__": f"未知操作: {action}"}
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        status = exc.status
    else:
        status = 422
    if errors:
        hz = service.get_hazard(ctx.db, ctx.scope, hazard_id)
        return _detail_page(
            request, ctx, hz, errors=errors, values={**form, "action": action}, status_code=status
        )
    return RedirectResponse(f"/hazards/{hazard_id}?done={action}", status_code=303)


dossier.register(
    dossier.RecordLink(
        "hidden_hazards",
        "隐患",
        10,
        count=lambda db, scope, eid: service.list_hazards(db, scope, enterprise_id=eid, limit=0)[1],
        href=lambda eid: f"/hazards?enterprise={eid}",
        note=lambda db, scope, eid: (
            f"未销号 {n}"
            if (n := service.list_hazards(db, scope, enterprise_id=eid, state="open", limit=0)[1])
            else ""
        ),
    )
)
