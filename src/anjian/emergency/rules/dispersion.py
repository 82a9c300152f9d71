"""Atmospheric dispersion (扩散分析): a steady-state Gaussian plume for a continuous point release,
the Pasquill stability class (大气稳定度) from the weather, and the ground-level threat zone (威胁
区域) where a concentration reaches a threshold, as local metres or as longitude/latitude.

Pure functions: no I/O, no clock. Units: g/s in, mg/m³ out, metres, m/s, degrees.

Dispersion coefficients are the Briggs (1973) curves as tabulated by Gifford (1976) and by Hanna,
Briggs & Hosker (1982): one set for open country (``"rural"``) and one for cities (``"urban"``,
fitted to the McElroy–Pooler St. Louis data). Checked against Boubel, Fox, Turner & Stern,
*Fundamentals of Air Pollution*, 3rd ed. (1994), Tables 19-6 and 19-7 ("from Gifford"), and the
same coefficients in GasDispersion.jl (``src/utils/equation_sets/briggs.jl``, citing AIChE/CCPS
1999). The tables state a range of 100 m to 10 km; outside it the curves are extrapolated.

Limits of the model, which callers must show to users: it is a screening estimate for a neutrally
buoyant gas released steadily at a point over flat ground, with wind speed and stability constant
in space and time (10-minute to 1-hour averages). It is not valid for dense gases (氯气, 液化石油
气 and cold ammonia releases slump and spread upwind: use a dense-gas model), for calm winds
(below 0.5 m/s), for short puffs, or among buildings and in complex terrain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

STABILITY_CLASSES = ("A", "B", "C", "D", "E", "F")
TERRAINS = ("rural", "urban")
INSOLATIONS = ("strong", "moderate", "slight")

MIN_WIND_SPEED_M_S = 0.5  # below this the plume equation (dilution by u) breaks down
EARTH_RADIUS_M = 6371008.8  # the mean radius (IUGG), as in resources.py

# σ = a·x·(1 + b·x)^p for σy and σz, per terrain and class: ((a, b, p) for σy, (a, b, p) for σz).
_Coef = tuple[float, float, float]
_URBAN_AB: tuple[_Coef, _Coef] = ((0.32, 0.0004, -0.5), (0.24, 0.001, 0.5))
_URBAN_EF: tuple[_Coef, _Coef] = ((0.11, 0.0004, -0.5), (0.08, 0.0015, -0.5))
_BRIGGS: dict[str, dict[str, tuple[_Coef, _Coef]]] = {
    "rural": {
        "A": ((0.22, 0.0001, -0.5), (0.20, 0.0, 1.0)),
        "B": ((0.16, 0.0001, -0.5), (0.12, 0.0, 1.0)),
        "C": ((0.11, 0.0001, -0.5), (0.08, 0.0002, -0.5)),
        "D": ((0.08, 0.0001, -0.5), (0.06, 0.0015, -0.5)),
        "E": ((0.06, 0.0001, -0.5), (0.03, 0.0003, -1.0)),
        "F": ((0.04, 0.0001, -0.5), (0.016, 0.0003, -1.0)),
    },
    "urban": {
        "A": _URBAN_AB,
        "B": _URBAN_AB,
        "C": ((0.22, 0.0004, -0.5), (0.20, 0.0, 1.0)),
        "D": ((0.16, 0.0004, -0.5), (0.14, 0.0003, -0.5)),
        "E": _URBAN_EF,
        "F": _URBAN_EF,
    },
}

# Pasquill (1961) as given by Turner (1970), Table 1, by wind band (<2, 2–3, 3–5, 5–6, >6 m/s).
# Where the table gives two classes (A–B, B–C, C–D) the more stable one is kept: a more stable
# class dilutes less, so the threat zone reaches further, which is the safe error for
# evacuation. Turner's table leaves night with wind < 2 m/s blank; F is used there, the most
# stable class and so the longest zone (NOAA READY's copy of the table fills the cell with E
# under cloud and F when clear). Night columns follow Turner: ≥ 4/8 cloud against ≤ 3/8 (READY
# draws the line between > 4/8 and ≤ 4/8, so 4/8 falls on the other side there).
_DAY = {
    "strong": ("A", "B", "B", "C", "C"),  # A, A–B, B, C, C
    "moderate": ("B", "B", "C", "D", "D"),  # A–B, B, B–C, C–D, D
    "slight": ("B", "C", "C", "D", "D"),
}
_NIGHT_CLOUDY = ("F", "E", "D", "D", "D")  # thinly overcast or ≥ 4/8 low cloud
_NIGHT_CLEAR = ("F", "F", "E", "D", "D")  # ≤ 3/8 cloud

_NEAR_M = 1.0  # where the search along the plume starts
_SAMPLES = 256  # log-spaced samples of the centreline between _NEAR_M and max_distance_m


@dataclass(frozen=True)
class Plume:
    """The concentration at a receptor and the plume's spread at its downwind distance."""

    concentration_mg_m3: float
    sigma_y_m: float
    sigma_z_m: float


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _at_least(name: str, value: float, low: float) -> float:
    if _finite(name, value) < low:
        raise ValueError(f"{name} must be ≥ {low:g}, got {value!r}")
    return float(value)


def _stability(stability: str) -> str:
    s = stability.strip().upper() if isinstance(stability, str) else stability
    if s not in STABILITY_CLASSES:
        raise ValueError(f"stability must be one of A–F, got {stability!r}")
    return s


def _terrain(terrain: str) -> str:
    t = terrain.strip().lower() if isinstance(terrain, str) else terrain
    if t not in TERRAINS:
        raise ValueError(f"terrain must be 'rural' or 'urban', got {terrain!r}")
    return t


def _wind(wind_speed_m_s: float) -> float:
    if _finite("wind_speed_m_s", wind_speed_m_s) < MIN_WIND_SPEED_M_S:
        raise ValueError(
            f"wind_speed_m_s must be ≥ {MIN_WIND_SPEED_M_S} m/s: the Gaussian plume model is not "
            f"valid in calm air, got {wind_speed_m_s!r}"
        )
    return float(wind_speed_m_s)


def sigmas(x_m: float, stability: str, terrain: str) -> tuple[float, float]:
    """σy and σz in metres at downwind distance ``x_m`` (> 0) for a Pasquill class (A–F) and
    terrain (``"rural"`` or ``"urban"``), by the Briggs formulas."""
    if _finite("x_m", x_m) <= 0:
        raise ValueError(f"x_m must be > 0, got {x_m!r}")
    (ay, by, py), (az, bz, pz) = _BRIGGS[_terrain(terrain)][_stability(stability)]
    return ay * x_m * (1 + by * x_m) ** py, az * x_m * (1 + bz * x_m) ** pz


def gaussian_plume_mg_m3(
    release_g_s: float,
    wind_speed_m_s: float,
    sigma_y_m: float,
    sigma_z_m: float,
    release_height_m: float,
    y_m: float = 0.0,
    z_m: float = 0.0,
) -> float:
    """The Gaussian plume equation with total reflection at the ground, for given spreads:
    C = Q/(2π u σy σz) · exp(−y²/2σy²) · [exp(−(z−H)²/2σz²) + exp(−(z+H)²/2σz²)], in mg/m³ for
    Q in g/s. Kept apart from :func:`plume` so that other σ schemes (e.g. a textbook's
    Pasquill–Gifford values) can be put through the same equation."""
    if sigma_y_m <= 0 or sigma_z_m <= 0:
        raise ValueError("sigma_y_m and sigma_z_m must be > 0")
    vertical = math.exp(-((z_m - release_height_m) ** 2) / (2 * sigma_z_m**2)) + math.exp(
        -((z_m + release_height_m) ** 2) / (2 * sigma_z_m**2)
    )
    crosswind = math.exp(-(y_m**2) / (2 * sigma_y_m**2))
    g_m3 = release_g_s / (2 * math.pi * wind_speed_m_s * sigma_y_m * sigma_z_m)
    return g_m3 * crosswind * vertical * 1000.0


def plume(
    release_g_s: float,
    release_height_m: float,
    wind_speed_m_s: float,
    stability: str,
    terrain: str,
    x_m: float,
    y_m: float = 0.0,
    z_m: float = 0.0,
) -> Plume:
    """The steady concentration (mg/m³) at (x downwind, y crosswind, z above ground) from a
    continuous release of ``release_g_s`` at height ``release_height_m``. Upwind of the source
    or at it (x ≤ 0) the plume gives nothing: concentration and spreads are 0."""
    _at_least("release_g_s", release_g_s, 0.0)
    _at_least("release_height_m", release_height_m, 0.0)
    u = _wind(wind_speed_m_s)
    s, t = _stability(stability), _terrain(terrain)
    _finite("x_m", x_m)
    _finite("y_m", y_m)
    _at_least("z_m", z_m, 0.0)
    if x_m <= 0:
        return Plume(0.0, 0.0, 0.0)
    sy, sz = sigmas(x_m, s, t)
    c = gaussian_plume_mg_m3(release_g_s, u, sy, sz, release_height_m, y_m, z_m)
    return Plume(c, sy, sz)


def _band(wind_speed_m_s: float) -> int:
    """The wind band of the Pasquill table. Each boundary belongs to the band above it (2 m/s is
    "2–3", 3 is "3–5", 5 is "5–6"), except 6 m/s, which stays in "5–6" since the last band reads
    "> 6"."""
    u = wind_speed_m_s
    return 0 if u < 2 else 1 if u < 3 else 2 if u < 5 else 3 if u <= 6 else 4


def stability_class(
    wind_speed_m_s: float,
    *,
    daytime: bool,
    insolation: str | None = None,
    cloud_cover_octas: int | None = None,
) -> str:
    """The Pasquill stability class (A–F) from the surface wind speed (m/s at 10 m) and, by day,
    the incoming solar radiation (``insolation``: strong, moderate or slight) or, by night, the
    cloud cover in eighths (≥ 4/8 or ≤ 3/8). An overcast sky (8/8) gives D by day or night.
    "Night" is from an hour before sunset to an hour after sunrise (Turner 1970); the caller
    decides it. Two-class cells take the more stable class, and a night with wind under 2 m/s
    gives F (see the table above)."""
    u = _at_least("wind_speed_m_s", wind_speed_m_s, 0.0)
    if cloud_cover_octas is not None and (
        isinstance(cloud_cover_octas, bool)
        or not isinstance(cloud_cover_octas, int)
        or not 0 <= cloud_cover_octas <= 8
    ):
        raise ValueError(f"cloud_cover_octas must be an integer 0–8, got {cloud_cover_octas!r}")
    if not daytime and insolation is not None:
        raise ValueError("insolation is for daytime only; give cloud_cover_octas at night")
    if cloud_cover_octas == 8:
        return "D"
    if daytime:
        if insolation not in _DAY:
            raise ValueError(f"insolation must be one of {INSOLATIONS} by day, got {insolation!r}")
        return _DAY[insolation][_band(u)]
    if cloud_cover_octas is None:
        raise ValueError("cloud_cover_octas is required at night")
    column = _NIGHT_CLOUDY if cloud_cover_octas >= 4 else _NIGHT_CLEAR
    return column[_band(u)]


def _bisect(f: Callable[[float], float], below: float, above: float) -> float:
    """The x between ``below`` (f < 0) and ``above`` (f ≥ 0) where f crosses zero."""
    for _ in range(100):
        mid = (below + above) / 2
        if f(mid) >= 0:
            above = mid
        else:
            below = mid
        if abs(above - below) <= 1e-9 * above:
            break
    return above


def _golden_max(f: Callable[[float], float], lo: float, hi: float) -> float:
    """The x of the maximum of a unimodal f on [lo, hi] (golden-section search on log x)."""
    a, b = math.log(lo), math.log(hi)
    r = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        c, d = b - r * (b - a), a + r * (b - a)
        if f(math.exp(c)) >= f(math.exp(d)):
            b = d
        else:
            a = c
    return math.exp((a + b) / 2)


def centreline_reach(
    release_g_s: float,
    release_height_m: float,
    wind_speed_m_s: float,
    stability: str,
    terrain: str,
    threshold_mg_m3: float,
    *,
    max_distance_m: float = 50000.0,
) -> tuple[float, float] | None:
    """The downwind range (near, far) in metres where the ground-level centreline concentration
    is at least ``threshold_mg_m3``, or None when it never is within ``max_distance_m``.

    ``near`` is 0 when the zone reaches back to the source (a ground-level release). The
    centreline is sampled log-spaced from 1 m, its ends refined by bisection; a threshold just
    under the peak is caught by a golden-section search around the highest sample. The ground-
    level centreline of one plume rises to a single peak and then falls, so the range is one
    interval. ``far`` equals ``max_distance_m`` when the zone is cut off there."""
    _at_least("threshold_mg_m3", threshold_mg_m3, 0.0)
    if threshold_mg_m3 == 0:
        raise ValueError("threshold_mg_m3 must be > 0")
    far_limit = _finite("max_distance_m", max_distance_m)
    if far_limit <= _NEAR_M:
        raise ValueError(f"max_distance_m must be > {_NEAR_M:g} m, got {max_distance_m!r}")
    plume(release_g_s, release_height_m, wind_speed_m_s, stability, terrain, 1.0)  # validates

    def excess(x: float) -> float:
        c = plume(release_g_s, release_height_m, wind_speed_m_s, stability, terrain, x)
        return c.concentration_mg_m3 - threshold_mg_m3

    ratio = (far_limit / _NEAR_M) ** (1 / (_SAMPLES - 1))
    xs = [_NEAR_M * ratio**i for i in range(_SAMPLES)]
    xs[-1] = far_limit
    values = [excess(x) for x in xs]
    inside = [i for i, v in enumerate(values) if v >= 0]
    if not inside:
        best = max(range(_SAMPLES), key=values.__getitem__)
        lo, hi = xs[max(best - 1, 0)], xs[min(best + 1, _SAMPLES - 1)]
        peak = _golden_max(excess, lo, hi)
        if excess(peak) < 0:
            return None
        return _bisect(excess, lo, peak), _bisect(excess, hi, peak)
    first, last = inside[0], inside[-1]
    near = 0.0 if first == 0 else _bisect(excess, xs[first - 1], xs[first])
    far = far_limit if last == _SAMPLES - 1 else _bisect(excess, xs[last + 1], xs[last])
    return near, far


def zone_length_m(
    release_g_s: float,
    release_height_m: float,
    wind_speed_m_s: float,
    stability: str,
    terrain: str,
    threshold_mg_m3: float,
    *,
    max_distance_m: float = 50000.0,
) -> float:
    """How far downwind (m) the ground-level concentration reaches ``threshold_mg_m3``; 0 when
    it never does."""
    reach = centreline_reach(
        release_g_s,
        release_height_m,
        wind_speed_m_s,
        stability,
        terrain,
        threshold_mg_m3,
        max_distance_m=max_distance_m,
    )
    return reach[1] if reach else 0.0


def zone_outline(
    release_g_s: float,
    release_height_m: float,
    wind_speed_m_s: float,
    stability: str,
    terrain: str,
    threshold_mg_m3: float,
    *,
    max_distance_m: float = 50000.0,
    points: int = 60,
) -> list[tuple[float, float]]:
    """The ground-level footprint where the concentration is at least ``threshold_mg_m3``, as a
    closed polygon (first point == last) in local metres: x downwind, y crosswind (positive to
    the left looking downwind), symmetric about the x axis. At each x of the zone the half-width
    is σy·sqrt(2·ln(C0/T)), C0 being the centreline concentration there. Empty when the
    threshold is never reached. ``points`` x positions are used (half log-spaced for the near
    field, half even for the far tip), so the polygon has at most 2·points + 2 vertices."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an integer ≥ 2, got {points!r}")
    reach = centreline_reach(
        release_g_s,
        release_height_m,
        wind_speed_m_s,
        stability,
        terrain,
        threshold_mg_m3,
        max_distance_m=max_distance_m,
    )
    if reach is None:
        return []
    near, far = reach
    start = near if near > 0 else min(_NEAR_M, far)
    inner = points - 2
    n_log, n_even = inner // 2, inner - inner // 2
    xs = {start, far}
    xs.update(start + (far - start) * i / (n_even + 1) for i in range(1, n_even + 1))
    xs.update(start * (far / start) ** (i / (n_log + 1)) for i in range(1, n_log + 1))

    upper: list[tuple[float, float]] = []
    for x in sorted(xs):
        p = plume(release_g_s, release_height_m, wind_speed_m_s, stability, terrain, x)
        ratio = p.concentration_mg_m3 / threshold_mg_m3
        half = p.sigma_y_m * math.sqrt(2 * math.log(ratio)) if ratio > 1 else 0.0
        upper.append((x, half))
    lower = [(x, -w) for x, w in reversed(upper) if w > 0]
    ring = ([(0.0, 0.0)] if near == 0 else []) + upper + lower
    ring.append(ring[0])
    return ring


def to_lnglat(
    points_xy: Sequence[tuple[float, float]], lng: float, lat: float, wind_from_deg: float
) -> list[tuple[float, float]]:
    """Place a local footprint (x downwind, y to the left of it, in metres) at the source
    (lng, lat) for a wind blowing FROM ``wind_from_deg`` (meteorological: 0 from the north, 90
    from the east), so x points to the bearing wind_from_deg + 180. Metres become degrees by a
    local equirectangular approximation (good to well under 1 % within tens of km, away from the
    poles). Returns (lng, lat) pairs rounded to 6 decimals (about 0.1 m)."""
    if not -180 <= _finite("lng", lng) <= 180:
        raise ValueError(f"lng must be within −180…180, got {lng!r}")
    if not -90 < _finite("lat", lat) < 90:
        raise ValueError(f"lat must be within −90…90 (poles excluded), got {lat!r}")
    bearing = math.radians((_finite("wind_from_deg", wind_from_deg) + 180) % 360)
    sin_b, cos_b = math.sin(bearing), math.cos(bearing)
    cos_lat = math.cos(math.radians(lat))
    out: list[tuple[float, float]] = []
    for x, y in points_xy:
        east = x * sin_b - y * cos_b
        north = x * cos_b + y * sin_b
        p_lng = lng + math.degrees(east / (EARTH_RADIUS_M * cos_lat))
        p_lat = lat + math.degrees(north / EARTH_RADIUS_M)
        out.append((round((p_lng + 180) % 360 - 180, 6), round(p_lat, 6)))
    return out


def point_in_ring(lng: float, lat: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Whether (lng, lat) lies inside the closed polygon ``ring`` (even-odd ray casting; a
    zone is small enough for plane geometry on degrees)."""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
