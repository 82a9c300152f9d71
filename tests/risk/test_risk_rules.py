"""Risk grading rules: the LEC and LS methods under both conventions, exactly on their
boundaries, the value tables, refused values and the convention settings."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from itertools import product

import pytest
from pydantic import ValidationError

from anjian.config import Settings, get_settings
from anjian.core.errors import Invalid
from anjian.risk.rules import (
    LEC_BANDS,
    LEC_C,
    LEC_E,
    LEC_L,
    LS_L,
    LS_PRODUCTS,
    LS_S,
    RiskLevel,
    assess_lec,
    assess_ls,
    band_ranges,
    lec_band,
    lec_level,
    level_ranges,
    ls_level,
    worst,
)

MAJOR, SIGNIFICANT, GENERAL, LOW = (
    RiskLevel.MAJOR,
    RiskLevel.SIGNIFICANT,
    RiskLevel.GENERAL,
    RiskLevel.LOW,
)

# --- levels ------------------------------------------------------------------------------------


def test_levels_have_labels_colours_and_order() -> None:
    assert [(lv.label, lv.colour, lv.colour_label) for lv in RiskLevel] == [
        ("重大风险", "red", "红"),
        ("较大风险", "orange", "橙"),
        ("一般风险", "yellow", "黄"),
        ("低风险", "blue", "蓝"),
    ]
    assert MAJOR.rank > SIGNIFICANT.rank > GENERAL.rank > LOW.rank
    assert RiskLevel("major") is MAJOR and MAJOR == "major"


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], None),
        ([LOW], LOW),
        ([LOW, GENERAL, LOW], GENERAL),
        ([GENERAL, MAJOR, SIGNIFICANT], MAJOR),
        (["low", "significant"], SIGNIFICANT),
        (iter([LOW, SIGNIFICANT, GENERAL]), SIGNIFICANT),
    ],
)
def test_worst(levels, expected) -> None:
    assert worst(levels) == expected


# --- LEC ---------------------------------------------------------------------------------------


def test_lec_tables() -> None:
    assert list(LEC_L) == [10, 6, 3, 1, 0.5, 0.2, 0.1]
    assert list(LEC_E) == [10, 6, 3, 2, 1, 0.5]
    assert list(LEC_C) == [100, 40, 15, 7, 3, 1]
    assert (
        LEC_L[0.1] == "实际不可能"
        and LEC_E[2] == "每月一次暴露"
        and LEC_C[15].startswith("非常严重")
    )


@pytest.mark.parametrize(
    ("score", "convention", "level"),
    [
        # A: 重大 D ≥ 320, 较大 160 ≤ D < 320, 一般 70 ≤ D < 160, 低 D < 70
        (10000, "A", MAJOR),
        (320, "A", MAJOR),
        (Decimal("319.99"), "A", SIGNIFICANT),
        (160, "A", SIGNIFICANT),
        (159.99, "A", GENERAL),
        (70, "A", GENERAL),
        (69.99, "A", LOW),
        (20, "A", LOW),
        (0.001, "A", LOW),
        # B: 重大 D > 160, 较大 70 < D ≤ 160, 一般 20 < D ≤ 70, 低 D ≤ 20
        (320, "B", MAJOR),
        (160.01, "B", MAJOR),
        (160, "B", SIGNIFICANT),
        (70.01, "B", SIGNIFICANT),
        (70, "B", GENERAL),
        (20.01, "B", GENERAL),
        (20, "B", LOW),
        (0.001, "B", LOW),
    ],
)
def test_lec_thresholds(score, convention: str, level: RiskLevel) -> None:
    assert lec_level(score, convention) is level


@pytest.mark.parametrize(
    ("score", "convention", "band"),
    [
        (320, "A", 0),
        (319.99, "A", 1),
        (320, "B", 1),
        (320.01, "B", 0),
        (160, "A", 1),
        (160, "B", 2),
        (70, "A", 2),
        (70, "B", 3),
        (20, "A", 3),
        (20, "B", 4),
        (19.99, "A", 4),
    ],
)
def test_lec_bands_follow_the_convention_on_boundaries(score, convention: str, band: int) -> None:
    assert lec_band(score, convention) == LEC_BANDS[band]


@pytest.mark.parametrize(
    ("lec", "d", "a", "b"),
    [
        # Exact products on or next to the thresholds (320 and 160 are no product of the tables).
        ((0.1, 2, 100), 20, LOW, LOW),  # 20.000000000000004 in binary floating point
        ((10, 2, 1), 20, LOW, LOW),
        ((1, 0.5, 40), 20, LOW, LOW),
        ((10, 1, 7), 70, GENERAL, GENERAL),
        ((0.2, 6, 100), 120, GENERAL, SIGNIFICANT),  # 120.00000000000001 in floating point
        ((0.5, 6, 100), 300, SIGNIFICANT, MAJOR),
        ((6, 6, 15), 540, MAJOR, MAJOR),
        ((3, 6, 7), 126, GENERAL, SIGNIFICANT),
        ((1, 6, 15), 90, GENERAL, SIGNIFICANT),
        ((3, 3, 7), 63, LOW, GENERAL),
        ((0.1, 0.5, 1), 0.05, LOW, LOW),
    ],
)
def test_lec_products(lec, d, a: RiskLevel, b: RiskLevel) -> None:
    got_a, got_b = assess_lec(*lec), assess_lec(*lec, convention="B")
    assert got_a.score == d and got_b.score == d
    assert (got_a.level, got_b.level) == (a, b)
    assert (got_a.method, got_a.convention, got_b.convention) == ("LEC", "A", "B")
    assert got_a.band in LEC_BANDS and got_b.band in LEC_BANDS


def _expected_lec(d: Fraction, convention: str) -> tuple[RiskLevel, int]:
    """The level and classic band (0 = 极其危险) straight from REFERENCE §4.2."""
    if convention == "A":
        level = MAJOR if d >= 320 else SIGNIFICANT if d >= 160 else GENERAL if d >= 70 else LOW
        band = 0 if d >= 320 else 1 if d >= 160 else 2 if d >= 70 else 3 if d >= 20 else 4
    else:
        level = MAJOR if d > 160 else SIGNIFICANT if d > 70 else GENERAL if d > 20 else LOW
        band = 0 if d > 320 else 1 if d > 160 else 2 if d > 70 else 3 if d > 20 else 4
    return level, band


@pytest.mark.parametrize("convention", ["A", "B"])
def test_every_lec_combination(convention: str) -> None:
    seen = set()
    for lv, ev, cv in product(LEC_L, LEC_E, LEC_C):
        d = Fraction(str(lv)) * Fraction(str(ev)) * Fraction(str(cv))
        got = assess_lec(lv, ev, cv, convention)
        level, band = _expected_lec(d, convention)
        assert Fraction(str(got.score)) == d, (lv, ev, cv)
        assert (got.level, got.band) == (level, LEC_BANDS[band]), (lv, ev, cv, d)
        seen.add(got.level)
    assert seen == set(RiskLevel)  # every level is reachable


def test_lec_bands_nest_in_the_levels() -> None:
    # A: 重大 = band 1; B: 重大 = bands 1 + 2, 较大 = band 3, 一般 = band 4, 低 = band 5.
    for lv, ev, cv in product(LEC_L, LEC_E, LEC_C):
        a = assess_lec(lv, ev, cv, "A")
        assert (a.level is MAJOR) == (a.band == LEC_BANDS[0])
        b = assess_lec(lv, ev, cv, "B")
        assert (b.level is MAJOR) == (b.band in LEC_BANDS[:2])
        assert (b.level is LOW) == (b.band == LEC_BANDS[4])


def test_lec_accepts_equal_spellings_of_a_table_value() -> None:
    assert assess_lec(Decimal("0.10"), 2.0, Decimal(100), "B").score == 20
    assert assess_lec(10.0, 6, 100).score == 6000


# --- LS ----------------------------------------------------------------------------------------

# Rows L = 1..5, columns S = 1..5: M 重大, S 较大, G 一般, L 低.
LS_GRID = {
    "A": ["LLLLL", "LLLLG", "LLGGS", "LLGSM", "LGSMM"],
    "B": ["LLLGG", "LGGGS", "LGGSS", "GGSSM", "GSSMM"],
}
_LETTER = {"M": MAJOR, "S": SIGNIFICANT, "G": GENERAL, "L": LOW}


@pytest.mark.parametrize("convention", ["A", "B"])
@pytest.mark.parametrize(("lv", "sv"), list(product(range(1, 6), range(1, 6))))
def test_ls_every_cell(convention: str, lv: int, sv: int) -> None:
    got = assess_ls(lv, sv, convention)
    assert got.score == lv * sv
    assert got.level is _LETTER[LS_GRID[convention][lv - 1][sv - 1]]
    assert (got.method, got.convention, got.band) == ("LS", convention, None)


@pytest.mark.parametrize(
    ("convention", "ranges"),
    [
        ("A", {MAJOR: (20, 25), SIGNIFICANT: (15, 16), GENERAL: (9, 12), LOW: (1, 8)}),
        ("B", {MAJOR: (20, 25), SIGNIFICANT: (10, 16), GENERAL: (4, 9), LOW: (1, 3)}),
    ],
)
def test_ls_ranges(convention: str, ranges) -> None:
    for r in LS_PRODUCTS:
        low, high = next((lo, hi) for lo, hi in ranges.values() if lo <= r <= hi)
        assert ranges[ls_level(r, convention)] == (low, high)
    assert [x.text for x in level_ranges("LS", convention)] == [
        f"{lo}–{hi}" for lo, hi in ranges.values()
    ]


def test_ls_defaults_to_convention_b() -> None:
    assert assess_ls(2, 5).level is SIGNIFICANT  # R = 10: 较大 under B, 一般 under A
    assert assess_ls(2, 5).convention == "B"
    assert assess_lec(0.2, 6, 100).convention == "A"
    assert list(LS_L) == list(LS_S) == [1, 2, 3, 4, 5]


def test_range_texts() -> None:
    assert [x.text for x in level_ranges("LEC", "A")] == [
        "D ≥ 320",
        "160 ≤ D < 320",
        "70 ≤ D < 160",
        "D < 70",
    ]
    assert [x.text for x in level_ranges("LEC", "B")] == [
        "D > 160",
        "70 < D ≤ 160",
        "20 < D ≤ 70",
        "D ≤ 20",
    ]
    assert [r.text("D") for _band, r in band_ranges("B")] == [
        "D > 320",
        "160 < D ≤ 320",
        "70 < D ≤ 160",
        "20 < D ≤ 70",
        "D ≤ 20",
    ]


# --- refused values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: assess_lec(4, 1, 1), "L"),
        (lambda: assess_lec(0.3, 1, 1), "L"),
        (lambda: assess_lec(True, 1, 1), "L"),
        (lambda: assess_lec("10", 1, 1), "L"),
        (lambda: assess_lec(None, 1, 1), "L"),
        (lambda: assess_lec(math.nan, 1, 1), "L"),
        (lambda: assess_lec(math.inf, 1, 1), "L"),
        (lambda: assess_lec(10, 5, 1), "E"),
        (lambda: assess_lec(10, 0.1, 1), "E"),
        (lambda: assess_lec(10, 10, 50), "C"),
        (lambda: assess_lec(10, 10, False), "C"),
        (lambda: assess_ls(0, 1), "L"),
        (lambda: assess_ls(6, 1), "L"),
        (lambda: assess_ls(1, 2.5), "S"),
        (lambda: assess_ls(1, True), "S"),
        (lambda: assess_ls(1, 10), "S"),
        (lambda: assess_lec(10, 10, 100, "C"), "convention"),
        (lambda: assess_ls(1, 1, "a"), "convention"),
    ],
)
def test_values_outside_the_tables_are_refused(call, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        call()
    assert exc.value.field == field
    assert exc.value.status == 422


def test_refusal_lists_the_allowed_values() -> None:
    with pytest.raises(Invalid) as exc:
        assess_lec(10, 6, 50)
    assert "100、40、15、7、3、1" in exc.value.message
    assert "(C must be one of 100, 40, 15, 7, 3, 1)" in exc.value.message
    with pytest.raises(Invalid) as exc:
        assess_ls(1, 6)
    assert "1、2、3、4、5" in exc.value.message


# --- settings ----------------------------------------------------------------------------------


@pytest.fixture
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    for key in ("ANJIAN_CONFIG", "ANJIAN_RISK_LEC_CONVENTION", "ANJIAN_RISK_LS_CONVENTION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ANJIAN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("_clean_env")
def test_convention_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert (s.risk_lec_convention, s.risk_ls_convention) == ("A", "B")
    monkeypatch.setenv("ANJIAN_RISK_LEC_CONVENTION", "B")
    monkeypatch.setenv("ANJIAN_RISK_LS_CONVENTION", "A")
    assert get_settings().risk_lec_convention == "B"  # fresh cache
    get_settings.cache_clear()
    s = get_settings()
    assert (s.risk_lec_convention, s.risk_ls_convention) == ("B", "A")
    assert assess_lec(0.2, 6, 100, s.risk_lec_convention).level is SIGNIFICANT
    assert assess_ls(2, 5, s.risk_ls_convention).level is GENERAL


@pytest.mark.usefixtures("_clean_env")
@pytest.mark.parametrize("key", ["ANJIAN_RISK_LEC_CONVENTION", "ANJIAN_RISK_LS_CONVENTION"])
def test_unknown_convention_is_refused(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv(key, "C")
    with pytest.raises(ValidationError):
        Settings()
