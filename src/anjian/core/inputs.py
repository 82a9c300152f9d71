"""Hostile input refused before any endpoint sees it: one app-wide dependency that, from the
matched route's declared parameters, answers 422 naming the field for

- integers beyond 64 bits (no column takes them; SQLite and PostgreSQL fail on the bind) in
  integer query and path parameters and anywhere in a JSON body;
- numbers JSON has no place for (``NaN``, ``Infinity``, or ``1e400``, which decodes to infinity)
  in a JSON body;
- C0 control characters other than tab, newline and carriage return (NUL included: PostgreSQL
  text cannot hold it, Excel files cannot either) in every query, path, JSON and form string,
  and lone surrogates (``"\\ud800"`` is valid JSON but no UTF-8 text: neither database can
  store it);
- text query parameters longer than :data:`MAX_QUERY_TEXT` unless they declare their own
  ``max_length`` (a search pattern of 50,000 characters is too complex for SQLite's LIKE).

Every current and later endpoint gets these checks without doing anything. An endpoint that
judges its JSON body item by item (reading batches, where one bad reading must not refuse the
others) says so with :func:`checks_own_body`; its query and path are still checked."""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # a PostgreSQL ``integer`` (every key column)
MAX_QUERY_TEXT = 200  # characters of a text query parameter without its own max_length

# C0 controls except tab (09), newline (0A) and carriage return (0D).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A surrogate left in decoded text is a lone one (JSON decoding joins the pairs).
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile(f"{_CONTROL.pattern}|{_SURROGATE.pattern}")
_INT = TypeAdapter(int)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

E = TypeVar("E", bound=Callable[..., Any])
_OWN_BODY: set[Callable[..., Any]] = set()

Problem = tuple[tuple[str | int, ...], str, str]  # (loc, message, type)


def checks_own_body(endpoint: E) -> E:
    """Mark an endpoint that checks its JSON body itself, item by item (its query and path
    parameters are still checked here)."""
    _OWN_BODY.add(endpoint)
    return endpoint


def control_char(text: str) -> str | None:
    """The first refused control character of ``text`` as ``U+00XX``, or None."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def storable(text: str) -> str:
    """``text`` with each refused control character and lone surrogate written as an escape
    (``\\x00``, ``\\ud800``): for storing text that arrived without these checks (MQTT), which
    must not fail on a NUL."""
    return _UNSTORABLE.sub(lambda m: ascii(m.group())[1:-1], text)


def control_message(code: str) -> str:
    """The message refusing a control character."""
    return f"不能含有控制字符 {code} (control characters are not allowed)"


def _text_problem(text: str) -> tuple[str, str] | None:
    code = control_char(text)
    if code:
        return control_message(code), "control_character"
    if _SURROGATE.search(text):
        return "不是有效的 Unicode 文本 (lone surrogate: not valid Unicode text)", "unicode"
    return None


_INT_MESSAGE = (
    f"整数超出范围，应在 {INT64_MIN} 到 {INT64_MAX} 之间 (integer out of the 64-bit range)",
    "int64_range",
)
_FINITE_MESSAGE = ("数值无效，须为有限数 (number must be finite)", "finite_number")


def _number_problem(value: int | float) -> tuple[str, str] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else _INT_MESSAGE
    return None if math.isfinite(value) else _FINITE_MESSAGE


def _walk(document: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every value of a decoded JSON document with its path, containers before what they hold.
    Iterative: a document nested as deep as the decoder allows must not exhaust the stack."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        loc, value = stack.pop()
        yield loc, value
        if isinstance(value, dict):
            stack.extend(((*loc, key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*loc, i), item) for i, item in enumerate(value))


def json_problems(body: Any) -> Iterator[Problem]:
    """What is refused in a decoded JSON document, each with its path (``units.0.name``)."""
    for loc, value in _walk(body):
        problem: tuple[str, str] | None = None
        if isinstance(value, str):
            problem = _text_problem(value)
        elif isinstance(value, int | float):
            problem = _number_problem(value)
        elif isinstance(value, dict):
            for key in value:
                key_problem = _text_problem(key)
                if key_problem:
                    yield ((*loc, key), *key_problem)
        if problem:
            yield (loc, *problem)


def _types_of(annotation: Any) -> Iterator[Any]:
    """The plain types an annotation admits (through Optional, unions, Annotated, lists)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _types_of(get_args(annotation)[0])
    elif origin in (Union, types.UnionType, list, set, tuple, frozenset):
        for arg in get_args(annotation):
            yield from _types_of(arg)
    else:
        yield annotation


def _params(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    """The query and path parameters of a route and of its dependencies."""
    for field in dependant.query_params:
        yield "query", field
    for field in dependant.path_params:
        yield "path", field
    for sub in dependant.dependencies:
        yield from _params(sub)


def _declared(route: Any) -> dict[tuple[str, str], tuple[bool, bool]]:
    """(source, name) → (takes an integer, is text without its own length cap), cached on the
    route."""
    cached = getattr(route, "_anjian_inputs", None)
    if cached is None:
        cached = {}
        for source, field in _params(route.dependant):
            kinds = set(_types_of(field.field_info.annotation))
            own_cap = any(getattr(m, "max_length", None) for m in field.field_info.metadata)
            cached[(source, field.alias)] = (int in kinds, str in kinds and not own_cap)
        route._anjian_inputs = cached
    return cached


def _value_problem(value: str, takes_int: bool, capped: bool) -> tuple[str, str] | None:
    problem = _text_problem(value)
    if problem:
        return problem
    if takes_int:
        try:
            number = _INT.validate_python(value)
        except ValidationError:
            return None  # not a number at all: the route's own validation says so
        return _number_problem(number)
    if capped and len(value) > MAX_QUERY_TEXT:
        return (
            f"不能超过 {MAX_QUERY_TEXT} 个字符，实为 {len(value)} 个 "
            f"(at most {MAX_QUERY_TEXT} characters)",
            "too_long",
        )
    return None


def _query_and_path(request: Request, route: Any) -> Iterator[Problem]:
    declared = _declared(route)
    items = [("query", k, v) for k, v in request.query_params.multi_items()]
    items += [("path", k, str(v)) for k, v in request.path_params.items()]
    for source, name, value in items:
        takes_int, capped = declared.get((source, name), (False, False))
        problem = _value_problem(value, takes_int, capped and source == "query")
        if problem:
            yield ((source, name), *problem)


async def _body(request: Request, route: Any) -> Iterator[Problem]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        form = await request.form()  # cached: the endpoint reads the same form
        return (
            (("body", name), *problem)
            for name, value in form.multi_items()
            if not isinstance(value, UploadFile) and (problem := _text_problem(value))
        )
    body_field = getattr(route, "body_field", None)
    if body_field is None or route.endpoint in _OWN_BODY or not hasattr(request, "_json"):
        # Only a body FastAPI decoded as JSON for the route is walked (sealed sync batches and
        # uploads are bytes).
        return iter(())
    return ((("body", *loc), *rest) for loc, *rest in json_problems(request._json))


async def refuse_hostile_input(request: Request) -> None:
    """The app-wide dependency: refuse the request with a 422 naming every field at fault."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    problems = [*_query_and_path(request, route), *(await _body(request, route))]
    if problems:
        raise RequestValidationError(
            [{"loc": loc, "msg": message, "type": kind} for loc, message, kind in problems]
        )


def field_beyond_int32(request: Request) -> str:
    """The field of the request holding an integer a 32-bit column cannot take (the cause of
    PostgreSQL's "integer out of range" for an id no key can have), or ``body``."""
    candidates: list[tuple[str, Any]] = [*request.path_params.items()]
    candidates += request.query_params.multi_items()
    for name, value in candidates:
        try:
            number = _INT.validate_python(value)
        except ValidationError:
            continue
        if not INT32_MIN <= number <= INT32_MAX:
            return name
    for loc, value in _walk(getattr(request, "_json", None)):
        beyond = isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX
        if beyond and not isinstance(value, bool):
            return ".".join(map(str, loc)) or "body"
    return "body"
