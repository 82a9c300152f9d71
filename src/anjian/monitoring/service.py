"""Names callers outside monitoring still import from here while issue 17's other moves land
(the console's home page, the CLI's ``gateway token``). Monitoring's use cases live in
:mod:`~anjian.monitoring.points`, :mod:`~anjian.monitoring.alarms`,
:mod:`~anjian.monitoring.board`, :mod:`~anjian.monitoring.gateways` and
:mod:`~anjian.monitoring.trends`: import from those."""

from __future__ import annotations

from anjian.monitoring.board import change_position
from anjian.monitoring.gateways import issue_token

__all__ = ["change_position", "issue_token"]
