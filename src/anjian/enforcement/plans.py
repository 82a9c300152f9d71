"""Annual inspection plans (年度监督检查计划) and their progress: how many inspections each
enterprise of the agency's jurisdiction is due by its risk class, spread over the months, against
the inspections the agency finished that year. Writes are audited and synced up; nothing here
commits."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.clock import CST, today_in_china
from anjian.core.errors import Conflict, Forbidden
from anjian.core.iam.models import Role, User
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope
from anjian.db import utcnow
from anjian.enforcement.draws import population
from anjian.enforcement.models import Inspection, InspectionPlan
from anjian.enforcement.rules.inspections import (
    PLAN_FREQUENCY,
    UNGRADED_FREQUENCY,
    InspectionState,
    monthly_targets,
    plan_progress,
)
from anjian.enforcement.schemas import PlanCreate, PlanEnterprise, PlanRead
from anjian.enforcement.sync import PLAN_ENTITY, add_synced

BEHIND_SHOWN = 50


def create_plan(
    session: Session, actor: Actor, scope: Scope, user: User, data: PlanCreate
) -> InspectionPlan:
    """A plan of the caller's agency (409 when it has one of that name and year)."""
    if user.role != Role.OFFICIAL:
        raise Forbidden("只有监管人员可以制定检查计划 (plans are for officials)")
    taken = scope.select(InspectionPlan).where(
        InspectionPlan.agency_division == user.division_code,
        InspectionPlan.year == data.year,
        InspectionPlan.name == data.name.strip(),
    )
    if session.scalars(taken).first() is not None:
        raise Conflict(f"{data.year} 年已有计划「{data.name}」 (a plan of that name exists)")
    plan = InspectionPlan(
        agency_division=user.division_code,
        year=data.year,
        name=data.name.strip(),
        categories=sorted(set(data.categories)),
        frequency={**PLAN_FREQUENCY, "ungraded": UNGRADED_FREQUENCY, **data.frequency},
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    add_synced(session, plan, entity=PLAN_ENTITY)
    audit(
        session,
        actor,
        "enforcement.plan.create",
        object_type="enforcement_plan",
        object_id=str(plan.id),
        division_code=plan.agency_division,
        detail={"year": plan.year, "name": plan.name, "frequency": plan.frequency},
    )
    return plan


def get_plan(session: Session, scope: Scope, plan_id: int) -> InspectionPlan:
    """One plan in scope; absent and out of scope are the same 404."""
    return scope.one(session, InspectionPlan, plan_id)


def list_plans(
    session: Session, scope: Scope, *, limit: int | None = 50, offset: int = 0
) -> tuple[list[InspectionPlan], int]:
    """Plans in scope, the latest year first, and their number."""
    order = (InspectionPlan.year.desc(), InspectionPlan.id.desc())
    return paged(session, scope.select(InspectionPlan), order, limit=limit, offset=offset)


def _finished_months(session: Session, scope: Scope, plan: InspectionPlan) -> dict[int, list[int]]:
    """The months (1–12, Beijing time) of the inspections the agency finished in the plan's
    year, by enterprise."""
    stmt = scope.select(Inspection, Inspection.enterprise_id, Inspection.finished_at).where(
        Inspection.agency_division == plan.agency_division,
        Inspection.state == InspectionState.FINISHED,
    )
    months: dict[int, list[int]] = {}
    for enterprise_id, finished_at in session.execute(stmt):
        when: datetime = finished_at.astimezone(CST)
        if when.year == plan.year:
            months.setdefault(enterprise_id, []).append(when.month)
    return months


def progress(session: Session, scope: Scope, plan: InspectionPlan) -> PlanRead:
    """The plan with its targets and what was done, month by month, and who is behind."""
    candidates, by_uid = population(session, scope, plan.agency_division, plan.categories)
    finished = _finished_months(session, scope, plan)
    today = today_in_china()
    month_now = 12 if today.year > plan.year else (today.month if today.year == plan.year else 0)
    target, done_by_month = [0] * 12, Counter[int]()
    behind: list[PlanEnterprise] = []
    required = done = 0
    for candidate in candidates:
        ent = by_uid[str(candidate.id)]
        times = plan.frequency.get(candidate.risk or "ungraded", UNGRADED_FREQUENCY)
        targets = monthly_targets(times)
        target = [a + b for a, b in zip(target, targets, strict=True)]
        months = finished.get(ent.id, [])
        done_by_month.update(months)
        required += times
        done += min(len(months), times)
        due_now = targets[month_now - 1] if month_now else 0
        if len(months) < due_now:
            behind.append(
                PlanEnterprise(
                    id=ent.id, name=ent.name, risk=candidate.risk, required=times, done=len(months)
                )
            )
    cumulative, running = [], 0
    for month in range(1, 13):
        running += done_by_month[month]
        cumulative.append(running)
    behind.sort(key=lambda e: (e.done - e.required, e.name))
    return copied(
        PlanRead,
        plan,
        enterprises=len(candidates),
        required=required,
        done=done,
        progress=plan_progress(required, done),
        monthly_target=target,
        monthly_done=cumulative,
        behind=behind[:BEHIND_SHOWN],
    )
