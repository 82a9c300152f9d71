"""The node's sync status as the node page and `anjian node status` show it: each link, its
backlog and when it last spoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import prefix_of, tier_of
from anjian.core.errors import Conflict
from anjian.core.sync.links import (
    child_links,
    parent_link,
)
from anjian.core.sync.models import OutboxEntry
from anjian.core.sync.upkeep import backlog
from anjian.db import utcnow


@dataclass(frozen=True)
class LinkStatus:
    role: str
    division_code: str
    division_name: str
    node_id: str | None
    url: str | None
    revoked: bool
    last_contact_at: datetime | None
    last_error: str | None
    up_seq: int
    down_seq: int
    backlog: int | None
    lag_s: float | None


def node_status(session: Session) -> tuple[dict[str, Any], list[LinkStatus]]:
    """This node and its links, with backlog and lag toward the parent."""
    settings = get_settings()
    own = session.get(Division, settings.node_division)
    me = {
        "node_id": settings.effective_node_id,
        "division_code": settings.node_division,
        "division_name": own.name if own else "",
        "tier": tier_of(settings.node_division).value,
        "outbox_head": session.scalar(select(func.max(OutboxEntry.seq))) or 0,
    }
    out: list[LinkStatus] = []
    links = [parent_link(session), *child_links(session)]
    for link in links:
        if link is None:
            continue
        div = session.get(Division, link.division_code)
        count: int | None = None
        lag: float | None = None
        if link.role == "parent":
            count, oldest = backlog(session, link)
            lag = (utcnow() - oldest).total_seconds() if oldest else 0.0
        out.append(
            LinkStatus(
                link.role,
                link.division_code,
                div.name if div else "",
                link.node_id,
                link.url,
                link.revoked,
                link.last_contact_at,
                link.last_error,
                link.up_seq,
                link.down_seq,
                count,
                lag,
            )
        )
    return me, out


def check_parent_division(child: str, parent: str) -> None:
    """A parent must be a division above the child (or the nation)."""
    if parent == child or not child.startswith(prefix_of(parent)):
        raise Conflict(
            f"{parent} 不是 {child} 的上级行政区划 (parent must be above the node)", field="parent"
        )
