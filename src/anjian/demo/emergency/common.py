"""What the demo's emergency records share: the county they are made at, with its official's
actor and scope, and positions a few hundred metres from a place."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.iam.models import Role, User
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.scope import Scope, unscoped


@dataclass
class County:
    """The county the demo's emergency work happens in, and who works there."""

    code: str
    region: str  # 应县, 朔州市平鲁区: as its agency is named
    city_code: str | None
    city_name: str
    seat: tuple[float, float]
    official: User
    actor: Actor
    scope: Scope
    rng: random.Random

    def near(self, east_m: float, north_m: float) -> dict[str, float]:
        """The position ``east_m`` and ``north_m`` metres from the county seat."""
        return moved(*self.seat, east_m, north_m)


def moved(lng: float, lat: float, east_m: float, north_m: float) -> dict[str, float]:
    """The position ``east_m`` and ``north_m`` metres from (lng, lat) (flat: for a few km)."""
    dlat = north_m / 111_320
    dlng = east_m / (111_320 * math.cos(math.radians(lat)))
    return {"lng": round(lng + dlng, 6), "lat": round(lat + dlat, 6)}


def toward(bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """(east, north) metres of a point ``distance_m`` away on ``bearing_deg`` (from north)."""
    b = math.radians(bearing_deg)
    return distance_m * math.sin(b), distance_m * math.cos(b)


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, division_code=user.division_code)


def scope_of(user: User) -> Scope:
    return Scope.for_division(user.id, Role.OFFICIAL.value, [user.division_code])


@unscoped("demo loader: the demo officials of an agency's division, for the operator")
def official_at(session: Session, code: str) -> User | None:
    """The demo official of the agency (应急管理) at ``code``, if any."""
    agencies = select(Organisation.id).where(
        Organisation.division_code == code, Organisation.kind == OrgKind.AGENCY
    )
    return session.scalars(
        select(User)
        .where(
            User.division_code == code,
            User.role == Role.OFFICIAL.value,
            User.org_id.in_(agencies),
            User.is_demo.is_(True),
        )
        .order_by(User.id)
        .limit(1)
    ).first()
