"""Console forms: the posted fields read, validation errors of a request body shown at their
fields in Chinese, the form pages that show them, and a form run as the API's service call
(``call`` validates as the API's model, ``run_form`` turns a refusal into errors at fields)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from anjian.core.divisions import service as divisions
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.web.layout import page
from anjian.web.render import zh
from anjian.web.session import check_csrf, refused

# Pydantic's error types in Chinese.
_PYDANTIC_ZH = {
    "missing": "必填",
    "string_too_short": "必填",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "取值无效",
    "string_type": "请输入文本",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "float_parsing": "请输入数字",
    "decimal_parsing": "请输入数字",
    "decimal_type": "请输入数字",
    "int_parsing": "请输入整数",
}
# Bounds, said with their limit.
_BOUNDS_ZH = {"greater_than_equal": ("ge", "不能小于"), "less_than_equal": ("le", "不能大于")}


def field_errors(
    exc: ValidationError, pattern_messages: dict[str, str] | None = None
) -> dict[str, str]:
    """Field → Chinese message, the first error of each field; ``pattern_messages``: what to
    say when a field's value is not one of its choices."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else "__all__"
        if err["type"] == "string_too_long" and "max_length" in (err.get("ctx") or {}):
            message = f"不能超过 {err['ctx']['max_length']} 字"
        elif err["type"] == "string_pattern_mismatch" and field in (pattern_messages or {}):
            message = (pattern_messages or {})[field]
        elif err["type"] in _BOUNDS_ZH and _BOUNDS_ZH[err["type"]][0] in (err.get("ctx") or {}):
            key, words = _BOUNDS_ZH[err["type"]]
            message = f"{words} {err['ctx'][key]}"
        else:
            message = _PYDANTIC_ZH.get(err["type"]) or zh(err["msg"])
        errors.setdefault(field, message)
    return errors


def validated(
    model: type[BaseModel],
    body: dict[str, Any],
    earlier: dict[str, str] | None = None,
    pattern_messages: dict[str, str] | None = None,
) -> tuple[Any, dict[str, str]]:
    """A form's values as the API's request body (``model``), or the errors at their fields;
    ``earlier``: errors the page found first (e.g. an unreadable time), which win;
    ``pattern_messages``: see :func:`field_errors`."""
    try:
        data = model.model_validate(body)
    except ValidationError as exc:
        return None, {**field_errors(exc, pattern_messages), **(earlier or {})}
    return (None, earlier) if earlier else (data, {})


def alert(errors: dict[str, str], labels: dict[str, str]) -> str:
    """The message on top of a refused form: a refusal that belongs to no field shown, else the
    fields to correct named (``labels``: field → the label the user sees)."""
    loose = [m for f, m in errors.items() if f not in labels]
    if loose:
        return "；".join(loose)
    if errors:
        return "请改正以下项目：" + "、".join(labels[f] for f in errors)
    return ""


def said_at_fields(errors: dict[str, str], labels: dict[str, str]) -> str:
    """The message over a small refused form whose fields carry no message of their own: each
    error after its field's label ("数量：不能小于 1"), a refusal of no field as it is."""
    return "；".join(f"{labels[f]}：{m}" if f in labels else m for f, m in errors.items())


@dataclass(frozen=True)
class FormRefusal:
    """One of a record page's forms, refused: which form (the page opens it), the errors at its
    fields, the values typed, and the status to answer with. ``None`` in its place: the page as
    first shown, no form open."""

    form: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    status_code: int = 200


async def posted_form(request: Request) -> dict[str, str]:
    """The posted form's text fields (files are not taken), after its CSRF token is checked."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    return form


@dataclass(frozen=True)
class FormPage:
    """A form page of the console: ``template`` in the layout (``active`` in the navigation)
    with the ``values`` typed and the ``errors`` at their fields; ``choices`` gives what else
    the form shows the user (the options of its selects); ``labels`` (field → label), when
    given, adds the :func:`alert` over the refused form. Called as the page is rendered:
    ``new_page(request, ctx, values)``, or again with the errors and their status. A form
    that shows more of its state (a part opened) extends :meth:`context`."""

    template: str
    active: str
    choices: Callable[[Context], dict[str, Any]]
    labels: dict[str, str] | None = None

    def context(
        self, ctx: Context, values: dict[str, str], errors: dict[str, str]
    ) -> dict[str, Any]:
        """What the template is given: the values, the errors (and their alert) and the
        choices."""
        said = {} if self.labels is None else {"alert": alert(errors, self.labels)}
        return {"values": values, "errors": errors, **said, **self.choices(ctx)}

    def __call__(
        self,
        request: Request,
        ctx: Context,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        context = self.context(ctx, values, errors or {})
        return page(
            request, ctx, self.template, context, active=self.active, status_code=status_code
        )


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
# Rules' messages may gloss in English after a slash ("中文 / English"): pages show the Chinese.
_SLASH_GLOSS = re.compile(r"\s+/\s+[^\u3000-\u9fff\uff00-\uffef]*$")


def call(model: type[BaseModel], body: dict[str, Any], act: Callable[[Any], Any]) -> dict[str, str]:
    """Validate a form's ``body`` as the API's ``model`` and, if valid, ``act`` on it; the
    errors at the fields otherwise."""
    data, errors = validated(model, body)
    if data is not None:
        act(data)
    return {field: _chinese(message, body.get(field)) for field, message in errors.items()}


def _chinese(message: str, value: Any) -> str:
    """A field's message as the user reads it: 必填 when nothing was given, and a message
    pydantic gave in English (a choice not among the options) said in Chinese."""
    if value is None or value == "" or value == []:
        return "必填"
    return message if CJK.search(message) else "取值无效"


async def run_form(
    request: Request, ctx: Context, form_of: Callable[[dict[str, str]], dict[str, str]]
) -> tuple[dict[str, str], dict[str, str], int]:
    """Read a posted form (CSRF checked), run ``form_of`` on it and say how it went: the values
    typed, the errors at their fields (a service refusal rolled back, audited when it denies
    access, its message at its field) and the status to answer with."""
    values = {k: v.strip() for k, v in (await posted_form(request)).items()}
    try:
        errors = form_of(values)
        status = 422
    except AnjianError as exc:
        errors, status = refused(request, ctx, exc), exc.status
    return values, {field: _SLASH_GLOSS.sub("", m) or m for field, m in errors.items()}, status


def division_choices(ctx: Context, depth: int = 2) -> list[tuple[str, str]]:
    """The divisions of the user's jurisdiction tree a form may name: their own and, ``depth``
    tiers down, those below it that the scope covers; names indented by tier."""
    own = divisions.get_division(ctx.db, ctx.user.division_code)
    if own is None:
        return []
    out: list[tuple[str, str]] = []

    def walk(code: str, name: str, level: int) -> None:
        if ctx.scope.covers_code(code):
            out.append((code, "　" * level + name))
        if level < depth:
            for child in divisions.children_of(ctx.db, code):
                walk(child.code, child.name, level + 1)

    walk(own.code, own.name, 0)
    return out
