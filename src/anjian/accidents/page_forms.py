"""What the accident console pages share: the labels every page shows (grades, types, kinds,
tiers) and the reading of form fields into the API's request bodies, with the service's
messages turned to the labels the user sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData

from anjian.accidents.rules import (
    ACCIDENT_TYPES,
    CRITERION_LABELS,
    GRADE_LABELS,
    KINDS,
    NEAR_MISS_CRITERIA,
    TIER_LABELS,
)
from anjian.core.clock import beijing_if_naive
from anjian.core.iam.deps import Context
from anjian.web.forms import alert as alert

PAGE_SIZE = 50
# red, orange, yellow, blue (console.css: WCAG AA contrast)
GRADE_BADGES = {1: "grade-1", 2: "grade-2", 3: "grade-3", 4: "grade-4"}
WHOLE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class DetailForm:
    """One form of an accident's detail page: ``act`` reads the posted fields and makes the
    service call the API makes (returning the errors at the fields, if any); ``labels`` name its
    fields in the messages; ``done`` is said once it went through, and the page returns to
    ``anchor``."""

    act: Callable[[Context, int, dict[str, str]], dict[str, str]]
    labels: dict[str, str]
    done: str
    anchor: str = "investigation"


def template_labels() -> dict[str, Any]:
    """The labels of grades, types, kinds and tiers, for every accident template."""
    return {
        "grade_badges": GRADE_BADGES,
        "grade_labels": {int(g): label for g, label in GRADE_LABELS.items()},
        "accident_types": ACCIDENT_TYPES,
        "tier_labels": TIER_LABELS,
        "criterion_labels": CRITERION_LABELS,
        "kinds": KINDS,
        "near_miss_criteria": NEAR_MISS_CRITERIA,
    }


def text_form(raw: FormData) -> dict[str, str]:
    """The text fields of a posted form, trimmed (files are not taken)."""
    return {k: v.strip() for k, v in raw.items() if isinstance(v, str)}


def local_time(value: str) -> datetime | None:
    """A time typed in the form (Beijing time, ``YYYY-MM-DDTHH:MM`` as datetime-local sends
    it); None when it cannot be read."""
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return None
    return beijing_if_naive(parsed)


def number(value: str) -> Any:
    """A whole number typed in the form as the API's JSON integer; anything else is passed on
    as typed, for the schema to refuse with its own message."""
    return int(value) if WHOLE.fullmatch(value) else value


def named(errors: dict[str, str], labels: dict[str, str]) -> dict[str, str]:
    """Service messages name a field by its code (e.g. 结案前须填写 direct_causes): use the
    label the user sees instead."""
    out = {}
    for field, message in errors.items():
        label = labels.get(field)
        out[field] = message.replace(field, label) if label else message
    return out
