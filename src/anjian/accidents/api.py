"""Accident reporting API (事故报送): the grade calculator and first reports (快报); the chain,
follow-ups and investigations follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from anjian.accidents import contacts, investigations, measures, reporting
from anjian.accidents import statistics as accident_stats
from anjian.accidents.models import ACCIDENT_ENTITY, Accident, Investigation
from anjian.accidents.rules import classify as grade_of
from anjian.accidents.schemas import (
    AccidentCreate,
    AccidentPage,
    AccidentRead,
    ClassifyRequest,
    ClassifyResult,
    FollowUpCreate,
    InvestigationCreate,
    InvestigationPage,
    InvestigationRead,
    InvestigationReportCreate,
    InvestigationUpdate,
    MeasureCreate,
    MeasureNoteCreate,
    MeasureRead,
    ReplyCreate,
)
from anjian.accidents.statistics import StatisticsTable
from anjian.config import get_settings
from anjian.core.api_kit import DivisionQuery, ListFilters, list_page
from anjian.core.audit.service import audit_read
from anjian.core.contacts import RevealedContacts
from anjian.core.downloads import xlsx_response
from anjian.core.iam.deps import Context, Ctx, StaffCtx
from anjian.core.paging import Paging
from anjian.directives.schemas import DirectiveRead, SupervisionCreate

router = APIRouter(prefix="/api/v1/accidents", tags=["accidents 事故"])


@router.post("/classify", response_model=ClassifyResult)
def classify(body: ClassifyRequest, ctx: Ctx) -> ClassifyResult:
    """Grade an accident by Order No. 493 Art. 3 without saving: the highest grade reached by
    deaths, serious injuries (incl. acute industrial poisoning) or direct economic loss, with
    missing persons counted as deaths for the provisional grade (ANJIAN_ACCIDENT_MISSING_AS_DEATHS)."""
    return ClassifyResult.of(
        grade_of(
            body.deaths,
            body.missing,
            body.serious_injuries,
            body.direct_loss_cny,
            missing_as_deaths=get_settings().accident_missing_as_deaths,
        )
    )


@dataclass(frozen=True)
class StatisticsFilters(ListFilters):
    """What the statistics table covers and how its rows are cut, for the table and its
    workbook alike."""

    by: Annotated[str, Query(description="division | industry | type | grade | month")] = "division"
    division: Annotated[str | None, Query(description="行政区划代码 (默认本辖区)")] = None
    start: Annotated[date | None, Query(description="起始日期 (默认今年 1 月 1 日)")] = None
    end: Annotated[date | None, Query(description="截止日期 (默认今天，北京时间)")] = None


Statistics = Annotated[StatisticsFilters, Depends()]


# Before "/{accident_id}": "statistics" is no accident id.
@router.get("/statistics", response_model=StatisticsTable)
def accident_statistics(ctx: Ctx, filters: Statistics) -> StatisticsTable:
    """Accident statistics (一张表) of your jurisdiction over a period of Beijing calendar days
    (default 1 January to today), beside the same period last year (同比: each end a year
    earlier, 29 Feb → 28 Feb): counts, deaths, missing, injuries and direct loss by `division`
    (the divisions one tier below `division`, default your own jurisdiction; `drill` names the
    division to ask for next), `industry`, `type`, `grade` or `month`, with the total."""
    return accident_stats.statistics(ctx.db, ctx.scope, **filters.kwargs())


@router.get("/statistics.xlsx", response_class=Response)
def accident_statistics_xlsx(ctx: Ctx, filters: Statistics) -> Response:
    """The same table as an Excel workbook (title line, Chinese headers, the total last)."""
    table = accident_stats.statistics(ctx.db, ctx.scope, **filters.kwargs())
    return xlsx_response(accident_stats.statistics_xlsx(table), "accident-statistics", "事故统计")


@router.post("", response_model=AccidentRead, status_code=201)
def report(body: AccidentCreate, ctx: Ctx) -> AccidentRead:
    """File a first report (事故快报): few fields are required (when, where, type, reporter);
    the grade is computed from the numbers; the report travels up the tiers at once."""
    acc = reporting.report_accident(ctx.db, ctx.actor, ctx.scope, body)
    return _detail(ctx, acc)


@dataclass(frozen=True)
class AccidentFilters(ListFilters):
    """The filters of the accident list."""

    division: DivisionQuery = None
    grade: Annotated[int | None, Query(description="1 特别重大 … 4 一般")] = None
    accident_type: Annotated[str | None, Query(description="事故类别 (GB 6441)")] = None
    kind: Annotated[
        str | None, Query(description="accident 事故 | near_miss 较大涉险事故 (默认两者)")
    ] = None


@router.get("", response_model=AccidentPage)
def list_accidents(
    ctx: Ctx, filters: Annotated[AccidentFilters, Depends()], paging: Paging
) -> AccidentPage:
    """Accidents and 较大涉险事故 in your jurisdiction, newest first (`kind` lists one of them;
    the read is audited: each report names its reporter with the phone masked)."""
    items, total = reporting.list_accidents(
        ctx.db, ctx.scope, **filters.kwargs(), limit=paging.size, offset=paging.offset
    )
    audit_read(ctx.db, ctx.actor, ACCIDENT_ENTITY, items)
    return AccidentPage(total=total, items=reporting.present(ctx.db, items))


@dataclass(frozen=True)
class InvestigationFilters(ListFilters):
    """The filters of the investigation list."""

    division: DivisionQuery = None
    state: Annotated[str | None, Query(description="open 在查 | closed 已结案")] = None
    overdue: Annotated[bool | None, Query(description="逾期 (not closed by the deadline)")] = None
    supervised: Annotated[bool | None, Query(description="挂牌督办中")] = None


@router.get("/investigations", response_model=InvestigationPage)
def list_investigations(
    ctx: Ctx, filters: Annotated[InvestigationFilters, Depends()], paging: Paging
) -> InvestigationPage:
    """The investigations of accidents in your jurisdiction (调查处理台账), soonest deadline
    first: an upper agency sees the overdue and the supervised ones of every level below."""
    return list_page(InvestigationPage, investigations.list_investigations, ctx, filters, paging)


@router.get("/{accident_id}", response_model=AccidentRead)
def get_accident(accident_id: int, ctx: Ctx) -> AccidentRead:
    """One accident in your jurisdiction, with its reporting chain (each agency's step, its
    clocks and 迟报)."""
    return _detail(ctx, reporting.read_accident(ctx.db, ctx.scope, accident_id, ctx.actor))


@router.post("/{accident_id}/contacts/reveal", response_model=RevealedContacts)
def reveal_contacts(
    accident_id: int,
    ctx: Ctx,
    field: Annotated[
        str | None,
        Query(max_length=64, description="只显示该电话 (reporter_phone; all when absent)"),
    ] = None,
) -> RevealedContacts:
    """The reporter's full phone number of an accident in your jurisdiction (audited as
    ``accident.reveal``); the unit's numbers are revealed on its enterprise file."""
    return contacts.reveal_contacts(ctx.db, ctx.actor, ctx.scope, accident_id, field)


@router.post("/{accident_id}/follow-up", response_model=AccidentRead)
def follow_up(accident_id: int, body: FollowUpCreate, ctx: Ctx) -> AccidentRead:
    """A follow-up report (续报) with the numbers as they stand now: the grade is computed
    again (a raised grade sends the report further up); 409 after the 30-day window (7 days for
    road traffic and fire)."""
    acc = reporting.follow_up(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    return _detail(ctx, acc)


@router.post("/{accident_id}/report-up", response_model=AccidentRead)
def report_up(accident_id: int, ctx: Ctx) -> AccidentRead:
    """Your agency passes the report up the chain (上报): your step is stamped with the time
    (late ones show as 迟报 to every level above); 409 when your agency has nothing to pass up."""
    agency = reporting.chain_agency(ctx.db, ctx.user)
    acc = reporting.report_up(ctx.db, ctx.actor, ctx.scope, accident_id, agency)
    return _detail(ctx, acc)


@router.post("/{accident_id}/investigation", response_model=InvestigationRead, status_code=201)
def open_investigation(accident_id: int, body: InvestigationCreate, ctx: Ctx) -> InvestigationRead:
    """Open the investigation (立案调查), led by your agency: the one the grade and place require
    or one above; `entrusted_to_unit` entrusts an 一般 accident without casualties to the unit
    itself (the county only: 409 naming why otherwise); due 60 days after the accident."""
    inv = investigations.open_investigation(
        ctx.db, ctx.actor, ctx.scope, accident_id, ctx.user.division_code, body
    )
    return _investigation(ctx, accident_id, inv)


@router.patch("/{accident_id}/investigation", response_model=InvestigationRead)
def update_investigation(
    accident_id: int, body: InvestigationUpdate, ctx: Ctx
) -> InvestigationRead:
    """Record findings (causes, nature, responsibility, penalties, measures), the one
    extension of at most 60 days, or the reply's one extension (特别重大 only, ≤ 30 days)."""
    inv = investigations.update_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    return _investigation(ctx, accident_id, inv)


@router.post("/{accident_id}/investigation/close", response_model=InvestigationRead)
def close_investigation(accident_id: int, ctx: Ctx) -> InvestigationRead:
    """Close the investigation (结案) once causes, nature, responsibility and measures are in."""
    inv = investigations.close_investigation(ctx.db, ctx.actor, ctx.scope, accident_id)
    return _investigation(ctx, accident_id, inv)


@router.post("/{accident_id}/investigation/report", response_model=InvestigationRead)
def submit_report(accident_id: int, body: InvestigationReportCreate, ctx: Ctx) -> InvestigationRead:
    """The investigation report submitted to the government (报告提交, default now): the
    reply's clock starts (15 days; 特别重大 30)."""
    inv = investigations.submit_report(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    return _investigation(ctx, accident_id, inv)


@router.post("/{accident_id}/investigation/reply", response_model=InvestigationRead)
def record_reply(accident_id: int, body: ReplyCreate, ctx: Ctx) -> InvestigationRead:
    """The government's reply to the report (批复): date, issuing government, document number;
    `reply_overdue` when after its last day."""
    inv = investigations.record_reply(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    return _investigation(ctx, accident_id, inv)


@router.post("/{accident_id}/supervise", response_model=DirectiveRead, status_code=201)
def supervise(accident_id: int, body: SupervisionCreate, ctx: StaffCtx) -> DirectiveRead:
    """挂牌督办 of the accident's investigation and handling, by an agency above the one that
    leads it: an order to the leading agency (409 while one is open; close it with
    `POST /api/v1/directives/{uid}/close`)."""
    order = investigations.supervise(ctx.db, ctx.actor, ctx.scope, ctx.user, accident_id, body)
    return DirectiveRead.model_validate(order)


@router.post("/{accident_id}/measures", response_model=MeasureRead, status_code=201)
def add_measure(accident_id: int, body: MeasureCreate, ctx: Ctx) -> MeasureRead:
    """A corrective measure the investigation requires (整改措施): content, responsible unit,
    deadline; recorded where the investigation is led."""
    return measures.present_measure(
        measures.add_measure(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    )


@router.post("/{accident_id}/measures/{measure_id}/progress", response_model=MeasureRead)
def report_progress(
    accident_id: int, measure_id: int, body: MeasureNoteCreate, ctx: Ctx
) -> MeasureRead:
    """How the measure is being carried out (落实情况); 409 once verified."""
    m = measures.report_progress(ctx.db, ctx.actor, ctx.scope, accident_id, measure_id, body.note)
    return measures.present_measure(m)


@router.post("/{accident_id}/measures/{measure_id}/verify", response_model=MeasureRead)
def verify_measure(
    accident_id: int, measure_id: int, body: MeasureNoteCreate, ctx: Ctx
) -> MeasureRead:
    """An agency verifies the measure done (验收) with its opinion; 409 once verified."""
    m = measures.verify_measure(ctx.db, ctx.actor, ctx.scope, accident_id, measure_id, body.note)
    return measures.present_measure(m)


def _investigation(ctx: Context, accident_id: int, inv: Investigation) -> InvestigationRead:
    acc = reporting.get_accident(ctx.db, ctx.scope, accident_id)
    return investigations.present_investigation(inv, acc)


def _detail(ctx: Context, acc: Accident) -> AccidentRead:
    view = reporting.present(ctx.db, [acc])[0]
    view.chain = reporting.chain_of(ctx.db, acc)
    inv = investigations.investigation_of(ctx.db, acc)
    view.investigation = investigations.present_investigation(inv, acc) if inv is not None else None
    view.corrective_measures = [
        measures.present_measure(m) for m in measures.measures_of(ctx.db, acc)
    ]
    order = investigations.supervision_of(ctx.db, acc)
    view.supervision = DirectiveRead.model_validate(order) if order is not None else None
    return view
