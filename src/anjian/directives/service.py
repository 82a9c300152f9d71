"""Directive use cases: issue, list for a jurisdiction, sign (签收).

A directive is seen by the divisions it is addressed to — its target and everything below it,
so a user sees those addressed to their division or above it (:func:`addressed_to`) — and by
the officials whose jurisdiction it was issued into (:func:`visible_to`). Receipts are read in
the user's scope like any scoped record."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import ancestors_and_self
from anjian.core.errors import Conflict, Forbidden, Invalid, NotFound
from anjian.core.iam.models import User
from anjian.core.orgs.models import Organisation
from anjian.core.scope import Scope, not_found, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.directives.models import Directive, DirectiveKind, DirectiveReceipt
from anjian.directives.schemas import DirectiveCreate, SupervisionCreate
from anjian.directives.sync import DIRECTIVE_ENTITY, RECEIPT_ENTITY


def issue(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    data: DirectiveCreate,
    *,
    kind: str | None = None,
    subject: tuple[str, str] | None = None,
) -> Directive:
    """Issue a notice or directive to a jurisdiction inside the issuer's (audited, synced down).
    ``kind``/``subject``: a 挂牌督办 order (``supervision``) on one record, (entity, uid)."""
    if scope.is_enterprise:
        raise Forbidden("企业用户不能下发通知 (enterprise users cannot issue directives)")
    if session.get(Division, data.target_division) is None:
        raise Invalid(
            f"行政区划代码不存在: {data.target_division} (unknown division)",
            field="target_division",
        )
    if not scope.covers_code(data.target_division):
        raise Forbidden(
            f"只能向本辖区下发: {data.target_division} 不在管辖范围内 "
            "(target outside your jurisdiction)"
        )
    org = session.get(Organisation, user.org_id) if user.org_id else None
    directive = Directive(
        kind=kind or data.kind,
        title=data.title.strip(),
        body=data.body,
        issuer_division=user.division_code,
        issuer_name=org.name if org else user.display_name,
        target_division=data.target_division,
        issued_at=utcnow(),
        due_date=data.due_date,
        subject_entity=subject[0] if subject else "",
        subject_uid=subject[1] if subject else "",
        origin_node="",
    )
    record_change(session, directive, entity=DIRECTIVE_ENTITY)
    audit(
        session,
        actor,
        "directive.issue",
        object_type="directive",
        object_id=directive.uid,
        division_code=data.target_division,
        detail={"title": directive.title, "kind": directive.kind, "subject": list(subject or ())},
    )
    return directive


def _open_orders(entity: str) -> tuple[ColumnElement[bool], ...]:
    return (
        Directive.kind == DirectiveKind.SUPERVISION,
        Directive.subject_entity == entity,
        Directive.closed_at.is_(None),
        Directive.deleted.is_(False),
    )


def open_supervision(session: Session, entity: str, uid: str) -> Directive | None:
    """The 挂牌督办 order on record (``entity``, ``uid``) its issuer has not closed yet."""
    return session.scalar(
        select(Directive).where(*_open_orders(entity), Directive.subject_uid == uid)
    )


def open_supervisions(entity: str) -> Select[tuple[str]]:
    """The uids of the records of ``entity`` under an open 挂牌督办 order (a subquery or a
    query to narrow further)."""
    return select(Directive.subject_uid).where(*_open_orders(entity))


def supervise(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    data: SupervisionCreate,
    *,
    subject: tuple[str, str],
    target_division: str,
    default_title: str,
) -> Directive:
    """挂牌督办: put one record (``subject``: entity and uid) under the agency's supervision by
    an order addressed to ``target_division`` (409 while one is open, 422 for a past due date).
    The callers judge whether the record may be supervised by this agency."""
    if open_supervision(session, *subject) is not None:
        raise Conflict("该事项已在挂牌督办中 (already under supervision)")
    if data.due_date < utcnow().date():
        raise Invalid("督办期限不能早于今天 (due date is in the past)", field="due_date")
    order = DirectiveCreate(
        kind=DirectiveKind.DIRECTIVE,
        title=data.title.strip() or default_title,
        body=data.requirements,
        target_division=target_division,
        due_date=data.due_date,
    )
    return issue(
        session, actor, scope, user, order, kind=DirectiveKind.SUPERVISION, subject=subject
    )


def addressed_to(division_code: str) -> ColumnElement[bool]:
    """The condition "the directive is addressed to ``division_code`` or a division above it"
    (a directive reaches everything below its target)."""
    return Directive.target_division.in_(ancestors_and_self(division_code))


def visible_to(scope: Scope, user: User) -> ColumnElement[bool]:
    """The condition "``user`` may read the directive": addressed to their division or above
    it, or issued into their jurisdiction."""
    return or_(addressed_to(user.division_code), scope.within(Directive.target_division))


@unscoped("a division signs for itself, even when its own division is outside its scope")
def signed_by(division_code: str) -> Select[tuple[str]]:
    """The uids of the directives ``division_code`` has signed for (a subquery, or a query to
    narrow further)."""
    return select(DirectiveReceipt.directive_uid).where(
        DirectiveReceipt.division_code == division_code
    )


def list_for(session: Session, scope: Scope, user: User, limit: int = 100) -> list[Directive]:
    """Directives the user's jurisdiction received or issued, newest first."""
    if scope.is_enterprise:
        return []
    stmt = (
        select(Directive)
        .where(Directive.deleted.is_(False), visible_to(scope, user))
        .order_by(Directive.issued_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def get(session: Session, scope: Scope, user: User, uid: str) -> Directive:
    if scope.is_enterprise:
        raise NotFound("没有该通知 (no such directive)")
    d = session.scalar(select(Directive).where(Directive.uid == uid, visible_to(scope, user)))
    if d is None:
        raise not_found(
            session,
            Directive.uid,
            uid,
            f"没有该通知或不在管辖范围内: {uid} (no such directive in scope)",
        )
    return d


def receipts_of(session: Session, scope: Scope, directive: Directive) -> list[DirectiveReceipt]:
    """Receipts of a directive from the divisions in scope (the issuer sees all of its own)."""
    stmt = scope.select(DirectiveReceipt).where(DirectiveReceipt.directive_uid == directive.uid)
    return list(session.scalars(stmt.order_by(DirectiveReceipt.signed_at)))


def sign(
    session: Session, actor: Actor, scope: Scope, user: User, uid: str, note: str = ""
) -> DirectiveReceipt:
    """Acknowledge receipt (签收) for the user's division; the receipt travels up to the issuer."""
    directive = get(session, scope, user, uid)
    if directive.target_division not in ancestors_and_self(user.division_code):  # addressed_to
        raise Forbidden("该通知不是下发给本级的，无需签收 (not addressed to your division)")
    exists = session.scalar(
        signed_by(user.division_code).where(DirectiveReceipt.directive_uid == uid)
    )
    if exists is not None:
        raise Conflict("本级已签收该通知 (already signed for your division)")
    receipt = DirectiveReceipt(
        directive_uid=uid,
        division_code=user.division_code,
        signed_by=user.display_name or user.username,
        signed_at=utcnow(),
        note=note.strip(),
        origin_node="",
    )
    record_change(session, receipt, entity=RECEIPT_ENTITY)
    audit(
        session,
        actor,
        "directive.sign",
        object_type="directive",
        object_id=uid,
        division_code=user.division_code,
    )
    return receipt


def close(
    session: Session, actor: Actor, scope: Scope, user: User, uid: str, note: str
) -> Directive:
    """Close (解除) a 挂牌督办 order once its subject is dealt with: by officials of the issuing
    division, at the issuing node; the closure flows down like the order."""
    directive = get(session, scope, user, uid)
    if directive.kind != DirectiveKind.SUPERVISION:
        raise Conflict("只有挂牌督办可以解除 (only supervision orders are closed)")
    if directive.closed_at is not None:
        raise Conflict("该督办已解除 (already closed)")
    if user.division_code != directive.issuer_division:
        raise Forbidden("只有督办机关可以验收并解除督办 (only the issuing agency closes its order)")
    ensure_writable_here(directive)
    if not note.strip():
        raise Invalid("请填写验收意见 (give the acceptance opinion)", field="note")
    directive.closed_at, directive.closed_by = utcnow(), user.display_name or user.username
    directive.closure_note = note.strip()
    record_change(session, directive, entity=DIRECTIVE_ENTITY)
    audit(
        session,
        actor,
        "directive.close",
        object_type="directive",
        object_id=directive.uid,
        division_code=directive.target_division,
        detail={"subject": [directive.subject_entity, directive.subject_uid]},
    )
    return directive
