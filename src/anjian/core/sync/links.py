"""Node links (上下级节点连接): the parent link, child links, their keys, and the node's status
as the node page shows it."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit, audit_record
from anjian.core.crypto import FieldCipher
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import prefix_of
from anjian.core.errors import Invalid, NotFound
from anjian.core.sync.models import SyncLink

# Changes per push: a long backlog drains faster in bigger batches (fewer round trips, commits
# and acknowledgements); 5,000 enterprise changes are a few MB in memory while they are sealed.
PUSH_BATCH = 5000
PULL_BATCH = 500
UP_SOURCES = ("local", "child")
DOWN_SOURCES = ("local", "parent")


def link_cipher() -> FieldCipher:
    return FieldCipher(get_settings().key_file("field"))


def link_key(link: SyncLink) -> bytes:
    """The shared secret of a link (kept SM4-encrypted at rest)."""
    return (link_cipher().decrypt(link.key_enc) or "").encode()


def node_actor(division: str, node_id: str | None = None) -> Actor:
    return Actor(user_id=None, username=f"node:{node_id or division}", division_code=division)


# --- links -------------------------------------------------------------------------------------


def parent_link(session: Session) -> SyncLink | None:
    """This node's link to its parent, if it has one."""
    return session.scalar(select(SyncLink).where(SyncLink.role == "parent"))


def child_links(session: Session) -> list[SyncLink]:
    return list(
        session.scalars(
            select(SyncLink).where(SyncLink.role == "child").order_by(SyncLink.division_code)
        )
    )


def set_parent(
    session: Session, actor: Actor, url: str, key: str, parent_division: str
) -> SyncLink:
    """Point this node at its parent (URL and the link key the parent issued)."""
    if not url.startswith(("http://", "https://")):
        raise Invalid("上级节点地址应以 http:// 或 https:// 开头 (parent URL)", field="parent")
    if len(key) < 32:
        raise Invalid(
            "链路密钥过短，请使用上级节点 `anjian node link` 打印的密钥 (link key too short)",
            field="link_key",
        )
    link = parent_link(session)
    if link is None:
        link = SyncLink(role="parent", division_code=parent_division, key_enc="")
        session.add(link)
    link.url, link.division_code, link.revoked = url.rstrip("/"), parent_division, False
    link.key_enc = link_cipher().encrypt(key) or ""
    session.flush()
    audit(
        session,
        actor,
        "node.parent",
        object_type="sync_link",
        object_id=str(link.id),
        detail={"url": link.url, "parent_division": parent_division},
    )
    return link


def link_child(session: Session, actor: Actor, child_division: str) -> str:
    """Register (or re-key) a child node of this node's jurisdiction; returns the new link key,
    shown once. The old key, if any, stops working at once."""
    own = get_settings().node_division
    if session.get(Division, child_division) is None:
        raise Invalid(f"行政区划代码不存在: {child_division} (unknown division)", field="division")
    if child_division == own or not child_division.startswith(prefix_of(own)):
        raise Invalid(
            f"{child_division} 不是本节点 {own} 的下级行政区划 (not below this node)",
            field="division",
        )
    key = secrets.token_urlsafe(32)
    link = session.scalar(
        select(SyncLink).where(SyncLink.role == "child", SyncLink.division_code == child_division)
    )
    if link is None:
        link = SyncLink(role="child", division_code=child_division, key_enc="")
        session.add(link)
    link.key_enc, link.revoked = link_cipher().encrypt(key) or "", False
    session.flush()
    audit_record(session, actor, "node.link", "sync_link", link, detail={"child": child_division})
    return key


def revoke_child(session: Session, actor: Actor, child_division: str) -> None:
    """Stop accepting anything from a child until it is linked again."""
    link = session.scalar(
        select(SyncLink).where(SyncLink.role == "child", SyncLink.division_code == child_division)
    )
    if link is None:
        raise NotFound(f"没有该下级节点: {child_division} (no such child)", field="division")
    link.revoked = True
    audit_record(session, actor, "node.revoke", "sync_link", link)
