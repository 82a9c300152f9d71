"""The ``anjian user`` and ``anjian org`` commands: accounts and organisations, kept by the
operator at the server's console (audited as ``cli:<os user>``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from anjian.core.cli import cli_actor, cli_errors, console, node_scope, read_password
from anjian.core.errors import AnjianError
from anjian.core.scope import unscoped

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from anjian.core.audit.service import Actor

user_app = typer.Typer(help="用户管理 (users)", no_args_is_help=True)
org_app = typer.Typer(help="机构管理 (organisations)", no_args_is_help=True)


def _change_user(name: str, change: Callable[[Session, Actor, str], object], done: str) -> None:
    """Apply ``change`` (a user service: lock, unlock, reset…) to user ``name`` as the operator,
    in one unit of work, then say ``done`` with the name."""
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        change(db, cli_actor(), name)
    console.print(f"{done} {name}")


@user_app.command("add")
@cli_errors
def user_add(
    name: Annotated[str, typer.Argument(help="username")],
    role: Annotated[str, typer.Option(help="admin | official | enterprise")],
    division: Annotated[str, typer.Option(help="GB/T 2260 division code")],
    org: Annotated[int | None, typer.Option(help="organisation id")] = None,
    enterprise: Annotated[
        str | None, typer.Option(help="enterprise USCC (enterprise users)")
    ] = None,
    display_name: Annotated[str, typer.Option(help="display name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """添加用户 (add a user)."""
    from anjian.core.iam.models import Role
    from anjian.core.iam.service import create_user
    from anjian.db import unit_of_work
    from anjian.enterprises.service import find_by_uscc

    try:
        role_enum = Role(role)
    except ValueError:
        raise AnjianError(
            f"未知角色: {role} (role must be admin, official or enterprise)", field="role"
        ) from None
    password = read_password(prompt_twice=not password_stdin)
    with unit_of_work() as db:
        enterprise_id = None
        if enterprise:
            ent = find_by_uscc(db, enterprise)
            if ent is None:
                raise AnjianError(
                    f"企业不存在: {enterprise} (no enterprise with this USCC)", field="enterprise"
                )
            enterprise_id = ent.id
        elif role_enum is Role.ENTERPRISE:
            raise AnjianError("企业用户须指定 --enterprise USCC", field="enterprise")
        user = create_user(
            db,
            cli_actor(),
            username=name,
            password=password,
            role=role_enum,
            division_code=division,
            org_id=org,
            enterprise_id=enterprise_id,
            display_name=display_name,
        )
        console.print(
            f"[green]已添加用户[/green] {user.username} (id {user.id}, {role_enum.value})"
        )


@user_app.command("list")
@cli_errors
@unscoped("the operator at the server's console lists every account of the node")
def user_list() -> None:
    """列出用户 (list users)."""
    from sqlalchemy import select

    from anjian.core.iam.models import User
    from anjian.core.iam.rules import is_locked
    from anjian.db import unit_of_work, utcnow

    table = Table("用户名", "姓名", "角色", "行政区划", "机构", "企业", "MFA", "状态")
    with unit_of_work() as db:
        for u in db.scalars(select(User).order_by(User.username)):
            state = (
                "管理员锁定"
                if u.locked_by_admin
                else ("锁定中" if is_locked(u.locked_until, utcnow()) else "正常")
            )
            table.add_row(
                u.username,
                u.display_name,
                u.role,
                u.division_code,
                str(u.org_id or ""),
                str(u.enterprise_id or ""),
                "是" if u.mfa_enabled else "否",
                state,
            )
    console.print(table)


@user_app.command("lock")
@cli_errors
def user_lock(name: str) -> None:
    """锁定用户 (lock a user until unlocked)."""
    from anjian.core.iam.service import lock_user

    _change_user(name, lock_user, "[yellow]已锁定[/yellow]")


@user_app.command("unlock")
@cli_errors
def user_unlock(name: str) -> None:
    """解锁用户 (lift a lock or a lockout)."""
    from anjian.core.iam.service import unlock_user

    _change_user(name, unlock_user, "[green]已解锁[/green]")


@user_app.command("reset")
@cli_errors
def user_reset(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
    mfa: Annotated[bool, typer.Option("--mfa", help="also drop the MFA enrolment")] = False,
) -> None:
    """重置密码 (set a new password; --mfa also resets the authenticator)."""
    from anjian.core.iam.service import reset_password

    password = read_password(prompt_twice=not password_stdin)
    _change_user(
        name,
        lambda db, actor, user: reset_password(db, actor, user, password, reset_mfa=mfa),
        "[green]已重置[/green]",
    )


@user_app.command("otp")
@cli_errors
def user_otp(name: str) -> None:
    """演示账户的当前动态口令 (current one-time code of a demo user; refused for real users)."""
    from anjian.core.iam.service import current_totp, get_user_by_name
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        console.print(current_totp(db, get_user_by_name(db, name)))


@org_app.command("add")
@cli_errors
def org_add(
    name: Annotated[str, typer.Argument(help="organisation name")],
    kind: Annotated[
        str, typer.Option(help="agency | coal_inspection | rescue_team | enterprise | operator")
    ],
    division: Annotated[str, typer.Option(help="GB/T 2260 code where it sits")],
    parent: Annotated[int | None, typer.Option(help="parent organisation id")] = None,
    area: Annotated[
        list[str] | None, typer.Option(help="inspection area division code (repeat)")
    ] = None,
) -> None:
    """添加机构 (add an organisation; --area for a coal-mine inspection bureau's area)."""
    from anjian.core.orgs.models import OrgKind
    from anjian.core.orgs.service import create_org
    from anjian.db import unit_of_work

    try:
        kind_enum = OrgKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in OrgKind)
        raise AnjianError(
            f"未知机构类型: {kind} (kind must be one of {choices})", field="kind"
        ) from None
    with unit_of_work() as db:
        org = create_org(
            db,
            cli_actor(),
            name=name,
            kind=kind_enum,
            division_code=division,
            parent_id=parent,
            area_codes=area or None,
            scope=node_scope(),
        )
        console.print(f"[green]已添加机构[/green] {org.name} (id {org.id})")


@org_app.command("list")
@cli_errors
def org_list(kind: Annotated[str | None, typer.Option(help="only this kind")] = None) -> None:
    """列出机构 (list organisations)."""
    from anjian.core.orgs.models import ORG_KIND_LABELS, OrgKind
    from anjian.core.orgs.service import list_orgs
    from anjian.db import unit_of_work

    table = Table("ID", "名称", "类型", "行政区划", "上级", "监察区域")
    with unit_of_work() as db:
        for o in list_orgs(db, node_scope(), kind):
            table.add_row(
                str(o.id),
                o.name,
                ORG_KIND_LABELS.get(OrgKind(o.kind), o.kind),
                o.division_code,
                str(o.parent_id or ""),
                " ".join(o.area_codes or []),
            )
    console.print(table)
