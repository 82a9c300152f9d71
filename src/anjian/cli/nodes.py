"""The ``anjian audit``, ``anjian node`` and ``anjian sync`` commands: the audit chain and its
seals, the tiered nodes' links, and sync bundles for isolated networks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from anjian.config import get_settings
from anjian.core.cli import cli_actor, cli_errors, console, ensure_schema, err
from anjian.core.errors import AnjianError

audit_app = typer.Typer(help="安全审计 (audit)", no_args_is_help=True)
node_app = typer.Typer(help="分级节点 (tiered nodes)", no_args_is_help=True)
sync_app = typer.Typer(
    help="同步数据交换 (sync bundles for isolated networks)", no_args_is_help=True
)


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
