"""Mobile enforcement terminals (移动执法终端): clients, not nodes (DESIGN.md §2). A terminal is
bound to one officer by a token; it downloads what its officer needs (their inspections with
checklists and findings, and the enterprises' files) and uploads what was recorded offline.

An upload is all or nothing: every change names the version of the record it was made on
(``base_version``), and when the record has changed on the server since, nothing is applied and
the answer is a 409 with both versions, for the officer to resolve. Every change carries the
terminal's own id for it, so retrying an upload after a dropped connection changes nothing."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.crypto import sm3
from anjian.core.errors import Conflict, Forbidden, Invalid, Unauthorized
from anjian.core.iam.models import Role, User
from anjian.core.scope import Scope, unscoped
from anjian.db import utcnow
from anjian.enforcement import inspections
from anjian.enforcement.inspectors import get_inspector
from anjian.enforcement.models import Finding, Inspection, Inspector, Terminal, TerminalReceipt
from anjian.enforcement.rules.inspections import InspectionState, can_record_findings
from anjian.enforcement.schemas import (
    ChangeResult,
    EnterpriseFile,
    FindingChange,
    FindingCreate,
    FinishChange,
    InspectionFinish,
    StartChange,
    TerminalChanges,
    TerminalCreate,
)
from anjian.enterprises.service import enterprises_by_id

TOKEN_PREFIX = "tml_"
# A download's cursor looks back this far, so a change committed late (its transaction began
# before the previous download) is not missed; the terminal applies records by version.
CURSOR_OVERLAP = timedelta(minutes=2)
FINISHED_KEPT = timedelta(days=30)  # finished inspections stay on the terminal this long
CLOCK_SKEW = timedelta(minutes=10)  # a terminal's clock may run this far ahead


def bind(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    inspector_id: int,
    data: TerminalCreate,
) -> tuple[Terminal, str]:
    """Bind a terminal to an officer: the officer themselves, or an official of their agency.
    Returns the terminal and its token (shown once)."""
    officer = get_inspector(session, scope, inspector_id)
    if user.role != Role.OFFICIAL or (
        officer.user_id != user.id and officer.division_code != user.division_code
    ):
        raise Forbidden("只能为本人或本机关的执法人员绑定终端 (own agency's officers only)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    terminal = Terminal(
        inspector_id=officer.id,
        name=data.name.strip(),
        token_hash=sm3(token.encode()),
        created_at=utcnow(),
    )
    session.add(terminal)
    session.flush()
    _audit(session, actor, "bind", terminal, officer.division_code, name=terminal.name)
    return terminal, token


def _audit(
    session: Session, actor: Actor, action: str, t: Terminal, division: str, **detail: Any
) -> None:
    audit(
        session,
        actor,
        f"enforcement.terminal.{action}",
        object_type="enforcement_terminal",
        object_id=str(t.id),
        division_code=division,
        detail={"inspector_id": t.inspector_id, **detail},
    )


def terminals_of(session: Session, scope: Scope, inspector_id: int) -> list[Terminal]:
    """The terminals bound to an officer in scope."""
    officer = get_inspector(session, scope, inspector_id)
    stmt = select(Terminal).where(Terminal.inspector_id == officer.id).order_by(Terminal.id)
    return list(session.scalars(stmt))


def revoke(
    session: Session, actor: Actor, scope: Scope, user: User, inspector_id: int, terminal_id: int
) -> Terminal:
    """Revoke a terminal (lost, replaced): its token no longer works; what it uploaded stays."""
    terminal = next(
        (t for t in terminals_of(session, scope, inspector_id) if t.id == terminal_id), None
    )
    if terminal is None:
        raise Invalid(f"该执法人员没有终端 {terminal_id} (no such terminal)", field="terminal_id")
    officer = get_inspector(session, scope, inspector_id)
    if user.role != Role.OFFICIAL:
        raise Forbidden("只有监管人员可以注销终端 (officials only)")
    if terminal.revoked_at is None:
        terminal.revoked_at = utcnow()
        _audit(session, actor, "revoke", terminal, officer.division_code)
    return terminal


@unscoped("a terminal's token identifies it before there is a user")
def authenticate(session: Session, token: str) -> tuple[Terminal, User]:
    """The terminal of a token and its officer's user; 401 when unknown, revoked or when the
    officer is no longer an active official."""
    refused = Unauthorized("终端未绑定或已注销 (unknown or revoked terminal)")
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise refused
    terminal = session.scalar(select(Terminal).where(Terminal.token_hash == sm3(token.encode())))
    if terminal is None or terminal.revoked_at is not None:
        raise refused
    officer = session.get(Inspector, terminal.inspector_id)
    user = session.get(User, officer.user_id) if officer is not None else None
    if officer is None or not officer.active or user is None or user.role != Role.OFFICIAL:
        raise refused
    if user.locked_by_admin or (user.locked_until is not None and user.locked_until > utcnow()):
        raise refused
    return terminal, user


def _mine(session: Session, scope: Scope, terminal: Terminal) -> list[Inspection]:
    """The officer's inspections: open ones, and those finished in the last 30 days."""
    recent = utcnow() - FINISHED_KEPT
    rows = session.scalars(scope.select(Inspection).order_by(Inspection.id))
    return [
        i
        for i in rows
        if any(int(m["inspector_id"]) == terminal.inspector_id for m in i.team)
        and (i.state != InspectionState.FINISHED or (i.finished_at and i.finished_at >= recent))
    ]


def _cursor_time(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        when = datetime.fromisoformat(cursor)
    except ValueError:
        raise Invalid("游标无效 (invalid cursor)", field="since") from None
    if when.tzinfo is None:
        raise Invalid("游标须带时区 (cursor needs a time zone)", field="since")
    return when


def changes_for(
    session: Session, scope: Scope, terminal: Terminal, since: str | None
) -> TerminalChanges:
    """What changed for the terminal's officer since ``since`` (everything when absent)."""
    after = _cursor_time(since)
    cursor = (utcnow() - CURSOR_OVERLAP).isoformat()
    mine = _mine(session, scope, terminal)
    views = inspections.present(session, mine)
    changed = [
        view
        for insp, view in zip(mine, views, strict=True)
        if after is None
        or insp.updated_at > after
        or any(f.updated_at > after for f in inspections.findings_of(session, insp))
    ]
    ents = enterprises_by_id(session, {i.enterprise_id for i in mine})
    # An inspection new to the terminal brings its enterprise's file even when the file has
    # not changed since the cursor (the terminal may never have had it).
    with_changed = {view.enterprise_id for view in changed}
    files = [
        EnterpriseFile.model_validate(e)
        for e in ents.values()
        if after is None or e.updated_at > after or e.id in with_changed
    ]
    return TerminalChanges(cursor=cursor, inspections=changed, enterprises=files)


@unscoped("receipts of the terminal's own earlier uploads")
def _receipts(session: Session, change_ids: list[str]) -> dict[str, TerminalReceipt]:
    rows = session.scalars(select(TerminalReceipt).where(TerminalReceipt.change_id.in_(change_ids)))
    return {r.change_id: r for r in rows}


Change = StartChange | FinishChange | FindingChange


def _conflicts(
    session: Session, scope: Scope, fresh: list[Change]
) -> tuple[list[dict[str, Any]], dict[str, Inspection]]:
    """The changes made on a version the server has moved past, with both versions; and the
    inspections the batch touches, by uid. A finding is new (``base_version`` 0) but needs its
    inspection on site: one on an inspection the server has finished (or not started, and the
    batch does not start it) is a conflict too, with both versions, not a bare refusal."""
    targets: dict[str, Inspection] = {}
    states: dict[str, str] = {}  # each inspection's state as the batch leaves it so far
    conflicts: list[dict[str, Any]] = []
    for change in fresh:
        uid = change.inspection_uid if isinstance(change, FindingChange) else change.uid
        if uid not in targets:
            targets[uid] = scope.one(session, Inspection, uid, key="uid")
            states[uid] = targets[uid].state
        if isinstance(change, FindingChange):
            if (
                change.base_version != 0
                or _finding_exists(session, change.uid)
                or not can_record_findings(states[uid])
            ):
                conflicts.append(_conflict(session, change, targets[uid]))
            continue
        if targets[uid].version != change.base_version:
            conflicts.append(_conflict(session, change, targets[uid]))
        states[uid] = (
            InspectionState.ON_SITE if isinstance(change, StartChange) else InspectionState.FINISHED
        )
    return conflicts, targets


def finding_of(session: Session, scope: Scope, terminal: Terminal, uid: str) -> Finding:
    """A finding, by the uid the terminal gave it, of an inspection the terminal's officer is on
    the team of (photos and signatures go up after the finding itself)."""
    finding = scope.one(session, Finding, uid, key="uid")
    insp = scope.one(session, Inspection, finding.inspection_id)
    if not any(int(m["inspector_id"]) == terminal.inspector_id for m in insp.team):
        raise Forbidden("只能为本人参加的检查上传照片和签字 (own inspections only)")
    return finding


@unscoped("whether a uid a terminal made up is taken, whoever holds it")
def _finding_exists(session: Session, uid: str) -> bool:
    return session.scalar(select(Finding.id).where(Finding.uid == uid)) is not None


def _conflict(session: Session, change: Change, insp: Inspection) -> dict[str, Any]:
    return {
        "change_id": change.change_id,
        "uid": change.uid,
        "client": change.model_dump(mode="json"),
        "server": inspections.present(session, [insp])[0].model_dump(mode="json"),
    }


def upload(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    terminal: Terminal,
    changes: list[Change],
) -> tuple[list[ChangeResult], list[dict[str, Any]]]:
    """Apply a terminal's changes in order, all or nothing: the results, or (applying nothing)
    the conflicts."""
    seen = _receipts(session, [c.change_id for c in changes])
    fresh = [c for c in changes if c.change_id not in seen]
    late = [c for c in fresh if c.at > utcnow() + CLOCK_SKEW]
    if late:
        raise Invalid(
            f"记录时间晚于服务器时间: {late[0].change_id} (time in the future)", field="at"
        )
    conflicts, targets = _conflicts(session, scope, fresh)
    if conflicts:
        return [], conflicts
    results = []
    for change in changes:
        if change.change_id in seen:
            results.append(ChangeResult(**{**seen[change.change_id].result, "repeated": True}))
            continue
        result = _apply(session, actor, scope, user, change, targets)
        session.add(
            TerminalReceipt(
                change_id=change.change_id,
                terminal_id=terminal.id,
                applied_at=utcnow(),
                result=result.model_dump(),
            )
        )
        results.append(result)
    if fresh:
        terminal.last_upload_at = utcnow()
    return results, []


def _apply(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    change: Change,
    targets: dict[str, Inspection],
) -> ChangeResult:
    if isinstance(change, FindingChange):
        insp = targets[change.inspection_uid]
        data = FindingCreate(
            item_code=change.item_code,
            place=change.place,
            description=change.description,
            major=change.major,
            lng=change.lng,
            lat=change.lat,
        )
        finding = inspections.add_finding(
            session, actor, scope, user, insp.id, data, uid=change.uid, at=change.at
        )
        return ChangeResult(
            change_id=change.change_id, entity="finding", uid=finding.uid, version=finding.version
        )
    insp = targets[change.uid]
    try:
        if isinstance(change, StartChange):
            inspections.start(session, actor, scope, user, insp.id, at=change.at)
        else:
            body = InspectionFinish(summary=change.summary, results=change.results)
            inspections.finish(session, actor, scope, user, insp.id, body, at=change.at)
    except Conflict as exc:
        raise Conflict(f"{exc.message} ({change.change_id})", field="state") from None
    return ChangeResult(
        change_id=change.change_id, entity="inspection", uid=insp.uid, version=insp.version
    )
