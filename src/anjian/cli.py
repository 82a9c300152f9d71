"""The ``anjian`` command line (Typer)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from anjian.config import get_settings
from anjian.core.audit.service import SYSTEM, Actor
from anjian.core.errors import AnjianError

app = typer.Typer(
    help="安监云 Anjian Cloud — 安全生产监管监察与应急管理平台",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="用户管理 (users)", no_args_is_help=True)
audit_app = typer.Typer(help="安全审计 (audit)", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

console = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def cli_errors(fn: F) -> F:
    """Turn expected errors into a red message and exit code 1 (no stack trace)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AnjianError as exc:
            field = f" [{exc.field}]" if exc.field else ""
            err.print(f"[red]错误{field}: {exc.message}[/red]")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def cli_actor() -> Actor:
    """The operator at the console of the server: audited as ``cli:<os user>``."""
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(user_id=None, username=f"cli:{name}", ip="local")


def ensure_schema() -> None:
    """Create or upgrade the schema and load reference data; safe to run twice."""
    from anjian.core.divisions.service import load_reference
    from anjian.db import get_engine, unit_of_work
    from anjian.migrate import upgrade

    upgrade(get_engine())
    with unit_of_work() as db:
        load_reference(db)


@app.command()
@cli_errors
def init() -> None:
    """创建或升级数据库并载入参考数据 (create/upgrade the schema, load divisions). Safe to rerun."""
    from anjian.core.divisions.models import Division
    from anjian.db import unit_of_work

    settings = get_settings()
    ensure_schema()
    with unit_of_work() as db:
        count = db.query(Division).count()
        if db.get(Division, settings.node_division) is None:
            raise AnjianError(
                f"节点行政区划代码不存在: {settings.node_division} (ANJIAN_NODE_DIVISION)"
            )
    console.print(
        f"[green]数据库已就绪[/green] ({settings.effective_database_url.split('@')[-1]}); "
        f"行政区划 {count} 条; 节点 {settings.effective_node_id}"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
) -> None:
    """启动服务 (start the API and console)."""
    import uvicorn

    settings = get_settings()
    ensure_schema()
    uvicorn.run(
        "anjian.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        proxy_headers=False,
    )


def _read_password(prompt_twice: bool = False) -> str:
    if sys.stdin.isatty():
        return typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=prompt_twice)
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise AnjianError("标准输入中没有密码 (no password on standard input)", field="password")
    return password


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
    password = _read_password(prompt_twice=not password_stdin)
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
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        lock_user(db, cli_actor(), name)
    console.print(f"[yellow]已锁定[/yellow] {name}")


@user_app.command("unlock")
@cli_errors
def user_unlock(name: str) -> None:
    """解锁用户 (lift a lock or a lockout)."""
    from anjian.core.iam.service import unlock_user
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        unlock_user(db, cli_actor(), name)
    console.print(f"[green]已解锁[/green] {name}")


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
    from anjian.db import unit_of_work

    password = _read_password(prompt_twice=not password_stdin)
    with unit_of_work() as db:
        reset_password(db, cli_actor(), name, password, reset_mfa=mfa)
    console.print(f"[green]已重置[/green] {name}")


@user_app.command("otp")
@cli_errors
def user_otp(name: str) -> None:
    """演示账户的当前动态口令 (current one-time code of a demo user; refused for real users)."""
    from anjian.core.iam.service import current_totp, get_user_by_name
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        console.print(current_totp(db, get_user_by_name(db, name)))


@audit_app.command("verify")
@cli_errors
def audit_verify() -> None:
    """校验审计日志哈希链 (verify the audit hash chain); exit 1 names the first broken record."""
    from anjian.core.audit.service import verify_chain
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        report = verify_chain(db)
    if report.ok:
        console.print(f"[green]审计链完整[/green]: {report.checked} 条记录 (chain intact)")
        return
    err.print(
        f"[red]审计链被破坏[/red]: 第 {report.first_broken_seq} 条记录 — {report.reason} "
        f"(chain broken at record {report.first_broken_seq}; {report.checked} records verified before it)"
    )
    raise typer.Exit(1)


def main() -> None:
    """Console-script entry point. A bad setting is a message naming it, not a traceback."""
    from pydantic import ValidationError

    try:
        get_settings()
    except ValidationError as exc:
        for e in exc.errors():
            name = "ANJIAN_" + "_".join(str(p) for p in e["loc"]).upper()
            err.print(f"[red]配置错误 {name}: {e['msg']} (invalid setting)[/red]")
        sys.exit(2)
    app()


__all__ = ["SYSTEM", "app", "main"]
