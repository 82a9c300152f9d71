"""Atmospheric dispersion (扩散分析): Briggs spreads, the Gaussian plume, the Pasquill table, the
threat zone and its placement on the map, checked against values computed by hand (each written
out beside its case) and a textbook example; and the packaged table of chemicals."""

from __future__ import annotations

import json
import math
import re

import pytest

from anjian.emergency.chemicals import DATA_FILE, all_chemicals, chemical, threshold_mg_m3
from anjian.emergency.rules.dispersion import (
    STABILITY_CLASSES,
    Plume,
    centreline_reach,
    gaussian_plume_mg_m3,
    plume,
    sigmas,
    stability_class,
    to_lnglat,
    zone_length_m,
    zone_outline,
)

REL = 0.01  # hand computations are asserted to ±1 %
NAN, INF = float("nan"), float("inf")

# --- σy, σz (Briggs) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "cls", "terrain", "sy", "sz"),
    [
        # rural A, x=500: σy = 0.22·500/√1.05 = 110/1.02470 = 107.35; σz = 0.20·500 = 100
        (500, "A", "rural", 107.35, 100.0),
        # rural B, x=2000: σy = 0.16·2000/√1.2 = 320/1.09545 = 292.12; σz = 0.12·2000 = 240
        (2000, "B", "rural", 292.12, 240.0),
        # rural C, x=1000: σy = 110/√1.1 = 104.88; σz = 0.08·1000/√1.2 = 80/1.09545 = 73.03
        (1000, "C", "rural", 104.88, 73.03),
        # rural D, x=1000: σy = 0.08·1000/√1.1 = 80/1.04881 = 76.28; σz = 0.06·1000/√2.5 = 37.95
        (1000, "D", "rural", 76.28, 37.95),
        # rural E, x=1000: σy = 60/√1.1 = 57.21; σz = 0.03·1000/(1+0.3) = 30/1.3 = 23.08
        (1000, "E", "rural", 57.21, 23.08),
        # rural F, x=1000: σy = 40/√1.1 = 38.14; σz = 0.016·1000/1.3 = 12.31
        (1000, "F", "rural", 38.14, 12.31),
        # urban A, x=1000: σy = 0.32·1000/√1.4 = 320/1.18322 = 270.45; σz = 0.24·1000·√2 = 339.41
        (1000, "A", "urban", 270.45, 339.41),
        # urban B = A, x=500: σy = 160/√1.2 = 146.06; σz = 120·√1.5 = 146.97
        (500, "B", "urban", 146.06, 146.97),
        # urban C, x=1000: σy = 220/√1.4 = 185.93; σz = 0.20·1000 = 200
        (1000, "C", "urban", 185.93, 200.0),
        # urban D, x=1000: σy = 160/√1.4 = 135.22; σz = 0.14·1000/√1.3 = 140/1.14018 = 122.79
        (1000, "D", "urban", 135.22, 122.79),
        # urban E, x=1000: σy = 110/√1.4 = 92.97; σz = 0.08·1000/√2.5 = 80/1.58114 = 50.60
        (1000, "E", "urban", 92.97, 50.60),
        # urban F = E
        (1000, "F", "urban", 92.97, 50.60),
    ],
)
def test_sigmas_follow_the_briggs_formulas(x, cls, terrain, sy, sz) -> None:
    assert sigmas(x, cls, terrain) == (pytest.approx(sy, rel=REL), pytest.approx(sz, rel=REL))


def test_sigmas_grow_with_distance_and_shrink_with_stability() -> None:
    for terrain in ("rural", "urban"):
        for cls in STABILITY_CLASSES:
            near, far = sigmas(200, cls, terrain), sigmas(5000, cls, terrain)
            assert far[0] > near[0] and far[1] > near[1]
        widths = [sigmas(1000, c, terrain)[0] for c in STABILITY_CLASSES]
        assert widths == sorted(widths, reverse=True)


# --- the plume -------------------------------------------------------------------------------

# Q=100 g/s, u=5 m/s, D rural, x=1000 m: σy = 76.277 m (σy² = 5818.2), σz = 37.947 m (σz² = 1440)
BASE = {"release_g_s": 100, "wind_speed_m_s": 5, "stability": "D", "terrain": "rural"}


@pytest.mark.parametrize(
    ("height", "y", "z", "expected"),
    [
        # H=0, centreline at ground: C = Q/(π u σy σz) = 100/(π·5·76.277·37.947) g/m³
        #   = 100/45 466 = 2.1994e-3 g/m³ = 2.199 mg/m³
        (0, 0, 0, 2.199),
        # H=10: × exp(−H²/2σz²) = exp(−100/2880) = 0.96587 → 2.1244 mg/m³
        (10, 0, 0, 2.124),
        # H=10, y=50 m off the axis: × exp(−y²/2σy²) = exp(−2500/11 636) = 0.80667 → 1.7136
        (10, 50, 0, 1.714),
        # H=10, receptor at z=2 m: Q/(2π u σy σz)·[exp(−8²/2σz²) + exp(−12²/2σz²)]
        #   = 1.0997·(0.97802 + 0.95123) = 2.1216 mg/m³
        (10, 0, 2, 2.122),
    ],
)
def test_the_plume_matches_the_hand_computation(height, y, z, expected) -> None:
    p = plume(**BASE, release_height_m=height, x_m=1000, y_m=y, z_m=z)
    assert p.concentration_mg_m3 == pytest.approx(expected, rel=REL)
    assert (p.sigma_y_m, p.sigma_z_m) == (
        pytest.approx(76.28, rel=REL),
        pytest.approx(37.95, rel=REL),
    )


def test_an_urban_plume_uses_the_urban_spreads() -> None:
    # Q=50 g/s, u=2 m/s, C urban, x=1000, H=0: σy = 185.93, σz = 200;
    # C = 50/(π·2·185.93·200) = 50/233 646 = 2.1400e-4 g/m³ = 0.2140 mg/m³
    p = plume(50, 0, 2, "C", "urban", 1000)
    assert p.concentration_mg_m3 == pytest.approx(0.2140, rel=REL)


@pytest.mark.parametrize("x", [0.0, -1.0, -500.0])
def test_upwind_or_at_the_source_the_plume_gives_nothing(x) -> None:
    assert plume(**BASE, release_height_m=10, x_m=x) == Plume(0.0, 0.0, 0.0)


def test_ground_reflection_doubles_a_ground_level_release_at_the_ground() -> None:
    p = plume(**BASE, release_height_m=0, x_m=1000)
    # Without reflection the plume would be Q/(2π u σy σz); the image source doubles it.
    unreflected = 100 / (2 * math.pi * 5 * p.sigma_y_m * p.sigma_z_m) * 1000
    assert p.concentration_mg_m3 == pytest.approx(2 * unreflected, rel=1e-12)


def test_concentration_is_linear_in_the_release_and_inverse_in_the_wind() -> None:
    one = plume(10, 5, 2, "E", "rural", 800, 20, 1.5).concentration_mg_m3
    assert plume(30, 5, 2, "E", "rural", 800, 20, 1.5).concentration_mg_m3 == pytest.approx(3 * one)
    assert plume(10, 5, 8, "E", "rural", 800, 20, 1.5).concentration_mg_m3 == pytest.approx(one / 4)
    assert plume(0, 5, 2, "E", "rural", 800).concentration_mg_m3 == 0.0


@pytest.mark.parametrize(
    ("sigma_y", "sigma_z", "textbook_g_m3"),
    [(45.9, 26.2, 1.53e-5), (49.0, 28.2, 1.56e-5), (52.2, 30.1, 1.55e-5)],
)
def test_the_plume_equation_reproduces_a_textbook_example(sigma_y, sigma_z, textbook_g_m3) -> None:
    # Boubel, Fox, Turner & Stern, Fundamentals of Air Pollution, 3rd ed. (1994), §19.III.D
    # "Example of a Dispersion Calculation": Q = 0.37 g/s, H = 40 m, u = 2 m/s, class B, ground-
    # level centreline at x = 0.26, 0.28 and 0.30 km, with Pasquill–Gifford σ from its Tables 19-4
    # and 19-5 (not Briggs), so the equation is checked with the book's own σ.
    c = gaussian_plume_mg_m3(0.37, 2, sigma_y, sigma_z, 40)
    assert c == pytest.approx(textbook_g_m3 * 1000, rel=REL)


def test_with_briggs_spreads_the_textbook_example_is_within_a_third() -> None:
    # The same case with Briggs rural B at x = 280 m: σy = 0.16·280/√1.028 = 44.19 m, σz = 33.6 m;
    # C = 0.37/(π·2·44.19·33.6)·exp(−1600/(2·33.6²)) = 3.9666e-5·0.49233 = 1.9528e-5 g/m³.
    p = plume(0.37, 40, 2, "B", "rural", 280)
    assert p.concentration_mg_m3 == pytest.approx(0.019528, rel=REL)
    # The book gets 1.56e-5 g/m³ with Pasquill–Gifford σ (σz = 28.2 m against Briggs's 33.6 m):
    # the two schemes are different fits to the same curves and differ by tens of per cent here,
    # hence the loose tolerance.
    assert p.concentration_mg_m3 == pytest.approx(0.0156, rel=0.3)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"release_g_s": NAN}, "release_g_s"),
        ({"release_g_s": INF}, "release_g_s"),
        ({"release_g_s": -1}, "release_g_s"),
        ({"release_height_m": -1}, "release_height_m"),
        ({"release_height_m": NAN}, "release_height_m"),
        ({"wind_speed_m_s": 0.4}, "wind_speed_m_s.*not valid"),
        ({"wind_speed_m_s": INF}, "wind_speed_m_s"),
        ({"wind_speed_m_s": NAN}, "wind_speed_m_s"),
        ({"stability": "G"}, "stability"),
        ({"stability": ""}, "stability"),
        ({"terrain": "desert"}, "terrain"),
        ({"x_m": NAN}, "x_m"),
        ({"x_m": INF}, "x_m"),
        ({"y_m": INF}, "y_m"),
        ({"z_m": -1}, "z_m"),
    ],
)
def test_invalid_plume_inputs_name_the_parameter(change, name) -> None:
    args = {**BASE, "release_height_m": 10, "x_m": 1000} | change
    with pytest.raises(ValueError, match=name):
        plume(**args)


def test_lower_case_class_and_terrain_are_accepted() -> None:
    assert plume(**BASE | {"stability": "d", "terrain": "Rural"}, release_height_m=0, x_m=1000) == (
        plume(**BASE, release_height_m=0, x_m=1000)
    )


@pytest.mark.parametrize("x", [0, -5, NAN])
def test_sigmas_need_a_positive_distance(x) -> None:
    with pytest.raises(ValueError, match="x_m"):
        sigmas(x, "D", "rural")


# --- the Pasquill table ----------------------------------------------------------------------

WINDS = (1.0, 2.5, 4.0, 5.5, 7.0)  # one speed inside each band: <2, 2–3, 3–5, 5–6, >6


@pytest.mark.parametrize(
    ("insolation", "classes"),
    [
        ("strong", "ABBCC"),  # A, A–B→B, B, C, C
        ("moderate", "BBCDD"),  # A–B→B, B, B–C→C, C–D→D, D
        ("slight", "BCCDD"),
    ],
)
def test_the_day_rows_of_the_table(insolation, classes) -> None:
    got = [stability_class(u, daytime=True, insolation=insolation) for u in WINDS]
    assert "".join(got) == classes


@pytest.mark.parametrize(
    ("octas", "classes"),
    [
        (4, "FEDDD"),  # thinly overcast or ≥ 4/8 low cloud; < 2 m/s blank in the table → F
        (7, "FEDDD"),
        (3, "FFEDD"),  # ≤ 3/8 cloud
        (0, "FFEDD"),
    ],
)
def test_the_night_rows_of_the_table(octas, classes) -> None:
    got = [stability_class(u, daytime=False, cloud_cover_octas=octas) for u in WINDS]
    assert "".join(got) == classes


@pytest.mark.parametrize(
    ("wind", "expected"),
    [
        (1.99, "A"),  # < 2
        (2.0, "B"),  # 2 belongs to "2–3" (A–B → B)
        (2.99, "B"),
        (3.0, "B"),  # 3 belongs to "3–5"
        (4.99, "B"),
        (5.0, "C"),  # 5 belongs to "5–6"
        (6.0, "C"),  # 6 stays in "5–6" (the last band is "> 6")
        (6.01, "C"),
        (0.0, "A"),
    ],
)
def test_band_boundaries_on_a_strong_sun_day(wind, expected) -> None:
    assert stability_class(wind, daytime=True, insolation="strong") == expected


@pytest.mark.parametrize(
    ("wind", "expected"),
    [(1.99, "F"), (2.0, "F"), (3.0, "E"), (5.0, "D"), (6.0, "D"), (6.01, "D")],
)
def test_band_boundaries_on_a_clear_night(wind, expected) -> None:
    assert stability_class(wind, daytime=False, cloud_cover_octas=2) == expected


def test_two_class_cells_take_the_more_stable_class() -> None:
    # The zone then reaches further: the conservative error for an evacuation distance.
    assert stability_class(2.5, daytime=True, insolation="strong") == "B"  # A–B
    assert stability_class(1.0, daytime=True, insolation="moderate") == "B"  # A–B
    assert stability_class(4.0, daytime=True, insolation="moderate") == "C"  # B–C
    assert stability_class(5.5, daytime=True, insolation="moderate") == "D"  # C–D


def test_a_calm_night_is_f_and_an_overcast_sky_is_d() -> None:
    assert stability_class(0.5, daytime=False, cloud_cover_octas=6) == "F"
    assert stability_class(0.5, daytime=False, cloud_cover_octas=1) == "F"
    assert stability_class(0.5, daytime=False, cloud_cover_octas=8) == "D"
    assert stability_class(1.0, daytime=True, insolation="strong", cloud_cover_octas=8) == "D"
    assert stability_class(1.0, daytime=True, cloud_cover_octas=8) == "D"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"wind_speed_m_s": -1, "daytime": True, "insolation": "strong"}, "wind_speed_m_s"),
        ({"wind_speed_m_s": NAN, "daytime": True, "insolation": "strong"}, "wind_speed_m_s"),
        ({"wind_speed_m_s": 3, "daytime": True}, "insolation"),
        ({"wind_speed_m_s": 3, "daytime": True, "insolation": "blazing"}, "insolation"),
        ({"wind_speed_m_s": 3, "daytime": False, "insolation": "slight"}, "insolation"),
        ({"wind_speed_m_s": 3, "daytime": False}, "cloud_cover_octas"),
        ({"wind_speed_m_s": 3, "daytime": False, "cloud_cover_octas": 9}, "cloud_cover_octas"),
        ({"wind_speed_m_s": 3, "daytime": False, "cloud_cover_octas": -1}, "cloud_cover_octas"),
        ({"wind_speed_m_s": 3, "daytime": False, "cloud_cover_octas": 2.5}, "cloud_cover_octas"),
        ({"wind_speed_m_s": 3, "daytime": False, "cloud_cover_octas": True}, "cloud_cover_octas"),
    ],
)
def test_invalid_weather_names_the_field(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        stability_class(**kwargs)


# --- the threat zone -------------------------------------------------------------------------

SCENARIOS = [
    # a ground-level release reaching chlorine's AEGL-2 (5.80 mg/m³)
    (100, 0, 3, "D", "rural", 5.80),
    # an elevated release: the zone starts some way downwind
    (100, 30, 3, "D", "rural", 0.5),
    # a large release on a stable night in a city
    (1000, 0, 2, "F", "urban", 29.0),
    # a low release, barely above ground
    (100, 2, 3, "D", "rural", 5.80),
]


def centreline(args: tuple, x: float) -> float:
    return plume(*args[:5], x).concentration_mg_m3


@pytest.mark.parametrize("args", SCENARIOS)
def test_the_zone_is_a_closed_polygon_symmetric_about_the_wind_axis(args) -> None:
    ring = zone_outline(*args)
    assert len(ring) >= 4 and ring[0] == ring[-1]
    assert {(x, -y) for x, y in ring} == set(ring)
    assert len(ring) <= 2 * 60 + 2


@pytest.mark.parametrize("args", SCENARIOS)
def test_the_far_tip_is_where_the_centreline_falls_to_the_threshold(args) -> None:
    ring = zone_outline(*args)
    far = max(x for x, _ in ring)
    assert centreline(args, far) == pytest.approx(args[5], rel=REL)
    assert zone_length_m(*args) == far


@pytest.mark.parametrize("args", SCENARIOS)
def test_every_vertex_lies_on_the_threshold_contour(args) -> None:
    threshold = args[5]
    for x, y in zone_outline(*args):
        if x == 0:  # the source itself, where the zone starts for a ground-level release
            continue
        p = plume(*args[:5], x)
        ratio = p.concentration_mg_m3 / threshold
        half = p.sigma_y_m * math.sqrt(2 * math.log(ratio)) if ratio > 1 else 0.0
        assert abs(y) == pytest.approx(half, rel=1e-9, abs=1e-9)  # σy·sqrt(2·ln(C0/T))
        assert plume(*args[:5], x, y).concentration_mg_m3 >= threshold * 0.99
        assert plume(*args[:5], x, y / 2).concentration_mg_m3 >= threshold * 0.99


def test_an_elevated_release_starts_downwind_where_the_threshold_is_first_met() -> None:
    args = SCENARIOS[1]
    near, far = centreline_reach(*args)
    assert 0 < near < far
    assert centreline(args, near) == pytest.approx(args[5], rel=REL)
    assert min(x for x, _ in zone_outline(*args)) == near


def test_a_ground_release_zone_starts_at_the_source() -> None:
    ring = zone_outline(*SCENARIOS[0])
    assert ring[0] == (0.0, 0.0) == ring[-1]
    assert centreline_reach(*SCENARIOS[0])[0] == 0.0


def test_a_threshold_above_the_peak_gives_no_zone() -> None:
    # The elevated plume's ground-level peak is about 5.15 mg/m³, near x ≈ 430 m.
    args = (100, 30, 3, "D", "rural", 50.0)
    assert zone_outline(*args) == []
    assert zone_length_m(*args) == 0.0
    assert centreline_reach(*args) is None
    assert zone_outline(0, 0, 3, "D", "rural", 1.0) == []


def test_a_threshold_just_under_the_peak_is_not_missed_between_samples() -> None:
    # The peak found by a fine scan (steps of 0.01 % in x); a threshold 1e-6 under it lies
    # between the coarse samples of the search and the true peak, so only the refinement around
    # the highest sample finds it.
    peak = max(centreline(SCENARIOS[1], 300 * 1.0001**i) for i in range(7000))
    args = (*SCENARIOS[1][:5], peak * (1 - 1e-6))
    near, far = centreline_reach(*args)
    assert 0 < far - near < 5
    assert centreline(args, near) == pytest.approx(args[5], rel=REL)
    assert centreline(args, far) == pytest.approx(args[5], rel=REL)
    assert zone_outline(*args) != []


def test_the_zone_is_cut_off_at_the_maximum_distance() -> None:
    args = SCENARIOS[2]
    assert zone_length_m(*args, max_distance_m=1000) == 1000
    assert max(x for x, _ in zone_outline(*args, max_distance_m=1000)) == 1000
    assert zone_length_m(*args) > 1000


@pytest.mark.parametrize("points", [2, 3, 10, 60, 61])
def test_the_vertex_count_is_bounded(points) -> None:
    for args in SCENARIOS:
        assert len(zone_outline(*args, points=points)) <= 2 * points + 2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"threshold_mg_m3": 0}, "threshold_mg_m3"),
        ({"threshold_mg_m3": -1}, "threshold_mg_m3"),
        ({"threshold_mg_m3": NAN}, "threshold_mg_m3"),
        ({"max_distance_m": 0.5}, "max_distance_m"),
        ({"max_distance_m": INF}, "max_distance_m"),
        ({"points": 1}, "points"),
        ({"wind_speed_m_s": 0.2}, "wind_speed_m_s"),
    ],
)
def test_invalid_zone_inputs_name_the_parameter(kwargs, name) -> None:
    args = {
        "release_g_s": 100,
        "release_height_m": 0,
        "wind_speed_m_s": 3,
        "stability": "D",
        "terrain": "rural",
        "threshold_mg_m3": 5.8,
    } | kwargs
    with pytest.raises(ValueError, match=name):
        zone_outline(**args)


# --- on the map ------------------------------------------------------------------------------

LNG, LAT = 112.55, 37.87  # 太原
DEG_PER_KM = math.degrees(1000 / 6371008.8)  # 1000 m of latitude = 0.0089932°


def test_a_kilometre_north_is_about_0_008993_degrees_of_latitude() -> None:
    # Wind from the south (180°) blows north: 1000 m downwind is 1000 m north.
    ((lng, lat),) = to_lnglat([(1000, 0)], LNG, LAT, 180)
    assert lat - LAT == pytest.approx(0.008993, abs=1e-6)
    assert lng == pytest.approx(LNG, abs=1e-6)


def test_a_north_wind_puts_the_zone_south_of_the_source() -> None:
    ring = to_lnglat(zone_outline(*SCENARIOS[0]), LNG, LAT, 0)
    assert all(lat <= LAT for _, lat in ring)
    assert min(lat for _, lat in ring) < LAT - 0.005  # the zone reaches ~760 m south
    ((lng, lat),) = to_lnglat([(1000, 0)], LNG, LAT, 0)
    assert (lng, lat) == (pytest.approx(LNG, abs=1e-6), pytest.approx(LAT - DEG_PER_KM, abs=1e-6))


def test_a_west_wind_puts_the_zone_east_of_the_source() -> None:
    ring = to_lnglat(zone_outline(*SCENARIOS[0]), LNG, LAT, 270)
    assert all(lng >= LNG for lng, _ in ring)
    ((lng, lat),) = to_lnglat([(1000, 0)], LNG, LAT, 270)
    # dlng = dx/(R cos lat) = 0.0089932°/cos 37.87° = 0.0089932/0.78929 = 0.011394°
    assert lng - LNG == pytest.approx(0.011394, rel=REL)
    assert lat == pytest.approx(LAT, abs=1e-6)


def test_crosswind_offsets_are_left_of_the_downwind_direction() -> None:
    # Wind from the west blows east; left of east is north.
    ((lng, lat),) = to_lnglat([(0, 1000)], LNG, LAT, 270)
    assert lat - LAT == pytest.approx(DEG_PER_KM, rel=REL) and lng == pytest.approx(LNG, abs=1e-6)


def test_coordinates_are_rounded_to_six_decimals() -> None:
    for lng, lat in to_lnglat(zone_outline(*SCENARIOS[1]), LNG, LAT, 45):
        assert round(lng, 6) == lng and round(lat, 6) == lat


@pytest.mark.parametrize(
    ("lng", "lat", "wind", "name"),
    [
        (181, 30, 0, "lng"),
        (NAN, 30, 0, "lng"),
        (100, 90, 0, "lat"),
        (100, -95, 0, "lat"),
        (100, 30, NAN, "wind_from_deg"),
    ],
)
def test_invalid_places_name_the_parameter(lng, lat, wind, name) -> None:
    with pytest.raises(ValueError, match=name):
        to_lnglat([(1, 1)], lng, lat, wind)


# --- chemicals -------------------------------------------------------------------------------

REQUIRED = {
    "name",
    "names",
    "cas",
    "molecular_weight",
    "dense",
    "aegl",
    "erpg",
    "idlh",
    "sources",
    "verified",
}


def cas_is_valid(cas: str) -> bool:
    # The check digit is the sum of the other digits, each times its place from the right, mod 10.
    if not re.fullmatch(r"\d{2,7}-\d{2}-\d", cas):
        return False
    digits = cas.replace("-", "")[:-1]
    return sum(int(d) * i for i, d in enumerate(reversed(digits), 1)) % 10 == int(cas[-1])


def test_the_chemical_table_loads_and_every_entry_is_complete() -> None:
    rows = json.loads(DATA_FILE.read_text(encoding="utf-8"))["chemicals"]
    assert len(rows) == 10 == len(all_chemicals())
    for row in rows:
        assert row.keys() >= REQUIRED, row["name"]
        assert set(row["aegl"]) == set(row["erpg"]) == {"1", "2", "3"}
        assert cas_is_valid(row["cas"]), row["cas"]
        assert isinstance(row["verified"], bool) and row["sources"]
        levels = [v for v in (row["aegl"]["1"], row["aegl"]["2"], row["aegl"]["3"]) if v]
        assert levels == sorted(levels), row["name"]  # AEGL-1 < AEGL-2 < AEGL-3
    assert len({row["cas"] for row in rows}) == 10


@pytest.mark.parametrize(
    "query", ["氯气", "氯", "液氯", "Chlorine", "CHLORINE", " cl2 ", "7782-50-5"]
)
def test_chlorine_is_found_by_any_of_its_names(query) -> None:
    found = chemical(query)
    assert found is not None and found.cas == "7782-50-5" and found.dense


@pytest.mark.parametrize("query", ["氪", "unobtainium", "7782-50-6", "", "   "])
def test_an_unknown_chemical_is_none(query) -> None:
    assert chemical(query) is None


def test_thresholds_convert_ppm_to_mg_m3_at_25_degrees() -> None:
    chlorine = chemical("氯气")
    # AEGL-2 (60 min) 2 ppm: 2·70.90/24.45 = 5.80 mg/m³; IDLH 10 ppm: 10·70.90/24.45 = 29.00
    assert threshold_mg_m3(chlorine, "AEGL-2") == pytest.approx(5.80, rel=REL)
    assert threshold_mg_m3(chlorine, "aegl-2") == pytest.approx(5.80, rel=REL)
    assert threshold_mg_m3(chlorine, "IDLH") == pytest.approx(29.00, rel=REL)
    # H2S ERPG-2 30 ppm: 30·34.08/24.45 = 41.82 mg/m³
    assert threshold_mg_m3(chemical("H2S"), "ERPG-2") == pytest.approx(41.82, rel=REL)
    assert threshold_mg_m3(chemical("CO"), "AEGL-1") is None  # not recommended
    assert threshold_mg_m3(chemical("LPG"), "IDLH") is None  # a mixture: no single MW
    with pytest.raises(ValueError, match="level"):
        threshold_mg_m3(chlorine, "AEGL-4")


def test_ammonia_is_light_but_carries_its_dense_release_note() -> None:
    ammonia = chemical("液氨")
    assert ammonia is not None and not ammonia.dense
    assert "dense" in (ammonia.dense_note or "")
