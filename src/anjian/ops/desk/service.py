"""Use cases of the service desk (服务台): routing rules, tickets opened, owned, resolved,
closed and rated, the clocks escalated, incidents opened from the nodes' own health, and the
statistics. Every write is audited; tickets are synced up (the desk that has one works it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import SYSTEM, Actor, audit, audit_record
from anjian.core.counters import next_number
from anjian.core.divisions.rules import parent_candidates
from anjian.core.divisions.service import get_division
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.paging import Total, paged
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import record_change
from anjian.db import utcnow
from anjian.ops.desk.models import STEP_ENTITY, TICKET_ENTITY, RoutingRule, Ticket, TicketStep
from anjian.ops.desk.rules import (
    OPEN_STATES,
    TicketState,
    due_times,
    escalation_due,
    route,
)
from anjian.ops.health import subtree
from anjian.ops.models import NodeHealth

MONITOR_PRIORITY = 2  # an incident the nodes' health opened


def routing_table(session: Session) -> dict[tuple[str, str], str]:
    """(category, division) → team, every rule of this node."""
    return {(r.category, r.division_code): r.team for r in session.scalars(select(RoutingRule))}


def set_rule(session: Session, actor: Actor, category: str, division: str, team: str) -> None:
    """Route ``category`` at ``division`` (and below, where no nearer rule) to ``team``; an
    empty team removes the rule."""
    if get_division(session, division) is None:
        raise Invalid(f"行政区划不存在: {division} (no such division)", field="division_code")
    rule = session.scalars(
        select(RoutingRule).where(
            RoutingRule.category == category, RoutingRule.division_code == division
        )
    ).first()
    if not team.strip():
        if rule is not None:
            session.delete(rule)
    elif rule is None:
        session.add(RoutingRule(category=category, division_code=division, team=team.strip()))
    else:
        rule.team = team.strip()
    session.flush()
    audit(
        session,
        actor,
        "ticket.route",
        object_type="routing_rule",
        object_id=f"{category}@{division}",
        division_code=division,
        detail={"team": team.strip()},
    )


def open_ticket(
    session: Session,
    actor: Actor,
    scope: Scope | None,
    fields: dict[str, Any],
    *,
    source: str,
    cause: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a request or incident at a division of the caller's jurisdiction (``scope`` None:
    the system), routed to its team, with its clocks set by its priority."""
    division = fields["division_code"]
    if get_division(session, division) is None:
        raise Invalid(f"行政区划不存在: {division} (no such division)", field="division_code")
    if scope is not None and not scope.covers(division_code=division):
        raise Forbidden(f"行政区划不在管辖范围内: {division} (outside your jurisdiction)")
    now = now or utcnow()
    settings = get_settings()
    found = route(fields["category"], division, routing_table(session), settings.node_division)
    own_due, resolve_due = due_times(
        fields["priority"], now, settings.desk_own_minutes, settings.desk_resolve_minutes
    )
    number = next_number(session, f"ticket:{settings.node_division}")
    ticket = Ticket(
        number=f"YW-{settings.node_division}-{now:%Y}-{number:05d}",
        kind=fields["kind"],
        category=fields["category"],
        division_code=division,
        priority=fields["priority"],
        title=fields["title"].strip(),
        description=fields.get("description") or "",
        requester=fields.get("requester") or actor.username,
        source=source,
        cause=cause,
        team=found.team,
        team_division=found.team_division,
        state=TicketState.NEW.value,
        owner="",
        opened_at=now,
        own_due_at=own_due,
        resolve_due_at=resolve_due,
        resolution="",
        escalations=0,
        knowledge=[],
        feedback="",
    )
    record_change(session, ticket, entity=TICKET_ENTITY)
    session.flush()
    audit_record(
        session,
        actor,
        "ticket.open",
        "ticket",
        ticket,
        detail={"number": ticket.number, "team": ticket.team, "source": source},
    )
    return ticket


def _own(session: Session, scope: Scope, ticket_id: int) -> Ticket:
    """A ticket of the caller's jurisdiction that this node keeps (only its desk works it)."""
    ticket = scope.one(session, Ticket, ticket_id)
    if ticket.origin_node != get_settings().effective_node_id:
        raise Forbidden(
            f"工单 {ticket.number} 由节点 {ticket.origin_node} 受理, 此处只读 "
            "(the ticket is worked at the node that has it)"
        )
    return ticket


def _changed(session: Session, actor: Actor, ticket: Ticket, action: str, **detail: Any) -> Ticket:
    record_change(session, ticket, entity=TICKET_ENTITY)
    audit_record(
        session, actor, action, "ticket", ticket, detail={"number": ticket.number, **detail}
    )
    return ticket


def kept_here(ticket: Ticket) -> bool:
    """Whether this node keeps the ticket (and changes it)."""
    return ticket.origin_node == get_settings().effective_node_id


def team_here(ticket: Ticket) -> bool:
    """Whether a ticket kept below was routed to this node's team (it works it by steps)."""
    return not kept_here(ticket) and ticket.team_division == get_settings().node_division


def pending_steps(session: Session, scope: Scope, ticket: Ticket) -> dict[str, TicketStep]:
    """The steps this node's team sent down on a ticket kept below that the ticket, as it last
    came up, does not show yet — 受理 while it is still new, 解决 while it is still open — by
    step: what is on its way, not to be sent again."""
    if not team_here(ticket):
        return {}
    node = get_settings().effective_node_id
    waiting: dict[str, TicketStep] = {}
    for sent in session.scalars(
        scope.select(TicketStep)
        .where(
            TicketStep.ticket_uid == ticket.uid,
            TicketStep.origin_node == node,
            TicketStep.deleted.is_(False),
        )
        .order_by(TicketStep.taken_at)
    ):
        if ticket.state in OPEN_STATES and (
            sent.step == "resolve" or ticket.state == TicketState.NEW
        ):
            waiting[sent.step] = sent
    return waiting


def _step_down(
    session: Session,
    actor: Actor,
    scope: Scope,
    ticket: Ticket,
    step: str,
    note: str = "",
    knowledge: list[str] | None = None,
) -> Ticket:
    """A step of this node's team on a ticket kept below: sent down to the ticket's node, once
    (a step already on its way is refused, not sent again)."""
    if not team_here(ticket):
        raise Forbidden(
            f"工单 {ticket.number} 由节点 {ticket.origin_node} 受理, 此处只读 "
            "(the ticket is worked at the node that has it)"
        )
    waiting = pending_steps(session, scope, ticket)
    if step in waiting or "resolve" in waiting:
        raise Conflict(
            f"已发往工单所在节点 {ticket.origin_node}，等待其处理: {ticket.number} "
            "(a step is already on its way to the node that keeps the ticket)"
        )
    node = get_settings().effective_node_id
    sent = TicketStep(
        ticket_uid=ticket.uid,
        division_code=ticket.division_code,
        step=step,
        by=f"{actor.username}@{node}"[:100],
        note=note.strip(),
        knowledge=list(knowledge or []),
        taken_at=utcnow(),
    )
    record_change(session, sent, entity=STEP_ENTITY)
    audit_record(
        session,
        actor,
        "ticket.step",
        "ticket",
        ticket,
        detail={"number": ticket.number, "step": step, "to": ticket.origin_node},
    )
    return ticket


def take_ticket(session: Session, actor: Actor, scope: Scope, ticket_id: int) -> Ticket:
    """受理: the caller owns a new ticket (the time-to-own clock stops); on a ticket kept below
    that was routed to this node's team, the step is sent down to the ticket's node."""
    ticket = scope.one(session, Ticket, ticket_id)
    if ticket.state != TicketState.NEW:
        raise Conflict(f"工单已受理或已解决: {ticket.number} (only a new ticket is taken)")
    if not kept_here(ticket):
        return _step_down(session, actor, scope, ticket, "take")
    ticket.state, ticket.owner, ticket.owned_at = TicketState.OWNED.value, actor.username, utcnow()
    return _changed(session, actor, ticket, "ticket.take")


def resolve_ticket(
    session: Session,
    actor: Actor,
    scope: Scope,
    ticket_id: int,
    resolution: str,
    knowledge: list[str],
) -> Ticket:
    """解决: what was done, and the knowledge-base articles that helped (a new ticket is owned
    by whoever resolves it); on a ticket kept below, sent down as :func:`take_ticket`."""
    ticket = scope.one(session, Ticket, ticket_id)
    if ticket.state not in OPEN_STATES:
        raise Conflict(f"工单已解决或已关闭: {ticket.number} (the ticket is not open)")
    if not kept_here(ticket):
        return _step_down(session, actor, scope, ticket, "resolve", resolution, knowledge)
    now = utcnow()
    if ticket.state == TicketState.NEW:
        ticket.owner, ticket.owned_at = actor.username, now
    ticket.state, ticket.resolved_at = TicketState.RESOLVED.value, now
    ticket.resolution, ticket.knowledge = resolution.strip(), list(knowledge)
    return _changed(session, actor, ticket, "ticket.resolve")


def close_ticket(session: Session, actor: Actor, scope: Scope, ticket_id: int) -> Ticket:
    """关闭: a resolved ticket closed (the requester agrees, or the desk after a while)."""
    ticket = _own(session, scope, ticket_id)
    if ticket.state != TicketState.RESOLVED:
        raise Conflict(f"只有已解决的工单可以关闭: {ticket.number} (resolve it first)")
    ticket.state, ticket.closed_at = TicketState.CLOSED.value, utcnow()
    return _changed(session, actor, ticket, "ticket.close")


def rate_ticket(
    session: Session, actor: Actor, scope: Scope, ticket_id: int, satisfaction: int, feedback: str
) -> Ticket:
    """满意度: the requester's rating (1–5) of a resolved or closed ticket, once."""
    ticket = _own(session, scope, ticket_id)
    if ticket.state not in (TicketState.RESOLVED, TicketState.CLOSED):
        raise Conflict(f"工单解决后才能评价: {ticket.number} (rate a resolved ticket)")
    if ticket.satisfaction is not None:
        raise Conflict(f"工单已评价: {ticket.number} (already rated)")
    ticket.satisfaction, ticket.feedback = satisfaction, feedback.strip()
    return _changed(session, actor, ticket, "ticket.rate", satisfaction=satisfaction)


@unscoped("a background job: the desk's own open tickets")
def escalate_overdue(session: Session, now: datetime | None = None) -> list[Ticket]:
    """Escalate each open ticket of this node whose clock ran out (once per clock) to the team
    of the division above the one that has it (升级); the tickets escalated."""
    now = now or utcnow()
    node = get_settings()
    rules = routing_table(session)
    done = []
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.state.in_(OPEN_STATES), Ticket.origin_node == node.effective_node_id
        )
    ):
        clock = escalation_due(
            now, ticket.state, ticket.own_due_at, ticket.resolve_due_at, ticket.escalated_for
        )
        if clock is None:
            continue
        above = route(
            ticket.category,
            ticket.division_code,
            rules,
            node.node_division,
            above=ticket.team_division,
        )
        was = ticket.team
        if above.matched is not None:
            ticket.team, ticket.team_division = above.team, above.team_division
        ticket.escalations += 1
        ticket.escalated_for = clock
        done.append(_changed(session, SYSTEM, ticket, "ticket.escalate", clock=clock, was=was))
    return done


@unscoped("a background job: the node's own subtree health")
def incidents_from_health(session: Session, now: datetime | None = None) -> list[Ticket]:
    """Open an incident for each red problem (失联, 转发滞后) of this node or of a node directly
    below it — the node above a node is the one that acts on it; a node further down is its own
    parent's, unless that parent reports no health here — once per cause: no new one while the
    last for that cause is open."""
    node = get_settings()
    whole = Scope.for_division(None, "node", [node.node_division])
    judged_all = subtree(session, whole)
    known = {j.health.division_code for j in judged_all} | {node.node_division}
    opened = []
    for judged in judged_all:
        health: NodeHealth = judged.health
        above = next((p for p in parent_candidates(health.division_code) if p in known), None)
        if health.division_code != node.node_division and above != node.node_division:
            continue  # the node between us opens it
        for severity, label in judged.problems:
            if severity != "red":
                continue
            cause = f"node:{health.origin_node}:{label}"
            exists = session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.cause == cause, Ticket.state.in_(OPEN_STATES))
            )
            if exists:
                continue
            fields = {
                "kind": "incident",
                "category": "platform",
                "division_code": health.division_code,
                "priority": MONITOR_PRIORITY,
                "title": f"节点 {health.node_id} {label}",
                "description": (
                    f"节点健康报告: {label}; 最近报告 {health.reported_at:%Y-%m-%d %H:%M:%S} UTC, "
                    f"转发积压 {health.backlog}, 滞后 {health.lag_s} 秒"
                ),
                "requester": "监控",
            }
            opened.append(
                open_ticket(session, SYSTEM, None, fields, source="monitor", cause=cause, now=now)
            )
    return opened


def list_tickets(
    session: Session,
    scope: Scope,
    *,
    state: str | None = None,
    team: str | None = None,
    category: str | None = None,
    division: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Ticket], Total]:
    """The tickets of the caller's jurisdiction, the most urgent open ones first."""
    stmt = scope.select(Ticket)
    if state == "open":
        stmt = stmt.where(Ticket.state.in_(OPEN_STATES))
    elif state:
        stmt = stmt.where(Ticket.state == state)
    if team:
        stmt = stmt.where(Ticket.team == team)
    if category:
        stmt = stmt.where(Ticket.category == category)
    if division:
        stmt = stmt.where(Scope.for_division(None, "node", [division]).within(Ticket.division_code))
    order = (Ticket.priority, Ticket.resolve_due_at, Ticket.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def statistics(
    session: Session, scope: Scope, since: datetime, until: datetime, by: str
) -> list[dict[str, Any]]:
    """Tickets opened in [since, until) by ``by`` (team, category or division_code): how many,
    resolved, escalated, the mean hours to resolve and the mean satisfaction."""
    column = {"team": Ticket.team, "category": Ticket.category, "division": Ticket.division_code}[
        by
    ]
    hours = func.avg(
        (func.julianday(Ticket.resolved_at) - func.julianday(Ticket.opened_at)) * 24
        if session.get_bind().dialect.name == "sqlite"
        else func.extract("epoch", Ticket.resolved_at - Ticket.opened_at) / 3600
    )
    stmt = (
        scope.select(
            Ticket,
            column,
            func.count(),
            func.count(Ticket.resolved_at),
            func.sum(Ticket.escalations),
            hours,
            func.avg(Ticket.satisfaction),
        )
        .where(Ticket.opened_at >= since, Ticket.opened_at < until)
        .group_by(column)
        .order_by(column)
    )
    return [
        {
            "key": key,
            "opened": opened,
            "resolved": resolved,
            "escalations": int(escalated or 0),
            "mean_hours_to_resolve": round(float(h), 2) if h is not None else None,
            "mean_satisfaction": round(float(s), 2) if s is not None else None,
        }
        for key, opened, resolved, escalated, h, s in session.execute(stmt)
    ]


@unscoped("the sync engine: steps that came down for tickets this node keeps")
def apply_steps(session: Session, uids: list[str]) -> None:
    """Apply the steps ``uids`` that just arrived from a team above to the tickets this node
    keeps (others pass on down); a step the ticket's state no longer allows (taken meanwhile
    here) is left, the ticket shows what happened."""
    for sent in session.scalars(
        select(TicketStep).where(TicketStep.uid.in_(uids), TicketStep.deleted.is_(False))
    ):
        ticket = session.scalars(select(Ticket).where(Ticket.uid == sent.ticket_uid)).first()
        if ticket is None or not kept_here(ticket):
            continue
        actor = Actor(user_id=None, username=sent.by, ip="sync")
        if sent.step == "take" and ticket.state == TicketState.NEW:
            ticket.state, ticket.owner = TicketState.OWNED.value, sent.by
            ticket.owned_at = sent.taken_at
            _changed(session, actor, ticket, "ticket.take")
        elif sent.step == "resolve" and ticket.state in OPEN_STATES:
            if ticket.state == TicketState.NEW:
                ticket.owner, ticket.owned_at = sent.by, sent.taken_at
            ticket.state, ticket.resolved_at = TicketState.RESOLVED.value, sent.taken_at
            ticket.resolution, ticket.knowledge = sent.note, list(sent.knowledge or [])
            _changed(session, actor, ticket, "ticket.resolve")
