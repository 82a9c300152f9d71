"""The service desk (服务台): tickets routed by category and place with the fall-back up the
tiers, their clocks and escalation to the team above, the steps a ticket goes through (each
audited), incidents opened from the nodes' health once per cause, statistics, scope and bad
input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from anjian.config import Settings
from anjian.db import utcnow
from anjian.ops.desk.rules import NODE_TEAM, breach, due_times, escalation_due, route
from samples import node_health, ticket_from_below

API = "/api/v1/ops"


def test_routing_falls_back_up_the_tiers() -> None:
    rules = {
        ("network", "140622"): "应县网络组",
        ("network", "140000"): "省网络中心",
        ("application", "140600"): "朔州应用组",
    }
    table = [
        ("network", "140622", None, ("应县网络组", "140622")),
        ("network", "140621", None, ("省网络中心", "140000")),  # no county or city rule
        ("application", "140622", None, ("朔州应用组", "140600")),
        ("data", "140622", None, (NODE_TEAM, "140000")),  # no rule at all: the node's team
        ("network", "140622", "140622", ("省网络中心", "140000")),  # escalated past the county
        ("network", "140622", "140000", (NODE_TEAM, "140000")),  # nothing above the province
    ]
    for category, division, above, (team, where) in table:
        got = route(category, division, rules, "140000", above=above)
        assert (got.team, got.team_division) == (team, where), (category, division, above)


def test_clocks_and_escalation_by_the_table() -> None:
    t0 = datetime(2026, 12, 7, 8, tzinfo=UTC)
    defaults = Settings()
    clocks = (defaults.desk_own_minutes, defaults.desk_resolve_minutes)
    own, resolve = due_times(1, t0, *clocks)
    assert (own - t0, resolve - t0) == (timedelta(minutes=15), timedelta(hours=4))
    assert due_times(4, t0, *clocks)[1] - t0 == timedelta(days=10)
    assert due_times(3, t0, [1, 2, 90, 4], [5, 6, 120, 8]) == (
        t0 + timedelta(minutes=90),
        t0 + timedelta(hours=2),
    )
    minute = timedelta(minutes=1)
    table = [
        (t0 + 10 * minute, "new", None, None),
        (t0 + 16 * minute, "new", None, "own"),
        (t0 + 16 * minute, "new", "own", None),  # escalated once already
        (t0 + 16 * minute, "owned", None, None),  # owned late but owned
        (t0 + 5 * 60 * minute, "owned", "own", "resolve"),
        (t0 + 5 * 60 * minute, "owned", "resolve", None),
        (t0 + 5 * 60 * minute, "resolved", None, None),
    ]
    for now, state, escalated, expected in table:
        assert escalation_due(now, state, own, resolve, escalated) == expected, (now, state)
    assert breach(t0 + 5 * 60 * minute, "new", own, resolve) == "own"


def _open(node: Any, headers: dict[str, str], **body: Any) -> Any:
    fields = {"category": "network", "division_code": "140622", "title": "应县节点无法访问"}
    return node.client.post(f"{API}/tickets", json=fields | body, headers=headers)


def test_a_ticket_goes_from_opened_to_rated_routed_and_audited(personas: Any) -> None:
    node = personas
    admin, county = node.login("admin"), node.login("yingxian")
    r = node.client.put(
        f"{API}/routing",
        json={"category": "network", "division_code": "140600", "team": "朔州网络组"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()[0]["team"] == "朔州网络组", r.text
    r = _open(node, county, priority=1, description="中心机房到应县链路中断")
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert (ticket["team"], ticket["team_division"], ticket["state"]) == (
        "朔州网络组",
        "140600",
        "new",
    )
    assert ticket["number"].startswith("YW-140000-") and ticket["breach"] is None
    tid = ticket["id"]
    # a step out of order is refused with a 409 naming it
    assert node.client.post(f"{API}/tickets/{tid}/close", headers=county).status_code == 409
    r = node.client.post(f"{API}/tickets/{tid}/take", headers=county)
    assert r.json()["state"] == "owned" and r.json()["owner"] == "yingxian"
    r = node.client.post(
        f"{API}/tickets/{tid}/resolve",
        json={"resolution": "更换光模块", "knowledge": ["KB-0012 光模块更换"]},
        headers=county,
    )
    assert r.json()["state"] == "resolved" and r.json()["knowledge"] == ["KB-0012 光模块更换"]
    assert (
        node.client.post(f"{API}/tickets/{tid}/close", headers=county).json()["state"] == "closed"
    )
    r = node.client.post(f"{API}/tickets/{tid}/rate", json={"satisfaction": 5}, headers=county)
    assert r.json()["satisfaction"] == 5
    again = node.client.post(f"{API}/tickets/{tid}/rate", json={"satisfaction": 1}, headers=county)
    assert again.status_code == 409
    actions = [a.action for a in node.audits("ticket.%")]
    assert actions == [
        "ticket.route",
        "ticket.open",
        "ticket.take",
        "ticket.resolve",
        "ticket.close",
        "ticket.rate",
    ]
    stats = node.client.get(f"{API}/tickets/stats?by=team", headers=admin).json()
    assert stats == [
        {
            "key": "朔州网络组",
            "opened": 1,
            "resolved": 1,
            "escalations": 0,
            "mean_hours_to_resolve": stats[0]["mean_hours_to_resolve"],
            "mean_satisfaction": 5.0,
        }
    ]
    assert 0 <= stats[0]["mean_hours_to_resolve"] < 0.1


def test_tickets_keep_to_the_jurisdiction_and_refuse_bad_input(personas: Any) -> None:
    node = personas
    county, shanyin = node.login("yingxian"), node.login("shanyin")
    tid = _open(node, county).json()["id"]
    assert node.client.get(f"{API}/tickets/{tid}", headers=shanyin).status_code == 404
    assert _open(node, shanyin).status_code == 403  # 应县 is not 山阴县's
    assert node.client.post(f"{API}/tickets/{tid}/take", headers=shanyin).status_code == 404
    listed = node.client.get(f"{API}/tickets?state=open", headers=shanyin).json()
    assert listed["total"] == 0
    assert node.client.get(f"{API}/tickets", headers=node.login("qiye")).status_code == 403
    bad = [
        ({"category": "telepathy"}, "category"),
        ({"division_code": "14062"}, "division_code"),
        ({"division_code": "999999"}, "division_code"),
        ({"priority": 0}, "priority"),
        ({"priority": 2**63}, "priority"),
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "\u0000" * 10}, "description"),
        ({"kind": "complaint"}, "kind"),
        ({"owner": "me"}, "owner"),
    ]
    for body, field in bad:
        r = _open(node, county, **body)
        assert r.status_code in (400, 422) and field in r.text, (body, r.status_code, r.text)
    r = node.client.post(f"{API}/tickets/{tid}/rate", json={"satisfaction": 6}, headers=county)
    assert r.status_code == 422 and "satisfaction" in r.text
    r = node.client.put(
        f"{API}/routing",
        json={"category": "network", "division_code": "140600", "team": "x"},
        headers=county,
    )
    assert r.status_code == 403


def test_overdue_tickets_go_to_the_team_above_and_node_trouble_opens_one_incident(
    personas: Any,
) -> None:
    from anjian.ops.desk.service import escalate_overdue, incidents_from_health

    node = personas
    admin, county = node.login("admin"), node.login("yingxian")
    for division, team in (("140622", "应县网络组"), ("140000", "省网络中心")):
        node.client.put(
            f"{API}/routing",
            json={"category": "network", "division_code": division, "team": team},
            headers=admin,
        )
    tid = _open(node, county, priority=1).json()["id"]
    later = utcnow() + timedelta(minutes=20)  # nobody took it within 15 minutes
    with node.db() as s:
        (escalated,) = escalate_overdue(s, later)
        assert (escalated.team, escalated.escalated_for) == ("省网络中心", "own")
    with node.db() as s:
        assert escalate_overdue(s, later) == []  # that clock is escalated once
    got = node.client.get(f"{API}/tickets/{tid}", headers=county).json()
    assert (got["team"], got["escalations"], got["breach"]) == ("省网络中心", 1, None)
    assert [a.detail["clock"] for a in node.audits("ticket.escalate")] == ["own"]

    with node.db() as s:  # the county's node went silent
        s.add(node_health("140622", ago_s=30 * 60, backup_ago_h=0))
    with node.db() as s:
        (incident,) = incidents_from_health(s)
        assert (incident.kind, incident.source, incident.division_code) == (
            "incident",
            "monitor",
            "140622",
        )
        assert "失联" in incident.title
    with node.db() as s:
        assert incidents_from_health(s) == []  # once per cause while it is open
    # with the city's node between: the county's trouble is the city's to open, not ours
    with node.db() as s:
        for division, ago in (("140600", 0), ("140621", 30)):
            s.add(node_health(division, ago_s=ago * 60, backup_ago_h=0))
    with node.db() as s:
        assert incidents_from_health(s) == []
    listed = node.client.get(f"{API}/tickets?state=open", headers=county).json()
    assert {t["source"] for t in listed["items"]} == {"api", "monitor"}


def test_a_team_above_works_a_ticket_kept_below_by_steps_sent_down(personas: Any) -> None:
    from sqlalchemy import select

    from anjian.core.sync.models import OutboxEntry
    from anjian.ops.desk.models import STEP_ENTITY, Ticket, TicketStep
    from anjian.ops.desk.service import apply_steps, open_ticket

    node = personas
    admin = node.login("admin")
    with node.db() as s:
        ours = ticket_from_below("140622", "140000", "YW-140622-2026-00001")
        theirs = ticket_from_below("140622", "140622", "YW-140622-2026-00002")
        s.add_all([ours, theirs])
        s.flush()
        ours_id, ours_uid, theirs_id = ours.id, ours.uid, theirs.id
    r = node.client.post(f"{API}/tickets/{ours_id}/take", headers=admin)
    assert r.status_code == 202 and r.json()["state"] == "new", r.text  # changed at its node
    with node.db() as s:
        (sent,) = s.scalars(select(TicketStep))
        assert (sent.ticket_uid, sent.step, sent.by) == (ours_uid, "take", "admin@node-140000")
        assert (sent.division_code, sent.origin_node) == ("140622", "node-140000")
        assert (
            s.scalar(select(OutboxEntry.uid).where(OutboxEntry.entity == STEP_ENTITY)) == sent.uid
        )
    # a ticket kept below for a team below is read-only here
    assert node.client.post(f"{API}/tickets/{theirs_id}/take", headers=admin).status_code == 403
    # a step on its way is not sent again; resolving it still may be, and then nothing more
    r = node.client.post(f"{API}/tickets/{ours_id}/take", headers=admin)
    assert r.status_code == 409 and "node-140622" in r.json()["detail"], r.text
    resolve = {"resolution": "已重启网关"}
    r = node.client.post(f"{API}/tickets/{ours_id}/resolve", json=resolve, headers=admin)
    assert r.status_code == 202, r.text
    for step, body in (("take", None), ("resolve", resolve)):
        r = node.client.post(f"{API}/tickets/{ours_id}/{step}", json=body, headers=admin)
        assert r.status_code == 409, (step, r.text)
    assert [a.detail["step"] for a in node.audits("ticket.step")] == ["take", "resolve"]
    # the ticket comes back up owned (the take applied below): the resolve is still on its way
    with node.db() as s:
        from anjian.core.scope import Scope
        from anjian.ops.desk.service import pending_steps

        everything = Scope.for_division(None, "admin", ["000000"])
        ticket = s.get(Ticket, ours_id)
        ticket.state = "owned"
        assert set(pending_steps(s, everything, ticket)) == {"resolve"}
        ticket.state = "resolved"  # and then resolved: nothing is waiting
        assert pending_steps(s, everything, ticket) == {}

    # the other half, at the node that keeps a ticket: a step from above is applied once
    from anjian.core.audit.service import SYSTEM

    with node.db() as s:
        fields = {
            "kind": "incident",
            "category": "platform",
            "division_code": "140622",
            "priority": 2,
            "title": "链路中断",
        }
        local = open_ticket(s, SYSTEM, None, fields, source="web")
        step = TicketStep(
            ticket_uid=local.uid,
            division_code="140622",
            step="resolve",
            by="张三@node-000000",
            note="已更换设备",
            knowledge=["KB-7"],
            taken_at=utcnow(),
            origin_node="node-000000",
            version=1,
        )
        s.add(step)
        s.flush()
        apply_steps(s, [step.uid])
        local_id, step_uid = local.id, step.uid
    with node.db() as s:
        done = s.get(Ticket, local_id)
        assert (done.state, done.owner, done.resolution, done.knowledge) == (
            "resolved",
            "张三@node-000000",
            "已更换设备",
            ["KB-7"],
        )
        assert done.version == 2  # a new version: it travels up again
        apply_steps(s, [step_uid])
    with node.db() as s:
        assert s.get(Ticket, local_id).version == 2  # applied once
    assert node.audits("ticket.resolve")[-1].actor_name == "张三@node-000000"


def test_the_clocks_are_the_operators_settings(
    personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_DESK_OWN_MINUTES", "[5, 30, 240, 1440]")
    monkeypatch.setenv("ANJIAN_DESK_RESOLVE_MINUTES", "[60, 480, 4320, 14400]")
    get_settings.cache_clear()
    r = _open(personas, personas.login("sheng"), priority=1)
    assert r.status_code == 201, r.text
    t = r.json()
    opened = datetime.fromisoformat(t["opened_at"])
    assert datetime.fromisoformat(t["own_due_at"]) - opened == timedelta(minutes=5)
    assert datetime.fromisoformat(t["resolve_due_at"]) - opened == timedelta(hours=1)


def test_clock_settings_that_make_no_sense_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    table = [
        ("ANJIAN_DESK_OWN_MINUTES", "[15, 30, 240]", "desk_own_minutes"),  # three priorities
        ("ANJIAN_DESK_OWN_MINUTES", "[0, 30, 240, 1440]", "desk_own_minutes"),
        ("ANJIAN_DESK_RESOLVE_MINUTES", f"[240, 480, 4320, {2**63}]", "desk_resolve_minutes"),
        ("ANJIAN_DESK_RESOLVE_MINUTES", '["4h", 480, 4320, 14400]', "desk_resolve_minutes"),
        ("ANJIAN_DESK_OWN_MINUTES", "[300, 30, 240, 1440]", "desk_own_minutes[0]"),  # > 240
    ]
    for name, value, named in table:
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match=re.escape(named)):
            Settings()
        monkeypatch.delenv(name)
