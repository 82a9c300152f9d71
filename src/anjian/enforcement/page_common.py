"""What the enforcement case pages share (plans, draws, penalties, statistics and the public
page of draws): the labels of codes, amounts in 元, whether the
user's agency may act on a record here, and a detail page's step forms (the plumbing of a
posted form — the service call, its refusal shown at the form — is the kit's, web.forms)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from anjian.config import get_settings
from anjian.core.iam.deps import Context
from anjian.core.iam.models import Role
from anjian.enforcement.pdf_render import renderer
from anjian.enforcement.rules.draw import Weighting
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.risk.labels import LEVELS
from anjian.web.render import template_global

TEMPLATES = Path(__file__).parent / "templates"
# Documents offer their PDF only on a node that prints PDF (pdf_render.renderer).
template_global("pdf_available", lambda: renderer() is not None)
PAGE_SIZE = 20
ACTIVE = "enforcement"  # the navigation entry of every enforcement page

RISK_LABELS: dict[str, str] = {lv["code"]: lv["short"] for lv in LEVELS}
RISK_BADGES: dict[str, str] = {lv["code"]: lv["badge"] for lv in LEVELS}
WEIGHTING_LABELS: dict[str, str] = {
    Weighting.RISK: "按风险加权",
    Weighting.UNIFORM: "等概率",
}


def yuan(value: Decimal | int | float | None) -> str:
    """An amount in 元 for display, with thousands separators and fen (— when there is none)."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


def categories_text(codes: list[str]) -> str:
    """Supervision categories by name, or 全部行业 when a record takes every category."""
    return "、".join(SUPERVISION_CATEGORIES.get(c, c) for c in codes) or "全部行业"


def labels() -> dict[str, Any]:
    """The labels and formatters every enforcement template is given."""
    return {
        "categories": SUPERVISION_CATEGORIES,
        "risk_labels": RISK_LABELS,
        "risk_badges": RISK_BADGES,
        "weighting_labels": WEIGHTING_LABELS,
        "yuan": yuan,
        "categories_text": categories_text,
    }


def here(record: Any) -> bool:
    """Whether this node keeps ``record`` (only there may it change)."""
    return bool(record.origin_node == get_settings().effective_node_id)


def is_official(ctx: Context) -> bool:
    return bool(ctx.user.role == Role.OFFICIAL)


def agency_acts(ctx: Context, agency_division: str, record: Any) -> bool:
    """Whether the user's agency acts on a record of ``agency_division`` kept here: the
    services' own condition, asked before a button is offered."""
    return is_official(ctx) and ctx.user.division_code == agency_division and here(record)


@dataclass(frozen=True)
class StepForm:
    """A form of a detail page: ``act`` reads the posted fields and makes the service call the
    API makes (returning the errors at its fields, if any); ``labels`` name its fields in the
    alert; ``done`` is said once it went through."""

    act: Callable[[Context, int, dict[str, str]], dict[str, str]]
    labels: dict[str, str]
    done: str
