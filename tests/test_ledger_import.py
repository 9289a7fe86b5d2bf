import io
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.paths import ENV_VAR
from klimainnkjop.services import imports as import_services
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reference import do_set_exchange_rate
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import AuditEntry, ExchangeRate, ImportBatch, Supplier, Unit
from tests.factories import HEADER, VISMA, do_import_ledger, do_save_profile, import_ledger, ledger_csv

ROWS = (
    "01.03.2024;115000;2020;2100;999999999;Mat AS;-1 234,50;Matvarer",
    "15.04.2024;010100;2020;2100;;;50 000,00;Lønn",
    "15.04.2024;180000;1200;1000;988888888;Kraft AS;10 000,00;Strøm",
)
OXFORD = Path(__file__).resolve().parent / "data" / "expenditure-over-500-apr-jun-2017.csv"


def stored_lines(org):
    files = [linestore.absolute(b.parquet_path) for b in ImportBatch.objects.with_scopes_disabled().filter(organisation=org, status="done")]
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_a_ledger_file_imports_in_every_common_encoding(org, encoding):
    result = import_ledger(org, ledger_csv(*ROWS), encoding=encoding)
    assert result.lines_added == 3
    lines = stored_lines(org)
    assert {line["supplier_name"] for line in lines} == {"Mat AS", "", "Kraft AS"}
    assert sorted(line["amount_ore"] for line in lines) == [-123450, 1000000, 5000000]
    assert {line["art"] for line in lines} == {"115", "010", "180"}


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_the_delimiter_is_detected(org, delimiter):
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for record in [HEADER.strip().split(";"), *(r.split(";") for r in ROWS)]:
        writer.writerow(record)
    assert import_ledger(org, out.getvalue()).lines_added == 3
    assert sorted(line["amount_ore"] for line in stored_lines(org)) == [-123450, 1000000, 5000000]


def test_an_xlsx_export_imports_like_a_csv(org):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Dato", "Konto", "Funksjon", "Ansvar", "Orgnr", "Leverandør", "Beløp", "Tekst"])
    import datetime as dt
    sheet.append([dt.date(2024, 3, 1), 115000, "2020", 2100, "999999999", "Mat AS", -1234.5, "Matvarer"])
    sheet.append([dt.datetime(2024, 4, 15), "180000", "1200", "1000", 988888888, "Kraft AS", 10000, "Strøm"])
    buffer = io.BytesIO()
    book.save(buffer)
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    result = do_import_ledger(organisation=org, data=buffer.getvalue(), file_name="export.xlsx", actor="test")
    assert result.lines_added == 2
    lines = sorted(stored_lines(org), key=lambda r: r["amount_ore"])
    assert [r["amount_ore"] for r in lines] == [-123450, 1000000]
    assert lines[0]["art"] == "115" and lines[1]["unit"] == "1000"
    assert str(lines[0]["posting_date"]) == "2024-03-01"


def test_without_a_sheet_in_the_profile_the_first_visible_sheet_is_read(org):
    """A hidden first sheet (a lookup table, an old version) was imported without a word."""
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title, hidden.sheet_state = "Gammel", "hidden"
    hidden.append(["Dato", "Konto", "Funksjon", "Ansvar", "Orgnr", "Leverandør", "Beløp", "Tekst"])
    hidden.append(["01.03.2024", "115000", "2020", "2100", "999999999", "Mat AS", "999 999,00", "Skjult"])
    shown = book.create_sheet("Regnskap")
    shown.append(["Dato", "Konto", "Funksjon", "Ansvar", "Orgnr", "Leverandør", "Beløp", "Tekst"])
    shown.append(["01.03.2024", "115000", "2020", "2100", "999999999", "Mat AS", "100,00", "Synlig"])
    buffer = io.BytesIO()
    book.save(buffer)
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    result = do_import_ledger(organisation=org, data=buffer.getvalue(), file_name="to-ark.xlsx", actor="test")
    assert result.lines_added == 1
    assert [(r["description"], r["amount_ore"]) for r in stored_lines(org)] == [("Synlig", 10000)]


def test_every_bad_row_is_reported_with_file_row_and_column_and_nothing_is_written(org, data_dir):
    text = ledger_csv(ROWS[0], "32.13.2024;115000;2020;2100;;;12,00;x", "01.05.2024;115000;2020;2100;12345;;abc;y")
    with pytest.raises(ImportRejected) as caught:
        import_ledger(org, text, name="bad.csv")
    messages = [str(e) for e in caught.value.errors]
    assert "bad.csv, row 3, column 'Dato': not a date: '32.13.2024'" in messages
    assert any(m.startswith("bad.csv, row 4, column 'Orgnr'") for m in messages)
    assert any(m.startswith("bad.csv, row 4, column 'Beløp'") and "not a number" in m for m in messages)
    assert ImportBatch.objects.with_scopes_disabled().count() == 0
    assert not list((data_dir / "lines").rglob("*.parquet"))


def test_a_missing_column_is_named(org):
    text = "Dato;Konto;Ansvar;Beløp\n01.03.2024;115000;1;5\n"
    with pytest.raises(ImportRejected, match="column 'Funksjon'.*not found in the header"):
        import_ledger(org, text, name="short.csv")


def test_a_mapped_column_twice_in_the_header_is_refused_naming_both(org):
    """'Beløp' and 'beløp' (the header is matched without case): the last used to win silently."""
    text = HEADER.rstrip("\n") + ";beløp\n" + ROWS[2] + ";999,00\n"
    with pytest.raises(ImportRejected) as refused:
        import_ledger(org, text, name="to-belop.csv")
    [error] = refused.value.errors
    assert (error.row, error.column) == (1, "Beløp")
    assert "is in the header 2 times (Beløp, beløp): rename all but one" in error.reason
    assert not stored_lines(org)


def test_an_empty_file_and_a_header_only_file_are_refused(org):
    with pytest.raises(ImportRejected, match="empty"):
        import_ledger(org, "", name="empty.csv")
    with pytest.raises(ImportRejected, match="no lines"):
        import_ledger(org, HEADER, name="header.csv")


def test_the_same_file_twice_adds_nothing(org):
    first = import_ledger(org, ledger_csv(*ROWS))
    second = import_ledger(org, ledger_csv(*ROWS))
    assert (first.lines_added, second.lines_added, second.already_imported) == (3, 0, True)
    assert len(stored_lines(org)) == 3
    assert ImportBatch.objects.with_scopes_disabled().count() == 1


def test_an_overlapping_file_adds_only_the_lines_it_does_not_share(org):
    import_ledger(org, ledger_csv(ROWS[0], ROWS[1]), name="jan-apr.csv")
    result = import_ledger(org, ledger_csv(ROWS[1], ROWS[2]), name="apr-jun.csv")
    assert (result.lines_added, result.lines_duplicate) == (1, 1)
    assert len(stored_lines(org)) == 3


def test_a_data_directory_with_glob_characters_in_its_path_finds_its_own_stored_lines(org, tmp_path, monkeypatch):
    """DuckDB reads `[1]` in a path as a pattern: the stored batches of /srv/var[1]/ were looked for in /srv/var1/
    (an overlapping file failed, or took another directory's lines for its duplicates)."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "var[1]"))
    import_ledger(org, ledger_csv(ROWS[0], ROWS[1]), name="jan-apr.csv")
    for batch in ImportBatch.objects.with_scopes_disabled().filter(organisation=org):  # /srv/var1/: no lines
        decoy = tmp_path / "var1" / linestore.absolute(batch.parquet_path).relative_to(tmp_path / "var[1]")
        decoy.parent.mkdir(parents=True)
        pq.write_table(pq.read_table(linestore.absolute(batch.parquet_path)).slice(0, 0), decoy)
    result = import_ledger(org, ledger_csv(ROWS[1], ROWS[2]), name="apr-jun.csv")
    assert (result.lines_added, result.lines_duplicate) == (1, 1)
    assert len(stored_lines(org)) == 3


def test_identical_lines_in_one_file_are_separate_purchases(org):
    result = import_ledger(org, ledger_csv(ROWS[0], ROWS[0], ROWS[0]))
    assert result.lines_added == 3
    again = import_ledger(org, ledger_csv(ROWS[0], ROWS[0], ROWS[0], ROWS[0]), name="later.csv")
    assert (again.lines_added, again.lines_duplicate) == (1, 3)


def test_voucher_and_line_id_are_the_natural_key_when_present(org):
    profile = {"name": "ids", "columns": {**VISMA["columns"], "voucher": "Bilag", "line_id": "Linje"}}
    header = HEADER.rstrip("\n") + ";Bilag;Linje\n"
    import_ledger(org, ledger_csv(ROWS[0] + ";100;1", header=header), profile=profile, name="a.csv")
    corrected = ROWS[0].replace("Matvarer", "Matvarer (rettet tekst)") + ";100;1"
    result = import_ledger(org, ledger_csv(corrected, ROWS[2] + ";100;2", header=header), profile=profile, name="b.csv")
    assert (result.lines_added, result.lines_duplicate) == (1, 1)


def test_a_new_years_ledger_that_numbers_its_vouchers_from_one_again_adds_its_lines(org):
    """Many ledgers number vouchers from 1 again each year: voucher 100 line 1 of 2025 is not 2024's (the key holds
    the posting year); the same year's file again adds nothing."""
    profile = {"name": "ids", "columns": {**VISMA["columns"], "voucher": "Bilag", "line_id": "Linje"}}
    header = HEADER.rstrip("\n") + ";Bilag;Linje\n"
    first = import_ledger(org, ledger_csv(ROWS[0] + ";100;1", header=header), profile=profile, name="2024.csv")
    next_year = ROWS[2].replace("2024", "2025") + ";100;1"
    second = import_ledger(org, ledger_csv(next_year, header=header), profile=profile, name="2025.csv")
    assert (first.lines_added, second.lines_added, second.lines_duplicate) == (1, 1, 0)
    again = import_ledger(org, ledger_csv(next_year, ROWS[0] + ";100;1", header=header), profile=profile,
                          name="both.csv")
    assert (again.lines_added, again.lines_duplicate) == (0, 2)
    assert sorted(r["year"] for r in stored_lines(org)) == [2024, 2025]
    assert len({r["line_key"] for r in stored_lines(org)}) == 2


def test_a_line_stored_under_the_key_without_its_year_is_still_the_same_line(org):
    """Lines imported before the key held the posting year (voucher and line id only) are recognised by that key and
    their year: the same file again adds nothing, a new year's line of the same voucher and line id is added."""
    import hashlib

    profile = {"name": "ids", "columns": {**VISMA["columns"], "voucher": "Bilag", "line_id": "Linje"}}
    header = HEADER.rstrip("\n") + ";Bilag;Linje\n"
    import_ledger(org, ledger_csv(ROWS[0] + ";100;1", header=header), profile=profile, name="2024.csv")
    batch = ImportBatch.objects.with_scopes_disabled().get(organisation=org, status="done")
    path = linestore.absolute(batch.parquet_path)
    table = pq.read_table(path)
    legacy = hashlib.sha256(b"id|100|1|1").hexdigest()[:32]  # the key as an earlier version stored it
    pq.write_table(table.set_column(table.schema.get_field_index("line_key"), "line_key",
                                    pa.array([legacy], pa.string())), path)
    again = import_ledger(org, ledger_csv(ROWS[0] + ";100;1", ROWS[2] + ";101;1", header=header), profile=profile,
                          name="2024-igjen.csv")  # another file (not recognised by its SHA-256) with the line
    assert (again.lines_added, again.lines_duplicate) == (1, 1)
    next_year = ROWS[0].replace("2024", "2025") + ";100;1"
    added = import_ledger(org, ledger_csv(next_year, header=header), profile=profile, name="2025.csv")
    assert (added.lines_added, added.lines_duplicate) == (1, 0)


def test_a_killed_import_leaves_nothing_behind_and_can_be_repeated(org, data_dir, monkeypatch):
    real = import_services.do_ensure_units

    def die(**kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(import_services, "do_ensure_units", die)
    with pytest.raises(KeyboardInterrupt):
        import_ledger(org, ledger_csv(*ROWS))
    assert ImportBatch.objects.with_scopes_disabled().count() == 0
    assert Supplier.objects.count() == 0
    assert stored_lines(org) == []
    monkeypatch.setattr(import_services, "do_ensure_units", real)
    assert import_ledger(org, ledger_csv(*ROWS)).lines_added == 3
    assert len(stored_lines(org)) == 3


def test_an_import_records_units_suppliers_the_raw_file_and_an_audit_entry(org, data_dir):
    text = ledger_csv(*ROWS)
    result = import_ledger(org, text)
    assert set(Unit.objects.filter(organisation=org).values_list("code", flat=True)) == {"2100", "1000"}
    assert set(Supplier.objects.values_list("orgnr", flat=True)) == {"999999999", "988888888"}
    sha = result.batch.file_sha256
    assert (data_dir / "archive" / sha[:2] / sha).read_bytes() == text.encode()
    entry = AuditEntry.objects.filter(action="import_ledger").get()
    assert entry.after["lines_added"] == 3 and entry.organisation == org


def test_a_profile_must_map_the_required_fields(org):
    with pytest.raises(InvalidInput, match="posting_date"):
        do_save_profile(organisation=org, spec={"name": "x", "columns": {"amount": "B", "art": "A"}}, actor="t")
    with pytest.raises(InvalidInput, match="unknown field"):
        do_save_profile(organisation=org, spec={"name": "x", "columns": {"posting_date": "D", "amount": "B",
                                                                          "art": "A", "colour": "C"}}, actor="t")
    # amounts with VAT need the VAT column, else the VAT would silently stay in the spend
    with pytest.raises(InvalidInput, match="'amount_includes_vat' needs the VAT column"):
        do_save_profile(organisation=org, spec={"name": "x", "columns": {"posting_date": "D", "amount": "B", "art": "A"},
                                                "amount_includes_vat": True}, actor="t")
    do_save_profile(organisation=org, spec={"name": "x", "columns": {"posting_date": "D", "amount": "B", "art": "A",
                                                                      "vat": "M"}, "amount_includes_vat": True},
                    actor="t")


OXFORD_PROFILE = {
    "name": "oxford",
    "columns": {"posting_date": "Paid Date", "account": "Expenditure Code", "description": "Expenditure Category",
                "unit": "Service Area", "amount": "Amount", "line_id": "Trans No", "kontoklasse": "Type",
                "supplier_name": "Supplier Name"},
    "date_format": "%d/%m/%Y",
    "currency": "GBP",
    "values": {"kontoklasse": {"Capital": "0", "Revenue": "1"}},
}


def test_a_real_messy_export_in_a_foreign_currency_is_refused_without_an_exchange_rate(org, reference):
    ExchangeRate.objects.filter(year=2017, currency="GBP").delete()  # shipped since method v2 (issue 15 item 8)
    data = OXFORD.read_bytes()
    do_save_profile(organisation=org, spec=OXFORD_PROFILE, actor="test")
    with pytest.raises(ImportRejected) as caught:
        do_import_ledger(organisation=org, data=data, file_name=OXFORD.name, actor="test")
    message = str(caught.value)
    assert f"{OXFORD.name}, row 2, column 'Amount': no exchange rate GBP→NOK for 2017" in message
    assert ImportBatch.objects.with_scopes_disabled().count() == 0


def test_a_real_messy_export_in_a_foreign_currency_is_converted_with_the_years_rate(org, reference):
    do_set_exchange_rate(year=2017, currency="GBP", nok_per_unit=10.64, source="test rate", actor="test")
    do_save_profile(organisation=org, spec=OXFORD_PROFILE, actor="test")
    result = do_import_ledger(organisation=org, data=OXFORD.read_bytes(), file_name=OXFORD.name, actor="test")
    assert result.rows_read == 4052
    lines = stored_lines(org)
    assert len(lines) + result.lines_duplicate == 4052
    hmrc = next(line for line in lines if line["line_id"] == "46293406 - 1")
    assert hmrc["currency"] == "GBP" and hmrc["amount_orig_minor"] == 815190
    assert hmrc["amount_ore"] == round(815190 * 10.64)
    # quoted fields with commas ("Planning, Sustainable Dev & Regulatory") stay whole
    assert any(line["unit"] == "Planning, Sustainable Dev & Regulatory" for line in lines)
    assert sum(1 for line in lines if line["investment"]) > 0
    assert all(line["art"] == "" for line in lines)  # UK codes carry no KOSTRA art
