"""节点设置 in the console: this node's settings, where each value comes from (environment,
console, configuration file, default), and a form for those that change at run time
(:mod:`anjian.core.node_settings`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.config import Settings, config_path, get_settings
from anjian.console.admin import AdminPageCtx
from anjian.core.clock import CST
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.node_settings import service as node_settings
from anjian.core.node_settings.rules import may_change
from anjian.core.node_settings.service import SettingState
from anjian.web.forms import posted_form
from anjian.web.layout import page
from anjian.web.offloop import page_routes
from anjian.web.session import refused

router = page_routes()


@dataclass(frozen=True)
class SettingView:
    """One setting as the settings page shows it."""

    name: str
    label: str
    value: str
    source: str
    runtime: bool  # changed in the console, used by the running node without restart
    pinned: bool = False  # an environment variable fixes it (it wins over the console)
    console: bool = False  # the value in force was set in the console
    raw: str = ""  # the value in force as the form's field shows it
    hint: str = ""


# (field, label). The settings of :data:`anjian.core.node_settings.rules.RULES` (read afresh
# where they are used: session and lockout limits, password rules, the base map) change in the
# console without restart; the rest are read once at start or by background work and need the
# configuration file (or environment) and a restart.
SETTINGS: list[tuple[str, str]] = [
    ("node_division", "本节点行政区划"),
    ("node_id", "节点标识"),
    ("data_dir", "数据目录"),
    ("database_url", "数据库"),
    ("host", "监听地址"),
    ("port", "监听端口"),
    ("session_idle_minutes", "会话空闲超时（分钟）"),
    ("session_max_hours", "会话最长时间（小时）"),
    ("lockout_threshold", "登录失败锁定次数"),
    ("lockout_window_minutes", "失败计数时间窗（分钟）"),
    ("lockout_minutes", "锁定时长（分钟）"),
    ("login_rate_per_ip", "每地址每分钟登录次数"),
    ("login_rate_per_account", "每账户每分钟登录次数"),
    ("password_min_length", "密码最短长度"),
    ("password_max_age_days", "密码有效期（天）"),
    ("mfa_required_roles", "须双因素认证的角色"),
    ("audit_retention_days", "审计记录保存（天）"),
    ("audit_seal_minutes", "审计链封印间隔（分钟）"),
    ("cookie_secure", "Cookie Secure 标记"),
    ("trusted_proxies", "可信反向代理"),
    ("map_tile_url", "底图瓦片地址"),
    ("map_attribution", "底图版权说明"),
    ("sync_forwarder", "向上级转发"),
    ("sync_interval_s", "转发轮询间隔（秒）"),
    ("outbox_retention_days", "发件箱保留（天）"),
    ("background_jobs", "后台定时任务"),
    ("mqtt_url", "MQTT 服务器"),
    ("mqtt_ingest", "MQTT 接入"),
    ("monitoring_retention_days", "监测原始数据保留（天）"),
    ("alarm_ack_minutes_level1", "严重报警（高高/低低）确认时限（分钟）"),
    ("alarm_ack_minutes_level2", "预警（高/低）确认时限（分钟）"),
    ("risk_lec_convention", "LEC 分级标准"),
    ("risk_ls_convention", "LS 分级标准"),
    ("accident_missing_as_deaths", "失踪人数计入死亡（暂定等级）"),
]
_SECRET_URLS = {"database_url", "mqtt_url"}


def _shown(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "（空）"
    text = str(value)
    if name in _SECRET_URLS and "@" in text:  # credentials in a URL are not shown
        scheme, _, rest = text.partition("://")
        text = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return text or "（空）"


def setting_views(
    settings: Settings, toml_keys: set[str], states: list[SettingState]
) -> list[SettingView]:
    """The settings the page lists, each with where its value came from: the environment
    variable, the console, the configuration file, or the default."""
    runtime = {s.key: s for s in states}
    views = []
    for name, label in SETTINGS:
        env = f"ANJIAN_{name.upper()}"
        state = runtime.get(name)
        value = state.value if state else getattr(settings, name)
        if env in os.environ:
            source = f"环境变量 {env}"
        elif state and state.console:
            when = state.updated_at.astimezone(CST) if state.updated_at else None
            source = f"控制台（{state.updated_by}，{when:%Y-%m-%d %H:%M}）" if when else "控制台"
        elif name in toml_keys:
            source = "配置文件"
        else:
            source = "默认值"
        views.append(
            SettingView(
                name,
                label,
                _shown(name, value),
                source,
                runtime=state is not None,
                pinned=bool(state and state.pinned_by),
                console=bool(state and state.console),
                raw=str(value),
                hint=state.hint if state else "",
            )
        )
    return views


def _toml_keys() -> set[str]:
    import tomllib

    path = config_path()
    if not path.is_file():
        return set()
    try:
        return set(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError):
        return set()


def _settings_page(
    request: Request,
    ctx: Context,
    errors: dict[str, str] | None = None,
    sent: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = get_settings()
    views = setting_views(settings, _toml_keys(), node_settings.setting_states(ctx.db))
    if sent:  # a refused value stays in its field
        views = [replace(v, raw=sent[v.name]) if v.name in sent else v for v in views]
    return page(
        request,
        ctx,
        "console/admin_settings.html",
        {
            "settings": views,
            "config_file": str(config_path()),
            "may_change": may_change(ctx.user.role, ctx.user.division_code, settings.node_division),
            "errors": errors or {},
            "ttl_s": int(node_settings.TTL_S),
            "done": request.query_params.get("done", ""),
        },
        active="admin_settings",
        status_code=status_code,
    )


@router.get("/admin/settings")
def settings_page(request: Request, ctx: AdminPageCtx) -> Response:
    """节点设置: this node's settings, where each comes from, and a form for those that change
    at run time."""
    return _settings_page(request, ctx)


SettingKey = Annotated[str, Path(max_length=64, pattern=r"^[a-z_0-9]+$")]


@router.post("/admin/settings/{key}")
async def settings_save(request: Request, key: SettingKey, ctx: AdminPageCtx) -> Response:
    """Set one run-time setting (audited); a refused value is shown at its field."""
    form = await posted_form(request)
    value = form.get("value", "")
    try:
        node_settings.set_setting(ctx.db, ctx.actor, ctx.user, key, value)
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        return _settings_page(request, ctx, errors, {key: value}, exc.status)
    return RedirectResponse(f"/admin/settings?done=saved#setting-{key}", status_code=303)


@router.post("/admin/settings/{key}/reset")
async def settings_reset(request: Request, key: SettingKey, ctx: AdminPageCtx) -> Response:
    """恢复默认: drop the console's value of one setting (audited)."""
    await posted_form(request)
    try:
        node_settings.clear_setting(ctx.db, ctx.actor, ctx.user, key)
    except AnjianError as exc:
        return _settings_page(request, ctx, refused(request, ctx, exc), None, exc.status)
    return RedirectResponse(f"/admin/settings?done=reset#setting-{key}", status_code=303)
