"""Pure rules of GB/T 2260 codes: tier, parent candidates, jurisdiction prefix.

Six digits in three layers: province (1–2), prefecture (3–4), county (5–6). A code's
jurisdiction is every code sharing its non-zero layers, so scope is a prefix range."""

from __future__ import annotations

from collections.abc import Container
from enum import StrEnum

NATIONAL = "000000"


class Tier(StrEnum):
    """Node and division tier (层级)."""

    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


# Two wordings, both needed: a division or node of each tier (the national one is 国家), and an
# agency or government of each tier, as a node page, the accident chain and an investigation
# name it (the national one is the State Council's department: 国家级).
TIER_LABELS = {Tier.NATIONAL: "国家", Tier.PROVINCE: "省级", Tier.CITY: "市级", Tier.COUNTY: "县级"}
AGENCY_TIER_LABELS = {
    Tier.NATIONAL: "国家级",
    Tier.PROVINCE: "省级",
    Tier.CITY: "市级",
    Tier.COUNTY: "县级",
}


def is_valid_code(code: str) -> bool:
    """Six digits, with no county layer under an empty prefecture layer except ``xx90xx``-style
    province-administered counties, which keep a non-zero prefecture layer anyway."""
    return len(code) == 6 and code.isdigit() and not (code[:2] == "00" and code != NATIONAL)


def tier_of(code: str) -> Tier:
    """The tier a code names: 000000 national, xx0000 province, xxyy00 city, else county."""
    if code == NATIONAL:
        return Tier.NATIONAL
    if code[2:] == "0000":
        return Tier.PROVINCE
    if code[4:] == "00":
        return Tier.CITY
    return Tier.COUNTY


def prefix_of(code: str) -> str:
    """The code prefix every division under ``code`` (itself included) shares."""
    tier = tier_of(code)
    return {Tier.NATIONAL: "", Tier.PROVINCE: code[:2], Tier.CITY: code[:4]}.get(tier, code)


def child_digits(code: str) -> int:
    """How many leading digits of a division code name the division one tier below ``code``
    (a county: its own six)."""
    return {0: 2, 2: 4, 4: 6}.get(len(prefix_of(code)), 6)


def parent_candidates(code: str) -> list[str]:
    """Possible parents, nearest first: a county's prefecture (absent for counties administered
    directly by the province, e.g. 429004 仙桃市), then its province, then the nation."""
    tier = tier_of(code)
    if tier is Tier.NATIONAL:
        return []
    if tier is Tier.PROVINCE:
        return [NATIONAL]
    if tier is Tier.CITY:
        return [code[:2] + "0000", NATIONAL]
    return [code[:4] + "00", code[:2] + "0000", NATIONAL]


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every string starting with ``prefix`` (for range queries that
    use an ordinary B-tree index on both SQLite and PostgreSQL)."""
    if not prefix:
        return "\uffff"
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def ancestors_and_self(code: str) -> list[str]:
    """The codes whose jurisdiction includes ``code``, nation first (a prefecture layer that does
    not exist, as above 429004, simply matches nothing)."""
    return [*reversed(parent_candidates(code)), code]


def covers(scope_code: str, code: str) -> bool:
    """Whether the jurisdiction of ``scope_code`` includes ``code``."""
    return code.startswith(prefix_of(scope_code))


# 直辖市: 北京、天津、上海、重庆 are province-level cities; GB/T 2260 gives them prefecture-level
# codes too (110100 北京市, 500100/500200 重庆市), which are no agency of their own.
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})


def agencies_over(code: str, existing: Container[str]) -> list[str]:
    """The divisions whose agencies stand over a place, its own level first and the nation
    last — the "level above" of each, as a report or an investigation climbs (Order No. 493
    Art. 9–10). Levels that do not exist are left out (a county administered directly by its
    province, e.g. 429004 仙桃市, has no city above it), and so are a municipality's
    prefecture-level codes (a district of 北京 reports to 110000 itself); each agency comes
    once, so none reports to itself. ``existing``: the division codes this node knows."""
    agencies: list[str] = []
    for candidate in [code, *parent_candidates(code)]:
        if candidate != NATIONAL and candidate not in existing:
            continue
        if tier_of(candidate) is Tier.CITY and candidate[:2] in MUNICIPALITIES:
            continue
        if candidate not in agencies:
            agencies.append(candidate)
    return agencies
