"""Shared page helpers: the Jinja2 environment, display filters (Asia/Shanghai times, Chinese
messages) and the Content-Security-Policy of console pages."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response

from anjian.core.clock import CST
from anjian.core.node_settings.service import effective_settings
from anjian.core.transport import scope_is_https, warn_unencrypted
from anjian.web.offloop import page_routes

WEB_DIR = Path(__file__).parent
TEMPLATE_DIR = WEB_DIR / "templates"
# Base map: an intranet tile server or 天地图 with its key, e.g.
# http://tiles.example.gov.cn/{z}/{x}/{y}.png. Unset = no tiles (markers on a blank canvas).

_loader = ChoiceLoader([FileSystemLoader(TEMPLATE_DIR)])
_env = Environment(loader=_loader, autoescape=select_autoescape(default=True), auto_reload=True)
templates = Jinja2Templates(env=_env)


def add_template_dir(path: Path) -> None:
    """Let a domain's ``pages.py`` serve templates from its own ``templates/`` folder."""
    if not any(
        isinstance(x, FileSystemLoader) and str(path) in x.searchpath for x in _loader.loaders
    ):
        _loader.loaders.append(FileSystemLoader(path))


def template_global(name: str, value: Any) -> None:
    """Offer ``value`` to every template as ``name`` (e.g. a domain's "can this node print
    PDF" check)."""
    _env.globals[name] = value


def pages_router(templates: Path) -> APIRouter:
    """The router of a package's console pages (kept out of the OpenAPI), their templates
    served from the folder ``templates``."""
    add_template_dir(templates)
    return page_routes()


# --- filters -----------------------------------------------------------------------------------

# The English gloss at the end of a message: half-width parentheses holding no CJK character.
_ENGLISH_TAIL = re.compile(r"\s*\([^()\u3000-\u9fff\uff00-\uffef]*\)\s*$")


def zh(message: str | None) -> str:
    """The Chinese part of a bilingual service message ("中文 (English)")."""
    if not message:
        return ""
    return _ENGLISH_TAIL.sub("", message) or message


def cst(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time as Beijing time (Asia/Shanghai) for display."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(CST).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def cst_ms(value: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An epoch-millisecond time (as gateways send it) as Beijing time for display."""
    if value is None:
        return ""
    return datetime.fromtimestamp(value / 1000, CST).strftime(fmt)


def query(base: dict[str, Any], **changes: Any) -> str:
    """A query string from ``base`` with ``changes`` applied; empty values are dropped."""
    merged = {**base, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def as_json(value: Any) -> str:
    """Readable JSON (Chinese kept as is) for display; autoescaping makes it safe in HTML."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def count(total: int) -> str:
    """A list's number of matches as a page shows it: 约 N when it is an estimate (past the
    count limit, see ``core.paging.Total``)."""
    return str(total) if getattr(total, "exact", True) else f"约 {total}"


def unencrypted(request: Request) -> bool:
    """Whether a page shows the banner that the connection is not encrypted."""
    return warn_unencrypted(scope_is_https(request.scope), request.url.hostname)


_env.filters["zh"] = zh
_env.filters["json"] = as_json
_env.filters["cst"] = cst
_env.filters["cst_ms"] = cst_ms
_env.filters["count"] = count
_env.globals["query"] = query
_env.globals["unencrypted"] = unencrypted


# --- map tiles ---------------------------------------------------------------------------------


def map_tiles() -> dict[str, str] | None:
    """The configured base-map tile layer, or None (then maps draw markers without tiles)."""
    settings = effective_settings()
    url = settings.map_tile_url.strip()
    if not url:
        return None
    return {"url": url, "attribution": settings.map_attribution.strip()}


def _tile_origin() -> str:
    tiles = map_tiles()
    if not tiles:
        return ""
    parts = urlsplit(tiles["url"])
    host = parts.netloc
    if "{" in host:  # Leaflet subdomains (t{s}.example.cn): CSP wildcards only a whole label
        host = "*." + host.split(".", 1)[1] if "." in host else ""
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def console_csp() -> str:
    """The Content-Security-Policy of console pages. It also enforces at run time that pages
    load nothing from outside the node (intranets have no CDN): scripts only from /static. The
    other security headers come with every response (:mod:`anjian.core.transport`)."""
    img = " ".join(x for x in ("'self'", "data:", _tile_origin()) if x)
    return (
        f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a template with the console's Content-Security-Policy."""
    return templates.TemplateResponse(
        request,
        name,
        context,
        status_code=status_code,
        headers={"Content-Security-Policy": console_csp()},
    )


# Tabler Icons (MIT), inlined so pages load no icon font; paths of the 24×24 stroke icons.
ICONS: dict[str, str] = {
    "home": '<path d="M5 12l-2 0l9 -9l9 9l-2 0"/><path d="M5 12v7a2 2 0 0 0 2 2h10a2 2 0 0 0 2 -2v-7"/>'
    '<path d="M9 21v-6a2 2 0 0 1 2 -2h2a2 2 0 0 1 2 2v6"/>',
    "enterprises": '<path d="M3 21h18"/><path d="M5 21v-12l5 4v-4l5 4h4"/>'
    '<path d="M19 21v-8l-1.436 -9.574a.5 .5 0 0 0 -.495 -.426h-1.145a.5 .5 0 0 0 -.494 .418l-1.43 8.582"/>'
    '<path d="M9 17h1"/><path d="M14 17h1"/>',
    "map": '<path d="M3 7l6 -3l6 3l6 -3v13l-6 3l-6 -3l-6 3v-13"/><path d="M9 4v13"/><path d="M15 7v13"/>',
    # stack-2 (一张图: layers)
    "emergency": '<path d="M8 16v-4a4 4 0 0 1 8 0v4"/><path d="M3 12h1m8 -9v1m8 8h1m-15.4 -6.4l.7 .7'
    'm12.1 -.7l-.7 .7"/><path d="M6 17a1 1 0 0 1 1 -1h10a1 1 0 0 1 1 1v2a1 1 0 0 1 -1 1h-10a1 1 0 0 1 -1 -1z"/>',
    "screen": '<path d="M3 5a1 1 0 0 1 1 -1h16a1 1 0 0 1 1 1v10a1 1 0 0 1 -1 1h-16a1 1 0 0 1 -1 -1z"/>'
    '<path d="M7 20h10"/><path d="M9 16v4"/><path d="M15 16v4"/>',
    "onemap": '<path d="M12 4l-8 4l8 4l8 -4l-8 -4"/><path d="M4 12l8 4l8 -4"/><path d="M4 16l8 4l8 -4"/>',
    "audit": '<path d="M11.46 20.846a12 12 0 0 1 -7.96 -14.846a12 12 0 0 0 8.5 -3a12 12 0 0 0 8.5 3'
    'a12 12 0 0 1 -.09 7.06"/><path d="M15 19l2 2l4 -4"/>',
    "logout": '<path d="M14 8v-2a2 2 0 0 0 -2 -2h-7a2 2 0 0 0 -2 2v12a2 2 0 0 0 2 2h7a2 2 0 0 0 2 -2v-2"/>'
    '<path d="M9 12h12l-3 -3"/><path d="M18 15l3 -3"/>',
    "download": '<path d="M4 17v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2 -2v-2"/><path d="M7 11l5 5l5 -5"/>'
    '<path d="M12 4l0 12"/>',
    "upload": '<path d="M4 17v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2 -2v-2"/><path d="M7 9l5 -5l5 5"/>'
    '<path d="M12 4l0 12"/>',
    "edit": '<path d="M7 7h-1a2 2 0 0 0 -2 2v9a2 2 0 0 0 2 2h9a2 2 0 0 0 2 -2v-1"/>'
    '<path d="M20.385 6.585a2.1 2.1 0 0 0 -2.97 -2.97l-8.415 8.385v3h3l8.385 -8.415z"/>'
    '<path d="M16 5l3 3"/>',
    "search": '<path d="M10 10m-7 0a7 7 0 1 0 14 0a7 7 0 1 0 -14 0"/><path d="M21 21l-6 -6"/>',
    "user": '<path d="M8 7a4 4 0 1 0 8 0a4 4 0 0 0 -8 0"/><path d="M6 21v-2a4 4 0 0 1 4 -4h4a4 4 0 0 1 4 4v2"/>',
    "x": '<path d="M18 6l-12 12"/><path d="M6 6l12 12"/>',
    # Tabler icons: chart-pie (风险分级), alert-triangle (隐患治理), flame (重大危险源),
    # layout-dashboard (双重预防)
    "risk": '<path d="M10 3.2a9 9 0 1 0 10.8 10.8a1 1 0 0 0 -1 -1h-6.8a2 2 0 0 1 -2 -2v-7a.9 .9 0 0 0 -1 -.8"/>'
    '<path d="M15 3.5a9 9 0 0 1 5.5 5.5h-4.5a1 1 0 0 1 -1 -1v-4.5"/>',
    "hazards": '<path d="M12 9v4"/><path d="M10.363 3.591l-8.106 13.534a1.914 1.914 0 0 0 1.636 2.871'
    'h16.214a1.914 1.914 0 0 0 1.636 -2.87l-8.106 -13.536a1.914 1.914 0 0 0 -3.274 0z"/><path d="M12 16h.01"/>',
    # clipboard-check (排查清单与自查任务)
    "inspections": '<path d="M9 5h-2a2 2 0 0 0 -2 2v12a2 2 0 0 0 2 2h10a2 2 0 0 0 2 -2v-12a2 2 0 0 0 -2 -2h-2"/>'
    '<path d="M9 5a2 2 0 0 1 2 -2h2a2 2 0 0 1 2 2a2 2 0 0 1 -2 2h-2a2 2 0 0 1 -2 -2z"/><path d="M9 14l2 2l4 -4"/>',
    "major_hazards": '<path d="M12 12c2 -2.96 0 -7 -1 -8c0 3.038 -1.773 4.741 -3 6c-1.226 1.26 -2 3.24 -2 5'
    'a6 6 0 1 0 12 0c0 -1.532 -1.056 -3.94 -2 -5c-1.786 3 -2.791 3 -4 2z"/>',
    "dual_prevention": '<path d="M5 4h4a1 1 0 0 1 1 1v6a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1v-6a1 1 0 0 1 1 -1"/>'
    '<path d="M5 16h4a1 1 0 0 1 1 1v2a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1v-2a1 1 0 0 1 1 -1"/>'
    '<path d="M15 12h4a1 1 0 0 1 1 1v6a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1v-6a1 1 0 0 1 1 -1"/>'
    '<path d="M15 4h4a1 1 0 0 1 1 1v2a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1v-2a1 1 0 0 1 1 -1"/>',
    # speakerphone (通知指令) and sitemap (节点状态)
    "directives": '<path d="M18 8a3 3 0 0 1 0 6"/><path d="M10 8v11a1 1 0 0 1 -1 1h-1a1 1 0 0 1 -1 -1v-5"/>'
    '<path d="M12 8h0l4.524 -3.77a.9 .9 0 0 1 1.476 .692v12.156a.9 .9 0 0 1 -1.476 .692l-4.524 -3.77'
    'h-8a1 1 0 0 1 -1 -1v-4a1 1 0 0 1 1 -1h8"/>',
    "nodes": '<path d="M3 17a2 2 0 0 1 2 -2h2a2 2 0 0 1 2 2v2a2 2 0 0 1 -2 2h-2a2 2 0 0 1 -2 -2z"/>'
    '<path d="M15 17a2 2 0 0 1 2 -2h2a2 2 0 0 1 2 2v2a2 2 0 0 1 -2 2h-2a2 2 0 0 1 -2 -2z"/>'
    '<path d="M9 5a2 2 0 0 1 2 -2h2a2 2 0 0 1 2 2v2a2 2 0 0 1 -2 2h-2a2 2 0 0 1 -2 -2z"/>'
    '<path d="M6 15v-1a2 2 0 0 1 2 -2h8a2 2 0 0 1 2 2v1"/><path d="M12 9l0 3"/>',
    # headset (服务台)
    "desk": '<path d="M4 14v-3a8 8 0 1 1 16 0v3"/><path d="M18 19c0 1.657 -2.686 3 -6 3"/>'
    '<path d="M4 14a2 2 0 0 1 2 -2h1a2 2 0 0 1 2 2v3a2 2 0 0 1 -2 2h-1a2 2 0 0 1 -2 -2v-3z"/>'
    '<path d="M15 14a2 2 0 0 1 2 -2h1a2 2 0 0 1 2 2v3a2 2 0 0 1 -2 2h-1a2 2 0 0 1 -2 -2v-3z"/>',
    # activity-heartbeat (在线监测)
    "monitoring": '<path d="M3 12h4.5l1.5 -6l4 12l2 -9l1.5 3h4.5"/>',
    # ambulance (事故报送) and chart-bar (事故统计)
    "accidents": '<path d="M5 17m-2 0a2 2 0 1 0 4 0a2 2 0 1 0 -4 0"/><path d="M17 17m-2 0a2 2 0 1 0 4 0'
    'a2 2 0 1 0 -4 0"/><path d="M5 17h-2v-11a1 1 0 0 1 1 -1h9v12m-4 0h6m4 0h2v-6h-8m0 -5h5l3 5"/>'
    '<path d="M6 10h4m-2 -2v4"/>',
    "accident_statistics": '<path d="M3 13a1 1 0 0 1 1 -1h4a1 1 0 0 1 1 1v6a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1z"/>'
    '<path d="M15 9a1 1 0 0 1 1 -1h4a1 1 0 0 1 1 1v10a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1z"/>'
    '<path d="M9 5a1 1 0 0 1 1 -1h4a1 1 0 0 1 1 1v14a1 1 0 0 1 -1 1h-4a1 1 0 0 1 -1 -1z"/>'
    '<path d="M4 20h14"/>',
    # gavel (行政执法)
    "enforcement": '<path d="M13 10l7.383 7.418c.823 .82 .823 2.148 0 2.967a2.11 2.11 0 0 1 -2.976 0'
    'l-7.407 -7.385"/><path d="M6 9l4 4"/><path d="M13 10l-4 -4"/><path d="M3 21h7"/>'
    '<path d="M6.793 15.793l-3.586 -3.586a1 1 0 0 1 0 -1.414l2.293 -2.293l.5 .5l3 -3l-.5 -.5'
    "l2.293 -2.293a1 1 0 0 1 1.414 0l3.586 3.586a1 1 0 0 1 0 1.414l-2.293 2.293l-.5 -.5l-3 3"
    'l.5 .5l-2.293 2.293a1 1 0 0 1 -1.414 0z"/>',
    "shield": '<path d="M12 3a12 12 0 0 0 8.5 3a12 12 0 0 1 -8.5 15a12 12 0 0 1 -8.5 -15a12 12 0 0 0 8.5 -3"/>',
}
_env.globals["ICONS"] = ICONS
