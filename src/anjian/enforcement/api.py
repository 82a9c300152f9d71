"""Enforcement API (行政执法): officers, conflicts of interest, random draws (双随机), on-site
inspections and their findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Response, UploadFile
from fastapi.responses import FileResponse

from anjian.core.api_kit import (
    DivisionQuery,
    JurisdictionFilters,
    ListFilters,
    StatsDivisionQuery,
    list_page,
    read_upload,
)
from anjian.core.clock import today_in_china
from anjian.core.downloads import DOCX_MEDIA_TYPE, attachment, xlsx_response
from anjian.core.iam.deps import Context, StaffCtx
from anjian.core.images import MAX_IMAGE_BYTES
from anjian.core.paging import Paging
from anjian.enforcement import (
    documents,
    draws,
    evidence,
    inspections,
    inspectors,
    penalties,
    plans,
    statistics,
    terminals,
)
from anjian.enforcement.docx_render import render
from anjian.enforcement.pdf_render import render_pdf
from anjian.enforcement.reference import criteria, penalty_bases
from anjian.enforcement.schemas import (
    ConflictCreate,
    ConflictRead,
    DocumentCreate,
    DocumentRead,
    DrawCreate,
    DrawPage,
    DrawRead,
    DrawVerification,
    EnforcementHistory,
    EnforcementStats,
    FindingCreate,
    FindingRead,
    HearingRequest,
    InspectionCreate,
    InspectionFinish,
    InspectionPage,
    InspectionRead,
    InspectorCreate,
    InspectorRead,
    PenaltyCreate,
    PenaltyDecision,
    PenaltyNotice,
    PenaltyPage,
    PenaltyPayment,
    PenaltyRead,
    PlanCreate,
    PlanPage,
    PlanRead,
    SignerRole,
    TerminalCreate,
    TerminalRead,
)
from anjian.enterprises.service import enterprise_in_scope

router = APIRouter(prefix="/api/v1/enforcement", tags=["enforcement 行政执法"])


@dataclass(frozen=True)
class DrawFilters(ListFilters):
    division: DivisionQuery = None


def _officer_step(ctx: Context, step: Callable[..., Any], *args: Any) -> InspectorRead:
    """Take a step on an officer (register, take off the draws) and show the officer after it."""
    ins = step(ctx.db, ctx.actor, ctx.scope, *args)
    return inspectors.present(ctx.db, [ins])[0]


def _inspection_step(ctx: Context, step: Callable[..., Any], *args: Any) -> InspectionRead:
    """Take a step on an inspection as the caller and show the inspection after it."""
    insp = step(ctx.db, ctx.actor, ctx.scope, ctx.user, *args)
    return inspections.present(ctx.db, [insp])[0]


def _case_step(ctx: Context, step: Callable[..., Any], *args: Any) -> PenaltyRead:
    """Take a step on a penalty case as the caller and show the case after it."""
    case = step(ctx.db, ctx.actor, ctx.scope, ctx.user, *args)
    return penalties.present(ctx.db, [case])[0]


@router.get("/inspectors", response_model=list[InspectorRead])
def list_inspectors(ctx: StaffCtx, division: DivisionQuery = None) -> list[InspectorRead]:
    """Enforcement officers (执法人员) in scope, with their declared conflicts."""
    rows = inspectors.list_inspectors(ctx.db, ctx.scope, division=division)
    return inspectors.present(ctx.db, rows)


@router.post("/inspectors", response_model=InspectorRead, status_code=201)
def register_inspector(body: InspectorCreate, ctx: StaffCtx) -> InspectorRead:
    """Register an official in scope as an enforcement officer with their certificate number."""
    return _officer_step(ctx, inspectors.register_inspector, body)


@router.post("/inspectors/{inspector_id}/active", response_model=InspectorRead)
def set_active(inspector_id: int, active: bool, ctx: StaffCtx) -> InspectorRead:
    """Take an officer off the draws (``active=false``) or back on."""
    return _officer_step(ctx, inspectors.set_active, inspector_id, active)


@router.post("/inspectors/{inspector_id}/conflicts", response_model=ConflictRead, status_code=201)
def declare_conflict(inspector_id: int, body: ConflictCreate, ctx: StaffCtx) -> ConflictRead:
    """Declare an officer's conflict of interest (利害关系) with an enterprise: never drawn there."""
    row = inspectors.declare_conflict(ctx.db, ctx.actor, ctx.scope, inspector_id, body)
    return ConflictRead.model_validate(row)


@router.delete("/inspectors/{inspector_id}/conflicts/{conflict_id}", status_code=204)
def withdraw_conflict(inspector_id: int, conflict_id: int, ctx: StaffCtx) -> Response:
    """Withdraw a declared conflict."""
    inspectors.withdraw_conflict(ctx.db, ctx.actor, ctx.scope, inspector_id, conflict_id)
    return Response(status_code=204)


@router.post("/draws", response_model=DrawRead, status_code=201)
def make_draw(body: DrawCreate, ctx: StaffCtx) -> DrawRead:
    """Draw enterprises of a division in scope and at least two officers for each (双随机).
    The seed is recorded (generated when absent): the same seed over the same population gives
    the same draw."""
    draw = draws.make_draw(ctx.db, ctx.actor, ctx.scope, ctx.user, body)
    return draws.present(ctx.db, draw)


@router.get("/draws", response_model=DrawPage)
def list_draws(
    ctx: StaffCtx, filters: Annotated[DrawFilters, Depends()], paging: Paging
) -> DrawPage:
    """Draws in scope, newest first."""
    return list_page(DrawPage, draws.list_draws, ctx, filters, paging, draws.present_all)


@router.get("/draws/{draw_id}", response_model=DrawRead)
def get_draw(draw_id: int, ctx: StaffCtx) -> DrawRead:
    """One draw with its enterprises and teams."""
    return draws.present(ctx.db, draws.get_draw(ctx.db, ctx.scope, draw_id))


@router.get("/draws/{draw_id}/verify", response_model=DrawVerification)
def verify_draw(draw_id: int, ctx: StaffCtx) -> DrawVerification:
    """Recompute the draw from its seed and recorded population; say whether it matches."""
    return draws.verify(ctx.db, ctx.scope, draw_id, ctx.user)


@dataclass(frozen=True)
class InspectionFilters(JurisdictionFilters):
    state: Annotated[str | None, Query(description="planned | on_site | finished")] = None


@router.get("/criteria")
def get_criteria(ctx: StaffCtx) -> dict[str, Any]:
    """The major-accident-hazard criteria (重大事故隐患判定标准) used as checklists, by category,
    with a note on how far their wording is verified."""
    return criteria()


@router.post("/inspections", response_model=InspectionRead, status_code=201)
def plan_inspection(body: InspectionCreate, ctx: StaffCtx) -> InspectionRead:
    """Plan an on-site inspection (of a drawn check, or of an enterprise with a team)."""
    return _inspection_step(ctx, inspections.plan_inspection, body)


@router.get("/inspections", response_model=InspectionPage)
def list_inspections(
    ctx: StaffCtx, filters: Annotated[InspectionFilters, Depends()], paging: Paging
) -> InspectionPage:
    """Inspections in scope, the latest planned first."""
    return list_page(
        InspectionPage, inspections.list_inspections, ctx, filters, paging, inspections.present
    )


@router.get("/inspections/{inspection_id}", response_model=InspectionRead)
def get_inspection(inspection_id: int, ctx: StaffCtx) -> InspectionRead:
    """One inspection with its team, checklist and findings."""
    insp = inspections.get_inspection(ctx.db, ctx.scope, inspection_id)
    return inspections.present(ctx.db, [insp])[0]


@router.post("/inspections/{inspection_id}/start", response_model=InspectionRead)
def start_inspection(inspection_id: int, ctx: StaffCtx) -> InspectionRead:
    """The team is on site."""
    return _inspection_step(ctx, inspections.start, inspection_id)


@router.post("/inspections/{inspection_id}/finish", response_model=InspectionRead)
def finish_inspection(inspection_id: int, body: InspectionFinish, ctx: StaffCtx) -> InspectionRead:
    """The conclusion and the checklist's results."""
    return _inspection_step(ctx, inspections.finish, inspection_id, body)


@router.post("/inspections/{inspection_id}/findings", response_model=FindingRead, status_code=201)
def add_finding(inspection_id: int, body: FindingCreate, ctx: StaffCtx) -> FindingRead:
    """Record a problem found on site."""
    finding = inspections.add_finding(ctx.db, ctx.actor, ctx.scope, ctx.user, inspection_id, body)
    return FindingRead.model_validate(finding)


@router.post("/findings/{finding_id}/hazard", response_model=FindingRead)
def finding_to_hazard(finding_id: int, ctx: StaffCtx) -> FindingRead:
    """Turn a finding into a hidden hazard of the enterprise (the 隐患 loop takes it from there);
    the finding then names the hazard (``hidden_hazard_id``) and the hazard its source."""
    finding, _ = inspections.to_hazard(ctx.db, ctx.actor, ctx.scope, ctx.user, finding_id)
    return FindingRead.model_validate(finding)


EvidenceKind = Literal["photos", "signatures"]


@router.post("/findings/{finding_id}/photos", response_model=FindingRead, status_code=201)
def upload_finding_photo(finding_id: int, file: UploadFile, ctx: StaffCtx) -> FindingRead:
    """Attach a photo of the problem (JPEG, PNG or WebP, ≤ 10 MB, at most 20); the same photo
    again changes nothing."""
    data = read_upload(file, MAX_IMAGE_BYTES)
    finding = inspections.get_finding(ctx.db, ctx.scope, finding_id)
    evidence.add_photo(ctx.db, ctx.actor, ctx.scope, ctx.user, finding, file.filename or "", data)
    return FindingRead.model_validate(finding)


@router.post("/findings/{finding_id}/signatures", response_model=FindingRead, status_code=201)
def upload_finding_signature(
    finding_id: int,
    file: UploadFile,
    signer: Annotated[str, Form(max_length=50, description="签字人姓名")],
    role: Annotated[SignerRole, Form(description="enterprise 被检查单位 | inspector 执法人员")],
    ctx: StaffCtx,
) -> FindingRead:
    """Attach a signature drawn on site (an image, e.g. PNG from a signature pad) confirming
    the finding, with who signed and as whom."""
    data = read_upload(file, MAX_IMAGE_BYTES)
    finding = inspections.get_finding(ctx.db, ctx.scope, finding_id)
    evidence.add_signature(ctx.db, ctx.actor, ctx.scope, ctx.user, finding, signer, role, data)
    return FindingRead.model_validate(finding)


@router.get("/findings/{finding_id}/{kind}/{digest}", response_class=FileResponse)
def finding_evidence(
    finding_id: int, kind: EvidenceKind, digest: str, ctx: StaffCtx
) -> FileResponse:
    """One photo or signature of a finding in scope, by its SM3 digest (the file is kept at the
    inspecting agency's node)."""
    path, media_type = evidence.evidence_file(ctx.db, ctx.scope, finding_id, kind, digest)
    return FileResponse(path, media_type=media_type)


@router.post("/inspections/{inspection_id}/documents", response_model=DocumentRead, status_code=201)
def issue_document(inspection_id: int, body: DocumentCreate, ctx: StaffCtx) -> DocumentRead:
    """Issue a document of an inspection (现场检查记录, 责令限期整改指令书, 整改复查意见书),
    numbered next in the agency's series of its kind and year."""
    doc = documents.issue_document(ctx.db, ctx.actor, ctx.scope, ctx.user, inspection_id, body)
    return inspections.present_documents([doc])[0]


@router.get(
    "/documents/{document_id}.docx",
    response_class=Response,
    responses={200: {"content": {DOCX_MEDIA_TYPE: {}}, "description": "the document as .docx"}},
)
def download_document(document_id: int, ctx: StaffCtx) -> Response:
    """The document as a Word file, drawn from what was issued."""
    doc = documents.get_document(ctx.db, ctx.scope, document_id)
    return attachment(
        render(doc.content), DOCX_MEDIA_TYPE, f"document-{doc.id}.docx", f"{doc.number}.docx"
    )


@router.get(
    "/documents/{document_id}.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "the document as PDF"},
        503: {"description": "本节点没有 PDF 生成程序（或繁忙）：请下载 .docx"},
    },
)
def download_document_pdf(document_id: int, ctx: StaffCtx) -> Response:
    """The document as PDF, printed by the node's PDF renderer (``ANJIAN_PDF_RENDERER``, a
    headless Chromium); 503 where there is none."""
    doc = documents.get_document(ctx.db, ctx.scope, document_id)
    return attachment(
        render_pdf(doc.content), "application/pdf", f"document-{doc.id}.pdf", f"{doc.number}.pdf"
    )


@router.get("/documents/{document_id}", response_model=DocumentRead)
def get_document(document_id: int, ctx: StaffCtx) -> DocumentRead:
    """One document as issued."""
    return inspections.present_documents([documents.get_document(ctx.db, ctx.scope, document_id)])[
        0
    ]


@dataclass(frozen=True)
class PenaltyFilters(JurisdictionFilters):
    stage: Annotated[
        str | None, Query(description="filed | notified | hearing | decided | paid | closed")
    ] = None


@router.get("/penalty-bases")
def get_penalty_bases(ctx: StaffCtx) -> dict[str, Any]:
    """The illegal acts, their legal bases and fine ranges (处罚依据), with a note on how far
    their wording is verified."""
    return penalty_bases()


@router.post("/penalties", response_model=PenaltyRead, status_code=201)
def file_penalty(body: PenaltyCreate, ctx: StaffCtx) -> PenaltyRead:
    """File a penalty case (立案)."""
    return _case_step(ctx, penalties.file_case, body)


@router.get("/penalties", response_model=PenaltyPage)
def list_penalties(
    ctx: StaffCtx, filters: Annotated[PenaltyFilters, Depends()], paging: Paging
) -> PenaltyPage:
    """Penalty cases in scope, the latest filed first, with their clocks."""
    return list_page(PenaltyPage, penalties.list_cases, ctx, filters, paging, penalties.present)


@router.get("/penalties/{case_id}", response_model=PenaltyRead)
def get_penalty(case_id: int, ctx: StaffCtx) -> PenaltyRead:
    """One case with its clocks and documents."""
    return penalties.present(ctx.db, [penalties.get_case(ctx.db, ctx.scope, case_id)])[0]


@router.post("/penalties/{case_id}/notice", response_model=PenaltyRead)
def notify_penalty(case_id: int, body: PenaltyNotice, ctx: StaffCtx) -> PenaltyRead:
    """Serve the notice (告知) with the proposed fine; issues the 行政处罚告知书."""
    return _case_step(ctx, penalties.notify, case_id, body)


@router.post("/penalties/{case_id}/hearing", response_model=PenaltyRead)
def request_hearing(case_id: int, body: HearingRequest, ctx: StaffCtx) -> PenaltyRead:
    """Record the party's request for a hearing (within 5 working days of the notice)."""
    return _case_step(ctx, penalties.request_hearing, case_id, body)


@router.post("/penalties/{case_id}/decision", response_model=PenaltyRead)
def decide_penalty(case_id: int, body: PenaltyDecision, ctx: StaffCtx) -> PenaltyRead:
    """Decide (决定); issues the 行政处罚决定书."""
    return _case_step(ctx, penalties.decide, case_id, body)


@router.post("/penalties/{case_id}/payment", response_model=PenaltyRead)
def pay_penalty(case_id: int, body: PenaltyPayment, ctx: StaffCtx) -> PenaltyRead:
    """Record the payment of the fine (and of the surcharge when late)."""
    return _case_step(ctx, penalties.pay, case_id, body)


@router.post("/penalties/{case_id}/close", response_model=PenaltyRead)
def close_penalty(case_id: int, ctx: StaffCtx) -> PenaltyRead:
    """Close the case (结案)."""
    return _case_step(ctx, penalties.close, case_id)


@router.post("/plans", response_model=PlanRead, status_code=201)
def create_plan(body: PlanCreate, ctx: StaffCtx) -> PlanRead:
    """An annual inspection plan of the caller's agency (年度监督检查计划)."""
    plan = plans.create_plan(ctx.db, ctx.actor, ctx.scope, ctx.user, body)
    return plans.progress(ctx.db, ctx.scope, plan)


@router.get("/plans", response_model=PlanPage)
def list_plans(ctx: StaffCtx, paging: Paging) -> PlanPage:
    """Plans in scope with their progress, the latest year first."""
    rows, total = plans.list_plans(ctx.db, ctx.scope, limit=paging.size, offset=paging.offset)
    return PlanPage(total=total, items=[plans.progress(ctx.db, ctx.scope, p) for p in rows])


@router.get("/plans/{plan_id}", response_model=PlanRead)
def get_plan(plan_id: int, ctx: StaffCtx) -> PlanRead:
    """A plan with its monthly targets, what was done and the enterprises behind."""
    return plans.progress(ctx.db, ctx.scope, plans.get_plan(ctx.db, ctx.scope, plan_id))


@router.post("/inspectors/{inspector_id}/terminals", response_model=TerminalRead, status_code=201)
def bind_terminal(inspector_id: int, body: TerminalCreate, ctx: StaffCtx) -> TerminalRead:
    """Bind a terminal (移动执法终端) to an officer; the answer shows its token once."""
    terminal, token = terminals.bind(ctx.db, ctx.actor, ctx.scope, ctx.user, inspector_id, body)
    return TerminalRead.model_validate(terminal).model_copy(update={"token": token})


@router.get("/inspectors/{inspector_id}/terminals", response_model=list[TerminalRead])
def list_terminals(inspector_id: int, ctx: StaffCtx) -> list[TerminalRead]:
    """An officer's terminals, revoked ones included."""
    rows = terminals.terminals_of(ctx.db, ctx.scope, inspector_id)
    return [TerminalRead.model_validate(t) for t in rows]


@router.post(
    "/inspectors/{inspector_id}/terminals/{terminal_id}/revoke", response_model=TerminalRead
)
def revoke_terminal(inspector_id: int, terminal_id: int, ctx: StaffCtx) -> TerminalRead:
    """Revoke a lost or replaced terminal: its token stops working; its uploads stay."""
    terminal = terminals.revoke(ctx.db, ctx.actor, ctx.scope, ctx.user, inspector_id, terminal_id)
    return TerminalRead.model_validate(terminal)


YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="年份 (默认今年)")]


@router.get("/statistics", response_model=list[EnforcementStats])
def enforcement_statistics(
    ctx: StaffCtx, division: StatsDivisionQuery = None, year: YearQuery = None
) -> list[EnforcementStats]:
    """A year's inspections, findings, documents, penalties and fines by the divisions one tier
    below ``division`` (default: your jurisdiction), the total first; ask for a row's division
    to drill down."""
    return statistics.statistics(ctx.db, ctx.scope, year or today_in_china().year, division)


@router.get("/statistics.xlsx", response_class=Response)
def enforcement_statistics_xlsx(
    ctx: StaffCtx, division: StatsDivisionQuery = None, year: YearQuery = None
) -> Response:
    """The same table as an Excel workbook."""
    year = year or today_in_china().year
    rows = statistics.statistics(ctx.db, ctx.scope, year, division)
    return xlsx_response(
        statistics.statistics_xlsx(rows, year), "enforcement-statistics", "执法统计"
    )


@router.get("/enterprises/{enterprise_id}/history", response_model=EnforcementHistory)
def enforcement_history(enterprise_id: int, ctx: StaffCtx) -> EnforcementHistory:
    """An enterprise's inspections and penalty cases with their documents (the latest 100 each)."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise_id)
    found, _ = inspections.list_inspections(ctx.db, ctx.scope, enterprise_id=ent.id, limit=100)
    cases, _ = penalties.list_cases(ctx.db, ctx.scope, enterprise_id=ent.id, limit=100)
    return EnforcementHistory(
        enterprise_id=ent.id,
        inspections=inspections.present(ctx.db, found),
        penalties=penalties.present(ctx.db, cases),
    )
