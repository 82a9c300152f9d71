"""Organisation use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.divisions.models import Division
from anjian.core.errors import Forbidden, Invalid
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
    scope: Scope | None = None,
) -> Organisation:
    """Register an organisation (audited, queued for sync). With a ``scope`` (requests by a
    user), its division, area and parent must lie inside it; the CLI operator passes none."""
    name = name.strip()
    if not name or len(name) > 128:
        raise Invalid("机构名称不能为空且不超过 128 字 (name required)", field="name")
    codes = [division_code, *(area_codes or [])]
    for code in codes:
        if session.get(Division, code) is None:
            field = "division_code" if code == division_code else "area_codes"
            raise Invalid(f"行政区划代码不存在: {code} (unknown division)", field=field)
        if scope is not None and not scope.covers_code(code):
            raise Forbidden(f"行政区划 {code} 不在您的管辖范围内 (outside your jurisdiction)")
    if area_codes and kind is not OrgKind.COAL_INSPECTION:
        raise Invalid(
            "只有煤矿安全监察机构可设置监察区域 (only inspection bureaus have areas)",
            field="area_codes",
        )
    if parent_id is not None:
        parent = session.get(Organisation, parent_id)
        if parent is None or (scope is not None and get_org(session, scope, parent_id) is None):
            raise Invalid(f"上级机构不存在: {parent_id} (unknown parent)", field="parent_id")
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
