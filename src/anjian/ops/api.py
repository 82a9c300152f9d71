"""The API of operations (运维): the health of the node's subtree."""

from __future__ import annotations

from fastapi import APIRouter

from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import StaffCtx
from anjian.ops.health import subtree
from anjian.ops.schemas import NodeHealthRead

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
