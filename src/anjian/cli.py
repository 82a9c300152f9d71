"""The ``anjian`` command line (Typer)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import anjian.models  # noqa: F401  (registers every table and synced entity for all commands)
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
            field = f" ({exc.field})" if exc.field else ""
            err.print(f"[red]错误{escape(field)}: {escape(exc.message)}[/red]")
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
    import gc

    import uvicorn

    import anjian.app  # noqa: F401  (loaded before the freeze below)

    settings = get_settings()
    ensure_schema()
    # A service's modules and settings live until it stops: freeze them out of the collector's
    # way, and collect young objects less often (a sync batch allocates hundreds of thousands;
    # the default threshold of 700 cost about a sixth of the time a received batch takes).
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    uvicorn.run(
        "anjian.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        proxy_headers=False,
        # Live views (the alarm board's event stream) would hold a graceful shutdown open.
        timeout_graceful_shutdown=5,
    )


@app.command()
@cli_errors
def demo(
    province: Annotated[
        str, typer.Option(help="省级行政区划代码 (province code, GB/T 2260)")
    ] = "140000",
    enterprises: Annotated[
        int, typer.Option(min=1, max=5000, help="企业数量 (how many enterprises)")
    ] = 300,
    seed: Annotated[int, typer.Option(help="随机种子: 同一种子生成相同数据 (random seed)")] = 2026,
    serve_after: Annotated[
        bool, typer.Option("--serve", help="载入后启动服务 (start the server afterwards)")
    ] = False,
    host: Annotated[str | None, typer.Option(help="listen address (with --serve)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (with --serve)")] = None,
    simulate_after: Annotated[
        bool,
        typer.Option(
            "--simulate/--no-simulate",
            help="随 --serve 运行模拟网关，经 MQTT 发送监测数据 (with --serve: feed simulated "
            "readings over MQTT, see anjian simulate)",
        ),
    ] = True,
) -> None:
    """载入演示数据 (load a demo province: agencies at every tier, enterprises in real counties,
    monitoring points, one demo user per tier) and print the logins. Safe to rerun: nothing is
    added twice."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from anjian.db import unit_of_work
    from anjian.demo import demo_contents, load_demo

    settings = get_settings()
    ensure_schema()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, Any] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        with unit_of_work() as db:
            result = load_demo(
                db,
                cli_actor(),
                province=province,
                enterprises=enterprises,
                seed=seed,
                progress=report,
            )
    if result.created:
        console.print(
            f"[green]演示数据已载入[/green] {result.province_name}({result.province_code}): "
            f"机构 {result.organisations} 个, 企业 {result.enterprises} 家, "
            f"监测点 {result.monitoring_points} 个 "
            f"(demo loaded: {result.organisations} organisations, "
            f"{result.enterprises} enterprises, {result.monitoring_points} monitoring points)"
        )
    elif result.monitoring_points:
        console.print(
            f"[yellow]演示数据已存在[/yellow], 已补充监测点 {result.monitoring_points} 个 "
            f"(demo data already loaded; added {result.monitoring_points} monitoring points)"
        )
    else:
        console.print(
            "[yellow]演示数据已存在[/yellow], 未作任何更改 (demo data already loaded; nothing changed)"
        )
    with unit_of_work(read_only=True) as db:
        contents = demo_contents(db)
    console.print(
        "数据库现有 (the database holds): "
        + " · ".join(f"{zh} {count}" for zh, _, count in contents)
        + " ("
        + ", ".join(f"{count} {en}" for _, en, count in contents)
        + ")"
    )
    shown_host = host or settings.host
    if shown_host in ("0.0.0.0", "::"):
        shown_host = "127.0.0.1"
    console.print(f"控制台 (console): [bold]http://{shown_host}:{port or settings.port}/[/bold]")
    table = Table(title="演示账户 (demo logins)", box=box.SIMPLE_HEAD)
    table.add_column("用户名\nusername", no_wrap=True, style="bold")
    table.add_column("密码\npassword", no_wrap=True)
    table.add_column("角色\nrole", no_wrap=True)
    table.add_column("行政区划\ndivision", no_wrap=True)
    table.add_column("动态口令\nMFA", no_wrap=True)
    table.add_column("机构\norganisation", overflow="fold")
    for login in result.logins:
        table.add_row(
            login.username,
            login.password,
            login.role_label,
            f"{login.division_name} {login.division_code}",
            "是 on" if login.mfa else "否 off",
            login.org_name,
        )
    console.print(table)
    if any(login.mfa for login in result.logins):
        # The command as it was started (./dev runs .venv/bin/anjian, not on PATH).
        command = sys.argv[0] if sys.argv[0].endswith("anjian") else "anjian"
        console.print(
            f"动态口令: {command} user otp <username> (演示账户的当前动态口令; "
            "current one-time code of a demo user)"
        )
    if serve_after:
        _demo_broker_port()
        if simulate_after:
            _start_demo_simulator(host, port, seed)
        serve(host=host, port=port)


def _demo_broker_port() -> None:
    """Move the demo's embedded MQTT broker to a free port when another process (a Mosquitto,
    say) already listens on the configured one: the broker could not start there, and the
    simulated gateways would publish into that foreign broker instead of this node's."""
    import os

    from anjian.monitoring.broker import embedded_port_for_demo

    settings = get_settings()
    if settings.mqtt_url or not settings.mqtt_ingest:
        return
    taken = settings.mqtt_embedded_port
    port = embedded_port_for_demo(settings.host, taken)
    if port == taken:
        return
    # the server (this process) and the simulator read it from the settings
    os.environ["ANJIAN_MQTT_EMBEDDED_PORT"] = str(port)
    get_settings.cache_clear()
    console.print(
        f"[yellow]端口 {taken} 已被其他程序占用[/yellow]（另一个 MQTT 服务？），本演示节点的内置 "
        f"MQTT 服务改用端口 {port} (port {taken} is taken, by another broker?: the demo's "
        f"embedded broker listens on {port}; set ANJIAN_MQTT_EMBEDDED_PORT or ANJIAN_MQTT_URL "
        "to choose)"
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
    """校验审计日志哈希链 (verify the audit hash chain against its seals); exit 1 names the first
    broken record, the missing range of a cut chain, or a seal that does not hold; exit 2 when
    only a child node's seals show its chain was cut."""
    from anjian.core.audit import seals
    from anjian.core.audit.service import verify_chain
    from anjian.db import unit_of_work

    filed, problems = seals.read_file()
    with unit_of_work(read_only=True) as db:
        recorded, db_problems = seals.own_seals(db)
        report = verify_chain(db, seals=[*filed, *recorded])
        problems += db_problems
        children = seals.received_seal_problems(db)
    for problem in problems:
        err.print(f"[red]封印问题[/red]: {escape(problem)}")
    for problem in children:
        err.print(f"[yellow]下级节点[/yellow]: {escape(problem)}")
    if not report.ok:
        err.print(
            f"[red]审计链被破坏[/red]: 第 {report.first_broken_seq} 条记录 — "
            f"{escape(report.reason or '')} (chain broken at record {report.first_broken_seq}; "
            f"{report.checked} records verified before it)"
        )
        raise typer.Exit(1)
    if problems:
        raise typer.Exit(1)
    top = seals.highest([*filed, *recorded])
    against = (
        f"; 与封印一致, 最近封印至第 {top.seq} 条 (agrees with its seals, the latest at {top.seq})"
        if top is not None
        else "; 尚无封印 (no seal yet: run anjian audit checkpoint)"
    )
    console.print(
        f"[green]审计链完整[/green]: {report.checked} 条记录 (chain intact){escape(against)}"
    )
    if children:
        raise typer.Exit(2)


@audit_app.command("checkpoint")
@cli_errors
def audit_checkpoint() -> None:
    """封印审计链 (seal the chain's head now: kept in the seal file and sent to the parent node)."""
    from anjian.core.audit.jobs import checkpoint

    seal = checkpoint(cli_actor())
    assert seal is not None  # an operator's checkpoint always seals
    console.print(
        f"[green]已封印[/green] 第 {seal.seq} 条 (sealed at record {seal.seq}) "
        f"{seal.sealed_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    console.print(seal.line(), markup=False, highlight=False, soft_wrap=True)


# --- enterprise registry (一企一档) --------------------------------------------------------------

enterprise_app = typer.Typer(help="企业档案 (enterprise registry)", no_args_is_help=True)
app.add_typer(enterprise_app, name="enterprise")


def _node_scope() -> Any:
    """The console operator acts for the whole node's jurisdiction."""
    from anjian.core.scope import Scope

    return Scope.for_division(None, "admin", [get_settings().node_division])


@enterprise_app.command("import")
@cli_errors
def enterprise_import(
    file: Annotated[Path, typer.Argument(help=".xlsx in the export layout", exists=True)],
) -> None:
    """导入企业档案 (import an .xlsx registry: every row or none; exit 1 with the report)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from anjian.db import unit_of_work
    from anjian.enterprises.excel import import_workbook, read_file

    labels = {"validate": "校验 (validating)", "import": "导入 (importing)"}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done)

        sheet = read_file(file.read_bytes())  # before the database is opened
        # The failed attempt's audit record is committed too, so the unit of work ends normally.
        with unit_of_work() as db:
            outcome = import_workbook(
                db, cli_actor(), _node_scope(), sheet, source=file.name, progress=progress
            )
    if outcome.ok:
        console.print(f"[green]{outcome.detail}[/green]")
        return
    table = Table("行 (row)", "列 (column)", "错误 (problem)")
    for e in outcome.errors:
        table.add_row(str(e.row), e.column, e.message)
    err.print(table)
    err.print(f"[red]{outcome.detail}[/red]")
    raise typer.Exit(1)


@enterprise_app.command("export")
@cli_errors
def enterprise_export(
    file: Annotated[Path, typer.Argument(help="the .xlsx to write")],
    division: Annotated[str | None, typer.Option(help="division code (and below)")] = None,
    category: Annotated[str | None, typer.Option(help="supervision category code")] = None,
    status: Annotated[str | None, typer.Option(help="status code")] = None,
    full_numbers: Annotated[
        bool, typer.Option(help="phones in full (audited as a personal-data read)")
    ] = False,
) -> None:
    """导出企业档案 (export the registry as .xlsx; phones masked unless --full-numbers)."""
    from anjian.db import unit_of_work
    from anjian.enterprises.excel import export_workbook

    with unit_of_work() as db:
        data, count = export_workbook(
            db,
            _node_scope(),
            cli_actor(),
            full_numbers=full_numbers,
            division=division,
            category=category,
            status=status,
        )
    file.write_bytes(data)
    console.print(f"[green]已导出 {count} 家企业[/green] → {file}")


org_app = typer.Typer(help="机构管理 (organisations)", no_args_is_help=True)
app.add_typer(org_app, name="org")


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
            scope=_node_scope(),
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
        for o in list_orgs(db, _node_scope(), kind):
            table.add_row(
                str(o.id),
                o.name,
                ORG_KIND_LABELS.get(OrgKind(o.kind), o.kind),
                o.division_code,
                str(o.parent_id or ""),
                " ".join(o.area_codes or []),
            )
    console.print(table)


node_app = typer.Typer(help="分级节点 (tiered nodes)", no_args_is_help=True)
sync_app = typer.Typer(
    help="同步数据交换 (sync bundles for isolated networks)", no_args_is_help=True
)
app.add_typer(node_app, name="node")
app.add_typer(sync_app, name="sync")


@node_app.command("init")
@cli_errors
def node_init(
    division: Annotated[str, typer.Option(help="this node's GB/T 2260 code")],
    parent: Annotated[str | None, typer.Option(help="URL of the parent node")] = None,
    link_key: Annotated[
        str | None, typer.Option(help="the key `anjian node link` printed on the parent")
    ] = None,
    node_id: Annotated[
        str | None, typer.Option(help="origin-node name (default node-<division>)")
    ] = None,
) -> None:
    """设置本节点的行政区划和上级节点 (make this a county/city/province/national node)."""
    import os

    from sqlalchemy import func, select

    from anjian.config import write_config
    from anjian.core.divisions.models import Division
    from anjian.core.divisions.rules import TIER_LABELS, parent_candidates, tier_of
    from anjian.core.sync.models import OutboxEntry
    from anjian.core.sync.service import set_parent
    from anjian.db import unit_of_work

    env = os.environ.get("ANJIAN_NODE_DIVISION")
    if env and env != division:
        raise AnjianError(
            f"环境变量 ANJIAN_NODE_DIVISION={env} 与 --division 不一致 (the environment overrides the file)"
        )
    if (parent is None) != (link_key is None):
        raise AnjianError(
            "--parent 与 --link-key 须同时给出 (give both --parent and --link-key)", field="parent"
        )
    settings = get_settings()
    ensure_schema()
    with unit_of_work() as db:
        if db.get(Division, division) is None:
            raise AnjianError(
                f"行政区划代码不存在: {division} (unknown division)", field="division"
            )
        own_records = (
            db.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.source == "local")
            )
            or 0
        )
        if own_records and division != settings.node_division:
            raise AnjianError(
                f"本节点已有 {own_records} 条本地数据，不能改为 {division} "
                f"(this node already owns data as {settings.node_division})",
                field="division",
            )
    values: dict[str, str | int | float | bool | list[str]] = {"node_division": division}
    if node_id:
        values["node_id"] = node_id
    path = write_config(values)
    get_settings.cache_clear()
    if parent and link_key:
        with unit_of_work() as db:
            set_parent(db, cli_actor(), parent, link_key, parent_candidates(division)[0])
    tier = TIER_LABELS[tier_of(division)]
    console.print(
        f"[green]本节点[/green] {get_settings().effective_node_id} ({tier} {division}) → {path}"
    )
    if parent:
        console.print(
            f"上级节点 (parent): {parent}；转发在 `anjian serve` 中运行 (forwarding runs in serve)"
        )


@node_app.command("link")
@cli_errors
def node_link(child: Annotated[str, typer.Argument(help="the child node's division code")]) -> None:
    """登记下级节点并打印其链路密钥 (register a child node; prints its link key once)."""
    from anjian.core.sync.service import link_child
    from anjian.db import unit_of_work

    ensure_schema()
    with unit_of_work() as db:
        key = link_child(db, cli_actor(), child)
    console.print(f"[green]已登记下级节点[/green] {child}。链路密钥 (link key, shown once):")
    print(key)


@node_app.command("revoke")
@cli_errors
def node_revoke(
    child: Annotated[str, typer.Argument(help="the child node's division code")],
) -> None:
    """吊销下级节点的链路密钥 (refuse everything from a child until linked again)."""
    from anjian.core.sync.service import revoke_child
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        revoke_child(db, cli_actor(), child)
    console.print(f"[yellow]已吊销[/yellow] {child}")


@node_app.command("status")
@cli_errors
def node_status() -> None:
    """本节点、上级和下级节点的状态 (parent, children, last contact, backlog, lag)."""
    from anjian.core.sync.service import node_status as status
    from anjian.db import unit_of_work
    from anjian.web.render import cst

    with unit_of_work() as db:
        me, links = status(db)
    console.print(
        f"本节点 (this node): {me['node_id']}  {me['division_name']} {me['division_code']} "
        f"({me['tier']}), outbox head {me['outbox_head']}"
    )
    table = Table(
        "方向", "行政区划", "节点", "地址", "最近联系", "积压", "延迟(s)", "已确认序号", "状态"
    )
    for link in links:
        state = (
            "已吊销"
            if link.revoked
            else (f"错误: {link.last_error}" if link.last_error else "正常")
        )
        table.add_row(
            "上级 parent" if link.role == "parent" else "下级 child",
            f"{link.division_name} {link.division_code}",
            link.node_id or "",
            link.url or "",
            cst(link.last_contact_at) if link.last_contact_at else "从未 never",
            "" if link.backlog is None else str(link.backlog),
            "" if link.lag_s is None else f"{link.lag_s:.1f}",
            str(link.up_seq),
            escape(state),
        )
    console.print(table)


@sync_app.command("export")
@cli_errors
def sync_export(
    to_parent: Annotated[Path, typer.Option("--to-parent", help="bundle file to write")],
) -> None:
    """导出待上报的变更为签名数据包 (write a signed bundle of pending changes for the parent)."""
    from anjian.core.sync.service import build_push, parent_link
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        link = parent_link(db)
        if link is None:
            raise AnjianError(
                "本节点未设置上级节点 (no parent: anjian node init --parent URL --link-key KEY)"
            )
        message, count = build_push(db, link, limit=None, kind="bundle")  # type: ignore[arg-type]
    to_parent.write_bytes(message)
    console.print(f"[green]已导出[/green] {count} 条变更 → {to_parent} ({len(message)} 字节)")


@sync_app.command("import")
@cli_errors
def sync_import(
    file: Annotated[Path, typer.Argument(help="bundle written by `sync export`")],
) -> None:
    """导入下级节点的数据包 (apply a child's bundle idempotently and report what it applied)."""
    from anjian.core.sync.service import receive_push
    from anjian.db import unit_of_work

    if not file.is_file():
        raise AnjianError(f"文件不存在: {file} (no such file)", field="file")
    with unit_of_work() as db:
        try:
            result, link = receive_push(db, file.read_bytes(), online=False)
        except AnjianError:
            db.commit()  # keep the audit record of the refusal
            raise
        if result.status == "rewind":
            raise AnjianError(
                f"数据包从序号 {link.up_seq} 之后开始才完整，本节点缺少更早的变更 "
                f"(bundle starts after changes this node lacks; stored up to {link.up_seq})"
            )
        division = link.division_code
    detail = ", ".join(f"{k} {v}" for k, v in (result.by_entity or {}).items()) or "无新变更"
    console.print(
        f"[green]已导入[/green] 来自 {division}: 应用 {result.applied} 条 ({detail})，"
        f"重复或旧版本 {result.stale} 条；已确认至序号 {result.stored_seq}"
    )


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


gateway_app = typer.Typer(help="在线监测接入 (monitoring gateways)", no_args_is_help=True)
app.add_typer(gateway_app, name="gateway")


@gateway_app.command("token")
@cli_errors
def gateway_token(
    uscc: Annotated[str, typer.Argument(help="企业统一社会信用代码 (the enterprise's USCC)")],
) -> None:
    """签发接入凭证 (issue the ingest token of an enterprise's gateway; an earlier one stops
    working). Prints the token: the Bearer token of HTTP ingest and the MQTT password, with
    the USCC as the MQTT username."""
    from anjian.db import unit_of_work
    from anjian.monitoring.service import issue_token

    ensure_schema()
    with unit_of_work() as db:
        token = issue_token(db, cli_actor(), uscc)
    err.print(
        f"[green]已签发[/green] {token.uscc}: MQTT 用户名 {token.mqtt_username}, 主题 "
        f"{token.topic_readings} / {token.topic_status}; HTTP: Authorization: Bearer <token> "
        "(shown once; only its SM3-HMAC is kept)"
    )
    print(token.token)


@app.command()
@cli_errors
def ingest(
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="接入进程数 (worker processes: one core each)"),
    ] = 1,
) -> None:
    """运行 MQTT 接入 (run MQTT ingest workers without the web server, to share the load with
    `anjian serve` and other ingest processes through the broker's shared subscription;
    needs ANJIAN_MQTT_URL). Each worker is a process of its own with its own persistent
    session. Stops on Ctrl-C or SIGTERM."""
    import multiprocessing

    from anjian.monitoring.mqtt import broker_of

    settings = get_settings()
    if not settings.mqtt_url:
        raise AnjianError(
            "须配置外部 MQTT 服务器 ANJIAN_MQTT_URL (set ANJIAN_MQTT_URL: the embedded broker "
            "lives inside anjian serve)",
            field="ANJIAN_MQTT_URL",
        )
    ensure_schema()
    base = settings.mqtt_client_id or f"anjian-ingest-{settings.effective_node_id}"
    b = broker_of(settings)
    err.print(f"MQTT 接入已启动 (ingest running): {workers} worker(s), {b.host}:{b.port}")
    if workers == 1:
        _ingest_worker(f"{base}-0")
        return
    spawn = multiprocessing.get_context("spawn")
    procs = [
        spawn.Process(target=_ingest_worker, args=(f"{base}-{i}", True), name=f"{base}-{i}")
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            proc.join()
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            proc.terminate()  # SIGTERM: the worker stops after its current batch
        for proc in procs:
            proc.join(timeout=15)


def _ingest_worker(client_id: str, child: bool = False) -> None:
    """One ingest worker: runs until SIGTERM or Ctrl-C (a child process also ends when its
    parent is gone, so no worker outlives ``anjian ingest``)."""
    import logging
    import os
    import signal
    import threading

    from anjian.monitoring.mqtt import IngestWorker, broker_of

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    worker = IngestWorker(broker_of(settings), client_id, settings.mqtt_shared_group)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    parent = os.getppid()
    worker.start()
    while not done.wait(1.0):
        if child and os.getppid() != parent:
            break
    worker.stop()
    worker.join(timeout=10)


# --- simulated gateways (模拟网关) ----------------------------------------------------------------

DEMO_SIMULATE_RATE = 100.0  # readings/s fed by `anjian demo --serve`: alive, yet light on SQLite
DEMO_OPENING_ALARMS = 3  # gas points of the demo that surely go past their set points at once
VIAS = ("mqtt", "http")


def _check_simulate_options(
    via: str, rate: float, seconds: float | None, enterprises: int | None, url: str | None
) -> None:
    """Refuse bad options with a message naming the option (exit 1)."""
    if via not in VIAS:
        raise AnjianError(
            f"--via 应为 mqtt 或 http: {via} (--via must be mqtt or http)", field="via"
        )
    if not 0 < rate <= 100_000:
        raise AnjianError(
            f"--rate 应在 0 与 100000 之间: {rate:g} (readings per second, 0 < rate ≤ 100000)",
            field="rate",
        )
    if seconds is not None and seconds <= 0:
        raise AnjianError(f"--seconds 应为正数: {seconds:g} (must be positive)", field="seconds")
    if enterprises is not None and enterprises < 1:
        raise AnjianError(
            f"--enterprises 至少为 1: {enterprises} (must be at least 1)", field="enterprises"
        )
    if url is not None:
        if via != "http":
            raise AnjianError("--url 仅用于 --via http (--url goes with --via http)", field="url")
        if not url.startswith(("http://", "https://")):
            raise AnjianError(
                f"--url 应形如 http://host:port: {url} (--url must look like http://host:port)",
                field="url",
            )


def _simulator(
    via: str,
    rate: float,
    enterprises: int | None,
    url: str | None,
    seed: int,
    notify: Callable[[str], None],
    opening: int = 0,
) -> Any:
    """A simulator of this node's enterprises with points, with its sender and credentials:
    fresh gateway tokens over HTTP (audited as the operator), the node's own MQTT login on
    the embedded broker, the URL's credentials on an external one."""
    from anjian.db import unit_of_work
    from anjian.monitoring.simulate import (
        HttpSender,
        Simulator,
        default_url,
        issue_tokens,
        local_gateways,
        mqtt_sender,
    )

    with unit_of_work(read_only=True) as db:
        gateways = local_gateways(db, enterprises)
    if not gateways:
        raise AnjianError(
            "本节点没有登记监测点的企业，请先运行 anjian demo 或登记监测点 (no enterprise of this "
            "node has monitoring points: run anjian demo or register points first)"
        )
    sender: Any
    if via == "http":
        with unit_of_work() as db:
            tokens = issue_tokens(db, cli_actor(), gateways)
        sender = HttpSender(url or default_url(), tokens, notify=notify)
    else:
        try:
            sender = mqtt_sender(notify=notify)
        except ValueError as exc:
            raise AnjianError(str(exc), field="ANJIAN_MQTT_URL") from None
    try:
        return Simulator(gateways, sender, rate=rate, seed=seed, notify=notify, opening=opening)
    except ValueError as exc:
        sender.close()
        raise AnjianError(
            f"速率过高，单批读数超过上限 ({exc}; lower --rate)", field="rate"
        ) from None


def _where(sim: Any, via: str) -> str:
    sender = sim.sender
    if via == "http":
        return f"HTTP {sender.base_url}/api/v1/monitoring/readings"
    whose = (
        "外部 MQTT 服务 ANJIAN_MQTT_URL (external broker)"
        if get_settings().mqtt_url
        else "本节点内置 MQTT 服务 (this node's embedded broker)"
    )
    return f"{whose} {sender.host}:{sender.port} (anjian/v1/<USCC>/readings, QoS 1)"


def _offline_warning(sim: Any) -> str | None:
    """A warning when readings come too seldom: a point silent for three sampling periods is
    marked offline by the server."""
    shortest = min(p.period_s for g in sim.gateways for p in g.points)
    if sim.pace.interval_s <= 3 * shortest:
        return None
    return (
        f"注意：每个测点每 {sim.pace.interval_s:.1f} 秒才一条读数，超过采样周期的 3 倍 "
        f"({3 * shortest} 秒)，测点会被判为离线；请提高 --rate (each point reports every "
        f"{sim.pace.interval_s:.1f} s, longer than 3 sampling periods: points will be marked "
        "offline; raise --rate)"
    )


@app.command()
@cli_errors
def simulate(
    via: Annotated[str, typer.Option(help="发送方式 mqtt | http (how to send)")] = "mqtt",
    rate: Annotated[float, typer.Option(help="每秒读数总数 (readings per second in all)")] = 200.0,
    seconds: Annotated[
        float | None,
        typer.Option(help="运行秒数，默认直到 Ctrl-C (run for S seconds; default until Ctrl-C)"),
    ] = None,
    enterprises: Annotated[
        int | None, typer.Option(help="最多模拟的企业数 (simulate at most N enterprises)")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="HTTP 接入地址，用于 --via http，默认取 ANJIAN_HOST/ANJIAN_PORT "
            "(server URL for --via http, e.g. http://127.0.0.1:8000)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="随机种子: 同一种子生成相同信号 (random seed)")] = 2026,
) -> None:
    """模拟网关：为本节点登记了监测点的企业发送逼真的监测数据（储罐收发料、气温日变化、
    可燃/有毒气体偶发泄漏、工作面瓦斯涌出、传感器掉线），经 MQTT 或 HTTP，按指定速率。
    经 HTTP 时为所模拟的企业签发新的接入凭证，旧凭证失效。

    (simulated gateways: realistic readings for this node's enterprises with monitoring points —
    tanks filling and emptying, daily temperature cycles, gas near zero with rare excursions,
    coal-mine methane near working faces, sensors dropping out — over MQTT (the node's broker)
    or HTTP, at a chosen rate. Over HTTP the simulated enterprises get fresh gateway tokens and
    earlier ones stop working: simulate only where no real gateway sends.)"""
    _check_simulate_options(via, rate, seconds, enterprises, url)
    ensure_schema()

    def say(message: str) -> None:
        err.print(f"[dim]{escape(message)}[/dim]")

    sim = _simulator(via, rate, enterprises, url, seed, say)
    if via == "http":
        err.print(
            f"已为 {len(sim.gateways)} 家企业签发新的接入凭证，旧凭证失效 (issued fresh gateway "
            "tokens; earlier ones stop working)"
        )
    err.print(
        f"[green]模拟网关[/green]: {len(sim.gateways)} 家企业 {sim.points} 个测点，每秒约 "
        f"{rate:g} 条读数 (每个测点每 {sim.pace.interval_s:.2f} 秒一条)，发往 {_where(sim, via)}；"
        f"Ctrl-C 停止 (simulating {sim.points} points of {len(sim.gateways)} enterprises at "
        f"{rate:g} readings/s; Ctrl-C stops)"
    )
    warning = _offline_warning(sim)
    if warning:
        err.print(f"[yellow]{escape(warning)}[/yellow]")
    try:
        stats = sim.run(seconds, report_every_s=10.0)
    except KeyboardInterrupt:
        sim.stop()
        stats = sim.stats
    finally:
        sim.sender.close()
    err.print(
        f"已发送 {stats.readings} 条读数 / {stats.batches} 批，未送达 {stats.skipped} 批 "
        f"(sent {stats.readings} readings in {stats.batches} batches; {stats.skipped} not "
        "delivered)"
    )


def _start_demo_simulator(host: str | None, port: int | None, seed: int) -> None:
    """Feed the demo's points in a background thread while the server runs: over MQTT (the
    embedded broker starts with the server; the simulator waits for it), or over HTTP when
    MQTT ingest is turned off. Quietly: one summary line a minute, not a line per request, so
    the printed logins stay on the screen."""
    import logging
    import threading

    settings = get_settings()
    via = "mqtt" if settings.mqtt_ingest else "http"
    url = None
    if via == "http":
        shown = host or settings.host
        url = (
            f"http://{'127.0.0.1' if shown in ('0.0.0.0', '::') else shown}:{port or settings.port}"
        )
        # the server's access log would print every batch the simulator posts
        logging.getLogger("uvicorn.access").addFilter(_NotSimulatorPosts())

    def say(message: str) -> None:
        err.print(f"[dim]模拟网关 (simulator): {escape(message)}[/dim]")

    try:
        sim = _simulator(via, DEMO_SIMULATE_RATE, None, url, seed, say, DEMO_OPENING_ALARMS)
    except AnjianError as exc:
        err.print(f"[yellow]不运行模拟网关 (no simulator): {escape(exc.message)}[/yellow]")
        return
    console.print(
        f"模拟网关 (simulated gateways): {len(sim.gateways)} 家企业 {sim.points} 个测点，"
        f"每秒约 {DEMO_SIMULATE_RATE:g} 条读数，经 {_where(sim, via)}；每分钟汇报一次；"
        "--no-simulate 关闭 (a summary line a minute; turn off with --no-simulate)"
    )

    def run() -> None:
        try:
            sim.run(report_every_s=DEMO_REPORT_S, report=_minute_report(say))
        except Exception:  # the server goes on without live data
            logging.getLogger("anjian.monitoring.simulate").exception("simulator stopped")

    threading.Thread(target=run, name="anjian-simulate", daemon=True).start()


DEMO_REPORT_S = 60.0  # the demo simulator's summary line: once a minute


class _NotSimulatorPosts:
    """Drops the access-log lines of reading batches posted to the ingest API."""

    def filter(self, record: Any) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (len(args) >= 3 and args[2] == "/api/v1/monitoring/readings")


def _minute_report(say: Callable[[str], None]) -> Callable[[Any], None]:
    """The demo simulator's summary: readings sent and alarms raised since the last line."""
    from datetime import timedelta

    from anjian.db import unit_of_work, utcnow
    from anjian.monitoring.simulate import alarms_raised_since

    last = {"readings": 0, "skipped": 0, "at": utcnow()}

    def report(stats: Any) -> None:
        now = utcnow()
        with unit_of_work(read_only=True) as db:
            alarms = alarms_raised_since(db, last["at"])
        readings = stats.readings - last["readings"]
        skipped = stats.skipped - last["skipped"]
        minutes = max(1, round((now - last["at"]) / timedelta(minutes=1)))
        last.update(readings=stats.readings, skipped=stats.skipped, at=now)
        say(
            f"近 {minutes} 分钟发送读数 {readings} 条，未送达 {skipped} 批，新报警 {alarms} 条 "
            f"(last {minutes} min: {readings} readings sent, {skipped} batches not delivered, "
            f"{alarms} new alarms)"
        )

    return report
