"""The ``anjian`` command line (Typer), gathered in one place: each command lives next to what it
acts on — ``anjian/<domain>/cli.py`` for a domain's (``enterprise``; ``gateway``, ``ingest``,
``simulate``), this package for the core's and the wiring's (``init``, ``serve``, ``demo``;
``user``, ``org``; ``audit``, ``node``, ``sync``) — and shares the kit of
:mod:`anjian.core.cli`. The console script ``anjian`` runs :func:`main`."""

from __future__ import annotations

import sys

import typer

import anjian.models  # noqa: F401  (registers every table and synced entity for all commands)
from anjian.cli.accounts import org_app, user_app
from anjian.cli.nodes import audit_app, node_app, sync_app
from anjian.cli.server import server_commands
from anjian.config import get_settings
from anjian.core.cli import err
from anjian.enterprises.cli import enterprise_app
from anjian.monitoring.cli import gateway_app, monitoring_commands, readings_app
from anjian.ops.cli import ops_commands

app = typer.Typer(
    help="安监云 Anjian Cloud — 安全生产监管监察与应急管理平台",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# In the order ``anjian --help`` lists them: commands of the root first, then the groups.
app.add_typer(server_commands)  # init, serve, demo
app.add_typer(monitoring_commands)  # ingest, simulate
app.add_typer(ops_commands)  # backup, restore
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(org_app, name="org")
app.add_typer(node_app, name="node")
app.add_typer(sync_app, name="sync")
app.add_typer(gateway_app, name="gateway")
app.add_typer(readings_app, name="readings")


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


__all__ = ["app", "main"]
