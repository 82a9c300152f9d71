"""Writing Excel workbooks (ledgers, registries) safely: text stays text, dates look like dates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_CST = ZoneInfo("Asia/Shanghai")


def text_cell(ws: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    """A cell that holds ``value`` as text, never as a formula."""
    cell = WriteOnlyCell(ws, value=value)
    # openpyxl stores any string starting with "=" as a formula: a name such as
    # "=HYPERLINK(...)" must stay text (spreadsheet formula injection).
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def _cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, str):
        return text_cell(ws, value)
    if isinstance(value, datetime):
        # Excel has no time zones: show Beijing time, as officials read it.
        cell = WriteOnlyCell(ws, value=value.astimezone(_CST).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def write_sheet(
    title: str, columns: Sequence[tuple[str, int]], rows: Iterable[Sequence[Any]]
) -> bytes:
    """One sheet as .xlsx bytes: bold frozen headers ``(header, width)``, then the rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for i, (_header, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name, _width in columns:
        cell = text_cell(ws, name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for values in rows:
        ws.append([_cell(ws, v) for v in values])
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
