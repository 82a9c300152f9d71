"""Excel workbooks: writing ledgers and registries safely (text stays text, dates look like
dates, control characters never break a download), and reading the cells of an uploaded
sheet (the sheet itself is read by ``anjian.core.xlsx_reader``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Any, Protocol, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from anjian.core.clock import CST
from anjian.core.errors import AnjianError


def text_cell(ws: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    """A cell that holds ``value`` as text, never as a formula, without the control
    characters an .xlsx cannot hold."""
    # openpyxl refuses C0 controls other than tab and line breaks: one stored before they
    # were refused on input must not make a whole export fail, so it is left out.
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
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
        cell = WriteOnlyCell(ws, value=value.astimezone(CST).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def write_sheet(
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
) -> bytes:
    """One sheet as .xlsx bytes: bold frozen headers ``(header, width)``, then the rows;
    ``caption``: a bold line above the headers (what the table covers)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for i, (_header, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3" if caption else "A2"
    bold = Font(bold=True)
    if caption:
        line = text_cell(ws, caption)
        line.font = bold
        ws.append([line])
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


# --- reading -----------------------------------------------------------------------------------

HEADER_ROW = 1


def is_blank(raw: Any) -> bool:
    """An empty cell (nothing, or only spaces)."""
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def cell_text(raw: Any) -> str:
    """A cell's value as the text the user typed: 140622.0 (a code in a general cell) is
    "140622", a date is its ISO form, and surrounding spaces go."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    return str(raw).strip()


class HeaderColumn(Protocol):
    """A column of an import template as its header row knows it: its header, whether it must
    be there (and filled)."""

    @property
    def header(self) -> str: ...

    @property
    def required(self) -> bool: ...


class SheetColumn(HeaderColumn, Protocol):
    """A column of an import template: its header, the field it fills, whether it must be
    filled."""

    @property
    def field(self) -> str: ...


C = TypeVar("C", bound=SheetColumn)


def read_row(
    values: tuple[Any, ...],
    positions: dict[str, int],
    columns: Iterable[C],
    convert: Callable[[C, Any], Any],
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One row's cells by field, each converted by ``convert`` (its ValueError is the cell's
    problem), and the problems as (column, message): a required cell left blank, a cell
    ``convert`` refuses. Blank optional cells are left out; every cell is checked, so one pass
    reports everything wrong with the row."""
    record: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for col in columns:
        at = positions.get(col.header)
        raw = values[at] if at is not None and at < len(values) else None
        if is_blank(raw):
            if col.required:
                problems.append((col.header, "必填 (required)"))
            continue
        try:
            record[col.field] = convert(col, raw)
        except ValueError as exc:
            problems.append((col.header, str(exc)))
    return record, problems


def header_name(title: Any) -> str:
    """A header cell as its column name: templates mark required columns with "*" and may add
    a hint in brackets, so "频次(每日/每周/每月)*" is 频次."""
    name = str(title).strip().rstrip("*＊").strip()
    for bracket in ("(", "（"):
        name = name.split(bracket, 1)[0]
    return name.strip()


def header_positions(
    header: list[Any], known: Iterable[str], required: Iterable[str]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The column index of each ``known`` header in the sheet's header row, and the problems
    with it as (column, message): a column given twice, a ``required`` column missing.
    Unknown columns are ignored."""
    names = set(known)
    positions: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for i, title in enumerate(header):
        if title is None:
            continue
        name = header_name(title)
        if name in names:
            if name in positions:
                problems.append((name, "列重复 (duplicate column)"))
            positions[name] = i
    problems += [
        (name, "缺少必填列 (required column missing)") for name in required if name not in positions
    ]
    return positions, problems


class ImportProblem(BaseModel):
    """One problem of an import file, by spreadsheet row and column header."""

    row: int
    column: str
    message: str


def column_positions(
    header: list[Any],
    columns: Sequence[HeaderColumn],
    errors: list[ImportProblem],
    *,
    rows: int,
    nothing: str,
) -> dict[str, int]:
    """The column index of each of a template's ``columns`` in the sheet's header row. Added to
    ``errors``: a column given twice or a required one missing, on the header row; a right
    header with no data ``rows`` under it, as "文件中没有<nothing>" on the first data row."""
    positions, problems = header_positions(
        header, (c.header for c in columns), (c.header for c in columns if c.required)
    )
    errors += [ImportProblem(row=HEADER_ROW, column=c, message=m) for c, m in problems]
    if not errors and not rows:
        errors.append(
            ImportProblem(
                row=HEADER_ROW + 1, column="", message=f"文件中没有{nothing} (no data rows)"
            )
        )
    return positions


class ImportReport(BaseModel):
    """Why an import file was refused: nothing was imported (the API's 422 body)."""

    detail: str
    errors: list[ImportProblem]


class ImportResult(BaseModel):
    """A successful import: how many records, and their IDs where the caller needs them."""

    imported: int
    ids: list[int] = []


@dataclass
class ImportOutcome:
    """What an import did: the rows it read and the records it made, or every problem found
    (and nothing made). Each import says what it made in :meth:`summary`."""

    rows: int = 0
    ids: list[int] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def detail(self) -> str:
        """One-line summary, Chinese first."""
        if self.ok:
            return self.summary()
        bad_rows = len({e.row for e in self.errors})
        return (
            f"导入文件有 {len(self.errors)} 处错误（涉及 {bad_rows} 行），未导入任何数据 "
            f"({len(self.errors)} problems in {bad_rows} rows; nothing was imported)"
        )

    def summary(self) -> str:
        """What a successful import made, Chinese first."""
        return f"已导入 {len(self.ids)} 条记录 (imported {len(self.ids)} records)"


def import_rows(
    session: Session,
    body: Sequence[tuple[int, tuple[Any, ...]]],
    positions: dict[str, int],
    columns: Sequence[C],
    convert: Callable[[C, Any], Any],
    make: Callable[[dict[str, Any]], int],
    outcome: ImportOutcome,
) -> None:
    """Make one record per row with ``make`` (its cells by field, through ``convert``; it
    validates and registers as the API does, answering the new id), all or none: each row in a
    savepoint of its own so that every wrong row is reported — a cell, a schema field (its
    ValidationError) or a refusal of the service (its AnjianError) named by the column header
    — and if any is wrong nothing is kept."""
    by_field = {c.field: c for c in columns}

    def problem(number: int, name: str, message: str) -> ImportProblem:
        col = by_field.get(name)
        return ImportProblem(row=number, column=col.header if col else name, message=message)

    everything = session.begin_nested()
    for number, values in body:
        record, problems = read_row(values, positions, columns, convert)
        outcome.errors += [ImportProblem(row=number, column=c, message=m) for c, m in problems]
        if problems:
            continue
        row_savepoint = session.begin_nested()
        try:
            outcome.ids.append(make(record))
            row_savepoint.commit()
        except ValidationError as exc:
            row_savepoint.rollback()
            outcome.errors += [
                problem(number, str(err["loc"][0]) if err["loc"] else "", err["msg"])
                for err in exc.errors()
            ]
        except AnjianError as exc:
            row_savepoint.rollback()
            outcome.errors.append(problem(number, exc.field or "", exc.message))
    if outcome.errors:
        everything.rollback()
        outcome.ids.clear()
    else:
        everything.commit()
