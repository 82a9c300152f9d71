"""Commands of operations (运维): ``anjian backup`` and ``anjian restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from anjian.config import get_settings
from anjian.core.audit.service import audit
from anjian.core.cli import cli_actor, cli_errors, console, ensure_schema, err
from anjian.core.errors import AnjianError
from anjian.db import unit_of_work
from anjian.ops.backup import described, new_key, open_backup, read_key, restore_backup
from anjian.ops.service import backup_node

ops_commands = typer.Typer()


def _key(key_file: Path | None) -> bytes:
    if key_file is None:
        raise AnjianError("需要 --key-file (the backup key file)", field="key_file")
    return read_key(key_file)


@ops_commands.command()
@cli_errors
def backup(
    to: Annotated[Path | None, typer.Option("--to", help="备份文件 (the file to write)")] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="SM4 密钥文件: 32 位十六进制 (32 hex digits)")
    ] = None,
    verify: Annotated[
        Path | None, typer.Option("--verify", help="只校验此备份, 不恢复 (check a backup)")
    ] = None,
    new_key_file: Annotated[
        Path | None, typer.Option("--new-key", help="生成新密钥写入此文件 (write a new key)")
    ] = None,
) -> None:
    """备份节点: 数据库、密钥与上传文件, SM4 加密, 附 SM3 清单 (back the node up, encrypted).

    ``--to FILE --key-file KEY`` writes a backup; ``--verify FILE --key-file KEY`` checks one
    whole; ``--new-key KEY`` writes a new key (keep it apart from the node)."""
    if sum(x is not None for x in (to, verify, new_key_file)) != 1:
        raise AnjianError(
            "请给出 --to、--verify 或 --new-key 之一 (one of --to, --verify, --new-key)",
            field="to",
        )
    if new_key_file is not None:
        new_key(new_key_file)
        console.print(f"[green]新密钥已写入[/green] {escape(str(new_key_file))} (保存在节点之外)")
        return
    key = _key(key_file)
    if verify is not None:
        manifest = open_backup(verify, key)
        console.print(f"[green]备份完好[/green] (backup verified): {escape(described(manifest))}")
        return
    assert to is not None and key_file is not None
    settings = get_settings()
    if key_file.resolve().is_relative_to(settings.data_dir.resolve()):
        err.print("[yellow]注意: 密钥文件在数据目录内, 会随备份一起丢失 (keep the key apart)[/]")
    made = backup_node(settings, cli_actor(), to, key, "manual")
    console.print(
        f"[green]备份完成[/green] {escape(str(made.path))}: {made.size / 1e6:.1f} MB, "
        f"SM3 {made.sm3}; {escape(described(made.manifest))}"
    )


@ops_commands.command()
@cli_errors
def restore(
    file: Annotated[Path, typer.Argument(help="备份文件 (the backup file)")],
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="SM4 密钥文件 (the backup's key file)")
    ] = None,
) -> None:
    """从备份恢复到空节点: 先整体校验, 再写入数据目录与数据库 (restore into an empty node).

    The data directory and database named by the ``ANJIAN_*`` settings must be empty; nothing
    is written unless the whole backup checks out. The schema is then brought up to date; the
    node catches up with its parent at its next sync."""
    key = _key(key_file)
    settings = get_settings()
    manifest = restore_backup(settings, file, key)
    ensure_schema()
    with unit_of_work() as db:
        audit(
            db,
            cli_actor(),
            "backup.restore",
            object_type="backup",
            detail={
                "file": str(file),
                "created_at": manifest.get("created_at"),
                "node_id": manifest.get("node_id"),
            },
        )
    console.print(f"[green]恢复完成[/green] (restored): {escape(described(manifest))}")
