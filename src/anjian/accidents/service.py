"""Accident report use cases (事故报送): file a first report and its follow-ups, read and list
reports in scope.

The only place that writes accidents. The grade is computed here from the numbers (Order No.
493 Art. 3), never taken from the client. Every write stamps a new version into the outbox (the
report travels up the tiers as it is filed) and appends an audit record in the caller's
transaction; nothing here commits. Every read goes through :meth:`Scope.apply`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from anjian.accidents.models import Accident, AccidentStep, CorrectiveMeasure, Investigation
from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    KINDS,
    NEAR_MISS,
    NEAR_MISS_CRITERIA,
    TIERS_UP,
    ChainStep,
    Grade,
    agency_late,
    classify,
    entrust_refusal,
    follow_up_last_day,
    follow_up_until,
    handles_accident,
    hold_due,
    investigation_due,
    lead_agency,
    may_lead,
    may_supervise,
    reply_extension_refusal,
    reply_last_day,
    reply_overdue,
    reporting_chain,
    step_deadlines,
    top_tier,
)
from anjian.accidents.schemas import (
    AccidentCreate,
    AccidentRead,
    FollowUp,
    InvestigationItem,
    InvestigationOpen,
    InvestigationRead,
    InvestigationUpdate,
    MeasureCreate,
    MeasureRead,
    ReplyCreate,
    ReportSubmit,
    StepRead,
)
from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit, audit_read
from anjian.core.clock import CST, today_in_china
from anjian.core.contacts import Contact, RevealedContacts, reveal
from anjian.core.crypto import mask_phone
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import prefix_of, tier_of
from anjian.core.divisions.service import agencies_over_division, division_names
from anjian.core.errors import Conflict, Forbidden, Invalid, NotFound
from anjian.core.iam.models import Role, User
from anjian.core.iam.service import field_cipher
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter, not_found
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.core.sync.service import child_links
from anjian.db import utcnow
from anjian.directives import service as directives
from anjian.directives.models import Directive
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises import service as enterprises
from anjian.enterprises.models import Enterprise
from anjian.enterprises.service import enterprise_in_scope

ENTITY = "accident"
STEP_ENTITY = "accident_step"
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little; an accident is not in the future


def agency_only(scope: Scope) -> None:
    """Passing a report up, investigating, supervising and verifying are the agencies'
    (监管部门) business: an enterprise user may report and follow up its own accident only
    (the services identify the agency by the user's division, which the unit has too)."""
    if scope.is_enterprise:
        raise Forbidden("企业用户不能办理监管部门的事项 (agencies only)")


def scoped(stmt: Select[Any], scope: Scope) -> Select[Any]:
    """Restrict a query over accidents to the live ones in ``scope`` (by place, unit and
    category): every read of accidents, the statistics included, goes through it."""
    return scope.apply(
        stmt.where(Accident.deleted.is_(False)),
        division=Accident.division_code,
        enterprise=Accident.enterprise_id,
        category=Accident.supervision_category,
    )


def _grade(acc: Accident) -> None:
    c = classify(
        acc.deaths,
        acc.missing,
        acc.serious_injuries,
        acc.direct_loss_cny,
        missing_as_deaths=get_settings().accident_missing_as_deaths,
    )
    acc.grade, acc.grade_criterion, acc.provisional = int(c.grade), c.criterion, c.provisional


def report_accident(session: Session, actor: Actor, scope: Scope, data: AccidentCreate) -> Accident:
    """File a first report (快报) of an accident in scope, graded on the server (audited,
    synced up the tiers at once)."""
    now = utcnow()
    if data.occurred_at > now + FUTURE_SLACK:
        raise Invalid(
            "事故发生时间不能晚于当前时间 (occurred_at is in the future)", field="occurred_at"
        )
    known_at = data.known_at or data.occurred_at
    if known_at < data.occurred_at:
        raise Invalid("接报时间不能早于发生时间 (known_at before occurred_at)", field="known_at")
    if session.get(Division, data.division_code) is None:
        raise Invalid(f"行政区划代码不存在: {data.division_code}", field="division_code")
    if data.kind == NEAR_MISS and not data.near_miss_criterion:
        raise Invalid(
            "较大涉险事故须选择情形 (a near miss names its Order No. 21 Art. 26 criterion)",
            field="near_miss_criterion",
        )
    if data.kind != NEAR_MISS and data.near_miss_criterion:
        raise Invalid(
            "只有较大涉险事故填写涉险情形 (a criterion only for kind near_miss)",
            field="near_miss_criterion",
        )
    category, unit_name, industry = "", data.unit_name or "", data.industry_code or ""
    if data.enterprise_id is not None:
        ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
        category = ent.supervision_category
        unit_name = unit_name or ent.name
        industry = industry or ent.industry_code
    if not scope.covers(
        division_code=data.division_code,
        enterprise_id=data.enterprise_id,
        category=category or None,
    ):
        raise Forbidden(
            "事故发生地不在您的管辖范围内 (the place of the accident is outside your jurisdiction)",
            field="division_code",
        )
    acc = Accident(
        division_code=data.division_code,
        enterprise_id=data.enterprise_id,
        supervision_category=category,
        unit_name=unit_name,
        industry_code=industry,
        occurred_at=data.occurred_at,
        known_at=known_at,
        place=data.place,
        lng=data.lng,
        lat=data.lat,
        accident_type=data.accident_type,
        kind=data.kind,
        near_miss_criterion=data.near_miss_criterion or "",
        deaths=data.deaths,
        missing=data.missing,
        serious_injuries=data.serious_injuries,
        minor_injuries=data.minor_injuries,
        direct_loss_cny=data.direct_loss_cny,
        summary=data.summary,
        measures=data.measures,
        reporter=data.reporter,
        reporter_phone_enc=field_cipher().encrypt(data.reporter_phone),
        reported_at=now,
        origin_node="",
    )
    _grade(acc)
    record_change(session, acc, entity=ENTITY)
    ensure_steps(session, acc, arrived_at=now)
    audit(
        session,
        actor,
        "accident.report",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={
            "kind": acc.kind,
            "grade": acc.grade,
            "deaths": acc.deaths,
            "missing": acc.missing,
            "serious_injuries": acc.serious_injuries,
            "direct_loss_cny": str(acc.direct_loss_cny),
        },
    )
    return acc


def get_accident(session: Session, scope: Scope, accident_id: int) -> Accident:
    """One accident in scope; absent and out of scope are the same 404."""
    found = session.scalars(
        scoped(select(Accident), scope).where(Accident.id == accident_id)
    ).first()
    if found is None:
        raise not_found(
            session,
            Accident.id,
            accident_id,
            f"事故不存在或不在管辖范围内: {accident_id} (no such accident in your jurisdiction)",
        )
    return found


def read_accident(session: Session, scope: Scope, accident_id: int, actor: Actor) -> Accident:
    """One accident in scope, to be shown: the read is audited, as the report names its
    reporter with their phone."""
    acc = get_accident(session, scope, accident_id)
    audit_read(session, actor, "accident", [acc])
    return acc


def list_accidents(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    grade: int | None = None,
    accident_type: str | None = None,
    kind: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Accident], int]:
    """Accidents in scope, newest first, with the number of matches; ``enterprise_id``: those of
    one enterprise; ``kind`` accident or near_miss (较大涉险事故) lists one of them only."""
    stmt = scoped(select(Accident), scope)
    if enterprise_id is not None:
        stmt = stmt.where(Accident.enterprise_id == enterprise_id)
    if kind:
        if kind not in KINDS:
            raise Invalid(f"报告类别应为 accident 或 near_miss: {kind}", field="kind")
        stmt = stmt.where(Accident.kind == kind)
    if division:
        stmt = stmt.where(division_filter(Accident.division_code, division))
    if grade is not None:
        if grade not in (1, 2, 3, 4):
            raise Invalid(f"事故等级应为 1–4: {grade} (grade must be 1 to 4)", field="grade")
        stmt = stmt.where(Accident.grade == grade)
    if accident_type:
        if accident_type not in ACCIDENT_TYPES:
            raise Invalid(f"事故类别无效: {accident_type} (unknown type)", field="accident_type")
        stmt = stmt.where(Accident.accident_type == accident_type)
    return paged(
        session, stmt, (Accident.occurred_at.desc(), Accident.id.desc()), limit=limit, offset=offset
    )


def present(session: Session, accidents: list[Accident]) -> list[AccidentRead]:
    """The user-facing views: grade names, division names, the reporter's phone masked."""
    names = division_names(session, (a.division_code for a in accidents))
    cipher = field_cipher()
    return [
        AccidentRead(
            **{
                name: getattr(a, name)
                for name in AccidentRead.model_fields
                if hasattr(Accident, name) and name not in ("grade",)
            },
            grade=a.grade,
            grade_label=Grade(a.grade).label,
            division_name=names.get(a.division_code, ""),
            accident_type_label=ACCIDENT_TYPES.get(a.accident_type, a.accident_type),
            kind_label=KINDS.get(a.kind, a.kind),
            near_miss_criterion_label=NEAR_MISS_CRITERIA.get(a.near_miss_criterion, ""),
            report_to=top_tier(Grade(a.grade), a.kind),
            reporter_phone=mask_phone(cipher.decrypt(a.reporter_phone_enc)),
        )
        for a in accidents
    ]


# --- contacts (联系人) ------------------------------------------------------------------------------


def contacts_of(acc: Accident) -> list[Contact]:
    """The report's people with their full phones: the reporter (报告人)."""
    phone = field_cipher().decrypt(acc.reporter_phone_enc)
    return [Contact(field="reporter_phone", label="报告人", name=acc.reporter, phone=phone)]


def reveal_contacts(
    session: Session, actor: Actor, scope: Scope, accident_id: int, field: str | None = None
) -> RevealedContacts:
    """The reporter's full phone of an accident in scope (audited as ``accident.reveal``);
    out of scope: the same 404 as a missing accident."""
    acc = get_accident(session, scope, accident_id)
    return reveal(session, actor, ENTITY, acc, contacts_of(acc), field)


def unit_of(session: Session, scope: Scope, acc: Accident) -> Enterprise | None:
    """The registered unit of the accident, if the scope reaches its file too."""
    if acc.enterprise_id is None:
        return None
    try:
        return enterprise_in_scope(session, scope, acc.enterprise_id)
    except NotFound:
        return None


def handles(session: Session, user: User, acc: Accident) -> bool:
    """Whether ``user`` acts for an agency that handles the accident (see
    :func:`anjian.accidents.rules.handles_accident`)."""
    agency = chain_agency(session, user)
    if agency is None:
        return False
    chain = reporting_chain(agencies_over_division(session, acc.division_code), Grade(acc.grade))
    lead, _tier = lead_of(session, acc, investigation_of(session, acc))
    return handles_accident(agency, [step.division for step in chain], lead)


def handler_contacts(
    session: Session, actor: Actor, scope: Scope, acc: Accident, unit: Enterprise | None
) -> list[Contact]:
    """Every contact of the accident in full, for an official who handles it: the reporter's
    and the unit's (法定代表人, 安全负责人), each record's reveal audited."""
    shown = reveal(session, actor, ENTITY, acc, contacts_of(acc)).contacts
    if unit is not None:
        shown += reveal(
            session, actor, enterprises.ENTITY, unit, enterprises.contacts_of(unit)
        ).contacts
    return shown


_CASUALTIES = ("deaths", "missing", "serious_injuries", "minor_injuries")
_NUMBERS = (*_CASUALTIES, "direct_loss_cny")


def follow_up(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: FollowUp
) -> Accident:
    """Record a follow-up report (续报): the numbers sent replace the earlier ones and the grade
    is computed again — if it rises, the report must now go further up. Casualty numbers change
    only within the 补报 window (to 24:00 Beijing time of the 30th day after; road traffic and
    fire the 7th: 409 naming the number after it); the direct loss may be updated later too.
    Audited with the numbers and grade before and after, synced."""
    acc = get_accident(session, scope, accident_id)
    ensure_writable_here(acc)
    if utcnow() >= follow_up_until(acc.occurred_at, acc.accident_type):
        last = follow_up_last_day(acc.occurred_at, acc.accident_type)
        changed = [
            name
            for name in _CASUALTIES
            if getattr(data, name) is not None and getattr(data, name) != getattr(acc, name)
        ]
        if changed:
            raise Conflict(
                f"伤亡人数补报期限已于 {last:%Y-%m-%d} 24:00 截止，直接经济损失仍可更新 "
                f"(casualty numbers closed at the end of {last:%Y-%m-%d}, Beijing time; the "
                "direct loss may still be updated)",
                field=changed[0],
            )
    before = {name: getattr(acc, name) for name in _NUMBERS} | {"grade": acc.grade}
    for name in _NUMBERS:
        value = getattr(data, name)
        if value is not None:
            setattr(acc, name, value)
    _grade(acc)
    acc.follow_ups += 1
    record_change(session, acc, entity=ENTITY)
    ensure_steps(session, acc)
    after = {name: getattr(acc, name) for name in _NUMBERS} | {"grade": acc.grade}
    audit(
        session,
        actor,
        "accident.follow_up",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={
            "before": {k: str(v) for k, v in before.items()},
            "after": {k: str(v) for k, v in after.items()},
            "note": data.note,
            "grade_rose": acc.grade < before["grade"],
        },
    )
    return acc


# --- the reporting chain (报送环节) -----------------------------------------------------------------

TIER_LABELS = {"county": "县级", "city": "市级", "province": "省级", "national": "国家级"}


def _owned_steps(session: Session, acc: Accident) -> list[ChainStep]:
    """The steps of the accident's chain whose agencies this node keeps: inside its
    jurisdiction and not inside a child node's (the child keeps those)."""
    own = prefix_of(get_settings().node_division)
    children = [prefix_of(link.division_code) for link in child_links(session) if not link.revoked]
    agencies = agencies_over_division(session, acc.division_code)
    return [
        step
        for step in reporting_chain(agencies, Grade(acc.grade), acc.kind)
        if step.division.startswith(own) and not any(step.division.startswith(c) for c in children)
    ]


def ensure_steps(session: Session, acc: Accident, *, arrived_at: datetime | None = None) -> None:
    """Make this node's steps of the chain the accident's grade requires (and move the top when
    a follow-up changed the grade). The lowest of them received the report ``arrived_at`` (when
    it was filed here or reached this node); the others receive it when the tier below passes
    it up."""
    node = get_settings().effective_node_id
    have = {
        step.tier: step
        for step in session.scalars(
            select(AccidentStep).where(AccidentStep.accident_uid == acc.uid)
        )
    }
    for i, link in enumerate(_owned_steps(session, acc)):
        receive, report = step_deadlines(acc.known_at, link)
        step = have.get(link.tier)
        if step is None:
            step = AccidentStep(
                accident_uid=acc.uid,
                division_code=link.division,
                tier=link.tier,
                receive_due_at=receive,
                report_due_at=report,
                received_at=arrived_at if i == 0 else None,
                origin_node="",
            )
            record_change(session, step, entity=STEP_ENTITY)
        elif step.origin_node == node and step.report_due_at != report:
            step.report_due_at = report
            record_change(session, step, entity=STEP_ENTITY)


def steps_on_arrival(session: Session, uids: list[str]) -> None:
    """A report that reached this node from below: the node's own steps begin (the sync hook)."""
    now = utcnow()
    for acc in session.scalars(select(Accident).where(Accident.uid.in_(uids))):
        ensure_steps(session, acc, arrived_at=now)


def chain_agency(session: Session, user: User) -> str | None:
    """The division whose agency (应急管理部门) ``user`` acts for in the reporting chain
    (报送环节), or None: the chain's steps are the agencies' of each tier, so an officer of a
    coal-mine inspection bureau (煤矿安全监察) or a rescue team, whose division may be a city's,
    stamps none of them, nor does an enterprise user."""
    if user.role == Role.ENTERPRISE:
        return None
    org = session.get(Organisation, user.org_id) if user.org_id else None
    if org is not None and org.kind != OrgKind.AGENCY:
        return None
    return user.division_code


def report_up(
    session: Session, actor: Actor, scope: Scope, accident_id: int, agency: str | None
) -> Accident:
    """The agency of division ``agency`` (see :func:`chain_agency`) passes the report up
    (上报): its step is stamped, and the next agency's step (if this node keeps it) has received
    it. 403 for a user who acts for no agency; 409 when this agency has no open step here (not
    in the chain, already reported, or the top of the chain)."""
    acc = get_accident(session, scope, accident_id)
    agency_only(scope)
    if agency is None:
        raise Forbidden(
            "报送环节属于各级应急管理部门，本单位不能代为上报 "
            "(only the emergency management agency of a tier passes the report up)"
        )
    node = get_settings().effective_node_id
    steps = {
        step.tier: step
        for step in session.scalars(
            select(AccidentStep).where(AccidentStep.accident_uid == acc.uid)
        )
    }
    mine = next(
        (
            st
            for st in steps.values()
            if st.division_code == agency and st.origin_node == node and st.reported_at is None
        ),
        None,
    )
    if mine is None or mine.report_due_at is None:
        raise Conflict(
            "本级没有待上报的环节 (nothing for your agency to report up: not in the chain, "
            "already reported, or the top of the chain)",
            field="state",
        )
    now = utcnow()
    mine.reported_at, mine.reported_by = now, actor.username
    if mine.received_at is None:
        mine.received_at = now
    record_change(session, mine, entity=STEP_ENTITY)
    above = min(  # the next agency of the chain held here (a level may be missing)
        (st for st in steps.values() if TIERS_UP.index(st.tier) > TIERS_UP.index(mine.tier)),
        key=lambda st: TIERS_UP.index(st.tier),
        default=None,
    )
    if above is not None and above.origin_node == node and above.received_at is None:
        above.received_at = now
        record_change(session, above, entity=STEP_ENTITY)
    audit(
        session,
        actor,
        "accident.report_up",
        object_type="accident",
        object_id=str(acc.id),
        division_code=agency,
        detail={"tier": mine.tier, "late": agency_late(mine.received_at, now, False, now)},
    )
    return acc


def chain_of(session: Session, acc: Accident) -> list[StepRead]:
    """The steps of the chain this node sees (its own and those of the nodes below), lowest
    tier first, each with its statutory clock and its own (Art. 11: 2 h from its own receipt),
    flagged late (迟报) by its own clock only."""
    now = utcnow()
    steps = sorted(
        session.scalars(select(AccidentStep).where(AccidentStep.accident_uid == acc.uid)),
        key=lambda st: TIERS_UP.index(st.tier),
    )
    return [
        StepRead(
            tier=st.tier,
            tier_label=TIER_LABELS[st.tier],
            division_code=st.division_code,
            origin_node=st.origin_node,
            receive_due_at=st.receive_due_at,
            received_at=st.received_at,
            report_due_at=st.report_due_at,
            hold_due_at=hold_due(st.received_at, st.report_due_at is None),
            reported_at=st.reported_at,
            reported_by=st.reported_by,
            late=_late(st, now),
            received_late=_received_late(st),
        )
        for st in steps
    ]


def _late(st: AccidentStep, now: datetime) -> bool:
    """迟报 of the step's agency: its own 2 h from its receipt passed (the top passes nothing
    on)."""
    return agency_late(st.received_at, st.reported_at, st.report_due_at is None, now)


def _received_late(st: AccidentStep) -> bool:
    """The report reached the step's agency after the statutory time: the unit (at the lowest
    level) or a level below was late, not this one."""
    return st.received_at is not None and st.received_at > st.receive_due_at


def late_uids(session: Session, accidents: list[Accident]) -> set[str]:
    """The uids of ``accidents`` with a 迟报 somewhere in the chain seen here — an agency past
    its own 2 h, or the report reaching a level after its statutory time (the unit or a level
    below was late) — in one query (a page of the list)."""
    now = utcnow()
    steps = session.scalars(
        select(AccidentStep).where(AccidentStep.accident_uid.in_([a.uid for a in accidents]))
    )
    return {st.accident_uid for st in steps if _late(st, now) or _received_late(st)}


# --- investigations (事故调查) --------------------------------------------------------------------


def investigation_of(session: Session, acc: Accident) -> Investigation | None:
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
    data: InvestigationOpen,
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
    record_change(session, inv, entity="investigation")
    audit(
        session,
        actor,
        "investigation.open",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
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
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
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
    record_change(session, inv, entity="investigation")
    audit(
        session,
        actor,
        "investigation.update",
        object_type="accident",
        object_id=str(accident_id),
        division_code=inv.division_code,
        detail={"fields": sorted(changes)},
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
    record_change(session, inv, entity="investigation")
    audit(
        session,
        actor,
        "investigation.close",
        object_type="accident",
        object_id=str(accident_id),
        division_code=inv.division_code,
        detail={"overdue": inv.closed_at > inv.due_at},
    )
    return inv


def submit_report(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: ReportSubmit
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
    record_change(session, inv, entity="investigation")
    audit(
        session,
        actor,
        "investigation.report",
        object_type="accident",
        object_id=str(accident_id),
        division_code=inv.division_code,
        detail={"submitted_at": at.isoformat(), "overdue": at > inv.due_at},
    )
    return inv


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
    record_change(session, inv, entity="investigation")
    last = _reply_last_day(inv, acc)
    audit(
        session,
        actor,
        "investigation.reply",
        object_type="accident",
        object_id=str(accident_id),
        division_code=inv.division_code,
        detail={
            "replied_on": str(data.replied_on),
            "reply_by": data.reply_by,
            "reply_doc_no": data.reply_doc_no,
            "overdue": reply_overdue(last, data.replied_on, data.replied_on),
        },
    )
    return inv


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
    stmt = scoped(
        select(Investigation)
        .join(Accident, Accident.uid == Investigation.accident_uid)
        .where(Investigation.deleted.is_(False)),
        scope,
    )
    if division:
        stmt = stmt.where(division_filter(Accident.division_code, division))
    if state is not None:
        if state not in ("open", "closed"):
            raise Invalid(f"状态应为 open 或 closed: {state}", field="state")
        stmt = stmt.where(
            Investigation.closed_at.is_(None)
            if state == "open"
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
    orders = directives.open_supervisions(ENTITY)
    if supervised is not None:
        on = Investigation.accident_uid.in_(orders)
        stmt = stmt.where(on if supervised else ~on)
    found, total = paged(
        session, stmt, (Investigation.due_at, Investigation.id), limit=limit, offset=offset
    )
    accidents = {
        acc.uid: acc
        for acc in session.scalars(
            select(Accident).where(Accident.uid.in_([inv.accident_uid for inv in found]))
        )
    }
    rows = [(inv, accidents[inv.accident_uid]) for inv in found]
    supervised_uids = set(
        session.scalars(orders.where(Directive.subject_uid.in_([acc.uid for _, acc in rows])))
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
    return directives.open_supervision(session, ENTITY, acc.uid)


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
        subject=(ENTITY, acc.uid),
        target_division=lead,
        default_title=(
            f"关于{acc.unit_name or acc.place}“{when.month}·{when.day}”{label}事故查处的挂牌督办通知"
        ),
    )


# --- corrective measures (整改措施) and their follow-up ----------------------------------------


def measures_of(session: Session, acc: Accident) -> list[CorrectiveMeasure]:
    """The corrective measures of an accident, by deadline."""
    return list(
        session.scalars(
            select(CorrectiveMeasure)
            .where(CorrectiveMeasure.accident_uid == acc.uid, CorrectiveMeasure.deleted.is_(False))
            .order_by(CorrectiveMeasure.due_date, CorrectiveMeasure.id)
        )
    )


def present_measure(m: CorrectiveMeasure) -> MeasureRead:
    """A measure as users see it, flagged 逾期 when not verified done by its deadline (a
    Beijing calendar date)."""
    done = m.verified_at.astimezone(CST).date() if m.verified_at else today_in_china()
    return MeasureRead(
        **{n: getattr(m, n) for n in MeasureRead.model_fields if n != "overdue"},
        overdue=done > m.due_date,
    )


def add_measure(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: MeasureCreate
) -> CorrectiveMeasure:
    """Record a corrective measure the investigation requires, at the node that holds the
    investigation (the agency leading it; audited, synced up)."""
    acc = get_accident(session, scope, accident_id)
    agency_only(scope)
    inv = investigation_of(session, acc)
    if inv is None:
        raise NotFound("该事故尚未立案调查 (no investigation opened)")
    if not leads_or_above(scope, inv):
        raise Forbidden(
            "整改措施由牵头调查的部门或其上级提出 (set by the leading agency or one above it)",
            field="lead_division",
        )
    ensure_writable_here(inv)
    if data.due_date < today_in_china():
        raise Invalid("整改期限不能早于今天 (due date is in the past)", field="due_date")
    m = CorrectiveMeasure(
        accident_uid=acc.uid,
        division_code=acc.division_code,
        content=data.content,
        responsible=data.responsible,
        due_date=data.due_date,
        origin_node="",
    )
    record_change(session, m, entity="corrective_measure")
    audit(
        session,
        actor,
        "measure.add",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={"measure": m.uid, "responsible": m.responsible, "due": str(m.due_date)},
    )
    return m


def _open_measure(
    session: Session, scope: Scope, accident_id: int, measure_id: int
) -> tuple[Accident, CorrectiveMeasure]:
    acc = get_accident(session, scope, accident_id)
    m = session.get(CorrectiveMeasure, measure_id)
    if m is None or m.deleted or m.accident_uid != acc.uid:
        raise NotFound(f"没有该整改措施: {measure_id} (no such measure of this accident)")
    ensure_writable_here(m)
    if m.verified_at is not None:
        raise Conflict("该措施已验收 (the measure is already verified done)", field="state")
    return acc, m


def report_progress(
    session: Session, actor: Actor, scope: Scope, accident_id: int, measure_id: int, note: str
) -> CorrectiveMeasure:
    """Report how a measure is being carried out (落实情况): the unit itself or an agency; the
    latest report replaces the earlier one, every one is in the audit log."""
    acc, m = _open_measure(session, scope, accident_id, measure_id)
    m.progress, m.progress_at, m.progress_by = note, utcnow(), actor.username
    record_change(session, m, entity="corrective_measure")
    audit(
        session,
        actor,
        "measure.progress",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={"measure": m.uid, "note": note},
    )
    return m


def verify_measure(
    session: Session, actor: Actor, scope: Scope, accident_id: int, measure_id: int, note: str
) -> CorrectiveMeasure:
    """An agency verifies a measure done (验收), with its opinion; enterprise users cannot."""
    agency_only(scope)
    acc, m = _open_measure(session, scope, accident_id, measure_id)
    m.verified_at, m.verified_by = utcnow(), actor.username
    record_change(session, m, entity="corrective_measure")
    audit(
        session,
        actor,
        "measure.verify",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={"measure": m.uid, "note": note, "late": m.verified_at.date() > m.due_date},
    )
    return m
