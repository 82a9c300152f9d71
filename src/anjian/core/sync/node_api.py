"""This node's links for officials and operators (the REST side of `anjian node status` and
the node page), and a request to sync with the parent at once."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from anjian.core.audit.service import audit
from anjian.core.errors import Conflict
from anjian.core.iam.deps import AdminCtx, StaffCtx
from anjian.core.sync import service
from anjian.core.sync.forwarder import request_sync

router = APIRouter(prefix="/api/v1/node", tags=["ops 运维"])


class NodeStatusRead(BaseModel):
    node_id: str
    division_code: str
    division_name: str
    tier: str
    outbox_head: int
    links: list[service.LinkStatus]  # a link to the parent (backlog, lag) or to a child


class SyncRequested(BaseModel):
    requested: bool
    parent: str


@router.get("/status", response_model=NodeStatusRead)
def node_status(ctx: StaffCtx) -> NodeStatusRead:
    """This node, its parent link (last contact, backlog, lag, last error) and its children."""
    me, links = service.node_status(ctx.db)
    return NodeStatusRead(**me, links=links)


@router.post("/sync-now", response_model=SyncRequested)
def sync_now(ctx: AdminCtx) -> SyncRequested:
    """Sync with the parent at once (立即同步), ending a back-off after a long outage instead
    of waiting up to ``ANJIAN_SYNC_MAX_BACKOFF_S``; 409 when this node has no parent."""
    link = service.parent_link(ctx.db)
    if link is None or not link.url:
        raise Conflict("本节点没有上级节点 (this node has no parent)", field="parent")
    audit(ctx.db, ctx.actor, "node.sync_now", object_type="sync_link", object_id=str(link.id))
    request_sync()
    return SyncRequested(requested=True, parent=link.url)
