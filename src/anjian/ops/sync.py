"""How operations' records cross nodes: each node's health report and the service desk's
tickets travel up the tiers (read-only above: the desk that has a ticket works it)."""

from __future__ import annotations

from anjian.core.sync.registry import SyncSpec, register
from anjian.ops.desk.models import TICKET_ENTITY, Ticket
from anjian.ops.models import HEALTH_ENTITY, NodeHealth

register(SyncSpec(HEALTH_ENTITY, NodeHealth, division_attr="division_code"))
register(SyncSpec(TICKET_ENTITY, Ticket, division_attr="division_code"))
