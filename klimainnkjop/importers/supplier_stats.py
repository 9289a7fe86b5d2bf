"""Supplier purchase statistics: a framework supplier's periodic report of what one customer bought
(products, quantities, amounts), as CSV or XLSX, mapped to lines by a saved profile.

A profile names the report's columns for these fields (period or date and amount are required; the supplier
orgnr comes from a column or is fixed in the profile as `supplier_orgnr`):

  period, customer_orgnr, supplier_orgnr, supplier_name, product_name, product_no, item_class_code,
  item_class_scheme, quantity, quantity_unit, amount (excl. VAT, NOK), invoice_no, line_id

`period` is a date (any of the usual formats, or `date_format`) or a month (2024-03, 03.2024, 202403,
2024M03): a month's rows are dated its first day.

Customers: a report often covers every customer of a framework agreement. Rows whose customer orgnr is
another organisation's are skipped and counted (`rows_other_customer`), so the same report can be imported
for each member; a file in which no row is the named organisation's is refused, since it is then almost
certainly the wrong file or the wrong --org. Rows without a customer orgnr are the named organisation's.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from klimainnkjop.core import units, values
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, listing, quoted
from klimainnkjop.importers.tabular import column_positions, profile_columns, read_table, setting_problems

FIELDS = ("period", "customer_orgnr", "supplier_orgnr", "supplier_name", "product_name", "product_no",
          "item_class_code", "item_class_scheme", "quantity", "quantity_unit", "amount", "invoice_no", "line_id")
REQUIRED = ("period", "amount")
SCHEMES = {"cpv": "cpv", "stl": "cpv", "unspsc": "unspsc", "tst": "unspsc", "gtin": "gtin", "nace": "nace"}
SETTINGS = {"name", "kind", "columns", "encoding", "delimiter", "sheet", "header_row", "date_format", "supplier_orgnr",
            "supplier_name", "item_class_scheme", "values", "amount_includes_vat", "description"}


@dataclass
class StatsProfile:
    name: str
    columns: dict[str, str]
    supplier_orgnr: str = ""
    supplier_name: str = ""
    item_class_scheme: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    date_format: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_spec(cls, spec: dict, source: str = "profile") -> "StatsProfile":
        name, columns, problems = profile_columns(spec, source, FIELDS, REQUIRED)
        fixed_supplier = str(spec.get("supplier_orgnr") or "")
        if fixed_supplier:
            try:
                fixed_supplier = values.parse_orgnr(fixed_supplier)
            except ValueError as exc:
                problems.append(f"supplier_orgnr: {exc}")
        if "supplier_orgnr" not in columns and not fixed_supplier:
            problems.append("map a 'supplier_orgnr' column or give the supplier as \"supplier_orgnr\": \"9 digits\"")
        if spec.get("kind", "supplier_stats") not in ("supplier_stats", "supplier-stats"):
            problems.append(f"kind {quoted(spec.get('kind'), 30)} is not supplier_stats")
        scheme = str(spec.get("item_class_scheme") or "").lower()
        if scheme and scheme not in SCHEMES:
            known = ", ".join(sorted(set(SCHEMES.values())))
            problems.append(f"item_class_scheme {quoted(scheme, 30)}: use one of {known}")
        if spec.get("amount_includes_vat"):
            problems.append("amounts must be excl. VAT (amount_includes_vat is not supported for supplier reports)")
        extra = sorted(set(spec) - SETTINGS)
        if extra:
            problems.append(f"unknown setting(s) {listing(extra)}")
        problems += setting_problems(spec, ("supplier_orgnr", "supplier_name", "item_class_scheme", "kind"))
        if isinstance(spec.get("supplier_name"), str) and len(spec["supplier_name"]) > 300:
            problems.append("'supplier_name' is longer than 300 characters")
        if problems:
            raise ValueError(f"{source}: " + "; ".join(problems))
        return cls(name=name, columns={k: str(v) for k, v in columns.items() if v}, supplier_orgnr=fixed_supplier,
                   supplier_name=str(spec.get("supplier_name") or ""), item_class_scheme=SCHEMES.get(scheme, ""),
                   encoding=spec.get("encoding"), delimiter=spec.get("delimiter"), sheet=spec.get("sheet"),
                   header_row=int(spec.get("header_row", 1)), date_format=spec.get("date_format"),
                   values=spec.get("values", {}) or {}, description=str(spec.get("description") or ""))

    def to_spec(self) -> dict:
        return {"name": self.name, "kind": "supplier_stats", "columns": self.columns,
                "supplier_orgnr": self.supplier_orgnr, "supplier_name": self.supplier_name,
                "item_class_scheme": self.item_class_scheme, "encoding": self.encoding, "delimiter": self.delimiter,
                "sheet": self.sheet, "header_row": self.header_row, "date_format": self.date_format,
                "values": self.values, "description": self.description}


@dataclass
class StatsLine:
    row_no: int
    date: dt.date
    supplier_orgnr: str
    supplier_name: str
    product_name: str
    product_no: str
    item_class_scheme: str
    item_class_code: str
    quantity: float | None
    quantity_unit: str
    unit_text: str
    amount_ore: int
    invoice_no: str
    line_id: str
    key: str = ""


@dataclass
class ParsedStats:
    file_name: str
    rows_read: int
    rows_other_customer: int
    lines: list[StatsLine]


_MONTH = [(re.compile(r"^(\d{4})-(\d{1,2})$"), 1, 2), (re.compile(r"^(\d{1,2})[./](\d{4})$"), 2, 1),
          (re.compile(r"^(\d{4})(\d{2})$"), 1, 2), (re.compile(r"^(\d{4})[Mm](\d{1,2})$"), 1, 2)]


def parse_period(text: str, fmt: str | None) -> dt.date:
    raw = text.strip()
    for pattern, year_group, month_group in _MONTH:
        m = pattern.match(raw)
        if m:
            year, month = int(m.group(year_group)), int(m.group(month_group))
            if not 1 <= month <= 12:
                raise ValueError(reason("not a month: %(value)s", value=quoted(text)))
            return dt.date(year, month, 1)
    return values.parse_date(raw, fmt)


def no_rows_of_customer(file_name: str, column: str | None, customer: str, others: list[tuple[str, int]]) -> RowError:
    """The refusal of a report without a row of `customer`: the file's other customers, most rows first, with their
    rows (numbers only, so that any language reads them)."""
    found = ", ".join(f"{orgnr}: {rows}" for orgnr, rows in others)
    return RowError(file_name, None, column, reason("no row is customer %(customer)s's; rows per customer in the "
                                                    "file: %(customers)s", customer=customer, customers=found))


def parse_supplier_stats(data: bytes, file_name: str, profile: StatsProfile, customer_orgnr: str) -> ParsedStats:
    """Validate the whole file; every line of `customer_orgnr`, or ImportRejected with every error."""
    table = read_table(data, file_name, encoding=profile.encoding, delimiter=profile.delimiter,
                       sheet=profile.sheet, header_row=profile.header_row)
    positions = column_positions(table, profile.columns, file_name, profile.header_row)
    errors: list[RowError] = []
    lines: list[StatsLine] = []
    others: Counter[str] = Counter()
    for row_no, cells in table.rows:
        line = parse_row(file_name, row_no, cells, positions, profile, customer_orgnr, errors, others)
        if line is not None:
            lines.append(line)
    if not errors and not lines and others:
        errors.append(no_rows_of_customer(file_name, profile.columns.get("customer_orgnr"), customer_orgnr,
                                          others.most_common(5)))
    if errors:
        raise ImportRejected(errors)
    _assign_keys(lines)
    return ParsedStats(file_name, len(table.rows), sum(others.values()), lines)


def parse_row(file_name: str, row_no: int, cells: list[str], positions: dict[str, int], profile: StatsProfile,
              customer_orgnr: str, errors: list[RowError], others: Counter) -> StatsLine | None:
    """One row's line, or None (its errors added to `errors`, or its customer, another's, counted in `others`)."""
    before = len(errors)

    def raw(fld: str) -> str:
        index = positions.get(fld)
        if index is None or index >= len(cells):
            return ""
        text = cells[index].strip()
        return profile.values.get(fld, {}).get(text, text)

    def parsed(fld: str, parser: Callable[[str], object], default: object = None) -> object:
        if fld not in positions:
            return default
        try:
            return parser(raw(fld))
        except ValueError as exc:
            errors.append(RowError(file_name, row_no, profile.columns[fld], str(exc)))
            return default

    if max(positions.values()) >= len(cells):
        errors.append(RowError(file_name, row_no, None, reason("only %(count)s fields, the header has more",
                                                               count=len(cells))))
        return None
    customer = parsed("customer_orgnr", values.parse_orgnr, "")
    if customer and customer != customer_orgnr:
        others[customer] += 1
        return None
    date = parsed("period", lambda t: parse_period(t, profile.date_format))
    amount = parsed("amount", values.parse_amount_ore, 0)
    supplier = parsed("supplier_orgnr", values.parse_orgnr, "") or profile.supplier_orgnr
    if not supplier and len(errors) == before:
        errors.append(RowError(file_name, row_no, profile.columns.get("supplier_orgnr"),
                               reason("no supplier orgnr")))
    quantity = parsed("quantity", values.parse_quantity, None)
    quantity_unit, unit_text = "", raw("quantity_unit")
    if quantity is not None:
        normalized = units.normalize(quantity, unit_text) if unit_text else None
        if normalized is None:
            column = profile.columns.get("quantity_unit") or profile.columns["quantity"]
            errors.append(RowError(file_name, row_no, column,
                                   reason("unknown unit %(value)s", value=quoted(unit_text)) if unit_text
                                   else reason("a quantity needs a unit")))
        else:
            quantity, quantity_unit = normalized
    code = raw("item_class_code").replace(" ", "")
    scheme = raw("item_class_scheme").lower()
    if scheme:
        if scheme not in SCHEMES:
            errors.append(RowError(file_name, row_no, profile.columns["item_class_scheme"],
                                   reason("unknown classification scheme %(value)s (cpv, unspsc, gtin)",
                                          value=quoted(scheme))))
        scheme = SCHEMES.get(scheme, scheme)
    elif code:
        scheme = profile.item_class_scheme
        if not scheme:
            why = reason("an item code needs its scheme: map 'item_class_scheme' or set it in the profile")
            errors.append(RowError(file_name, row_no, profile.columns["item_class_code"], why))
    if scheme == "cpv" and code:
        code = code.split("-")[0]  # '09134100-8': the check digit is not part of the code
    if len(errors) > before:
        return None
    return StatsLine(row_no=row_no, date=date, supplier_orgnr=supplier,
                     supplier_name=raw("supplier_name") or profile.supplier_name, product_name=raw("product_name"),
                     product_no=raw("product_no"), item_class_scheme=scheme if code else "", item_class_code=code,
                     quantity=quantity, quantity_unit=quantity_unit, unit_text=unit_text, amount_ore=amount,
                     invoice_no=raw("invoice_no"), line_id=raw("line_id"))


def line_basis(line: StatsLine) -> str:
    """What a line's natural key hashes (before its occurrence number): supplier + line id when the report has one,
    else the line's content."""
    if line.line_id:
        return f"stats|id|{line.supplier_orgnr}|{line.line_id}"
    return "stats|" + "|".join(str(x) for x in (
        line.supplier_orgnr, line.date, line.invoice_no, line.product_no, line.product_name,
        line.item_class_scheme, line.item_class_code, line.quantity, line.quantity_unit, line.amount_ore))


def _assign_keys(lines: list[StatsLine]) -> None:
    """Natural key: supplier + line id when the report has one, else the line's content with an occurrence
    counter (the n-th identical row is a purchase of its own); a later report repeating rows adds nothing."""
    seen: Counter[str] = Counter()
    for line in lines:
        basis = line_basis(line)
        seen[basis] += 1
        line.key = hashlib.sha256(f"{basis}|{seen[basis]}".encode()).hexdigest()[:32]
