"""Pure rules of the service desk: categories and priorities, routing by category and place
with the fall-back up the tiers, the SLA clocks (time to own, time to resolve) and when a
ticket is escalated. No I/O.

The SLA clocks are the node's settings ``desk_own_minutes`` and ``desk_resolve_minutes``; their
defaults are in the style of ITIL practice (GLPI and iTop ship similar ones), not figures from
a regulation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from anjian.core.divisions.rules import ancestors_and_self

CATEGORIES: dict[str, str] = {
    "platform": "平台",
    "network": "网络",
    "application": "应用系统",
    "data": "数据",
    "account": "账号",
    "monitoring": "监测接入",
    "other": "其他",
}
KINDS: dict[str, str] = {"request": "服务请求", "incident": "故障"}
PRIORITIES: dict[int, str] = {1: "紧急", 2: "高", 3: "中", 4: "低"}
SOURCES: dict[str, str] = {"web": "控制台", "api": "接口", "email": "邮件", "monitor": "监控告警"}

NODE_TEAM = "本节点运维组"  # who gets what no rule routes


class TicketState(StrEnum):
    NEW = "new"
    OWNED = "owned"
    RESOLVED = "resolved"
    CLOSED = "closed"


STATE_LABELS = {"new": "待受理", "owned": "处理中", "resolved": "已解决", "closed": "已关闭"}
STEP_LABELS = {"take": "受理", "resolve": "解决"}  # the steps a team above sends down
OPEN_STATES = (TicketState.NEW.value, TicketState.OWNED.value)


@dataclass(frozen=True)
class Route:
    """Where a ticket goes: the team, the division it works for, and the division whose rule
    sent it there (None: no rule, the node's own team)."""

    team: str
    team_division: str
    matched: str | None


def route(
    category: str,
    division: str,
    rules: Mapping[tuple[str, str], str],
    node_division: str,
    *,
    above: str | None = None,
) -> Route:
    """The team of a ticket of ``category`` at ``division``: the rule of that category for the
    division itself, else for the nearest division above it, else the node's own team
    (``rules``: (category, division) → team). ``above``: route past this division (an
    escalation goes to the team of a division above the one that has it)."""
    chain = list(reversed(ancestors_and_self(division)))  # the place first, the nation last
    if above is not None:
        chain = chain[chain.index(above) + 1 :] if above in chain else []
    for code in chain:
        team = rules.get((category, code))
        if team is not None:
            return Route(team, code, code)
    return Route(NODE_TEAM, node_division, None)


def due_times(
    priority: int, opened_at: datetime, own_minutes: Sequence[int], resolve_minutes: Sequence[int]
) -> tuple[datetime, datetime]:
    """When a ticket of ``priority`` (1–4) must be owned and resolved by, given the clocks of
    each priority in minutes (the settings ``desk_own_minutes`` and ``desk_resolve_minutes``)."""
    own, resolve = own_minutes[priority - 1], resolve_minutes[priority - 1]
    return opened_at + timedelta(minutes=own), opened_at + timedelta(minutes=resolve)


def breach(
    now: datetime,
    state: str,
    own_due: datetime,
    resolve_due: datetime,
) -> str | None:
    """Which clock an open ticket has run past — ``"own"`` (nobody took it in time),
    ``"resolve"`` (not resolved in time) — or None."""
    if state == TicketState.NEW and now > own_due:
        return "own"
    if state in OPEN_STATES and now > resolve_due:
        return "resolve"
    return None


def escalation_due(
    now: datetime,
    state: str,
    own_due: datetime,
    resolve_due: datetime,
    escalated_for: str | None,
) -> str | None:
    """The breach to escalate now: a clock run out that was not escalated already (each clock
    is escalated once: an unowned ticket, then an unresolved one)."""
    found = breach(now, state, own_due, resolve_due)
    return found if found is not None and found != escalated_for else None
