"""Ledger exports (CSV with any delimiter and encoding, or XLSX) mapped to spend lines by a profile."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from klimainnkjop.core import kostra, units, values
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, listing, quoted
from klimainnkjop.importers.tabular import column_positions, profile_columns, read_table, setting_problems

# Line fields a profile can map a column to.
FIELDS = (
    "posting_date", "account", "art", "function", "unit", "unit_name", "project", "supplier_orgnr",
    "supplier_name", "amount", "vat", "currency", "description", "invoice_no", "voucher", "line_id",
    "kontoklasse", "quantity", "quantity_unit",
)
REQUIRED = ("posting_date", "amount")
MAX_UNIT_CODE = 40  # storage.models.Unit.code


@dataclass
class Profile:
    """A column-mapping profile. `columns` maps line fields to the file's column names."""

    name: str
    columns: dict[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    date_format: str | None = None
    currency: str = "NOK"
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # per-field value translations
    amount_includes_vat: bool = False

    @classmethod
    def from_spec(cls, spec: dict, source: str = "profile") -> "Profile":
        name, columns, problems = profile_columns(spec, source, FIELDS, REQUIRED, what="line fields")
        if "art" not in columns and "account" not in columns:
            problems.append("map 'art' or 'account' (the KOSTRA art is derived from the account's first three digits)")
        allowed = {"name", "columns", "encoding", "delimiter", "sheet", "header_row", "date_format", "currency",
                   "values", "amount_includes_vat", "description"}
        extra = sorted(set(spec) - allowed)
        if extra:
            problems.append(f"unknown setting(s) {listing(extra)}")
        problems += setting_problems(spec)
        if spec.get("amount_includes_vat") is True and not columns.get("vat"):
            problems.append("'amount_includes_vat' needs the VAT column mapped ('vat'): without it the VAT would "
                            "stay in the spend")
        if isinstance(spec.get("currency"), str):
            try:
                values.parse_currency(spec["currency"])
            except ValueError as exc:
                problems.append(f"'currency': {exc}")
        if problems:
            raise ValueError(f"{source}: " + "; ".join(problems))
        return cls(
            name=name,
            columns={k: str(v) for k, v in columns.items() if v},
            encoding=spec.get("encoding"),
            delimiter=spec.get("delimiter"),
            sheet=spec.get("sheet"),
            header_row=int(spec.get("header_row", 1)),
            date_format=spec.get("date_format"),
            currency=values.parse_currency(spec.get("currency") or "NOK"),
            values=spec.get("values", {}) or {},
            amount_includes_vat=bool(spec.get("amount_includes_vat", False)),
        )

    def to_spec(self) -> dict:
        return {
            "name": self.name, "columns": self.columns, "encoding": self.encoding, "delimiter": self.delimiter,
            "sheet": self.sheet, "header_row": self.header_row, "date_format": self.date_format,
            "currency": self.currency, "values": self.values, "amount_includes_vat": self.amount_includes_vat,
        }


@dataclass
class ParsedLine:
    row_no: int
    posting_date: object
    account: str
    art: str
    function: str
    unit: str
    unit_name: str
    project: str
    supplier_orgnr: str
    supplier_name: str
    amount_minor: int      # in `currency`, hundredths
    vat_minor: int
    currency: str
    description: str
    invoice_no: str
    voucher: str
    line_id: str
    investment: bool
    quantity: float | None = None
    quantity_unit: str = ""
    key: str = ""


@dataclass
class ParsedFile:
    file_name: str
    rows_read: int
    lines: list[ParsedLine]


def parse_ledger(data: bytes, file_name: str, profile: Profile) -> ParsedFile:
    """Validate the whole file. Returns every line, or raises ImportRejected with every error."""
    table = read_table(data, file_name, encoding=profile.encoding, delimiter=profile.delimiter,
                       sheet=profile.sheet, header_row=profile.header_row)
    positions = column_positions(table, profile.columns, file_name, profile.header_row)
    errors: list[RowError] = []
    lines: list[ParsedLine] = []
    for row_no, cells in table.rows:
        line = _parse_row(file_name, row_no, cells, positions, profile, errors)
        if line is not None:
            lines.append(line)
    if errors:
        raise ImportRejected(errors)
    _assign_keys(lines)
    return ParsedFile(file_name=file_name, rows_read=len(table.rows), lines=lines)


def parse_row(file_name: str, row_no: int, cells: list[str], positions: dict[str, int], profile: Profile,
              errors: list[RowError]) -> ParsedLine | None:
    """One row's line, or None with its errors appended (the reading every other reader of ledgers defers to)."""
    return _parse_row(file_name, row_no, cells, positions, profile, errors)


def _parse_row(file_name: str, row_no: int, cells: list[str], positions: dict[str, int], profile: Profile,
               errors: list[RowError]) -> ParsedLine | None:
    before = len(errors)

    def raw(fld: str) -> str:
        index = positions.get(fld)
        if index is None:
            return ""
        text = cells[index].strip() if index < len(cells) else ""
        mapping = profile.values.get(fld)
        if mapping:
            text = mapping.get(text, text)
        return text

    def parsed(fld: str, parser: Callable[[str], object], default: object = None) -> object:
        text = raw(fld)
        if fld not in positions:
            return default
        try:
            return parser(text)
        except ValueError as exc:
            errors.append(RowError(file_name, row_no, profile.columns[fld], str(exc)))
            return default

    if max(positions.values()) >= len(cells):
        errors.append(RowError(file_name, row_no, None, reason("only %(count)s fields, the header has more",
                                                               count=len(cells))))
        return None

    posting_date = parsed("posting_date", lambda t: values.parse_date(t, profile.date_format))
    amount = parsed("amount", values.parse_amount_ore, 0)
    vat = parsed("vat", lambda t: values.parse_amount_ore(t) if t else 0, 0)
    currency = parsed("currency", values.parse_currency, profile.currency)
    account = raw("account")
    art = parsed("art", values.parse_art, "")
    if not art and account:
        art = kostra.art_from_account(account) or ""
    supplier_orgnr = parsed("supplier_orgnr", values.parse_orgnr, "")
    if len(raw("unit")) > MAX_UNIT_CODE:
        errors.append(RowError(file_name, row_no, profile.columns["unit"],
                               reason("a unit code is at most %(limit)s characters: %(value)s", limit=MAX_UNIT_CODE,
                                      value=quoted(raw("unit")))))
    investment = parsed("kontoklasse", values.parse_kontoklasse, False)
    quantity = parsed("quantity", values.parse_quantity, None)
    quantity_unit = ""
    if quantity is not None:
        normalized = units.normalize(quantity, raw("quantity_unit")) if raw("quantity_unit") else None
        if normalized is None:
            column = profile.columns.get("quantity_unit") or profile.columns["quantity"]
            why = (reason("unknown unit %(value)s", value=quoted(raw("quantity_unit"))) if raw("quantity_unit")
                   else reason("a quantity needs a unit"))
            errors.append(RowError(file_name, row_no, column, why))
        else:
            quantity, quantity_unit = normalized
    if len(errors) > before:
        return None
    if profile.amount_includes_vat:
        amount -= vat
    return ParsedLine(
        row_no=row_no, posting_date=posting_date, account=account, art=art, function=raw("function"),
        unit=raw("unit"), unit_name=raw("unit_name"), project=raw("project"), supplier_orgnr=supplier_orgnr,
        supplier_name=raw("supplier_name"), amount_minor=amount, vat_minor=vat, currency=currency,
        description=raw("description"), invoice_no=raw("invoice_no"), voucher=raw("voucher"),
        line_id=raw("line_id"), investment=bool(investment), quantity=quantity, quantity_unit=quantity_unit,
    )


def line_basis(line: ParsedLine) -> str:
    """What a line's natural key hashes (before its repetition number): voucher, line id and the posting year (many
    ledgers number their vouchers from 1 again each year), or its content (which holds the date)."""
    if line.line_id:
        return f"id|{line.voucher}|{line.line_id}|{line.posting_date.year if line.posting_date else ''}"
    return "|".join(str(x) for x in (
        line.posting_date, line.account, line.art, line.function, line.unit, line.project,
        line.supplier_orgnr, line.amount_minor, line.vat_minor, line.currency, line.description,
        line.invoice_no, line.voucher, line.investment, line.quantity, line.quantity_unit,
    ))


def _assign_keys(lines: list[ParsedLine]) -> None:
    """Natural key: voucher + line id when the export has them, else the line's content.

    Identical lines within one file are distinct purchases, so the n-th repetition gets n in its key;
    an overlapping export that holds the same lines produces the same keys.
    """
    seen: Counter[str] = Counter()
    for line in lines:
        basis = line_basis(line)
        seen[basis] += 1
        digest = hashlib.sha256(f"{basis}|{seen[basis]}".encode()).hexdigest()[:32]
        line.key = digest
