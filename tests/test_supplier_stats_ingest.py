"""The vectorised read of a supplier's purchase report (services.supplier_stats.parse_stats: DuckDB reads and parses,
the importer reads what the SQL is not certain of) gives exactly what the importer's own parse gives
(importers.supplier_stats.parse_supplier_stats): the same lines with the same keys and the same count of other
customers' rows, or the same errors naming file, row and column (issue 20)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.importers.supplier_stats import StatsProfile
from klimainnkjop.importers.supplier_stats import parse_supplier_stats as python_parse
from klimainnkjop.services.supplier_stats import parse_stats as vector_parse

CUSTOMER = "944117784"
COLUMNS = {"period": "Periode", "customer_orgnr": "Kunde", "supplier_orgnr": "Leverandør",
           "supplier_name": "Navn", "product_name": "Varenavn", "product_no": "Varenr", "item_class_code": "Kode",
           "item_class_scheme": "Kodeverk", "quantity": "Antall", "quantity_unit": "Enhet", "amount": "Beløp",
           "invoice_no": "Faktura", "line_id": "Linje"}
HEADER = list(COLUMNS.values())
DATA = Path(__file__).resolve().parent / "data" / "supplier_stats"


def profile(**settings_) -> StatsProfile:
    spec = {"name": "p", "kind": "supplier_stats", "columns": dict(COLUMNS)}
    spec.update(settings_)
    return StatsProfile.from_spec(spec)


def outcome(parse, data: bytes, name: str, prof: StatsProfile):
    """('lines', rows_read, rows of other customers, [line dicts]) or ('errors', [error dicts])."""
    try:
        parsed = parse(data, name, prof, CUSTOMER)
    except ImportRejected as exc:
        return ("errors", [e.as_dict() for e in exc.errors])
    if hasattr(parsed, "parsed_lines"):
        with parsed:
            return ("lines", parsed.rows_read, parsed.rows_other_customer,
                    [vars(line) for line in parsed.parsed_lines()])
    return ("lines", parsed.rows_read, parsed.rows_other_customer, [vars(line) for line in parsed.lines])


def assert_same(data: bytes, prof: StatsProfile, name: str = "report.csv") -> tuple:
    expected = outcome(python_parse, data, name, prof)
    got = outcome(vector_parse, data, name, prof)
    assert got == expected
    return got


def csv_bytes(rows: list[list[str]], *, header=HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join(";".join(r) for r in [header, *rows]) + "\n").encode(encoding)


def row(**cells) -> list[str]:
    base = {"Periode": "2024-03", "Kunde": CUSTOMER, "Leverandør": "910000001", "Navn": "Fjelldrivstoff AS",
            "Varenavn": "Diesel", "Varenr": "D100", "Kode": "09134100-8", "Kodeverk": "cpv", "Antall": "1 250,5",
            "Enhet": "liter", "Beløp": "22 509,00", "Faktura": "F-1", "Linje": ""}
    base.update(cells)
    return [base[h] for h in HEADER]


def test_the_shipped_report_is_read_by_duckdb_with_the_importers_lines_keys_and_other_customers():
    prof = StatsProfile.from_spec(json.loads((DATA / "profile_fuel.json").read_text(encoding="utf-8")))
    data = (DATA / "fuel_2024.csv").read_bytes()
    kind, rows_read, others, lines = assert_same(data, prof, "fuel_2024.csv")
    assert (kind, rows_read, others, len(lines)) == ("lines", 5, 1, 4)
    with vector_parse(data, "fuel_2024.csv", prof, CUSTOMER) as parsed:
        assert parsed.reader == "duckdb"
        assert parsed.ingest.con.execute("SELECT count(*) FROM rawf WHERE NOT fast").fetchall()[0][0] == 0


def test_values_of_every_shape_are_read_as_the_importer_reads_them():
    rows = [
        row(), row(), row(Linje="L7"), row(Linje="L7", Leverandør="NO 974 760 673 MVA"),
        row(Periode="03.2024"), row(Periode="3/2024"), row(Periode="202403"), row(Periode="2024M3"),
        row(Periode="2024m12"), row(Periode="2024-3-15"), row(Periode="15.03.2024"), row(Periode="20240315"),
        row(Periode="2024-13"), row(Periode="0999-01"), row(Periode="13.2024"), row(Periode="2024-02-30"),
        row(Periode=""), row(Periode="mars"), row(Periode="١٢.2024"),
        row(Antall=""), row(Antall="0"), row(Antall="-0"), row(Antall="-12,5"), row(Antall="1.234.567,891"),
        row(Antall="999999999999999"), row(Antall="1000000000000000"), row(Antall="0,0000001"), row(Antall="(5)"),
        row(Antall="1,234"), row(Antall="1.2.3"), row(Antall="1 250,5", Enhet="hl"), row(Enhet="Liter"),
        row(Enhet="stk"), row(Enhet="kWh"), row(Enhet="GJ"), row(Enhet="tonn"), row(Enhet="parsec"),
        row(Enhet=""), row(Antall="", Enhet="tull"), row(Enhet="kg", Antall="0,1"), row(Enhet="dl", Antall="3"),
        row(Beløp=""), row(Beløp="1'234.50"), row(Beløp="-0,005"), row(Beløp="kr 100"), row(Beløp="12,345"),
        row(Kunde=""), row(Kunde="964950113"), row(Kunde="964950113", Beløp="tull"), row(Kunde="NO964950113MVA"),
        row(Kunde="12345"), row(Kunde="974760673"), row(Leverandør=""), row(Leverandør="1234"),
        row(Kodeverk=""), row(Kodeverk="UNSPSC"), row(Kodeverk="stl"), row(Kodeverk="gtin", Kode="7 040 000"),
        row(Kodeverk="ukjent"), row(Kodeverk="", Kode=""), row(Kode="-8"), row(Kode=""), row(Kode="0913 4100-8"),
        row(Kodeverk="Ｃpv"), row(Navn=""), row(Varenavn="  Diesel  "), row(Faktura="\u00a0F-2\u00a0"),
    ]
    with_errors = assert_same(csv_bytes(rows), profile(supplier_name="Fast navn", item_class_scheme="cpv"))
    assert with_errors[0] == "errors" and len(with_errors[1]) > 10
    fine = [r for r in rows if assert_same(csv_bytes([r]), profile(supplier_name="Fast navn"))[0] == "lines"]
    assert len(fine) > 40
    assert assert_same(csv_bytes(fine), profile(supplier_name="Fast navn"))[0] == "lines"


def test_a_profile_without_some_columns_with_a_fixed_supplier_a_date_format_and_translations():
    columns = {k: v for k, v in COLUMNS.items() if k not in ("supplier_orgnr", "item_class_scheme", "line_id")}
    prof = StatsProfile.from_spec({"name": "p", "kind": "supplier_stats", "columns": columns,
                                   "supplier_orgnr": "910000001", "item_class_scheme": "unspsc",
                                   "date_format": "%d.%m.%Y", "values": {"quantity_unit": {"Ltr.": "liter"},
                                                                         "period": {"Q1": "2024-03"}}})
    rows = [row(Enhet="Ltr."), row(Periode="Q1"), row(Periode="01.02.2024"), row(Periode="2024-02-01"),
            row(Periode="03.2024")]
    header = [h for h in HEADER if h in columns.values()]
    cut = [[c for h, c in zip(HEADER, r) if h in columns.values()] for r in rows]
    kind, *_ = assert_same(csv_bytes(cut, header=header), prof)
    assert kind == "errors"  # 2024-02-01 is not %d.%m.%Y
    kind, _, _, lines = assert_same(csv_bytes([cut[i] for i in (0, 1, 2, 4)], header=header), prof)
    assert kind == "lines" and [line["quantity_unit"] for line in lines] == ["litre"] * 4


def test_only_other_customers_short_rows_and_empty_files_fail_alike():
    assert assert_same(csv_bytes([row(Kunde="964950113"), row(Kunde="974760673"), row(Kunde="974760673")]),
                       profile())[0] == "errors"
    assert assert_same(csv_bytes([row(), ["2024-01", CUSTOMER]]), profile())[0] == "errors"
    assert assert_same(csv_bytes([]), profile())[0] == "errors"
    assert assert_same(csv_bytes([row()])[:-1] + b"\n\n\n", profile())[0] == "lines"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings_as_the_importer(encoding):
    assert_same(csv_bytes([row(Varenavn="Bensin blyfri æøå"), row(Navn="Ølen AS")], encoding=encoding), profile())


def test_a_spreadsheet_is_read_by_the_importers_reader_and_parsed_alike():
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in [row(), row(Antall="3", Enhet="kg"), row(Kunde="964950113")]:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    kind, rows_read, others, lines = assert_same(out.getvalue(), profile(), "report.xlsx")
    assert (kind, rows_read, others, len(lines)) == ("lines", 3, 1, 2)


PIECES = st.sampled_from(["1", "0", "9", "12", ",", ".", " ", "-", "+", "2024", "03", "13", "M", "/", "NO", "MVA",
                          "a", "æ", "\u00a0", "'", "kr", "(", ")", "", "l", "hl", "stk", "cpv", "unspsc", "944117784",
                          "964950113", "910000001"])
CELL = st.lists(PIECES, max_size=5).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL, CELL, CELL, CELL), min_size=1, max_size=6))
def test_any_cells_parse_alike(cells):
    header = ["Periode", "Kunde", "Leverandør", "Kode", "Kodeverk", "Antall", "Enhet", "Beløp"]
    prof = StatsProfile.from_spec({"name": "p", "kind": "supplier_stats", "item_class_scheme": "cpv",
                                   "columns": {COLUMNS_BY_HEADER[h]: h for h in header}})
    assert_same(csv_bytes([list(c) for c in cells], header=header), prof)


COLUMNS_BY_HEADER = {v: k for k, v in COLUMNS.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quantities=st.lists(st.from_regex(r"-?[0-9]{1,16}([.,][0-9]{0,7}){0,2}", fullmatch=True), min_size=1,
                           max_size=8),
       unit=st.sampled_from(["l", "hl", "dl", "ml", "kg", "g", "tonn", "kWh", "MWh", "GJ", "m3", "stk", "km"]))
def test_any_plain_quantity_in_any_known_unit_parses_alike(quantities, unit):
    assert_same(csv_bytes([row(Antall=q, Enhet=unit) for q in quantities]), profile())
