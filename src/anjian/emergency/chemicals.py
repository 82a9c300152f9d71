"""Common hazardous chemicals of accident response (常见危险化学品) and their emergency thresholds
(AEGL, ERPG, IDLH), from the packaged ``data/chemicals.json``, for the threat zones of
:mod:`anjian.emergency.rules.dispersion`. The file says which values were checked against their
sources (``verified``, ``verified_note``); the others must be reviewed before use."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "chemicals.json"
MOLAR_VOLUME_L = 24.45  # litres per mole of an ideal gas at 25 °C and 1 atm: mg/m³ = ppm·MW/24.45

_Levels = tuple[float | None, float | None, float | None]
_LEVEL = re.compile(r"^(AEGL|ERPG)-([123])$|^IDLH$")


@dataclass(frozen=True)
class Chemical:
    """One chemical. Thresholds are in ppm: ``aegl`` and ``erpg`` hold levels 1, 2 and 3 (AEGL
    for 60 minutes); None where a level is not set or not known."""

    name: str
    names: tuple[str, ...]
    cas: str
    molecular_weight: float | None
    dense: bool
    dense_note: str | None
    aegl: _Levels
    erpg: _Levels
    idlh: float | None
    sources: tuple[str, ...]
    verified: bool
    verified_note: str | None = None


def _levels(raw: dict[str, float | None]) -> _Levels:
    return raw["1"], raw["2"], raw["3"]


@cache
def all_chemicals() -> tuple[Chemical, ...]:
    """Every chemical of the packaged table, in its order."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return tuple(
        Chemical(
            name=row["name"],
            names=tuple(row["names"]),
            cas=row["cas"],
            molecular_weight=row["molecular_weight"],
            dense=row["dense"],
            dense_note=row.get("dense_note"),
            aegl=_levels(row["aegl"]),
            erpg=_levels(row["erpg"]),
            idlh=row["idlh"],
            sources=tuple(row["sources"]),
            verified=row["verified"],
            verified_note=row.get("verified_note"),
        )
        for row in data["chemicals"]
    )


def chemical(query: str) -> Chemical | None:
    """The chemical named ``query``: its Chinese name, an alias (any case, e.g. 氯气, Chlorine,
    cl2) or its CAS number; None when none matches."""
    key = query.strip().casefold()
    if not key:
        return None
    for chem in all_chemicals():
        if key == chem.cas or key in {n.casefold() for n in (chem.name, *chem.names)}:
            return chem
    return None


def threshold_mg_m3(chem: Chemical, level: str) -> float | None:
    """The threshold ``level`` ("AEGL-1"…"AEGL-3", "ERPG-1"…"ERPG-3" or "IDLH", any case) of
    ``chem`` in mg/m³ at 25 °C and 1 atm; None when the level is not set or the chemical has
    no single molecular weight (a mixture)."""
    match = _LEVEL.match(level.strip().upper())
    if match is None:
        raise ValueError(f"level must be AEGL-1…3, ERPG-1…3 or IDLH, got {level!r}")
    family, n = match.groups()
    if family is None:
        ppm = chem.idlh
    else:
        ppm = (chem.aegl if family == "AEGL" else chem.erpg)[int(n) - 1]
    if ppm is None or chem.molecular_weight is None:
        return None
    return ppm * chem.molecular_weight / MOLAR_VOLUME_L
