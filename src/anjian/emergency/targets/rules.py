"""Protection targets (防护目标): their kinds, the position a target must have (both coordinates
or neither), and a threat zone's totals (how many targets, how many people) that decide what to
evacuate first. Pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from anjian.core.errors import Invalid

# A county's largest population point is a district of a few hundred thousand; ten million is
# more than any one place holds, so a larger number is a typo (or an attack on the sums).
MAX_POPULATION = 10_000_000


class TargetKind(StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    HOSPITAL = "hospital"
    NURSING_HOME = "nursing_home"
    RESIDENTIAL = "residential"
    CROWDED_PLACE = "crowded_place"  # 商场、车站、体育场馆
    OTHER = "other"


KIND_LABELS: dict[str, str] = {
    TargetKind.SCHOOL: "学校",
    TargetKind.KINDERGARTEN: "幼儿园",
    TargetKind.HOSPITAL: "医院",
    TargetKind.NURSING_HOME: "养老机构",
    TargetKind.RESIDENTIAL: "居民区",
    TargetKind.CROWDED_PLACE: "人员密集场所",
    TargetKind.OTHER: "其他",
}
# What a kind covers, where its label alone leaves it open (the form's and template's hints).
KIND_HINTS: dict[str, str] = {TargetKind.CROWDED_PLACE: "商场、车站、体育场馆等"}


def kind_of(text: str) -> str | None:
    """The kind a spreadsheet cell or form names, by its code (``school``) or its Chinese label
    (学校); None when it names none."""
    value = text.strip()
    if value in KIND_LABELS:
        return value
    return next((code for code, label in KIND_LABELS.items() if label == value), None)


def missing_coordinate(lng: float | None, lat: float | None) -> str | None:
    """The coordinate a half-given position lacks (``"lat"`` when only the longitude is given,
    ``"lng"`` the other way round); None when both or neither are given. A target with one
    coordinate cannot be placed on the map, nor found inside a threat zone."""
    if lng is not None and lat is None:
        return "lat"
    if lat is not None and lng is None:
        return "lng"
    return None


_COORDINATES = {"lng": "经度", "lat": "纬度"}


def require_whole_position(lng: float | None, lat: float | None) -> None:
    """Refuse a half-given position (of a protection target, an emergency resource): an
    :class:`Invalid` naming the missing coordinate."""
    missing = missing_coordinate(lng, lat)
    if missing is not None:
        other = "lat" if missing == "lng" else "lng"
        raise Invalid(
            f"已给出{_COORDINATES[other]}，缺少{_COORDINATES[missing]}：经纬度须同时给出或都不给 "
            "(give both lng and lat, or neither)",
            field=missing,
        )


@dataclass(frozen=True)
class ZoneTotals:
    """The protection targets inside one threat zone: how many, the people they hold (a lower
    bound when some population is unknown) and how many have no population recorded."""

    targets: int
    population: int
    population_unknown: int


def zone_totals(populations: Iterable[int | None]) -> ZoneTotals:
    """The totals of a zone from the populations of the targets inside it (None: not
    recorded, which adds nothing to the sum but is counted apart so that the sum is not read as
    the whole)."""
    count = total = unknown = 0
    for people in populations:
        count += 1
        if people is None:
            unknown += 1
        else:
            total += people
    return ZoneTotals(targets=count, population=total, population_unknown=unknown)
