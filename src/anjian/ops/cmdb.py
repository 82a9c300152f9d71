"""The configuration database (配置管理库, CMDB): the configuration items of the node's
network — nodes, the services each runs (API, database, broker, forwarder), the uplink of each
node to its parent, and this node's enterprise gateways — and what depends on what, drawn from
what the node already knows (its links, the health reports of its subtree, its gateway
credentials) rather than typed in twice. :func:`impact` answers "which counties are blind if
the link of this city is down" and "which enterprises' readings stop if this broker stops"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.divisions.rules import parent_candidates
from anjian.core.divisions.service import division_names
from anjian.core.scope import Scope
from anjian.core.sync.status import node_status
from anjian.monitoring.gateways import gateways
from anjian.ops.health import subtree

SERVICES = {
    "api": "接口与控制台",
    "database": "数据库",
    "broker": "MQTT 接入",
    "forwarder": "上报转发",
}
KIND_LABELS = {"node": "节点", "service": "服务", "link": "上报链路", "gateway": "企业网关"}


@dataclass(frozen=True)
class Item:
    """A configuration item: ``id`` ("node:140622", "service:140622:broker", "link:140622",
    "gateway:17"), its kind, name and division."""

    id: str
    kind: str
    name: str
    division_code: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Relation:
    """``source`` depends on ``target`` (it stops working, or is no longer seen above, when the
    target is down)."""

    source: str
    target: str
    kind: str


def impact(relations: Iterable[Relation], item: str) -> set[str]:
    """Every item that depends on ``item``, directly or through others."""
    dependents: dict[str, list[str]] = defaultdict(list)
    for r in relations:
        dependents[r.target].append(r.source)
    seen: set[str] = set()
    todo = [item]
    while todo:
        for source in dependents[todo.pop()]:
            if source not in seen:
                seen.add(source)
                todo.append(source)
    seen.discard(item)
    return seen


def _parent_of(code: str, known: set[str]) -> str | None:
    """The nearest division above ``code`` that has a node here."""
    return next((p for p in parent_candidates(code) if p in known), None)


def inventory(session: Session, scope: Scope) -> tuple[list[Item], list[Relation]]:
    """The items and relations of the nodes the user's scope covers (this node, its parent,
    the nodes below that report their health or are linked) and of this node's gateways."""
    settings = get_settings()
    own = settings.node_division
    _me, links = node_status(session)
    nodes: dict[str, str] = {own: settings.effective_node_id}  # division -> node id
    for link in links:
        nodes.setdefault(link.division_code, link.node_id or f"node-{link.division_code}")
    for judged in subtree(session, scope):
        nodes[judged.health.division_code] = judged.health.node_id
    parent = next((link.division_code for link in links if link.role == "parent"), None)
    shown = {d: n for d, n in nodes.items() if d == parent or scope.covers_code(d)}
    names = division_names(session, nodes)
    items: list[Item] = []
    relations: list[Relation] = []
    for division, node_id in sorted(shown.items()):
        node, node_name = f"node:{division}", f"{names.get(division, division)}节点"
        items.append(Item(node, "node", node_name, division, {"node_id": node_id}))
        for service, label in SERVICES.items():
            sid = f"service:{division}:{service}"
            items.append(Item(sid, "service", f"{node_name} · {label}", division))
            relations.append(Relation(sid, node, "runs_on"))
        above = _parent_of(
            division, set(nodes)
        )  # its uplink even where the node above is not shown
        if above is not None:
            link = f"link:{division}"
            items.append(
                Item(
                    link,
                    "link",
                    f"{names.get(division, division)}→{names.get(above, above)}",
                    division,
                )
            )
            # what the node holds is seen above only through its forwarder, its link and the
            # node above; the link carries the forwarder's batches to the node above
            relations += [
                Relation(node, link, "seen_above_through"),
                Relation(link, f"service:{division}:forwarder", "carries"),
                Relation(link, f"node:{above}", "reaches"),
                Relation(link, f"service:{above}:api", "reaches"),
            ]
    for gw in gateways(session):
        if not scope.covers(division_code=gw.division_code, enterprise_id=gw.enterprise_id):
            continue
        gid = f"gateway:{gw.enterprise_id}"
        detail = {"uscc": gw.uscc, "points": gw.points}
        items.append(Item(gid, "gateway", gw.name, gw.division_code, detail))
        relations.append(Relation(gid, f"service:{own}:broker", "ingests_at"))
    return items, relations
