"""User administration (用户管理): create, find, change, lock and unlock users, reset their
password or MFA, within the administrator's jurisdiction; every write audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, update
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit, audit_record
from anjian.core.divisions.models import Division
from anjian.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    OutOfScope,
)
from anjian.core.iam.accounts import (
    USERNAME_MAX,
    actor_of,
    check_password,
    drop_mfa,
    field_cipher,
    hash_password,
    reauth_failed,
    revoke_sessions,
    validate_password,
)
from anjian.core.iam.models import ROLE_LABELS, AuthSession, Role, User
from anjian.core.iam.rules import (
    AccountState,
    account_actions,
    enterprise_binding_problem,
    management_refusal,
    may_grant,
    password_problems,
)
from anjian.core.node_settings.service import effective_settings
from anjian.core.orgs.models import Organisation
from anjian.core.orgs.service import get_org
from anjian.core.paging import paged
from anjian.core.records import apply_changes
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.registry import spec_for
from anjian.db import utcnow

# --- users -------------------------------------------------------------------------------------


USER_NOT_FOUND = "用户不存在或不在管辖范围内 (no such user in scope)"
DISPLAY_NAME_MAX = 64
_NOT_NOW = {
    "lock": "该用户已被锁定 (already locked)",
    "unlock": "该用户未被锁定 (not locked)",
    "reset_mfa": "该用户未绑定动态口令 (no authenticator bound)",
}


def _enterprise_division(session: Session, enterprise_id: int) -> str | None:
    """The division of an enterprise (None: no such enterprise). Found through the sync
    registry, which knows where every synced record lies, so the kernel needs no import of the
    enterprise domain."""
    spec = spec_for("enterprise")
    if spec is None:
        return None
    model: Any = spec.model
    return session.scalar(
        select(getattr(model, spec.division_attr)).where(
            model.id == enterprise_id, model.deleted.is_(False)
        )
    )


def _check_placement(
    session: Session,
    scope: Scope | None,
    *,
    role: Role,
    division_code: str,
    org_id: int | None,
    enterprise_id: int | None,
) -> None:
    """Refuse a user's role, division, organisation and enterprise that do not exist or do not
    fit. With a ``scope`` (an administrator acting), the role may not be above the
    administrator's own and everything must lie in their jurisdiction (a division outside it is
    a 403, audited; an organisation or enterprise outside it reads as missing)."""
    if scope is not None and not may_grant(scope.role, role.value):
        raise Forbidden(
            f"不能授予高于自己的角色: {ROLE_LABELS[role]} (a role above your own)", field="role"
        )
    if session.get(Division, division_code) is None:
        raise Invalid(
            f"行政区划代码不存在: {division_code} (unknown division)", field="division_code"
        )
    if scope is not None and not scope.covers_code(division_code):
        raise Forbidden(
            f"行政区划 {division_code} 不在您的管辖范围内 (outside your jurisdiction)",
            field="division_code",
        )
    if org_id is not None and (
        session.get(Organisation, org_id) is None
        or (scope is not None and get_org(session, scope, org_id) is None)
    ):
        raise Invalid(
            f"机构不存在或不在管辖范围内: {org_id} (unknown organisation)", field="org_id"
        )
    place = _enterprise_division(session, enterprise_id) if enterprise_id is not None else None
    if place is not None and scope is not None and not scope.covers_code(place):
        place = None  # as if it did not exist: its existence is not disclosed
    problem = enterprise_binding_problem(role.value, enterprise_id, division_code, place)
    if problem:
        raise Invalid(problem[1], field=problem[0])


def _check_display_name(display_name: str) -> str:
    display_name = display_name.strip()
    if len(display_name) > DISPLAY_NAME_MAX:
        raise Invalid(
            f"姓名不能超过 {DISPLAY_NAME_MAX} 字 (display name too long)", field="display_name"
        )
    return display_name


@unscoped("user names are unique on the whole node, whoever creates the account")
def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    division_code: str,
    org_id: int | None = None,
    enterprise_id: int | None = None,
    display_name: str = "",
    phone: str | None = None,
    is_demo: bool = False,
    scope: Scope | None = None,
) -> User:
    """Add a user (audited). An enterprise user must be bound to an enterprise of their
    division. With a ``scope`` (an administrator acting) see :func:`_check_placement`; the CLI
    operator passes none."""
    if (
        not username
        or len(username) > USERNAME_MAX
        or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
        or not username.isascii()
    ):
        raise Invalid(
            "用户名只能包含字母、数字、点、下划线和连字符 (invalid username)", field="username"
        )
    display_name = _check_display_name(display_name)
    validate_password(password, username)
    password_hash = hash_password(password)  # before the first query: no lock held while hashing
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名已存在: {username} (username taken)", field="username")
    _check_placement(
        session,
        scope,
        role=role,
        division_code=division_code,
        org_id=org_id,
        enterprise_id=enterprise_id,
    )
    now = utcnow()
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        division_code=division_code,
        org_id=org_id,
        enterprise_id=enterprise_id,
        phone_enc=field_cipher().encrypt(phone),
        password_hash=password_hash,
        password_changed_at=now,
        created_at=now,
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    audit_record(
        session,
        actor,
        "user.create",
        "user",
        user,
        detail={"username": username, "role": role.value},
    )
    return user


@unscoped("the account a login, the CLI or an enrolment names: no user's scope applies")
def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在: {username} (no such user)", field="username")
    return user


def user_in_scope(session: Session, scope: Scope, user_id: int) -> User:
    """One user whose division lies in scope; otherwise the same 404 whether missing or out
    of scope (an :class:`OutOfScope` when it exists, so a write that met it is audited)."""
    return scope.one(session, User, user_id, USER_NOT_FOUND)


def account_state(user: User) -> AccountState:
    """The account's state as the administration rules read it."""
    return AccountState(
        locked_by_admin=user.locked_by_admin,
        locked_until=user.locked_until,
        mfa_enabled=user.mfa_enabled,
        mfa_pending=user.totp_pending_enc is not None,
    )


def allowed_actions(actor: Actor, scope: Scope, user: User) -> frozenset[str]:
    """The administration actions ``actor`` may take on ``user`` (in scope) now: what the
    console offers as buttons, by the same rules :func:`_managed` enforces."""
    if management_refusal(actor.user_id, scope.role, user.id, user.role) is not None:
        return frozenset()
    return account_actions(account_state(user), utcnow())


@unscoped("finds the account by name, then judges it by scope.covers (no scope: the CLI)")
def _managed(
    session: Session, actor: Actor, scope: Scope | None, username: str, action: str
) -> User:
    """The account ``actor`` is about to change by ``action``: in scope, not the actor's own,
    no role above the actor's, and in a state that admits the action (409 otherwise)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在: {username} (no such user)", field="username")
    if scope is not None:
        if not scope.covers(division_code=user.division_code, enterprise_id=user.enterprise_id):
            raise OutOfScope(USER_NOT_FOUND)
        refusal = management_refusal(actor.user_id, scope.role, user.id, user.role)
        if refusal is not None:
            raise Forbidden(refusal)
    if action not in account_actions(account_state(user), utcnow()):
        raise Conflict(_NOT_NOW[action])
    return user


def find_users(
    session: Session,
    scope: Scope,
    actor: Actor,
    *,
    division: str | None = None,
    role: str | None = None,
    locked: bool | None = None,
    mfa: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[User], int]:
    """Users whose division lies in scope (enterprise users: their colleagues), filtered by
    division (and below), role, locked state and MFA (``yes`` enrolled, ``no`` not, ``pending``
    not enrolled though the role requires it); one page and the total. Names and phone numbers
    are personal information, so the read is audited."""
    stmt = users_in_scope(scope)
    if division:
        stmt = stmt.where(division_filter(User.division_code, division))
    if role:
        stmt = stmt.where(User.role == role)
    if locked is not None:
        is_locked_now = locked_now(utcnow())
        stmt = stmt.where(is_locked_now if locked else not_(is_locked_now))
    if mfa == "yes":
        stmt = stmt.where(User.mfa_enabled.is_(True))
    elif mfa == "no":
        stmt = stmt.where(User.mfa_enabled.is_(False))
    elif mfa == "pending":
        stmt = stmt.where(mfa_pending())
    users, total = paged(
        session, stmt, (User.division_code, User.username), limit=limit, offset=offset
    )
    audit(session, actor, "user.read", object_type="user", detail={"count": len(users)})
    return users, total


def users_in_scope(scope: Scope) -> Select[tuple[User]]:
    """The users whose division lies in scope (enterprise users: their colleagues)."""
    return scope.select(User)


def locked_now(now: datetime) -> ColumnElement[bool]:
    """Locked at ``now``: by an administrator, or by failed logins until a time to come."""
    return or_(
        User.locked_by_admin.is_(True),
        and_(User.locked_until.is_not(None), User.locked_until > now),
    )


def mfa_pending() -> ColumnElement[bool]:
    """Not enrolled in MFA though the role requires it (the next login asks for enrolment)."""
    return and_(User.mfa_enabled.is_(False), User.role.in_(list(get_settings().mfa_required_roles)))


def list_users(session: Session, scope: Scope, actor: Actor) -> list[User]:
    """Every user in scope (audited as a read of personal information)."""
    return find_users(session, scope, actor)[0]


def last_logins(session: Session, user_ids: list[int]) -> dict[int, datetime]:
    """When each user last logged in (their newest session)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(AuthSession.user_id, func.max(AuthSession.created_at))
        .where(AuthSession.user_id.in_(user_ids))
        .group_by(AuthSession.user_id)
    )
    return {uid: at for uid, at in rows}


def update_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    role: Role,
    division_code: str,
    org_id: int | None,
    enterprise_id: int | None,
    display_name: str,
    scope: Scope | None = None,
) -> User:
    """Change a user's role, division, organisation, enterprise and name (audited with what
    changed; nothing changed writes nothing). A change of rights ends the user's sessions, so
    the next login takes the new role and jurisdiction (and asks for MFA if the role needs
    it)."""
    display_name = _check_display_name(display_name)
    user = _managed(session, actor, scope, username, "edit")
    _check_placement(
        session,
        scope,
        role=role,
        division_code=division_code,
        org_id=org_id,
        enterprise_id=enterprise_id,
    )
    wanted = {
        "role": role.value,
        "division_code": division_code,
        "org_id": org_id,
        "enterprise_id": enterprise_id,
        "display_name": display_name or user.username,
    }
    changes = apply_changes(user, wanted)
    if not changes:
        return user
    if set(changes) - {"display_name"}:
        revoke_sessions(session, user.id)
    audit_record(session, actor, "user.update", "user", user, detail={"changes": changes})
    return user


def lock_user(session: Session, actor: Actor, username: str, *, scope: Scope | None = None) -> User:
    """Lock an account until an administrator unlocks it; ends its sessions."""
    user = _managed(session, actor, scope, username, "lock")
    user.locked_by_admin = True
    revoke_sessions(session, user.id)
    audit_record(session, actor, "user.lock", "user", user)
    return user


def unlock_user(
    session: Session, actor: Actor, username: str, *, scope: Scope | None = None
) -> User:
    """Lift both an administrator's lock and an automatic lockout."""
    user = _managed(session, actor, scope, username, "unlock")
    user.locked_by_admin = False
    user.locked_until = None
    user.failed_attempts = 0
    user.failure_window_start = None
    audit_record(session, actor, "user.unlock", "user", user)
    return user


def reset_password(
    session: Session,
    actor: Actor,
    username: str,
    password: str,
    *,
    reset_mfa: bool = False,
    scope: Scope | None = None,
) -> User:
    """Set a new password (and optionally drop the user's MFA enrolment); ends its sessions."""
    validate_password(password, username)
    password_hash = hash_password(password)  # before the first query: no lock held while hashing
    user = _managed(session, actor, scope, username, "reset_password")
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    if reset_mfa:
        drop_mfa(session, user)
    revoke_sessions(session, user.id)
    audit_record(session, actor, "user.reset", "user", user, detail={"mfa_reset": reset_mfa})
    return user


def reset_user_mfa(
    session: Session, actor: Actor, username: str, *, scope: Scope | None = None
) -> User:
    """Drop a user's authenticator and recovery codes (a lost phone); ends its sessions, and
    the next login enrols again. Audited as ``user.reset`` without a password reset."""
    user = _managed(session, actor, scope, username, "reset_mfa")
    drop_mfa(session, user)
    revoke_sessions(session, user.id)
    audit_record(
        session,
        actor,
        "user.reset",
        "user",
        user,
        detail={"mfa_reset": True, "password_reset": False},
    )
    return user


def change_own_password(
    session: Session, user: User, auth: AuthSession, old: str, new: str, ip: str | None
) -> None:
    """A user changes their own password; their other sessions end. A wrong current password
    counts as a failed login (a stolen session must not become a password oracle)."""
    if not check_password(user, old):
        raise reauth_failed(
            session,
            user,
            ip,
            "user.password",
            "原密码错误",
            "current password is wrong",
            "old_password",
        )
    if old == new:
        raise Invalid("新密码不能与原密码相同 (choose a different password)", field="new_password")
    problems = password_problems(
        new, username=user.username, min_length=effective_settings().password_min_length
    )
    if problems:
        raise Invalid("；".join(problems), field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.token_hash != auth.token_hash)
        .values(revoked=True)
    )
    audit(session, actor_of(user, ip), "user.password", object_type="user", object_id=str(user.id))


def password_change_due(user: User) -> bool:
    """Whether the password is older than ``password_max_age_days``."""
    return utcnow() - user.password_changed_at > timedelta(
        days=effective_settings().password_max_age_days
    )
