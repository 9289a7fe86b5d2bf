"""The vectorised ledger parse (services.ledgers.parse_ledger: DuckDB reads and parses, the importer reads what
the SQL is not certain of) gives exactly what the importer's own parse gives (importers.ledger.parse_ledger):
the same lines with the same keys, or the same errors naming file, row and column (issue 20)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.importers.ledger import Profile
from klimainnkjop.importers.ledger import parse_ledger as python_parse
from klimainnkjop.services.ledgers import parse_ledger as vector_parse

COLUMNS = {"posting_date": "Dato", "account": "Konto", "art": "Art", "unit": "Ansvar", "supplier_orgnr": "OrgNr",
           "supplier_name": "Leverandør", "amount": "Beløp", "vat": "Mva", "currency": "Valuta",
           "description": "Tekst", "kontoklasse": "Klasse", "quantity": "Mengde", "quantity_unit": "Enhet",
           "voucher": "Bilag", "line_id": "Linje"}
HEADER = ["Dato", "Konto", "Art", "Ansvar", "OrgNr", "Leverandør", "Beløp", "Mva", "Valuta", "Tekst", "Klasse",
          "Mengde", "Enhet", "Bilag", "Linje"]


def profile(**settings_) -> Profile:
    spec = {"name": "p", "columns": dict(COLUMNS)}
    spec.update(settings_)
    return Profile.from_spec(spec)


def outcome(parse, data: bytes, name: str, prof: Profile):
    """('lines', rows_read, [line dicts]) or ('errors', [error dicts])."""
    try:
        parsed = parse(data, name, prof)
    except ImportRejected as exc:
        return ("errors", [e.as_dict() for e in exc.errors])
    if hasattr(parsed, "parsed_lines"):
        with parsed:
            return ("lines", parsed.rows_read, [vars(line) for line in parsed.parsed_lines()])
    return ("lines", parsed.rows_read, [vars(line) for line in parsed.lines])


def assert_same(data: bytes, prof: Profile, name: str = "ledger.csv") -> tuple:
    expected = outcome(python_parse, data, name, prof)
    got = outcome(vector_parse, data, name, prof)
    assert got == expected
    return got


def csv_bytes(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8", header=HEADER,
              newline: str = "\n") -> bytes:
    text = newline.join(delimiter.join(r) for r in [header, *rows]) + newline
    return text.encode(encoding)


def row(**cells) -> list[str]:
    base = {"Dato": "2024-03-01", "Konto": "11500", "Art": "", "Ansvar": "1200", "OrgNr": "974760673",
            "Leverandør": "Leverandør AS", "Beløp": "1000,00", "Mva": "250,00", "Valuta": "", "Tekst": "Møbler",
            "Klasse": "1", "Mengde": "", "Enhet": "", "Bilag": "V1", "Linje": ""}
    base.update(cells)
    return [base[h] for h in HEADER]


def test_a_plain_file_is_read_and_parsed_by_duckdb_with_the_importers_lines_and_keys():
    data = csv_bytes([row(), row(), row(Beløp="-1 234,56"), row(Linje="7", Bilag="V9"), row(Dato="05.01.2024")])
    with vector_parse(data, "ledger.csv", profile()) as parsed:
        assert parsed.reader == "duckdb"
        lines = parsed.parsed_lines()
    # hand-computed: øre, art from the account's first three digits, the second identical line its own key
    assert [line.amount_minor for line in lines] == [100000, 100000, -123456, 100000, 100000]
    assert {line.art for line in lines} == {"115"}
    assert lines[0].key != lines[1].key
    assert lines[4].posting_date == dt.date(2024, 1, 5)
    assert_same(data, profile())


AMOUNTS = ["1000", "1000,5", "1000.5", "1 000,50", "1.000,50", "1,000.50", "1,234", "1.234", "1,234,567",
           "1.234.567", "0,005", "0,015", "0,025", "0,0251", "-0,005", "+12", "- 5", "5-", "(12,50)", "kr 12",
           "12,", ",5", ".", "1.2,3.4", "1,2.3,4", "9999999999999", "10000000000000", "00000000000000000001",
           "1\u00a0234,5", "1'234.50", "1\t234", "abc", "", " 12 ", "١٢", "1e5", "\u22125", "−5"]
DATES = ["2024-03-01", "2024-02-30", "2024-13-01", "01.03.2024", "1.3.2024", "01.03.24", "01.03.69", "01/03/2024",
         "1/3/24", "20240301", "20241301", "01-03-2024", "2024-3-1", "01-Mar-24", "1 Mar 2024", "2024-03-01T10:00:00",
         "0999-01-01", "0000-01-01", "", "31.04.2024", "29.02.2023", "29.02.2024", "01.3.2024 ", "٠١.٠٣.٢٠٢٤"]
ORGNRS = ["974760673", "NO 974 760 673 MVA", "no974760673mva", "974.760.673", "97476067", "", "abc", "NO MVA"]
ARTS = ["", "115", "15", "5", "1150", "a1", "٣"]
ACCOUNTS = ["11500", "", "1", "ab1150", "١١٥٠٠", "115", " 115"]
CLASSES = ["", "0", "1", "3", "4", "I", "Drift", "investering", "ja", "nei", "x", "İ"]
CURRENCIES = ["", "NOK", "nok", "EUR", "eu", "EURO", "ß"]
QUANTITIES = [("", ""), ("12,5", "kg"), ("3", "MWh"), ("1", ""), ("2", "parsec"), (" ", "kg")]


def test_values_of_every_shape_are_read_as_the_importer_reads_them():
    rows = []
    for i, amount in enumerate(AMOUNTS):
        rows.append(row(Beløp=amount, Bilag=f"A{i}"))
    for i, date in enumerate(DATES):
        rows.append(row(Dato=date, Bilag=f"D{i}"))
    for i, orgnr in enumerate(ORGNRS):
        rows.append(row(OrgNr=orgnr, Bilag=f"O{i}"))
    for i, (art, account) in enumerate((a, c) for a in ARTS for c in ACCOUNTS):
        rows.append(row(Art=art, Konto=account, Bilag=f"R{i}"))
    for i, klass in enumerate(CLASSES):
        rows.append(row(Klasse=klass, Bilag=f"K{i}"))
    for i, currency in enumerate(CURRENCIES):
        rows.append(row(Valuta=currency, Bilag=f"C{i}"))
    for i, (quantity, unit) in enumerate(QUANTITIES):
        rows.append(row(Mengde=quantity, Enhet=unit, Bilag=f"Q{i}"))
    rows.append(row(Ansvar="x" * 41))
    rows.append(row(Mva=""))
    rows.append(row(Mva="abc"))
    kind, errors = assert_same(csv_bytes(rows), profile())
    assert kind == "errors" and errors  # some of them are wrong, and named alike
    # without the wrong ones, the lines themselves
    good = []
    for r in rows:
        single = csv_bytes([r])
        if outcome(python_parse, single, "x.csv", profile())[0] == "lines":
            good.append(r)
    kind, rows_read, lines = assert_same(csv_bytes(good), profile())
    assert kind == "lines" and rows_read == len(good) > 60


# Values at the edges of the common shapes (engine.ingest._COMMON_*: read by the cheap SQL) and just beyond them
# (read by the general SQL or the importer's code).
COMMON_EDGES = {
    "Beløp": ["9999999999999,99", "-9999999999999", "99999999999999", "0,5", "-0,00", "-0", "1 234 567,89",
              "12 345 678 901,2", "1234.5", "1 234.56", "1 23,4", "1 2345,6", "12,345", "1.234", "1,2,3", "00001,10",
              "1.234,56", "-12.345.678,9", "1.234.567.890,12", "1.23,4", "1.234.56", "1.234,567", "1.234 567,8"],
    "Dato": ["29.02.2024", "29.02.2023", "31.04.2024", "00.01.2024", "01.00.2024", "01.01.1000", "01.01.0999",
             "31.12.9999", "1.01.2024", "01.1.2024"],
    "Tekst": ["Strøm", "Ærlig talt", "x\u00a0", "\u3000x", "x\u2029", "a\u0301", "Øst ", "\u0600 ", "x\x1f", "–"],
    "Konto": ["115", "11", "1a500", "a11500", "115ø", "1 1500", "١١٥٠٠", "-11500"],
    "OrgNr": ["974760673", "97476067", "9747606730", "NO974760673", "974760673 "],
}


@pytest.mark.parametrize("column", sorted(COMMON_EDGES))
def test_values_at_the_edges_of_the_common_shapes_are_read_as_the_importer_reads_them(column):
    rows = [row(**{column: value, "Bilag": f"E{i}"}) for i, value in enumerate(COMMON_EDGES[column])]
    assert_same(csv_bytes(rows), profile())
    good = [r for r in rows if outcome(python_parse, csv_bytes([r]), "x.csv", profile())[0] == "lines"]
    kind, _, lines = assert_same(csv_bytes(good), profile())
    assert kind == "lines" and len(lines) == len(good) >= 3


def test_one_line_read_by_the_cheap_sql_the_general_sql_and_the_importer_has_its_repetitions_in_file_order():
    """The same line written four ways has one key basis: '1000,00' and '1 000' are common shapes, '1.000,00' is
    the general SQL's and 'kr 1000' the importer's; the n-th of them in the file is keyed with n."""
    rows = [row(Beløp="1000,00"), row(Beløp="kr 1000"), row(Beløp="1.000,00"), row(Beløp="1 000"),
            row(Beløp="1000,00"), row(Beløp="999,99")]
    kind, _, lines = assert_same(csv_bytes(rows), profile())
    assert kind == "lines" and len({line["key"] for line in lines}) == 6


@pytest.mark.parametrize("fmt", ["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%b-%y"])
def test_a_profiles_date_format_is_read_as_the_importer_reads_it(fmt):
    dates = ["01.03.2024", "1.3.24", "2024-03-01", "20240301", "01/03/2024", "03/01/2024", "01-Mar-24"]
    rows = [row(Dato=d, Bilag=f"D{i}") for i, d in enumerate(dates)]
    assert_same(csv_bytes(rows), profile(date_format=fmt))
    good = [r for r in rows if outcome(python_parse, csv_bytes([r]), "x.csv", profile(date_format=fmt))[0] == "lines"]
    assert_same(csv_bytes(good), profile(date_format=fmt))


def test_value_translations_amount_with_vat_and_a_default_currency_as_the_importer():
    prof = profile(values={"kontoklasse": {"Kapital": "0", "Drift": "1"}, "unit": {"A": "1200"},
                           "amount": {"ti": "10"}, "art": {"x": "115"}}, amount_includes_vat=True, currency="EUR")
    rows = [row(Klasse="Kapital"), row(Klasse="Drift", Ansvar="A"), row(Beløp="ti"), row(Art="x"),
            row(Valuta="")]
    kind, _, lines = assert_same(csv_bytes(rows), prof)
    assert [line["investment"] for line in lines][:2] == [True, False]
    assert lines[0]["amount_minor"] == 100000 - 25000


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings_as_the_importer(encoding):
    rows = [row(Tekst="Kjøp av æøå"), row(Tekst="Pris – 5 € “sitat”" if encoding != "latin-1" else "x")]
    prof = profile(encoding=encoding) if encoding == "utf-16" else profile()
    assert_same(csv_bytes(rows, encoding=encoding), prof)


@pytest.mark.parametrize("data", [
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;"1 000,00";"11500"\n"2024-01-02";"5";"115"\n',   # quoted fields
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;"1;000";11500\n',                                 # delimiter in quotes
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;"a""b";11500\n',                                  # escaped quote
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;"12\n5";11500\n',                                 # line break in quotes
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01; "12";11500\n',                                   # space before quote
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;"12"5;11500\n',                                   # text after quote
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;12"5;11500\n',                                    # quote inside
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;"12;11500\n',                                     # unterminated
    b'Dato;Bel\xc3\xb8p;Konto\n\n2024-01-01;12;11500\n\n\n2024-01-02;13;11500\n',           # blank lines
    b'Dato;Bel\xc3\xb8p;Konto\r\n2024-01-01;12;11500\r\n',                                  # CRLF
    b'Dato;Bel\xc3\xb8p;Konto\r2024-01-01;12;11500\r',                                      # CR only
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;12\n2024-01-01\n',                                # short rows
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;12;11500;extra;more\n',                           # long row
    b'Dato;Bel\xc3\xb8p;Konto\n;;\n  ;\t;\n2024-01-01;12;11500\n',                          # blank cells only
    b'Dato;Bel\xc3\xb8p;Konto\n',                                                           # header only
    b'',                                                                                    # empty
    b'Dato;Bel\xc3\xb8p\n2024-01-01;12\n',                                                  # a column missing
    b'\xef\xbb\xbfDato;Bel\xc3\xb8p;Konto\n2024-01-01;12;11500\n',                          # BOM
    b'Dato,Bel\xc3\xb8p,Konto\n2024-01-01,"12,5",11500\n',                                  # comma delimited
    b'Dato\tBel\xc3\xb8p\tKonto\n2024-01-01\t12,5\t11500',                                  # tab, no last break
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;1\x002;11500\n',                                  # NUL
    b'Dato;Bel\xc3\xb8p;Konto\n2024-01-01;12;11500\x0b1\n2024-01-02;13;11500\n',            # vertical tab
    b'Dato;Bel\xe6p;Konto\n2024-01-01;12;11500\n',                                          # not UTF-8, not the header
    b'Dato;Bel\xf8p;Konto\n2024-01-01;12;\x81\n',                                           # not cp1252 either
])
def test_layouts_as_the_importer(data):
    prof = Profile.from_spec({"name": "p", "columns": {"posting_date": "Dato", "amount": "Beløp", "account": "Konto"}})
    assert_same(data, prof)


def test_a_header_further_down_and_a_spreadsheet_as_the_importer(tmp_path):
    data = b"Eksport fra ERP\nPeriode 2024\nDato;Bel\xc3\xb8p;Konto\n2024-01-01;12;11500\n01.02.2024;13;11500\n"
    prof = Profile.from_spec({"name": "p", "header_row": 3,
                              "columns": {"posting_date": "Dato", "amount": "Beløp", "account": "Konto"}})
    kind, rows_read, lines = assert_same(data, prof)
    assert [line["row_no"] for line in lines] == [4, 5]


def test_the_demo_regions_ledgers_parse_alike(tmp_path):
    from klimainnkjop.demo.generate import generate

    manifest = generate(tmp_path, scale=0.05, seed=2021, today=dt.date(2026, 6, 1))
    readers = set()
    for entry in manifest.files:
        if not entry.path.startswith("ledger/"):
            continue
        prof = Profile.from_spec(manifest.profiles[entry.org_key])
        data = (manifest.directory / entry.path).read_bytes()
        kind, rows_read, lines = assert_same(data, prof, Path(entry.path).name)
        assert kind == "lines" and lines
        with vector_parse(data, Path(entry.path).name, prof) as parsed:
            readers.add(parsed.reader)
    assert readers == {"duckdb", "python"}  # CSV by DuckDB, the XLSX files by the importer's reader


PIECES = st.sampled_from(["1", "0", "9", "12", ",", ".", " ", "-", "+", "2024", "03", "31", "13", "-", "/", "NO",
                          "MVA", "a", "æ", "\u00a0", "'", '"', "\t", "kr", "(", ")", "EUR", "", ";"])
CELL = st.lists(PIECES, max_size=6).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL, CELL), min_size=1, max_size=6))
def test_any_cells_parse_alike(cells):
    header = ["Dato", "Beløp", "Mva", "OrgNr", "Konto", "Klasse"]
    prof = Profile.from_spec({"name": "p", "columns": {"posting_date": "Dato", "amount": "Beløp", "vat": "Mva",
                                                        "supplier_orgnr": "OrgNr", "account": "Konto",
                                                        "kontoklasse": "Klasse"}})
    data = ("\n".join(";".join(r) for r in [header, *cells]) + "\n").encode("utf-8")
    assert_same(data, prof)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amounts=st.lists(st.from_regex(r"[+-]?[0-9]{1,15}([.,][0-9]{0,6}){0,3}", fullmatch=True), min_size=1,
                        max_size=8))
def test_any_plain_amount_parses_alike(amounts):
    prof = Profile.from_spec({"name": "p", "columns": {"posting_date": "Dato", "amount": "Beløp", "account": "Konto"}})
    data = ("Dato;Beløp;Konto\n" + "".join(f"2024-01-01;{a};11500\n" for a in amounts)).encode()
    assert_same(data, prof)


def test_a_file_with_thousands_of_columns_and_blank_rows_parses_as_the_importer():
    """A row of 3,000 cells (a hostile file's) and blank rows of whitespace-only cells: blank rows are found by
    one expression over the row, not a condition per column (which DuckDB took minutes to plan)."""
    wide = row(Tekst="Bred") + ["x"] * 3_000
    blank = [" ", "\t", "", "\u00a0"] + [""] * (len(HEADER) - 4)
    data = csv_bytes([row(), blank, wide, blank, row(Bilag="V2")])
    kind, *rest = assert_same(data, profile())
    assert kind == "lines" and rest[0] == 3, rest
