"""Accident investigations (事故调查处理): opening one (立案) by the agency the grade and the
place require (or one above taking it over), entrusting it to the unit (委托, Art. 19), its
deadline and one extension, findings and closure (结案), the report to the government and its
reply (批复, Art. 32), the ledger of investigations, and 挂牌督办 of an investigation by an
agency above the lead.

Every write is by an agency, at the node that holds the investigation, audited and synced in
the caller's transaction; nothing here commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from anjian.accidents.models import ACCIDENT_ENTITY, INVESTIGATION_ENTITY, Accident, Investigation
from anjian.accidents.reporting import FUTURE_SLACK, agency_only, get_accident
from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    TIER_LABELS,
    Grade,
    InvestigationState,
    entrust_refusal,
    investigation_due,
    lead_agency,
    may_lead,
    may_supervise,
    reply_extension_refusal,
    reply_last_day,
    reply_overdue,
)
from anjian.accidents.schemas import (
    InvestigationCreate,
    InvestigationItem,
    InvestigationRead,
    InvestigationReportCreate,
    InvestigationUpdate,
    ReplyCreate,
)
from anjian.core.audit.service import Actor, audit, audit_record
from anjian.core.clock import CST, today_in_china
from anjian.core.divisions.rules import tier_of
from anjian.core.divisions.service import agencies_over_division
from anjian.core.errors import Conflict, Forbidden, Invalid, NotFound
from anjian.core.iam.models import User
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.directives import service as directives
from anjian.directives.models import Directive
from anjian.directives.schemas import SupervisionCreate


def investigation_of(session: Session, acc: Accident) -> Investigation | None:
    """The investigation of an accident already read in scope, if one is open or closed."""
    return session.scalars(
        select(Investigation).where(
            Investigation.accident_uid == acc.uid, Investigation.deleted.is_(False)
        )
    ).first()


def may_open_investigation(session: Session, acc: Accident, lead: str) -> bool:
    """Whether the agency of division ``lead`` may open the accident's investigation: the one
    that leads it by the grade and the place (:func:`lead_of`), or one above taking it over.
    The console offers 立案调查 by the same test."""
    return may_lead(tier_of(lead).value, lead_of(session, acc, None)[1])


def entrust_refused(session: Session, acc: Accident, lead: str) -> str | None:
    """Why the agency of ``lead`` may not entrust the investigation to the unit itself (Art.
    19: an 一般 accident without casualties, by the county-level government that leads it), or
    None. The console offers the choice by the same test."""
    return entrust_refusal(
        Grade(acc.grade),
        acc.deaths,
        acc.missing,
        acc.serious_injuries,
        acc.minor_injuries,
        by_required_lead=lead == lead_of(session, acc, None)[0],
    )


def open_investigation(
    session: Session,
    actor: Actor,
    scope: Scope,
    accident_id: int,
    lead: str,
    data: InvestigationCreate,
) -> Investigation:
    """Open the investigation of an accident in scope, led by the agency of division ``lead``:
    the one the grade and the place require, or one above taking it over (403 below it, 409
    when one is open); ``entrusted_to_unit`` hands it to the unit itself (409 naming why, unless
    an 一般 accident without casualties entrusted by the county). Due 60 days after the
    accident (audited, synced)."""
    acc = get_accident(session, scope, accident_id)
    agency_only(scope)
    if not may_open_investigation(session, acc, lead):
        required = lead_of(session, acc, None)[1]
        raise Forbidden(
            f"该事故应由{TIER_LABELS[required]}政府组织调查 (a {required}-level investigation)",
            field="lead_division",
        )
    if investigation_of(session, acc) is not None:
        raise Conflict("该事故已在调查 (an investigation is already open)", field="state")
    if data.entrusted_to_unit and (why := entrust_refused(session, acc, lead)) is not None:
        raise Conflict(f"{why} (Order No. 493 Art. 19)", field="entrusted_to_unit")
    inv = Investigation(
        accident_uid=acc.uid,
        division_code=acc.division_code,
        lead_division=lead,
        team=data.team,
        entrusted_to_unit=data.entrusted_to_unit,
        started_at=utcnow(),
        due_at=investigation_due(acc.occurred_at),
        origin_node="",
    )
    record_change(session, inv, entity=INVESTIGATION_ENTITY)
    audit_record(
        session,
        actor,
        "investigation.open",
        ACCIDENT_ENTITY,
        acc,
        detail={
            "lead": lead,
            "due": inv.due_at.isoformat(),
            "entrusted_to_unit": inv.entrusted_to_unit,
        },
    )
    return inv


def leads_or_above(scope: Scope, inv: Investigation) -> bool:
    """Whether the user of ``scope`` acts for the agency that leads the investigation or one
    above it: only they edit it, close it (结案), submit its report, record the reply (批复)
    and set its corrective measures — a sibling or a lower agency in the same node reads it.
    The console offers those forms by the same test."""
    return scope.covers_code(inv.lead_division)


def _writable_investigation(
    session: Session, scope: Scope, accident_id: int, *, closed_too: bool = False
) -> Investigation:
    """The accident's investigation for a write: by an agency (not the unit), at the node that
    holds it, by the lead or one above (403 naming ``lead_division``), open unless
    ``closed_too`` (409)."""
    acc = get_accident(session, scope, accident_id)
    agency_only(scope)  # the unit whose accident it is never writes its investigation
    inv = investigation_of(session, acc)
    if inv is None:
        raise NotFound("该事故尚未立案调查 (no investigation opened)")
    ensure_writable_here(inv)
    if not leads_or_above(scope, inv):
        raise Forbidden(
            "由牵头调查的部门或其上级办理 (the leading agency or one above it)",
            field="lead_division",
        )
    if inv.closed_at is not None and not closed_too:
        raise Conflict("调查已结案 (the investigation is closed)", field="state")
    return inv


def update_investigation(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: InvestigationUpdate
) -> Investigation:
    """Record findings; one extension of at most 60 days moves the deadline; the reply's one
    extension (特别重大 only, at most 30 days: 409 naming why otherwise) moves its last day
    (audited)."""
    inv = _writable_investigation(session, scope, accident_id)
    changes = {k: v for k, v in data.changes().items() if v is not None}  # null: unchanged
    acc = get_accident(session, scope, accident_id)
    if "extension_days" in changes:
        if inv.extension_days:
            raise Conflict("只能延期一次 (one extension only)", field="extension_days")
        inv.due_at = investigation_due(acc.occurred_at, changes["extension_days"])
    if "reply_extension_days" in changes:
        days = changes["reply_extension_days"]
        why = reply_extension_refusal(Grade(acc.grade), days, inv.reply_extension_days)
        if why is None and inv.replied_on is not None:
            why = "已批复"
        if why is not None:
            raise Conflict(f"{why} (Order No. 493 Art. 32)", field="reply_extension_days")
    for name, value in changes.items():
        setattr(inv, name, value)
    return _recorded(session, actor, "update", accident_id, inv, {"fields": sorted(changes)})


def _recorded(
    session: Session,
    actor: Actor,
    verb: str,
    accident_id: int,
    inv: Investigation,
    detail: dict[str, Any],
) -> Investigation:
    """``inv`` as changed: queued for sync, and ``investigation.<verb>`` audited on its
    accident, in the accident's division."""
    record_change(session, inv, entity=INVESTIGATION_ENTITY)
    audit(
        session,
        actor,
        f"investigation.{verb}",
        object_type=ACCIDENT_ENTITY,
        object_id=str(accident_id),
        division_code=inv.division_code,
        detail=detail,
    )
    return inv


def close_investigation(
    session: Session, actor: Actor, scope: Scope, accident_id: int
) -> Investigation:
    """Close the investigation (结案): the causes, nature, responsibility and measures must be
    recorded (422 naming the first missing one)."""
    inv = _writable_investigation(session, scope, accident_id)
    for name in ("direct_causes", "nature", "responsibility", "measures"):
        if not getattr(inv, name):
            raise Invalid(f"结案前须填写 {name} (required before closing)", field=name)
    inv.closed_at, inv.closed_by = utcnow(), actor.username
    return _recorded(
        session, actor, "close", accident_id, inv, {"overdue": inv.closed_at > inv.due_at}
    )


def submit_report(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: InvestigationReportCreate
) -> Investigation:
    """The investigation report submitted to the government (报告提交, default now): the
    reply's clock (批复, Art. 32) starts. 422 for a time before the investigation opened or in
    the future, 409 when already submitted (audited, synced)."""
    inv = _writable_investigation(session, scope, accident_id, closed_too=True)
    now = utcnow()
    at = data.submitted_at or now
    if at > now + FUTURE_SLACK:
        raise Invalid("提交时间不能晚于当前时间 (in the future)", field="submitted_at")
    if at < inv.started_at - FUTURE_SLACK:
        raise Invalid("提交时间不能早于立案时间 (before the investigation)", field="submitted_at")
    if inv.report_submitted_at is not None:
        raise Conflict("调查报告已提交 (the report is already submitted)", field="state")
    inv.report_submitted_at = at
    return _recorded(
        session,
        actor,
        "report",
        accident_id,
        inv,
        {"submitted_at": at.isoformat(), "overdue": at > inv.due_at},
    )


def record_reply(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: ReplyCreate
) -> Investigation:
    """The government's reply to the report (批复: date, by whom, document number), once the
    report is submitted: 409 before that and once replied, 422 for a date before the
    submission or after today (audited, synced)."""
    inv = _writable_investigation(session, scope, accident_id, closed_too=True)
    acc = get_accident(session, scope, accident_id)
    if inv.report_submitted_at is None:
        raise Conflict("调查报告尚未提交，不能批复 (no report submitted yet)", field="state")
    if inv.replied_on is not None:
        raise Conflict("已批复 (already replied)", field="state")
    if data.replied_on > today_in_china():
        raise Invalid("批复日期不能晚于今天 (in the future)", field="replied_on")
    if data.replied_on < inv.report_submitted_at.astimezone(CST).date():
        raise Invalid("批复日期不能早于报告提交日期 (before the report)", field="replied_on")
    inv.replied_on, inv.reply_by, inv.reply_doc_no = (
        data.replied_on,
        data.reply_by,
        data.reply_doc_no,
    )
    last = _reply_last_day(inv, acc)
    return _recorded(
        session,
        actor,
        "reply",
        accident_id,
        inv,
        {
            "replied_on": str(data.replied_on),
            "reply_by": data.reply_by,
            "reply_doc_no": data.reply_doc_no,
            "overdue": reply_overdue(last, data.replied_on, data.replied_on),
        },
    )


def _reply_last_day(inv: Investigation, acc: Accident) -> date | None:
    if inv.report_submitted_at is None:
        return None
    return reply_last_day(inv.report_submitted_at, Grade(acc.grade), inv.reply_extension_days)


def present_investigation(inv: Investigation, acc: Accident) -> InvestigationRead:
    """The investigation as users see it, flagged 逾期 when its report was not submitted (or
    the case closed) by the deadline, and 批复逾期 when the reply was not given by its last day
    (both computed from what travels up with the record, so every level above sees the same
    flags at once)."""
    now = utcnow()
    last = _reply_last_day(inv, acc)
    return InvestigationRead(
        **{
            n: getattr(inv, n)
            for n in InvestigationRead.model_fields
            if n not in ("overdue", "reply_last_day", "reply_overdue")
        },
        overdue=(inv.report_submitted_at or inv.closed_at or now) > inv.due_at,
        reply_last_day=last,
        reply_overdue=reply_overdue(last, inv.replied_on, today_in_china()),
    )


def list_investigations(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    state: str | None = None,
    overdue: bool | None = None,
    supervised: bool | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[InvestigationItem], int]:
    """The investigations of accidents in scope (调查处理台账), soonest deadline first:
    ``state`` open|closed, ``overdue`` (not closed by the deadline), ``supervised`` (an open
    挂牌督办 order) — what an upper agency watches."""
    now = utcnow()
    stmt = scope.restrict(
        select(Investigation)
        .join(Accident, Accident.uid == Investigation.accident_uid)
        .where(Investigation.deleted.is_(False)),
        Accident,
    )
    if division:
        stmt = stmt.where(division_filter(Accident.division_code, division))
    if state is not None:
        if state not in (InvestigationState.OPEN, InvestigationState.CLOSED):
            raise Invalid(f"状态应为 open 或 closed: {state}", field="state")
        stmt = stmt.where(
            Investigation.closed_at.is_(None)
            if state == InvestigationState.OPEN
            else Investigation.closed_at.is_not(None)
        )
    if overdue is not None:
        done = func.coalesce(Investigation.report_submitted_at, Investigation.closed_at)
        late = or_(
            and_(done.is_(None), Investigation.due_at < now),
            # spelled out so that NOT of it is never NULL (an open one has no closed_at)
            and_(done.is_not(None), done > Investigation.due_at),
        )
        stmt = stmt.where(late if overdue else ~late)
    orders = directives.open_supervisions(ACCIDENT_ENTITY)
    if supervised is not None:
        on = Investigation.accident_uid.in_(orders)
        stmt = stmt.where(on if supervised else ~on)
    found, total = paged(
        session, stmt, (Investigation.due_at, Investigation.id), limit=limit, offset=offset
    )
    uids = [inv.accident_uid for inv in found]
    accidents = {
        acc.uid: acc
        for acc in session.scalars(scope.select(Accident).where(Accident.uid.in_(uids)))
    }
    rows = [(inv, accidents[inv.accident_uid]) for inv in found]
    supervised_uids = set(
        session.scalars(
            select(Investigation.accident_uid).where(
                Investigation.accident_uid.in_(uids), Investigation.accident_uid.in_(orders)
            )
        )
    )
    return [
        InvestigationItem(
            accident_id=acc.id,
            accident_place=acc.place,
            accident_grade_label=Grade(acc.grade).label,
            unit_name=acc.unit_name,
            occurred_at=acc.occurred_at,
            supervised=acc.uid in supervised_uids,
            investigation=present_investigation(inv, acc),
        )
        for inv, acc in rows
    ], total


# --- 挂牌督办 of the investigation -------------------------------------------------------------


def supervision_of(session: Session, acc: Accident) -> Directive | None:
    """The open 挂牌督办 order on the accident's investigation and handling, if any."""
    return directives.open_supervision(session, ACCIDENT_ENTITY, acc.uid)


def lead_of(session: Session, acc: Accident, inv: Investigation | None) -> tuple[str, str]:
    """The agency that leads (or, before it opens, is to lead) the investigation: its division
    and tier."""
    if inv is not None:
        return inv.lead_division, tier_of(inv.lead_division).value
    return lead_agency(agencies_over_division(session, acc.division_code), Grade(acc.grade))


def supervise(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    accident_id: int,
    data: SupervisionCreate,
) -> Directive:
    """挂牌督办 of an accident's investigation and handling by an agency above the one that
    leads it (or, before it opens, above the tier the grade requires): an order addressed to
    the leading agency, which flows down to it; the issuer closes it once the case is closed
    and the measures are in hand (audited, synced down)."""
    acc = get_accident(session, scope, accident_id)
    agency_only(scope)
    inv = investigation_of(session, acc)
    if inv is not None and inv.closed_at is not None:
        raise Conflict("调查已结案 (the investigation is closed)", field="state")
    lead, lead_tier = lead_of(session, acc, inv)
    if not may_supervise(tier_of(user.division_code).value, lead_tier):
        raise Forbidden(
            f"挂牌督办须由{TIER_LABELS[lead_tier]}以上的上级部门下达 "
            f"(only an agency above the {lead_tier} level that leads it)",
            field="division_code",
        )
    when = acc.occurred_at.astimezone(CST)
    label = ACCIDENT_TYPES.get(acc.accident_type, "")
    return directives.supervise(
        session,
        actor,
        scope,
        user,
        data,
        subject=(ACCIDENT_ENTITY, acc.uid),
        target_division=lead,
        default_title=(
            f"关于{acc.unit_name or acc.place}“{when.month}·{when.day}”{label}事故查处的挂牌督办通知"
        ),
    )
