"""The labels and badges the monitoring pages share: alarm kinds and states, point statuses,
the messages after a step of an alarm's loop."""

from __future__ import annotations

from typing import Any

from anjian.config import get_settings
from anjian.monitoring.alarms import OPEN
from anjian.monitoring.rules import LEVEL_LABELS, AlarmStateName, Bound

PAGE_SIZE = 50
KIND_LABELS = {
    "threshold": "超限报警",
    "power_cut": "断电",
    "status": "设备状态",
    "system": "监测系统",
}
ALARM_LEVEL_BADGES = {1: "grade-1", 2: "grade-2"}  # red, orange (console.css)
STATE_BADGES = {
    AlarmStateName.RAISED.value: "bg-red-lt",
    AlarmStateName.ACKNOWLEDGED.value: "bg-yellow-lt",
    AlarmStateName.HANDLED.value: "bg-blue-lt",
    AlarmStateName.CLOSED.value: "bg-green-lt",
}
POINT_STATUS_BADGES = {
    "ok": "bg-green-lt",
    "fault": "bg-red-lt",
    "offline": "bg-secondary-lt",
    "power_off": "bg-red-lt",
    "shutdown": "bg-secondary-lt",
    "maintenance": "bg-yellow-lt",
}
# The board's state filter: "open" (not closed yet, the default), one state, or everything.
STATE_CHOICES = {
    OPEN: "未关闭",
    **{s.value: s.label for s in AlarmStateName},
    "all": "全部",
}
DONE_MESSAGES = {"acknowledge": "已确认报警。", "handle": "已记录处置。", "close": "报警已关闭。"}


def labels() -> dict[str, Any]:
    """What every monitoring template names and colours."""
    return {
        "kind_labels": KIND_LABELS,
        "alarm_level_badges": ALARM_LEVEL_BADGES,
        "bound_levels": {b.value: b.level for b in Bound},
        "level_labels": LEVEL_LABELS,
        "state_badges": STATE_BADGES,
        "point_status_badges": POINT_STATUS_BADGES,
        "here": get_settings().effective_node_id,
    }
