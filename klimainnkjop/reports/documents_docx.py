"""A document (reports/documents.py) as DOCX with python-docx: Word's own styles (Title, Heading 1-3, List Bullet,
List Number, a table style with a repeated header row), charts as PNG pictures with alt text (wp:docPr descr),
the language set to Norwegian bokmål, so it opens and edits well in Word and LibreOffice."""
from __future__ import annotations

import io

from docx import Document as new_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from django.utils import translation
from django.utils.translation import gettext as _

from klimainnkjop.reports.documents import Bullets, Document, Figure, Heading, Para, TableBlock


def language_tag(language: str) -> str:
    return "en-GB" if (language or "nb").startswith("en") else "nb-NO"


def _language(document, tag: str = "nb-NO") -> None:
    """nb-NO (or en-GB) as the default language of the document's text (spell checking, hyphenation, screen readers)."""
    styles = document.styles.element
    rpr_default = styles.find(qn("w:docDefaults"))
    if rpr_default is None:
        return
    rpr = rpr_default.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
    if rpr is None:
        return
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    tr_pr.append(element)


def _table(document, block: TableBlock) -> None:
    caption = document.add_paragraph(block.caption, style="Caption")
    caption.paragraph_format.keep_with_next = True
    t = document.add_table(rows=1, cols=len(block.headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.LEFT
    _repeat_header(t.rows[0])
    for cell, text, numeric in zip(t.rows[0].cells, block.headers, block.numeric):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        if numeric:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for i, row in enumerate(block.rows):
        cells = t.add_row().cells
        last = block.total_row and i == len(block.rows) - 1
        for cell, text, numeric in zip(cells, row, block.numeric):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(text))
            run.bold = last
            if numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph()


def _figure(document, block: Figure) -> None:
    document.add_paragraph(block.caption, style="Caption").paragraph_format.keep_with_next = True
    document.add_picture(io.BytesIO(block.png()), width=Cm(16))
    inline = document.inline_shapes[-1]._inline
    doc_pr = inline.docPr
    doc_pr.set("descr", block.alt)
    doc_pr.set("title", block.caption)


def write(doc: Document) -> bytes:
    document = new_docx()
    tag = language_tag(doc.language)
    _language(document, tag)
    props = document.core_properties
    props.title, props.subject, props.author, props.language = doc.title, doc.subject, "Klimainnkjøp", tag
    if doc.run_id is not None:
        with translation.override(doc.language):
            props.comments = f"{_('Computation no.')} {doc.run_id}"
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    for section in document.sections:
        section.left_margin = section.right_margin = Cm(2.2)
    document.add_heading(doc.title, level=0)
    document.add_paragraph(doc.subtitle, style="Subtitle")
    for block in doc.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=min(block.level, 3))
        elif isinstance(block, Para):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.text)
            if block.style == "lead":
                run.bold = True
                run.font.size = Pt(12)
            elif block.style == "note":
                run.italic = True
                run.font.size = Pt(9)
        elif isinstance(block, Bullets):
            for item in block.items:
                document.add_paragraph(item, style="List Number" if block.numbered else "List Bullet")
        elif isinstance(block, TableBlock):
            _table(document, block)
        elif isinstance(block, Figure):
            _figure(document, block)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
