"""File downloads and uploads of the API: workbooks and documents named for the people who open
them, uploads within a size limit."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import Request, Response

from anjian.core.clock import CST
from anjian.core.errors import Invalid

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment(data: bytes, media_type: str, ascii_name: str, name: str) -> Response:
    """A file to save as ``name``, with ``ascii_name`` for clients that cannot read UTF-8
    names."""
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        content=data, media_type=media_type, headers={"Content-Disposition": disposition}
    )


def xlsx_response(data: bytes, ascii_stem: str, chinese_stem: str) -> Response:
    """An .xlsx attachment named ``<chinese_stem>_<date>.xlsx`` (the date officials see:
    Beijing time), with ``<ascii_stem>.xlsx`` for clients that cannot read UTF-8 names."""
    name = f"{chinese_stem}_{datetime.now(CST):%Y%m%d}.xlsx"
    return attachment(data, XLSX_MEDIA_TYPE, f"{ascii_stem}.xlsx", name)


def upload_bytes(data: bytes, max_bytes: int) -> bytes:
    """An uploaded file's bytes (read with one byte to spare), refused with a 422 on ``file``
    when larger than ``max_bytes``."""
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _too_large(max_bytes: int) -> Invalid:
    return Invalid(f"文件过大，最大 {max_bytes // 1024 // 1024} MB (file too large)", field="file")


async def request_bytes(request: Request, max_bytes: int) -> bytes:
    """A raw request body, read no further than ``max_bytes`` (a larger one, declared or sent,
    is refused with a 422 on ``file`` without being read to its end)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            break
    return upload_bytes(bytes(body), max_bytes)
