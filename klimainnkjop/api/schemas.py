"""The API's request and response bodies (pydantic through django-ninja; they make the OpenAPI document)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict


class RowErrorOut(Schema):
    file: str | None = Field(None, description="the file (a JSON batch: 'lines'; a request field: 'request')")
    row: int | None = Field(None, description="the row in the file (a JSON batch: the line's position, from 1)")
    column: str | None = Field(None, description="the column or field")
    reason: str


class ErrorOut(Schema):
    """Every error the API answers has this shape."""

    detail: str
    errors: list[RowErrorOut] = Field(default_factory=list)


class TotalsRowOut(Schema):
    """One group: the keys grouped by (null where not grouped by, or the lines have no value), then the figures."""

    org: str | None = None
    year: int | None = None
    category: str | None = None
    art: str | None = None
    unit: str | None = None
    supplier: str | None = None
    investment: bool | None = None
    month: int | None = None
    method: str | None = None
    quality: int | None = None
    source: str | None = None
    spend_nok: float
    kg_co2e: float
    kg_co2e_market: float | None = Field(
        None, description="market-based: the electricity lines at NVE's residual mix instead of the location-based "
                          "figure, every other line as in kg_co2e (null for a run made before the figure)")
    kg_co2e_low: float
    kg_co2e_high: float
    lines: int


class TotalsOut(Schema):
    organisation: str
    year: int | None
    group_by: list[str]
    factor_set: str
    factor_sets: list[Any]
    run: int
    consolidated: bool
    rows: list[TotalsRowOut]


class KpiOut(Schema):
    key: str
    name: str
    value: float | None
    unit: str
    target: float | None = None
    target_year: int | None = None
    expected_now: float | None = None
    status: str
    status_label: str
    baseline_year: int | None = None
    baseline_value: float | None = None
    category: str | None = None
    target_id: int | None = None
    direction: str
    data: bool
    missing_in_baseline: list[str] = Field(default_factory=list)


class KpisOut(Schema):
    organisation: str
    period: str
    kpis: list[KpiOut]


class LineOut(Schema):
    """A computed line, its factor and kg CO2e (amounts in øre, as every amount the product keeps)."""

    org: str
    line_key: str
    source: str | None = None
    year: int | None = None
    month: int | None = None
    unit: str | None = None
    art: str | None = None
    category: str | None = None
    supplier_orgnr: str | None = None
    investment: bool | None = None
    exclusion: str | None = None
    amount_ore: int | None = None
    quantity: float | None = None
    quantity_unit: str | None = None
    method: str | None = None
    factor_ref: str | None = None
    factor_value: float | None = None
    quality: int | None = None
    deflator: float | None = None
    kg_co2e: float | None = None
    kg_low: float | None = None
    kg_high: float | None = None
    classification_rule: str | None = None
    classification_confidence: float | None = None
    intra_region: bool | None = None
    posting_date: dt.date | None = None
    supplier_name: str | None = None
    description: str | None = None
    invoice_no: str | None = None
    item_name: str | None = None
    item_class_scheme: str | None = None
    item_class_code: str | None = None


class LinesOut(Schema):
    organisation: str
    year: int | None
    total: int = Field(description="lines in all pages")
    limit: int
    offset: int
    lines: list[LineOut]


class ImportOut(Schema):
    batch: int | None = Field(None, description="the import batch (null: the file held no new lines)")
    organisation: str
    kind: str
    already_imported: bool = Field(description="the same file (or batch) was imported before; nothing was added")
    rows_read: int
    lines_added: int
    lines_duplicate: int
    warnings: list[str] = Field(default_factory=list)
    findings: list[dict[str, Any]] = Field(default_factory=list,
                                           description="rules the file failed without being refused")


class LineIn(Schema):
    """A ledger line, the fields of a column-mapping profile: posting_date (YYYY-MM-DD) and amount are required, and
    art or account (the KOSTRA art is the account's first three digits)."""

    model_config = ConfigDict(extra="forbid")

    posting_date: str = Field(description="YYYY-MM-DD", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                              examples=["2024-03-15"])
    amount: str | int | float = Field(description="in NOK (or `currency`), with a decimal point or comma; excl. VAT",
                                      examples=["1234.50"])
    account: str | None = Field(None, max_length=100)
    art: str | None = Field(None, max_length=100)
    function: str | None = Field(None, max_length=100)
    unit: str | None = Field(None, max_length=100)
    unit_name: str | None = Field(None, max_length=200)
    project: str | None = Field(None, max_length=200)
    supplier_orgnr: str | None = Field(None, max_length=40)
    supplier_name: str | None = Field(None, max_length=300)
    vat: str | int | float | None = None
    currency: str | None = Field(None, max_length=10)
    description: str | None = Field(None, max_length=2000)
    invoice_no: str | None = Field(None, max_length=100)
    voucher: str | None = Field(None, max_length=100)
    line_id: str | None = Field(None, max_length=100)
    kontoklasse: str | None = Field(None, max_length=10)
    quantity: str | int | float | None = None
    quantity_unit: str | None = Field(None, max_length=40)


class LinesIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"lines": [
        {"posting_date": "2024-03-15", "amount": "1234.50", "account": "10000", "supplier_orgnr": "982463718",
         "supplier_name": "Kontorgiganten AS", "description": "Papir", "voucher": "A1", "line_id": "1"}]}]})

    lines: list[LineIn] = Field(min_length=1, max_length=10_000)


ImportKind = Literal["ledger", "kostra", "saft", "supplier-stats"]
