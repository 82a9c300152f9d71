"""Organisation use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.scope import Scope
from anjian.core.sync.outbox import record_change


def create_org(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: OrgKind,
    division_code: str,
    parent_id: int | None = None,
    area_codes: list[str] | None = None,
    enterprise_id: int | None = None,
) -> Organisation:
    """Register an organisation (audited, queued for sync)."""
    org = Organisation(
        name=name,
        kind=kind.value,
        division_code=division_code,
        parent_id=parent_id,
        area_codes=area_codes,
        enterprise_id=enterprise_id,
        origin_node="",
    )
    record_change(session, org, entity="organisation")
    audit(
        session,
        actor,
        "org.create",
        object_type="organisation",
        object_id=str(org.id),
        division_code=division_code,
        detail={"name": name, "kind": kind.value},
    )
    return org


def list_orgs(session: Session, scope: Scope, kind: str | None = None) -> list[Organisation]:
    """Organisations visible in ``scope``."""
    stmt = scope.apply(
        select(Organisation).where(Organisation.deleted.is_(False)),
        division=Organisation.division_code,
        enterprise=Organisation.enterprise_id,
    )
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    return list(session.scalars(stmt.order_by(Organisation.division_code, Organisation.id)))


def get_org(session: Session, scope: Scope, org_id: int) -> Organisation | None:
    """One organisation if ``scope`` may see it."""
    stmt = scope.apply(
        select(Organisation).where(Organisation.id == org_id),
        division=Organisation.division_code,
        enterprise=Organisation.enterprise_id,
    )
    return session.scalars(stmt).first()
