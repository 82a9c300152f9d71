"""Field validators shared by the domains' request bodies: each raises a
:class:`PydanticCustomError` with a Chinese-first message, so the API answers 422 naming the
field and the Excel imports can report the same message against the column."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# China's mainland extent (GB/T 2260 divisions): a point outside is a typo or swapped lng/lat.
LNG_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


def invalid(kind: str, message: str) -> PydanticCustomError:
    """A validation error of ``kind`` with a message for users."""
    return PydanticCustomError(kind, message)


def one_of(labels: dict[str, str], what_zh: str, what_en: str) -> Any:
    """A validator accepting only the codes of ``labels`` (and listing them when refused)."""

    def check(value: str) -> str:
        if value not in labels:
            choices = "、".join(f"{code}({label})" for code, label in labels.items())
            raise invalid(
                what_en.replace(" ", "_"),
                f"{what_zh}无效: {value}，应为 {choices} 之一 ({what_en} must be one of "
                f"{', '.join(labels)})",
            )
        return value

    return check


def within(low: float, high: float, what_zh: str, what_en: str) -> Any:
    """A validator of a coordinate inside China's extent, ``low``–``high`` (None passes)."""

    def check(value: float | None) -> float | None:
        if value is not None and not low <= value <= high:
            raise invalid(
                what_en,
                f"{what_zh}应在 {low:g}–{high:g} 之间（中国境内）: {value:g} "
                f"({what_en} must lie within China, {low:g}–{high:g})",
            )
        return value

    return check


def text(max_length: int, *, required: bool = False) -> Any:
    """A validator of text length (and, if ``required``, non-empty)."""

    def check(value: str | None) -> str | None:
        if value is None:
            return value
        if required and not value.strip():
            raise invalid("required", "不能为空 (required)")
        if len(value) > max_length:
            raise invalid(
                "too_long",
                f"不能超过 {max_length} 个字符，实为 {len(value)} 个 "
                f"(at most {max_length} characters)",
            )
        return value

    return check


def blank_is_none(value: Any) -> Any:
    """Blank text means no value."""
    return None if isinstance(value, str) and value.strip() == "" else value


class PatchModel(BaseModel):
    """A partial update (PATCH) body: only the fields the client sent change. The fields named
    in ``not_null`` (their columns are NOT NULL; ``"*"``: every field) may be left out but not
    sent as null: 422 naming the field."""

    not_null: ClassVar[tuple[str, ...] | Literal["*"]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        # runs only for the fields actually sent
        if value is None and (cls.not_null == "*" or info.field_name in cls.not_null):
            raise invalid("not_null", "不能为空 (may not be null)")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their new values."""
        return self.model_dump(exclude_unset=True)


# A record's uid across nodes (a UUID as the sync layer writes it), in a path or a body.
Uid = Annotated[
    str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
