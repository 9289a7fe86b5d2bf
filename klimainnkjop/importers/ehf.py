"""EHF / PEPPOL BIS Billing 3.0 invoices and credit notes (UBL 2.1) parsed into invoice lines.

A document is validated in full (UBL 2.1 XSD, EN 16931 and PEPPOL BIS 3 rules; importers/validation.py)
before anything is read from it; a fatal rule failure rejects it with every rule id and message.

What becomes a line:
- every InvoiceLine / CreditNoteLine, amount = its LineExtensionAmount (EN 16931 BT-131: quantity × net
  price − line allowances + line charges, so line-level AllowanceCharge is already in the amount; the
  net of the line's allowances and charges is kept in `line_allowance_minor` for the report);
- every document-level AllowanceCharge as a line of its own (line id "AC1", "AC2", …; an allowance is
  negative, a charge positive; VAT from its own tax category). They are kept, not distributed, so every
  figure stays traceable to the document and the lines reconcile to TaxExclusiveAmount
  (BT-109 = Σ BT-131 − Σ allowances + Σ charges). An engine that wants them spread can do it by the
  document id.
- A CreditNote counts negative: its amounts and quantities are negated. (An Invoice with negative lines,
  PEPPOL's "negative invoice correction", keeps its own signs.)

Batches (`parse_documents`): a validation verdict is kept in the process by the document's SHA-256 (the same
bytes are validated once; a verdict depends only on the bytes and the shipped rule sets), and a batch of many
documents not yet validated is spread over a process pool, one worker per core, each worker compiling the rule
sets once and keeping them warm for its share.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from klimainnkjop.core import units
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers import validation, xmlsafe
from klimainnkjop.core.kostra import OrgNumber

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
KINDS = {f"{{{NS['inv']}}}Invoice": "Invoice", f"{{{NS['cn']}}}CreditNote": "CreditNote"}
# UNCL 7143 item classification list ids → the code schemes of CategoryMapping
CLASS_SCHEMES = {"STI": "cpv", "TST": "unspsc"}
CLASS_PREFERENCE = ("STI", "TST")
NORWEGIAN_ORGNR = "0192"
_VAT_NO = re.compile(r"^NO(\d{9})(MVA)?$")


class InvalidDocument(Exception):
    """The document is refused: the errors name the file and, for a rule, its id."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class Party:
    orgnr: str            # Norwegian organisation number ('' if the party has none)
    name: str
    key: str              # identifies the party even without an orgnr (scheme:id, VAT id, name)


@dataclass
class InvoiceLine:
    line_id: str
    amount_minor: int     # excl. VAT, in the document currency, hundredths; signed (credit notes negative)
    vat_minor: int
    vat_category: str
    vat_percent: float | None
    quantity: float | None
    quantity_unit: str    # canonical (core.units) or '' when the unit code is unknown
    unit_code: str        # as on the invoice (UN/ECE Rec 20)
    item_name: str
    item_description: str
    seller_item_id: str
    item_class_scheme: str
    item_class_code: str
    line_allowance_minor: int = 0
    is_document_allowance_charge: bool = False


@dataclass
class InvoiceDocument:
    file_name: str
    kind: str             # Invoice | CreditNote
    document_id: str
    issue_date: dt.date
    currency: str
    seller: Party
    buyer: Party
    line_extension_minor: int         # LegalMonetaryTotal/LineExtensionAmount, signed like the lines
    tax_exclusive_minor: int
    tax_inclusive_minor: int
    payable_minor: int
    allowance_total_minor: int
    charge_total_minor: int
    lines: list[InvoiceLine]
    warnings: list[str] = field(default_factory=list)
    findings: list = field(default_factory=list)  # validation.RuleFailure: rules that failed without refusing
    validation_seconds: dict[str, float] = field(default_factory=dict)
    sha256: str = ""
    data: bytes = b""

    @property
    def sign(self) -> int:
        return -1 if self.kind == "CreditNote" else 1

    @property
    def document_type(self) -> str:
        return "creditnote" if self.kind == "CreditNote" else "invoice"

    def line_key(self, line_id: str) -> str:
        basis = f"ehf|{self.seller.key}|{self.document_type}|{self.document_id}|{line_id}"
        return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _minor(text: str | None) -> int:
    if text is None or not text.strip():
        return 0
    return int((Decimal(text.strip()) * 100).to_integral_value(ROUND_HALF_UP))


def _text(node, path: str) -> str:
    found = node.find(path, NS) if node is not None else None
    return (found.text or "").strip() if found is not None and found.text else ""


def _orgnr(value: str, scheme: str | None) -> str:
    value = value.replace(" ", "")
    if scheme == NORWEGIAN_ORGNR and OrgNumber.is_well_formed(value):
        return value
    match = _VAT_NO.match(value.upper())
    return match.group(1) if match else ""


def _party(party) -> Party:
    if party is None:
        return Party("", "", "")
    orgnr = ""
    candidates = []
    endpoint = party.find("cbc:EndpointID", NS)
    if endpoint is not None and endpoint.text:
        candidates.append((endpoint.text.strip(), endpoint.get("schemeID")))
    legal = party.find("cac:PartyLegalEntity/cbc:CompanyID", NS)
    if legal is not None and legal.text:
        candidates.append((legal.text.strip(), legal.get("schemeID")))
    for ident in party.findall("cac:PartyIdentification/cbc:ID", NS):
        if ident.text:
            candidates.append((ident.text.strip(), ident.get("schemeID")))
    vat = ""
    for tax in party.findall("cac:PartyTaxScheme", NS):
        company = _text(tax, "cbc:CompanyID")
        if _text(tax, "cac:TaxScheme/cbc:ID") == "VAT" and company:
            vat = company
            candidates.append((company, None))
    for value, scheme in candidates:
        orgnr = _orgnr(value, scheme)
        if orgnr:
            break
    name = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName") or _text(party, "cac:PartyName/cbc:Name")
    if orgnr:
        key = orgnr
    elif endpoint is not None and endpoint.text:
        key = f"{endpoint.get('schemeID') or ''}:{endpoint.text.strip()}"
    else:
        key = vat or name
    return Party(orgnr, name, key)


def _classification(item) -> tuple[str, str]:
    codes = [(c.get("listID") or "", (c.text or "").strip())
             for c in item.findall("cac:CommodityClassification/cbc:ItemClassificationCode", NS) if c.text]
    for preferred in CLASS_PREFERENCE:
        for list_id, code in codes:
            if list_id == preferred:
                return CLASS_SCHEMES[list_id], code
    if codes:
        list_id, code = codes[0]
        return CLASS_SCHEMES.get(list_id, list_id.lower()), code
    return "", ""


def _vat(amount_minor: int, percent: float | None) -> int:
    if not percent:
        return 0
    return int((Decimal(amount_minor) * Decimal(str(percent)) / 100).to_integral_value(ROUND_HALF_UP))


def _percent(category) -> float | None:
    text = _text(category, "cbc:Percent")
    return float(text) if text else None


# ---------------------------------------------------------------- verdicts by SHA-256

VERDICT_CACHE_SIZE = 50_000  # reports are small (the failed rules); 50,000 is a few tens of MB at most
_verdicts: OrderedDict[tuple[str, str], validation.ValidationReport] = OrderedDict()
_verdicts_lock = threading.Lock()


def _cached_verdict(sha: str, kind: str) -> validation.ValidationReport | None:
    with _verdicts_lock:
        report = _verdicts.get((sha, kind))
        if report is not None:
            _verdicts.move_to_end((sha, kind))
        return report


def _remember_verdict(sha: str, kind: str, report: validation.ValidationReport) -> None:
    with _verdicts_lock:
        _verdicts[(sha, kind)] = report
        _verdicts.move_to_end((sha, kind))
        while len(_verdicts) > VERDICT_CACHE_SIZE:
            _verdicts.popitem(last=False)


def forget_verdicts() -> None:
    """Empty the verdict cache (tests, benchmarks)."""
    with _verdicts_lock:
        _verdicts.clear()


def _verdict(root, kind: str, sha: str) -> tuple[validation.ValidationReport, dict[str, float]]:
    """The validation report of the document with these bytes, from the cache or validated now and kept, and the
    seconds spent on it now per layer (0 for a cached verdict)."""
    report = _cached_verdict(sha, kind)
    if report is not None:
        return report, {layer: 0.0 for layer in report.seconds}
    report = validation.validate_ubl(etree.ElementTree(root), kind)
    _remember_verdict(sha, kind, report)
    return report, dict(report.seconds)


def parse_document(data: bytes, file_name: str, *, validate: bool = True) -> InvoiceDocument:
    """Validate and read one UBL Invoice or CreditNote. Raises InvalidDocument naming file and rule ids."""
    try:
        root = xmlsafe.parse(data, file_name)  # no DOCTYPE, entities, XInclude or network; libxml2's limits
    except ImportRejected as exc:
        raise InvalidDocument(exc.errors) from None
    kind = KINDS.get(root.tag)
    if kind is None:
        raise InvalidDocument([RowError(file_name, None, None, reason(
            "not a UBL 2.1 Invoice or CreditNote (root element %(element)s)", element=root.tag))])
    seconds: dict[str, float] = {}
    warnings: list[str] = []
    sha = hashlib.sha256(data).hexdigest()
    if validate:
        report, seconds = _verdict(root, kind, sha)
        if not report.ok:
            raise InvalidDocument([RowError(file_name, None, None, _rule_failed(f)) for f in report.fatal])
        warnings.extend(f"{file_name}: rule {f.rule} ({f.layer}, {f.flag}): {f.message}" for f in report.warnings)
    try:
        doc = _read(root, kind, file_name, data, seconds, warnings, sha)
        if validate:
            doc.findings = list(report.warnings)
        return doc
    except (InvalidOperation, ValueError) as exc:  # only reachable with validation off
        raise InvalidDocument([RowError(file_name, None, None,
                                        reason("cannot read the document: %(error)s", error=exc))]) from exc


def _rule_failed(failure: validation.RuleFailure) -> str:
    """A fatal rule's reason: its id, layer and flag ours, its message the rule set's own (never translated)."""
    if failure.location:
        return reason("rule %(rule)s (%(layer)s, %(flag)s): %(message)s at %(location)s", rule=failure.rule,
                      layer=failure.layer, flag=failure.flag, message=failure.message, location=failure.location)
    return reason("rule %(rule)s (%(layer)s, %(flag)s): %(message)s", rule=failure.rule, layer=failure.layer,
                  flag=failure.flag, message=failure.message)


def _read(root, kind: str, file_name: str, data: bytes, seconds: dict, warnings: list[str],
          sha: str) -> InvoiceDocument:
    sign = -1 if kind == "CreditNote" else 1
    line_tag, quantity_tag = ("cac:CreditNoteLine", "cbc:CreditedQuantity") if kind == "CreditNote" else \
        ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    lines: list[InvoiceLine] = []
    for node in root.findall(line_tag, NS):
        line_id = _text(node, "cbc:ID")
        amount = sign * _minor(_text(node, "cbc:LineExtensionAmount"))
        item = node.find("cac:Item", NS)
        category = item.find("cac:ClassifiedTaxCategory", NS) if item is not None else None
        percent = _percent(category)
        quantity_node = node.find(quantity_tag, NS)
        unit_code = (quantity_node.get("unitCode") or "").strip() if quantity_node is not None else ""
        quantity = quantity_unit = None
        if quantity_node is not None and quantity_node.text and unit_code:
            normalized = units.normalize(float(Decimal(quantity_node.text.strip())), unit_code)
            if normalized is None:
                warnings.append(f"{file_name}: line {line_id}: unit code {unit_code!r} is not known; the amount is "
                                "kept, the quantity is not")
            else:
                quantity, quantity_unit = sign * normalized[0], normalized[1]
        line_ac = 0
        for ac in node.findall("cac:AllowanceCharge", NS):
            value = _minor(_text(ac, "cbc:Amount"))
            line_ac += value if _text(ac, "cbc:ChargeIndicator") == "true" else -value
        scheme, code = _classification(item) if item is not None else ("", "")
        lines.append(InvoiceLine(
            line_id=line_id, amount_minor=amount, vat_minor=_vat(amount, percent),
            vat_category=_text(category, "cbc:ID"), vat_percent=percent, quantity=quantity,
            quantity_unit=quantity_unit or "", unit_code=unit_code, item_name=_text(item, "cbc:Name"),
            item_description=_text(item, "cbc:Description"),
            seller_item_id=_text(item, "cac:SellersItemIdentification/cbc:ID"),
            item_class_scheme=scheme, item_class_code=code, line_allowance_minor=sign * line_ac,
        ))
    for index, ac in enumerate(root.findall("cac:AllowanceCharge", NS), start=1):
        charge = _text(ac, "cbc:ChargeIndicator") == "true"
        amount = sign * (1 if charge else -1) * _minor(_text(ac, "cbc:Amount"))
        category = ac.find("cac:TaxCategory", NS)
        percent = _percent(category)
        why = _text(ac, "cbc:AllowanceChargeReason") or _text(ac, "cbc:AllowanceChargeReasonCode")
        label = "charge" if charge else "allowance"
        lines.append(InvoiceLine(
            line_id=f"AC{index}", amount_minor=amount, vat_minor=_vat(amount, percent),
            vat_category=_text(category, "cbc:ID"), vat_percent=percent, quantity=None, quantity_unit="",
            unit_code="", item_name=f"{label}: {why}" if why else label, item_description="",
            seller_item_id="", item_class_scheme="", item_class_code="", is_document_allowance_charge=True,
        ))
    totals = root.find("cac:LegalMonetaryTotal", NS)
    issue = dt.date.fromisoformat(_text(root, "cbc:IssueDate"))
    return InvoiceDocument(
        file_name=file_name, kind=kind, document_id=_text(root, "cbc:ID"), issue_date=issue,
        currency=_text(root, "cbc:DocumentCurrencyCode").upper(),
        seller=_party(root.find("cac:AccountingSupplierParty/cac:Party", NS)),
        buyer=_party(root.find("cac:AccountingCustomerParty/cac:Party", NS)),
        line_extension_minor=sign * _minor(_text(totals, "cbc:LineExtensionAmount")),
        tax_exclusive_minor=sign * _minor(_text(totals, "cbc:TaxExclusiveAmount")),
        tax_inclusive_minor=sign * _minor(_text(totals, "cbc:TaxInclusiveAmount")),
        payable_minor=sign * _minor(_text(totals, "cbc:PayableAmount")),
        allowance_total_minor=sign * _minor(_text(totals, "cbc:AllowanceTotalAmount")),
        charge_total_minor=sign * _minor(_text(totals, "cbc:ChargeTotalAmount")),
        lines=lines, warnings=warnings, validation_seconds=seconds,
        sha256=sha, data=data,
    )


# ---------------------------------------------------------------- batches

POOL_MIN_DOCUMENTS = 400  # below this a worker's start and rule compilation (seconds) costs more than it saves


def pool_workers() -> int:
    """Worker processes for a batch: KLIMAINNKJOP_EHF_WORKERS, else one per core available to this process."""
    configured = os.environ.get("KLIMAINNKJOP_EHF_WORKERS", "").strip()
    if configured.isdecimal():
        return max(1, int(configured))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _parse_one(name: str, data: bytes) -> InvoiceDocument | list[RowError]:
    try:
        return parse_document(data, name)
    except InvalidDocument as exc:
        return exc.errors


def _worker_start() -> None:
    """A pool worker: Django's settings for the messages' translations (when the parent had them), then the
    rule sets compiled once for all of the worker's documents."""
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        import django

        # the messages are translated as in the parent; should it fail they stay English (the verdicts are the same)
        with contextlib.suppress(Exception):
            django.setup()
    validation.warm_up()
    units.registry()  # the unit registry (pint) is loaded once, not on the first invoice with a quantity


def _parse_chunk(chunk: list[tuple[str, bytes]]) -> list[tuple[InvoiceDocument | list[RowError], tuple | None]]:
    """A pool worker's share: each document's result and its verdict (sha, kind, report) for the parent's cache."""
    out = []
    for name, data in chunk:
        result = _parse_one(name, data)
        sha = hashlib.sha256(data).hexdigest()
        verdict = None
        for kind in KINDS.values():
            report = _cached_verdict(sha, kind)
            if report is not None:
                verdict = (sha, kind, report)
        out.append((result, verdict))
    return out


def parse_documents(documents: list[tuple[str, bytes]], *, workers: int | None = None
                    ) -> list[InvoiceDocument | list[RowError]]:
    """Every document of a batch validated and read, in order: an InvoiceDocument, or the errors that refuse it.

    Documents whose verdict this process knows (by SHA-256) are read here; the others, when there are at least
    POOL_MIN_DOCUMENTS of them and more than one worker, are validated in a process pool (spawned, so no
    Saxon state is forked), and their verdicts are kept here for the next batch."""
    workers = pool_workers() if workers is None else workers
    results: list[InvoiceDocument | list[RowError] | None] = [None] * len(documents)
    pending: list[int] = []
    for index, (_, data) in enumerate(documents):
        sha = hashlib.sha256(data).hexdigest()
        with _verdicts_lock:
            known = any((sha, kind) in _verdicts for kind in KINDS.values())
        if known:
            results[index] = _parse_one(*documents[index])
        else:
            pending.append(index)
    if workers > 1 and len(pending) >= POOL_MIN_DOCUMENTS:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, min(200, len(pending) // (workers * 4) or 1))
        chunks = [pending[i:i + size] for i in range(0, len(pending), size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker_start) as pool:
            done = pool.map(_parse_chunk, [[documents[i] for i in chunk] for chunk in chunks])
            for chunk, parsed in zip(chunks, done):
                for index, (result, verdict) in zip(chunk, parsed):
                    results[index] = result
                    if verdict is not None:
                        _remember_verdict(*verdict)
    else:
        for index in pending:
            results[index] = _parse_one(*documents[index])
    return results  # type: ignore[return-value]
