"""Reference data of enforcement, packaged as JSON under ``data/`` and replaceable by a node's
own file of the same shape (their wording is not verified against the official texts):

- the major-accident-hazard criteria (重大事故隐患判定标准) by supervision category, used as
  inspection checklists (``ANJIAN_ENFORCEMENT_CRITERIA_FILE``);
- the illegal acts and their legal bases with the fine ranges (处罚依据), for penalties
  (``ANJIAN_ENFORCEMENT_PENALTY_BASES_FILE``)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from anjian.config import get_settings
from anjian.core.errors import Invalid


@cache
def _load(packaged: str, path: Path | None) -> dict[str, Any]:
    if path is None:
        text = resources.files("anjian.enforcement").joinpath(f"data/{packaged}").read_text("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def criteria() -> dict[str, Any]:
    """``{"note", "categories": {category: {"title", "source", "complete", "items": [{"code",
    "text"}]}}}``."""
    return _load("major_hazard_criteria.json", get_settings().enforcement_criteria_file)


def checklist_for(category: str) -> list[dict[str, str]]:
    """The criteria items of a supervision category (empty when none are packaged)."""
    entry = criteria()["categories"].get(category)
    return [dict(item) for item in entry["items"]] if entry else []


def penalty_bases() -> dict[str, Any]:
    """``{"note", "bases": [{"code", "article", "act", "penalty", "low", "high"}]}`` (yuan)."""
    return _load("penalty_bases.json", get_settings().enforcement_penalty_bases_file)


def penalty_basis(code: str) -> dict[str, Any]:
    """One basis by code, with its range as Decimals; an Invalid naming ``basis`` otherwise."""
    for basis in penalty_bases()["bases"]:
        if basis["code"] == code:
            return {**basis, "low": Decimal(str(basis["low"])), "high": Decimal(str(basis["high"]))}
    raise Invalid(f"未知处罚依据: {code} (unknown legal basis)", field="basis")
