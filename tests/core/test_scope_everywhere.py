"""Scope that cannot be forgotten: every function that selects a scoped model (one declaring
``__scope__``, see ``anjian.core.scope``) restricts that model by the user's scope —
``scope.select(M)``, ``scope.restrict(stmt, M)``, ``scope.condition(M)`` or
``scope.one(session, M, …)`` in the same function — or says why not with ``@unscoped("…")``.
The walk reads the source, so a query added tomorrow is judged before it runs; the test below
shows it catching a deliberately unscoped query."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import anjian
from anjian.core.scope import Scoped

SRC = Path(anjian.__file__).parent
SCOPE_CALLS = {"select", "restrict", "condition", "one"}


def scoped_models() -> set[str]:
    """The names of the models that declare a scope (after every domain is imported)."""
    import anjian.app  # noqa: F401  (imports every domain's models)

    found: set[str] = set()
    todo = list(Scoped.__subclasses__())
    while todo:
        cls = todo.pop()
        if "__scope__" in cls.__dict__:
            found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _models_in(node: ast.AST, models: set[str]) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in models}


def _is_scope(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name.endswith("scope")


def _unscoped(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if getattr(target, "id", getattr(target, "attr", "")) == "unscoped":
            return True
    return False


def violations(source: str, models: set[str]) -> Iterator[tuple[int, str, set[str]]]:
    """(line, function, models) for each function selecting scoped models it does not scope."""
    tree = ast.parse(source)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or _unscoped(fn):
            continue
        selected: set[str] = set()
        scoped: set[str] = set()
        for call in ast.walk(fn):
            if not isinstance(call, ast.Call):
                continue
            f = call.func
            if isinstance(f, ast.Name) and f.id == "select":
                selected |= _models_in(call, models)
            elif isinstance(f, ast.Attribute) and f.attr in SCOPE_CALLS and _is_scope(f.value):
                scoped |= _models_in(call, models)
        missing = selected - scoped
        if missing:
            yield fn.lineno, fn.name, missing


def test_every_query_of_a_scoped_model_is_scoped() -> None:
    models = scoped_models()
    assert {"Enterprise", "HiddenHazard", "Accident", "Alarm", "User"} <= models
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("migrations/"):
            continue
        for line, name, missing in violations(path.read_text(encoding="utf-8"), models):
            problems.append(f"{rel}:{line} {name}: {', '.join(sorted(missing))}")
    assert not problems, "scoped models selected without the scope:\n" + "\n".join(problems)


def test_the_check_catches_a_deliberately_unscoped_query() -> None:
    models = scoped_models()
    bad = (
        "def leak(session):\n"
        "    return session.scalars(select(Enterprise).where(Enterprise.name == 'x'))\n"
        "def also_leak(session, scope):\n"
        "    hazards = scope.select(HiddenHazard)\n"
        "    return session.scalars(select(Alarm.id))  # another model, not scoped\n"
    )
    good = (
        "def fine(session, scope):\n"
        "    return session.scalars(scope.select(Enterprise).where(Enterprise.name == 'x'))\n"
        "def joined(session, ctx):\n"
        "    stmt = select(Alarm.id).join(Enterprise, Enterprise.id == Alarm.enterprise_id)\n"
        "    return ctx.scope.restrict(ctx.scope.restrict(stmt, Alarm), Enterprise)\n"
        "@unscoped('the nightly job runs for the node')\n"
        "def job(session):\n"
        "    return session.scalars(select(Alarm))\n"
    )
    assert [(n, m) for _, n, m in violations(bad, models)] == [
        ("leak", {"Enterprise"}),
        ("also_leak", {"Alarm"}),
    ]
    assert list(violations(good, models)) == []


def test_every_scoped_model_names_itself_for_its_not_found_message() -> None:
    """``scope.one(session, M, id)`` words its 404 from ``M.__noun__``: every scoped model has
    one, so no lookup can fail with an AttributeError instead of the 404."""
    import anjian.app  # noqa: F401  (imports every domain's models)
    from anjian.core.scope import not_in_scope_message

    todo, unnamed = list(Scoped.__subclasses__()), []
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "__scope__" not in cls.__dict__:
            continue
        if "__noun__" not in cls.__dict__:
            unnamed.append(cls.__name__)
            continue
        message = not_in_scope_message(cls, 7)
        assert message.startswith(cls.__noun__[0]) and ": 7 (no such " in message
    assert unnamed == []
