"""The commands that run the node: ``anjian init`` (schema and reference data), ``anjian serve``
(the API and console) and ``anjian demo`` (a demo province, optionally served with simulated
gateways)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from anjian.config import get_settings
from anjian.core.cli import cli_actor, cli_errors, console, ensure_schema
from anjian.core.errors import AnjianError
from anjian.monitoring.cli import demo_broker_port, start_demo_simulator

server_commands = typer.Typer()


@server_commands.command()
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


@server_commands.command()
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


@server_commands.command()
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
    monitoring points, emergency management at the first demo county, one demo user per tier)
    and print the logins. Safe to rerun: nothing is added twice."""
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
    elif result.monitoring_points or result.emergency_records:
        points, records = result.monitoring_points, result.emergency_records
        added: list[tuple[str, str]] = []
        if points:
            added.append((f"监测点 {points} 个", f"{points} monitoring points"))
        if records:
            added.append((f"应急管理记录 {records} 条", f"{records} emergency management records"))
        console.print(
            "[yellow]演示数据已存在[/yellow], 已补充"
            + "、".join(zh for zh, _ in added)
            + " (demo data already loaded; added "
            + ", ".join(en for _, en in added)
            + ")"
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
        demo_broker_port()
        if simulate_after:
            start_demo_simulator(host, port, seed)
        serve(host=host, port=port)
