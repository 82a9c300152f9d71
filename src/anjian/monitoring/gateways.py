"""Gateways (接入网关): an enterprise's ingest credential — the Bearer token of HTTP ingest and
the MQTT password, its USCC the MQTT username — issued at the node of its jurisdiction and kept
only as an SM3-HMAC; the readings its gateway had refused (坏数据计数)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.crypto import hmac_sm3
from anjian.core.errors import NotFound
from anjian.core.scope import Scope, unscoped
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise  # the scope join of rejections
from anjian.enterprises.service import enterprise_by_id, local_by_uscc
from anjian.monitoring.models import GatewayCredential, IngestRejection, MonitoringPoint
from anjian.monitoring.schemas import TokenRead


def _token_hash(token: str) -> str:
    return hmac_sm3(get_settings().key_file("gateway"), token.encode())


def local_enterprise_by_uscc(session: Session, uscc: str) -> Enterprise:
    """The enterprise of this node (not a copy from a child) with ``uscc``; gateways connect to
    the node of their own jurisdiction."""
    ent = local_by_uscc(session, uscc)
    if ent is None:
        raise NotFound(
            f"本节点没有统一社会信用代码为 {uscc} 的企业 (no enterprise with this USCC at this node)",
            field="uscc",
        )
    return ent


def issue_token(session: Session, actor: Actor, uscc: str) -> TokenRead:
    """A new ingest token for the enterprise ``uscc`` (any earlier one stops working); only its
    SM3-HMAC is kept, so it is shown once (audited)."""
    ent = local_enterprise_by_uscc(session, uscc)
    token = "ajg_" + secrets.token_urlsafe(32)
    cred = session.get(GatewayCredential, ent.id)
    if cred is None:
        cred = GatewayCredential(enterprise_id=ent.id, token_hash="", created_at=utcnow())
        session.add(cred)
    cred.token_hash, cred.created_at, cred.created_by = _token_hash(token), utcnow(), actor.username
    audit_record(session, actor, "gateway.token", "enterprise", ent, detail={"uscc": ent.uscc})
    return TokenRead(
        uscc=ent.uscc,
        token=token,
        mqtt_username=ent.uscc,
        topic_readings=f"anjian/v1/{ent.uscc}/readings",
        topic_status=f"anjian/v1/{ent.uscc}/status",
    )


def enterprise_of_token(session: Session, token: str) -> int | None:
    """The enterprise whose gateway holds ``token``, or None."""
    return session.scalar(
        select(GatewayCredential.enterprise_id).where(
            GatewayCredential.token_hash == _token_hash(token)
        )
    )


def check_gateway(session: Session, uscc: str, token: str) -> int | None:
    """The enterprise when ``token`` is the current token of the enterprise ``uscc`` (the MQTT
    username and password of its gateway), else None."""
    ent_id = enterprise_of_token(session, token)
    if ent_id is None:
        return None
    ent = enterprise_by_id(session, ent_id)
    return ent_id if ent is not None and ent.uscc == uscc and not ent.deleted else None


# --- readings refused (坏数据计数) ---------------------------------------------------------------


def rejections(
    session: Session, scope: Scope, enterprise_id: int | None = None
) -> list[IngestRejection]:
    """Readings refused by enterprise and reason, for the enterprises in scope."""
    stmt = scope.restrict(
        select(IngestRejection).join(Enterprise, Enterprise.id == IngestRejection.enterprise_id),
        Enterprise,
    )
    if enterprise_id is not None:
        stmt = stmt.where(IngestRejection.enterprise_id == enterprise_id)
    return list(
        session.scalars(stmt.order_by(IngestRejection.enterprise_id, IngestRejection.reason))
    )


@dataclass(frozen=True)
class Gateway:
    """An enterprise whose gateway may send to this node: the enterprise and its points."""

    enterprise_id: int
    name: str
    uscc: str
    division_code: str
    points: int


@unscoped("the node's inventory of its gateways (the operations' configuration database)")
def gateways(session: Session) -> list[Gateway]:
    """The enterprises of this node that hold a gateway credential, with their live points."""
    points = (
        select(MonitoringPoint.enterprise_id, func.count().label("n"))
        .where(MonitoringPoint.deleted.is_(False))
        .group_by(MonitoringPoint.enterprise_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Enterprise.id,
            Enterprise.name,
            Enterprise.uscc,
            Enterprise.division_code,
            func.coalesce(points.c.n, 0),
        )
        .join(GatewayCredential, GatewayCredential.enterprise_id == Enterprise.id)
        .outerjoin(points, points.c.enterprise_id == Enterprise.id)
        .order_by(Enterprise.division_code, Enterprise.id)
    )
    return [Gateway(*row) for row in rows]
