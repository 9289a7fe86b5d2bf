"""Guessing a ledger layout for the mapping wizard (issue 16 item 2): which column of a file never seen before is the
date, the amount, the account or art, the supplier's orgnr and name, the description, the unit… From the header
names first (Norwegian and English words ERP exports use), then from the values of the first rows (dates, amounts,
nine-digit numbers). A guess is only a suggestion: the person confirms or changes every field before anything is
saved or imported."""
from __future__ import annotations

import re
from dataclasses import dataclass

from klimainnkjop.core import values
from klimainnkjop.importers.tabular import read_table

# the fields the wizard offers, in the order of its form (importers/ledger.FIELDS has them all)
WIZARD_FIELDS = ("posting_date", "amount", "account", "art", "function", "unit", "unit_name", "supplier_orgnr",
                 "supplier_name", "description", "invoice_no", "voucher", "vat", "currency", "project")

# header words per field, lower case, without spaces, dots, underscores or hyphens; the first field whose word is
# in the header (exactly, else as a part) wins
WORDS: dict[str, tuple[str, ...]] = {
    "posting_date": ("bilagsdato", "posteringsdato", "regnskapsdato", "dato", "date", "postingdate", "bokført"),
    "amount": ("beløp", "belop", "beløpnok", "nettobeløp", "amount", "sum", "kostnad"),
    "vat": ("mva", "mvabeløp", "vat", "merverdiavgift"),
    "supplier_orgnr": ("leverandørorgnr", "levorgnr", "orgnr", "organisasjonsnummer", "orgnummer", "supplierorgnr",
                       "vatnumber"),
    "supplier_name": ("leverandørnavn", "leverandør", "levnavn", "leverandor", "supplier", "suppliername", "vendor"),
    "account": ("konto", "kontonr", "kontonummer", "hovedbok", "account", "hovedbokskonto"),
    "art": ("art", "kostraart", "artskonto"),
    "function": ("funksjon", "kostrafunksjon", "function"),
    "unit_name": ("ansvarnavn", "ansvarsnavn", "enhetsnavn", "unitname"),
    "unit": ("ansvar", "ansvarsted", "ansvarssted", "enhet", "unit", "costcentre", "costcenter"),
    "project": ("prosjekt", "project"),
    "description": ("tekst", "beskrivelse", "posteringstekst", "bilagstekst", "description", "text", "varetekst"),
    "invoice_no": ("fakturanr", "fakturanummer", "faktura", "invoice", "invoiceno"),
    "voucher": ("bilagsnr", "bilagsnummer", "bilag", "voucher"),
    "currency": ("valuta", "currency"),
}
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y", "%Y%m%d")


@dataclass
class Sample:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # the first rows (row number in the file, cells)
    rows_read: int


def sample(data: bytes, file_name: str, *, limit: int = 10) -> Sample:
    """The header and first rows of a CSV (encoding and delimiter detected) or XLSX file; ImportRejected if it
    cannot be read."""
    table = read_table(data, file_name)
    return Sample(header=table.header, rows=table.rows[:limit], rows_read=len(table.rows))


def _key(name: str) -> str:
    return re.sub(r"[\s._\-/()]+", "", name.lower())


def _is_date(text: str) -> bool:
    try:
        values.parse_date(text, None)
    except (ValueError, TypeError):
        return False
    return True


def _is_amount(text: str) -> bool:
    if not text or not re.search(r"\d", text):
        return False
    try:
        values.parse_amount_ore(text)
    except (ValueError, TypeError):
        return False
    return True


def _share(cells: list[str], test) -> float:
    filled = [c for c in cells if c.strip()]
    return sum(1 for c in filled if test(c.strip())) / len(filled) if filled else 0.0


def guess_columns(found: Sample) -> dict[str, str]:
    """field → column name for the fields the header names or the values give away; each column at most once."""
    keys = {_key(h): h for h in found.header if h.strip()}
    guess: dict[str, str] = {}
    used: set[str] = set()
    for exact in (True, False):
        for fld, words in WORDS.items():
            if fld in guess:
                continue
            for word in words:
                hit = next((h for k, h in keys.items() if h not in used and (k == word if exact else word in k)), None)
                if hit:
                    guess[fld], _ = hit, used.add(hit)
                    break
    columns = {h: [cells[i] if i < len(cells) else "" for _, cells in found.rows] for i, h in enumerate(found.header)}
    free = [h for h in found.header if h not in used and h.strip()]
    if "posting_date" not in guess:
        hit = next((h for h in free if _share(columns[h], _is_date) >= 0.8), None)
        if hit:
            guess["posting_date"] = hit
            free.remove(hit)
    if "supplier_orgnr" not in guess:
        hit = next((h for h in free if _share(columns[h], lambda t: bool(re.fullmatch(r"\d{9}", t))) >= 0.8), None)
        if hit:
            guess["supplier_orgnr"] = hit
            free.remove(hit)
    if "amount" not in guess:  # a column with decimals or signs rather than codes
        hit = next((h for h in free if _share(columns[h], _is_amount) >= 0.8
                    and any(re.search(r"[.,]\d{1,2}$|^-", c.strip()) for c in columns[h])), None)
        if hit:
            guess["amount"] = hit
    return guess


def guess_date_format(found: Sample, column: str | None) -> str:
    """The strptime format all sample dates of the column follow, or "" (the importer's own detection)."""
    if not column or column not in found.header:
        return ""
    index = found.header.index(column)
    cells = [cells[index].strip() for _, cells in found.rows if index < len(cells) and cells[index].strip()]
    import datetime as dt

    for fmt in DATE_FORMATS:
        try:
            for cell in cells:
                dt.datetime.strptime(cell, fmt)
        except ValueError:
            continue
        return fmt if cells else ""
    return ""
