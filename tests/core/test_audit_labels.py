"""Every audit action the code emits has a Chinese label for the audit view.

The source is scanned, not a list kept by hand: a new ``audit(..., "x.y", ...)`` (or
``audit_record``) without a label in :data:`anjian.core.audit.labels.ACTION_LABELS` fails here.
Action codes are found as

- a string literal: ``audit(session, actor, "enterprise.create", ...)``;
- ``audit_read(session, actor, "enterprise", ...)``: ``enterprise.read`` (``audit_reveal``:
  ``enterprise.reveal``);
- an f-string over a parameter of the enclosing helper, ``f"alarm.{verb}"`` (or the parameter
  itself): the helper's callers (in its module, or importing it by name) are followed, and each
  literal, enum member or module constant they pass is a code."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import anjian
from anjian.core.audit.labels import ACTION_LABELS, OBJECT_LABELS, action_label

SRC = Path(anjian.__file__).parent


def _module_name(path: Path) -> str:
    return ".".join(("anjian", *path.relative_to(SRC).with_suffix("").parts))


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _arg(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


class _Module:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = _module_name(path)
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(SRC.parent)}:{getattr(node, 'lineno', '?')}"

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def value(self, expr: ast.expr) -> str | None:
        """A literal string, or an enum member / constant of the module (evaluated)."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.Attribute | ast.Name):
            module = importlib.import_module(self.name)
            try:
                value = eval(ast.unparse(expr), vars(module))  # our own source, read by the test
            except NameError:  # a local name: a parameter, followed by codes()
                return None
            return str(value) if isinstance(value, str) else None
        return None

    def codes(self, expr: ast.expr) -> Iterator[tuple[str | None, str]]:
        """The codes an action expression can take, each with where it was found (None: an
        expression this scan cannot follow)."""
        value = self.value(expr)
        if value is not None:
            yield value, self.where(expr)
        elif isinstance(expr, ast.IfExp):  # "a.x" if full else "a.y"
            yield from self.codes(expr.body)
            yield from self.codes(expr.orelse)
        elif isinstance(expr, ast.Name):  # a parameter of the enclosing helper
            yield from self.passed(expr, expr.id, "")
        elif (
            isinstance(expr, ast.JoinedStr)
            and len(expr.values) == 2
            and isinstance(expr.values[0], ast.Constant)
            and isinstance(expr.values[1], ast.FormattedValue)
            and isinstance(expr.values[1].value, ast.Name)
        ):
            yield from self.passed(expr, expr.values[1].value.id, str(expr.values[0].value))
        else:
            yield None, self.where(expr)

    def passed(self, expr: ast.expr, param: str, prefix: str) -> Iterator[tuple[str | None, str]]:
        """``prefix`` + each value the enclosing function's callers in this module pass as its
        parameter ``param``."""
        fn = self.enclosing_function(expr)
        params = [a.arg for a in fn.args.args] if fn is not None else []
        if fn is None or param not in params:
            yield None, self.where(expr)
            return
        callers = [
            (module, n)
            for module in _modules()
            if module is self or module.imports(self.name, fn.name)
            for n in ast.walk(module.tree)
            if isinstance(n, ast.Call) and _callee(n) == fn.name
        ]
        assert callers, f"{self.where(expr)}: {fn.name} is never called"
        for module, call in callers:
            arg = _arg(call, params.index(param), param)
            suffix = module.value(arg) if arg is not None else None
            yield (prefix + suffix if suffix is not None else None), module.where(call)

    def imports(self, module: str, name: str) -> bool:
        """Whether this module does ``from <module> import <name>``."""
        return any(
            isinstance(n, ast.ImportFrom)
            and n.module == module
            and any(a.name == name for a in n.names)
            for n in ast.walk(self.tree)
        )


@cache
def _modules() -> list[_Module]:
    return [_Module(p) for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


# The writers of audit records: for audit() and audit_record() the action, for the others the
# object type that names their action (``audit_read(s, a, "enterprise", ...)`` writes
# ``enterprise.read``).
CALLS = {"audit": "", "audit_record": "", "audit_read": ".read", "audit_reveal": ".reveal"}
ACTION_CALLS = {"audit", "audit_record"}
# Where each writer takes its object type: audit() by keyword only, audit_record() third.
OBJECT_TYPE_AT = {"audit": 99, "audit_record": 3}


def _audit_calls() -> Iterator[tuple[_Module, str, ast.Call]]:
    for module in _modules():
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call) or _callee(node) not in CALLS:
                continue
            if module.name == "anjian.core.audit.service" and _callee(node) in ACTION_CALLS:
                continue  # the definitions' own calls, passing their parameters through
            yield module, _callee(node), node


def emitted_codes() -> dict[str, str]:
    """Every audit action code emitted in src, with one place that emits it."""
    found: dict[str, str] = {}
    unresolved: list[str] = []
    for module, name, call in _audit_calls():
        expr = _arg(call, 2, "action" if name in ACTION_CALLS else "object_type")
        suffix = CALLS[name]
        assert expr is not None, module.where(call)
        for code, where in module.codes(expr):
            if code is None:
                unresolved.append(where)
            else:
                found.setdefault(code + suffix, where)
    assert not unresolved, f"audit actions this scan cannot follow: {unresolved}"
    return found


def emitted_object_types() -> dict[str, str]:
    """Every object type recorded in src."""
    found: dict[str, str] = {}
    for module, name, call in _audit_calls():
        expr = _arg(call, OBJECT_TYPE_AT.get(name, 2), "object_type")
        if expr is None:
            continue
        for value, where in module.codes(expr):
            assert value is not None, f"{where}: object type this scan cannot follow"
            found.setdefault(value, where)
    return found


def test_the_scan_finds_the_known_kinds_of_call() -> None:
    codes = emitted_codes()
    assert codes.keys() >= {
        "enterprise.create",  # a literal
        "enterprise.read",  # audit_read
        "monitoring_point.create",  # an f-string helper's caller
        "hidden_hazard.register",  # an enum member passed to the helper
        "hidden_hazard.overdue",  # a literal passed to the same helper
        "alarm.close",
        "enterprise.export_full_numbers",  # one side of a conditional
        "accident.reveal",  # audit_reveal through core.contacts.reveal, called by a domain
    }


def test_every_emitted_action_has_a_chinese_label() -> None:
    missing = {code: where for code, where in emitted_codes().items() if code not in ACTION_LABELS}
    assert not missing, f"audit actions without a Chinese label (core/audit/labels.py): {missing}"


def test_no_label_for_an_action_nobody_emits() -> None:
    stale = set(ACTION_LABELS) - set(emitted_codes())
    assert not stale, f"labels of actions the code no longer emits: {sorted(stale)}"


def test_every_object_type_has_a_label() -> None:
    types = emitted_object_types()
    assert {"enterprise", "accident", "major_hazard_source"} <= types.keys()
    missing = {t: where for t, where in types.items() if t not in OBJECT_LABELS}
    assert not missing, f"object types without a Chinese label: {missing}"


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert action_label("enterprise.create") == "登记企业"
    assert action_label("made.up") == "made.up"
