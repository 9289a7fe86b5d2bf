"""SAF-T Financial (Norwegian, Skatteetaten) general-ledger entries parsed into ledger-like lines.

Validation: the file must be well-formed XML in the SAF-T Financial namespace. A file that declares
AuditFileVersion 1.3/1.30 is validated against the shipped 1.30 XSD and rejected on any violation.
Older versions (1.0, 1.10: StandardAccountID instead of GroupingCategory/GroupingCode) have no schema
shipped here; their deviations from 1.30 are reported as warnings, and every value the importer reads is
checked strictly (dates, amounts, ids) — a bad value rejects the file.

Lines: every GeneralLedgerEntries/Journal/Transaction/Line, amount = debit − credit (expenses
positive, like the ledger import), VAT from the line's TaxInformation (debit − credit tax amount).
The supplier is the line's SupplierID, or else the one supplier named on another line of the same
transaction (SAF-T puts SupplierID on the creditor line, not on the cost line), looked up in
MasterFiles/Suppliers for name and RegistrationNumber (orgnr). invoice_no = the line's
ReferenceNumber, else SourceDocumentID. Natural key: TransactionID + RecordID.

KOSTRA art: the account's first three digits when the account looks municipal — at least five digits
whose first three are a KOSTRA art code; otherwise empty (a private NS 4102 chart, e.g. 4000, would give
a false art). StandardAccountID / GroupingCode is kept in `account_group` for the engine's later
NS 4102-based classification; it is not used for the art.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from lxml import etree

from klimainnkjop.importers import validation, xmlsafe
from klimainnkjop.importers.errors import ImportRejected, RowError, quoted
from klimainnkjop.core.kostra import OrgNumber

NS_URI = "urn:StandardAuditFile-Taxation-Financial:NO"
NS = {"s": NS_URI}
STRICT_VERSIONS = {"1.3", "1.30"}


@dataclass
class SaftLine:
    row_no: int            # the line's source line number in the XML
    posting_date: dt.date
    journal_id: str
    transaction_id: str
    record_id: str
    account: str
    account_group: str
    art: str
    supplier_orgnr: str
    supplier_name: str
    amount_ore: int
    vat_ore: int
    description: str
    invoice_no: str
    key: str = ""


@dataclass
class SaftFile:
    file_name: str
    company_orgnr: str
    company_name: str
    version: str
    lines: list[SaftLine]
    total_debit_ore: int | None
    total_credit_ore: int | None
    warnings: list[str] = field(default_factory=list)
    validation_seconds: float = 0.0


@lru_cache(maxsize=1)
def _kostra_arts() -> frozenset[str]:
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "data" / "kostra_arts.csv"
    with open(path, encoding="utf-8") as fh:
        sample = fh.readline()
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=";" if ";" in sample else ",")
        column = next(c for c in reader.fieldnames if c.lower() in ("art", "code", "kode"))
        return frozenset(row[column].strip() for row in reader if row[column].strip())


def art_for_account(account: str) -> str:
    account = account.strip()
    if len(account) >= 5 and account.isdigit() and account[:3] in _kostra_arts():
        return account[:3]
    return ""


MAX_AMOUNT = Decimal(10) ** 13  # as core.values.MAX_AMOUNT: beyond any purchase, and beyond 64-bit øre


def _ore(text: str) -> int:
    """An xs:decimal amount in øre; ValueError (quoting it, cut) for anything else or out of range."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {quoted(text.strip())}") from None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise ValueError(f"amount out of range: {quoted(text.strip())}")
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def parse_saft(data: bytes, file_name: str) -> SaftFile:
    import time

    root = xmlsafe.parse(data, file_name, huge_tree=True)  # no DOCTYPE, entities, XInclude or network
    if root.tag != f"{{{NS_URI}}}AuditFile":
        raise ImportRejected([RowError(file_name, root.sourceline, None,
                                       f"not a SAF-T Financial file: the root element is {root.tag}, expected "
                                       f"AuditFile in namespace {NS_URI}")])
    version = (root.findtext("s:Header/s:AuditFileVersion", "", NS) or "").strip()
    began = time.perf_counter()
    failures = validation.xsd_failures(etree.ElementTree(root), validation.SAFT_XSD)
    seconds = time.perf_counter() - began
    warnings: list[str] = []
    if failures:
        if version in STRICT_VERSIONS:
            raise ImportRejected([RowError(file_name, _line(f.location), None, f"SAF-T 1.30 schema: {f.message}")
                                  for f in failures])
        warnings.append(f"{file_name}: AuditFileVersion {quoted(version)} is older than 1.30; "
                        f"{len(failures)} deviation(s) "
                        f"from the 1.30 schema (first: {failures[0].message}); the values read were checked")

    errors: list[RowError] = []
    company_orgnr = (root.findtext("s:Header/s:Company/s:RegistrationNumber", "", NS) or "").strip()
    company_name = (root.findtext("s:Header/s:Company/s:Name", "", NS) or "").strip()
    suppliers = {}
    for supplier in root.iterfind("s:MasterFiles/s:Suppliers/s:Supplier", NS):
        sid = (supplier.findtext("s:SupplierID", "", NS) or "").strip()
        orgnr = (supplier.findtext("s:RegistrationNumber", "", NS) or "").strip().replace(" ", "")
        if orgnr.upper().startswith("NO"):
            orgnr = orgnr[2:11]
        suppliers[sid] = (orgnr if OrgNumber.is_well_formed(orgnr) else "",
                          (supplier.findtext("s:Name", "", NS) or "").strip())
    groups = {}
    for account in root.iterfind("s:MasterFiles/s:GeneralLedgerAccounts/s:Account", NS):
        groups[(account.findtext("s:AccountID", "", NS) or "").strip()] = (
            account.findtext("s:StandardAccountID", "", NS) or account.findtext("s:GroupingCode", "", NS) or "").strip()

    lines: list[SaftLine] = []
    for journal in root.iterfind("s:GeneralLedgerEntries/s:Journal", NS):
        journal_id = (journal.findtext("s:JournalID", "", NS) or "").strip()
        for tx in journal.iterfind("s:Transaction", NS):
            tx_id = (tx.findtext("s:TransactionID", "", NS) or "").strip()
            date_text = (tx.findtext("s:GLPostingDate", "", NS) or tx.findtext("s:TransactionDate", "", NS)
                         or "").strip()
            try:
                posting = dt.date.fromisoformat(date_text)
            except ValueError:
                errors.append(RowError(file_name, tx.sourceline, "GLPostingDate", f"not a date: {quoted(date_text)}"))
                continue
            tx_lines = tx.findall("s:Line", NS)
            named = {(ln.findtext("s:SupplierID", "", NS) or "").strip() for ln in tx_lines} - {""}
            tx_supplier = next(iter(named)) if len(named) == 1 else ""
            for ln in tx_lines:
                line = _line_of(file_name, ln, posting, journal_id, tx_id, tx_supplier, suppliers, groups, errors)
                if line is not None:
                    lines.append(line)
    if errors:
        raise ImportRejected(errors)
    for line in lines:
        line.key = hashlib.sha256(f"saft|{line.transaction_id}|{line.record_id}".encode()).hexdigest()[:32]
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise ImportRejected([RowError(file_name, None, "RecordID",
                                       "TransactionID + RecordID is not unique in the file")])

    def total(name: str) -> int | None:
        node = root.find(f"s:GeneralLedgerEntries/s:{name}", NS)
        text = node.text if node is not None else None
        if not text or not text.strip():
            return None
        try:
            return _ore(text)
        except ValueError as exc:
            raise ImportRejected([RowError(file_name, node.sourceline, name, str(exc))]) from None

    return SaftFile(file_name, company_orgnr, company_name, version, lines, total("TotalDebit"), total("TotalCredit"),
                    warnings, seconds)


def _line(location: str) -> int | None:
    return int(location[5:]) if location.startswith("line ") and location[5:].isdigit() else None


def _amount(node, name: str) -> int:
    text = node.findtext(f"s:{name}/s:Amount", None, NS)
    return _ore(text) if text is not None and text.strip() else 0


def _line_of(file_name, ln, posting, journal_id, tx_id, tx_supplier, suppliers, groups, errors) -> SaftLine | None:
    record_id = (ln.findtext("s:RecordID", "", NS) or "").strip()
    account = (ln.findtext("s:AccountID", "", NS) or "").strip()
    if not record_id or not account:
        errors.append(RowError(file_name, ln.sourceline, "RecordID" if not record_id else "AccountID", "missing"))
        return None
    try:
        amount = _amount(ln, "DebitAmount") - _amount(ln, "CreditAmount")
        vat = 0
        for tax in ln.iterfind("s:TaxInformation", NS):
            plain = tax.findtext("s:TaxAmount/s:Amount", None, NS)
            vat += _ore(plain) if plain else _amount(tax, "DebitTaxAmount") - _amount(tax, "CreditTaxAmount")
    except ValueError as exc:
        errors.append(RowError(file_name, ln.sourceline, "Amount", str(exc)))
        return None
    supplier_id = (ln.findtext("s:SupplierID", "", NS) or "").strip() or tx_supplier
    orgnr, name = suppliers.get(supplier_id, ("", ""))
    reference = (ln.findtext("s:ReferenceNumber", "", NS) or ln.findtext("s:SourceDocumentID", "", NS) or "").strip()
    return SaftLine(
        row_no=ln.sourceline or 0, posting_date=posting, journal_id=journal_id, transaction_id=tx_id,
        record_id=record_id, account=account, account_group=groups.get(account, ""), art=art_for_account(account),
        supplier_orgnr=orgnr, supplier_name=name, amount_ore=amount, vat_ore=vat,
        description=(ln.findtext("s:Description", "", NS) or "").strip(), invoice_no=reference,
    )
