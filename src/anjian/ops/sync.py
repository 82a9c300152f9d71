"""How operations' records cross nodes: each node's health report and the service desk's
tickets travel up the tiers (read-only above); a step a team above takes on a ticket travels
down to the ticket's node, which applies it."""

from __future__ import annotations

from anjian.core.sync.registry import SyncSpec, register
from anjian.ops.desk.models import STEP_ENTITY, TICKET_ENTITY, Ticket, TicketStep
from anjian.ops.desk.service import apply_steps
from anjian.ops.models import HEALTH_ENTITY, NodeHealth

register(SyncSpec(HEALTH_ENTITY, NodeHealth, division_attr="division_code"))
register(SyncSpec(TICKET_ENTITY, Ticket, division_attr="division_code"))
register(
    SyncSpec(
        STEP_ENTITY,
        TicketStep,
        division_attr="division_code",
        downward=True,
        on_applied=apply_steps,
    )
)
