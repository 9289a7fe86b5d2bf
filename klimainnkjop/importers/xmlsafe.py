"""The one way the product reads XML that comes from outside (EHF invoices, SAF-T files).

What is refused, before any other code (lxml's tree builder, the XSD, Saxon) sees the document:
- a document type declaration (`<!DOCTYPE …>`), with or without an internal subset: EHF/UBL and SAF-T never
  have one, and it is where external entities, parameter entities, out-of-band DTDs and entity expansion
  ("billion laughs") live. The prolog is scanned in the document's own encoding (BOM or the first bytes:
  UTF-8/ASCII-compatible, UTF-16, UTF-32), and the parsed tree's docinfo is checked again after parsing;
- XInclude elements (neither lxml nor Saxon is ever asked to process them; they are refused so that nothing
  downstream can be talked into it).

lxml then parses with entity substitution, DTD loading, DTD validation and network access off, and (unless a
large file is expected, as SAF-T) with libxml2's default depth and text-size limits. The validation module
hands Saxon the tree re-serialised from here, never the raw bytes, and Saxon itself may fetch nothing
(importers/validation.py: `allowedProtocols` empty).
"""
from __future__ import annotations

import codecs
import re

from lxml import etree

from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError

XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
# How much of the start of a document the prolog scan reads; a prolog longer than this is checked after parsing.
PROLOG_WINDOW = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SIGNATURES = (  # XML 1.0 appendix F: the first four bytes of '<?xm' (or '<' + anything) without a BOM
    (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"),
)
# XML declaration, processing instructions, comments and white space: all a prolog may hold before a DOCTYPE
_PROLOG_ITEMS = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)


def _doctype_refused() -> str:
    return reason("the document has a document type declaration (DOCTYPE); DTDs and entities are not accepted in "
                  "e-invoices or SAF-T files")


def _prolog_text(data: bytes) -> str:
    head = data[:PROLOG_WINDOW]
    encoding = "latin-1"  # UTF-8, ASCII, ISO-8859-x, Windows-125x: the markup is ASCII in all of them
    for bom, name in _BOMS:
        if head.startswith(bom):
            head, encoding = head[len(bom):], name
            break
    else:
        for signature, name in _SIGNATURES:
            if head.startswith(signature):
                encoding = name
                break
    usable = len(head) - len(head) % 4
    return head[:usable].decode(encoding, errors="replace")


def declares_doctype(data: bytes) -> bool:
    """True when the document's prolog has a markup declaration (`<!DOCTYPE`, or any `<!` but a comment)."""
    text = _prolog_text(data)
    rest = text[_PROLOG_ITEMS.match(text).end():]
    return rest.startswith("<!") and not rest.startswith("<!--")  # an unfinished comment: checked after parsing


def _refused(file_name: str, why: str) -> ImportRejected:
    return ImportRejected([RowError(file_name, None, None, why)])


def parse(data: bytes, file_name: str, *, huge_tree: bool = False) -> etree._Element:
    """The document's root element, or ImportRejected naming the file.

    huge_tree: lift libxml2's limits on depth (256 → 2048) and text size, for files known to be large (SAF-T).
    """
    if declares_doctype(data):
        raise _refused(file_name, _doctype_refused())
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             attribute_defaults=False, huge_tree=huge_tree, collect_ids=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportRejected([RowError(file_name, exc.lineno, None,
                                       reason("not well-formed XML: %(error)s", error=_short(exc.msg)))]) from None
    except ValueError as exc:  # e.g. lxml refusing a str with an encoding declaration; not reachable with bytes
        raise _refused(file_name, reason("not readable as XML: %(error)s", error=_short(str(exc)))) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _refused(file_name, _doctype_refused())
    for namespace in XINCLUDE_NAMESPACES:
        for element in root.iter(f"{{{namespace}}}*"):
            raise ImportRejected([RowError(file_name, element.sourceline, None,
                                           reason("the document uses XInclude; not accepted"))])
    return root


def serialise(root: etree._Element) -> str:
    """The element as XML text without any declaration or DOCTYPE, for a second parser (Saxon)."""
    return etree.tostring(root, encoding="unicode")


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"
