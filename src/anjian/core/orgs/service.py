"""Organisation use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.divisions.models import Division
from anjian.core.errors import Forbidden, Invalid
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.records import apply_changes
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change

NAME_MAX = 128
ORG_NOT_FOUND = "机构不存在或不在管辖范围内 (no such organisation in scope)"


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
    name = _checked(session, scope, name, kind, division_code, parent_id, area_codes)
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
    audit_record(
        session, actor, "org.create", "organisation", org, detail={"name": name, "kind": kind.value}
    )
    return org


def _checked(
    session: Session,
    scope: Scope | None,
    name: str,
    kind: OrgKind,
    division_code: str,
    parent_id: int | None,
    area_codes: list[str] | None,
    own_id: int | None = None,
) -> str:
    """The organisation's name, stripped, once its name, division, area and parent are found
    valid (and, with a ``scope``, inside it)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid("机构名称不能为空且不超过 128 字 (name required)", field="name")
    codes = [division_code, *(area_codes or [])]
    for code in codes:
        if session.get(Division, code) is None:
            field = "division_code" if code == division_code else "area_codes"
            raise Invalid(f"行政区划代码不存在: {code} (unknown division)", field=field)
        if scope is not None and not scope.covers_code(code):
            field = "division_code" if code == division_code else "area_codes"
            raise Forbidden(
                f"行政区划 {code} 不在您的管辖范围内 (outside your jurisdiction)", field=field
            )
    if area_codes and kind is not OrgKind.COAL_INSPECTION:
        raise Invalid(
            "只有煤矿安全监察机构可设置监察区域 (only inspection bureaus have areas)",
            field="area_codes",
        )
    if parent_id is not None:
        parent = session.get(Organisation, parent_id)
        if (
            parent is None
            or parent.deleted
            or (scope is not None and get_org(session, scope, parent_id) is None)
        ):
            raise Invalid(f"上级机构不存在: {parent_id} (unknown parent)", field="parent_id")
        if own_id is not None and _reaches(session, parent_id, own_id):
            raise Invalid("上级机构不能是本机构或其下级 (a cycle of parents)", field="parent_id")
    return name


@unscoped("walks the parent chain, which may leave the caller's jurisdiction")
def _reaches(session: Session, start_id: int, target_id: int) -> bool:
    """Whether walking up the parents from ``start_id`` meets ``target_id``."""
    seen: set[int] = set()
    current: int | None = start_id
    while current is not None and current not in seen:
        if current == target_id:
            return True
        seen.add(current)
        current = session.scalar(select(Organisation.parent_id).where(Organisation.id == current))
    return False


def org_in_scope(session: Session, scope: Scope, org_id: int) -> Organisation:
    """One organisation in scope; the same 404 whether missing or out of scope."""
    return scope.one(session, Organisation, org_id, ORG_NOT_FOUND)


def update_org(
    session: Session,
    actor: Actor,
    scope: Scope,
    org_id: int,
    *,
    name: str,
    kind: OrgKind,
    division_code: str,
    parent_id: int | None,
    area_codes: list[str] | None,
) -> Organisation:
    """Change an organisation of this node (audited with what changed, synced); a copy received
    from another node is read-only here. Nothing changed writes nothing."""
    org = org_in_scope(session, scope, org_id)
    ensure_writable_here(org)
    name = _checked(session, scope, name, kind, division_code, parent_id, area_codes, org.id)
    wanted: dict[str, object] = {
        "name": name,
        "kind": kind.value,
        "division_code": division_code,
        "parent_id": parent_id,
        "area_codes": area_codes or None,
    }
    changes = apply_changes(org, wanted)
    if not changes:
        return org
    record_change(session, org, entity="organisation")
    audit_record(session, actor, "org.update", "organisation", org, detail={"changes": changes})
    return org


def list_orgs(
    session: Session, scope: Scope, kind: str | None = None, division: str | None = None
) -> list[Organisation]:
    """Organisations visible in ``scope``, optionally of one kind and of one division (and
    below)."""
    stmt = scope.select(Organisation)
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    if division:
        stmt = stmt.where(division_filter(Organisation.division_code, division))
    return list(session.scalars(stmt.order_by(Organisation.division_code, Organisation.id)))


def get_org(session: Session, scope: Scope, org_id: int) -> Organisation | None:
    """One organisation if ``scope`` may see it (not a tombstone)."""
    return session.scalars(scope.select(Organisation).where(Organisation.id == org_id)).first()
