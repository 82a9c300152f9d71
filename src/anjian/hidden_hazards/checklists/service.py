"""Inspection checklists (排查清单), which schedule the self-inspection tasks (排查任务, see
:mod:`.tasks`).

An enterprise keeps a checklist per post (岗位) and frequency (每日/每周/每月); each period of
an active checklist gets one task (:func:`ensure_tasks`, run by the background job and when a
checklist is made), which the enterprise's people (or an official in scope) report done with
the number of hazards found. The completion rate (完成率) is tasks done by their due date over
tasks due. Checklists and tasks are the enterprise's working tools: they stay at the node of
the enterprise (never synced; the hazards found travel up as hidden hazards), so only that
node writes them. They are in a user's scope when their enterprise is. Every write is audited,
in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.clock import today_in_china
from anjian.core.errors import Conflict, Invalid
from anjian.core.paging import paged
from anjian.core.scope import Scope, not_found
from anjian.core.sync.outbox import ensure_writable_here
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.service import enterprise_in_scope
from anjian.hidden_hazards.checklists.rules import FREQUENCIES
from anjian.hidden_hazards.checklists.schemas import ChecklistCreate, ChecklistItem, ChecklistUpdate
from anjian.hidden_hazards.checklists.tasks import drop_pending, ensure_task
from anjian.hidden_hazards.models import Checklist


def enterprise_for(session: Session, scope: Scope, enterprise_id: int | None) -> Enterprise:
    """The enterprise whose checklists are being written: in scope (an enterprise user's own by
    default) and kept at this node, since checklists stay at the enterprise's node."""
    if enterprise_id is None:
        if scope.enterprise_id is None:
            raise Invalid("请选择企业 (enterprise_id is required)", field="enterprise_id")
        enterprise_id = scope.enterprise_id
    ent = enterprise_in_scope(session, scope, enterprise_id, field="enterprise_id")
    ensure_writable_here(ent)
    return ent


# --- checklists -------------------------------------------------------------------------------


def get_checklist(session: Session, scope: Scope, checklist_id: int) -> Checklist:
    """One checklist in scope; absent and out of scope are the same 404."""
    stmt = select(Checklist).join(Enterprise, Enterprise.id == Checklist.enterprise_id)
    found = session.scalars(
        scope.restrict(stmt, Enterprise).where(Checklist.id == checklist_id)
    ).first()
    if found is None:
        raise not_found(
            session,
            Checklist.id,
            checklist_id,
            f"排查清单不存在或不在管辖范围内: {checklist_id} (no such checklist in your jurisdiction)",
        )
    return found


def list_checklists(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    active: bool | None = None,
    frequency: str | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Checklist], int]:
    """The checklists in scope, by enterprise, name and post, with the number of matches."""
    stmt = scope.restrict(
        select(Checklist).join(Enterprise, Enterprise.id == Checklist.enterprise_id), Enterprise
    )
    if enterprise_id is not None:
        stmt = stmt.where(Checklist.enterprise_id == enterprise_id)
    if active is not None:
        stmt = stmt.where(Checklist.active.is_(active))
    if frequency:
        if frequency not in FREQUENCIES:
            raise Invalid(f"未知频次: {frequency} (unknown frequency)", field="frequency")
        stmt = stmt.where(Checklist.frequency == frequency)
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            Checklist.name.contains(term, autoescape=True)
            | Checklist.post.contains(term, autoescape=True)
        )
    order = (Enterprise.name, Checklist.name, Checklist.post, Checklist.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def active_duplicate(
    session: Session,
    enterprise_id: int,
    name: str,
    post: str,
    frequency: str,
    *,
    other_than: int | None = None,
) -> Checklist | None:
    """An active checklist of the enterprise with this name, post and frequency, if any."""
    stmt = select(Checklist).where(
        Checklist.enterprise_id == enterprise_id,
        Checklist.name == name,
        Checklist.post == post,
        Checklist.frequency == frequency,
        Checklist.active.is_(True),
    )
    if other_than is not None:
        stmt = stmt.where(Checklist.id != other_than)
    return session.scalars(stmt).first()


def _duplicate_conflict(name: str) -> Conflict:
    return Conflict(
        f"该企业已有同名、同岗位、同频次的在用清单: {name} "
        "(an active checklist with this name, post and frequency exists)",
        field="name",
    )


def add_checklist(
    session: Session,
    ent: Enterprise,
    *,
    name: str,
    post: str,
    frequency: str,
    items: Sequence[ChecklistItem],
    today: date | None = None,
) -> Checklist:
    """Store a checklist already validated and schedule its current task (no audit: the
    caller records what it did, one checklist or a whole import)."""
    cl = Checklist(
        enterprise_id=ent.id,
        name=name,
        post=post,
        frequency=frequency,
        items=[item.model_dump() for item in items],
        active=True,
        created_at=utcnow(),
    )
    session.add(cl)
    session.flush()
    ensure_task(session, cl, today or today_in_china())
    return cl


def create_checklist(
    session: Session, actor: Actor, scope: Scope, data: ChecklistCreate
) -> Checklist:
    """A new checklist of an enterprise in scope; its task of the current period is due now."""
    ent = enterprise_for(session, scope, data.enterprise_id)
    if active_duplicate(session, ent.id, data.name, data.post, data.frequency):
        raise _duplicate_conflict(data.name)
    cl = add_checklist(
        session, ent, name=data.name, post=data.post, frequency=data.frequency, items=data.items
    )
    _audit_checklist(
        session,
        actor,
        "create",
        cl,
        ent,
        enterprise_id=ent.id,
        name=cl.name,
        post=cl.post,
        frequency=cl.frequency,
        items=len(cl.items),
    )
    return cl


def _audit_checklist(
    session: Session, actor: Actor, verb: str, cl: Checklist, ent: Enterprise, **detail: Any
) -> None:
    """Audit ``checklist.<verb>`` on ``cl``, in its enterprise's division."""
    audit(
        session,
        actor,
        f"checklist.{verb}",
        object_type="checklist",
        object_id=str(cl.id),
        division_code=ent.division_code,
        detail=detail,
    )


def _writable(session: Session, scope: Scope, checklist_id: int) -> tuple[Checklist, Enterprise]:
    cl = get_checklist(session, scope, checklist_id)
    ent = session.get(Enterprise, cl.enterprise_id)
    assert ent is not None  # the scoped query joined it
    ensure_writable_here(ent)
    if not cl.active:
        raise Conflict("该清单已停用 (the checklist is deactivated)", field="active")
    return cl, ent


def update_checklist(
    session: Session, actor: Actor, scope: Scope, checklist_id: int, data: ChecklistUpdate
) -> Checklist:
    """Change the fields sent; a new frequency replaces the pending task by one of the new
    schedule."""
    cl, ent = _writable(session, scope, checklist_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    name = changes.get("name", cl.name)
    post = changes.get("post", cl.post)
    frequency = changes.get("frequency", cl.frequency)
    if active_duplicate(session, ent.id, name, post, frequency, other_than=cl.id):
        raise _duplicate_conflict(name)
    changed = sorted(k for k, v in changes.items() if getattr(cl, k) != v)
    rescheduled = frequency != cl.frequency
    cl.name, cl.post, cl.frequency = name, post, frequency
    if data.items is not None:
        cl.items = [item.model_dump() for item in data.items]
    if rescheduled:
        today = today_in_china()
        drop_pending(session, cl, today)
        session.flush()
        ensure_task(session, cl, today)
    _audit_checklist(session, actor, "update", cl, ent, name=cl.name, changed=changed)
    return cl


def deactivate_checklist(
    session: Session, actor: Actor, scope: Scope, checklist_id: int
) -> Checklist:
    """停用: no more tasks; the pending one goes, the record of past ones stays."""
    cl, ent = _writable(session, scope, checklist_id)
    cl.active = False
    drop_pending(session, cl, today_in_china())
    _audit_checklist(session, actor, "deactivate", cl, ent, name=cl.name)
    return cl
