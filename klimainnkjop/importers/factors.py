"""Factor set files (docs/factor-set-template.md): CSV with `# key: value` metadata, or XLSX with sheets
`set` and `factors`. Validates everything; returns the set or raises ImportRejected with every error."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from klimainnkjop.core import units, values
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, listing, quoted
from klimainnkjop.importers.tabular import XLSX_MAGIC, _cell_text, decode, open_workbook, sheet_values

REQUIRED_META = ("name", "version", "publisher", "licence", "attribution")
# the lengths storage.models.FactorSet and Factor keep
MAX_META = {"name": 100, "version": 40, "publisher": 200, "licence": 200, "gwp_basis": 40}
MAX_COLUMN = {"region": 10, "source_ref": 300}
MAX_FACTOR = 1e12
OPTIONAL_META = ("gwp_basis", "description", "status", "role")
COLUMNS = ("key", "basis", "unit", "price_year", "price_type", "value", "low", "high", "region", "valid_from",
           "valid_to", "quality", "source_ref", "note")
REQUIRED_COLUMNS = ("key", "basis", "unit", "value", "source_ref")
ROLES = ("spend-default", "spend-fallback", "activity", "market", "")
DEFAULT_RANGE = {1: 0.2, 2: 0.2, 3: 0.3, 4: 0.5, 5: 0.7}  # relative half-width by data quality


@dataclass
class FactorRow:
    row_no: int
    key: str
    basis: str
    unit: str
    price_year: int | None
    price_type: str
    value: float
    low: float
    high: float
    region: str
    valid_from: int
    valid_to: int
    quality: int
    source_ref: str
    note: str


@dataclass
class FactorSetFile:
    meta: dict[str, str]
    rows: list[FactorRow] = field(default_factory=list)


def parse_factor_set(data: bytes, file_name: str, categories: set[str]) -> FactorSetFile:
    if data.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx"):
        meta, header, records = _read_xlsx(data, file_name)
        header_row = 1
    else:
        meta, header, records, header_row = _read_csv(data, file_name)
    errors: list[RowError] = []
    for key in REQUIRED_META:
        if not meta.get(key, "").strip():
            errors.append(RowError(file_name, None, key, reason("metadata '%(key)s' is missing", key=key)))
    for key, limit in MAX_META.items():
        if len(meta.get(key, "").strip()) > limit:
            errors.append(RowError(file_name, None, key,
                                   reason("metadata '%(key)s' is longer than %(limit)s characters", key=key,
                                          limit=limit)))
    unknown_meta = sorted(set(meta) - set(REQUIRED_META) - set(OPTIONAL_META))
    if unknown_meta:
        errors.append(RowError(file_name, None, None,
                               reason("unknown metadata %(keys)s", keys=listing(unknown_meta))))
    if meta.get("status", "published") not in ("published", "draft"):
        errors.append(RowError(file_name, None, "status", reason("status must be published or draft")))
    if meta.get("role", "") not in ROLES:
        errors.append(RowError(file_name, None, "role", reason("role must be one of %(expected)s",
                                                               expected=", ".join(r for r in ROLES if r))))
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        errors.append(RowError(file_name, header_row, None,
                               reason("missing column(s) %(columns)s", columns=", ".join(missing))))
    extra = [c for c in header if c and c not in COLUMNS]
    if extra:
        errors.append(RowError(file_name, header_row, None,
                               reason("unknown column(s) %(columns)s", columns=listing(extra))))
    if errors:
        raise ImportRejected(errors)
    rows = []
    seen: dict[tuple, int] = {}
    for row_no, cells in records:
        record = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        row = _parse_row(file_name, row_no, record, categories, errors)
        if row is not None:
            identity = (row.key, row.basis, row.unit, row.valid_from)
            if identity in seen:
                errors.append(RowError(file_name, row_no, "key",
                                       reason("duplicate of row %(row)s (%(key)s, %(basis)s, %(unit)s, from %(year)s)",
                                              row=seen[identity], key=row.key, basis=row.basis, unit=row.unit,
                                              year=row.valid_from)))
            seen[identity] = row_no
            rows.append(row)
    if not records:
        errors.append(RowError(file_name, None, None, reason("the set has no factors")))
    if errors:
        raise ImportRejected(errors)
    return FactorSetFile(meta={k: v.strip() for k, v in meta.items()}, rows=rows)


def _parse_row(file_name, row_no, r, categories, errors) -> FactorRow | None:
    before = len(errors)

    def err(column, reason):
        errors.append(RowError(file_name, row_no, column, reason))

    def number(column, required=False):
        text = r.get(column, "")
        if not text:
            if required:
                err(column, reason("a number is required"))
            return None
        try:
            number = values.parse_number(text)
        except ValueError as exc:
            err(column, str(exc))
            return None
        if abs(number) > MAX_FACTOR:
            err(column, reason("out of range: %(value)s", value=quoted(text)))
            return None
        return float(number)

    def year(column, default):
        text = r.get(column, "")
        if not text:
            return default
        if not re.fullmatch(r"\d{4}", text):
            err(column, reason("not a year: %(value)s", value=quoted(text)))
            return default
        return int(text)

    key = r.get("key", "")
    if key not in categories:
        err("key", reason("unknown category %(code)s; add it to the taxonomy first", code=quoted(key)))
    basis = r.get("basis", "")
    unit = r.get("unit", "")
    price_year = None
    if basis == "spend":
        if not re.fullmatch(r"[A-Z]{3}", unit):
            err("unit", reason("a spend factor's unit is a currency code (NOK, USD, EUR), not %(value)s",
                               value=quoted(unit)))
        price_year = year("price_year", None)
        if price_year is None and "price_year" not in {e.column for e in errors[before:]}:
            err("price_year", reason("a spend factor needs the price year of its currency"))
    elif basis == "activity":
        canonical = units.canonical(unit)
        if canonical is None or canonical not in units.CANONICAL:
            err("unit", reason("unknown physical unit %(value)s; use one of %(expected)s", value=quoted(unit),
                               expected=", ".join(units.CANONICAL)))
        else:
            unit = canonical
    else:
        err("basis", reason("basis must be spend or activity, not %(value)s", value=quoted(basis)))
    price_type = r.get("price_type", "") or "purchaser"
    if price_type not in ("purchaser", "basic"):
        err("price_type", reason("price_type must be purchaser or basic"))
    value = number("value", required=True)
    if value is not None and value < 0:
        err("value", reason("a factor must not be negative"))
    quality_text = r.get("quality", "")
    quality = 4 if basis == "spend" else 3
    if quality_text:
        if quality_text in {"1", "2", "3", "4", "5"}:
            quality = int(quality_text)
        else:
            err("quality", reason("quality is 1 (best) to 5, not %(value)s", value=quoted(quality_text)))
    low, high = number("low"), number("high")
    if value is not None:
        spread = DEFAULT_RANGE[quality]
        low = value * (1 - spread) if low is None else low
        high = value * (1 + spread) if high is None else high
        if not low <= value <= high:
            err("low", reason("the range %(low)s–%(high)s must contain the value %(value)s", low=low, high=high,
                              value=value))
    valid_from, valid_to = year("valid_from", 1900), year("valid_to", 9999)
    if valid_from > valid_to:
        err("valid_to", reason("valid_to is before valid_from"))
    if not r.get("source_ref"):
        err("source_ref", reason("every factor names its source"))
    for column, limit in MAX_COLUMN.items():
        if len(r.get(column, "")) > limit:
            err(column, reason("at most %(limit)s characters: %(value)s", limit=limit, value=quoted(r[column])))
    if len(errors) > before:
        return None
    return FactorRow(row_no, key, basis, unit, price_year, price_type, value, low, high, r.get("region") or "NO",
                     valid_from, valid_to, quality, r["source_ref"], r.get("note", ""))


def _read_csv(data: bytes, file_name: str):
    """(meta, header, records, the header's row number)."""
    import csv

    text = decode(data, file_name)
    meta: dict[str, str] = {}
    header: list[str] | None = None
    records = []
    lines = text.splitlines()
    body_start = 0
    for index, line in enumerate(lines):
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                meta[key.strip()] = value.strip()
            body_start = index + 1
        elif line.strip():
            break
        else:
            body_start = index + 1
    reader = csv.reader(io.StringIO("\n".join(lines[body_start:])), delimiter=";")
    try:
        for record in reader:
            if header is None:
                header = [h.strip() for h in record]
                continue
            if any(c.strip() for c in record):
                records.append((body_start + reader.line_num, record))
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        raise ImportRejected([RowError(file_name, body_start + reader.line_num, None,
                                       reason("malformed CSV: %(error)s", error=str(exc)))]) from exc
    return meta, header or [], records, body_start + 1


def _read_xlsx(data: bytes, file_name: str):
    book = open_workbook(data, file_name)
    if "set" not in book.sheet_names or "factors" not in book.sheet_names:
        raise ImportRejected([RowError(file_name, None, None,
                                       reason("an XLSX factor set has sheets 'set' and 'factors'"))])
    meta_rows = sheet_values(book, "set", file_name)
    factor_rows = sheet_values(book, "factors", file_name)
    meta = {_cell_text(r[0]).strip(): _cell_text(r[1]) for r in meta_rows if len(r) >= 2 and _cell_text(r[0]).strip()}
    header = [_cell_text(c).strip() for c in factor_rows[0]] if factor_rows else []
    records = [(i, [_cell_text(c) for c in r]) for i, r in enumerate(factor_rows[1:], start=2)
               if any(_cell_text(c).strip() for c in r)]
    return meta, header, records
