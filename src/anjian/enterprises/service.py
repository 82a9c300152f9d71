"""Enterprise registry use cases (一企一档).

The only place that writes enterprises. Every write stamps a new version into the outbox and
appends an audit record in the caller's transaction; nothing here commits. Every read goes
through the user's scope (``scope.select``/``scope.one``), and a record outside the scope is
reported as not found so that its existence does not leak."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Unpack

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_read, audit_record
from anjian.core.contacts import Contact, RevealedContacts, reveal
from anjian.core.crypto import FieldCipher
from anjian.core.divisions.models import Division
from anjian.core.divisions.service import division_names
from anjian.core.errors import AnjianError, Conflict, Forbidden, Invalid
from anjian.core.iam.models import Role
from anjian.core.iam.service import field_cipher
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.enterprises.schemas import (
    CodeConflict,
    CodeConflictItem,
    EnterpriseCreate,
    EnterpriseFilters,
    EnterpriseRead,
    EnterpriseUpdate,
    MapPoint,
)
from anjian.enterprises.sync import ENTERPRISE_ENTITY

# Phone fields: plaintext in the schemas, SM4-encrypted in these columns.
PHONE_COLUMNS = {
    "legal_rep_phone": "legal_rep_phone_enc",
    "safety_manager_phone": "safety_manager_phone_enc",
}
# What an enterprise user may correct in their own file. Name, credit-code-bound identity,
# division, category, scale, status and licence are set by the regulator: an enterprise that
# could reclassify itself could move out of its supervisor's view.
ENTERPRISE_EDITABLE = frozenset(
    {
        "address",
        "lng",
        "lat",
        "employees",
        "legal_rep",
        "legal_rep_phone",
        "safety_manager",
        "safety_manager_phone",
    }
)
MAP_LIMIT = 20_000


@unscoped("credit codes are unique nationally: operators' CLI and the duplicate check")
def find_by_uscc(session: Session, uscc: str) -> Enterprise | None:
    """The enterprise with this credit code, if registered (no scope: for operators' CLI)."""
    return session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.strip().upper()))


def is_enterprise_user(scope: Scope) -> bool:
    """Whether the scope belongs to an enterprise user (bound to an enterprise or not)."""
    return scope.is_enterprise or scope.role == Role.ENTERPRISE


def placement_problem(
    session: Session, scope: Scope, division_code: str, category: str | None
) -> AnjianError | None:
    """Why an enterprise may not be placed in ``division_code`` with ``category`` by someone
    with ``scope`` (unknown division, outside the jurisdiction, outside the bureau's
    categories), or None; ``category=None`` skips the category check. Returned rather than
    raised so the Excel import can collect it."""
    if is_enterprise_user(scope):
        return Forbidden(
            "企业用户不能登记或迁移企业 (enterprise users cannot register enterprises)"
        )
    if session.get(Division, division_code) is None:
        return Invalid(
            f"行政区划代码不存在: {division_code} (unknown division)", field="division_code"
        )
    if not scope.covers_code(division_code):
        return Forbidden(
            f"行政区划 {division_code} 不在您的管辖范围内 "
            f"(division {division_code} is outside your jurisdiction)",
            field="division_code",
        )
    if scope.categories and category is not None and category not in scope.categories:
        allowed = "、".join(SUPERVISION_CATEGORIES.get(c, c) for c in scope.categories)
        return Forbidden(
            f"您只能管理{allowed}类企业 (your jurisdiction covers only {', '.join(scope.categories)})",
            field="supervision_category",
        )
    return None


def _stamp(session: Session, ent: Enterprise) -> None:
    """Version, timestamps and outbox row; a concurrent duplicate credit code becomes a 409."""
    try:
        record_change(session, ent, entity=ENTERPRISE_ENTITY)
    except IntegrityError as exc:
        if "uscc" in str(exc.orig):
            raise Conflict(
                f"统一社会信用代码已登记: {ent.uscc} (credit code already registered)",
                field="uscc",
            ) from None
        raise


def create_enterprise(
    session: Session, actor: Actor, scope: Scope, data: EnterpriseCreate
) -> Enterprise:
    """Register an enterprise in a division of the caller's jurisdiction (audited, synced)."""
    problem = placement_problem(session, scope, data.division_code, data.supervision_category)
    if problem is not None:
        raise problem
    if find_by_uscc(session, data.uscc) is not None:
        # The same message whether or not the holder is in scope: the code is unique nationally.
        raise Conflict(
            f"统一社会信用代码已登记: {data.uscc} (credit code already registered)", field="uscc"
        )
    cipher = field_cipher()
    values = data.model_dump(exclude=set(PHONE_COLUMNS))
    ent = Enterprise(
        **values,
        legal_rep_phone_enc=cipher.encrypt(data.legal_rep_phone),
        safety_manager_phone_enc=cipher.encrypt(data.safety_manager_phone),
        created_at=utcnow(),
        origin_node="",
    )
    _stamp(session, ent)
    audit_record(
        session,
        actor,
        "enterprise.create",
        "enterprise",
        ent,
        detail={
            "uscc": ent.uscc,
            "name": ent.name,
            # Field names only: the values may be personal data (phones).
            "fields": sorted(data.model_dump(exclude_unset=True)),
        },
    )
    return ent


def enterprise_in_scope(
    session: Session, scope: Scope, enterprise_id: int, *, field: str | None = None
) -> Enterprise:
    """The enterprise ``enterprise_id`` if the scope reaches it; a 404 otherwise (naming
    ``field`` when the id came in a request body)."""
    # One message for "absent" and "not yours": a 403 would confirm the record exists.
    return scope.one(session, Enterprise, enterprise_id, field=field)


def enterprise_choices(session: Session, scope: Scope, limit: int) -> list[tuple[int, str]]:
    """(id, name) of the enterprises in scope by name, at most ``limit`` (a form's choices)."""
    stmt = scope.select(Enterprise, Enterprise.id, Enterprise.name)
    rows = session.execute(stmt.order_by(Enterprise.name).limit(limit)).all()
    return [(int(i), str(n)) for i, n in rows]


@unscoped("names of records' enterprises, after a scoped read of the records")
def enterprise_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Names of enterprises by id, in one query (for a page of records that refer to them)."""
    return _column_by_id(session, Enterprise.name, ids)


@unscoped("uids of records' enterprises, after a scoped read of the records")
def enterprise_uids(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Global uids of enterprises by local id (what names an enterprise on every node)."""
    return _column_by_id(session, Enterprise.uid, ids)


@unscoped("the lookups above, after a scoped read of the records")
def _column_by_id(session: Session, column: Any, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Enterprise.id, column).where(Enterprise.id.in_(wanted)))
    return {int(i): str(v) for i, v in rows}


@unscoped("the enterprises of records already read in scope, or of this node's own jobs")
def enterprises_by_id(session: Session, ids: Iterable[int]) -> dict[int, Enterprise]:
    """Enterprises by id, in one query (their places, for records that refer to them)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(wanted)))}


def enterprise_by_id(session: Session, enterprise_id: int) -> Enterprise | None:
    """The enterprise ``enterprise_id`` with no scope (a job or a gateway of this node)."""
    return session.get(Enterprise, enterprise_id)


@unscoped("a gateway logs in at the node of its own jurisdiction, before any user")
def local_by_uscc(session: Session, uscc: str) -> Enterprise | None:
    """The enterprise of this node (not a copy from a child) with ``uscc``, if any."""
    return session.scalars(
        select(Enterprise).where(
            Enterprise.uscc == uscc.strip().upper(),
            Enterprise.deleted.is_(False),
            Enterprise.origin_node == get_settings().effective_node_id,
        )
    ).first()


def get_enterprise(session: Session, scope: Scope, enterprise_id: int, actor: Actor) -> Enterprise:
    """One enterprise in scope; the read is audited because the file holds personal data."""
    ent = enterprise_in_scope(session, scope, enterprise_id)
    audit_read(session, actor, "enterprise", [ent])
    return ent


def update_enterprise(
    session: Session, actor: Actor, scope: Scope, enterprise_id: int, data: EnterpriseUpdate
) -> Enterprise:
    """Change the fields sent (audited by field name, synced). A no-op change writes nothing."""
    ent = enterprise_in_scope(session, scope, enterprise_id)
    changes = data.changes()
    if is_enterprise_user(scope):
        barred = sorted(set(changes) - ENTERPRISE_EDITABLE)
        if barred:
            raise Forbidden(
                f"企业用户不能修改: {', '.join(barred)} (set by the regulator)", field=barred[0]
            )
    ensure_writable_here(ent)
    cipher = field_cipher()
    changed: list[str] = []
    for name, value in changes.items():
        current = (
            cipher.decrypt(getattr(ent, PHONE_COLUMNS[name]))
            if name in PHONE_COLUMNS
            else getattr(ent, name)
        )
        if current != value:
            changed.append(name)
    if not changed:
        return ent
    old_division = ent.division_code
    new_division = changes.get("division_code", ent.division_code)
    new_category = changes.get("supervision_category", ent.supervision_category)
    if not is_enterprise_user(scope) and (
        "division_code" in changed or "supervision_category" in changed
    ):
        # Moving or reclassifying must land inside the caller's jurisdiction, or the record
        # would leave it (and a county could push its files onto a neighbour).
        problem = placement_problem(session, scope, new_division, new_category)
        if problem is not None:
            raise problem
    for name in changed:
        if name in PHONE_COLUMNS:
            setattr(ent, PHONE_COLUMNS[name], cipher.encrypt(changes[name]))
        else:
            setattr(ent, name, changes[name])
    _stamp(session, ent)
    detail: dict[str, Any] = {"fields": sorted(changed)}
    if new_division != old_division:
        detail["moved_from"] = old_division
    audit_record(session, actor, "enterprise.update", "enterprise", ent, detail=detail)
    return ent


def filtered(
    stmt: Select[Any],
    *,
    q: str | None = None,
    division: str | None = None,
    category: str | None = None,
    status: str | None = None,
    scale: str | None = None,
    industry: str | None = None,
) -> Select[Any]:
    """``stmt`` (a select over enterprises) narrowed by the list's filters."""
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            or_(
                Enterprise.name.contains(term, autoescape=True),
                Enterprise.uscc.startswith(term.upper(), autoescape=True),
            )
        )
    if division:
        # A division filter means its whole jurisdiction: 140600 lists every 朔州 county.
        stmt = stmt.where(division_filter(Enterprise.division_code, division))
    if category:
        stmt = stmt.where(Enterprise.supervision_category == category)
    if status:
        stmt = stmt.where(Enterprise.status == status)
    if scale:
        stmt = stmt.where(Enterprise.scale == scale)
    if industry:
        # B lists every mining enterprise, B06 only coal mining.
        stmt = stmt.where(Enterprise.industry_code.startswith(industry.strip().upper()))
    return stmt


def list_enterprises(
    session: Session,
    scope: Scope,
    *,
    limit: int | None = 50,
    offset: int = 0,
    **filters: Unpack[EnterpriseFilters],
) -> tuple[list[Enterprise], int]:
    """Enterprises in scope matching the filters (``q``: name contains, or credit code starts
    with), ordered by division then name, with the total count. ``limit=None``: all."""
    stmt = filtered(scope.select(Enterprise), **filters)
    order = (Enterprise.division_code, Enterprise.name, Enterprise.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def located(
    session: Session, scope: Scope, enterprise_id: int | None = None, *, limit: int = MAP_LIMIT
) -> list[Enterprise]:
    """The located enterprises in scope (just ``enterprise_id`` when given) by id, at most
    ``limit``: the units another domain's map shows."""
    stmt = scope.select(Enterprise).where(Enterprise.lng.isnot(None), Enterprise.lat.isnot(None))
    if enterprise_id is not None:
        stmt = stmt.where(Enterprise.id == enterprise_id)
    return list(session.scalars(stmt.order_by(Enterprise.id).limit(limit)))


def map_points(
    session: Session,
    scope: Scope,
    *,
    limit: int = MAP_LIMIT,
    **filters: Unpack[EnterpriseFilters],
) -> list[MapPoint]:
    """Located enterprises in scope as map points (no personal data, so not audited)."""
    stmt = filtered(
        scope.select(
            Enterprise,
            Enterprise.id,
            Enterprise.name,
            Enterprise.lng,
            Enterprise.lat,
            Enterprise.supervision_category,
            Enterprise.status,
        ).where(Enterprise.lng.isnot(None), Enterprise.lat.isnot(None)),
        **filters,
    )
    rows = session.execute(stmt.order_by(Enterprise.id).limit(limit))
    return [
        MapPoint(
            id=r.id,
            name=r.name,
            lng=r.lng,
            lat=r.lat,
            category=r.supervision_category,
            category_label=SUPERVISION_CATEGORIES.get(
                r.supervision_category, r.supervision_category
            ),
            status=r.status,
        )
        for r in rows
    ]


def phones_of(ent: Enterprise, cipher: FieldCipher | None = None) -> tuple[str | None, str | None]:
    """The decrypted (legal representative, safety manager) phones, for masking or export."""
    cipher = cipher or field_cipher()
    return cipher.decrypt(ent.legal_rep_phone_enc), cipher.decrypt(ent.safety_manager_phone_enc)


def contacts_of(ent: Enterprise, cipher: FieldCipher | None = None) -> list[Contact]:
    """The people of the file with their full phones (法定代表人, 安全负责人)."""
    legal, safety = phones_of(ent, cipher)
    return [
        Contact(field="legal_rep_phone", label="法定代表人", name=ent.legal_rep, phone=legal),
        Contact(
            field="safety_manager_phone",
            label="安全负责人",
            name=ent.safety_manager,
            phone=safety,
        ),
    ]


def reveal_contacts(
    session: Session, actor: Actor, scope: Scope, enterprise_id: int, field: str | None = None
) -> RevealedContacts:
    """The full phones of an enterprise in scope (one field, or all): an official of the
    jurisdiction calling the unit, or its own staff; audited. Out of scope: the same 404 as a
    missing enterprise."""
    ent = enterprise_in_scope(session, scope, enterprise_id)
    return reveal(session, actor, ENTERPRISE_ENTITY, ent, contacts_of(ent), field)


def present(session: Session, ents: list[Enterprise]) -> list[EnterpriseRead]:
    """The user-facing views of ``ents``: division names resolved, phones masked."""
    names = division_names(session, (e.division_code for e in ents))
    cipher = field_cipher()
    out = []
    for ent in ents:
        legal, safety = phones_of(ent, cipher)
        out.append(
            EnterpriseRead.of(
                ent,
                division_name=names.get(ent.division_code, ""),
                legal_rep_phone=legal,
                safety_manager_phone=safety,
            )
        )
    return out


def code_conflicts(session: Session, scope: Scope) -> list[CodeConflict]:
    """Credit codes in scope held by records of more than one origin node: two counties
    registered the same enterprise (or one mistyped a code) before either saw the other's."""
    dup = (
        scope.select(Enterprise, Enterprise.uscc).group_by(Enterprise.uscc).having(func.count() > 1)
    )
    stmt = (
        scope.select(Enterprise)
        .where(Enterprise.uscc.in_(dup))
        .order_by(Enterprise.uscc, Enterprise.origin_node)
    )
    grouped: dict[str, list[CodeConflictItem]] = {}
    for ent in session.scalars(stmt):
        grouped.setdefault(ent.uscc, []).append(
            CodeConflictItem(
                id=ent.id,
                name=ent.name,
                division_code=ent.division_code,
                origin_node=ent.origin_node,
            )
        )
    return [CodeConflict(uscc=code, records=items) for code, items in grouped.items()]
