"""Emergency resources (应急资源): rescue teams, equipment, warehouses with their supplies,
experts, shelters and medical points of the agencies and the enterprises; the nearest of a kind
to a place; transfers (调拨) between warehouses. Scoped, audited, synced up the tiers (a province
sees its counties' resources)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import today_in_china
from anjian.core.contacts import Contact, RevealedContacts, reveal
from anjian.core.crypto import mask_phone
from anjian.core.divisions.models import Division
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.iam.accounts import field_cipher
from anjian.core.listing import in_state, of_enterprise_in
from anjian.core.paging import paged
from anjian.core.records import apply_changes, copied
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.emergency.models import EmergencyResource, EmergencySupply, EmergencyTransfer
from anjian.emergency.rules.resources import (
    KIND_LABELS,
    STATUS_LABELS,
    ResourceKind,
    ResourceStatus,
    bounding_box,
    great_circle_km,
)
from anjian.emergency.schemas import (
    NearResource,
    ResourceCreate,
    ResourceRead,
    ResourceUpdate,
    SupplyRead,
    SupplySet,
    TransferCreate,
)
from anjian.emergency.sync import RESOURCE_ENTITY, SUPPLY_ENTITY, TRANSFER_ENTITY
from anjian.emergency.targets.rules import require_whole_position
from anjian.enterprises.service import enterprise_in_scope, enterprise_names

MAX_NEAREST = 50
# The nearest search looks within these radii (km) in turn before taking every resource.
SEARCH_RADII_KM = (25.0, 100.0, 400.0)


def _audit(
    session: Session, actor: Actor, action: str, res: EmergencyResource, **detail: Any
) -> None:
    audit_record(
        session,
        actor,
        f"emergency.resource.{action}",
        RESOURCE_ENTITY,
        res,
        detail={"name": res.name, "kind": res.kind, **detail},
    )


def placed(
    session: Session, scope: Scope, division_code: str, enterprise_id: int | None
) -> tuple[str, int | None]:
    """The division and enterprise of a new resource or event: an enterprise's (in scope) or
    a division of the caller's jurisdiction."""
    if enterprise_id is not None:
        ent = enterprise_in_scope(session, scope, enterprise_id, field="enterprise_id")
        return ent.division_code, ent.id
    if scope.is_enterprise:
        raise Forbidden(
            "企业用户只能登记本企业的记录 (enterprise users record their own enterprise's)",
            field="enterprise_id",
        )
    if session.get(Division, division_code) is None:
        raise Invalid(
            f"行政区划代码不存在: {division_code} (unknown division)", field="division_code"
        )
    if not scope.covers_code(division_code):
        raise Forbidden(
            f"行政区划 {division_code} 不在您的管辖范围内 (outside your jurisdiction)",
            field="division_code",
        )
    return division_code, None


def create_resource(
    session: Session, actor: Actor, scope: Scope, data: ResourceCreate
) -> EmergencyResource:
    """Register a resource (audited, synced)."""
    division, enterprise_id = placed(session, scope, data.division_code, data.enterprise_id)
    require_whole_position(data.lng, data.lat)
    fields = data.model_dump(exclude={"division_code", "enterprise_id", "contact_phone"})
    res = EmergencyResource(
        **fields,
        division_code=division,
        enterprise_id=enterprise_id,
        contact_phone_enc=field_cipher().encrypt(data.contact_phone),
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    session.add(res)
    session.flush()
    record_change(session, res, entity=RESOURCE_ENTITY)
    _audit(session, actor, "create", res, division_code=division)
    return res


def get_resource(session: Session, scope: Scope, resource_id: int) -> EmergencyResource:
    """One resource in scope; absent and out of scope are the same 404."""
    return scope.one(session, EmergencyResource, resource_id)


def _writable(session: Session, scope: Scope, resource_id: int) -> EmergencyResource:
    res = get_resource(session, scope, resource_id)
    ensure_writable_here(res)
    return res


@unscoped("the resource an event's dispatch names, after the dispatch was read in scope")
def set_status_for_dispatch(session: Session, actor: Actor, resource_uid: str, step: str) -> None:
    """A dispatched resource's own status follows its dispatch where this node keeps it:
    执行任务中 once it has left, 可调用 once released. A resource kept at another node is left
    to that node."""
    res = session.scalar(select(EmergencyResource).where(EmergencyResource.uid == resource_uid))
    if res is None or res.origin_node not in ("", get_settings().effective_node_id):
        return
    wanted = ResourceStatus.AVAILABLE if step == "released" else ResourceStatus.DEPLOYED
    if res.status != wanted:
        before, res.status = res.status, str(wanted)
        record_change(session, res, entity=RESOURCE_ENTITY)
        _audit(session, actor, "update", res, status={"from": before, "to": res.status})


def update_resource(
    session: Session, actor: Actor, scope: Scope, resource_id: int, data: ResourceUpdate
) -> EmergencyResource:
    """Change the fields sent (a no-op writes nothing); the phone is kept encrypted and the
    audit names the fields, never the number."""
    res = _writable(session, scope, resource_id)
    wanted = data.changes()
    require_whole_position(wanted.get("lng", res.lng), wanted.get("lat", res.lat))
    phone_changed = False
    if "contact_phone" in wanted:
        cipher, phone = field_cipher(), wanted.pop("contact_phone")
        phone_changed = phone != cipher.decrypt(res.contact_phone_enc)
        if phone_changed:
            res.contact_phone_enc = cipher.encrypt(phone)
    changed = apply_changes(res, wanted)
    if not changed and not phone_changed:
        return res
    record_change(session, res, entity=RESOURCE_ENTITY)
    fields = sorted([*changed, *(["contact_phone"] if phone_changed else [])])
    _audit(session, actor, "update", res, fields=fields)
    return res


# The list's order: by kind, then name.
ORDER = (EmergencyResource.kind, EmergencyResource.name, EmergencyResource.id)
# At most this many resources on a map.
MAP_LIMIT = 2_000


def _listed(
    scope: Scope,
    *,
    kind: str | None = None,
    status: str | None = None,
    division: str | None = None,
    enterprise_id: int | None = None,
    q: str | None = None,
) -> Select[Any]:
    stmt = of_enterprise_in(scope, EmergencyResource, enterprise_id, division)
    stmt = in_state(
        stmt, EmergencyResource.kind, kind, KIND_LABELS, f"未知资源类别: {kind} (unknown kind)"
    )
    stmt = in_state(
        stmt,
        EmergencyResource.status,
        status,
        STATUS_LABELS,
        f"未知资源状态: {status} (unknown status)",
    )
    if q and q.strip():
        stmt = stmt.where(EmergencyResource.name.contains(q.strip(), autoescape=True))
    return stmt


def list_resources(
    session: Session,
    scope: Scope,
    *,
    kind: str | None = None,
    status: str | None = None,
    division: str | None = None,
    enterprise_id: int | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[EmergencyResource], int]:
    """Resources in scope by kind and name, with their number."""
    stmt = _listed(
        scope, kind=kind, status=status, division=division, enterprise_id=enterprise_id, q=q
    )
    return paged(session, stmt, ORDER, limit=limit, offset=offset)


def _ranked(scope: Scope, kind: str | None) -> Any:
    """The resources of :func:`list_resources` (of ``kind``) with their place in its order
    (``place``, from 1)."""
    place = func.row_number().over(order_by=ORDER).label("place")
    return _listed(scope, kind=kind).add_columns(place).subquery()


def map_points(
    session: Session, scope: Scope, *, kind: str | None = None, limit: int = MAP_LIMIT
) -> list[tuple[int, EmergencyResource]]:
    """The resources in scope (of ``kind``) that have a position, for a map, in the list's
    order; each with its place in :func:`list_resources` of the same kind (from 0: the row a
    marker links to is on page ``place // size + 1``)."""
    ranked = _ranked(scope, kind)
    res = aliased(EmergencyResource, ranked)
    stmt = (
        select(ranked.c.place, res)
        .where(res.lng.is_not(None), res.lat.is_not(None))
        .order_by(ranked.c.place)
        .limit(limit)
    )
    return [(place - 1, row) for place, row in session.execute(stmt)]


def place_in_list(session: Session, scope: Scope, resource_id: int, kind: str | None) -> int:
    """Where a resource in scope stands in :func:`list_resources` of ``kind`` (from 0; 0 when
    it is not among them)."""
    ranked = _ranked(scope, kind)
    place = session.scalar(select(ranked.c.place).where(ranked.c.id == resource_id))
    return (place or 1) - 1


@unscoped("the supplies of warehouses the caller read in scope")
def supplies_of(session: Session, warehouse_ids: list[int]) -> dict[int, list[EmergencySupply]]:
    """The supplies of warehouses already read in scope, by warehouse."""
    out: dict[int, list[EmergencySupply]] = {w: [] for w in warehouse_ids}
    if not warehouse_ids:
        return out
    rows = session.scalars(
        select(EmergencySupply)
        .where(EmergencySupply.warehouse_id.in_(warehouse_ids), EmergencySupply.deleted.is_(False))
        .order_by(EmergencySupply.name, EmergencySupply.id)
    )
    for row in rows:
        out[row.warehouse_id].append(row)
    return out


def _supply_view(s: EmergencySupply, today: date) -> SupplyRead:
    return copied(SupplyRead, s, expired=s.expires_on is not None and s.expires_on < today)


def present(session: Session, rows: list[EmergencyResource]) -> list[ResourceRead]:
    """The user-facing views: names for codes, phones masked, a warehouse's supplies."""
    divisions = division_names(session, {r.division_code for r in rows})
    ents = enterprise_names(session, {r.enterprise_id for r in rows if r.enterprise_id})
    stocks = supplies_of(session, [r.id for r in rows if r.kind == ResourceKind.WAREHOUSE])
    cipher = field_cipher()
    today = today_in_china()
    return [
        copied(
            ResourceRead,
            r,
            kind_label=KIND_LABELS.get(r.kind, r.kind),
            status_label=STATUS_LABELS.get(r.status, r.status),
            division_name=divisions.get(r.division_code, ""),
            enterprise_name=ents.get(r.enterprise_id or 0, ""),
            contact_phone=mask_phone(cipher.decrypt(r.contact_phone_enc)),
            supplies=[_supply_view(s, today) for s in stocks.get(r.id, [])],
        )
        for r in rows
    ]


def reveal_contact(
    session: Session, actor: Actor, scope: Scope, resource_id: int
) -> RevealedContacts:
    """The contact's full phone of a resource in scope (audited as a reveal)."""
    res = get_resource(session, scope, resource_id)
    phone = field_cipher().decrypt(res.contact_phone_enc)
    contact = Contact(field="contact_phone", label="联系人", name=res.contact_name, phone=phone)
    return reveal(session, actor, RESOURCE_ENTITY, res, [contact])


def nearest(
    session: Session,
    scope: Scope,
    lng: float,
    lat: float,
    *,
    kind: str | None = None,
    limit: int = 10,
) -> list[tuple[float, EmergencyResource]]:
    """The resources in scope (of ``kind``) nearest to (lng, lat) by great-circle distance,
    nearest first, with their distance in km. Resources without a position are left out. The
    search widens through :data:`SEARCH_RADII_KM` until it has ``limit`` candidates."""
    if kind is not None and kind not in KIND_LABELS:
        raise Invalid(f"未知资源类别: {kind} (unknown kind)", field="kind")
    base = scope.select(
        EmergencyResource, EmergencyResource.id, EmergencyResource.lng, EmergencyResource.lat
    ).where(EmergencyResource.lng.is_not(None), EmergencyResource.lat.is_not(None))
    if kind is not None:
        base = base.where(EmergencyResource.kind == kind)
    found: list[tuple[float, int]] = []
    for radius in (*SEARCH_RADII_KM, None):
        stmt = base
        if radius is not None:
            west, south, east, north = bounding_box(lng, lat, radius)
            stmt = stmt.where(EmergencyResource.lat.between(south, north))
            if west > -180 or east < 180:
                stmt = stmt.where(EmergencyResource.lng.between(west, east))
        found = sorted(
            (great_circle_km(lng, lat, r_lng, r_lat), rid)
            for rid, r_lng, r_lat in session.execute(stmt)
        )
        # within the radius, the box's corners hold points farther than the radius
        inside = [f for f in found if radius is None or f[0] <= radius]
        if len(inside) >= limit or radius is None:
            found = inside
            break
    chosen = found[:limit]
    rows = _by_id(session, [rid for _, rid in chosen])
    return [(round(d, 3), rows[rid]) for d, rid in chosen]


@unscoped("the rows of ids found by a scoped query")
def _by_id(session: Session, ids: list[int]) -> dict[int, EmergencyResource]:
    stmt = select(EmergencyResource).where(EmergencyResource.id.in_(ids))
    return {r.id: r for r in session.scalars(stmt)}


@unscoped("the resources dispatched to an event the caller read in scope")
def by_uid(session: Session, uids: list[str]) -> dict[str, EmergencyResource]:
    """The resources of these uids held here (a resource of another node may be absent)."""
    if not uids:
        return {}
    stmt = select(EmergencyResource).where(EmergencyResource.uid.in_(uids))
    return {r.uid: r for r in session.scalars(stmt)}


def near_views(
    session: Session, found: list[tuple[float, EmergencyResource]]
) -> list[NearResource]:
    """The nearest resources as users see them, with whether each can be called now."""
    views = present(session, [r for _, r in found])
    return [
        NearResource(distance_km=d, available=r.status == ResourceStatus.AVAILABLE, resource=view)
        for (d, r), view in zip(found, views, strict=True)
    ]


# --- supplies and transfers ---------------------------------------------------------------


def _warehouse(session: Session, scope: Scope, warehouse_id: int, field: str) -> EmergencyResource:
    res = scope.one(session, EmergencyResource, warehouse_id, field=field)
    if res.kind != ResourceKind.WAREHOUSE:
        raise Invalid(f"{res.name} 不是物资储备库 (not a warehouse)", field=field)
    ensure_writable_here(res)
    return res


def _stock_of(
    session: Session,
    actor: Actor,
    wh: EmergencyResource,
    name: str,
    unit: str,
    expires_on: date | None,
) -> tuple[EmergencySupply, int | None]:
    """A warehouse's stock of a supply (名称 + 单位) and its quantity before; a new, empty stock
    (expiring on ``expires_on``) and None when the warehouse has none yet."""
    held = supplies_of(session, [wh.id])[wh.id]
    supply = next((s for s in held if (s.name, s.unit) == (name, unit)), None)
    if supply is not None:
        return supply, supply.quantity
    supply = EmergencySupply(
        warehouse_id=wh.id,
        division_code=wh.division_code,
        enterprise_id=wh.enterprise_id,
        name=name,
        unit=unit,
        quantity=0,
        expires_on=expires_on,
        updated_by=actor.username,
        origin_node="",
    )
    session.add(supply)
    session.flush()
    return supply, None


def set_supply(
    session: Session, actor: Actor, scope: Scope, warehouse_id: int, data: SupplySet
) -> EmergencySupply:
    """Set a warehouse's stock of a supply (名称 + 单位): added when new, counted again when
    not (an inventory, 盘点)."""
    wh = _warehouse(session, scope, warehouse_id, "warehouse_id")
    name, unit = data.name.strip(), data.unit.strip()
    supply, before = _stock_of(session, actor, wh, name, unit, data.expires_on)
    # A count that does not mention the expiry keeps it; an explicit null clears it.
    expires_on = data.expires_on if "expires_on" in data.model_fields_set else supply.expires_on
    if before is not None and (before, supply.expires_on) == (data.quantity, expires_on):
        return supply
    supply.quantity, supply.expires_on = data.quantity, expires_on
    supply.updated_by = actor.username
    record_change(session, supply, entity=SUPPLY_ENTITY)
    _audit(
        session,
        actor,
        "stock",
        wh,
        supply=name,
        unit=unit,
        quantity={"from": before, "to": data.quantity},
    )
    return supply


def transfer(
    session: Session, actor: Actor, scope: Scope, data: TransferCreate
) -> EmergencyTransfer:
    """调拨: move a quantity of a supply from one warehouse to another of this node, both
    stocks in one transaction; refused when the source holds less (409)."""
    if data.from_warehouse_id == data.to_warehouse_id:
        raise Invalid("调出和调入不能是同一个储备库 (same warehouse)", field="to_warehouse_id")
    source = _warehouse(session, scope, data.from_warehouse_id, "from_warehouse_id")
    target = _warehouse(session, scope, data.to_warehouse_id, "to_warehouse_id")
    supply = next(
        (s for s in supplies_of(session, [source.id])[source.id] if s.id == data.supply_id), None
    )
    if supply is None:
        raise Invalid(f"调出库没有该物资: {data.supply_id} (no such supply)", field="supply_id")
    if supply.quantity < data.quantity:
        raise Conflict(
            f"{supply.name}库存 {supply.quantity}{supply.unit}，不足 {data.quantity}{supply.unit} "
            "(not enough in stock)",
            field="quantity",
        )
    landing, _ = _stock_of(session, actor, target, supply.name, supply.unit, supply.expires_on)
    supply.quantity -= data.quantity
    landing.quantity += data.quantity
    for s in (supply, landing):
        s.updated_by = actor.username
        record_change(session, s, entity=SUPPLY_ENTITY)
    move = EmergencyTransfer(
        from_warehouse_id=source.id,
        to_warehouse_id=target.id,
        division_code=source.division_code,
        enterprise_id=source.enterprise_id,
        supply_name=supply.name,
        unit=supply.unit,
        quantity=data.quantity,
        reason=data.reason.strip(),
        transferred_by=actor.username,
        transferred_at=utcnow(),
        origin_node="",
    )
    session.add(move)
    session.flush()
    record_change(session, move, entity=TRANSFER_ENTITY)
    detail = {"supply": supply.name, "quantity": data.quantity, "to": target.name}
    _audit(session, actor, "transfer", source, **detail)
    return move


def transfers_of(session: Session, scope: Scope, warehouse_id: int) -> list[EmergencyTransfer]:
    """A warehouse's transfers, out and in, the latest first."""
    return _transfers(session, get_resource(session, scope, warehouse_id).id)


@unscoped("the transfers of a warehouse the caller read in scope")
def _transfers(session: Session, warehouse_id: int) -> list[EmergencyTransfer]:
    wh_id = warehouse_id
    stmt = (
        select(EmergencyTransfer)
        .where(
            (EmergencyTransfer.from_warehouse_id == wh_id)
            | (EmergencyTransfer.to_warehouse_id == wh_id)
        )
        .order_by(EmergencyTransfer.transferred_at.desc(), EmergencyTransfer.id.desc())
    )
    return list(session.scalars(stmt))
