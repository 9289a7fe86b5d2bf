"""Supplier purchase statistics: a framework supplier's report through a saved profile into the line store
(quantities normalised, items and codes kept), activity-based emissions after compute, matching to the
ledger on supplier + invoice number, and refusals that leave nothing behind."""
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import AuditEntry, ImportBatch, MappingProfile, SupplierStatsProfile
from tests.conftest import run_cli
from tests.factories import (VISMA, do_import_ledger, do_import_supplier_stats, do_save_profile,
                             do_save_supplier_stats_profile)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "supplier_stats"
REPORT = (DATA / "fuel_2024.csv").read_bytes()
PROFILE = json.loads((DATA / "profile_fuel.json").read_text(encoding="utf-8"))


def activity_factor(key, unit):
    """The DESNZ 2025 activity factor read straight from the shipped file (independent of the importer)."""
    text = (ROOT / "klimainnkjop" / "data" / "factor_sets" / "desnz-2025-activity.csv").read_text(encoding="utf-8")
    rows = [line.split(";") for line in text.splitlines() if line and not line.startswith("#")]
    header = rows[0]
    (row,) = [r for r in rows[1:] if r[0] == key and r[header.index("unit")] == unit]
    return float(row[header.index("value")])


def stored(org):
    files = [linestore.absolute(b.parquet_path) for b in ImportBatch.objects.with_scopes_disabled().filter(organisation=org, status="done")
             if b.parquet_path]
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def import_report(org, data=REPORT, name="fuel_2024.csv", profile=None):
    do_save_supplier_stats_profile(organisation=org, spec=profile or PROFILE, actor="test")
    return do_import_supplier_stats(organisation=org, data=data, file_name=name, actor="test")


def test_a_report_becomes_lines_with_normalised_quantities_items_and_codes(org):
    result = import_report(org)
    assert (result.rows_read, result.lines_added, result.rows_other_customer) == (5, 4, 1)
    lines = sorted(stored(org), key=lambda r: r["row_no"])
    assert {r["source"] for r in lines} == {"supplier_stats"} and {r["org"] for r in lines} == {"944117784"}
    diesel, petrol, hectolitres, adblue = lines
    assert diesel["quantity"] == 1250.5 and diesel["quantity_unit"] == "litre" and diesel["unit_code"] == "liter"
    assert hectolitres["quantity"] == pytest.approx(980.0) and hectolitres["quantity_unit"] == "litre"
    assert petrol["quantity"] == 310 and petrol["quantity_unit"] == "litre"
    assert adblue["quantity_unit"] == "piece" and adblue["item_class_code"] == ""
    assert diesel["item_class_scheme"] == "cpv" and diesel["item_class_code"] == "09134100"
    assert diesel["item_name"] == diesel["description"] == "Diesel anleggsmaskiner" and diesel["seller_item_id"] == "D100"
    assert diesel["supplier_orgnr"] == "910000001" and diesel["supplier_name"] == "FJELLDRIVSTOFF AS"
    assert diesel["invoice_no"] == "F-24001" and diesel["amount_ore"] == 2_250_900
    assert str(diesel["posting_date"]) == "2024-01-01" and (diesel["year"], diesel["month"]) == (2024, 1)
    audit = AuditEntry.objects.get(action="import_supplier_stats")
    assert audit.after["rows_other_customer"] == 1 and audit.after["profile"] == "drivstoff"


def test_diesel_litres_give_activity_based_lines_after_compute(org, reference, data_dir):
    import_report(org)
    run = do_compute(actor="test")
    rows = pq.read_table(data_dir / run.result_dir / "lines").to_pylist()
    diesel = [r for r in rows if r["source"] == "supplier_stats" and r["category"] == "energy.fuel.diesel"]
    assert len(diesel) == 2 and {r["method"] for r in diesel} == {"activity"}
    litres = 1250.5 + 980.0
    factor = activity_factor("energy.fuel.diesel", "litre")
    assert sum(r["kg_co2e"] for r in diesel) == pytest.approx(litres * factor, rel=1e-9)
    (petrol,) = [r for r in rows if r["category"] == "energy.fuel.petrol"]
    assert petrol["method"] == "activity"
    assert petrol["kg_co2e"] == pytest.approx(310 * activity_factor("energy.fuel.petrol", "litre"), rel=1e-9)


def test_the_same_file_twice_and_an_overlapping_report_add_nothing(org):
    first = import_report(org)
    again = do_import_supplier_stats(organisation=org, data=REPORT, file_name="copy.csv", actor="test")
    assert again.already_imported and again.lines_added == 0
    overlapping = REPORT + "2024-04;944117784;F-24044;D100;Diesel anleggsmaskiner;09134100-8;100;liter;1 800,00\n".encode()
    later = do_import_supplier_stats(organisation=org, data=overlapping, file_name="q1-q2.csv", actor="test")
    assert (later.lines_added, later.lines_duplicate) == (1, first.lines_added)
    assert len(stored(org)) == 5


def test_a_file_with_an_error_is_refused_whole_naming_file_row_and_column_and_leaves_nothing(org, data_dir):
    bad = REPORT.decode().replace("1 250,5;liter", "mye;liter").replace("310;l;", "310;fat;")
    with pytest.raises(ImportRejected) as refused:
        import_report(org, data=bad.encode(), name="bad.csv")
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "Antall"), (3, "Enhet")]
    assert "bad.csv, row 2, column 'Antall'" in str(refused.value)
    assert not ImportBatch.objects.with_scopes_disabled().exists()
    assert not any((data_dir / "lines").rglob("*.parquet")) if (data_dir / "lines").exists() else True
    assert not any((data_dir / "archive").rglob("*")) if (data_dir / "archive").exists() else True
    assert not AuditEntry.objects.filter(action="import_supplier_stats").exists()


def test_a_report_without_rows_of_the_customer_is_refused(org, other_org):
    report = REPORT.decode().splitlines()
    only_other = "\n".join([report[0], report[4]]) + "\n"
    with pytest.raises(ImportRejected, match="no row is customer 944117784's; rows per customer in the file: 964950113: 1$"):
        import_report(org, data=only_other.encode(), name="other.csv")
    do_save_supplier_stats_profile(organisation=other_org, spec=PROFILE, actor="test")
    result = do_import_supplier_stats(organisation=other_org, data=REPORT, file_name="fuel_2024.csv", actor="test")
    assert (result.lines_added, result.rows_other_customer) == (1, 4)



def test_a_report_without_the_mapped_columns_or_without_lines_is_refused_naming_each_column():
    from klimainnkjop.importers.supplier_stats import StatsProfile, parse_supplier_stats

    profile = StatsProfile.from_spec(PROFILE)
    header, *rows = REPORT.decode().splitlines()
    cut = ";".join(c for c in header.split(";") if c not in ("CPV", "Enhet"))
    with pytest.raises(ImportRejected) as refused:
        parse_supplier_stats(f"{cut}\n".encode(), "cut.csv", profile, "944117784")
    assert [(e.row, e.column) for e in refused.value.errors] == [(1, "CPV"), (1, "Enhet")]
    assert "column for 'item_class_code' not found in the header (Periode, Kundens orgnr" in str(refused.value)
    with pytest.raises(ImportRejected, match="cut.csv: the file has a header but no lines"):
        parse_supplier_stats(f"{header}\n\n".encode(), "cut.csv", profile, "944117784")
    assert len(parse_supplier_stats(REPORT, "fuel_2024.csv", profile, "944117784").lines) == len(rows) - 1

def test_a_report_line_matched_to_the_ledger_on_invoice_number_enriches_the_ledger_line(org, reference, data_dir):
    ledger_profile = {"name": "visma-faktura", "columns": {**VISMA["columns"], "invoice_no": "Faktura"}}
    do_save_profile(organisation=org, spec=ledger_profile, actor="test")
    ledger = ("Dato;Konto;Funksjon;Ansvar;Orgnr;Leverandør;Beløp;Tekst;Faktura\n"
              "31.01.2024;120000;3330;4100;910000001;Fjelldrivstoff AS;28 709,00;Drivstoff januar;F-24001\n"
              "29.02.2024;120000;3330;4100;910000001;Fjelldrivstoff AS;17 640,00;Drivstoff februar;F-24017\n")
    do_import_ledger(organisation=org, data=ledger.encode(), file_name="ledger.csv", profile_name="visma-faktura",
                     actor="test")
    import_report(org)
    run = do_compute(actor="test")
    rows = pq.read_table(data_dir / run.result_dir / "lines").to_pylist()
    ledger_rows = [r for r in rows if r["source"] == "ledger"]
    assert {r["exclusion"] for r in ledger_rows} == {"invoice_detail"}
    matched = [r for r in rows if r["source"] == "supplier_stats" and r["invoice_no"] in ("F-24001", "F-24017")]
    assert len(matched) == 3 and {r["unit"] for r in matched} == {"4100"} and {r["art"] for r in matched} == {"120"}
    assert {r["exclusion"] for r in matched} == {""}
    (unmatched,) = [r for r in rows if r["invoice_no"] == "F-24031"]
    assert unmatched["exclusion"] == "unmatched_invoice"


def test_the_ledger_profile_stays_the_one_import_ledger_finds(org):
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    import_report(org)
    assert MappingProfile.objects.with_scopes_disabled().count() == 1 and SupplierStatsProfile.objects.with_scopes_disabled().count() == 1
    text = "Dato;Konto;Funksjon;Ansvar;Orgnr;Leverandør;Beløp;Tekst\n01.03.2024;115000;2020;2100;;;100,00;Mat\n"
    result = do_import_ledger(organisation=org, data=text.encode(), file_name="l.csv", actor="test")
    assert result.lines_added == 1


def test_a_profile_without_supplier_or_with_unknown_fields_is_refused(org):
    spec = {"name": "x", "columns": {"period": "P", "amount": "A", "colour": "C"}}
    with pytest.raises(InvalidInput) as refused:
        do_save_supplier_stats_profile(organisation=org, spec=spec, actor="test")
    assert "unknown field(s) colour" in str(refused.value) and "supplier_orgnr" in str(refused.value)
    with pytest.raises(InvalidInput, match="no supplier-statistics profile named 'nope'"):
        do_import_supplier_stats(organisation=org, data=REPORT, file_name="f.csv", profile_name="nope", actor="test")


def test_an_xlsx_report_with_a_supplier_column_and_dates_imports_too(org):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Dato", "Leverandør orgnr", "Produkt", "Mengde", "Enhet", "Sum"])
    sheet.append(["05.06.2024", "910 000 001", "Diesel", 1000, "L", 18000.0])
    sheet.append(["06.06.2024", "NO910000002MVA", "Kopipapir A4", 25, "kg", 950.5])
    buffer = io.BytesIO()
    book.save(buffer)
    profile = {"name": "xl", "columns": {"period": "Dato", "supplier_orgnr": "Leverandør orgnr",
                                         "product_name": "Produkt", "quantity": "Mengde", "quantity_unit": "Enhet",
                                         "amount": "Sum"}}
    result = import_report(org, data=buffer.getvalue(), name="rapport.xlsx", profile=profile)
    assert result.lines_added == 2
    lines = {r["supplier_orgnr"]: r for r in stored(org)}
    assert lines["910000001"]["quantity"] == 1000 and lines["910000001"]["quantity_unit"] == "litre"
    assert lines["910000002"]["amount_ore"] == 95_050 and lines["910000002"]["quantity_unit"] == "kg"


@pytest.mark.django_db
def test_the_cli_imports_a_profile_and_a_report_and_refuses_a_bad_one_with_exit_2(tmp_path):
    cli = run_cli  # in the test's data directory (tmp_path / "var")

    assert cli("org", "add", "944117784", "Kongsvinger kommune").returncode == 0
    saved = cli("suppliers", "profile", "import", str(DATA / "profile_fuel.json"), "--org", "944117784")
    assert saved.returncode == 0, saved.stderr
    done = cli("import", "supplier-stats", str(DATA / "fuel_2024.csv"), "--org", "944117784", "--profile", "drivstoff")
    assert done.returncode == 0, done.stderr
    assert "5 rows read, 4 lines added" in done.stdout and "1 rows of other customers skipped" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(REPORT.replace(b"2024-03;", b"2024-13;"))
    refused = cli("import", "supplier-stats", str(bad), "--org", "944117784")
    assert refused.returncode == 2 and "bad.csv, row 6, column 'Periode'" in refused.stderr
