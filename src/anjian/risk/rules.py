"""Pure rules of risk grading (风险分级管控): the four colour-coded levels, the LEC method
(作业条件危险性评价法, D = L × E × C) and the risk matrix (LS 法, R = L × S).

Scores are computed with :class:`decimal.Decimal`, so a product such as 0.1 × 2 × 100 is exactly
20 and lands on the side of a threshold its exact value belongs to (in binary floating point it
is 20.000000000000004). Sources: docs REFERENCE §4.1–4.3."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import product
from typing import Literal

from anjian.core.errors import Invalid

Method = Literal["LEC", "LS"]
Convention = Literal["A", "B"]
CONVENTIONS: tuple[Convention, ...] = ("A", "B")


class RiskLevel(StrEnum):
    """The four risk levels (四色), from worst to least: 重大 red, 较大 orange, 一般 yellow,
    低 blue. Compare with :attr:`rank` (higher is worse) or take :func:`worst`."""

    MAJOR = "major"
    SIGNIFICANT = "significant"
    GENERAL = "general"
    LOW = "low"

    @property
    def label(self) -> str:
        """The Chinese name, e.g. 重大风险."""
        return LEVEL_LABELS[self]

    @property
    def colour(self) -> str:
        """The colour code: red, orange, yellow or blue."""
        return LEVEL_COLOURS[self]

    @property
    def colour_label(self) -> str:
        """The colour's Chinese name: 红, 橙, 黄 or 蓝."""
        return LEVEL_COLOUR_LABELS[self]

    @property
    def rank(self) -> int:
        """4 for 重大 down to 1 for 低: a larger rank is a worse risk."""
        return len(LEVELS_WORST_FIRST) - LEVELS_WORST_FIRST.index(self)


LEVELS_WORST_FIRST: tuple[RiskLevel, ...] = (
    RiskLevel.MAJOR,
    RiskLevel.SIGNIFICANT,
    RiskLevel.GENERAL,
    RiskLevel.LOW,
)
LEVEL_LABELS: dict[RiskLevel, str] = {
    RiskLevel.MAJOR: "重大风险",
    RiskLevel.SIGNIFICANT: "较大风险",
    RiskLevel.GENERAL: "一般风险",
    RiskLevel.LOW: "低风险",
}
LEVEL_COLOURS: dict[RiskLevel, str] = {
    RiskLevel.MAJOR: "red",
    RiskLevel.SIGNIFICANT: "orange",
    RiskLevel.GENERAL: "yellow",
    RiskLevel.LOW: "blue",
}
LEVEL_COLOUR_LABELS: dict[RiskLevel, str] = {
    RiskLevel.MAJOR: "红",
    RiskLevel.SIGNIFICANT: "橙",
    RiskLevel.GENERAL: "黄",
    RiskLevel.LOW: "蓝",
}


def worst(levels: Iterable[RiskLevel | str]) -> RiskLevel | None:
    """The worst of ``levels`` (e.g. an enterprise's level from its risk points), or None when
    there are none. Plain strings are accepted as level codes."""
    graded = [RiskLevel(level) for level in levels]
    return max(graded, key=lambda level: level.rank) if graded else None


# --- LEC (作业条件危险性评价法) ----------------------------------------------------------------

LEC_L: dict[float, str] = {
    10: "完全可以预料",
    6: "相当可能",
    3: "可能，但不经常",
    1: "可能性小，完全意外",
    0.5: "很不可能，可以设想",
    0.2: "极不可能",
    0.1: "实际不可能",
}
LEC_E: dict[float, str] = {
    10: "连续暴露",
    6: "每天工作时间内暴露",
    3: "每周一次或偶然暴露",
    2: "每月一次暴露",
    1: "每年几次暴露",
    0.5: "非常罕见地暴露",
}
LEC_C: dict[float, str] = {
    100: "大灾难，许多人死亡",
    40: "灾难，数人死亡",
    15: "非常严重，一人死亡",
    7: "严重，重伤",
    3: "重大，致残",
    1: "引人注目，需要救护",
}

# The classic five bands of D (Graham–Kinney), worst first; the last one has no lower cut.
LEC_BAND_CUTS: tuple[int, ...] = (320, 160, 70, 20)
LEC_BANDS: tuple[str, ...] = (
    "极其危险，不能继续作业",
    "高度危险，要立即整改",
    "显著危险，需要整改",
    "一般危险，需要注意",
    "稍有危险，可以接受",
)

# --- LS (风险矩阵) ----------------------------------------------------------------------------

# Descriptors: typical wording, [unverified] in REFERENCE §4.3 (only the 1–5 scale is sourced).
LS_L: dict[int, str] = {
    1: "极不可能",
    2: "不太可能",
    3: "可能",
    4: "很可能",
    5: "频繁，几乎肯定",
}
LS_S: dict[int, str] = {
    1: "无伤害或轻微",
    2: "轻伤，较小损失",
    3: "重伤，一般损失",
    4: "一人死亡，较大损失",
    5: "多人死亡，重大损失",
}
# The values R = L × S can take (1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 20, 25).
LS_PRODUCTS: tuple[int, ...] = tuple(sorted({lv * sv for lv, sv in product(LS_L, LS_S)}))


@dataclass(frozen=True)
class ScoreRange:
    """An interval of scores; ``low``/``high`` of None mean open-ended on that side."""

    low: Decimal | None
    low_inclusive: bool
    high: Decimal | None
    high_inclusive: bool

    def __contains__(self, score: object) -> bool:
        if not isinstance(score, Decimal):
            return False
        if self.low is not None and (
            score < self.low or (score == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (score > self.high or (score == self.high and not self.high_inclusive))
        )

    def text(self, symbol: str) -> str:
        """The range as an inequality, e.g. ``160 ≤ D < 320``, ``D > 160``, ``D ≤ 20``."""
        low = (
            f"{_plain(self.low)} {'≤' if self.low_inclusive else '<'} "
            if self.low is not None
            else ""
        )
        if self.high is None:
            return f"{symbol} {'≥' if self.low_inclusive else '>'} {_plain(self.low)}"
        high = f" {'≤' if self.high_inclusive else '<'} {_plain(self.high)}"
        return f"{low}{symbol}{high}"


def _ranges(cuts: Iterable[int], *, low_inclusive: bool) -> tuple[ScoreRange, ...]:
    """Contiguous ranges, worst first, split at ``cuts`` (descending). A cut belongs to the
    range above it when ``low_inclusive``, else to the range below it."""
    bounds = [Decimal(c) for c in cuts]
    out: list[ScoreRange] = []
    high: Decimal | None = None
    for low in [*bounds, None]:
        out.append(
            ScoreRange(
                low=low,
                low_inclusive=low_inclusive,
                high=high,
                high_inclusive=not low_inclusive,
            )
        )
        high = low
    return tuple(out)


# REFERENCE §4.2: A grades 重大 D ≥ 320, 较大 160 ≤ D < 320, 一般 70 ≤ D < 160, 低 D < 70;
# B merges the top two classic bands: 重大 D > 160, 较大 70 < D ≤ 160, 一般 20 < D ≤ 70, 低 D ≤ 20.
LEC_CONVENTIONS: dict[Convention, tuple[ScoreRange, ...]] = {
    "A": _ranges((320, 160, 70), low_inclusive=True),
    "B": _ranges((160, 70, 20), low_inclusive=False),
}
# The five classic bands take the boundary side of the convention in force, so that under A
# 重大 is band 1 and under B 重大 is bands 1 + 2, 较大 band 3, 一般 band 4, 低 band 5 exactly.
LEC_BAND_RANGES: dict[Convention, tuple[ScoreRange, ...]] = {
    "A": _ranges(LEC_BAND_CUTS, low_inclusive=True),
    "B": _ranges(LEC_BAND_CUTS, low_inclusive=False),
}
# REFERENCE §4.3: A 20–25 / 15–16 / 9–12 / 1–8 [unverified]; B 20–25 / 10–16 / 4–9 / 1–3 [V].
LS_CONVENTIONS: dict[Convention, tuple[ScoreRange, ...]] = {
    "A": _ranges((20, 15, 9), low_inclusive=True),
    "B": _ranges((20, 10, 4), low_inclusive=True),
}


@dataclass(frozen=True)
class Assessment:
    """The outcome of one assessment: score (D or R), level, convention used and, for LEC,
    the classic band meaning of D."""

    method: Method
    score: float
    level: RiskLevel
    convention: Convention
    band: str | None = None


def _plain(value: Decimal | None) -> str:
    """A Decimal without exponent or trailing zeros: 10, 0.5, 320."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _number(value: Decimal) -> float:
    """An exact score for JSON: an int when integral (320), else the nearest float (0.05)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _factor(value: object, field: str, table: Mapping[float, str], method: Method) -> Decimal:
    """``value`` as an exact Decimal when it is one of ``table``'s values, else Invalid."""
    allowed = "、".join(_plain(Decimal(repr(v))) for v in table)
    problem = Invalid(
        f"{method} 法的 {field} 只能取 {allowed}，实为 {value} "
        f"({field} must be one of {allowed.replace('、', ', ')})",
        field=field,
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise problem
    exact = Decimal(value) if isinstance(value, int | Decimal) else Decimal(repr(float(value)))
    if not exact.is_finite() or exact not in {Decimal(repr(v)) for v in table}:
        raise problem
    return exact


def _convention(value: str) -> Convention:
    if value not in CONVENTIONS:
        raise Invalid(
            f"分级约定应为 A 或 B，实为 {value} (convention must be A or B)", field="convention"
        )
    return value  # type: ignore[return-value]


def _grade(score: Decimal, ranges: tuple[ScoreRange, ...]) -> RiskLevel:
    for level, scope in zip(LEVELS_WORST_FIRST, ranges, strict=True):
        if score in scope:
            return level
    raise AssertionError(f"score {score} outside every range")  # ranges are contiguous


def lec_level(score: float | Decimal, convention: str = "A") -> RiskLevel:
    """The level of an LEC score D under ``convention`` (A or B, REFERENCE §4.2). Floats are
    taken at their shortest decimal spelling (319.99 is 319.99, not 320)."""
    exact = score if isinstance(score, Decimal) else Decimal(repr(float(score)))
    return _grade(exact, LEC_CONVENTIONS[_convention(convention)])


def lec_band(score: float | Decimal, convention: str = "A") -> str:
    """The classic five-band meaning of D (极其危险 … 稍有危险); the boundary side follows
    ``convention`` (A: a cut belongs to the band above, B: to the band below)."""
    exact = score if isinstance(score, Decimal) else Decimal(repr(float(score)))
    ranges = LEC_BAND_RANGES[_convention(convention)]
    return next(band for band, scope in zip(LEC_BANDS, ranges, strict=True) if exact in scope)


def ls_level(score: float | Decimal, convention: str = "B") -> RiskLevel:
    """The level of a risk-matrix score R under ``convention`` (A or B, REFERENCE §4.3)."""
    exact = score if isinstance(score, Decimal) else Decimal(repr(float(score)))
    return _grade(exact, LS_CONVENTIONS[_convention(convention)])


def assess_lec(L: float, E: float, C: float, convention: str = "A") -> Assessment:
    """Grade an activity by LEC (作业条件危险性评价法): D = L × E × C, computed exactly.

    Each factor must be a value of its table (:data:`LEC_L`, :data:`LEC_E`, :data:`LEC_C`),
    else :class:`Invalid` naming it. Convention A: 重大 D ≥ 320, 较大 160 ≤ D < 320,
    一般 70 ≤ D < 160, 低 D < 70; B: 重大 D > 160, 较大 70 < D ≤ 160, 一般 20 < D ≤ 70,
    低 D ≤ 20. Both are found in practice and neither is national (REFERENCE §4.2)."""
    conv = _convention(convention)
    d = (
        _factor(L, "L", LEC_L, "LEC")
        * _factor(E, "E", LEC_E, "LEC")
        * _factor(C, "C", LEC_C, "LEC")
    )
    return Assessment(
        method="LEC",
        score=_number(d),
        level=lec_level(d, conv),
        convention=conv,
        band=lec_band(d, conv),
    )


def assess_ls(L: int, S: int, convention: str = "B") -> Assessment:
    """Grade a hazard by the risk matrix (风险矩阵, LS 法): R = L × S with L and S in 1–5.

    Convention B (20–25 重大, 10–16 较大, 4–9 一般, 1–3 低) is the sourced one and the default;
    convention A (20–25, 15–16, 9–12, 1–8) is widely quoted but unverified (REFERENCE §4.3)."""
    conv = _convention(convention)
    r = _factor(L, "L", LS_L, "LS") * _factor(S, "S", LS_S, "LS")
    return Assessment(method="LS", score=_number(r), level=ls_level(r, conv), convention=conv)


@dataclass(frozen=True)
class LevelRange:
    """One level's range of scores under a convention, for forms and tools."""

    level: RiskLevel
    range: ScoreRange
    text: str


def level_ranges(method: Method, convention: str) -> tuple[LevelRange, ...]:
    """Each level's range of D (LEC) or R (LS) under ``convention``, worst first. LS ranges
    are spelled by the products that fall in them (``15–16``)."""
    conv = _convention(convention)
    ranges = LEC_CONVENTIONS[conv] if method == "LEC" else LS_CONVENTIONS[conv]
    out = []
    for level, scope in zip(LEVELS_WORST_FIRST, ranges, strict=True):
        if method == "LEC":
            text = scope.text("D")
        else:
            inside = [r for r in LS_PRODUCTS if Decimal(r) in scope]
            text = f"{inside[0]}–{inside[-1]}" if len(inside) > 1 else str(inside[0])
        out.append(LevelRange(level=level, range=scope, text=text))
    return tuple(out)


def band_ranges(convention: str) -> tuple[tuple[str, ScoreRange], ...]:
    """The classic five bands of D with their ranges under ``convention``, worst first."""
    ranges = LEC_BAND_RANGES[_convention(convention)]
    return tuple(zip(LEC_BANDS, ranges, strict=True))
