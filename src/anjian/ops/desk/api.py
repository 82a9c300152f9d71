"""The service desk's API (服务台): tickets, their steps, routing rules and statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select

from anjian.core.errors import Invalid
from anjian.core.iam.deps import AdminCtx, StaffCtx
from anjian.core.paging import Paging
from anjian.db import utcnow
from anjian.ops.desk import service
from anjian.ops.desk.mail import MailRefused, read_mail
from anjian.ops.desk.models import RoutingRule, Ticket
from anjian.ops.desk.rules import breach
from anjian.ops.desk.schemas import (
    RuleRead,
    RuleSet,
    StatRow,
    TicketCreate,
    TicketPage,
    TicketRate,
    TicketRead,
    TicketResolve,
)

router = APIRouter(prefix="/api/v1/ops", tags=["运维 operations"])


def _read(ticket: Ticket) -> TicketRead:
    out = TicketRead.model_validate(ticket)
    out.breach = breach(utcnow(), ticket.state, ticket.own_due_at, ticket.resolve_due_at)
    return out


@router.post("/tickets", response_model=TicketRead, status_code=201, summary="提交工单")
def open_ticket(body: TicketCreate, ctx: StaffCtx) -> TicketRead:
    """A request or incident at a division of the caller's jurisdiction, routed to its team by
    the routing rules (the nearest division up the tiers that has one), its clocks set by its
    priority."""
    return _read(service.open_ticket(ctx.db, ctx.actor, ctx.scope, body.model_dump(), source="api"))


@router.post(
    "/tickets/mail",
    response_model=TicketRead,
    status_code=201,
    summary="邮件受理 (a ticket from an e-mail message)",
)
def ticket_from_mail(
    raw: Annotated[bytes, Body(media_type="message/rfc822", description="邮件原文 (RFC 5322)")],
    ctx: StaffCtx,
) -> TicketRead:
    """A mail relay posts each message as it arrived (at most 1 MB): the subject is the title,
    tags in square brackets set the category (``[网络]``), the priority (``[紧急]``) and the
    place (``[140622]``; else the posting account's division), the first text part is the
    description and the sender the requester."""
    try:
        mail = read_mail(raw)
    except MailRefused as exc:
        raise Invalid(str(exc), field="body") from None
    fields = {
        "kind": "request",
        "category": mail.category,
        "division_code": mail.division_code or ctx.user.division_code,
        "priority": mail.priority,
        "title": mail.title,
        "description": mail.description,
        "requester": mail.requester,
    }
    return _read(service.open_ticket(ctx.db, ctx.actor, ctx.scope, fields, source="email"))


@router.get("/tickets", response_model=TicketPage, summary="工单列表")
def list_tickets(
    ctx: StaffCtx,
    paging: Paging,
    state: Annotated[str | None, Query(description="new|owned|resolved|closed|open")] = None,
    team: str | None = None,
    category: str | None = None,
    division: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> TicketPage:
    """The tickets of the caller's jurisdiction (those of the nodes below, read-only here), the
    most urgent open ones first."""
    items, total = service.list_tickets(
        ctx.db,
        ctx.scope,
        state=state,
        team=team,
        category=category,
        division=division,
        limit=paging.size,
        offset=paging.offset,
    )
    return TicketPage(total=total, items=[_read(t) for t in items])


@router.get("/tickets/stats", response_model=list[StatRow], summary="工单统计")
def ticket_stats(
    ctx: StaffCtx,
    by: Literal["team", "category", "division"] = "team",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[StatRow]:
    """Tickets opened in the period (default: the last 30 days) by team, category or division:
    opened, resolved, escalations, mean hours to resolve, mean satisfaction."""
    until = until or utcnow()
    since = since or until - timedelta(days=30)
    rows = service.statistics(ctx.db, ctx.scope, since, until, by)
    return [StatRow(**row) for row in rows]


@router.get("/tickets/{ticket_id}", response_model=TicketRead, summary="工单详情")
def get_ticket(ticket_id: int, ctx: StaffCtx) -> TicketRead:
    return _read(ctx.scope.one(ctx.db, Ticket, ticket_id))


def _stepped(ticket: Ticket, response: Response) -> TicketRead:
    """A ticket kept below: the step went down to its node (202, the ticket as it still is)."""
    if not service.kept_here(ticket):
        response.status_code = 202
    return _read(ticket)


@router.post(
    "/tickets/{ticket_id}/take",
    response_model=TicketRead,
    summary="受理",
    responses={202: {"description": "工单由下级节点保管: 受理已发往该节点"}},
)
def take(ticket_id: int, ctx: StaffCtx, response: Response) -> TicketRead:
    """Take a new ticket. A ticket kept at a node below that was routed to this node's team is
    taken there: the step travels down (202) and the ticket comes back up owned."""
    return _stepped(service.take_ticket(ctx.db, ctx.actor, ctx.scope, ticket_id), response)


@router.post(
    "/tickets/{ticket_id}/resolve",
    response_model=TicketRead,
    summary="解决",
    responses={202: {"description": "工单由下级节点保管: 解决已发往该节点"}},
)
def resolve(ticket_id: int, body: TicketResolve, ctx: StaffCtx, response: Response) -> TicketRead:
    """Resolve an open ticket (as :func:`take` for a ticket kept below)."""
    ticket = service.resolve_ticket(
        ctx.db, ctx.actor, ctx.scope, ticket_id, body.resolution, body.knowledge
    )
    return _stepped(ticket, response)


@router.post("/tickets/{ticket_id}/close", response_model=TicketRead, summary="关闭")
def close(ticket_id: int, ctx: StaffCtx) -> TicketRead:
    return _read(service.close_ticket(ctx.db, ctx.actor, ctx.scope, ticket_id))


@router.post("/tickets/{ticket_id}/rate", response_model=TicketRead, summary="评价")
def rate(ticket_id: int, body: TicketRate, ctx: StaffCtx) -> TicketRead:
    ticket = service.rate_ticket(
        ctx.db, ctx.actor, ctx.scope, ticket_id, body.satisfaction, body.feedback
    )
    return _read(ticket)


@router.get("/routing", response_model=list[RuleRead], summary="分派规则")
def list_rules(ctx: StaffCtx) -> list[RuleRead]:
    rules = ctx.db.scalars(select(RoutingRule).order_by(RoutingRule.division_code))
    return [
        RuleRead(category=r.category, division_code=r.division_code, team=r.team) for r in rules
    ]


@router.put("/routing", response_model=list[RuleRead], summary="设置分派规则")
def set_rule(body: RuleSet, ctx: AdminCtx) -> list[RuleRead]:
    """Route a category at a division (and below) to a team; an empty team removes the rule
    (administrators)."""
    service.set_rule(ctx.db, ctx.actor, body.category, body.division_code, body.team)
    return list_rules(ctx)
