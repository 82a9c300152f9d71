"""Emergency resources (应急资源): their kinds and states, when a warehouse's supply is near its
expiry, and the great-circle distance the nearest-resource search orders them by."""

from __future__ import annotations

import math
from datetime import date, timedelta
from enum import StrEnum

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


class ResourceKind(StrEnum):
    TEAM = "team"
    EQUIPMENT = "equipment"
    WAREHOUSE = "warehouse"
    EXPERT = "expert"
    SHELTER = "shelter"
    MEDICAL = "medical"


KIND_LABELS = {
    ResourceKind.TEAM: "救援队伍",
    ResourceKind.EQUIPMENT: "救援装备",
    ResourceKind.WAREHOUSE: "物资储备库",
    ResourceKind.EXPERT: "应急专家",
    ResourceKind.SHELTER: "避难场所",
    ResourceKind.MEDICAL: "医疗救护点",
}


class ResourceStatus(StrEnum):
    AVAILABLE = "available"
    DEPLOYED = "deployed"  # out on a task (执行任务中)
    UNAVAILABLE = "unavailable"  # under repair, off duty, full


STATUS_LABELS = {
    ResourceStatus.AVAILABLE: "可调用",
    ResourceStatus.DEPLOYED: "执行任务中",
    ResourceStatus.UNAVAILABLE: "不可用",
}

# A supply that expires within this many days is near its expiry (临期): time to rotate it.
EXPIRY_NOTICE_DAYS = 30


def expiry_state(expires_on: date | None, today: date) -> str:
    """ "expired" once a supply's day has passed, "soon" from :data:`EXPIRY_NOTICE_DAYS` before
    it to the day itself, "" otherwise (and for a supply that does not expire)."""
    if expires_on is None:
        return ""
    if expires_on < today:
        return "expired"
    return "soon" if expires_on <= today + timedelta(days=EXPIRY_NOTICE_DAYS) else ""


def great_circle_km(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """The great-circle distance between two points in km (haversine on a sphere of the mean
    earth radius: within 0.5 % of the ellipsoid's, enough to rank resources)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lng: float, lat: float, radius_km: float) -> tuple[float, float, float, float]:
    """A longitude/latitude box holding every point within ``radius_km`` of (lng, lat): a cheap
    first cut before the exact distance (the box widens towards the poles; near them it spans
    every longitude)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = math.cos(math.radians(lat))
    if cos_lat < 1e-6 or radius_km / EARTH_RADIUS_KM >= math.pi / 2 * cos_lat:
        return (-180.0, max(-90.0, lat - dlat), 180.0, min(90.0, lat + dlat))
    dlng = math.degrees(math.asin(min(1.0, math.sin(radius_km / EARTH_RADIUS_KM) / cos_lat)))
    return (lng - dlng, max(-90.0, lat - dlat), lng + dlng, min(90.0, lat + dlat))
