"""Protection targets (防护目标): registered by an agency in its jurisdiction, listed by kind,
changed and removed (a tombstone) at the node that keeps them, the contact's phone revealed on
purpose. Scoped by division (enterprise users reach none), audited, synced up the tiers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.contacts import Contact, RevealedContacts, reveal
from anjian.core.crypto import mask_phone
from anjian.core.divisions.service import division_names
from anjian.core.errors import Forbidden
from anjian.core.iam.accounts import field_cipher
from anjian.core.listing import in_state
from anjian.core.paging import paged
from anjian.core.records import apply_changes, copied
from anjian.core.scope import Scope, division_filter
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.emergency.resources import placed
from anjian.emergency.targets.models import ProtectionTarget
from anjian.emergency.targets.rules import KIND_LABELS, require_whole_position
from anjian.emergency.targets.schemas import TargetCreate, TargetRead, TargetUpdate
from anjian.emergency.targets.sync import TARGET_ENTITY


def _audit(
    session: Session, actor: Actor, action: str, target: ProtectionTarget, **detail: Any
) -> None:
    audit_record(
        session,
        actor,
        action,
        TARGET_ENTITY,
        target,
        detail={"name": target.name, "kind": target.kind, **detail},
    )


def ensure_agency(scope: Scope) -> None:
    """Targets are the agencies' records: an enterprise user may not register them (403, and
    the refusal is audited as any refused write)."""
    if scope.is_enterprise:
        raise Forbidden(
            "企业用户不能登记防护目标 (protection targets are recorded by the agencies)",
            field="division_code",
        )


def _division(session: Session, scope: Scope, division_code: str) -> str:
    """The division of a new target: one of the caller's jurisdiction, placed as a resource
    of an agency is."""
    ensure_agency(scope)
    division, _ = placed(session, scope, division_code, None)
    return division


def create_target(
    session: Session, actor: Actor, scope: Scope, data: TargetCreate
) -> ProtectionTarget:
    """Register a protection target (audited, synced)."""
    division = _division(session, scope, data.division_code)
    require_whole_position(data.lng, data.lat)
    fields = data.model_dump(exclude={"division_code", "contact_phone"})
    target = ProtectionTarget(
        **fields,
        division_code=division,
        contact_phone_enc=field_cipher().encrypt(data.contact_phone),
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    session.add(target)
    session.flush()
    record_change(session, target, entity=TARGET_ENTITY)
    _audit(
        session,
        actor,
        "emergency.target.create",
        target,
        division_code=division,
        population=target.population,
    )
    return target


def get_target(session: Session, scope: Scope, target_id: int) -> ProtectionTarget:
    """One target in scope; absent and out of scope are the same 404."""
    return scope.one(session, ProtectionTarget, target_id)


def _writable(session: Session, scope: Scope, target_id: int) -> ProtectionTarget:
    target = get_target(session, scope, target_id)
    ensure_writable_here(target)
    return target


def update_target(
    session: Session, actor: Actor, scope: Scope, target_id: int, data: TargetUpdate
) -> ProtectionTarget:
    """Change the fields sent (a no-op writes nothing); the phone is kept encrypted and the
    audit names the fields, never the number."""
    target = _writable(session, scope, target_id)
    wanted = data.changes()
    require_whole_position(wanted.get("lng", target.lng), wanted.get("lat", target.lat))
    phone_changed = False
    if "contact_phone" in wanted:
        cipher, phone = field_cipher(), wanted.pop("contact_phone")
        phone_changed = phone != cipher.decrypt(target.contact_phone_enc)
        if phone_changed:
            target.contact_phone_enc = cipher.encrypt(phone)
    changed = apply_changes(target, wanted)
    if not changed and not phone_changed:
        return target
    record_change(session, target, entity=TARGET_ENTITY)
    fields = sorted([*changed, *(["contact_phone"] if phone_changed else [])])
    _audit(session, actor, "emergency.target.update", target, fields=fields)
    return target


def delete_target(session: Session, actor: Actor, scope: Scope, target_id: int) -> None:
    """Remove a target: a tombstone, so that the removal travels up to the other nodes."""
    target = _writable(session, scope, target_id)
    target.deleted = True
    record_change(session, target, entity=TARGET_ENTITY)
    _audit(session, actor, "emergency.target.delete", target, division_code=target.division_code)


def list_targets(
    session: Session,
    scope: Scope,
    *,
    kind: str | None = None,
    division: str | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[ProtectionTarget], int]:
    """Targets in scope by kind, division (and below) and name or address, with their
    number."""
    stmt = scope.select(ProtectionTarget)
    if division:
        stmt = stmt.where(division_filter(ProtectionTarget.division_code, division))
    stmt = in_state(
        stmt, ProtectionTarget.kind, kind, KIND_LABELS, f"未知目标类别: {kind} (unknown kind)"
    )
    if q and q.strip():
        words = q.strip()
        stmt = stmt.where(
            or_(
                ProtectionTarget.name.contains(words, autoescape=True),
                ProtectionTarget.address.contains(words, autoescape=True),
            )
        )
    order = (ProtectionTarget.kind, ProtectionTarget.name, ProtectionTarget.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def present(session: Session, rows: list[ProtectionTarget]) -> list[TargetRead]:
    """The user-facing views: names for codes, phones masked."""
    divisions = division_names(session, {t.division_code for t in rows})
    cipher = field_cipher()
    return [
        copied(
            TargetRead,
            t,
            kind_label=KIND_LABELS.get(t.kind, t.kind),
            division_name=divisions.get(t.division_code, ""),
            contact_phone=mask_phone(cipher.decrypt(t.contact_phone_enc)),
        )
        for t in rows
    ]


def reveal_contact(
    session: Session, actor: Actor, scope: Scope, target_id: int
) -> RevealedContacts:
    """The contact's full phone of a target in scope (audited as a reveal)."""
    target = get_target(session, scope, target_id)
    phone = field_cipher().decrypt(target.contact_phone_enc)
    contact = Contact(field="contact_phone", label="联系人", name=target.contact_name, phone=phone)
    return reveal(session, actor, TARGET_ENTITY, target, [contact])
