"""The ``anjian enterprise`` commands: import and export the enterprise registry (一企一档)
as .xlsx, for the whole node's jurisdiction."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from anjian.core.cli import cli_actor, cli_errors, console, err, node_scope

enterprise_app = typer.Typer(help="企业档案 (enterprise registry)", no_args_is_help=True)


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
                db, cli_actor(), node_scope(), sheet, source=file.name, progress=progress
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
            node_scope(),
            cli_actor(),
            full_numbers=full_numbers,
            division=division,
            category=category,
            status=status,
        )
    file.write_bytes(data)
    console.print(f"[green]已导出 {count} 家企业[/green] → {file}")
