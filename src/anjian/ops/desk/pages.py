"""服务台 console pages: the desk's tickets (the open ones first, with their clocks), opening a
ticket, and one ticket with the steps its state allows — take, resolve, close, rate — offered
only where they would be accepted (an open ticket, at the node that has it).

Everything goes through the desk's service with the user's scope, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from anjian.core.divisions import service as divisions
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.db import utcnow
from anjian.ops.desk import service
from anjian.ops.desk.models import Ticket
from anjian.ops.desk.rules import (
    CATEGORIES,
    KINDS,
    OPEN_STATES,
    PRIORITIES,
    SOURCES,
    STATE_LABELS,
    STEP_LABELS,
    TicketState,
    breach,
)
from anjian.ops.desk.schemas import TicketCreate, TicketRate, TicketResolve
from anjian.web.forms import FormPage, field_errors, posted_form
from anjian.web.layout import division_name, page
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx, refused

router = pages_router(Path(__file__).parent / "templates")

STATE_BADGES = {
    "new": "bg-yellow-lt",
    "owned": "bg-blue-lt",
    "resolved": "bg-green-lt",
    "closed": "bg-secondary-lt",
}
PRIORITY_BADGES = {
    1: "bg-red text-white",
    2: "bg-orange text-white",
    3: "bg-azure-lt",
    4: "bg-secondary-lt",
}


def _row(ctx: Context, t: Ticket) -> dict[str, Any]:
    late = breach(utcnow(), t.state, t.own_due_at, t.resolve_due_at)
    return {
        "t": t,
        "kind": KINDS.get(t.kind, t.kind),
        "category": CATEGORIES.get(t.category, t.category),
        "place": division_name(ctx.db, t.division_code),
        "team_place": division_name(ctx.db, t.team_division),
        "priority": PRIORITIES.get(t.priority, str(t.priority)),
        "priority_badge": PRIORITY_BADGES.get(t.priority, "bg-secondary-lt"),
        "state": STATE_LABELS.get(t.state, t.state),
        "state_badge": STATE_BADGES.get(t.state, "bg-secondary-lt"),
        "source": SOURCES.get(t.source, t.source),
        "late": {"own": "未按时受理", "resolve": "未按时解决"}.get(late or ""),
        "late_clock": late,
        "due": t.own_due_at if t.state == TicketState.NEW else t.resolve_due_at,
    }


def _offers(ctx: Context, t: Ticket) -> dict[str, Any]:
    """What the ticket's page offers: the steps its state allows here, less those sent down
    and not yet seen applied (shown as on their way)."""
    here = service.kept_here(t)
    ours = here or service.team_here(t)  # take and resolve: here, or as steps sent down
    waiting = service.pending_steps(ctx.db, ctx.scope, t)
    return {
        "here": here,
        "ours": ours,
        "may_take": ours and t.state == TicketState.NEW and not waiting,
        "may_resolve": ours and t.state in OPEN_STATES and "resolve" not in waiting,
        "waiting": [(STEP_LABELS[step], sent.by, sent.taken_at) for step, sent in waiting.items()],
        "may_close": here and t.state == TicketState.RESOLVED,
        "may_rate": here and t.state in ("resolved", "closed") and t.satisfaction is None,
    }


@router.get("/desk")
def desk(request: Request, ctx: StaffPageCtx, show: str = "open") -> Response:
    """服务台: the tickets of the jurisdiction, the open ones first by urgency."""
    state = "open" if show == "open" else None
    tickets, total = service.list_tickets(ctx.db, ctx.scope, state=state, limit=200)
    return page(
        request,
        ctx,
        "desk/list.html",
        {"rows": [_row(ctx, t) for t in tickets], "total": total, "show": show},
        active="desk",
    )


_new_page = FormPage(
    "desk/new.html",
    "desk",
    lambda ctx: {
        "kinds": KINDS,
        "categories": list(CATEGORIES.items()),
        "priorities": [(str(k), v) for k, v in PRIORITIES.items()],
        "places": divisions.own_and_children(ctx.db, ctx.user.division_code, ctx.scope),
    },
)
_FIELDS = ("kind", "category", "division_code", "priority", "title", "description")


@router.get("/desk/new")
def desk_new(request: Request, ctx: StaffPageCtx) -> Response:
    """The form to open a ticket."""
    values = {f: "" for f in _FIELDS} | {
        "kind": "incident",
        "priority": "3",
        "division_code": ctx.user.division_code,
    }
    return _new_page(request, ctx, values)


@router.post("/desk/new")
async def desk_open(request: Request, ctx: StaffPageCtx) -> Response:
    """Open the ticket of the form; errors are shown at their fields."""
    form = await posted_form(request)
    values = {f: form.get(f, "") for f in _FIELDS}
    try:
        data = TicketCreate.model_validate({k: v.strip() for k, v in values.items()})
    except ValidationError as exc:
        return _new_page(request, ctx, values, field_errors(exc), status_code=422)
    try:
        ticket = service.open_ticket(ctx.db, ctx.actor, ctx.scope, data.model_dump(), source="web")
    except AnjianError as exc:
        return _new_page(request, ctx, values, refused(request, ctx, exc), status_code=exc.status)
    return RedirectResponse(f"/desk/{ticket.id}?done=opened", status_code=303)


def _detail(
    request: Request, ctx: Context, t: Ticket, errors: dict[str, str] | None = None, code: int = 200
) -> Response:
    return page(
        request,
        ctx,
        "desk/detail.html",
        {
            **_row(ctx, t),
            **_offers(ctx, t),
            "errors": errors or {},
            "done": request.query_params.get("done", ""),
        },
        active="desk",
        status_code=code,
    )


@router.get("/desk/{ticket_id}")
def desk_ticket(request: Request, ticket_id: int, ctx: StaffPageCtx) -> Response:
    """One ticket with its clocks and the steps its state allows."""
    return _detail(request, ctx, ctx.scope.one(ctx.db, Ticket, ticket_id))


@router.post("/desk/{ticket_id}/{step}")
async def desk_step(request: Request, ticket_id: int, step: str, ctx: StaffPageCtx) -> Response:
    """受理 / 解决 / 关闭 / 评价 from the ticket's page."""
    form = await posted_form(request)
    try:
        if step == "take":
            service.take_ticket(ctx.db, ctx.actor, ctx.scope, ticket_id)
        elif step == "resolve":
            links = [line.strip() for line in form.get("knowledge", "").splitlines()]
            body = TicketResolve.model_validate(
                {"resolution": form.get("resolution", ""), "knowledge": [x for x in links if x]}
            )
            service.resolve_ticket(
                ctx.db, ctx.actor, ctx.scope, ticket_id, body.resolution, body.knowledge
            )
        elif step == "close":
            service.close_ticket(ctx.db, ctx.actor, ctx.scope, ticket_id)
        elif step == "rate":
            rated = TicketRate.model_validate(
                {
                    "satisfaction": form.get("satisfaction") or 0,
                    "feedback": form.get("feedback", ""),
                }
            )
            service.rate_ticket(
                ctx.db, ctx.actor, ctx.scope, ticket_id, rated.satisfaction, rated.feedback
            )
        else:
            return _detail(request, ctx, ctx.scope.one(ctx.db, Ticket, ticket_id), code=404)
    except ValidationError as exc:
        ticket = ctx.scope.one(ctx.db, Ticket, ticket_id)
        return _detail(request, ctx, ticket, field_errors(exc), 422)
    except AnjianError as exc:
        if exc.status == 404:
            raise
        errors = refused(request, ctx, exc)
        return _detail(request, ctx, ctx.scope.one(ctx.db, Ticket, ticket_id), errors, exc.status)
    done = step if service.kept_here(ctx.scope.one(ctx.db, Ticket, ticket_id)) else "sent"
    return RedirectResponse(f"/desk/{ticket_id}?done={done}", status_code=303)
