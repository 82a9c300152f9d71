"""The tables of GB 18218-2018 (重大危险源辨识) loaded once from ``data/``, and the lookups the
rules need: a Table 1 chemical by name, alias or CAS number, a Table 2 category by symbol, the β of
Table 3 and 4, and the bands of Table 5 (α) and 6 (grade).

Values are kept as :class:`~fractions.Fraction` so that the rules can compare S with 1 and R with
the grade bounds exactly (0.3 t of phosgene against Q = 0.3 t is exactly S = 1)."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources

from anjian.core.errors import Invalid

_CAS_FORMAT = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
# A trailing qualifier of a Table 1 name: "氧(压缩的或液化的)", "硝化纤维素[干的…]".
_QUALIFIER = re.compile(r"[(\[].*$")


@dataclass(frozen=True)
class Chemical:
    """A row of Table 1, with the hazard category recorded for it (``table1-categories.csv``)."""

    name: str
    aliases: tuple[str, ...]
    cas: tuple[str, ...]
    critical_quantity: Fraction
    page: int
    category: str | None
    category_source: str

    @property
    def key(self) -> str:
        """The row's first CAS number, or its name where it has none (煤气, 烷基铝 …)."""
        return self.cas[0] if self.cas else self.name

    @property
    def base_name(self) -> str:
        """The name without its trailing qualifier: 氧(压缩的或液化的) → 氧."""
        return _QUALIFIER.sub("", self.name)


@dataclass(frozen=True)
class Category:
    """A hazard category of Table 2 with its critical quantity and its β of Table 4."""

    symbol: str
    hazard_class: str
    scope: str
    critical_quantity: Fraction
    beta: Fraction


@dataclass(frozen=True)
class Band:
    """A row of Table 5 or 6: ``low`` and ``high`` bounds (None = open) and the value."""

    low: Fraction | None
    high: Fraction | None
    value: str


def normalise_name(name: str) -> str:
    """A name as compared: NFKC (full-width brackets and commas to ASCII), no spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).lower()


def normalise_cas(cas: str) -> str:
    """A CAS number as compared: NFKC, spaces removed, dashes of any width as ``-``."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cas))
    return re.sub(r"[‐-―−]", "-", text)


def cas_valid(cas: str) -> bool:
    """Whether ``cas`` is a well-formed CAS registry number with a correct check digit.

    The check digit is the sum of the other digits, each times its position counted from the
    right (1, 2, …), modulo 10."""
    match = _CAS_FORMAT.match(cas)
    if not match:
        return False
    digits = (match.group(1) + match.group(2))[::-1]
    total = sum(int(d) * i for i, d in enumerate(digits, start=1))
    return total % 10 == int(match.group(3))


def _rows(filename: str) -> list[dict[str, str]]:
    path = resources.files("anjian.major_hazards") / "data" / filename
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


@cache
def table1() -> tuple[Chemical, ...]:
    """The 85 rows of Table 1 in the standard's order, each with its recorded category."""
    recorded = {r["name"]: r for r in _rows("table1-categories.csv")}
    chemicals = []
    for r in _rows("gb18218-2018-table1.csv"):
        cat = recorded.get(r["name"], {})
        chemicals.append(
            Chemical(
                name=r["name"],
                aliases=_split(r["aliases"]),
                cas=_split(r["cas"]),
                critical_quantity=Fraction(r["critical_quantity_t"]),
                page=int(r["page"]),
                category=cat.get("category") or None,
                category_source=cat.get("source", ""),
            )
        )
    return tuple(chemicals)


@cache
def _beta_rows() -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    table3: dict[str, Fraction] = {}
    table4: dict[str, Fraction] = {}
    for r in _rows("gb18218-2018-beta.csv"):
        target = table3 if r["source_table"] == "3" else table4
        target[r["key"]] = Fraction(r["beta"])
    return table3, table4


@cache
def categories() -> dict[str, Category]:
    """Table 2 by symbol (J1 … W11), each with its β from Table 4."""
    _table3, table4 = _beta_rows()
    return {
        r["symbol"]: Category(
            symbol=r["symbol"],
            hazard_class=r["hazard_class"],
            scope=r["scope"],
            critical_quantity=Fraction(r["critical_quantity_t"]),
            beta=table4[r["symbol"]],
        )
        for r in _rows("gb18218-2018-table2.csv")
    }


def category(symbol: str) -> Category | None:
    """The Table 2 category of ``symbol`` (e.g. ``"W5.3"``, case and width ignored), or None."""
    return categories().get(unicodedata.normalize("NFKC", symbol).strip().upper())


def table3() -> dict[str, Fraction]:
    """Table 3: β of the named toxic gases, by the standard's name."""
    return dict(_beta_rows()[0])


def table3_beta(names: Iterable[str]) -> tuple[str, Fraction] | None:
    """The Table 3 entry (name, β) named by any of ``names``, or None. A Table 1 name matches
    with or without its qualifier (氯化氢(无水) is Table 3's 氯化氢)."""
    by_name = {normalise_name(k): (k, v) for k, v in _beta_rows()[0].items()}
    for name in names:
        for candidate in (name, _QUALIFIER.sub("", name)):
            hit = by_name.get(normalise_name(candidate))
            if hit:
                return hit
    return None


@cache
def _bands() -> dict[str, tuple[Band, ...]]:
    bands: dict[str, list[Band]] = {}
    for r in _rows("gb18218-2018-alpha-grades.csv"):
        bands.setdefault(r["kind"], []).append(
            Band(
                low=Fraction(r["min"]) if r["min"] else None,
                high=Fraction(r["max"]) if r["max"] else None,
                value=r["value"],
            )
        )
    return {kind: tuple(rows) for kind, rows in bands.items()}


def alpha_bands() -> tuple[Band, ...]:
    """Table 5: α by people within 500 m outside the site; both bounds inclusive."""
    return _bands()["alpha_people_within_500m"]


def grade_bands() -> tuple[Band, ...]:
    """Table 6: grade label by R; ``low`` inclusive, ``high`` exclusive."""
    return _bands()["grade_R"]


@cache
def _indexes() -> tuple[
    dict[str, list[Chemical]], dict[str, list[Chemical]], dict[str, list[Chemical]]
]:
    exact: dict[str, list[Chemical]] = {}
    base: dict[str, list[Chemical]] = {}
    by_cas: dict[str, list[Chemical]] = {}
    for chem in table1():
        names = {normalise_name(n) for n in (chem.name, *chem.aliases)}
        for n in names:
            exact.setdefault(n, []).append(chem)
        base.setdefault(normalise_name(chem.base_name), []).append(chem)
        for cas in chem.cas:
            by_cas.setdefault(cas, []).append(chem)
    return exact, base, by_cas


def by_name(name: str) -> list[Chemical]:
    """Table 1 rows named ``name``: by standard name or alias first, else by the name without
    its qualifier (甲醛 → 甲醛(含量>90%)). Several rows mean the name does not pick one."""
    exact, base, _ = _indexes()
    key = normalise_name(name)
    return list(exact.get(key) or base.get(key) or [])


def by_cas(cas: str) -> list[Chemical]:
    """Table 1 rows carrying the CAS number ``cas`` (several for nitrocellulose and AN)."""
    return list(_indexes()[2].get(normalise_cas(cas), []))


def _names(rows: Iterable[Chemical]) -> str:
    return "、".join(f"「{c.name}」" for c in rows)


def find_chemical(name: str | None = None, cas: str | None = None) -> Chemical | None:
    """The Table 1 chemical given by name or alias and/or CAS number, or None when it is not in
    Table 1.

    Raises :class:`Invalid` (field ``name`` or ``cas``) when the CAS number is malformed or fails
    its check digit, when name and CAS number disagree, or when the input matches several rows
    (e.g. CAS 9004-70-0 alone: six nitrocellulose rows, chosen by name)."""
    name = (name or "").strip() or None
    cas = normalise_cas(cas) if cas and cas.strip() else None
    if name is None and cas is None:
        raise Invalid("须填写化学品名称或 CAS 号 (give the name or the CAS number)", field="name")
    if cas is not None and not cas_valid(cas):
        raise Invalid(
            f"CAS 号格式或校验位错误: {cas} (invalid CAS number or check digit)", field="cas"
        )
    named = by_name(name) if name else []
    numbered = by_cas(cas) if cas else []
    if named and cas is not None:
        both = [c for c in named if c in numbered]
        if not both:
            raise Invalid(
                f"CAS 号 {cas} 与{_names(named)}不符 (CAS number does not match the name)",
                field="cas",
            )
        named = both
    candidates = named or numbered
    if len(candidates) > 1:
        field = "name" if name else "cas"
        raise Invalid(
            f"无法确定表1中的化学品，可能是: {_names(candidates)}，请填写完整名称 "
            f"(ambiguous: several Table 1 rows match; give the full name)",
            field=field,
        )
    return candidates[0] if candidates else None
