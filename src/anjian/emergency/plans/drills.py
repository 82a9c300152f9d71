"""Drills (演练): planned for a day, of a plan or of a unit; held and recorded (when, how many
took part, what happened); evaluated (rating, problems, improvements); or cancelled. Scoped,
audited, synced up."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import extract, or_, select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import today_in_china
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Invalid
from anjian.core.listing import in_state, of_enterprise_in
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.emergency.plans.models import EmergencyDrill, EmergencyPlan
from anjian.emergency.plans.rules import (
    DRILL_FORMS,
    DRILL_SCALES,
    DRILL_STATES,
    RATINGS,
    drill_step_allowed,
)
from anjian.emergency.plans.schemas import (
    DrillCancel,
    DrillCreate,
    DrillEvaluation,
    DrillRead,
    DrillRecord,
)
from anjian.emergency.plans.service import get_plan
from anjian.emergency.plans.sync import DRILL_ENTITY
from anjian.emergency.resources import placed
from anjian.enterprises.service import enterprise_names


def _audit(
    session: Session, actor: Actor, action: str, drill: EmergencyDrill, **detail: Any
) -> None:
    audit_record(
        session, actor, action, DRILL_ENTITY, drill, detail={"title": drill.title, **detail}
    )


def create_drill(session: Session, actor: Actor, scope: Scope, data: DrillCreate) -> EmergencyDrill:
    """Plan a drill: of a plan in scope (placed like the plan) or of a division or enterprise."""
    plan_uid = ""
    if data.plan_id is not None:
        plan = get_plan(session, scope, data.plan_id)
        division, enterprise_id, plan_uid = plan.division_code, plan.enterprise_id, plan.uid
    elif data.division_code is None and data.enterprise_id is None:
        raise Invalid("请选择预案或所属区划 (a plan or a division is needed)", field="plan_id")
    else:
        division, enterprise_id = placed(
            session, scope, data.division_code or "", data.enterprise_id
        )
    drill = EmergencyDrill(
        **data.model_dump(exclude={"plan_id", "division_code", "enterprise_id"}),
        plan_uid=plan_uid,
        division_code=division,
        enterprise_id=enterprise_id,
        state="planned",
        record="",
        rating="",
        problems="",
        improvements="",
        evaluated_by="",
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    session.add(drill)
    session.flush()
    record_change(session, drill, entity=DRILL_ENTITY)
    _audit(session, actor, "emergency.drill.create", drill, planned_on=str(drill.planned_on))
    return drill


def get_drill(session: Session, scope: Scope, drill_id: int) -> EmergencyDrill:
    """One drill in scope; absent and out of scope are the same 404."""
    return scope.one(session, EmergencyDrill, drill_id)


def _step(session: Session, scope: Scope, drill_id: int, target: str) -> EmergencyDrill:
    drill = get_drill(session, scope, drill_id)
    ensure_writable_here(drill)
    if not drill_step_allowed(drill.state, target):
        raise Conflict(
            f"{DRILL_STATES[drill.state]}的演练不能改为{DRILL_STATES[target]} (step not allowed)",
            field="state",
        )
    return drill


def record_drill(
    session: Session, actor: Actor, scope: Scope, drill_id: int, data: DrillRecord
) -> EmergencyDrill:
    """演练实施: the drill was held on a day (not in the future), with its record."""
    drill = _step(session, scope, drill_id, "held")
    if data.held_on > today_in_china():
        raise Invalid("实施日期不能晚于今天 (held in the future)", field="held_on")
    drill.state, drill.held_on = "held", data.held_on
    drill.participants, drill.record = data.participants, data.record.strip()
    record_change(session, drill, entity=DRILL_ENTITY)
    _audit(session, actor, "emergency.drill.record", drill, held_on=str(data.held_on))
    return drill


def evaluate_drill(
    session: Session, actor: Actor, scope: Scope, drill_id: int, data: DrillEvaluation
) -> EmergencyDrill:
    """演练评估: the rating, the problems found and the improvements to make."""
    drill = _step(session, scope, drill_id, "evaluated")
    if data.rating == "fail" and not data.problems.strip():
        raise Invalid("评为不合格时请写明发现的问题 (a fail needs the problems)", field="problems")
    drill.state, drill.rating = "evaluated", data.rating
    drill.problems, drill.improvements = data.problems.strip(), data.improvements.strip()
    drill.evaluated_by, drill.evaluated_at = actor.username, utcnow()
    record_change(session, drill, entity=DRILL_ENTITY)
    _audit(session, actor, "emergency.drill.evaluate", drill, rating=data.rating)
    return drill


def cancel_drill(
    session: Session, actor: Actor, scope: Scope, drill_id: int, data: DrillCancel
) -> EmergencyDrill:
    """A planned drill called off, with the reason (kept in its record)."""
    drill = _step(session, scope, drill_id, "cancelled")
    drill.state, drill.record = "cancelled", f"取消：{data.reason.strip()}"
    record_change(session, drill, entity=DRILL_ENTITY)
    _audit(session, actor, "emergency.drill.cancel", drill, reason=data.reason)
    return drill


def list_drills(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    enterprise_id: int | None = None,
    state: str | None = None,
    year: int | None = None,
    plan_id: int | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[EmergencyDrill], int]:
    """Drills in scope: the coming ones first (soonest first), then the past (latest first)."""
    stmt = of_enterprise_in(scope, EmergencyDrill, enterprise_id, division)
    stmt = in_state(
        stmt, EmergencyDrill.state, state, DRILL_STATES, f"未知演练状态: {state} (unknown state)"
    )
    if year is not None:
        stmt = stmt.where(
            or_(
                extract("year", EmergencyDrill.held_on) == year,
                (EmergencyDrill.held_on.is_(None))
                & (extract("year", EmergencyDrill.planned_on) == year),
            )
        )
    if plan_id is not None:
        stmt = stmt.where(EmergencyDrill.plan_uid == get_plan(session, scope, plan_id).uid)
    order = (EmergencyDrill.state != "planned", EmergencyDrill.planned_on.desc(), EmergencyDrill.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


@unscoped("the plans named by drills the caller read in scope")
def _plans(session: Session, uids: set[str]) -> dict[str, EmergencyPlan]:
    if not uids:
        return {}
    rows = session.scalars(select(EmergencyPlan).where(EmergencyPlan.uid.in_(uids)))
    return {p.uid: p for p in rows}


def present(session: Session, drills: list[EmergencyDrill]) -> list[DrillRead]:
    """The user-facing views: labels and names for codes, the plan by title."""
    divisions = division_names(session, {d.division_code for d in drills})
    ents = enterprise_names(session, {d.enterprise_id for d in drills if d.enterprise_id})
    plans = _plans(session, {d.plan_uid for d in drills if d.plan_uid})
    return [
        copied(
            DrillRead,
            d,
            plan_id=plans[d.plan_uid].id if d.plan_uid in plans else None,
            plan_title=plans[d.plan_uid].title if d.plan_uid in plans else "",
            division_name=divisions.get(d.division_code, ""),
            enterprise_name=ents.get(d.enterprise_id or 0, ""),
            form_label=DRILL_FORMS.get(d.form, d.form),
            scale_label=DRILL_SCALES.get(d.scale, d.scale),
            state_label=DRILL_STATES.get(d.state, d.state),
            rating_label=RATINGS.get(d.rating, ""),
        )
        for d in drills
    ]


def upcoming(session: Session, scope: Scope, today: date, days: int = 30) -> list[EmergencyDrill]:
    """Planned drills due within ``days`` (or already past their day and not recorded)."""
    stmt = scope.select(EmergencyDrill).where(
        EmergencyDrill.state == "planned",
        EmergencyDrill.planned_on <= date.fromordinal(today.toordinal() + days),
    )
    return list(session.scalars(stmt.order_by(EmergencyDrill.planned_on).limit(20)))
