"""The page kit of the web console (zh-CN): rendering, layout, sessions, forms, the shared
templates and macros, and locally served assets. It knows no domain: the pages that gather
domains are in :mod:`anjian.console`, each domain's own pages in its ``pages.py``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from anjian.core.errors import AnjianError

STATIC_DIR = Path(__file__).parent / "static"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
API_PREFIXES = ("/api/", "/healthz", "/docs", "/redoc", "/openapi.json", "/static/")


def is_page(request: Request) -> bool:
    """Whether a request is for a console page (HTML) rather than the API."""
    return not request.url.path.startswith(API_PREFIXES)


def mount_kit(app: FastAPI) -> None:
    """Serve the static assets and answer console pages' errors as pages: the login page for a
    missing session, MFA enrolment when due, an error page (not JSON) for a refused or invalid
    page request. The pages themselves are mounted by :func:`anjian.console.mount_console`."""
    from anjian.web.render import render, zh
    from anjian.web.session import LoginRequired, MfaEnrolmentRequired, login_url

    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def _redirect(request: Request, url: str) -> Response:
        if request.headers.get("hx-request"):
            # htmx would swap the login page into a fragment: make it navigate instead.
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    async def _login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return _redirect(request, login_url(exc.next_url, exc.reason))

    async def _mfa_required(request: Request, _exc: Exception) -> Response:
        return _redirect(request, "/mfa/enrol")

    api_error = app.exception_handlers.get(AnjianError)
    api_validation = app.exception_handlers.get(RequestValidationError)

    def _error_page(request: Request, status: int, message: str) -> Response:
        titles = {403: "无权访问", 404: "未找到", 409: "冲突", 422: "输入有误"}
        return render(
            request,
            "error.html",
            {"status": status, "title": titles.get(status, "出错了"), "message": message},
            status,
        )

    async def _anjian_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AnjianError)
        if not is_page(request) and api_error is not None:
            return await api_error(request, exc)
        if exc.denies_access and request.method in WRITE_METHODS and api_error is not None:
            await api_error(request, exc)  # for its audit of the refused write; HTML instead
        return _error_page(request, exc.status, zh(exc.message))

    async def _validation_error(request: Request, exc: Exception) -> Response:
        if is_page(request) or api_validation is None:
            return _error_page(request, 422, "请求参数无效")
        return await api_validation(request, exc)

    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(MfaEnrolmentRequired, _mfa_required)
    app.add_exception_handler(AnjianError, _anjian_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
