"""在线监测 console pages: the alarm board that updates live (server-sent events), one alarm with
its closed loop (确认 → 处置 → 关闭), a point with its trend chart, an enterprise's monitoring,
and the map of the jurisdiction coloured by live risk (动态风险一张图).

Every read and write goes through monitoring's use cases (points, alarms, board) with the user's
scope, as the API does: a record outside the scope is the console's 404 page, every step is
audited there."""

from __future__ import annotations

from pathlib import Path

from anjian.monitoring.pages import board, records
from anjian.web.render import pages_router

router = pages_router(Path(__file__).parent.parent / "templates")
# The board's routes first: its /monitoring/alarms/stream must not be taken for an alarm's id.
router.include_router(board.router)
router.include_router(records.router)
