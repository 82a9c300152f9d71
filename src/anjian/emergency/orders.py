"""Orders down an event (指令与签收): an agency that follows an event — the node that keeps it
or one above it — orders the divisions below it about the event through the directives
mechanism, so the order flows down to their nodes and each division's 签收 flows back up.
The event's page and API list the orders with their receipts, and its timeline reads them
in with the event's own lines (at every node, whoever keeps the event)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.divisions.rules import ancestors_and_self
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Invalid, NotFound
from anjian.core.iam.models import User
from anjian.core.scope import Scope, unscoped
from anjian.directives import service as directives
from anjian.directives.models import Directive, DirectiveKind, DirectiveReceipt
from anjian.directives.schemas import DirectiveCreate
from anjian.emergency.events import get_event
from anjian.emergency.models import EmergencyEvent
from anjian.emergency.rules.events import ENTRY_KINDS
from anjian.emergency.schemas import (
    EntryRead,
    EventRead,
    OrderCreate,
    OrderRead,
    OrderReceiptRead,
)

SUBJECT = "emergency_event"


def issue(
    session: Session, actor: Actor, scope: Scope, user: User, event_id: int, data: OrderCreate
) -> Directive:
    """下达指令 about an event in scope and still being handled, to a division below the
    issuer's own (audited as a directive; synced down)."""
    ev = get_event(session, scope, event_id)
    if ev.state != "active":
        raise Conflict("事件已结束，不能再下达指令 (the event is closed)", field="state")
    if data.target_division == user.division_code:
        raise Invalid(
            "指令应下达给下级行政区划 (an order goes to a division below yours)",
            field="target_division",
        )
    order = DirectiveCreate(
        kind=DirectiveKind.DIRECTIVE,
        title=data.title.strip(),
        body=data.body.strip(),
        target_division=data.target_division,
    )
    return directives.issue(session, actor, scope, user, order, subject=(SUBJECT, ev.uid))


def _orders(session: Session, scope: Scope, user: User, ev: EmergencyEvent) -> list[Directive]:
    if scope.is_enterprise:
        return []
    stmt = select(Directive).where(
        Directive.subject_entity == SUBJECT,
        Directive.subject_uid == ev.uid,
        Directive.deleted.is_(False),
        directives.visible_to(scope, user),
    )
    return list(session.scalars(stmt.order_by(Directive.issued_at)))


def sign(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    event_id: int,
    uid: str,
    note: str = "",
) -> DirectiveReceipt:
    """签收 an order about the event for the user's division (the receipt flows up)."""
    read(session, scope, user, event_id, uid)
    return directives.sign(session, actor, scope, user, uid, note)


def of_event(session: Session, scope: Scope, user: User, ev: EmergencyEvent) -> list[OrderRead]:
    """The orders about ``ev`` the user may read, oldest first, with the receipts in scope."""
    found = _orders(session, scope, user, ev)
    receipts = {d.uid: directives.receipts_of(session, scope, d) for d in found}
    names = division_names(
        session,
        {d.target_division for d in found}
        | {r.division_code for rows in receipts.values() for r in rows},
    )
    mine = set(ancestors_and_self(user.division_code))
    out = []
    for d in found:
        rows = receipts[d.uid]
        signers = {r.division_code for r in rows}
        out.append(
            OrderRead(
                uid=d.uid,
                title=d.title,
                body=d.body,
                issuer_name=d.issuer_name,
                issuer_division=d.issuer_division,
                target_division=d.target_division,
                target_name=names.get(d.target_division, d.target_division),
                issued_at=d.issued_at,
                origin_node=d.origin_node,
                receipts=[
                    OrderReceiptRead(
                        division_code=r.division_code,
                        division_name=names.get(r.division_code, r.division_code),
                        signed_by=r.signed_by,
                        signed_at=r.signed_at,
                        note=r.note,
                        minutes=max(0, int((r.signed_at - d.issued_at).total_seconds() // 60)),
                    )
                    for r in rows
                ],
                signed=d.target_division in signers,
                can_sign=d.target_division in mine and user.division_code not in signers,
            )
        )
    return out


@unscoped("counts only, of an event the caller read in scope")
def revision(session: Session, ev: EmergencyEvent) -> str:
    """The number of orders about ``ev`` and of their receipts (changes when one arrives)."""
    about = select(Directive.uid).where(
        Directive.subject_entity == SUBJECT, Directive.subject_uid == ev.uid
    )
    issued = session.scalar(select(func.count()).select_from(about.subquery()))
    signed = session.scalar(select(func.count()).where(DirectiveReceipt.directive_uid.in_(about)))
    return f"{issued}.{signed}"


def read(session: Session, scope: Scope, user: User, event_id: int, uid: str) -> OrderRead:
    """One order about the event as :func:`of_event` shows it (404 when not readable)."""
    ev = get_event(session, scope, event_id)
    found = next((o for o in of_event(session, scope, user, ev) if o.uid == uid), None)
    if found is None:
        raise NotFound(f"该事件没有指令 {uid[:40]} (no such order)")
    return found


def with_orders(session: Session, scope: Scope, user: User, view: EventRead) -> EventRead:
    """``view`` with the orders about the event and its timeline read together with them:
    each order when it was issued, each receipt when it was signed."""
    ev = session.get(EmergencyEvent, view.id)
    if ev is None:
        return view
    view.orders = of_event(session, scope, user, ev)
    lines = [
        EntryRead(
            uid=o.uid,
            kind="order",
            kind_label=ENTRY_KINDS["order"],
            text=f"{o.issuer_name}下达指令：{o.title}（发往{o.target_name}）",
            detail={"directive": o.uid},
            at=o.issued_at,
            by=o.issuer_name,
        )
        for o in view.orders
    ]
    lines += [
        EntryRead(
            uid=f"{o.uid}:{r.division_code}",
            kind="signed",
            kind_label=ENTRY_KINDS["signed"],
            text=f"{r.division_name}签收指令：{o.title}（{r.signed_by}）",
            detail={"directive": o.uid},
            at=r.signed_at,
            by=r.signed_by,
        )
        for o in view.orders
        for r in o.receipts
    ]
    view.timeline = sorted([*view.timeline, *lines], key=lambda x: x.at)
    return view
