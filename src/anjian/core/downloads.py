"""File downloads of the API: Excel workbooks named for the people who open them."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Response

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CST = ZoneInfo("Asia/Shanghai")


def xlsx_response(data: bytes, ascii_stem: str, chinese_stem: str) -> Response:
    """An .xlsx attachment named ``<chinese_stem>_<date>.xlsx`` (the date officials see:
    Beijing time), with ``<ascii_stem>.xlsx`` for clients that cannot read UTF-8 names."""
    name = f"{chinese_stem}_{datetime.now(_CST):%Y%m%d}.xlsx"
    disposition = f"attachment; filename=\"{ascii_stem}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(
        content=data, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": disposition}
    )
