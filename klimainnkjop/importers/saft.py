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
ReferenceNumber, else SourceDocumentID. Natural key: TransactionID + RecordID + the posting year.

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

import pyarrow as pa
from lxml import etree

from klimainnkjop.importers import validation, xmlsafe
from klimainnkjop.core.errors import reason
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
    if len(account) >= 5 and account.isdecimal() and account[:3] in _kostra_arts():
        return account[:3]
    return ""


MAX_AMOUNT = Decimal(10) ** 13  # as core.values.MAX_AMOUNT: beyond any purchase, and beyond 64-bit øre


def _ore(text: str) -> int:
    """An xs:decimal amount in øre; ValueError (quoting it, cut) for anything else or out of range."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(reason("not a number: %(value)s", value=quoted(text.strip()))) from None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise ValueError(reason("amount out of range: %(value)s", value=quoted(text.strip())))
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def _open(data: bytes, file_name: str):
    """(root, version, warnings, validation seconds): the file parsed by the hardened parser, its root checked and
    the 1.30 schema applied (ImportRejected on a 1.30 file that breaks it, warnings for older versions)."""
    import time

    root = xmlsafe.parse(data, file_name, huge_tree=True)  # no DOCTYPE, entities, XInclude or network
    if root.tag != f"{{{NS_URI}}}AuditFile":
        why = reason(
            "not a SAF-T Financial file: the root element is %(tag)s, expected AuditFile in namespace %(namespace)s",
            tag=root.tag, namespace=NS_URI)
        raise ImportRejected([RowError(file_name, root.sourceline, None, why)])
    version = (root.findtext("s:Header/s:AuditFileVersion", "", NS) or "").strip()
    began = time.perf_counter()
    failures = validation.xsd_failures(etree.ElementTree(root), validation.SAFT_XSD)
    seconds = time.perf_counter() - began
    warnings: list[str] = []
    if failures:
        if version in STRICT_VERSIONS:
            raise ImportRejected([RowError(file_name, _line(f.location), None,
                                           reason("SAF-T 1.30 schema: %(error)s", error=f.message))
                                  for f in failures])
        warnings.append(f"{file_name}: AuditFileVersion {quoted(version)} is older than 1.30; "
                        f"{len(failures)} deviation(s) "
                        f"from the 1.30 schema (first: {failures[0].message}); the values read were checked")
    return root, version, warnings, seconds


def _master_files(root) -> tuple[str, str, dict[str, tuple[str, str]], dict[str, str]]:
    """(company orgnr, company name, supplier id -> (orgnr or '', name), account -> group)."""
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
    return company_orgnr, company_name, suppliers, groups


def _totals(root, file_name: str) -> tuple[int | None, int | None]:
    def total(name: str) -> int | None:
        node = root.find(f"s:GeneralLedgerEntries/s:{name}", NS)
        text = node.text if node is not None else None
        if not text or not text.strip():
            return None
        try:
            return _ore(text)
        except ValueError as exc:
            raise ImportRejected([RowError(file_name, node.sourceline, name, str(exc))]) from None

    return total("TotalDebit"), total("TotalCredit")


def parse_saft(data: bytes, file_name: str) -> SaftFile:
    """The file's lines, one SaftLine each (the reference the import's columnar read, services/saft_ingest.py,
    is compared with), or ImportRejected with every error."""
    root, version, warnings, seconds = _open(data, file_name)
    company_orgnr, company_name, suppliers, groups = _master_files(root)
    errors: list[RowError] = []
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
                errors.append(RowError(file_name, tx.sourceline, "GLPostingDate",
                                       reason("not a date: %(value)s", value=quoted(date_text))))
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
        # the posting year too: many systems number transactions from 1 again in a new year's file
        line.key = hashlib.sha256(f"saft|{line.transaction_id}|{line.record_id}|{line.posting_date.year}"
                                  .encode()).hexdigest()[:32]
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise ImportRejected([not_unique(file_name)])
    total_debit, total_credit = _totals(root, file_name)
    return SaftFile(file_name, company_orgnr, company_name, version, lines, total_debit, total_credit,
                    warnings, seconds)


def not_unique(file_name: str) -> RowError:
    return RowError(file_name, None, "RecordID", reason("TransactionID + RecordID is not unique in the file"))


# ---------------------------------------------------------------- the lines as columns (the import's read)

_S = f"{{{NS_URI}}}"
_TX_TEXT = {f"{_S}TransactionID": "tx_id", f"{_S}GLPostingDate": "gl_date", f"{_S}TransactionDate": "tx_date"}
_LINE_TEXT = {f"{_S}RecordID": "record_id", f"{_S}AccountID": "account", f"{_S}SupplierID": "supplier_id",
              f"{_S}ReferenceNumber": "reference", f"{_S}SourceDocumentID": "source_document",
              f"{_S}Description": "description"}
_AMOUNT, _DEBIT, _CREDIT = f"{_S}Amount", f"{_S}DebitAmount", f"{_S}CreditAmount"
_TAX, _TAX_AMOUNT = f"{_S}TaxInformation", f"{_S}TaxAmount"
_DEBIT_TAX, _CREDIT_TAX = f"{_S}DebitTaxAmount", f"{_S}CreditTaxAmount"


@dataclass
class SaftColumns:
    """A SAF-T file read for the import as columns (no object per line): `transactions` (tx_no, row, journal_id,
    tx_id, gl_date, tx_date), `lines` (pos, tx_no, row, record_id, account, supplier_id, reference,
    source_document, description) and `amounts` (pos, ord, text, sign, vat, strict: each amount of a line in the
    order the importer reads them, `strict` where a blank text is an error and not 0), every text as the XML has it
    (not stripped; '' where the element is absent or empty); `suppliers` (supplier_id, orgnr, name) from the master
    files (the account groups are not stored with the lines, so not read). `totals()` checks GeneralLedgerEntries'
    TotalDebit and TotalCredit."""

    file_name: str
    company_orgnr: str
    company_name: str
    version: str
    warnings: list[str]
    validation_seconds: float
    transactions: pa.Table
    lines: pa.Table
    amounts: pa.Table
    suppliers: pa.Table
    root: object = field(repr=False, default=None)

    def totals(self) -> tuple[int | None, int | None]:
        return _totals(self.root, self.file_name)


def _first_amount(parent, tag: str):
    """findtext(f"{tag}/Amount", None) of `parent`: the first Amount under any `tag` child ('' for an empty one)."""
    for child in parent.iterchildren(tag):
        amount = child.find(_AMOUNT)
        if amount is not None:
            return amount.text or ""
    return None


def read_columns(data: bytes, file_name: str) -> SaftColumns:
    """The file's transactions, lines and amounts as Arrow columns, texts as written: what importers' parse_saft
    checks and converts per line is left to SQL (engine.ingest.SaftIngest). One pass over the lines' children."""
    root, version, warnings, seconds = _open(data, file_name)
    company_orgnr, company_name, suppliers, _ = _master_files(root)
    tx_cols: dict[str, list] = {k: [] for k in ("tx_no", "row", "journal_id", "tx_id", "gl_date", "tx_date")}
    line_cols: dict[str, list] = {k: [] for k in ("pos", "tx_no", "row", *_LINE_TEXT.values())}
    amount_cols: dict[str, list] = {k: [] for k in ("pos", "ord", "text", "sign", "vat", "strict")}
    # (bound once: the loop below runs per line and per child, and is most of the read's time)
    line_text = [line_cols[name] for name in _LINE_TEXT.values()]
    slot = {tag: i for i, tag in enumerate(_LINE_TEXT)}
    line_pos, line_tx, line_row = line_cols["pos"].append, line_cols["tx_no"].append, line_cols["row"].append
    a_pos, a_ord, a_text = amount_cols["pos"].append, amount_cols["ord"].append, amount_cols["text"].append
    a_sign, a_vat, a_strict = amount_cols["sign"].append, amount_cols["vat"].append, amount_cols["strict"].append
    line_tags = (*_LINE_TEXT, _DEBIT, _CREDIT, _TAX)
    tx_tags = (*_TX_TEXT, f"{_S}Line")
    width = len(_LINE_TEXT)
    tx_no = pos = 0
    for journal in root.iterfind("s:GeneralLedgerEntries/s:Journal", NS):
        journal_id = journal.findtext("s:JournalID", "", NS) or ""
        for tx in journal.iterfind("s:Transaction", NS):
            tx_no += 1
            found: dict[str, str] = {}
            tx_lines = []
            for child in tx.iterchildren(tx_tags):
                name = _TX_TEXT.get(child.tag)
                if name is None:
                    tx_lines.append(child)
                elif name not in found:
                    found[name] = child.text or ""
            tx_cols["tx_no"].append(tx_no)
            tx_cols["row"].append(tx.sourceline)
            tx_cols["journal_id"].append(journal_id)
            tx_cols["tx_id"].append(found.get("tx_id", ""))
            tx_cols["gl_date"].append(found.get("gl_date", ""))
            tx_cols["tx_date"].append(found.get("tx_date", ""))
            for ln in tx_lines:
                pos += 1
                texts: list = [None] * width
                debit = credit = None
                order = 2
                for child in ln.iterchildren(line_tags):
                    tag = child.tag
                    i = slot.get(tag)
                    if i is not None:
                        if texts[i] is None:
                            texts[i] = child.text or ""
                    elif tag == _TAX:  # TaxAmount when written (a blank one is an error), else debit - credit
                        plain = _first_amount(child, _TAX_AMOUNT)
                        if plain:
                            a_pos(pos), a_ord(order), a_text(plain), a_sign(1), a_vat(True), a_strict(True)
                        else:
                            for text, sign, at in ((_first_amount(child, _DEBIT_TAX), 1, order),
                                                   (_first_amount(child, _CREDIT_TAX), -1, order + 1)):
                                if text:
                                    a_pos(pos), a_ord(at), a_text(text), a_sign(sign), a_vat(True), a_strict(False)
                        order += 2
                    elif tag == _DEBIT:
                        if debit is None:
                            amount = child.find(_AMOUNT)
                            debit = None if amount is None else amount.text or ""
                    elif credit is None:
                        amount = child.find(_AMOUNT)
                        credit = None if amount is None else amount.text or ""
                line_pos(pos), line_tx(tx_no), line_row(ln.sourceline or 0)
                for column, text in zip(line_text, texts):
                    column.append(text or "")
                if debit:
                    a_pos(pos), a_ord(0), a_text(debit), a_sign(1), a_vat(False), a_strict(False)
                if credit:
                    a_pos(pos), a_ord(1), a_text(credit), a_sign(-1), a_vat(False), a_strict(False)
    return SaftColumns(
        file_name=file_name, company_orgnr=company_orgnr, company_name=company_name, version=version,
        warnings=warnings, validation_seconds=seconds,
        transactions=pa.table(tx_cols, schema=pa.schema([("tx_no", pa.int32()), ("row", pa.int32()),
                                                         ("journal_id", pa.string()), ("tx_id", pa.string()),
                                                         ("gl_date", pa.string()), ("tx_date", pa.string())])),
        lines=pa.table(line_cols, schema=pa.schema([("pos", pa.int32()), ("tx_no", pa.int32()), ("row", pa.int32()),
                                                    *[(n, pa.string()) for n in _LINE_TEXT.values()]])),
        amounts=pa.table(amount_cols, schema=pa.schema([("pos", pa.int32()), ("ord", pa.int32()),
                                                        ("text", pa.string()), ("sign", pa.int8()),
                                                        ("vat", pa.bool_()), ("strict", pa.bool_())])),
        suppliers=pa.table({"supplier_id": list(suppliers), "orgnr": [o for o, _ in suppliers.values()],
                            "name": [n for _, n in suppliers.values()]},
                           schema=pa.schema([("supplier_id", pa.string()), ("orgnr", pa.string()),
                                             ("name", pa.string())])),
        root=root)


def amount_reading(text: str) -> tuple[int | None, str | None]:
    """(øre, None) or (None, the importer's message) of an amount text, as _ore reads it."""
    try:
        return _ore(text), None
    except ValueError as exc:
        return None, str(exc)


def date_reading(text: str) -> dt.date | None:
    """The posting date the importer reads from a (stripped) date text, or None."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _line(location: str) -> int | None:
    return int(location[5:]) if location.startswith("line ") and location[5:].isdecimal() else None


def _amount(node, name: str) -> int:
    text = node.findtext(f"s:{name}/s:Amount", None, NS)
    return _ore(text) if text is not None and text.strip() else 0


def _line_of(file_name, ln, posting, journal_id, tx_id, tx_supplier, suppliers, groups, errors) -> SaftLine | None:
    record_id = (ln.findtext("s:RecordID", "", NS) or "").strip()
    account = (ln.findtext("s:AccountID", "", NS) or "").strip()
    if not record_id or not account:
        errors.append(RowError(file_name, ln.sourceline, "RecordID" if not record_id else "AccountID",
                               reason("missing")))
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
