"""The API of operations (运维): the health of the node's subtree and the configuration
database with its impact queries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from anjian.core.divisions.service import division_names
from anjian.core.errors import NotFound
from anjian.core.iam.deps import StaffCtx
from anjian.ops.cmdb import KIND_LABELS, Item, impact, inventory
from anjian.ops.health import subtree
from anjian.ops.schemas import (
    ImpactRead,
    InventoryRead,
    ItemRead,
    NodeHealthRead,
    RelationRead,
)

router = APIRouter(prefix="/api/v1/ops", tags=["运维 operations"])


@router.get("/health", response_model=list[NodeHealthRead], summary="节点健康 (subtree health)")
def node_health(ctx: StaffCtx) -> list[NodeHealthRead]:
    """The last health report of this node and of every node below it in the caller's
    jurisdiction, the worst first: red where a node is silent (three reports missed) or late
    (changes waiting more than ten minutes), orange where it has not been backed up for two
    days."""
    judged = subtree(ctx.db, ctx.scope)
    names = division_names(ctx.db, {j.health.division_code for j in judged})
    return [
        NodeHealthRead(
            node_id=j.health.node_id,
            division_code=j.health.division_code,
            division_name=names.get(j.health.division_code, ""),
            reported_at=j.health.reported_at,
            every_s=j.health.every_s,
            backlog=j.health.backlog,
            lag_s=j.health.lag_s,
            last_backup_at=j.health.last_backup_at,
            figures=j.health.figures,
            severity=j.severity,
            problems=[label for _, label in j.problems],
        )
        for j in judged
    ]


def _item(item: Item) -> ItemRead:
    return ItemRead(
        id=item.id,
        kind=item.kind,
        kind_label=KIND_LABELS[item.kind],
        name=item.name,
        division_code=item.division_code,
        detail=item.detail,
    )


@router.get("/cmdb", response_model=InventoryRead, summary="配置管理库 (configuration items)")
def cmdb(ctx: StaffCtx) -> InventoryRead:
    """The configuration items in the caller's jurisdiction — nodes, their services, the
    uplinks between them, this node's enterprise gateways — and what depends on what."""
    items, relations = inventory(ctx.db, ctx.scope)
    return InventoryRead(
        items=[_item(i) for i in items],
        relations=[RelationRead(source=r.source, target=r.target, kind=r.kind) for r in relations],
    )


@router.get("/cmdb/impact", response_model=ImpactRead, summary="影响分析 (what an outage hits)")
def cmdb_impact(
    ctx: StaffCtx,
    item: Annotated[str, Query(max_length=100, description="配置项, e.g. link:140600")],
    kind: Annotated[str | None, Query(description="只列此类: node|service|link|gateway")] = None,
) -> ImpactRead:
    """What stops, or is no longer seen above, when ``item`` is down: the nodes blind above
    when a link is down, the enterprises whose readings stop when a broker stops."""
    items, relations = inventory(ctx.db, ctx.scope)
    by_id = {i.id: i for i in items}
    if item not in by_id:
        raise NotFound(f"没有此配置项: {item} (no such configuration item)", field="item")
    hit = impact(relations, item)
    affected = [i for i in items if i.id in hit and (kind is None or i.kind == kind)]
    return ImpactRead(item=_item(by_id[item]), affected=[_item(i) for i in affected])
