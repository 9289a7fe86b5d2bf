"""A document (reports/documents.py) as tagged PDF (PDF/UA-1, WeasyPrint, language nb), as the other reports:
headings, tables with header cells, charts as PNG images with alt text."""
from __future__ import annotations

import base64

from django.template import Context, Engine

from klimainnkjop.reports.documents import Bullets, Document, Figure, Heading, Para, TableBlock
from klimainnkjop.reports.pdf import TEMPLATES

_engine = Engine(dirs=[str(TEMPLATES)], autoescape=True)


def _block(block) -> dict:
    if isinstance(block, Heading):
        return {"kind": "heading", "level": block.level, "text": block.text}
    if isinstance(block, Para):
        return {"kind": "para", "text": block.text, "style": block.style}
    if isinstance(block, Bullets):
        return {"kind": "bullets", "items": block.items, "numbered": block.numbered}
    if isinstance(block, TableBlock):
        return {"kind": "table", "caption": block.caption,
                "headers": [{"text": h, "numeric": n} for h, n in zip(block.headers, block.numeric)],
                "rows": [{"sum": block.total_row and i == len(block.rows) - 1,
                          "cells": [{"text": c, "numeric": n} for c, n in zip(row, block.numeric)]}
                         for i, row in enumerate(block.rows)]}
    if isinstance(block, Figure):
        return {"kind": "figure", "alt": block.alt, "caption": block.caption,
                "src": "data:image/png;base64," + base64.b64encode(block.png()).decode("ascii")}
    raise TypeError(f"unknown block {type(block).__name__}")


def html(doc: Document) -> str:
    blocks = [_block(b) for b in doc.blocks]
    english = (doc.language or "nb").startswith("en")
    return _engine.get_template("document.html").render(Context({
        "doc": doc, "blocks": blocks, "lang": "en" if english else "nb",
        "page_of": ("Page", "of") if english else ("Side", "av")}))


def write(doc: Document) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html(doc), base_url=str(TEMPLATES)).write_pdf(
        pdf_variant="pdf/ua-1", pdf_identifier=False)
