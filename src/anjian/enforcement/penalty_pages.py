"""行政处罚 console pages: the cases in scope, one case with its legal basis, clocks (the
party's last days, the 90-day decision deadline, the payment deadline and the surcharge running)
and documents, the form of each step offered only where the service would take it, and the form
that files a case. Every form is the service call the API makes; its refusal is shown at the
form in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.core.clock import today_in_china
from anjian.core.iam.deps import Context
from anjian.core.paging import PageNumber
from anjian.enforcement import inspections, penalties
from anjian.enforcement.models import PenaltyCase
from anjian.enforcement.page_common import (
    ACTIVE,
    PAGE_SIZE,
    TEMPLATES,
    StepForm,
    agency_acts,
    is_official,
    labels,
)
from anjian.enforcement.reference import penalty_bases
from anjian.enforcement.rules import penalties as rules
from anjian.enforcement.rules.penalties import STAGE_LABELS, Discretion, PenaltyStage
from anjian.enforcement.schemas import (
    HearingRequest,
    PenaltyCreate,
    PenaltyDecision,
    PenaltyNotice,
    PenaltyPayment,
    PenaltyRead,
)
from anjian.enterprises.service import enterprise_choices
from anjian.web.forms import FormPage, FormRefusal, alert, call, run_form
from anjian.web.layout import division_name, page, pager_of
from anjian.web.render import pages_router, query
from anjian.web.session import StaffPageCtx

router = pages_router(TEMPLATES)

ENTERPRISE_CHOICES = 500  # a county's enterprises fit; the API takes any enterprise in scope
INSPECTION_CHOICES = 100
STAGE_BADGES = {
    "filed": "bg-blue-lt",
    "notified": "bg-yellow-lt",
    "hearing": "bg-orange-lt",
    "decided": "bg-purple-lt",
    "paid": "bg-green-lt",
    "closed": "bg-secondary-lt",
}
DISCRETIONS = [(d.value, d.label) for d in Discretion]
CREATE_LABELS = {
    "enterprise_id": "当事企业",
    "basis": "违法行为及处罚依据",
    "facts": "违法事实",
    "filed_on": "立案日期",
    "inspection_id": "来源检查",
}


def basis_texts() -> dict[str, dict[str, Any]]:
    """The legal bases by code (article, the illegal act, the penalty, the range)."""
    return {b["code"]: b for b in penalty_bases()["bases"]}


def _bands(case: PenaltyRead) -> list[tuple[str, str, Decimal, Decimal]]:
    """Each discretion band with the part of the case's range it allows."""
    return [
        (d.value, d.label, *rules.discretion_band(case.range_low, case.range_high, d))
        for d in Discretion
    ]


def _open_steps(case: PenaltyRead, acts: bool) -> set[str]:
    """The steps the service would take now: the stage allows them, the periods have run out
    where they must, and the user's agency acts on the case here."""
    if not acts:
        return set()
    stage, today = PenaltyStage(case.stage), today_in_china()
    steps: set[str] = set()
    if stage is PenaltyStage.FILED:
        steps.add("notice")
    if stage is PenaltyStage.NOTIFIED:
        steps.add("hearing")
        assert case.statement_deadline and case.hearing_request_deadline
        if today > max(case.statement_deadline, case.hearing_request_deadline):
            steps.add("decision")
    if stage is PenaltyStage.HEARING:
        steps.add("decision")
    if stage is PenaltyStage.DECIDED:
        steps.add("payment" if (case.fine or 0) > 0 else "close")
    if stage is PenaltyStage.PAID:
        steps.add("close")
    return steps


def _surcharge(case: PenaltyRead) -> Decimal | None:
    """The surcharge (加处罚款) running today on a decided fine not paid after its deadline."""
    if case.stage != PenaltyStage.DECIDED or not case.fine or case.payment_deadline is None:
        return None
    late = rules.late_payment(case.fine, case.payment_deadline, today_in_china())
    return late if late > 0 else None


# --- the list and the new case -------------------------------------------------------------------


@router.get("/enforcement/penalties")
def penalty_list(
    request: Request, ctx: StaffPageCtx, stage: str = "", page_no: PageNumber = 1
) -> Response:
    """行政处罚: the cases in scope, the latest filed first, with their stage and clocks."""
    stage = stage if stage in STAGE_LABELS else ""
    rows, total = penalties.list_cases(
        ctx.db, ctx.scope, stage=stage or None, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    return page(
        request,
        ctx,
        "enforcement/penalties.html",
        {
            "items": penalties.present(ctx.db, rows),
            "stage": stage,
            "stages": [(str(k), v) for k, v in STAGE_LABELS.items()],
            "stage_badges": STAGE_BADGES,
            "may_file": is_official(ctx),
            "today": today_in_china().isoformat(),
            **pager_of(total, page_no, PAGE_SIZE),
            **labels(),
        },
        active=ACTIVE,
    )


def _new_choices(ctx: Context) -> dict[str, Any]:
    """What the form of a new case offers: the enterprises, the legal bases, the inspections it
    may come from, and whether the user's agency may file at all."""
    found, _ = inspections.list_inspections(ctx.db, ctx.scope, limit=INSPECTION_CHOICES)
    shown = inspections.present(ctx.db, found)
    return {
        "enterprises": enterprise_choices(ctx.db, ctx.scope, ENTERPRISE_CHOICES),
        "bases": list(basis_texts().values()),
        "inspection_choices": [
            (str(i.id), f"{i.enterprise_name} · {i.planned_on:%Y-%m-%d} · {i.state_label}")
            for i in shown
        ],
        "may_file": is_official(ctx),
        **labels(),
    }


_new_page = FormPage("enforcement/penalty_new.html", ACTIVE, _new_choices, labels=CREATE_LABELS)


@router.get("/enforcement/penalties/new")
def penalty_new(
    request: Request, ctx: StaffPageCtx, enterprise: str = "", inspection: str = ""
) -> Response:
    """The form that files a case (立案); ``enterprise`` and ``inspection`` fill it in."""
    values = {
        "enterprise_id": enterprise,
        "inspection_id": inspection,
        "basis": "",
        "facts": "",
        "filed_on": today_in_china().isoformat(),
    }
    return _new_page(request, ctx, values)


def _whole(value: str) -> Any:
    return int(value) if value.isdigit() else value or None


@router.post("/enforcement/penalties/new")
async def penalty_create(request: Request, ctx: StaffPageCtx) -> Response:
    """File the case (the API's service call): to its page, or the form with its errors."""
    made: list[PenaltyCase] = []

    def act(form: dict[str, str]) -> dict[str, str]:
        body = {
            "enterprise_id": _whole(form.get("enterprise_id", "")),
            "inspection_id": _whole(form.get("inspection_id", "")),
            "basis": form.get("basis", ""),
            "facts": form.get("facts", ""),
            "filed_on": form.get("filed_on") or None,
        }
        return call(
            PenaltyCreate,
            body,
            lambda data: made.append(
                penalties.file_case(ctx.db, ctx.actor, ctx.scope, ctx.user, data)
            ),
        )

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(f"/enforcement/penalties/{made[0].id}?done=file", status_code=303)
    if errors.get("enterprise_id") == "必填":
        errors["enterprise_id"] = "请选择当事企业"
    return _new_page(request, ctx, values, errors, status)


# --- one case ------------------------------------------------------------------------------------


def _detail_page(
    request: Request, ctx: Context, case: PenaltyCase, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    view = penalties.present(ctx.db, [case])[0]
    today = today_in_china()
    done = request.query_params.get("done", "")
    return page(
        request,
        ctx,
        "enforcement/penalty_detail.html",
        {
            "c": view,
            "basis": basis_texts().get(view.basis_code, {}),
            "agency": division_name(ctx.db, view.agency_division),
            "stage_badges": STAGE_BADGES,
            "bands": _bands(view),
            "discretions": DISCRETIONS,
            "discretion_label": dict(DISCRETIONS).get(view.discretion, ""),
            "steps": _open_steps(view, agency_acts(ctx, case.agency_division, case)),
            "surcharge": _surcharge(view),
            "today": today.isoformat(),
            "form": refusal.form,
            "errors": refusal.errors,
            "alert": alert(
                refusal.errors, FORMS[refusal.form].labels if refusal.form in FORMS else {}
            ),
            "values": refusal.values,
            "done": FORMS[done].done
            if done in FORMS
            else ("案件已立案。" if done == "file" else ""),
            **labels(),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/enforcement/penalties/{case_id:int}")
def penalty_detail(request: Request, case_id: int, ctx: StaffPageCtx) -> Response:
    """One case: basis, clocks, documents, and the forms of the steps open to the user."""
    return _detail_page(request, ctx, penalties.get_case(ctx.db, ctx.scope, case_id))


def _fine_body(form: dict[str, str], *dates: str) -> dict[str, Any]:
    body: dict[str, Any] = {"fine": form.get("fine") or None, "discretion": form.get("discretion")}
    return body | {d: form.get(d) or None for d in dates}


def _step(
    model: type[Any], fields: Callable[[dict[str, str]], dict[str, Any]], service: Any
) -> Callable[[Context, int, dict[str, str]], dict[str, str]]:
    """A form whose fields (``fields``) make the body of ``model`` for ``service``'s step."""

    def act(ctx: Context, case_id: int, form: dict[str, str]) -> dict[str, str]:
        return call(
            model,
            fields(form),
            lambda data: service(ctx.db, ctx.actor, ctx.scope, ctx.user, case_id, data),
        )

    return act


def _close(ctx: Context, case_id: int, _form: dict[str, str]) -> dict[str, str]:
    penalties.close(ctx.db, ctx.actor, ctx.scope, ctx.user, case_id)
    return {}


FINE_LABELS = {"fine": "罚款金额", "discretion": "裁量档次"}
FORMS: dict[str, StepForm] = {
    "notice": StepForm(
        _step(PenaltyNotice, lambda f: _fine_body(f, "notified_on"), penalties.notify),
        {**FINE_LABELS, "notified_on": "告知日期"},
        "行政处罚告知书已出具。",
    ),
    "hearing": StepForm(
        _step(
            HearingRequest,
            lambda f: {"requested_on": f.get("requested_on") or None},
            penalties.request_hearing,
        ),
        {"requested_on": "申请听证日期"},
        "听证申请已记录。",
    ),
    "decision": StepForm(
        _step(
            PenaltyDecision, lambda f: _fine_body(f, "decided_on", "served_on"), penalties.decide
        ),
        {**FINE_LABELS, "decided_on": "决定日期", "served_on": "送达日期"},
        "行政处罚决定书已出具。",
    ),
    "payment": StepForm(
        _step(
            PenaltyPayment,
            lambda f: {"paid_on": f.get("paid_on") or None, "amount": f.get("amount") or None},
            penalties.pay,
        ),
        {"paid_on": "缴款日期", "amount": "缴款金额"},
        "缴款已记录。",
    ),
    "close": StepForm(_close, {}, "案件已结案。"),
}


@router.post("/enforcement/penalties/{case_id:int}/{action}")
async def penalty_action(
    request: Request, case_id: int, action: str, ctx: StaffPageCtx
) -> Response:
    """One step of a case (告知, 听证申请, 决定, 缴款, 结案), the service call the API makes;
    errors shown at the step's form."""
    handler = FORMS.get(action)

    def act(form: dict[str, str]) -> dict[str, str]:
        if handler is None:
            return {"__all__": f"未知操作: {action}"}
        errors = handler.act(ctx, case_id, form)
        return errors

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(
            f"/enforcement/penalties/{case_id}?{query({'done': action})}#steps", status_code=303
        )
    if action in ("notice", "decision") and "amount" in errors:
        errors["fine"] = errors.pop("amount")  # the fine's band is checked as "amount"
    case = penalties.get_case(ctx.db, ctx.scope, case_id)
    return _detail_page(request, ctx, case, FormRefusal(action, errors, values, status))
