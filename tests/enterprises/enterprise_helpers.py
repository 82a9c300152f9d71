"""Helpers of the enterprise tests: fresh credit codes and workbooks in memory."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook

from anjian.enterprises.excel import HEADERS
from anjian.enterprises.rules import compose_uscc

_serials = itertools.count(1)


def make_uscc(division: str = "140622") -> str:
    """A valid credit code (GB 32100) registered in ``division``, new on every call."""
    return compose_uscc(division, f"MA{next(_serials):06d}")


def xlsx(rows: Iterable[Iterable[Any]], headers: Iterable[str] = HEADERS) -> bytes:
    """A workbook in memory: one header row, then ``rows``."""
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sheet_rows(data: bytes) -> list[tuple[Any, ...]]:
    """Every row (header first) of the first sheet of an .xlsx."""
    ws = load_workbook(BytesIO(data)).worksheets[0]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def row(**cells: Any) -> list[Any]:
    """A data row in the export layout, by header name; unspecified cells empty."""
    return [cells.get(h) for h in HEADERS]
