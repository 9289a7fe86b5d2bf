"""XML validation of e-invoices and SAF-T files: XSD (lxml) and Schematron (Saxon, XSLT 2).

EHF / PEPPOL BIS Billing 3.0 documents pass three layers, each as shipped in data/validation/:
1. the OASIS UBL 2.1 schema (Invoice or CreditNote),
2. the CEN EN 16931 UBL rules, as the compiled XSLT 2 CEN publishes,
3. the PEPPOL BIS 3 rules, from PEPPOL's Schematron source. PEPPOL publishes no compiled XSLT in the
   artefacts we ship, so `compile_schematron` turns the .sch into XSLT 2 here (a small ISO Schematron
   compiler for what the PEPPOL file uses: ns, let, pattern, rule, assert, report, value-of, name and
   embedded xsl:function). The result is SVRL, read like the CEN output.

What refuses a document (measure, don't gatekeep: a measuring system must not drop a real purchase for a
formality): a schema error (layer 1), and an EN 16931 rule of the BR-CO group (the amounts of the document do not
add up). Every other rule that fails, fatal or not in its own rule set (PEPPOL's business process, specification
identifier and electronic addresses, national rules, EN 16931 rules outside BR-CO), is a *finding*: the document is
imported and the finding is kept with its batch (`refuses` below is the rule, stated once).

Layers 2 and 3 run as importers/rule_stylesheets.py rewrites them: the same rules, failures and order, without
the pass of template rules over the document per Schematron pattern that is most of Saxon HE's time (about twice
as fast; benchmarks/README.md section 7). `validate_ubl(..., reference=True)` runs the rule sets as shipped (the
equivalence tests compare the two).

Compiled schemas and stylesheets are cached in-process: the first document pays the compilation
(seconds), later documents only the transformation. A document is handed to Saxon as text once and parsed by it
once for both rule layers (`validate_ubl`). Locks are per validator, not global: each compiled XSD has its own
(lxml keeps a schema's error log on the schema object, so two threads must not validate with one at the same
time), and Saxon has one (its processor is not documented as thread-safe). For parallel work use processes
(importers/ehf.parse_documents).
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

from klimainnkjop.importers import rule_stylesheets
from klimainnkjop.importers.xmlsafe import serialise

VALIDATION_DIR = Path(__file__).resolve().parent.parent / "data" / "validation"
UBL_XSD = {
    "Invoice": VALIDATION_DIR / "ubl-2.1-xsd" / "xsd" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "CreditNote": VALIDATION_DIR / "ubl-2.1-xsd" / "xsd" / "maindoc" / "UBL-CreditNote-2.1.xsd",
}
SAFT_XSD = VALIDATION_DIR / "saft" / "Norwegian_SAF-T_Financial_Schema_v_1.30.xsd"
EN16931_XSLT = VALIDATION_DIR / "en16931" / "EN16931-UBL-validation.xslt"
PEPPOL_SCH = VALIDATION_DIR / "peppol" / "PEPPOL-EN16931-UBL.sch"

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
SAXON_ALLOWED_PROTOCOLS = "http://saxon.sf.net/feature/allowedProtocols"


@dataclass(frozen=True)
class RuleFailure:
    layer: str        # xsd | en16931 | peppol | rules (RULES_LAYER)
    rule: str         # rule id (XSD: "XSD")
    flag: str         # fatal | warning | error (XSD errors are fatal)
    message: str
    location: str = ""

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"[{self.rule}] {self.message}{where}"


RULES_LAYER = "rules"  # the rule sets could not be run on the document (Saxon raised): it is refused, unverified


def refuses(failure: RuleFailure) -> bool:
    """Whether a failed rule refuses the document: a schema error, or an EN 16931 calculation rule (BR-CO-*)
    flagged fatal. Everything else is kept as a finding on the imported document."""
    if failure.layer in ("xsd", RULES_LAYER):
        return True
    return failure.layer == "en16931" and failure.rule.startswith("BR-CO-") and failure.flag == "fatal"


@dataclass
class ValidationReport:
    fatal: list[RuleFailure] = field(default_factory=list)  # the failures that refuse the document (refuses())
    warnings: list[RuleFailure] = field(default_factory=list)  # the findings: kept, the document is imported
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.fatal


# ---------------------------------------------------------------- XSD

_lock = threading.Lock()  # Saxon's (one processor per process) and the compile caches'
_schema_locks: dict[Path, threading.Lock] = {}


@lru_cache(maxsize=None)
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def _compiled_schema(path: Path) -> tuple[etree.XMLSchema, threading.Lock]:
    with _lock:
        return _schema(path), _schema_locks.setdefault(path, threading.Lock())


def xsd_failures(tree: etree._ElementTree, xsd: Path) -> list[RuleFailure]:
    schema, lock = _compiled_schema(xsd)
    with lock:  # the error log is the schema object's: read it before another validation replaces it
        if schema.validate(tree):
            return []
        return [RuleFailure("xsd", "XSD", "fatal", e.message, f"line {e.line}") for e in schema.error_log]


# ---------------------------------------------------------------- Schematron → XSLT 2


def compile_schematron(sch: bytes) -> bytes:
    """An ISO Schematron schema (queryBinding xslt2) as an XSLT 2 stylesheet that writes SVRL.

    Semantics kept: the first rule of a pattern whose context matches a node fires for it (later rules
    of the same pattern do not); global and pattern lets are global variables, rule lets local ones.
    """
    root = etree.fromstring(sch)
    ns = {"sch": SCH}
    nsmap = {"xsl": XSL, "svrl": SVRL, "xs": "http://www.w3.org/2001/XMLSchema"}
    for decl in root.findall("sch:ns", ns):
        nsmap[decl.get("prefix")] = decl.get("uri")
    out = etree.Element(f"{{{XSL}}}stylesheet", nsmap=nsmap, version="2.0")
    etree.SubElement(out, f"{{{XSL}}}output", method="xml", indent="no")

    def x(parent, tag, **attrs):
        return etree.SubElement(parent, f"{{{XSL}}}{tag}", **attrs)

    for let in root.findall("sch:let", ns):
        x(out, "variable", name=let.get("name"), select=let.get("value"))
    for function in root.findall(f"{{{XSL}}}function"):
        out.append(_copy(function))
    patterns = root.findall("sch:pattern", ns)
    for let in (lt for p in patterns for lt in p.findall("sch:let", ns)):
        x(out, "variable", name=let.get("name"), select=let.get("value"))

    start = x(out, "template", match="/")
    report = etree.SubElement(start, f"{{{SVRL}}}schematron-output")
    for index, _ in enumerate(patterns):
        x(report, "apply-templates", select="/", mode=f"P{index}")

    for index, pattern in enumerate(patterns):
        mode = f"P{index}"
        rules = pattern.findall("sch:rule", ns)
        for order, rule in enumerate(rules):
            template = x(out, "template", match=rule.get("context"), mode=mode, priority=str(1000 + len(rules) - order))
            for let in rule.findall("sch:let", ns):
                x(template, "variable", name=let.get("name"), select=let.get("value"))
            for check in rule:
                if not isinstance(check.tag, str) or check.tag not in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    continue
                test = check.get("test")
                condition = f"not({test})" if check.tag == f"{{{SCH}}}assert" else f"({test})"
                when = x(template, "if", test=condition)
                failure = etree.SubElement(when, f"{{{SVRL}}}failed-assert")
                for attr in ("id", "flag"):
                    if check.get(attr):
                        failure.set(attr, check.get(attr))
                x(failure, "attribute", name="location", select="path()")
                text = etree.SubElement(failure, f"{{{SVRL}}}text")
                rule_stylesheets.message_xslt(check, text)
            x(template, "apply-templates", select="@*|*", mode=mode)
        catch_all = x(out, "template", match="@*|node()", mode=mode, priority="-10")
        x(catch_all, "apply-templates", select="@*|*", mode=mode)
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def _copy(element):
    import copy

    return copy.deepcopy(element)


# ---------------------------------------------------------------- Saxon


class _Saxon:
    """One Saxon processor and the compiled stylesheets (compiled once per process).

    Saxon is hardened on its own too: `allowedProtocols` is empty, so it may open no URI of any scheme (no
    external DTD, entity, stylesheet module, doc() or unparsed-text()). The stylesheets are therefore compiled
    from text read here, and documents are handed over as text already parsed and re-serialised by
    importers/xmlsafe.py (no DOCTYPE can reach Saxon).
    """

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor

        self.processor = PySaxonProcessor(license=False)
        self.processor.set_configuration_property(SAXON_ALLOWED_PROTOCOLS, "")
        self.xslt = self.processor.new_xslt30_processor()
        self.executables: dict[str, object] = {}

    def executable(self, name: str):
        """en16931, peppol: the rule sets as shipped (the CEN's XSLT; PEPPOL's Schematron by compile_schematron);
        en16931-select, peppol-select: the same as importers/rule_stylesheets.py writes them."""
        found = self.executables.get(name)
        if found is None:
            if name == "en16931":
                text = EN16931_XSLT.read_text(encoding="utf-8")
            elif name == "peppol":
                text = compile_schematron(PEPPOL_SCH.read_bytes()).decode("utf-8")
            elif name == "en16931-select":
                patterns, namespaces = rule_stylesheets.cen_rules(etree.parse(str(EN16931_XSLT)))
                text = rule_stylesheets.stylesheet(patterns, namespaces, []).decode("utf-8")
            elif name == "peppol-select":
                text = rule_stylesheets.stylesheet(
                    *rule_stylesheets.schematron_rules(etree.parse(str(PEPPOL_SCH)).getroot())).decode("utf-8")
            else:
                raise KeyError(name)
            found = self.xslt.compile_stylesheet(stylesheet_text=text)
            self.executables[name] = found
        return found

    def svrl(self, name: str, document: str) -> bytes:
        return self.svrl_all((name,), document)[0][0]

    def svrl_all(self, names: tuple[str, ...], document: str) -> list[tuple[bytes, float]]:
        """(SVRL, seconds) of each named rule set over one document, parsed by Saxon once (the parse counted in
        the first rule set's seconds)."""
        executables = [self.executable(name) for name in names]
        began = time.perf_counter()
        node = self.processor.parse_xml(xml_text=document)
        out = []
        for executable in executables:
            svrl = executable.transform_to_string(xdm_node=node).encode("utf-8")
            out.append((svrl, time.perf_counter() - began))
            began = time.perf_counter()
        return out


_saxon: _Saxon | None = None


def _processor() -> _Saxon:
    global _saxon
    if _saxon is None:
        _saxon = _Saxon()
    return _saxon


def schematron_failures(layer: str, document: str) -> list[RuleFailure]:
    """The rule failures of one layer; document: XML text from xmlsafe.serialise (never a file's raw bytes)."""
    with _lock:
        svrl = _processor().svrl(layer, document)
    return _svrl_failures(layer, svrl)


def _svrl_failures(layer: str, svrl: bytes) -> list[RuleFailure]:
    """The failed asserts and successful reports of an SVRL report (Saxon's output, not outside XML)."""
    report = etree.fromstring(svrl)
    failures = []
    for item in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = item.find(f"{{{SVRL}}}text")
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        failures.append(RuleFailure(layer, item.get("id") or "?", (item.get("flag") or "fatal").lower(), message,
                                    _short_path(item.get("location") or "")))
    return failures


def _short_path(location: str) -> str:
    """'/*:Invoice[namespace-uri()='…'][1]/*:LegalMonetaryTotal[…][1]' → '/Invoice[1]/LegalMonetaryTotal[1]'."""
    location = re.sub(r"\[namespace-uri\(\)='[^']*'\]", "", location)
    location = re.sub(r"Q\{[^}]*\}", "", location)
    return location.replace("*:", "")


def warm_up() -> None:
    """Compile every validator now (for a long-running process that should answer the first file fast)."""
    for path in (*UBL_XSD.values(), SAFT_XSD):
        _schema(path)
    with _lock:
        for name in ("en16931-select", "peppol-select"):
            _processor().executable(name)


def validate_ubl(tree: etree._ElementTree, kind: str, *, reference: bool = False) -> ValidationReport:
    """XSD, then (if the XSD passes) EN 16931 and PEPPOL BIS 3 rules. kind: Invoice | CreditNote.

    reference: the rule sets as shipped instead of as rule_stylesheets.py writes them (the same failures, slower).

    tree: parsed by importers/xmlsafe.py. Saxon gets it re-serialised (UTF-8 text without DOCTYPE), so a
    document in UTF-16 or ISO-8859-1 is validated like one in UTF-8."""

    result = ValidationReport()
    began = time.perf_counter()
    result.fatal.extend(xsd_failures(tree, UBL_XSD[kind]))
    result.seconds["xsd"] = time.perf_counter() - began
    if result.fatal:
        return result
    document = serialise(tree.getroot())
    layers = ("en16931", "peppol")
    names = layers if reference else tuple(f"{layer}-select" for layer in layers)
    from saxonche import PySaxonApiError

    try:
        with _lock:
            reports = _processor().svrl_all(names, document)  # one parse by Saxon for both rule sets
    except PySaxonApiError as exc:  # a rule set raised on this document: no verdict, so no import
        first = (str(exc).strip().splitlines() or ["no message"])[0][:300]
        result.fatal.append(RuleFailure(RULES_LAYER, "RULES", "fatal", "the EN 16931 and PEPPOL rules could not be "
                                        f"evaluated on this document ({first})"))
        return result
    for layer, (svrl, seconds) in zip(layers, reports):
        began = time.perf_counter()
        for failure in _svrl_failures(layer, svrl):
            (result.fatal if refuses(failure) else result.warnings).append(failure)
        result.seconds[layer] = seconds + time.perf_counter() - began
    return result
