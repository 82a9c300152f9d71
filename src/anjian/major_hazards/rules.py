"""Pure rules of GB 18218-2018: identification (辨识) and grading (分级) of a major hazard source
(重大危险源) from the chemicals of a unit, by the tables in :mod:`anjian.major_hazards.reference`.

For each unit (生产单元 or 储存单元; the kind does not change the formula):

* S = Σ q/Q, the unit is a major hazard source when S ≥ 1 (clause 4.2);
* R = α · Σ β·q/Q, graded by Table 6 (一级 R ≥ 100 … 四级 R < 10), for major hazard sources only.

Arithmetic is exact (:class:`~fractions.Fraction` of the decimal inputs), so a unit exactly at a
threshold is classified as the standard says, not as floating-point rounding happens to fall."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from anjian.core.errors import Invalid
from anjian.major_hazards import reference
from anjian.major_hazards.reference import Chemical

UNIT_KINDS: dict[str, str] = {"production": "生产单元", "storage": "储存单元"}
GRADE_LABELS: dict[int, str] = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_GRADE_OF_LABEL = {label: grade for grade, label in GRADE_LABELS.items()}
DEFAULT_BETA = Fraction(1)


@dataclass(frozen=True)
class ChemicalInput:
    """One chemical of a unit: by ``name`` (standard name or alias) and/or ``cas`` number, its
    maximum quantity in tonnes, and optionally its hazard categories (Table 2 symbols)."""

    quantity_t: float
    name: str | None = None
    cas: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitInput:
    """A unit (单元) to assess: ``kind`` is ``production`` (生产单元) or ``storage`` (储存单元)."""

    name: str
    kind: str
    people_within_500m: int
    chemicals: Sequence[ChemicalInput]


@dataclass(frozen=True)
class ChemicalAssessment:
    """One chemical's share: ``source_table`` is 1 (named in Table 1) or 2 (by category);
    ``category`` the symbols given (``W2;J3``), else the one recorded for a Table 1 chemical;
    ``beta_source`` is ``table3``, ``table4`` (by category) or ``default`` (β = 1, no category)."""

    name: str
    cas: str | None
    source_table: int
    category: str | None
    quantity_t: float
    critical_quantity_t: float
    q_over_Q: float
    beta: float
    beta_source: str


@dataclass(frozen=True)
class UnitAssessment:
    """The result for one unit; ``grade`` (1 = 一级, highest … 4 = 四级) is None when the unit is
    not a major hazard source."""

    name: str
    kind: str
    people_within_500m: int
    alpha: float
    chemicals: tuple[ChemicalAssessment, ...]
    sum_q_over_Q: float
    R: float
    is_major: bool
    grade: int | None
    warnings: tuple[str, ...] = field(default=())

    @property
    def kind_label(self) -> str:
        """生产单元 or 储存单元."""
        return UNIT_KINDS[self.kind]

    @property
    def grade_label(self) -> str | None:
        """一级 … 四级, or None when not a major hazard source."""
        return GRADE_LABELS[self.grade] if self.grade is not None else None


def _exact(value: float | int | Fraction) -> Fraction:
    """The decimal the user wrote (0.3 → 3/10), not the binary float nearest to it."""
    if isinstance(value, Fraction | int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _in_band(value: Fraction, band: reference.Band, *, high_inclusive: bool) -> bool:
    if band.low is not None and value < band.low:
        return False
    if band.high is None:
        return True
    return value <= band.high if high_inclusive else value < band.high


def alpha_for(people_within_500m: int) -> float:
    """α of Table 5 for the number of people normally resident within 500 m outside the site
    boundary: 0 → 0.5, 1–29 → 1.0, 30–49 → 1.2, 50–99 → 1.5, ≥ 100 → 2.0."""
    return float(_alpha(people_within_500m))


def _alpha(people: int) -> Fraction:
    if isinstance(people, bool) or not isinstance(people, int) or people < 0:
        raise Invalid(
            f"500 米范围内人数应为非负整数: {people} (people within 500 m must be a whole "
            "number ≥ 0)",
            field="people_within_500m",
        )
    for band in reference.alpha_bands():
        if _in_band(Fraction(people), band, high_inclusive=True):
            return Fraction(band.value)
    raise AssertionError(f"Table 5 does not cover {people}")  # the bands cover 0 … ∞


def grade_for(r: float | Fraction) -> int:
    """Grade of Table 6 for R: 1 (一级, R ≥ 100), 2 (50 ≤ R < 100), 3 (10 ≤ R < 50), 4 (R < 10)."""
    if isinstance(r, float) and not math.isfinite(r):
        raise ValueError(f"R must be finite, got {r}")
    value = _exact(r)
    for band in reference.grade_bands():
        if _in_band(value, band, high_inclusive=False):
            return _GRADE_OF_LABEL[band.value]
    raise AssertionError(f"Table 6 does not cover {r}")  # the bands cover −∞ … ∞


def _quantity(value: float, field_name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"数量应为数字: {value!r} (quantity must be a number)", field=field_name)
    if not math.isfinite(value) or value < 0:
        raise Invalid(
            f"数量应为非负有限数值（吨）: {value} (quantity must be a finite number ≥ 0 t)",
            field=field_name,
        )
    return _exact(value)


def _categories(symbols: Sequence[str], field_name: str) -> list[reference.Category]:
    found = []
    for symbol in symbols:
        cat = reference.category(symbol)
        if cat is None:
            known = "、".join(reference.categories())
            raise Invalid(
                f"未知危险性类别: {symbol}，应为表2类别 {known} 之一 "
                f"(unknown hazard category; use a Table 2 symbol)",
                field=field_name,
            )
        found.append(cat)
    return found


def _lookup(chem: ChemicalInput, prefix: str) -> Chemical | None:
    try:
        return reference.find_chemical(chem.name, chem.cas)
    except Invalid as exc:
        raise Invalid(exc.message, field=f"{prefix}{exc.field}") from exc


@dataclass(frozen=True)
class _Share:
    assessment: ChemicalAssessment
    q_over_q: Fraction
    weighted: Fraction


def _assess_chemical(chem: ChemicalInput, prefix: str, warnings: list[str]) -> _Share:
    q = _quantity(chem.quantity_t, f"{prefix}quantity_t")
    given = _categories(chem.categories, f"{prefix}category")
    row = _lookup(chem, prefix)
    given_beta = max(given, key=lambda c: c.beta) if given else None

    if row is not None:
        name, big_q, source_table = row.name, row.critical_quantity, 1
        cas = (
            reference.normalise_cas(chem.cas)
            if chem.cas and chem.cas.strip()
            else (row.cas[0] if row.cas else None)
        )
        typed = reference.normalise_name(chem.name or "")
        if row.base_name != row.name and typed not in {
            reference.normalise_name(n) for n in (row.name, *row.aliases)
        }:
            shown = (chem.name or "").strip() or cas
            warnings.append(
                f"「{shown}」按表1「{row.name}」计，请核对其限定条件 "
                f"(counted as this Table 1 row: check its qualifier)"
            )
        recorded = reference.category(row.category) if row.category else None
        if given_beta is not None and recorded is not None and given_beta.beta != recorded.beta:
            warnings.append(
                f"「{row.name}」按所填类别 {given_beta.symbol} 取 β，记录的类别为 "
                f"{recorded.symbol} (β from the category given, not the recorded one)"
            )
        category = given_beta or recorded
        named_in_table3 = reference.table3_beta([row.name, *row.aliases])  # 煤气: as 一氧化碳
    else:
        if not given:
            field_name = f"{prefix}name" if chem.name and chem.name.strip() else f"{prefix}cas"
            what = (chem.name or "").strip() or reference.normalise_cas(chem.cas or "")
            raise Invalid(
                f"未知化学品: {what}，不在 GB 18218-2018 表1 中，请填写其表2危险性类别（如 W5.3） "
                f"(unknown chemical: not in Table 1; give its Table 2 category, e.g. W5.3)",
                field=field_name,
            )
        lowest = min(given, key=lambda c: c.critical_quantity)
        name = (chem.name or "").strip() or reference.normalise_cas(chem.cas or "")
        cas = reference.normalise_cas(chem.cas) if chem.cas and chem.cas.strip() else None
        big_q, source_table = lowest.critical_quantity, 2
        category = given_beta
        named_in_table3 = reference.table3_beta([name]) if chem.name else None

    if named_in_table3 is not None:
        beta, beta_source = named_in_table3[1], "table3"
    elif category is not None:
        beta, beta_source = category.beta, "table4"
    else:
        beta, beta_source = DEFAULT_BETA, "default"
        warnings.append(
            f"「{name}」未记录危险性类别，β 按 1 计，请核对 "
            f"(no hazard category recorded: β = 1 assumed; give the category to check)"
        )

    q_over_q = q / big_q
    return _Share(
        assessment=ChemicalAssessment(
            name=name,
            cas=cas,
            source_table=source_table,
            category=";".join(c.symbol for c in given) or (row.category if row else None),
            quantity_t=float(q),
            critical_quantity_t=float(big_q),
            q_over_Q=float(q_over_q),
            beta=float(beta),
            beta_source=beta_source,
        ),
        q_over_q=q_over_q,
        weighted=beta * q_over_q,
    )


def assess_unit(unit: UnitInput) -> UnitAssessment:
    """Identify and grade one unit by GB 18218-2018.

    Each chemical is taken from Table 1 when its name, alias or CAS number is there — Table 1's
    Q applies even when a category is also given — else from Table 2 by its ``categories``. A
    substance of several categories takes the lowest Q among them (REFERENCE §1.2 marks this
    rule unverified) and the highest β among them (a conservative choice, also unverified).

    β: Table 3 when the chemical is named there; else Table 4 of the category given, else of the
    category recorded for the Table 1 chemical (``data/table1-categories.csv``); else β = 1 with
    ``beta_source = "default"`` and a warning.

    Raises :class:`Invalid` naming the field relative to the unit (``chemicals.1.name``) for an
    unknown chemical without a category, an ambiguous or inconsistent name/CAS, an unknown
    category, a negative or non-finite quantity, a negative head count or an unknown kind."""
    if unit.kind not in UNIT_KINDS:
        raise Invalid(
            f"单元类型无效: {unit.kind}，应为 production(生产单元) 或 storage(储存单元) "
            "(kind must be production or storage)",
            field="kind",
        )
    alpha = _alpha(unit.people_within_500m)
    warnings: list[str] = []
    shares = [
        _assess_chemical(chem, f"chemicals.{i}.", warnings) for i, chem in enumerate(unit.chemicals)
    ]
    seen: set[tuple[str, str | None]] = set()
    for share in shares:
        key = (share.assessment.name, share.assessment.cas)
        if key in seen:
            warnings.append(
                f"「{share.assessment.name}」出现多次，已累加 (listed more than once; summed)"
            )
        seen.add(key)
    s = sum((share.q_over_q for share in shares), Fraction(0))
    r = alpha * sum((share.weighted for share in shares), Fraction(0))
    is_major = s >= 1
    return UnitAssessment(
        name=unit.name,
        kind=unit.kind,
        people_within_500m=unit.people_within_500m,
        alpha=float(alpha),
        chemicals=tuple(share.assessment for share in shares),
        sum_q_over_Q=float(s),
        R=float(r),
        is_major=is_major,
        grade=grade_for(r) if is_major else None,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def assess_units(units: Sequence[UnitInput]) -> list[UnitAssessment]:
    """:func:`assess_unit` for each unit; an :class:`Invalid` names the full field path
    (``units.0.chemicals.1.name``, the API's convention for nested fields)."""
    results = []
    for i, unit in enumerate(units):
        try:
            results.append(assess_unit(unit))
        except Invalid as exc:
            raise Invalid(exc.message, field=f"units.{i}.{exc.field}") from exc
    return results
