"""The import reader reads what Excel, WPS and openpyxl write as openpyxl did: shared and
inline strings (rich text joined, phonetic guides left out), numbers, booleans, error codes,
cached formula results, dates by their cell format (built-in, custom and the Chinese built-in
ones; 1900 and 1904 date systems), rows and cells with or without references, and the first
worksheet in workbook order. Hostile files are in tests/security."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from anjian.core.xlsx_reader import Sheet, read_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _saved(wb: Workbook) -> bytes:
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_parts(data: bytes, parts: dict[str, str]) -> bytes:
    """The package ``data`` with the XML of ``parts`` (by name) replaced or added."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, parts.pop(info.filename, src.read(info)))
        for name, xml in parts.items():
            dst.writestr(name, xml)
    return out.getvalue()


def _with_shared_strings(data: bytes, strings: str) -> dict[str, str]:
    """The parts that give the package ``data`` a shared-string table (openpyxl writes
    inline strings, Excel and WPS shared ones)."""
    rels = "xl/_rels/workbook.xml.rels"
    with zipfile.ZipFile(BytesIO(data)) as z:
        linked = (
            z.read(rels)
            .decode()
            .replace(
                "</Relationships>",
                '<Relationship Id="rId9" Target="sharedStrings.xml" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
            )
        )
    return {rels: linked, "xl/sharedStrings.xml": strings}


def _read(data: bytes) -> Sheet:
    return read_sheet(data, max_rows=100)


def test_reads_what_openpyxl_writes() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["编码", "名称", "数量", "比例", "启用", "日期", "时间", "公式"])
    ws.append(["140622", "应县", 12, 0.5, True, date(2027, 6, 30), datetime(2027, 6, 30, 8, 5)])
    ws["H2"] = "=C2*2"  # no cached result: nothing, as data_only reading gives
    ws.append([None, "  ", None, 3.0])  # blank cells are left out; a row's last filled cell ends it
    ws.append([])
    ws.append([" "])  # blank rows are not rows
    ws.cell(row=7, column=2, value="后")
    header, rows = _read(_saved(wb))
    assert header == ["编码", "名称", "数量", "比例", "启用", "日期", "时间", "公式"]
    assert rows == [
        (2, ("140622", "应县", 12, 0.5, True, datetime(2027, 6, 30), datetime(2027, 6, 30, 8, 5))),
        (3, (None, None, None, 3.0)),
        (7, (None, "后")),
    ]


def test_reads_the_first_worksheet_in_workbook_order() -> None:
    wb = Workbook()
    wb.active.title = "后"
    wb.active.append(["second"])
    first = wb.create_sheet("先", 0)
    first.append(["first"])
    wb.create_chartsheet("图", 0)  # a chart sheet has no cells: the first worksheet is read
    assert _read(_saved(wb)).header == ["first"]


def test_dates_in_the_1904_date_system() -> None:
    wb = Workbook()
    wb.epoch = CALENDAR_MAC_1904
    wb.active.append(["日期"])
    wb.active.append([date(2027, 6, 30)])
    assert _read(_saved(wb)).rows == [(2, (datetime(2027, 6, 30),))]


def test_cell_kinds_excel_and_wps_write() -> None:
    wb = Workbook()
    wb.active.append(["placeholder"])
    sheet = (
        f'<worksheet xmlns="{MAIN}"><sheetData>'
        '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="inlineStr"><is><r><t>内</t></r>'
        '<r><t xml:space="preserve">联 </t></r><rPh sb="0" eb="1"><t>ない</t></rPh></is></c></row>'
        '<row><c s="1"><v>46568</v></c><c s="2"><v>46568</v></c><c s="3"><v>46568</v></c>'
        '<c t="str"><f>A1&amp;"x"</f><v>结果</v></c><c t="e"><v>#N/A</v></c>'
        '<c t="b"><v>0</v></c><c t="d"><v>2027-06-30T08:00:00</v></c><c><v>1E3</v></c></row>'
        "</sheetData></worksheet>"
    )
    strings = (
        f'<sst xmlns="{MAIN}"><si><t>编码</t></si>'
        "<si><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r><rPh><t>ふ</t></rPh></si></sst>"
    )
    styles = (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="1">'
        '<numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
        '</numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="4">'
        '<xf numFmtId="0"/><xf numFmtId="31"/><xf numFmtId="164"/><xf numFmtId="2"/></cellXfs>'
        "</styleSheet>"
    )
    saved = _saved(wb)
    data = _with_parts(
        saved,
        {
            "xl/worksheets/sheet1.xml": sheet,
            "xl/styles.xml": styles,
            **_with_shared_strings(saved, strings),
        },
    )
    header, rows = _read(data)
    assert header == ["编码", "富文本", "内联 "]
    day = datetime(2027, 6, 30)
    assert rows == [(2, (day, day, 46568))]  # only the header's three columns are read
    widened = sheet.replace("</is></c></row>", '</is></c><c r="H1"><v>8</v></c></row>', 1)
    header, rows = _read(_with_parts(data, {"xl/worksheets/sheet1.xml": widened}))
    assert header == ["编码", "富文本", "内联 ", None, None, None, None, 8]
    every_kind = (day, day, 46568, "结果", "#N/A", False, datetime(2027, 6, 30, 8), 1000.0)
    assert rows == [(2, every_kind)]
