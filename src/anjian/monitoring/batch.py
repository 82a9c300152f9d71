"""A reading batch as a gateway sends it (数据接入), before the database is touched: the
checks every reading passes on its own, the reasons a reading is refused, and the outcome a
batch counts while :mod:`anjian.monitoring.ingest` applies it.

A batch is ``{"ts": <epoch ms>, "readings": [{"point", "value", "ts"?, "status"?}]}``. Times
are epoch milliseconds throughout; :func:`at_ms` turns one into the UTC time the tables hold."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from anjian.config import get_settings
from anjian.core.inputs import storable
from anjian.monitoring.rules import STATUSES
from anjian.monitoring.schemas import IngestResult, Rejected

# Status of a reading as stored (smallint); 0 is a normal measurement.
STATUS_CODES = {name: i for i, name in enumerate(STATUSES)}
MAX_READINGS = 10_000  # per batch

REASONS = {
    "malformed": "格式错误",
    "unknown_point": "未登记的测点",
    "not_numeric": "数值无效",
    "future": "时间超前",
    "too_old": "时间过早",
    "bad_status": "状态码无效",
    "too_many": "批量过大",
    "error": "无法处理",
}


# One reading that passed the checks needing no database: (index in the batch, point code, ts,
# value, status), the value None for a status report without one. A plain tuple, not a named
# one: a batch has thousands and a named tuple costs a Python call each.
Parsed = tuple[int, str, int, float | None, str]


@dataclass
class Outcome:
    """What a batch did, as counted while it is applied."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    raised: int = 0
    escalated: int = 0
    ended: int = 0
    alarms: list[int] = field(default_factory=list)  # ids of alarms raised or changed
    path: str = "reading"  # how it was stored: "setwise" (monitoring.setwise) or one by one

    def reject(self, index: int | None, point: str | None, reason: str, message: str) -> None:
        # A point code is the gateway's text: its control characters (NUL above all, which
        # PostgreSQL refuses) and lone surrogates (which no UTF-8 answer can carry) are escaped.
        self.rejected.append(
            Rejected(
                index=index,
                point=storable(point) if point else point,
                reason=reason,
                message=storable(message),
            )
        )

    def result(self) -> IngestResult:
        return IngestResult(
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejected=sorted(self.rejected, key=lambda r: -1 if r.index is None else r.index),
            alarms_raised=self.raised,
            alarms_escalated=self.escalated,
            alarms_ended=self.ended,
        )


def now_ms() -> int:
    """The time now in epoch milliseconds."""
    return int(time.time() * 1000)


def at_ms(ts_ms: int) -> datetime:
    """The UTC time of an epoch-millisecond timestamp."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC)


# Epoch milliseconds a datetime can hold (years 1 to 9999); beyond them a time is malformed.
_MS_RANGE = (-62_135_596_800_000, 253_402_300_799_999)


def epoch_ms(value: Any) -> int | None:
    """An epoch-millisecond time, or None when ``value`` is not one a datetime can hold."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    ms = int(value)
    return ms if _MS_RANGE[0] <= ms <= _MS_RANGE[1] else None


def _number(value: Any) -> float | None:
    """A measured value as a finite float, or None: not a number, NaN, an infinity (JSON's
    ``1e400`` decodes to one) or an integer beyond what a float holds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _loads(raw: bytes | str) -> Any:
    """JSON text decoded by orjson (several times faster), or by the standard library where
    orjson refuses what it takes (a number beyond a double, ``NaN``, a lone surrogate): those are
    then judged reading by reading, not as a malformed batch."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def accepted_times(now: int | None = None) -> tuple[int, int]:
    """The oldest and the latest reading time (epoch ms) a batch arriving ``now`` may carry:
    the retention behind, the allowed clock drift ahead."""
    settings = get_settings()
    now = now_ms() if now is None else now
    return (
        now - settings.monitoring_retention_days * 86_400_000,
        now + int(settings.monitoring_max_future_s * 1000),
    )


def parse(
    raw: bytes | str | dict[str, Any], out: Outcome, *, now: int | None = None
) -> list[Parsed]:
    """The readings of a batch that pass the checks needing no database; the others are
    recorded in ``out`` with their reason (a malformed batch is one rejection of it all)."""
    oldest, latest = accepted_times(now)
    try:
        body = _loads(raw) if isinstance(raw, bytes | str) else raw
    except (ValueError, UnicodeDecodeError) as exc:
        out.reject(None, None, "malformed", f"JSON 无法解析 (malformed JSON): {exc}")
        return []
    readings = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(readings, list):
        out.reject(None, None, "malformed", "缺少 readings 数组 (readings must be an array)")
        return []
    if len(readings) > MAX_READINGS:
        out.reject(
            None,
            None,
            "too_many",
            f"一批最多 {MAX_READINGS} 条 (at most {MAX_READINGS} readings per batch)",
        )
        return []
    batch_ts = epoch_ms(body.get("ts")) if body.get("ts") is not None else None
    if body.get("ts") is not None and batch_ts is None:
        out.reject(None, None, "malformed", "ts 应为毫秒时间戳 (ts must be epoch milliseconds)")
        return []
    parsed: list[Parsed] = []
    # The common case (an int time, a float or int value, status ok) is checked first by
    # exact type: this loop runs for every reading.
    for i, r in enumerate(readings):
        point = r.get("point") if type(r) is dict else None
        if type(point) is not str or not point:
            out.reject(i, None, "malformed", "缺少测点编码 point (point is required)")
            continue
        status = r.get("status", "ok")
        if status != "ok" and (type(status) is not str or status not in STATUSES):
            out.reject(i, point, "bad_status", f"状态码无效: {status!r} (unknown status)")
            continue
        ts = r.get("ts", batch_ts)
        if type(ts) is not int or not _MS_RANGE[0] <= ts <= _MS_RANGE[1]:
            ts = epoch_ms(ts) if ts is not None else None
        if ts is None:
            out.reject(i, point, "malformed", "时间 ts 缺失或无效 (ts must be epoch milliseconds)")
            continue
        if ts > latest:
            out.reject(i, point, "future", f"时间超前于服务器时间: {ts} (time in the future)")
            continue
        if ts < oldest:
            out.reject(i, point, "too_old", f"时间早于保留期: {ts} (older than the retention)")
            continue
        value = r.get("value")
        if type(value) is float and value - value == 0.0:  # finite
            parsed.append((i, point, ts, value, status))
            continue
        if value is None and status != "ok":
            parsed.append((i, point, ts, None, status))
            continue
        number = _number(value)
        if number is None:
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
            out.reject(
                i, point, "not_numeric", f"数值无效: {shown} (value must be a finite number)"
            )
            continue
        parsed.append((i, point, ts, number, status))
    return parsed
