"""Enforcement documents as PDF where the node has a renderer (a headless Chromium): printed
from what was issued, once (kept by the page's digest), offered on the pages only where it
works; without a renderer, or when it fails or hangs, a clear 503 in a bounded time and the
.docx still there."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anjian.config import get_settings
from anjian.enforcement import pdf_render
from enforcement_world import API, officer, plan_inspection


def _require(condition: bool, why: str) -> None:
    """Skip locally, fail in CI (which installs chromium), when the test cannot run."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why} (required in CI)")
    pytest.skip(why)


@pytest.fixture
def renderer_set(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set ``ANJIAN_PDF_RENDERER`` for one test."""

    def use(value: str) -> None:
        monkeypatch.setenv("ANJIAN_PDF_RENDERER", value)
        get_settings.cache_clear()

    yield use
    monkeypatch.delenv("ANJIAN_PDF_RENDERER", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def record(personas: Any) -> Any:
    """A 现场检查记录 issued by 应县 for an inspection under way; its id in ``node.document``."""
    node = personas
    node.headers = node.login("yingxian")
    node.officers = [officer(node, "yingxian", "C1"), officer(node, "zf1", "C2")]
    node.inspection = plan_inspection(node).json()["id"]
    node.client.post(f"{API}/inspections/{node.inspection}/start", headers=node.headers)
    r = node.client.post(
        f"{API}/inspections/{node.inspection}/documents",
        headers=node.headers,
        json={"kind": "inspection_record"},
    )
    assert r.status_code == 201, r.text
    node.document = r.json()
    return node


def test_the_print_page_escapes_what_was_recorded_and_loads_nothing() -> None:
    page = pdf_render.print_page(
        {
            "agency": "应县应急管理局",
            "title": "现场检查记录",
            "number": "应县应急检记〔2026〕1号",
            "fields": [["被检查单位", '<script>alert(1)</script><img src="http://x/">']],
            "body": ["检查情况：正常"],
            "items": ["MK01 超能力生产：符合"],
            "signatures": ["执法人员（签名）："],
        }
    )
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert '<img src="http://x/">' not in page
    assert "default-src 'none'" in page
    assert "MK01 超能力生产：符合" in page and "应县应急检记〔2026〕1号" in page


def test_a_document_as_pdf_is_printed_once(record: Any, renderer_set: Any) -> None:
    _require(pdf_render.renderer() is not None, "no chromium on this machine")
    url = f"{API}/documents/{record.document['id']}.pdf"
    r = record.client.get(url, headers=record.headers)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF-") and r.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    # Issued documents do not change: the second download is the kept file, not a new print.
    cache = get_settings().data_dir / "cache" / "pdf"
    [kept] = list(cache.glob("*.pdf"))
    renderer_set("/bin/false")  # a renderer that would fail if it were asked again
    again = record.client.get(url, headers=record.headers)
    assert again.status_code == 200 and again.content == kept.read_bytes() == r.content
    # Out of scope is the same 404 as a missing document.
    sibling = record.login("shanyin")
    assert record.client.get(url, headers=sibling).status_code == 404


def test_no_renderer_is_a_clear_503_and_the_docx_stays(record: Any, renderer_set: Any) -> None:
    renderer_set("off")
    r = record.client.get(f"{API}/documents/{record.document['id']}.pdf", headers=record.headers)
    assert r.status_code == 503 and "请下载 Word 文档" in r.json()["detail"]
    docx = record.client.get(
        f"{API}/documents/{record.document['id']}.docx", headers=record.headers
    )
    assert docx.status_code == 200 and docx.content[:2] == b"PK"


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-browser"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize("body", ["exit 1", "echo not a pdf > /dev/null; exit 0"])
def test_a_failing_renderer_is_a_503(
    record: Any, renderer_set: Any, tmp_path: Path, body: str
) -> None:
    renderer_set(_script(tmp_path, body))
    r = record.client.get(f"{API}/documents/{record.document['id']}.pdf", headers=record.headers)
    assert r.status_code == 503 and "PDF 生成失败" in r.json()["detail"]


def test_a_hanging_renderer_does_not_stall_the_request(
    record: Any, renderer_set: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_render, "PRINT_TIMEOUT_S", 1)
    renderer_set(_script(tmp_path, "sleep 30"))
    started = time.monotonic()
    r = record.client.get(f"{API}/documents/{record.document['id']}.pdf", headers=record.headers)
    assert r.status_code == 503 and "超时" in r.json()["detail"]
    assert time.monotonic() - started < 15
