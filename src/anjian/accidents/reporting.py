"""Accident reporting (事故报送): the first report (快报) and its follow-ups (续报), graded on the
server, and the reporting chain (报送环节) each agency stamps as it passes the report up.

The only place that writes accidents and their steps. The grade is computed here from the
numbers (Order No. 493 Art. 3), never taken from the client. Every write stamps a new version
into the outbox (the report travels up the tiers as it is filed) and appends an audit record in
the caller's transaction; nothing here commits. Every read of accidents is in the user's scope
(``scope.select``/``scope.one``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.accidents.models import ACCIDENT_ENTITY, STEP_ENTITY, Accident, AccidentStep
from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    KINDS,
    NEAR_MISS,
    NEAR_MISS_CRITERIA,
    TIER_LABELS,
    TIERS_UP,
    ChainStep,
    Grade,
    agency_late,
    classify,
    follow_up_last_day,
    follow_up_until,
    hold_due,
    reporting_chain,
    step_deadlines,
    top_tier,
)
from anjian.accidents.schemas import AccidentCreate, AccidentRead, ChainStepRead, FollowUpCreate
from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit, audit_read, audit_record
from anjian.core.crypto import mask_phone
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import prefix_of
from anjian.core.divisions.service import agencies_over_division, division_names
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.iam.models import Role, User
from anjian.core.iam.service import field_cipher
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.core.sync.service import child_links
from anjian.db import utcnow
from anjian.enterprises.service import enterprise_in_scope

FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little; an accident is not in the future


def agency_only(scope: Scope) -> None:
    """Passing a report up, investigating, supervising and verifying are the agencies'
    (监管部门) business: an enterprise user may report and follow up its own accident only
    (the services identify the agency by the user's division, which the unit has too)."""
    if scope.is_enterprise:
        raise Forbidden("企业用户不能办理监管部门的事项 (agencies only)")


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
    record_change(session, acc, entity=ACCIDENT_ENTITY)
    ensure_steps(session, acc, arrived_at=now)
    audit_record(
        session,
        actor,
        "accident.report",
        ACCIDENT_ENTITY,
        acc,
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
    return scope.one(session, Accident, accident_id)


def read_accident(session: Session, scope: Scope, accident_id: int, actor: Actor) -> Accident:
    """One accident in scope, to be shown: the read is audited, as the report names its
    reporter with their phone."""
    acc = get_accident(session, scope, accident_id)
    audit_read(session, actor, ACCIDENT_ENTITY, [acc])
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
    stmt = scope.select(Accident)
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


_CASUALTIES = ("deaths", "missing", "serious_injuries", "minor_injuries")
_NUMBERS = (*_CASUALTIES, "direct_loss_cny")


def follow_up(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: FollowUpCreate
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
    record_change(session, acc, entity=ACCIDENT_ENTITY)
    ensure_steps(session, acc)
    after = {name: getattr(acc, name) for name in _NUMBERS} | {"grade": acc.grade}
    audit_record(
        session,
        actor,
        "accident.follow_up",
        ACCIDENT_ENTITY,
        acc,
        detail={
            "before": {k: str(v) for k, v in before.items()},
            "after": {k: str(v) for k, v in after.items()},
            "note": data.note,
            "grade_rose": acc.grade < before["grade"],
        },
    )
    return acc


# --- the reporting chain (报送环节) -----------------------------------------------------------------


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


@unscoped("the sync hook: reports that reached this node, for the node's own steps")
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
        object_type=ACCIDENT_ENTITY,
        object_id=str(acc.id),
        division_code=agency,
        detail={"tier": mine.tier, "late": agency_late(mine.received_at, now, False, now)},
    )
    return acc


def chain_of(session: Session, acc: Accident) -> list[ChainStepRead]:
    """The steps of the chain this node sees (its own and those of the nodes below), lowest
    tier first, each with its statutory clock and its own (Art. 11: 2 h from its own receipt),
    flagged late (迟报) by its own clock only."""
    now = utcnow()
    steps = sorted(
        session.scalars(select(AccidentStep).where(AccidentStep.accident_uid == acc.uid)),
        key=lambda st: TIERS_UP.index(st.tier),
    )
    return [
        ChainStepRead(
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
