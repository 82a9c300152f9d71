"""Emergency events (突发事件): their types, response levels (I–IV), states and sources, and the
steps of a dispatched resource (requested → dispatched → arrived → released)."""

from __future__ import annotations

from datetime import datetime

from anjian.core.clock import CST

EVENT_TYPES = {
    "production_accident": "生产安全事故",
    "chemical_leak": "危险化学品泄漏",
    "fire_explosion": "火灾爆炸",
    "mine": "矿山事故",
    "natural_disaster": "自然灾害",
    "other": "其他",
}
# 响应级别: I is the highest (特别重大), IV the lowest (一般), as in the national plans.
LEVEL_LABELS = {1: "Ⅰ级（特别重大）", 2: "Ⅱ级（重大）", 3: "Ⅲ级（较大）", 4: "Ⅳ级（一般）"}
STATES = {"active": "处置中", "closed": "已结束"}
SOURCES = {
    "call": "电话接报",
    "alarm": "监测报警",
    "accident": "事故快报",
    "report_below": "下级报告",
    "other": "其他",
}
ENTRY_KINDS = {
    "receipt": "接报",
    "level": "响应级别调整",
    "report": "续报",
    "command": "指挥部署",
    "task": "任务",
    "dispatch": "资源调度",
    "closure": "结束",
    "analysis": "扩散分析",
    # Read in from the directives about the event (see emergency.orders), not stored lines.
    "order": "指令",
    "signed": "签收",
}
DISPATCH_STATES = {
    "requested": "已申请",
    "dispatched": "已出发",
    "arrived": "已到达",
    "released": "已返回",
}
# Each step goes forward only; a resource may be released (stood down) at any step.
DISPATCH_NEXT = {
    "requested": ("dispatched", "released"),
    "dispatched": ("arrived", "released"),
    "arrived": ("released",),
    "released": (),
}


def dispatch_step_allowed(current: str, target: str) -> bool:
    """Whether a dispatched resource may go from ``current`` to ``target``."""
    return target in DISPATCH_NEXT.get(current, ())


def event_number(received_at: datetime, uid: str) -> str:
    """事件编号: SJ, the Beijing date of receipt and the tail of the uid (unique across nodes)."""
    return f"SJ{received_at.astimezone(CST):%Y%m%d}-{uid.replace('-', '')[-6:].upper()}"


def level_change(old: int | None, new: int) -> str:
    """How a level change reads on the timeline: 提升 (towards I), 降低 or 确定."""
    if old is None:
        return f"确定响应级别为{LEVEL_LABELS[new]}"
    verb = "提升" if new < old else "降低"
    return f"响应级别由{LEVEL_LABELS[old]}{verb}为{LEVEL_LABELS[new]}"
