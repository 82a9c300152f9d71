"""Console forms: validation errors of a request body shown at their fields, in Chinese."""

from __future__ import annotations

from pydantic import ValidationError

from anjian.web.render import zh

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
    "int_parsing": "请输入整数",
}


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
        else:
            message = _PYDANTIC_ZH.get(err["type"]) or zh(err["msg"])
        errors.setdefault(field, message)
    return errors
