"""Files of measures (tiltak): CSV or XLSX with a header row, or JSON (a list of objects, or {"measures": [...]}),
one measure per row. Validates the whole file; returns the rows or raises ImportRejected with every error."""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from klimainnkjop.core import values
from klimainnkjop.core.cells import without_nul
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, listing, quoted
from klimainnkjop.importers.tabular import read_table

COLUMNS = ("name", "description", "kind", "mechanism", "percent", "categories", "to_category", "organisations",
           "baseline_year", "cost_once_nok", "cost_yearly_nok", "lifetime_years", "owner", "effective_date",
           "agreement", "agreement_renewal", "requirement")
REQUIRED = ("name", "kind", "mechanism", "percent", "categories", "baseline_year")
MECHANISMS = ("quantity", "switch", "intensity")
KINDS = (1, 2, 3, 4)
MAX_TEXT = {"name": 200, "owner": 200, "agreement": 200, "requirement": 40}
MAX_ROWS = 2000
_LIST_SPLIT = re.compile(r"[,;\s]+")


@dataclass
class MeasureRow:
    row_no: int
    name: str
    kind: int
    mechanism: str
    percent: float
    categories: list[str]
    baseline_year: int
    description: str = ""
    to_category: str | None = None
    organisations: list[str] = field(default_factory=list)
    cost_once_ore: int = 0
    cost_yearly_ore: int = 0
    lifetime_years: int = 1
    owner: str = ""
    effective_date: dt.date | None = None
    agreement: str = ""
    agreement_renewal: dt.date | None = None
    requirement: str = ""  # a library requirement's code: its expected effect replaces the mechanism's

    def problems(self, categories: set[str] | None = None, orgnrs: set[str] | None = None) -> list[tuple[str, str]]:
        """(field, reason) of every rule the row breaks; categories and orgnrs: the known ones, when given."""
        out: list[tuple[str, str]] = []
        if not self.name:
            out.append(("name", reason("must not be empty")))
        for name, limit in MAX_TEXT.items():
            if len(getattr(self, name)) > limit:
                out.append((name, reason("longer than %(limit)s characters", limit=limit)))
        if self.kind not in KINDS:
            out.append(("kind", reason("%(value)s must be 1, 2, 3 or 4", value=quoted(self.kind))))
        if self.mechanism not in MECHANISMS:
            out.append(("mechanism", reason("%(value)s must be one of %(expected)s", value=quoted(self.mechanism),
                                            expected=", ".join(MECHANISMS))))
        if not 0 < self.percent <= 100:
            out.append(("percent", reason("%(value)s must be above 0 and at most 100",
                                          value=format(self.percent, "g"))))
        if not self.categories:
            out.append(("categories", reason("at least one category must be given")))
        if self.mechanism == "switch" and not self.to_category:
            out.append(("to_category", reason("a switch needs the category it switches to")))
        if self.mechanism != "switch" and self.to_category:
            out.append(("to_category", reason("only a switch has a category it switches to")))
        if self.to_category and self.to_category in self.categories:
            out.append(("to_category", reason("is one of the categories it switches from")))
        if not 2000 <= self.baseline_year <= 2100:
            out.append(("baseline_year", reason("%(value)s is not a year", value=self.baseline_year)))
        if not 1 <= self.lifetime_years <= 100:
            out.append(("lifetime_years", reason("%(value)s must be 1 to 100", value=self.lifetime_years)))
        if self.agreement_renewal and not self.agreement:
            out.append(("agreement", reason("a renewal date needs the agreement it renews")))
        if categories is not None:
            unknown = [c for c in [*self.categories, *([self.to_category] if self.to_category else [])]
                       if c not in categories]
            if unknown:
                out.append(("categories" if set(unknown) - {self.to_category} else "to_category",
                            reason("no category %(codes)s", codes=listing([quoted(c) for c in unknown]))))
        if orgnrs is not None:
            unknown = [o for o in self.organisations if o not in orgnrs]
            if unknown:
                out.append(("organisations", reason("no organisation %(orgnrs)s",
                                                    orgnrs=listing([quoted(o) for o in unknown]))))
        return out


def parse_measures(data: bytes, file_name: str, *, categories: set[str], orgnrs: set[str],
                   existing_names: set[str] = frozenset(), requirements: set[str] | None = None) -> list[MeasureRow]:
    records = _records(data, file_name)
    errors: list[RowError] = []
    rows: list[MeasureRow] = []
    seen: dict[str, int] = {}
    if len(records) > MAX_ROWS:
        raise ImportRejected([RowError(file_name, None, None, reason("more than %(limit)s measures in one file",
                                                                     limit=MAX_ROWS))])
    for row_no, record in records:
        row = _row(file_name, row_no, record, errors)
        if row is None:
            continue
        for column, problem in row.problems(categories, orgnrs):
            errors.append(RowError(file_name, row_no, column, problem))
        if requirements is not None and row.requirement and row.requirement not in requirements:
            errors.append(RowError(file_name, row_no, "requirement",
                                   reason("no requirement %(code)s in the library", code=quoted(row.requirement))))
        if row.name in existing_names:
            errors.append(RowError(file_name, row_no, "name",
                                   reason("a measure named %(name)s exists already", name=quoted(row.name))))
        elif row.name in seen:
            errors.append(RowError(file_name, row_no, "name", reason("%(name)s is also in row %(row)s",
                                                                     name=quoted(row.name), row=seen[row.name])))
        seen.setdefault(row.name, row_no)
        rows.append(row)
    if not records:
        errors.append(RowError(file_name, None, None, reason("the file has no measures")))
    if errors:
        raise ImportRejected(errors)
    return rows


def _records(data: bytes, file_name: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) of every measure in the file."""
    if file_name.lower().endswith(".json") or data.lstrip()[:1] in (b"[", b"{"):
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ImportRejected([RowError(file_name, None, None,
                                           reason("not JSON: %(error)s", error=str(exc)[:200]))]) from None
        if isinstance(document, dict):
            document = document.get("measures")
        if not isinstance(document, list):
            raise ImportRejected([RowError(file_name, None, None,
                                           reason("expected a list of measures, or an object with a list "
                                                  "'measures'"))])
        out = []
        for index, item in enumerate(document, start=1):
            if not isinstance(item, dict):
                raise ImportRejected([RowError(file_name, index, None, reason("a measure must be an object"))])
            out.append((index, {str(k).strip().lower(): without_nul(_json_text(v)) for k, v in item.items()}))
        _check_columns(file_name, {k for _, r in out for k in r})
        return out
    table = read_table(data, file_name)
    header = [h.strip().lower() for h in table.header]
    _check_columns(file_name, set(header), header_row=1)
    # without NUL characters: measures are kept in the database, whose text (PostgreSQL's) refuses them
    return [(row_no, {h: (without_nul(cells[i]) if i < len(cells) else "") for i, h in enumerate(header) if h})
            for row_no, cells in table.rows]


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _check_columns(file_name: str, columns: set[str], header_row: int | None = None) -> None:
    errors = [RowError(file_name, header_row, c, reason("required column is missing"))
              for c in REQUIRED if c not in columns]
    unknown = sorted(c for c in columns if c and c not in COLUMNS)
    if unknown:
        errors.append(RowError(file_name, header_row, None,
                               reason("unknown column(s) %(columns)s; known: %(known)s", columns=listing(unknown),
                                      known=", ".join(COLUMNS))))
    if errors:
        raise ImportRejected(errors)


def _row(file_name: str, row_no: int, r: dict[str, str], errors: list[RowError]) -> MeasureRow | None:
    before = len(errors)

    def err(column: str, reason: str) -> None:
        errors.append(RowError(file_name, row_no, column, reason))

    def integer(column: str, default: int | None = None) -> int:
        text = r.get(column, "").strip()
        if not text:
            if default is None:
                err(column, reason("must not be empty"))
            return default or 0
        try:
            number = values.parse_number(text)
        except ValueError as exc:
            err(column, str(exc))
            return 0
        if number != number.to_integral_value():
            err(column, reason("%(value)s is not a whole number", value=quoted(text)))
        return int(number)

    def number(column: str) -> float:
        text = r.get(column, "").strip().rstrip("%").strip()
        if not text:
            err(column, reason("must not be empty"))
            return 0.0
        try:
            return float(values.parse_number(text))
        except ValueError as exc:
            err(column, str(exc))
            return 0.0

    def amount(column: str) -> int:
        text = r.get(column, "").strip()
        if not text:
            return 0
        try:
            return values.parse_amount_ore(text)
        except ValueError as exc:
            err(column, str(exc))
            return 0

    def date(column: str) -> dt.date | None:
        text = r.get(column, "").strip()
        if not text:
            return None
        try:
            return values.parse_date(text)
        except ValueError as exc:
            err(column, str(exc))
            return None

    def codes(column: str) -> list[str]:
        return [c for c in _LIST_SPLIT.split(r.get(column, "").strip()) if c]

    organisations = []
    for text in codes("organisations"):
        try:
            organisations.append(values.parse_orgnr(text))
        except ValueError as exc:
            err("organisations", str(exc))
    row = MeasureRow(
        row_no=row_no, name=r.get("name", "").strip(), description=r.get("description", "").strip(),
        kind=integer("kind"), mechanism=r.get("mechanism", "").strip().lower(), percent=number("percent"),
        categories=codes("categories"), to_category=r.get("to_category", "").strip() or None,
        organisations=organisations, baseline_year=integer("baseline_year"),
        cost_once_ore=amount("cost_once_nok"), cost_yearly_ore=amount("cost_yearly_nok"),
        lifetime_years=integer("lifetime_years", 1), owner=r.get("owner", "").strip(),
        effective_date=date("effective_date"), agreement=r.get("agreement", "").strip(),
        agreement_renewal=date("agreement_renewal"), requirement=r.get("requirement", "").strip())
    return row if len(errors) == before else None
