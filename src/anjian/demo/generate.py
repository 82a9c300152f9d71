"""Pure generation of the demo province: places, presets and enterprise records.

No I/O: the loader passes the divisions in and writes what comes out. Everything random
draws from one ``random.Random(seed)``, so the same seed gives the same province."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from anjian.demo.data import (
    BRAND_FIRST,
    BRAND_SECOND,
    CATEGORY_SPECS,
    EMPLOYEES_BY_SCALE,
    GENERIC_CATEGORY_WEIGHTS,
    GENERIC_USERNAMES,
    GIVEN_CHARS,
    MOBILE_PREFIXES,
    PARKS,
    PRESETS,
    PROVINCE_ABBR,
    ROAD_SUFFIX,
    STATUS_WEIGHTS,
    SURNAMES,
    TOWN_FIRST,
    TOWN_SUFFIX,
    VILLAGE_SUFFIX,
    BureauSpec,
    ProvincePreset,
)
from anjian.enterprises.rules import USCC_CHARSET, compose_uscc

# Longest first: "广西壮族自治区" must lose "壮族自治区", not just "自治区".
_PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)


@dataclass(frozen=True)
class Div:
    """A division as the generator needs it (detached from the database)."""

    code: str
    name: str
    tier: str
    parent_code: str | None
    lng: float | None
    lat: float | None


@dataclass(frozen=True)
class Place:
    """A county (or a prefecture without counties, such as 东莞市) that enterprises sit in."""

    code: str
    name: str
    city_code: str | None  # the prefecture; None when the province runs the county directly
    region: str  # as it starts a company name: 朔州市平鲁区, 应县
    region_short: str  # after the province in a company name: 朔州平鲁区, 山阴
    full: str  # address prefix: 山西省朔州市平鲁区
    lng: float
    lat: float


def short_province(name: str) -> str:
    """山西省 → 山西, 内蒙古自治区 → 内蒙古, 广西壮族自治区 → 广西."""
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def short_county(name: str) -> str:
    """山阴县 → 山阴, 怀仁市 → 怀仁; two-character names (应县, 郊区) stay whole."""
    if name.endswith("自治县") or name.endswith("自治旗"):
        return name[:2]
    if len(name) > 2 and name[-1] in "县区市旗":
        return name[:-1]
    return name


def is_district(name: str) -> bool:
    """A city district (市辖区) is named with its city: 朔州市平鲁区, 阳泉市郊区."""
    return name.endswith("区") and not name.endswith("林区")


def build_places(
    province: Div, divisions: Sequence[Div], coord_fallback: dict[str, tuple[float, float]]
) -> tuple[list[Div], list[Place]]:
    """The province's prefectures and the places enterprises can be put in, by code."""
    by_code = {d.code: d for d in divisions}
    cities = sorted(
        (d for d in divisions if d.tier == "city" and d.parent_code == province.code),
        key=lambda d: d.code,
    )
    counties = [d for d in divisions if d.tier == "county" and d.code[:2] == province.code[:2]]
    with_children = {d.parent_code for d in counties}
    leaves = counties + [c for c in cities if c.code not in with_children]
    prov_short = short_province(province.name)
    places: list[Place] = []
    for d in sorted(leaves, key=lambda d: d.code):
        city = by_code.get(d.parent_code or "") if d.tier == "county" else None
        if city is not None and city.tier != "city":
            city = None
        if city is not None and city.name == province.name:
            city = None  # a municipality's 市辖区 layer (北京市/北京市) adds nothing to a name
        if city is not None and is_district(d.name):
            region, region_short = city.name + d.name, short_county(city.name) + d.name
        else:
            region, region_short = d.name, short_county(d.name)
        full = province.name + (city.name if city is not None else "") + d.name
        lng, lat = d.lng, d.lat
        if lng is None or lat is None:
            anchor = coord_fallback.get(d.code)
            source = city or (by_code.get(d.parent_code or "") if d.parent_code else None)
            if anchor is None and source is not None and source.lng is not None:
                anchor = (source.lng, source.lat or 0.0)
            lng, lat = anchor or (province.lng or 0.0, province.lat or 0.0)
        places.append(
            Place(
                code=d.code,
                name=d.name,
                city_code=city.code if city is not None else None,
                region=region,
                region_short=region_short if region_short != prov_short else region,
                full=full,
                lng=lng,
                lat=lat,
            )
        )
    return cities, places


def resolve_preset(province: Div, cities: Sequence[Div], places: Sequence[Place]) -> ProvincePreset:
    """The province's preset, or a generic one built from its geography. The generic bureaus
    cover the counties on both sides of the border of two neighbouring prefectures."""
    preset = PRESETS.get(province.code)
    if preset is not None:
        return preset
    by_city: dict[str, list[Place]] = {}
    for p in places:
        by_city.setdefault(p.city_code or province.code, []).append(p)
    groups = sorted(by_city.items())
    demo_city, demo_places = next(
        ((code, ps) for code, ps in groups if len(ps) >= 2 and code != province.code),
        groups[0],
    )
    # Counties proper (县, county-level 市) before city districts: they look more like the field.
    rural = sorted(demo_places, key=lambda p: (is_district(p.name), p.code))
    county_codes = tuple(p.code for p in rural[:2]) or (demo_city,)
    if len(county_codes) == 1:
        county_codes = county_codes * 2
    bureaus: list[BureauSpec] = []
    centres = {c.code: (c.lng, c.lat) for c in cities if c.lng is not None and c.lat is not None}
    city_codes = [code for code, _ in groups if code in centres]
    for home in city_codes[:2]:
        others = [c for c in city_codes if c != home]
        if not others:
            area = tuple(p.code for p in by_city[home][:6])
        else:
            near = min(others, key=lambda c: _dist(centres[home], centres[c]))
            area = tuple(
                p.code
                for a, b in ((home, near), (near, home))
                for p in sorted(by_city[a], key=lambda p: _dist((p.lng, p.lat), centres[b]))[:3]
            )
        name = next(c.name for c in cities if c.code == home)
        bureaus.append(BureauSpec(f"{short_county(name)}监察分局", home, area))
    if not bureaus:
        bureaus.append(BureauSpec("第一监察分局", demo_city, tuple(p.code for p in places[:6])))
    short = short_province(province.name)
    team_cities = [c.code for c in cities] or [province.code]
    return ProvincePreset(
        category_weights=GENERIC_CATEGORY_WEIGHTS,
        bureaus=tuple(bureaus),
        rescue_teams=(
            (f"{short}矿山应急救援队", team_cities[0]),
            (f"{short}危险化学品应急救援队", team_cities[min(1, len(team_cities) - 1)]),
        ),
        city_code=demo_city,
        county_codes=county_codes,
        usernames=GENERIC_USERNAMES,
    )


def _dist(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> float:
    return math.hypot((a[0] or 0.0) - (b[0] or 0.0), (a[1] or 0.0) - (b[1] or 0.0))


def province_abbr(province: Div) -> str:
    """The one-character abbreviation (简称) of a province: 山西 → 晋."""
    return PROVINCE_ABBR.get(province.code[:2], province.name[:1])


# --- people and numbers -------------------------------------------------------------------------


def person_name(rng: random.Random) -> str:
    """A plausible Chinese full name: surname plus one or two given characters."""
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice([c for c in GIVEN_CHARS if c != given])
    return rng.choice(SURNAMES) + given


def brand(rng: random.Random) -> str:
    """A two-character trade name (字号) such as 金鼎 or 瑞丰."""
    first = rng.choice(BRAND_FIRST)
    return first + rng.choice([c for c in BRAND_SECOND if c != first])


def mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def uscc(rng: random.Random, division_code: str) -> str:
    """A credit code (GB 32100-2015) of a company (91) registered in ``division_code``: newer
    companies carry an ``MA…`` body, older ones their former organisation code."""
    if rng.random() < 0.7:
        body = "MA" + "".join(rng.choice(USCC_CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    return compose_uscc(division_code, body)


# --- enterprises --------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict[str, float] | dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _place_weights(category: str, places: Sequence[Place], preset: ProvincePreset) -> list[float]:
    spec = CATEGORY_SPECS[category]
    city_w = preset.city_weights.get(category, {})
    out = []
    for p in places:
        if spec.mining and p.code in preset.urban_cores:
            out.append(0.0)
            continue
        out.append(city_w.get(p.code[:4], 1.0))
    return out if any(out) else [1.0] * len(places)


def _address(rng: random.Random, place: Place, mining: bool) -> str:
    if mining:
        town = rng.choice(TOWN_FIRST) + rng.choice(TOWN_SUFFIX)
        village = rng.choice(SURNAMES) + rng.choice(VILLAGE_SUFFIX)
        return f"{place.full}{town}镇{village}村"
    road = brand(rng) + rng.choice(ROAD_SUFFIX)
    return f"{place.full}{rng.choice(PARKS)}{road}{rng.randint(1, 399)}号"


def covered_places(places: Sequence[Place], preset: ProvincePreset, count: int) -> list[Place]:
    """The places that get an enterprise before the rest are drawn at random: the counties of
    the demo officials' cities (the city official's and the county officials'), then — when
    ``count`` leaves one for the anchor and each — every other county of the province."""
    cities = {preset.city_code, *(c[:4] + "00" for c in preset.county_codes)} - {""}
    demo = [
        p
        for p in places
        if p.city_code in cities or p.code in cities or p.code in preset.county_codes
    ]
    rest = [p for p in places if p not in demo]
    cover = demo + (rest if count > len(places) else [])
    return cover[: max(0, count - 1)]


def plan_enterprises(
    places: Sequence[Place],
    preset: ProvincePreset,
    *,
    province_name: str,
    abbr: str,
    count: int,
    seed: int,
    anchor_code: str | None = None,
) -> list[dict[str, Any]]:
    """``count`` enterprise records (fields of ``EnterpriseCreate``), deterministic in ``seed``.

    The first is of the preset's anchor category in ``anchor_code`` (the demo enterprise
    user's enterprise: in 山西 a coal mine in 应县). Then every county of the demo officials'
    cities gets one, and when ``count`` allows, every county of the province: no demo official
    opens an empty county. The rest fall where each category is likely."""
    rng = random.Random(seed)
    prov_short = short_province(province_name)
    weights = {c: _place_weights(c, places, preset) for c in CATEGORY_SPECS}
    by_code = {p.code: p for p in places}
    cover = covered_places(places, preset, count)
    index = {p.code: i for i, p in enumerate(places)}
    names: set[str] = set()
    codes: set[str] = set()
    serials: set[tuple[str, int, int]] = set()
    out: list[dict[str, Any]] = []
    for i in range(count):
        if i == 0 and anchor_code in by_code:
            category, place = preset.anchor_category, by_code[anchor_code]
        elif i - 1 < len(cover):
            place = cover[i - 1]
            fits = {  # categories that may sit here (no mines in a city core)
                c: w for c, w in preset.category_weights.items() if weights[c][index[place.code]]
            }
            category = _weighted(rng, fits or preset.category_weights)
        else:
            category = _weighted(rng, preset.category_weights)
            place = rng.choices(places, weights=weights[category])[0]
        spec = CATEGORY_SPECS[category]
        template = rng.choices(spec.templates, weights=[t.weight for t in spec.templates])[0]
        while True:
            name = template.pattern.format(
                region=place.region,
                region_short=place.region_short,
                prov=prov_short,
                brand=brand(rng),
            )
            if name not in names:
                names.add(name)
                break
        while (code := uscc(rng, place.code)) in codes:
            pass
        codes.add(code)
        scale = _weighted(rng, spec.scale_weights)
        status = "operating" if i == 0 else _weighted(rng, STATUS_WEIGHTS)
        licence_no, valid_until = None, None
        if spec.licence_code and status != "construction":  # no licence before completion
            # 安全生产许可证条例 Art. 9: valid for three years.
            issued = date(2023, 6, 1) + timedelta(days=rng.randrange(3 * 365 + 120))
            serial = rng.randint(1, 2999)
            while (spec.licence_code, issued.year, serial) in serials:
                serial = rng.randint(1, 2999)
            serials.add((spec.licence_code, issued.year, serial))
            licence_no = f"({abbr}){spec.licence_code}安许证字〔{issued.year}〕{serial:04d}"
            valid_until = replace_year(issued, issued.year + 3) - timedelta(days=1)
        low, high = EMPLOYEES_BY_SCALE[scale]
        out.append(
            {
                "uscc": code,
                "name": name,
                "division_code": place.code,
                "address": _address(rng, place, spec.mining),
                "lng": round(place.lng + rng.uniform(-0.05, 0.05), 6),
                "lat": round(place.lat + rng.uniform(-0.05, 0.05), 6),
                "industry_code": template.industry,
                "supervision_category": category,
                "scale": scale,
                "employees": rng.randint(low, high),
                "legal_rep": person_name(rng),
                "legal_rep_phone": mobile(rng),
                "safety_manager": person_name(rng),
                "safety_manager_phone": mobile(rng),
                "licence_no": licence_no,
                "licence_valid_until": valid_until,
                "status": status,
            }
        )
    return out


def replace_year(day: date, year: int) -> date:
    """The same calendar day in ``year`` (29 February becomes 28 February)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)
