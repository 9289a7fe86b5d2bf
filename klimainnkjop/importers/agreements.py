"""An agreement list (CSV or XLSX, one agreement a row) mapped onto agreement fields by a column profile.

Fields (number, name, suppliers, start and end are required):

  number, name, suppliers (orgnrs, separated by comma, semicolon, slash or line break), categories (category
  codes, same separators), participants (orgnrs), owner (orgnr), contact, start, end (dates), options_used,
  options_left (whole numbers), option_months (months per option, default 12), estimated_yearly_value (NOK),
  note

Without a saved profile the columns are read by the Norwegian names of DEFAULT_COLUMNS. The whole file is
validated here (formats); services/agreements.py checks what needs the database (known organisations and
categories) with the same row and column in its messages.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

from klimainnkjop.core import values
from klimainnkjop.core.cells import without_nul
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, listing, quoted
from klimainnkjop.importers.tabular import column_positions, profile_columns, read_table, setting_problems

FIELDS = ("number", "name", "suppliers", "categories", "participants", "owner", "contact", "start", "end",
          "options_used", "options_left", "option_months", "estimated_yearly_value", "note")
REQUIRED = ("number", "name", "suppliers", "start", "end")
DEFAULT_COLUMNS = {
    "number": "Avtalenummer", "name": "Avtalenavn", "suppliers": "Leverandører", "categories": "Kategorier",
    "participants": "Deltakere", "owner": "Eier", "contact": "Kontaktperson", "start": "Start", "end": "Slutt",
    "options_used": "Opsjoner brukt", "options_left": "Opsjoner igjen", "option_months": "Opsjonslengde",
    "estimated_yearly_value": "Estimert årlig verdi", "note": "Merknad",
}
SETTINGS = {"name", "kind", "columns", "encoding", "delimiter", "sheet", "header_row", "date_format", "description"}
SEPARATORS = re.compile(r"[,;/\n|]+")
MAX_OPTIONS = 20


@dataclass
class AgreementProfile:
    name: str
    columns: dict[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    date_format: str | None = None
    description: str = ""
    optional_may_be_absent: bool = False  # the default profile: a file may leave out the optional columns

    @classmethod
    def default(cls) -> "AgreementProfile":
        return cls(name="standard", columns=dict(DEFAULT_COLUMNS), optional_may_be_absent=True)

    @classmethod
    def from_spec(cls, spec: dict, source: str = "profile") -> "AgreementProfile":
        name, columns, problems = profile_columns(spec, source, FIELDS, REQUIRED)
        if spec.get("kind", "agreements") != "agreements":
            problems.append(f"kind {quoted(spec.get('kind'), 30)} is not agreements")
        extra = sorted(set(spec) - SETTINGS)
        if extra:
            problems.append(f"unknown setting(s) {listing(extra)}")
        problems += setting_problems(spec, ("kind",))
        if problems:
            raise ValueError(f"{source}: " + "; ".join(problems))
        return cls(name=name, columns={k: str(v) for k, v in columns.items() if v}, encoding=spec.get("encoding"),
                   delimiter=spec.get("delimiter"), sheet=spec.get("sheet"),
                   header_row=int(spec.get("header_row", 1)), date_format=spec.get("date_format"),
                   description=str(spec.get("description") or ""))

    def to_spec(self) -> dict:
        return {"name": self.name, "kind": "agreements", "columns": self.columns, "encoding": self.encoding,
                "delimiter": self.delimiter, "sheet": self.sheet, "header_row": self.header_row,
                "date_format": self.date_format, "description": self.description}


@dataclass
class AgreementRow:
    row_no: int
    number: str
    name: str
    suppliers: list[str]
    start: dt.date
    end: dt.date
    categories: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    owner: str = ""
    contact: str = ""
    options_used: int = 0
    options_left: int = 0
    option_months: int = 12
    estimated_yearly_ore: int = 0
    note: str = ""


@dataclass
class ParsedAgreements:
    file_name: str
    profile: AgreementProfile
    rows: list[AgreementRow]


def split_list(text: str) -> list[str]:
    return [part.strip() for part in SEPARATORS.split(text) if part.strip()]


def parse_orgnrs(text: str) -> list[str]:
    out: list[str] = []
    for part in split_list(text):
        orgnr = values.parse_orgnr(part)
        if orgnr and orgnr not in out:
            out.append(orgnr)
    return out


def _whole(text: str, low: int, high: int) -> int:
    raw = text.strip()
    if not raw:
        return 0
    if not raw.isdecimal() or not low <= int(raw) <= high:
        raise ValueError(reason("not a whole number from %(low)s to %(high)s: %(value)s", low=low, high=high,
                                value=quoted(text)))
    return int(raw)


def parse_agreements(data: bytes, file_name: str, profile: AgreementProfile | None = None) -> ParsedAgreements:
    """Every row of the file as an agreement, or ImportRejected with every error (file, row, column)."""
    profile = profile or AgreementProfile.default()
    table = read_table(data, file_name, encoding=profile.encoding, delimiter=profile.delimiter, sheet=profile.sheet,
                       header_row=profile.header_row)
    columns = {f: c for f, c in profile.columns.items()
               if f in REQUIRED or not profile.optional_may_be_absent or _in_header(table.header, c)}
    positions = column_positions(table, columns, file_name, profile.header_row)
    errors: list[RowError] = []
    rows: list[AgreementRow] = []
    first_row: dict[str, int] = {}
    for row_no, cells in table.rows:
        row = _parse_row(file_name, row_no, cells, positions, columns, profile, errors)
        if row is None:
            continue
        if row.number in first_row:
            errors.append(RowError(file_name, row_no, columns["number"],
                                   reason("agreement %(number)s is also on row %(row)s", number=quoted(row.number),
                                          row=first_row[row.number])))
            continue
        first_row[row.number] = row_no
        rows.append(row)
    if errors:
        raise ImportRejected(errors)
    return ParsedAgreements(file_name, profile, rows)


def _in_header(header: list[str], column: str) -> bool:
    return column.strip().lower() in {h.strip().lower() for h in header}


def _parse_row(file_name: str, row_no: int, cells: list[str], positions: dict[str, int], columns: dict[str, str],
               profile: AgreementProfile, errors: list[RowError]) -> AgreementRow | None:
    before = len(errors)

    def raw(fld: str) -> str:
        # without NUL characters: the agreements are kept in the database, whose text (PostgreSQL's) refuses them
        index = positions.get(fld)
        return without_nul(cells[index]).strip() if index is not None and index < len(cells) else ""

    def parsed(fld: str, parser: Callable[[str], object], default: object = None) -> object:
        if fld not in positions:
            return default
        try:
            return parser(raw(fld))
        except ValueError as exc:
            errors.append(RowError(file_name, row_no, columns[fld], str(exc)))
            return default

    def required(fld: str, parser: Callable[[str], object]) -> object:
        if not raw(fld):
            errors.append(RowError(file_name, row_no, columns[fld], reason("must not be empty")))
            return None
        return parsed(fld, parser)

    def text(fld: str, limit: int) -> str:
        value = raw(fld)
        if len(value) > limit:
            errors.append(RowError(file_name, row_no, columns[fld],
                                   reason("longer than %(limit)s characters", limit=limit)))
        return value

    number = text("number", 40)
    if not number:
        errors.append(RowError(file_name, row_no, columns["number"], reason("must not be empty")))
    name = text("name", 200)
    if not name:
        errors.append(RowError(file_name, row_no, columns["name"], reason("must not be empty")))
    suppliers = required("suppliers", parse_orgnrs)
    start = required("start", lambda t: values.parse_date(t, profile.date_format))
    end = required("end", lambda t: values.parse_date(t, profile.date_format))
    if start and end and end < start:
        errors.append(RowError(file_name, row_no, columns["end"],
                               reason("ends (%(end)s) before it starts (%(start)s)", end=end, start=start)))
    categories = split_list(raw("categories")) if "categories" in positions else []
    participants = parsed("participants", parse_orgnrs, [])
    owner = parsed("owner", values.parse_orgnr, "")
    options_used = parsed("options_used", lambda t: _whole(t, 0, MAX_OPTIONS), 0)
    options_left = parsed("options_left", lambda t: _whole(t, 0, MAX_OPTIONS), 0)
    option_months = parsed("option_months", lambda t: _whole(t, 1, 120) if t.strip() else 12, 12)
    value_ore = parsed("estimated_yearly_value", lambda t: values.parse_amount_ore(t) if t.strip() else 0, 0)
    if value_ore and value_ore < 0:
        errors.append(RowError(file_name, row_no, columns["estimated_yearly_value"], reason("must not be negative")))
    contact = text("contact", 200) if "contact" in positions else ""
    note = raw("note")
    if len(errors) > before:
        return None
    return AgreementRow(row_no=row_no, number=number, name=name, suppliers=suppliers, start=start, end=end,
                        categories=categories, participants=participants, owner=owner, contact=contact,
                        options_used=options_used, options_left=options_left, option_months=option_months,
                        estimated_yearly_ore=value_ore, note=note)
