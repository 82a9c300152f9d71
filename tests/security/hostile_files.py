"""Hostile .xlsx files built in memory, for tests/security and ``bench/hostile_xlsx.py``.

Each is a well-formed package around one attack, so that the attack is the only thing an
import can refuse it for. Rows carry the checklist import's header (清单名称, 频次, 排查内容),
so the files an import should accept import something real."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from functools import cache
from io import BytesIO
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_PART = "xl/worksheets/sheet1.xml"
STRINGS_PART = "xl/sharedStrings.xml"

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
).encode()
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="排查清单" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
).encode()
HEADER = ("清单名称", "频次", "排查内容")
ROW = ("井下巡检", "每日", "检查瓦斯浓度")
# lol9 is ten lol8s, each ten lol7s, ...: 10⁹ "lol"s from a few hundred bytes.
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
).encode()
LAUGH = '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'


def column(n: int) -> str:
    """The letters of the 1-based column ``n`` (1 is A, 16384 is XFD)."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref: str, text: str) -> str:
    """An inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def row(number: int, texts: Iterable[str], first_column: int = 1) -> str:
    """Row ``number`` with ``texts`` in consecutive columns from ``first_column``."""
    cells = "".join(
        cell(f"{column(i)}{number}", t) for i, t in enumerate(texts, start=first_column)
    )
    return f'<row r="{number}">{cells}</row>'


def sheet(rows: str, *, dimension: str = "A1:C2", prolog: bytes = b"") -> bytes:
    """A worksheet part holding ``rows`` (XML), declaring ``dimension``."""
    return (
        prolog
        + (
            f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/>'
            f"<sheetData>{rows}</sheetData></worksheet>"
        ).encode()
    )


def package(
    sheet_xml: bytes,
    *,
    strings: bytes = f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"/>'.encode(),
    workbook: bytes = WORKBOOK,
    omit: str = "",
    compression: int = zipfile.ZIP_DEFLATED,
    extra: Iterable[tuple[str, bytes]] = (),
) -> bytes:
    """An .xlsx of one sheet, its parts as given (``omit``: a part left out)."""
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        STRINGS_PART: strings,
        SHEET_PART: sheet_xml,
        **dict(extra),
    }
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in parts.items():
            if name != omit:
                z.writestr(name, data)
    return buf.getvalue()


def good() -> bytes:
    """A plain checklist sheet: the header and one row."""
    return package(sheet(row(1, HEADER) + row(2, ROW)))


# --- the attacks -------------------------------------------------------------------------------


def _deflated(data: bytes, *, last: bool = False) -> bytes:
    """``data`` as raw deflate blocks that can be concatenated (no history, byte aligned)."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _zip(members: Iterable[tuple[str, int, bytes, int, int]]) -> bytes:
    """A zip of members given already packed: (name, method, packed bytes, CRC-32, size).
    Honest in every field: a bomb needs no lies, only a high ratio."""
    out, central, count = bytearray(), bytearray(), 0
    for name, method, packed, crc, size in members:
        encoded, offset, count = name.encode(), len(out), count + 1
        fields = (method, 0, 33, crc, len(packed), size, len(encoded))  # 33: 1980-01-01
        out += struct.pack("<4s3H2H3L2H", b"PK\x03\x04", 20, 0, *fields, 0) + encoded + packed
        central += struct.pack(
            "<4s4H2H3L5H2L", b"PK\x01\x02", 20, 20, 0, *fields, 0, 0, 0, 0, 0, offset
        )
        central += encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


@cache
def zip_bomb(megabytes: int = 1024) -> bytes:
    """About a megabyte unpacking to ``megabytes`` MB: one cell of a thousand million zeros."""
    head = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr">'.encode()
    head += b"<is><t>"
    tail = b"</t></is></c></row></sheetData></worksheet>"
    block = b"0" * (1 << 20)
    packed = _deflated(head) + _deflated(block) * megabytes + _deflated(tail, last=True)
    crc = zlib.crc32(head)
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    small = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ]
    return _zip(
        [
            *(
                (name, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data))
                for name, data in small
            ),
            (
                SHEET_PART,
                zipfile.ZIP_DEFLATED,
                packed,
                crc,
                len(head) + len(tail) + (megabytes << 20),
            ),
        ]
    )


def declared_dimension() -> bytes:
    """A sheet declaring every cell Excel has (``A1:XFD1048576``) that holds the header and
    one row at the very bottom: three cells each."""
    return package(sheet(row(1, HEADER) + row(1_048_576, ROW), dimension="A1:XFD1048576"))


@cache
def empty_rows(count: int = 1_000_000) -> bytes:
    """The header, then ``count`` rows that exist and hold nothing."""
    rows = "".join(f'<row r="{n}"/>' for n in range(2, count + 2))
    return package(sheet(row(1, HEADER) + rows, dimension=f"A1:C{count + 1}"))


def wide_row(columns: int = 16_384) -> bytes:
    """The header and one row, each filled in every one of ``columns`` columns (past the
    checklist's three, notes no import reads)."""
    notes = [f"备注{n}" for n in range(4, columns + 1)]
    return package(
        sheet(
            row(1, (*HEADER, *notes)) + row(2, (*ROW, *notes)),
            dimension=f"A1:{column(columns)}2",
        )
    )


def billion_laughs(part: str = SHEET_PART) -> bytes:
    """Entities expanding to 10⁹ "lol"s, declared in ``part`` (and used there)."""
    if part == SHEET_PART:
        return package(sheet(row(1, HEADER) + LAUGH, prolog=BILLION_LAUGHS))
    if part == STRINGS_PART:
        strings = BILLION_LAUGHS + f'<sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'.encode()
        return package(sheet(row(1, HEADER)), strings=strings)
    return package(sheet(row(1, HEADER)), workbook=BILLION_LAUGHS + WORKBOOK)


def not_a_zip() -> bytes:
    """Something else named .xlsx."""
    return b"%PDF-1.7\n" + b"\x00" * 1024


def missing_sheet() -> bytes:
    """A package whose workbook names a sheet the zip does not hold."""
    return package(sheet(row(1, HEADER)), omit=SHEET_PART)


# name -> (builder, words of the 422 message): every import refuses these, with a 422 on file.
REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip bomb": (zip_bomb, "解压后超过"),
    "1,000,000 empty rows": (empty_rows, "空行也计在内"),
    "billion laughs": (billion_laughs, "DTD"),
    "not a zip": (not_a_zip, "无法读取"),
    "sheet missing": (missing_sheet, "无法读取"),
}
# name -> builder: files an import reads, from the cells they hold.
SPARSE: dict[str, Callable[[], bytes]] = {
    "declared A1:XFD1048576": declared_dimension,
    "16,384-column rows": wide_row,
}
