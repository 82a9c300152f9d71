"""Enforcement documents as PDF, where a PDF renderer is installed: the document's recorded
content laid out as a printable HTML page (A4, 仿宋 body, 宋体 title, as the .docx) and printed
by a headless Chromium. ``ANJIAN_PDF_RENDERER`` names the browser; unset, one named
``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH is used; ``off`` turns PDF
off. Issued documents never change, so each PDF is printed once and kept by the digest of its
page; one print runs at a time, within a time limit, so a burst of downloads cannot stall the
node."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from anjian.config import get_settings, private_dir
from anjian.core.crypto import sm3
from anjian.core.errors import AnjianError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT_S = 60
QUEUE_WAIT_S = 30
_printing = threading.BoundedSemaphore(1)
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "enforcement"),
    autoescape=select_autoescape(default=True),
)


class PdfUnavailable(AnjianError):
    """No renderer on this node, or it is busy or failed: the .docx is always there."""

    status = 503


def renderer() -> str | None:
    """The browser that prints PDFs on this node, or None when PDF is off or none is found."""
    configured = get_settings().pdf_renderer.strip()
    if configured.lower() == "off":
        return None
    if configured:
        found = shutil.which(configured)
        return found if found and os.access(found, os.X_OK) else None
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_page(content: dict[str, Any]) -> str:
    """The printable HTML page of a document's content (escaped: nothing in it runs or loads)."""
    return _env.get_template("document_print.html").render(c=content)


def render_pdf(content: dict[str, Any]) -> bytes:
    """The PDF of a document's content; 503 when no renderer is installed, it is busy beyond
    :data:`QUEUE_WAIT_S` or it fails."""
    browser = renderer()
    if browser is None:
        raise PdfUnavailable(
            "本节点未安装 PDF 生成程序，请下载 Word 文档 (no PDF renderer: set "
            "ANJIAN_PDF_RENDERER or install chromium)"
        )
    page = print_page(content)
    cached = private_dir(get_settings().data_dir / "cache" / "pdf") / f"{sm3(page.encode())}.pdf"
    if cached.is_file():
        return cached.read_bytes()
    if not _printing.acquire(timeout=QUEUE_WAIT_S):
        raise PdfUnavailable("PDF 生成繁忙，请稍后再试 (PDF renderer busy)")
    try:
        data = _print(browser, page)
    finally:
        _printing.release()
    partial = cached.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(cached)
    return data


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # all gone already
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _print(browser: str, page: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="anjian-pdf-") as tmp:
        source, target = Path(tmp) / "document.html", Path(tmp) / "document.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # the page is our own, escaped, with no script and no network
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            # Its own process group, output nowhere: a browser leaves helper processes behind,
            # and those are killed with it, at the end or at the time limit.
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            raise PdfUnavailable("PDF 生成失败，请下载 Word 文档 (PDF renderer failed)") from None
        try:
            proc.wait(timeout=PRINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(
                "PDF 生成超时，请下载 Word 文档 (PDF renderer timed out)"
            ) from None
        finally:
            _kill_group(proc)
        data = target.read_bytes() if target.is_file() else b""
        if not data.startswith(b"%PDF-"):
            raise PdfUnavailable("PDF 生成失败，请下载 Word 文档 (PDF renderer failed)")
        return data
