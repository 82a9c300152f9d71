"""Inbox source of online monitoring (在线监测, see ``anjian.core.inbox``): the alarms nobody
has acknowledged (待确认) in the user's scope — an agency's jurisdiction or the enterprise's
own points — the longest waiting first. The home page keeps the section live from the alarm
board's stream, whose events carry each alarm as an inbox item (:func:`item_of`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from anjian.core.iam.deps import Context
from anjian.core.inbox import AGENCY, ENTERPRISE, Found, InboxItem, source
from anjian.core.paging import paged
from anjian.monitoring.alarms import present_alarms
from anjian.monitoring.models import Alarm
from anjian.monitoring.rules import AlarmStateName
from anjian.monitoring.schemas import AlarmRead

KEY = "alarms.unacknowledged"


def item_of(view: AlarmRead) -> InboxItem:
    """An alarm as an inbox item: what it crossed (the set point's name, as on the board's
    badge), at which point and enterprise."""
    point = view.point_name or view.point_code or "监测系统"
    return InboxItem(
        title=f"{view.bound_label} · {point}",
        detail=view.enterprise_name,
        url=f"/monitoring/alarms/{view.id}",
        since=view.raised_at,
    )


def item_json(view: AlarmRead) -> dict[str, Any]:
    """The inbox item of an alarm for the live stream (JSON)."""
    item = item_of(view)
    return {
        "title": item.title,
        "detail": item.detail,
        "url": item.url,
        "since": item.since.isoformat() if item.since else None,
    }


@source(
    KEY,
    "待确认的报警",
    AGENCY,
    ENTERPRISE,
    order=50,
    empty="没有待确认的报警。新报警会实时出现在这里。",
    link="/monitoring?state=raised",
    live=True,
)
def alarms_to_acknowledge(ctx: Context, limit: int) -> Found:
    """Alarms raised and not acknowledged (确认), the longest waiting first."""
    stmt = ctx.scope.select(Alarm).where(Alarm.state == AlarmStateName.RAISED.value)
    alarms, total = paged(ctx.db, stmt, (Alarm.raised_at, Alarm.id), limit=limit)
    items = [item_of(v) for v in present_alarms(ctx.db, alarms)]
    if ctx.scope.is_enterprise:  # their own enterprise on every line says nothing
        items = [replace(item, detail="") for item in items]
    return Found(total, items)
