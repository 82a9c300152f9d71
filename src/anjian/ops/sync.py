"""How operations' records cross nodes: each node's health report travels up the tiers."""

from __future__ import annotations

from anjian.core.sync.registry import SyncSpec, register
from anjian.ops.models import HEALTH_ENTITY, NodeHealth

register(SyncSpec(HEALTH_ENTITY, NodeHealth, division_attr="division_code"))
