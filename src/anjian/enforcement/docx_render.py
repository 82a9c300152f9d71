"""Enforcement documents drawn as Word files (.docx), in the plain layout of 执法文书: the
agency, the title, the number, the parties, the body and the signatures. Text only from the
document's recorded content, so the file can be drawn again at any node and always says the
same."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

BODY_FONT = "仿宋"
TITLE_FONT = "宋体"


def _font(run: Any, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word takes Chinese text's font from the East Asian slot, not from the name above.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(
    doc: Any,
    text: str,
    *,
    size: float = 14,
    align: Any = None,
    bold: bool = False,
    font: str = BODY_FONT,
) -> None:
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), font, size, bold=bold)


def render(content: dict[str, Any]) -> bytes:
    """The .docx of a document's content: ``agency``, ``title``, ``number``, ``fields`` (label,
    value pairs), ``body`` (paragraphs), ``items`` (a numbered list) and ``signatures``."""
    doc = Document()
    _paragraph(doc, content["agency"], size=18, align=WD_ALIGN_PARAGRAPH.CENTER, font=TITLE_FONT)
    _paragraph(
        doc, content["title"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, font=TITLE_FONT
    )
    _paragraph(doc, content["number"], align=WD_ALIGN_PARAGRAPH.RIGHT)
    fields = content.get("fields", [])
    if fields:
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in fields:
            cells = table.add_row().cells
            for cell, text in zip(cells, (label, value), strict=True):
                _font(cell.paragraphs[0].add_run(str(text)), BODY_FONT, 12)
    for text in content.get("body", []):
        _paragraph(doc, text)
    for n, text in enumerate(content.get("items", []), start=1):
        _paragraph(doc, f"{n}. {text}")
    for line in content.get("signatures", []):
        _paragraph(doc, line, align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
