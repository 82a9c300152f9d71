"""Beijing time (Asia/Shanghai): the zone of calendar dates users and regulations count in
(deadlines, statistics periods), while the database stores UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

CST = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """Today's calendar date in Beijing time."""
    return datetime.now(CST).date()


def beijing_if_naive(value: datetime) -> datetime:
    """A time that names no zone (``2026-12-01`` or ``2026-12-01T08:00``) is Beijing time, as
    users mean it; one with a zone is kept as it is."""
    return value if value.tzinfo is not None else value.replace(tzinfo=CST)


# A datetime parameter or body field: ISO 8601, Beijing time when it names no zone (a bare date
# is midnight Beijing time).
BeijingDateTime = Annotated[datetime, AfterValidator(beijing_if_naive)]
