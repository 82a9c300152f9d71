"""Statistics of plans and drills (预案演练统计) in scope under a division, for one year."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from anjian.core.clock import today_in_china
from anjian.core.divisions.service import division_names
from anjian.core.listing import of_enterprise_in
from anjian.core.node_settings.service import effective_settings
from anjian.core.scope import Scope, breakdown
from anjian.emergency.plans.models import EmergencyDrill, EmergencyPlan
from anjian.emergency.plans.rules import drill_overdue, revision_due, revision_status
from anjian.emergency.plans.schemas import PlanStatistics
from anjian.emergency.plans.service import last_drills


def plan_statistics(
    session: Session, scope: Scope, *, division: str | None, year: int | None
) -> PlanStatistics:
    """Plans by category and filing state with revisions overdue or near and plans not drilled
    in time (as of today), and the year's drills (held that year, or planned for it) by form,
    state and rating, with the people who took part."""
    start, _ = breakdown(scope, division)
    today = today_in_china()
    year = year or today.year
    settings = effective_settings()
    plans = session.execute(
        of_enterprise_in(scope, EmergencyPlan, None, start).with_only_columns(
            EmergencyPlan.uid,
            EmergencyPlan.category,
            EmergencyPlan.filing_state,
            EmergencyPlan.issued_on,
            EmergencyPlan.revised_on,
        )
    ).all()
    held = last_drills(session, [p.uid for p in plans])
    revisions = Counter(
        revision_status(
            revision_due(p.issued_on, p.revised_on, settings.plan_revision_years),
            today,
            settings.plan_revision_warn_days,
        )
        for p in plans
    )
    not_drilled = sum(
        drill_overdue(held.get(p.uid), p.issued_on, today, settings.drill_interval_months)
        for p in plans
    )
    drills = [
        d
        for d in session.execute(
            of_enterprise_in(scope, EmergencyDrill, None, start).with_only_columns(
                EmergencyDrill.form,
                EmergencyDrill.state,
                EmergencyDrill.rating,
                EmergencyDrill.planned_on,
                EmergencyDrill.held_on,
                EmergencyDrill.participants,
            )
        )
        if (d.held_on or d.planned_on).year == year
    ]
    return PlanStatistics(
        division=start,
        division_name=division_names(session, {start}).get(start, ""),
        year=year,
        plans=len(plans),
        by_category=dict(Counter(p.category for p in plans)),
        by_filing_state=dict(Counter(p.filing_state for p in plans)),
        revision_overdue=revisions["overdue"],
        revision_due_soon=revisions["due_soon"],
        drill_overdue=not_drilled,
        drills=len(drills),
        drills_by_form=dict(Counter(d.form for d in drills)),
        drills_by_state=dict(Counter(d.state for d in drills)),
        drills_by_rating=dict(Counter(d.rating for d in drills if d.rating)),
        participants=sum(d.participants or 0 for d in drills),
    )
