"""The kit of the ``anjian`` command line (Typer): the consoles it prints to, the error
handling every command shares (an expected error is a red message and exit code 1), the
operator's audit identity and the node-wide scope it acts with, the schema upgrade run before
commands that need it, and the password prompt. The commands themselves live next to what they
act on (``anjian/<domain>/cli.py``; core and wiring commands in :mod:`anjian.cli`), which
gathers them into one application."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from anjian.config import get_settings
from anjian.core.audit.service import Actor
from anjian.core.errors import AnjianError
from anjian.core.scope import Scope

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


def node_scope() -> Scope:
    """The console operator acts for the whole node's jurisdiction."""
    return Scope.for_division(None, "admin", [get_settings().node_division])


def read_password(prompt_twice: bool = False) -> str:
    """A password from the terminal (hidden, asked twice for a new one) or from standard input."""
    if sys.stdin.isatty():
        return typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=prompt_twice)
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise AnjianError("标准输入中没有密码 (no password on standard input)", field="password")
    return password
