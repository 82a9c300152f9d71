"""Beijing time (Asia/Shanghai): the zone of calendar dates users and regulations count in
(deadlines, statistics periods), while the database stores UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """Today's calendar date in Beijing time."""
    return datetime.now(CST).date()
