"""Emergency plans (应急预案): plans of agencies (issued) and of enterprises (filed, 备案, with
the agency and reviewed there), their revision (修订) every few years flagged, and the
resources they rely on. Scoped, audited, synced up."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import CST, today_in_china
from anjian.core.counters import next_number
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.listing import in_state, of_enterprise_in
from anjian.core.node_settings.service import effective_settings
from anjian.core.paging import paged
from anjian.core.records import apply_changes, copied
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.emergency.models import EmergencyResource
from anjian.emergency.plans.models import EmergencyDrill, EmergencyPlan
from anjian.emergency.plans.rules import (
    CATEGORIES,
    EDITABLE,
    FILING_STATES,
    REVISION_LABELS,
    add_years,
    drill_overdue,
    filing_step_allowed,
    revision_due,
    revision_status,
)
from anjian.emergency.plans.schemas import (
    LinkedResource,
    PlanCreate,
    PlanRead,
    PlanReview,
    PlanRevision,
    PlanUpdate,
)
from anjian.emergency.plans.sync import PLAN_ENTITY
from anjian.emergency.resources import placed
from anjian.emergency.rules.events import EVENT_TYPES
from anjian.emergency.rules.resources import KIND_LABELS
from anjian.enterprises.service import enterprise_names

REVISION_FILTERS = ("overdue", "due_soon")


def _audit(session: Session, actor: Actor, action: str, plan: EmergencyPlan, **detail: Any) -> None:
    audit_record(session, actor, action, PLAN_ENTITY, plan, detail={"title": plan.title, **detail})


def _resource_uids(session: Session, scope: Scope, ids: list[int]) -> list[str]:
    """The uids of the linked resources, each in scope (a 404 naming ``resource_ids``)."""
    uids: list[str] = []
    for rid in dict.fromkeys(ids):
        uids.append(scope.one(session, EmergencyResource, rid, field="resource_ids").uid)
    return uids


def create_plan(session: Session, actor: Actor, scope: Scope, data: PlanCreate) -> EmergencyPlan:
    """Register a plan: an agency's is in force as issued; an enterprise's waits to be filed."""
    division, enterprise_id = placed(session, scope, data.division_code, data.enterprise_id)
    if data.issued_on > today_in_china():
        raise Invalid("发布日期不能晚于今天 (issued in the future)", field="issued_on")
    plan = EmergencyPlan(
        **data.model_dump(
            exclude={"division_code", "enterprise_id", "resource_ids", "response_levels", "roles"}
        ),
        response_levels=[x.model_dump() for x in data.response_levels],
        roles=[x.model_dump() for x in data.roles],
        resource_uids=_resource_uids(session, scope, data.resource_ids),
        division_code=division,
        enterprise_id=enterprise_id,
        edition=1,
        filing_state="draft" if enterprise_id is not None else "not_required",
        reviewed_by="",
        review_opinion="",
        filing_number="",
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    session.add(plan)
    session.flush()
    record_change(session, plan, entity=PLAN_ENTITY)
    _audit(session, actor, "emergency.plan.create", plan, division_code=division)
    return plan


def get_plan(session: Session, scope: Scope, plan_id: int) -> EmergencyPlan:
    """One plan in scope; absent and out of scope are the same 404."""
    return scope.one(session, EmergencyPlan, plan_id)


def _writable(session: Session, scope: Scope, plan_id: int) -> EmergencyPlan:
    plan = get_plan(session, scope, plan_id)
    ensure_writable_here(plan)
    return plan


def update_plan(
    session: Session, actor: Actor, scope: Scope, plan_id: int, data: PlanUpdate
) -> EmergencyPlan:
    """Change a plan not yet filed, or returned; a plan under review or filed is revised."""
    plan = _writable(session, scope, plan_id)
    if plan.filing_state not in EDITABLE:
        raise Conflict(
            f"预案{FILING_STATES[plan.filing_state]}，不能直接修改，请登记修订 "
            "(submitted or filed: record a revision)",
            field="filing_state",
        )
    wanted = data.changes()
    if "issued_on" in wanted and wanted["issued_on"] > today_in_china():
        raise Invalid("发布日期不能晚于今天 (issued in the future)", field="issued_on")
    if "resource_ids" in wanted:
        wanted["resource_uids"] = _resource_uids(session, scope, wanted.pop("resource_ids"))
    for name in ("response_levels", "roles"):
        if name in wanted:
            wanted[name] = [x.model_dump() for x in getattr(data, name)]
    changes = apply_changes(plan, wanted)
    if changes:
        record_change(session, plan, entity=PLAN_ENTITY)
        _audit(session, actor, "emergency.plan.update", plan, fields=sorted(changes))
    return plan


def _filing_step(plan: EmergencyPlan, target: str) -> None:
    if plan.enterprise_id is None:
        raise Conflict("机关预案无需备案 (an agency's plan is not filed)", field="filing_state")
    if not filing_step_allowed(plan.filing_state, target):
        raise Conflict(
            f"{FILING_STATES[plan.filing_state]}的预案不能改为{FILING_STATES[target]} "
            "(step not allowed)",
            field="filing_state",
        )


def submit_plan(session: Session, actor: Actor, scope: Scope, plan_id: int) -> EmergencyPlan:
    """报备: an enterprise's plan goes to the agency for filing."""
    plan = _writable(session, scope, plan_id)
    _filing_step(plan, "submitted")
    plan.filing_state, plan.submitted_at = "submitted", utcnow()
    record_change(session, plan, entity=PLAN_ENTITY)
    _audit(session, actor, "emergency.plan.submit", plan)
    return plan


def review_plan(
    session: Session, actor: Actor, scope: Scope, plan_id: int, data: PlanReview
) -> EmergencyPlan:
    """The agency files a submitted plan (备案, with its number) or returns it with reasons."""
    if scope.is_enterprise:
        raise Forbidden("只有监管部门可以审查备案 (only the agency reviews)", field="decision")
    plan = _writable(session, scope, plan_id)
    _filing_step(plan, data.decision)
    if data.decision == "returned" and not data.opinion.strip():
        raise Invalid("退回时请写明理由 (a return needs the reasons)", field="opinion")
    now = utcnow()
    plan.filing_state, plan.reviewed_at, plan.reviewed_by = data.decision, now, actor.username
    plan.review_opinion = data.opinion.strip()
    if data.decision == "filed":
        year = now.astimezone(CST).year
        serial = next_number(session, f"plan-filing:{plan.division_code}:{year}")
        plan.filing_number = f"{plan.division_code}-{year}-{serial:04d}"
    record_change(session, plan, entity=PLAN_ENTITY)
    _audit(session, actor, "emergency.plan.review", plan, decision=data.decision)
    return plan


def revise_plan(
    session: Session, actor: Actor, scope: Scope, plan_id: int, data: PlanRevision
) -> EmergencyPlan:
    """修订: the plan was assessed and revised; its revision clock starts again. An enterprise's
    revised plan is filed again (it goes back to 待报备)."""
    plan = _writable(session, scope, plan_id)
    if plan.filing_state == "submitted":
        raise Conflict("预案正在审查，审查后再修订 (under review)", field="filing_state")
    latest = plan.revised_on or plan.issued_on
    if data.revised_on < latest or data.revised_on > today_in_china():
        raise Invalid(
            f"修订日期应在 {latest.isoformat()} 至今天之间 (revision date out of range)",
            field="revised_on",
        )
    plan.revised_on, plan.edition = data.revised_on, plan.edition + 1
    if plan.enterprise_id is not None:
        plan.filing_state, plan.filing_number = "draft", ""
    record_change(session, plan, entity=PLAN_ENTITY)
    _audit(session, actor, "emergency.plan.revise", plan, edition=plan.edition, note=data.note)
    return plan


def _revision_cutoffs(today: date) -> tuple[date, date]:
    """A plan is overdue when last issued or revised before the first day, due soon when on or
    before the second (see :func:`revision_status`)."""
    years = effective_settings().plan_revision_years
    warn = effective_settings().plan_revision_warn_days
    return add_years(today, -years), add_years(today + timedelta(days=warn), -years)


def list_plans(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    enterprise_id: int | None = None,
    category: str | None = None,
    filing_state: str | None = None,
    revision: str | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[EmergencyPlan], int]:
    """Plans in scope: those waiting for review first, then by title."""
    stmt = of_enterprise_in(scope, EmergencyPlan, enterprise_id, division)
    stmt = in_state(
        stmt, EmergencyPlan.category, category, CATEGORIES, f"未知预案类别: {category} (unknown)"
    )
    stmt = in_state(
        stmt,
        EmergencyPlan.filing_state,
        filing_state,
        FILING_STATES,
        f"未知备案状态: {filing_state} (unknown filing state)",
    )
    if revision:
        if revision not in REVISION_FILTERS:
            raise Invalid(f"未知修订状态: {revision} (overdue | due_soon)", field="revision")
        overdue_before, soon_until = _revision_cutoffs(today_in_china())
        base = func.coalesce(EmergencyPlan.revised_on, EmergencyPlan.issued_on)
        stmt = stmt.where(
            base < overdue_before
            if revision == "overdue"
            else (base >= overdue_before) & (base <= soon_until)
        )
    if q:
        stmt = stmt.where(or_(EmergencyPlan.title.contains(q), EmergencyPlan.owner.contains(q)))
    waiting = EmergencyPlan.filing_state != "submitted"
    return paged(
        session, stmt, (waiting, EmergencyPlan.title, EmergencyPlan.id), limit=limit, offset=offset
    )


@unscoped("the resources linked to plans the caller read in scope")
def _linked(session: Session, plans: list[EmergencyPlan]) -> dict[str, EmergencyResource]:
    uids = {u for p in plans for u in p.resource_uids}
    if not uids:
        return {}
    rows = session.scalars(select(EmergencyResource).where(EmergencyResource.uid.in_(uids)))
    return {r.uid: r for r in rows}


@unscoped("the drills held of plans the caller read in scope")
def last_drills(session: Session, plan_uids: list[str]) -> dict[str, date]:
    """The day each plan (by uid) was last drilled, for those drilled at all."""
    if not plan_uids:
        return {}
    rows = session.execute(
        select(EmergencyDrill.plan_uid, func.max(EmergencyDrill.held_on))
        .where(EmergencyDrill.plan_uid.in_(plan_uids))
        .group_by(EmergencyDrill.plan_uid)
    )
    return {uid: day for uid, day in rows if day is not None}


def present(session: Session, plans: list[EmergencyPlan]) -> list[PlanRead]:
    """The user-facing views: labels and names for codes, the revision due day and status,
    the linked resources (by name, wherever they are kept) and the last drill held."""
    settings = effective_settings()
    today = today_in_china()
    divisions = division_names(session, {p.division_code for p in plans})
    ents = enterprise_names(session, {p.enterprise_id for p in plans if p.enterprise_id})
    res, held = _linked(session, plans), last_drills(session, [p.uid for p in plans])
    out = []
    for p in plans:
        due = revision_due(p.issued_on, p.revised_on, settings.plan_revision_years)
        status = revision_status(due, today, settings.plan_revision_warn_days)
        last = held.get(p.uid)
        out.append(
            copied(
                PlanRead,
                p,
                category_label=CATEGORIES.get(p.category, p.category),
                division_name=divisions.get(p.division_code, ""),
                enterprise_name=ents.get(p.enterprise_id or 0, ""),
                event_type_labels=[EVENT_TYPES.get(t, t) for t in p.event_types],
                resources=[
                    LinkedResource(
                        uid=u,
                        id=res[u].id if u in res else None,
                        name=res[u].name if u in res else "（资源不在本节点）",
                        kind_label=KIND_LABELS.get(res[u].kind, "") if u in res else "",
                    )
                    for u in p.resource_uids
                ],
                revision_due=due,
                revision_status=status,
                revision_label=REVISION_LABELS[status],
                filing_label=FILING_STATES.get(p.filing_state, p.filing_state),
                last_drill_on=last,
                drill_overdue=drill_overdue(
                    last, p.issued_on, today, settings.drill_interval_months
                ),
            )
        )
    return out
