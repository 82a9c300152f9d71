"""The major-accident-hazard criteria (重大事故隐患判定标准) by supervision category, used as
enforcement checklists. Packaged as data (``data/major_hazard_criteria.json``); a node may point
``ANJIAN_ENFORCEMENT_CRITERIA_FILE`` at its own file of the same shape, since the packaged
wording is not verified against the official texts."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from anjian.config import get_settings


@cache
def _load(path: Path | None) -> dict[str, Any]:
    if path is None:
        text = resources.files("anjian.enforcement").joinpath("data/major_hazard_criteria.json")
        data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    return data


def criteria() -> dict[str, Any]:
    """``{"note", "categories": {category: {"title", "source", "complete", "items": [{"code",
    "text"}]}}}``."""
    return _load(get_settings().enforcement_criteria_file)


def checklist_for(category: str) -> list[dict[str, str]]:
    """The criteria items of a supervision category (empty when none are packaged)."""
    entry = criteria()["categories"].get(category)
    return [dict(item) for item in entry["items"]] if entry else []
