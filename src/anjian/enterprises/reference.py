"""The GB/T 4754-2017 major classes (大类) loaded once from ``data/`` (see its README)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def industry_divisions() -> dict[str, tuple[str, str]]:
    """Major class (two digits) → (section letter, name), all 97 of GB/T 4754-2017."""
    path = resources.files("anjian.enterprises") / "data" / "gb-t-4754-2017-divisions.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {r["code"]: (r["section"], r["name"]) for r in csv.DictReader(f)}
