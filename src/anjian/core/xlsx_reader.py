"""Reading the first sheet of an uploaded .xlsx for an import, safely: every import goes
through ``read_sheet``, so a hostile spreadsheet costs each of them the same little.

An .xlsx is a zip of XML parts, and both layers can be turned into weapons: a zip bomb (a
megabyte that unpacks to gigabytes), XML entities that expand a billion times, a sheet that
declares ``A1:XFD1048576`` so that a reader trusting it walks seventeen billion empty cells, a
million empty rows. So the package is checked before anything is unpacked (total unpacked
size, compression ratio, number and kind of parts: the sizes the zip declares are the most
that will be unpacked, as ``zipfile`` stops at them), every XML part is streamed through expat
with any DTD refused before it is read, and the sheet is read from the cells it holds, never
from the size it declares. Rows count against the limit whether blank or not, and the parse
stops at the first row over it."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from typing import Any, NamedTuple
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

from anjian.core.errors import Invalid
from anjian.core.xlsx import HEADER_ROW, is_blank

MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # default bound of an import's unpacked parts, together
MAX_PARTS = 1_000  # a workbook with pictures has dozens
MAX_RATIO = 100  # sheets compress 5-20 times; a bomb a thousand times and more
RATIO_FROM_BYTES = 1024 * 1024  # small parts may compress as well as they like
MAX_COLUMNS = 256  # columns further right than IV are never read
# XML elements parsed per row allowed (a cell is two or three, its shared string two more),
# plus the styles and relationships of an ordinary file: bounds the time a file can take
# however its bytes are spent.
ELEMENTS_PER_ROW = 96
ELEMENTS_BASE = 100_000
_CHUNK = 64 * 1024
# The compression methods Excel, WPS and LibreOffice write.
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
# Number formats 27-36 and 50-58 are the built-in date and time formats of Chinese, Japanese
# and Korean Excel (ECMA-376 18.8.30), e.g. 31 is yyyy"年"m"月"d"日".
_CJK_DATE_FORMATS = frozenset((*range(27, 37), *range(50, 59)))
_COLUMN_OF = {get_column_letter(i): i - 1 for i in range(1, 16_385)}  # A..XFD, 0-based
_DIGITS = "0123456789"

UNREADABLE = "无法读取 Excel 文件，请上传 .xlsx 格式 (not a readable .xlsx workbook)"


class Sheet(NamedTuple):
    """A sheet as an import reads it: the header row's cells, and each row below it that is
    not blank as (row number as Excel shows it, its cells up to the last one filled)."""

    header: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]]


def read_sheet(data: bytes, *, max_rows: int, max_bytes: int = MAX_UNPACKED_BYTES) -> Sheet:
    """The first worksheet of an .xlsx file, checked as the module says. Refused with a 422
    on ``file``: not a readable .xlsx, more than ``MAX_PARTS`` parts, more than
    ``max_bytes`` unpacked, a part compressed like a bomb, a DTD in any XML part read, more
    than ``max_rows`` rows below the header or ``ELEMENTS_PER_ROW`` XML elements a row. Cells right of the header's last
    column are not read; needs no database."""
    # zipfile reads the whole central directory before the parts can be counted (200,000
    # empty names in 17 MB: seconds and 100 MB), so its entries' signatures are counted
    # first: an over-count at worst, as zipfile checks every entry's signature.
    if data.count(b"PK\x01\x02") > MAX_PARTS:
        raise Invalid(
            f"Excel 文件包含的部件超过 {MAX_PARTS} 个 (more than {MAX_PARTS} parts in the workbook)",
            field="file",
        )
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Invalid(UNREADABLE, field="file") from None
    with archive:
        check_parts(archive.infolist(), max_bytes)
        package = _Package(archive, (max_rows + 1) * ELEMENTS_PER_ROW + ELEMENTS_BASE)
        try:
            return _read_first_sheet(package, max_rows)
        except (
            zipfile.BadZipFile,  # a part's CRC or size is not what the zip says
            zlib.error,
            EOFError,
            expat.ExpatError,
            KeyError,  # a part the package names is missing
            IndexError,  # a shared string or style that is not there
            ValueError,  # a number, row or column reference that is none
        ):
            raise Invalid(UNREADABLE, field="file") from None


def check_parts(parts: Iterable[zipfile.ZipInfo], max_bytes: int) -> None:
    """Refuse (422 on ``file``) a package that is not plausibly a spreadsheet before anything
    in it is unpacked: parts unpacking to more than ``max_bytes`` together, a large part
    compressed more than ``MAX_RATIO`` to one, encrypted parts or a compression method no
    spreadsheet program writes."""
    total = 0
    for part in parts:
        if part.flag_bits & 0x1 or part.compress_type not in _METHODS:
            raise Invalid(UNREADABLE, field="file")
        total += part.file_size
        if total > max_bytes:
            mb = max_bytes // 1024 // 1024
            raise Invalid(
                f"Excel 文件解压后超过 {mb} MB，请拆分后导入 (the workbook unpacks to more than "
                f"{mb} MB)",
                field="file",
            )
        if part.file_size > RATIO_FROM_BYTES and part.file_size > MAX_RATIO * part.compress_size:
            raise Invalid(
                "Excel 文件压缩比异常，已拒绝 (a part of the workbook is compressed more than "
                f"{MAX_RATIO} to 1: not a spreadsheet)",
                field="file",
            )


# --- the XML parts -----------------------------------------------------------------------------


class _Done(Exception):
    """Raised by a handler that has read what it needs: the rest of the part is skipped."""


def _refuse_dtd(*_args: Any) -> None:
    raise Invalid(
        "Excel 文件含有 DTD 或实体声明，已拒绝 (XML with a DTD or entity declarations is refused)",
        field="file",
    )


@lru_cache(maxsize=512)  # a sheet has a dozen names, met millions of times
def _local(name: str) -> str:
    """An element or attribute name without its namespace (``ns}row`` is ``row``)."""
    return name[name.rfind("}") + 1 :]


class _Handler:
    """What expat calls while a part streams through it (names with their namespace)."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


class _Package:
    """A checked package whose XML parts are parsed within one budget of elements."""

    def __init__(self, package: zipfile.ZipFile, max_elements: int) -> None:
        self.zip = package
        self.max_elements = max_elements
        self.elements = 0

    def parse(self, name: str, handler: _Handler) -> None:
        """Stream the part ``name`` through ``handler``, a chunk at a time; a DOCTYPE is
        refused when expat meets it, before any of it (entities included) is read."""
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.StartElementHandler = self._counted(handler.start)
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text
        try:
            with self.zip.open(name) as stream:
                while chunk := stream.read(_CHUNK):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Done:
            pass

    def _counted(self, start: Callable[[str, dict[str, str]], None]) -> Callable[..., None]:
        def counted(name: str, attrs: dict[str, str]) -> None:
            self.elements += 1
            if self.elements > self.max_elements:
                raise Invalid(
                    f"Excel 文件内容过多（超过 {self.max_elements} 个 XML 元素），请拆分后导入 "
                    f"(more than {self.max_elements} XML elements in the workbook)",
                    field="file",
                )
            start(name, attrs)

        return counted


class _Relationships(_Handler):
    """A ``.rels`` part: each relationship's id, type and target part."""

    def __init__(self, base: str) -> None:
        self.base = base  # the folder of the part the relationships belong to
        self.by_id: dict[str, tuple[str, str]] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs["Target"]
            path = target[1:] if target.startswith("/") else posixpath.join(self.base, target)
            self.by_id[attrs["Id"]] = (attrs["Type"], posixpath.normpath(path))

    def of_type(self, kind: str) -> str | None:
        """The first target whose relationship type ends with ``/kind``."""
        return next((t for k, t in self.by_id.values() if k.endswith(f"/{kind}")), None)


def _relationships(package: _Package, part: str) -> _Relationships:
    """The relationships of ``part`` (its ``_rels/<name>.rels``; the package's for "")."""
    folder, name = posixpath.split(part)
    rels = _Relationships(folder)
    package.parse(posixpath.join(folder, "_rels", f"{name}.rels"), rels)
    return rels


class _Workbook(_Handler):
    """``workbook.xml``: the sheets' relationship ids in order, and the date system."""

    def __init__(self) -> None:
        self.sheet_ids: list[str] = []
        self.epoch = WINDOWS_EPOCH

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "sheet":
            self.sheet_ids += [v for k, v in attrs.items() if _local(k) == "id"]
        elif local == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            self.epoch = MAC_EPOCH

    def end(self, name: str) -> None:
        if _local(name) == "sheets":  # workbookPr comes before it
            raise _Done


class _Styles(_Handler):
    """``styles.xml``: which cell formats (by index) show a number as a date."""

    def __init__(self) -> None:
        self.formats: dict[int, str] = dict(BUILTIN_FORMATS)
        self.cell_formats: list[int] = []
        self.in_cell_xfs = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "numFmt":
            self.formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            self.in_cell_xfs = True
        elif local == "xf" and self.in_cell_xfs:
            self.cell_formats.append(int(attrs.get("numFmtId", 0)))

    def end(self, name: str) -> None:
        if _local(name) == "cellXfs":
            raise _Done

    def dates(self) -> list[bool]:
        """Per cell format index: does it show dates (or times)?"""
        return [
            fmt in _CJK_DATE_FORMATS or is_date_format(self.formats.get(fmt))
            for fmt in self.cell_formats
        ]


class _Strings(_Handler):
    """``sharedStrings.xml``: each string's text (rich-text runs joined, phonetic guides left
    out). Its size is bounded with the package's."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.parts: list[str] = []
        self.collecting = False
        self.in_phonetic = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "t":
            self.collecting = not self.in_phonetic
        elif local == "rPh":
            self.in_phonetic = True

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "t":
            self.collecting = False
        elif local == "rPh":
            self.in_phonetic = False
        elif local == "si":
            self.strings.append("".join(self.parts))
            self.parts = []

    def text(self, data: str) -> None:
        if self.collecting:
            self.parts.append(data)


class _Cells(_Handler):
    """The sheet part: the cells it holds, row by row, into a ``Sheet``. The first row is the
    header when it is row 1; cells right of the header's last column are skipped unread, as
    are blank cells and rows, but every row element below the header counts against
    ``max_rows``."""

    def __init__(
        self, max_rows: int, strings: list[str], dates: list[bool], epoch: datetime
    ) -> None:
        self.max_rows = max_rows
        self.strings = strings
        self.dates = dates
        self.epoch = epoch
        self.header: list[Any] | None = None
        self.rows: list[tuple[int, tuple[Any, ...]]] = []
        self.counted = 0
        self.number = 0  # the current row's number
        self.width = MAX_COLUMNS  # columns read in the current row
        self.cells: dict[int, Any] = {}
        self.column = -1
        self.kind = "n"
        self.style = 0
        self.keep = False  # is the current cell within the columns read?
        self.collecting = False
        self.parts: list[str] = []
        self.in_phonetic = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "c":
            ref = attrs.get("r")
            self.column = _COLUMN_OF[ref.rstrip(_DIGITS)] if ref else self.column + 1
            self.keep = self.column < self.width
            self.kind = attrs.get("t", "n")
            self.style = int(attrs.get("s", 0))
            self.parts = []
        elif local == "row":
            r = attrs.get("r")
            self.number = int(r) if r else self.number + 1
            if self.header is None and self.number != HEADER_ROW:
                self.header = []  # the sheet has no row 1: no header
            if self.header is not None:
                self.counted += 1
                if self.counted > self.max_rows:
                    raise Invalid(
                        f"一次最多导入 {self.max_rows} 行（空行也计在内） (at most "
                        f"{self.max_rows} rows per file, blank rows included)",
                        field="file",
                    )
            self.width = MAX_COLUMNS if self.header is None else len(self.header)
            self.cells = {}
            self.column = -1
        elif self.keep:
            if local == "v" or (local == "t" and not self.in_phonetic):
                self.collecting = True
            elif local == "rPh":
                self.in_phonetic = True

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "c":
            self.collecting = False
            if self.keep and self.parts:
                value = self._value("".join(self.parts))
                if not is_blank(value):
                    self.cells[self.column] = value
        elif local == "row":
            self._end_row()
        elif local in ("v", "t"):
            self.collecting = False
        elif local == "rPh":
            self.in_phonetic = False
        elif local == "sheetData":
            raise _Done

    def text(self, data: str) -> None:
        if self.collecting:
            self.parts.append(data)

    def _end_row(self) -> None:
        values = tuple(self.cells.get(i) for i in range(max(self.cells, default=-1) + 1))
        if self.header is None:
            self.header = list(values)
        elif values:
            self.rows.append((self.number, values))

    def _value(self, text: str) -> Any:
        """A cell's value as openpyxl would read it with ``data_only``: shared and inline
        strings, booleans, error codes, formula results as cached, numbers (dates when the
        cell's format shows a date)."""
        kind = self.kind
        if kind == "s":
            return self.strings[int(text)]
        if kind in ("inlineStr", "str", "e"):
            return text
        if kind == "b":
            return text.strip() == "1"
        if kind == "d":
            return datetime.fromisoformat(text.strip())
        number = float(text) if any(c in text for c in ".eE") else int(text)
        if self.style < len(self.dates) and self.dates[self.style]:
            try:
                return from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return number  # beyond the calendar: the import says it is no date
        return number


def _read_first_sheet(package: _Package, max_rows: int) -> Sheet:
    """Follow the package's relationships to the workbook, its first worksheet, its shared
    strings and styles, and read the worksheet's cells."""
    workbook_part = _relationships(package, "").of_type("officeDocument")
    if workbook_part is None:
        raise Invalid(UNREADABLE, field="file")
    rels = _relationships(package, workbook_part)
    workbook = _Workbook()
    package.parse(workbook_part, workbook)
    sheet_part = next(
        (
            target
            for kind, target in (rels.by_id.get(i, ("", "")) for i in workbook.sheet_ids)
            if kind.endswith("/worksheet")
        ),
        None,
    )
    if sheet_part is None:
        raise Invalid(UNREADABLE, field="file")
    styles = _Styles()
    if (styles_part := rels.of_type("styles")) is not None:
        package.parse(styles_part, styles)
    strings = _Strings()
    if (strings_part := rels.of_type("sharedStrings")) is not None:
        package.parse(strings_part, strings)
    cells = _Cells(max_rows, strings.strings, styles.dates(), workbook.epoch)
    package.parse(sheet_part, cells)
    return Sheet(cells.header or [], cells.rows)
