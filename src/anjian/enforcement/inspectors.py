"""Enforcement officers (执法人员) and their declared conflicts of interest (利害关系回避).

An agency registers its officials who hold an enforcement certificate; only registered, active
officers are drawn. Writes are audited; nothing here commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.errors import Conflict, NotFound
from anjian.core.iam.models import Role, User
from anjian.core.scope import Scope, unscoped
from anjian.db import utcnow
from anjian.enforcement.models import Inspector, InspectorConflict
from anjian.enforcement.schemas import ConflictCreate, ConflictRead, InspectorCreate, InspectorRead
from anjian.enterprises.service import enterprise_in_scope, enterprise_names


def _audit(session: Session, actor: Actor, action: str, ins: Inspector, **detail: Any) -> None:
    detail = {"name": ins.name, **detail}
    audit_record(
        session,
        actor,
        f"enforcement.inspector.{action}",
        "enforcement_inspector",
        ins,
        detail=detail,
    )


@unscoped("a user is registered once on the node, whoever registered them")
def _registered(session: Session, user_id: int) -> bool:
    return session.scalar(select(Inspector.id).where(Inspector.user_id == user_id)) is not None


def register_inspector(
    session: Session, actor: Actor, scope: Scope, data: InspectorCreate
) -> Inspector:
    """Register an official in scope as an enforcement officer of their division (409 when
    already registered). Enterprise users and administrators cannot be officers."""
    user = scope.one(session, User, data.user_id, field="user_id")
    if user.role != Role.OFFICIAL:
        raise Conflict(
            f"只有监管人员可登记为执法人员: {user.username} (only officials can be officers)"
        )
    if _registered(session, user.id):
        raise Conflict(
            f"{user.display_name or user.username} 已登记为执法人员 (already registered)"
        )
    ins = Inspector(
        user_id=user.id,
        division_code=user.division_code,
        name=user.display_name or user.username,
        certificate_no=data.certificate_no,
        active=True,
        created_at=utcnow(),
    )
    session.add(ins)
    session.flush()
    _audit(session, actor, "register", ins, certificate_no=ins.certificate_no)
    return ins


def get_inspector(session: Session, scope: Scope, inspector_id: int) -> Inspector:
    """One officer in scope; absent and out of scope are the same 404."""
    return scope.one(session, Inspector, inspector_id)


def set_active(
    session: Session, actor: Actor, scope: Scope, inspector_id: int, active: bool
) -> Inspector:
    """Take an officer off the draw (away, certificate expired) or back on."""
    ins = get_inspector(session, scope, inspector_id)
    ins.active = active
    if active:
        _audit(session, actor, "activate", ins)
    else:
        _audit(session, actor, "deactivate", ins)
    return ins


def list_inspectors(
    session: Session, scope: Scope, *, division: str | None = None
) -> list[Inspector]:
    """Officers in scope (of exactly ``division`` when given), by division then name."""
    stmt = scope.select(Inspector)
    if division:
        stmt = stmt.where(Inspector.division_code == division)
    return list(session.scalars(stmt.order_by(Inspector.division_code, Inspector.name)))


@unscoped("the conflicts of officers already read in scope")
def conflicts_of(
    session: Session, inspector_ids: Iterable[int]
) -> dict[int, list[InspectorConflict]]:
    """The declared conflicts of each officer."""
    wanted = sorted(set(inspector_ids))
    out: dict[int, list[InspectorConflict]] = {i: [] for i in wanted}
    if wanted:
        rows = session.scalars(
            select(InspectorConflict)
            .where(InspectorConflict.inspector_id.in_(wanted))
            .order_by(InspectorConflict.id)
        )
        for row in rows:
            out[row.inspector_id].append(row)
    return out


def declare_conflict(
    session: Session, actor: Actor, scope: Scope, inspector_id: int, data: ConflictCreate
) -> InspectorConflict:
    """Record an officer's conflict of interest with an enterprise in scope (409 when declared
    already)."""
    ins = get_inspector(session, scope, inspector_id)
    ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
    taken = select(InspectorConflict.id).where(
        InspectorConflict.inspector_id == ins.id, InspectorConflict.enterprise_id == ent.id
    )
    if session.scalar(taken) is not None:
        raise Conflict(f"已申报与 {ent.name} 的利害关系 (conflict already declared)")
    row = InspectorConflict(
        inspector_id=ins.id, enterprise_id=ent.id, reason=data.reason, declared_at=utcnow()
    )
    session.add(row)
    session.flush()
    _audit(session, actor, "conflict", ins, enterprise_id=ent.id, reason=data.reason)
    return row


def withdraw_conflict(
    session: Session, actor: Actor, scope: Scope, inspector_id: int, conflict_id: int
) -> None:
    """Withdraw a declared conflict (the officer may be drawn for that enterprise again)."""
    ins = get_inspector(session, scope, inspector_id)
    row = session.scalar(
        select(InspectorConflict).where(
            InspectorConflict.id == conflict_id, InspectorConflict.inspector_id == ins.id
        )
    )
    if row is None:
        raise NotFound(f"利害关系申报不存在: {conflict_id} (no such declaration)")
    session.delete(row)
    _audit(session, actor, "conflict_withdrawn", ins, enterprise_id=row.enterprise_id)


def present(session: Session, inspectors: list[Inspector]) -> list[InspectorRead]:
    """The officers with their declared conflicts, enterprises by name."""
    conflicts = conflicts_of(session, (i.id for i in inspectors))
    names = enterprise_names(session, (c.enterprise_id for cs in conflicts.values() for c in cs))
    out = []
    for ins in inspectors:
        view = InspectorRead.model_validate(ins)
        view.conflicts = [
            ConflictRead.model_validate(c).model_copy(
                update={"enterprise_name": names.get(c.enterprise_id, "")}
            )
            for c in conflicts[ins.id]
        ]
        out.append(view)
    return out
