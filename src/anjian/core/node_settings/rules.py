"""Which settings an administrator may change at run time, and the values each accepts.

Pure functions, no I/O. The ranges keep a node within GB/T 22239-2019 (等保2.0) level 3,
8.1.4.1 a–b (credentials with complexity and periodic change; login-failure handling: limit
illegal attempts, log out on timeout). The numbers are the typical tested settings, not the
standard's text (REFERENCE §6.1, guidance): lock after 5 failures for 30 minutes, session
timeout 30 minutes, passwords of at least 8 characters changed every 90 days. A console value
may be stricter than these, never looser; the configuration file and environment variables are
not limited here (ops answer for them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from anjian.core.divisions.rules import covers
from anjian.core.inputs import control_char, control_message


@dataclass(frozen=True)
class SettingRule:
    """One run-time setting: its label and what the console accepts."""

    key: str
    label: str
    kind: type  # int or str
    low: int = 0
    high: int = 0
    max_length: int = 0
    hint: str = ""


RULES: dict[str, SettingRule] = {
    r.key: r
    for r in (
        # 8.1.4.1 b: auto-logout on timeout; guidance: 30 minutes at most.
        SettingRule("session_idle_minutes", "会话空闲超时（分钟）", int, 5, 30, hint="5–30"),
        SettingRule("session_max_hours", "会话最长时间（小时）", int, 1, 12, hint="1–12"),
        # 8.1.4.1 b: limit illegal login attempts; guidance: lock after 5 failures for 30 min.
        SettingRule("lockout_threshold", "登录失败锁定次数", int, 3, 5, hint="3–5"),
        SettingRule("lockout_window_minutes", "失败计数时间窗（分钟）", int, 5, 60, hint="5–60"),
        SettingRule("lockout_minutes", "锁定时长（分钟）", int, 30, 1440, hint="30–1440"),
        # 8.1.4.1 a: complexity and periodic change; guidance: ≥ 8 characters, every 90 days.
        SettingRule("password_min_length", "密码最短长度", int, 8, 64, hint="8–64"),
        SettingRule("password_max_age_days", "密码有效期（天）", int, 30, 90, hint="30–90"),
        SettingRule(
            "map_tile_url",
            "底图瓦片地址",
            str,
            max_length=500,
            hint="http(s)://…/{z}/{x}/{y}…，留空则不加载底图",
        ),
        SettingRule("map_attribution", "底图版权说明", str, max_length=200, hint="至多 200 字"),
        # 应急预案与演练 (config.py: the 2019 rule as read, unverified in REFERENCE.md).
        SettingRule("plan_revision_years", "预案评估修订周期（年）", int, 1, 5, hint="1–5"),
        SettingRule("plan_revision_warn_days", "预案修订提前提醒（天）", int, 0, 365, hint="0–365"),
        SettingRule("drill_interval_months", "预案演练间隔（月）", int, 1, 24, hint="1–24"),
        SettingRule("duty_pass_on_minutes", "值班信息转报时限（分钟）", int, 5, 240, hint="5–240"),
    )
}

# A tile host as Leaflet takes it ({s} subdomains allowed) and as the console's
# Content-Security-Policy can carry it: letters, digits, dots, hyphens, a port.
_TILE_HOST = re.compile(r"[A-Za-z0-9{}.-]+(:[0-9]{1,5})?")
_TILE_PATH = re.compile(r"[A-Za-z0-9{}._~/%&=?:@+-]*")


class SettingRefused(ValueError):
    """A value the console does not accept for a setting; the message names the setting."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def parse(key: str, raw: str) -> int | str:
    """The value ``raw`` stands for, or :class:`SettingRefused` naming the setting."""
    rule = RULES.get(key)
    if rule is None:
        raise SettingRefused(key, f"{key} 不能在运行时修改 (not a run-time setting)")
    if not isinstance(raw, str):
        raise SettingRefused(key, f"{rule.label}：须为文本 (text expected)")
    code = control_char(raw)
    if code:
        raise SettingRefused(key, f"{rule.label}：{control_message(code)}")
    text = raw.strip()
    if rule.kind is int:
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise SettingRefused(
                key, f"{rule.label}：须为 {rule.hint} 之间的整数 (an integer {rule.hint})"
            )
        number = int(text)
        if not rule.low <= number <= rule.high:
            raise SettingRefused(
                key,
                f"{rule.label}：须在 {rule.low} 到 {rule.high} 之间，等保三级要求 "
                f"(must be {rule.low}–{rule.high})",
            )
        return number
    if len(text) > rule.max_length:
        raise SettingRefused(
            key, f"{rule.label}：至多 {rule.max_length} 个字符 (at most {rule.max_length})"
        )
    if key == "map_tile_url" and text:
        _check_tile_url(text)
    return text


def _check_tile_url(url: str) -> None:
    label = RULES["map_tile_url"].label
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not _TILE_HOST.fullmatch(parts.netloc)
        or not _TILE_PATH.fullmatch(url.split(parts.netloc, 1)[1])
    ):
        raise SettingRefused(
            "map_tile_url",
            f"{label}：须为 http(s):// 开头、不含空格和引号的地址 (an http(s) URL template)",
        )
    if not all(f"{{{p}}}" in url for p in "zxy"):
        raise SettingRefused(
            "map_tile_url", f"{label}：须含 {{z}}、{{x}}、{{y}} (tile coordinates missing)"
        )


def may_change(role: str, division_code: str, node_division: str) -> bool:
    """Whether a user may change the node's settings: an administrator whose jurisdiction
    covers the node's (a county administrator on a province node may not change the province's
    login rules)."""
    return role == "admin" and covers(division_code, node_division)


def stored(value: int | str) -> str:
    """The text a parsed value is kept as."""
    return str(value)


def env_var(key: str) -> str:
    """The environment variable that pins ``key`` (it wins over the console)."""
    return f"ANJIAN_{key.upper()}"


def effective(key: str, default: object, console: str | None, pinned: bool) -> tuple[object, str]:
    """The value in force and where it comes from: the environment variable pins it (ops set
    it for a reason: the console cannot override it); otherwise a console value wins over the
    configuration file and the default (``default`` is what those gave)."""
    if pinned or console is None:
        return default, "base"
    try:
        return parse(key, console), "console"
    except SettingRefused:  # a row written before a rule tightened: ignored, not obeyed
        return default, "base"
