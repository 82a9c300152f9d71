"""Demo duty rosters (值班安排): 24-hour shifts of the county's and the city's duty desks from
yesterday to a week ahead, the demo official on the shift on duty now."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import CST, today_in_china
from anjian.core.iam.models import Role, User
from anjian.core.scope import Scope, unscoped
from anjian.demo.emergency.common import County, actor_of, official_at, scope_of
from anjian.demo.generate import person_name
from anjian.emergency.duty.rosters import create_shift
from anjian.emergency.duty.schemas import ShiftCreate

SHIFT_START = time(8, 30)  # 24-hour shifts handed over at 08:30 Beijing time
ROSTER_DAYS = range(-1, 7)  # yesterday's shift to the one a week ahead


@unscoped("demo loader: the county agency's staff, for its duty roster")
def _staff(session: Session, official: User) -> list[str]:
    """The names of the county official and the colleagues of their agency."""
    if official.org_id is None:
        return [official.display_name] if official.display_name else []
    rows = session.scalars(
        select(User)
        .where(User.org_id == official.org_id, User.role == Role.OFFICIAL.value)
        .order_by(User.id)
    ).all()
    names = [official.display_name, *(u.display_name for u in rows if u.id != official.id)]
    return list(dict.fromkeys(n for n in names if n))


def _shift_starts(today: date) -> list[datetime]:
    return [
        datetime.combine(today + timedelta(days=d), SHIFT_START, tzinfo=CST).astimezone(UTC)
        for d in ROSTER_DAYS
    ]


def load_rosters(session: Session, c: County) -> tuple[list[str], int]:
    """Day shifts (24 h) of the county's desk — its official on the one on duty now, with a
    colleague — and of the city's desk; the county's leaders (带班领导)."""
    rng = c.rng
    leaders = [person_name(rng) for _ in range(3)]
    area = f"0{rng.randint(310, 359)}"
    staff = _staff(session, c.official)
    made = _roster(session, (c.actor, c.scope), c.code, leaders, staff, area, rng)
    city = official_at(session, c.city_code) if c.city_code else None
    if city is not None:
        staff = [city.display_name, *(person_name(rng) for _ in range(3))]
        bosses = [person_name(rng) for _ in range(3)]
        who = (actor_of(city), scope_of(city))
        made += _roster(session, who, city.division_code, bosses, staff, area, rng)
    return leaders, made


def _roster(
    session: Session,
    who: tuple[Actor, Scope],
    desk: str,
    leaders: list[str],
    staff: list[str],
    area: str,
    rng: random.Random,
) -> int:
    """A 24-hour shift a day from yesterday to a week ahead at ``desk``: the leaders in turn,
    two of ``staff`` on each, ``staff[0]`` on the one on duty now."""
    actor, scope = who
    while len(staff) < 2:
        staff.append(person_name(rng))
    starts = _shift_starts(today_in_china())
    now = datetime.now(UTC)
    current = max(i for i, s in enumerate(starts) if s <= now)
    phone = f"{area}{rng.randint(5000000, 5999999)}"
    for i, start in enumerate(starts):
        k = (i - current) % len(staff)
        officers = [staff[k], staff[(k + 1) % len(staff)]]
        create_shift(
            session,
            actor,
            scope,
            ShiftCreate(
                division_code=desk,
                starts_at=start,
                ends_at=start + timedelta(days=1),
                leader=leaders[i % len(leaders)],
                officers=officers,
                duty_phone=phone,
                note="24 小时值班，08:30 交接班",
            ),
        )
    return len(starts)
