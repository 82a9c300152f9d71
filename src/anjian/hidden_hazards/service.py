"""Hidden-hazard governance use cases (隐患排查治理): the closed loop and the ledger.

The only place that writes hidden hazards. Every step moves the state by
:func:`~anjian.hidden_hazards.rules.next_state`, stamps a new version (synced up), records a
:class:`HazardStep` (synced up too, so every tier sees who did what and when) and appends an
audit record, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.divisions.rules import prefix_of
from anjian.core.divisions.service import children_with_zeros
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.iam.models import User
from anjian.core.paging import paged
from anjian.core.scope import Scope, breakdown, division_filter, unscoped
from anjian.core.sync.models import new_uid
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.directives import service as directives
from anjian.directives.models import Directive
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises.service import enterprise_in_scope, enterprise_names, is_enterprise_user
from anjian.hidden_hazards.models import HazardStep, HiddenHazard
from anjian.hidden_hazards.rules import (
    OVERDUE_ACTION,
    PLAN_FIELDS,
    Acceptor,
    HazardAction,
    HazardGrade,
    HazardState,
    IllegalTransition,
    acceptance_problem,
    is_overdue,
    missing_plan_parts,
    next_state,
    rectification_rate,
    supervision_blocks_acceptance,
)
from anjian.hidden_hazards.schemas import (
    GovernancePlanUpdate,
    HazardCreate,
    HazardRead,
    HazardRegistrationCreate,
    HazardStats,
)
from anjian.hidden_hazards.sync import HAZARD_ENTITY, HAZARD_STEP_ENTITY


def get_hazard(session: Session, scope: Scope, hazard_id: int) -> HiddenHazard:
    """One hazard in scope; absent and out of scope are the same 404."""
    return scope.one(session, HiddenHazard, hazard_id)


def steps_of(session: Session, hz: HiddenHazard) -> list[HazardStep]:
    """The hazard's closed loop so far, oldest first."""
    return list(
        session.scalars(
            select(HazardStep)
            .where(HazardStep.hazard_uid == hz.uid)
            .order_by(HazardStep.at, HazardStep.id)
        )
    )


def present(session: Session, hz: HiddenHazard, *, with_steps: bool = True) -> HazardRead:
    """The user-facing view of one hazard: its enterprise's name, its open 挂牌督办 order and
    (``with_steps``) the loop so far."""
    supervision = open_supervision(session, hz)
    return HazardRead.of(
        hz,
        enterprise_name=enterprise_names(session, {hz.enterprise_id}).get(hz.enterprise_id, ""),
        steps=steps_of(session, hz) if with_steps else None,
        supervision_uid=supervision.uid if supervision else None,
    )


def open_supervision(session: Session, hz: HiddenHazard) -> Directive | None:
    """The 挂牌督办 order on this hazard that its issuer has not closed yet, if any."""
    return directives.open_supervision(session, HAZARD_ENTITY, hz.uid)


def _step(
    session: Session,
    actor: Actor,
    hz: HiddenHazard,
    action: HazardAction | str,
    *,
    to_state: str | None = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Move (or mark) the hazard, and record the step, the new version and the audit."""
    from_state = hz.state or ""
    if to_state is None:
        try:
            to_state = next_state(HazardState(hz.state) if hz.state else None, HazardAction(action))
        except IllegalTransition as exc:
            raise Conflict(str(exc), field="state") from None
    hz.state = to_state
    record_change(session, hz, entity=HAZARD_ENTITY)  # flushes: hz.uid and hz.id are set from here
    now = utcnow()
    step = HazardStep(
        hazard_uid=hz.uid,
        division_code=hz.division_code,
        action=str(action),
        from_state=from_state,
        to_state=to_state,
        actor=actor.username,
        at=now,
        note=note.strip(),
        origin_node="",
    )
    record_change(session, step, entity=HAZARD_STEP_ENTITY)
    audit_record(
        session,
        actor,
        f"hidden_hazard.{action}",
        "hidden_hazard",
        hz,
        detail={"number": hz.number, "from": from_state, "to": to_state, **(detail or {})},
    )


def report_hazard(
    session: Session, actor: Actor, scope: Scope, data: HazardCreate, *, source_ref: str = ""
) -> HiddenHazard:
    """排查发现: record a hazard found by the enterprise's self-inspection or an official;
    ``source_ref`` names the record of another domain it comes from ("<entity>:<uid>")."""
    ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
    found_at = data.found_at or utcnow()
    if found_at.tzinfo is None:
        raise Invalid("发现时间须带时区 (found_at needs a time zone)", field="found_at")
    if found_at > utcnow():
        raise Invalid("发现时间不能晚于现在 (found_at is in the future)", field="found_at")
    source = data.source or ("self_check" if scope.is_enterprise else "inspection")
    if scope.is_enterprise and source == "inspection":
        raise Invalid(
            "企业用户登记的隐患来源不能是监管检查 (enterprise users report self-checks)",
            field="source",
        )
    hz = HiddenHazard(
        enterprise_id=ent.id,
        division_code=ent.division_code,
        supervision_category=ent.supervision_category,
        place=data.place.strip(),
        description=data.description.strip(),
        category=data.category,
        grade=HazardGrade.GENERAL,
        source=source,
        source_ref=source_ref,
        found_by=actor.username,
        found_at=found_at,
        photos=[],
        state="",
        created_at=utcnow(),
        origin_node="",
        uid=new_uid(),
    )
    hz.number = f"YH{found_at:%Y%m%d}-{hz.uid[-8:].upper()}"  # 隐患编号: date and uid tail
    _step(session, actor, hz, HazardAction.REPORT)
    return hz


def _writable(session: Session, scope: Scope, hazard_id: int) -> HiddenHazard:
    hz = get_hazard(session, scope, hazard_id)
    ensure_writable_here(hz)
    return hz


def register_hazard(
    session: Session, actor: Actor, scope: Scope, hazard_id: int, data: HazardRegistrationCreate
) -> HiddenHazard:
    """登记: grade it and set the five 落实 (person, measures, funds, deadline; the plan for a
    major hazard comes next). A major hazard is reported to the agency at once."""
    hz = _writable(session, scope, hazard_id)
    if data.grade == HazardGrade.MAJOR and not data.major_criterion.strip():
        raise Invalid(
            "重大隐患须注明所依据的判定标准条款 (name the criterion that makes it major)",
            field="major_criterion",
        )
    if data.deadline < utcnow().date():
        raise Invalid("整改期限不能早于今天 (deadline is in the past)", field="deadline")
    hz.grade = data.grade
    hz.major_criterion = data.major_criterion.strip() if data.grade == HazardGrade.MAJOR else ""
    hz.deadline, hz.responsible = data.deadline, data.responsible.strip()
    hz.measures, hz.funds_cny = data.measures.strip(), data.funds_cny
    if data.category:
        hz.category = data.category
    hz.registered_by, hz.registered_at = actor.username, utcnow()
    if data.grade == HazardGrade.MAJOR:
        # Order 16 Art. 14 / Safety Production Law Art. 41: reported to the agency at once. The
        # agency of this node sees it now; the nodes above as soon as it is forwarded.
        hz.reported_to_agency_at = utcnow()
    _step(
        session,
        actor,
        hz,
        HazardAction.REGISTER,
        detail={"grade": data.grade, "deadline": data.deadline.isoformat()},
    )
    return hz


def set_plan(
    session: Session, actor: Actor, scope: Scope, hazard_id: int, plan: GovernancePlanUpdate
) -> HiddenHazard:
    """治理方案 of a major hazard (before or during rectification)."""
    hz = _writable(session, scope, hazard_id)
    if hz.grade != HazardGrade.MAJOR:
        raise Conflict("只有重大隐患需要治理方案 (only major hazards have a governance plan)")
    if hz.state not in (HazardState.REGISTERED, HazardState.RECTIFYING):
        raise Conflict(
            "隐患登记后、整改完成前才能制定或修改治理方案 "
            "(the plan is set between registration and the end of rectification)",
            field="state",
        )
    hz.plan = plan.model_dump()
    record_change(session, hz, entity=HAZARD_ENTITY)
    audit_record(
        session,
        actor,
        "hidden_hazard.plan",
        "hidden_hazard",
        hz,
        detail={"number": hz.number, "parts": sorted(k for k, v in hz.plan.items() if v)},
    )
    return hz


def start_rectification(
    session: Session, actor: Actor, scope: Scope, hazard_id: int, note: str = ""
) -> HiddenHazard:
    """整改: a major hazard needs its full governance plan first."""
    hz = _writable(session, scope, hazard_id)
    if hz.grade == HazardGrade.MAJOR and hz.state == HazardState.REGISTERED:
        missing = missing_plan_parts(hz.plan)
        if missing:
            raise Conflict(
                "重大隐患须先制定完整的治理方案，缺少: "
                + "、".join(PLAN_FIELDS[m] for m in missing)
                + f" (governance plan incomplete: {', '.join(missing)})",
                field="plan",
            )
    _step(session, actor, hz, HazardAction.START, note=note)
    return hz


def finish_rectification(
    session: Session, actor: Actor, scope: Scope, hazard_id: int, note: str
) -> HiddenHazard:
    """整改完成: say what was done; the hazard now waits for acceptance by someone else."""
    hz = _writable(session, scope, hazard_id)
    if not note.strip():
        raise Invalid("请说明整改情况 (describe what was done)", field="note")
    hz.rectified_by, hz.rectified_at = actor.username, utcnow()
    hz.rectification_note = note.strip()
    _step(session, actor, hz, HazardAction.FINISH, note=note)
    return hz


def accept(
    session: Session, actor: Actor, scope: Scope, hazard_id: int, note: str = ""
) -> HiddenHazard:
    """验收 and 销号: by someone other than the rectifier; a major hazard by the agency, and
    after the issuer closed its 挂牌督办 order if there is one."""
    hz = _writable(session, scope, hazard_id)
    if hz.state == HazardState.RECTIFIED:
        problem = acceptance_problem(
            hz.grade, hz.rectified_by, Acceptor(actor.username, not is_enterprise_user(scope))
        )
        if problem:
            raise Forbidden(problem)
        blocked = supervision_blocks_acceptance(
            hz.grade, supervision_open=open_supervision(session, hz) is not None
        )
        if blocked:
            raise Conflict(blocked)
    now = utcnow()
    hz.accepted_by, hz.accepted_at, hz.closed_at = actor.username, now, now
    hz.acceptance_note = note.strip()
    _step(session, actor, hz, HazardAction.ACCEPT, note=note)
    return hz


def reject(session: Session, actor: Actor, scope: Scope, hazard_id: int, note: str) -> HiddenHazard:
    """验收不通过: back to rectification, with the reason."""
    hz = _writable(session, scope, hazard_id)
    if not note.strip():
        raise Invalid("请说明验收不通过的原因 (say why)", field="note")
    if hz.state == HazardState.RECTIFIED and hz.rectified_by == actor.username:
        raise Forbidden("验收人不能是整改人 (the rectifier cannot judge their own work)")
    _step(session, actor, hz, HazardAction.REJECT, note=note)
    return hz


def supervise(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    hazard_id: int,
    data: SupervisionCreate,
) -> Directive:
    """挂牌督办: an agency lists a major hazard in its jurisdiction for supervised governance.
    The order is the agency's record (a directive addressed to the hazard's division), so it
    can be issued at any node that holds the hazard and flows down to the county and the
    enterprise; the hazard is written off only after the agency closes the order."""
    hz = get_hazard(session, scope, hazard_id)
    if is_enterprise_user(scope):
        raise Forbidden("挂牌督办由监管部门下达 (supervision orders are issued by agencies)")
    if hz.grade != HazardGrade.MAJOR or hz.state in ("", HazardState.FOUND, HazardState.CLOSED):
        raise Conflict(
            "只能对已登记、未销号的重大隐患挂牌督办 "
            "(only registered, open major hazards are put under supervision)"
        )
    enterprise = enterprise_names(session, {hz.enterprise_id}).get(hz.enterprise_id, "")
    return directives.supervise(
        session,
        actor,
        scope,
        user,
        data,
        subject=(HAZARD_ENTITY, hz.uid),
        target_division=hz.division_code,
        default_title=f"关于{enterprise}重大事故隐患（{hz.number}）的挂牌督办通知",
    )


@unscoped("the overdue job marks the hazards kept at this node")
def flag_overdue(session: Session, actor: Actor, today: date) -> int:
    """Mark the hazards of this node whose deadline has passed while still being rectified
    (逾期), once each; the mark travels up with the record, so the agencies above see it.
    Returns how many were marked."""
    node = get_settings().effective_node_id
    candidates = session.scalars(
        select(HiddenHazard).where(
            HiddenHazard.origin_node == node,
            HiddenHazard.deleted.is_(False),
            HiddenHazard.overdue.is_(False),
            HiddenHazard.deadline < today,
            HiddenHazard.state.in_([HazardState.REGISTERED, HazardState.RECTIFYING]),
        )
    ).all()
    marked = 0
    for hz in candidates:
        if not is_overdue(hz.state, hz.deadline, today):
            continue
        hz.overdue, hz.escalated_at = True, utcnow()
        _step(
            session,
            actor,
            hz,
            OVERDUE_ACTION,
            to_state=hz.state,
            note=f"整改期限 {hz.deadline} 已过，升级提示监管部门",
            detail={"deadline": str(hz.deadline)},
        )
        marked += 1
    return marked


# --- the ledger ----------------------------------------------------------------------------------


def list_hazards(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    state: str | None = None,
    grade: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    found_from: datetime | None = None,
    found_to: datetime | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[HiddenHazard], int]:
    """The hazard ledger in scope, newest first, with the number of matches."""
    stmt = scope.select(HiddenHazard)
    if enterprise_id is not None:
        stmt = stmt.where(HiddenHazard.enterprise_id == enterprise_id)
    if division:
        stmt = stmt.where(division_filter(HiddenHazard.division_code, division))
    if state:
        if state == "open":
            stmt = stmt.where(HiddenHazard.state != HazardState.CLOSED)
        else:
            try:
                stmt = stmt.where(HiddenHazard.state == HazardState(state))
            except ValueError:
                raise Invalid(f"未知状态: {state} (unknown state)", field="state") from None
    if grade:
        stmt = stmt.where(HiddenHazard.grade == grade)
    if overdue is not None:
        stmt = stmt.where(HiddenHazard.overdue.is_(overdue))
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            HiddenHazard.description.contains(term, autoescape=True)
            | HiddenHazard.place.contains(term, autoescape=True)
            | HiddenHazard.number.startswith(term.upper(), autoescape=True)
        )
    if found_from is not None:
        stmt = stmt.where(HiddenHazard.found_at >= found_from)
    if found_to is not None:
        stmt = stmt.where(HiddenHazard.found_at < found_to)
    order = (HiddenHazard.found_at.desc(), HiddenHazard.id.desc())
    return paged(session, stmt, order, limit=limit, offset=offset)


def state_counts(session: Session, scope: Scope) -> dict[str, int]:
    """Hidden hazards in scope by state (every state, zeros included), with ``overdue`` and
    ``major_open`` (重大隐患 not yet written off) — one grouped query."""
    rows = session.execute(
        scope.select(
            HiddenHazard,
            HiddenHazard.state,
            func.count(),
            func.count().filter(HiddenHazard.overdue.is_(True)),
            func.count().filter(HiddenHazard.grade == HazardGrade.MAJOR),
        ).group_by(HiddenHazard.state)
    ).all()
    out = {state.value: 0 for state in HazardState} | {"overdue": 0, "major_open": 0}
    for state, n, overdue, major in rows:
        out[state] = int(n)
        if state != HazardState.CLOSED:
            out["overdue"] += int(overdue)
            out["major_open"] += int(major)
    return out


def statistics(session: Session, scope: Scope, division: str | None = None) -> list[HazardStats]:
    """Found, written off, open, overdue and major-open hazards and the 整改率, one row per
    division one tier below ``division`` (default: the scope's own jurisdiction) — every one of
    them, a division without hazards as zeros — and a total row first. An enterprise user gets
    one row for their enterprise."""
    root, _width = breakdown(scope, division)
    prefix = prefix_of(root)
    closed = HiddenHazard.state == HazardState.CLOSED
    still_open = HiddenHazard.state != HazardState.CLOSED
    stmt = scope.select(
        HiddenHazard,
        HiddenHazard.division_code,
        func.count(),
        func.sum(case((closed, 1), else_=0)),
        func.sum(case((still_open, 1), else_=0)),
        func.sum(case(((HiddenHazard.overdue.is_(True)) & still_open, 1), else_=0)),
        func.sum(case(((HiddenHazard.grade == HazardGrade.MAJOR) & still_open, 1), else_=0)),
    )
    if prefix:
        stmt = stmt.where(division_filter(HiddenHazard.division_code, root))
    children = children_with_zeros(session, root, scope.overlaps)
    counts: dict[str, list[int]] = {}
    for code, *figures in session.execute(stmt.group_by(HiddenHazard.division_code)).all():
        row = counts.setdefault(children.child_of(str(code)), [0, 0, 0, 0, 0])
        for i, value in enumerate(figures):
            row[i] += int(value or 0)
    out: list[HazardStats] = []
    totals = [0, 0, 0, 0, 0]
    for code, name in children.rows(session, counts):
        figures = counts.get(code, [0, 0, 0, 0, 0])
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        out.append(_stats_row(code, name, figures))
    total = _stats_row(root, children.names.get(root, "合计") + "（合计）", totals)
    return [total, *out]


def _stats_row(code: str, name: str, figures: Sequence[int]) -> HazardStats:
    """One row of the statistics from its figures (found, closed, open, overdue, major open)."""
    found, n_closed, n_open, n_overdue, n_major = figures
    return HazardStats(
        division_code=code,
        division_name=name,
        found=found,
        closed=n_closed,
        open=n_open,
        overdue=n_overdue,
        major_open=n_major,
        rectification_rate=rectification_rate(found, n_closed),
    )
