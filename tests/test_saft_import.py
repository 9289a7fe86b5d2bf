"""SAF-T Financial import, and the invoice commands of the CLI (in this process: tests/conftest.py run_cli)."""
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.importers.saft import art_for_account, parse_saft
from klimainnkjop.services.organisations import InvalidInput, do_create_organisation
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ExchangeRate, ImportBatch, Supplier
from tests.conftest import run_cli
from tests.factories import do_import_saft

ROOT = Path(__file__).resolve().parents[1]
SAFT = ROOT / "tests" / "data" / "saft"
EXAMPLE = SAFT / "ExampleFile_SAF-T_Financial_888888888_20180228235959.xml"
XMLSPY = SAFT / "Eksempelfil_fra_xmlSpy.xml"
EHF = ROOT / "tests" / "data" / "ehf"


def stored_lines(org):
    files = [linestore.absolute(b.parquet_path) for b in ImportBatch.objects.with_scopes_disabled().filter(organisation=org, status="done")]
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.fixture
def company(db):
    return do_create_organisation(orgnr="888888888", name="Tøyen Lekefabrikk AS", kind="iks", actor="test")


def test_the_skatteetaten_example_file_imports_every_general_ledger_line(company):
    result = do_import_saft(data=EXAMPLE.read_bytes(), file_name=EXAMPLE.name, actor="test")
    assert result.lines_added == 170 and not result.already_imported
    lines = stored_lines(company)
    assert {line["source"] for line in lines} == {"saft"}
    assert sum(line["amount_ore"] for line in lines) == 0  # every transaction balances
    assert sum(line["amount_ore"] for line in lines if line["amount_ore"] > 0) == 948704935  # TotalDebit
    assert any("older than 1.30" in w for w in result.warnings)


def test_the_supplier_of_the_creditor_line_is_carried_to_the_cost_line(company):
    do_import_saft(data=EXAMPLE.read_bytes(), file_name=EXAMPLE.name, actor="test")
    cost = next(line for line in stored_lines(company) if line["voucher"] == "1001" and line["line_id"] == "1")
    assert cost["account"] == "4000" and cost["amount_ore"] == 1000000 and cost["vat_ore"] == 250000
    assert cost["supplier_orgnr"] == "987654651" and cost["supplier_name"] == "Myke Tekstiler AS"
    assert cost["invoice_no"] == "1155" and str(cost["posting_date"]) == "2017-01-05"
    assert cost["art"] == ""  # a 4-digit NS 4102 account is not read as a KOSTRA art
    assert Supplier.objects.filter(orgnr="987654651").exists()


def test_the_same_saft_file_twice_adds_nothing(company):
    do_import_saft(data=EXAMPLE.read_bytes(), file_name=EXAMPLE.name, actor="test")
    again = do_import_saft(data=EXAMPLE.read_bytes(), file_name=EXAMPLE.name, actor="test")
    assert again.already_imported and again.lines_added == 0
    reexported = EXAMPLE.read_bytes().replace(b"<n1:AuditFileDateCreated>2018-01-10<",
                                              b"<n1:AuditFileDateCreated>2018-03-01<", 1)
    assert reexported != EXAMPLE.read_bytes()
    overlap = do_import_saft(data=reexported, file_name="again.xml", actor="test")
    assert overlap.lines_added == 0 and overlap.lines_duplicate == 170
    assert len(stored_lines(company)) == 170


def test_a_new_years_saft_file_that_numbers_its_transactions_from_one_again_adds_its_lines(company):
    """TransactionID + RecordID start again in many systems' next year: the key holds the posting year, so the
    next year's file (here the example moved a year on) is not taken for the first one's duplicate; a line stored
    under the key without the year is still recognised by it and its year."""
    import hashlib

    import pyarrow as pa

    first = do_import_saft(data=EXAMPLE.read_bytes(), file_name=EXAMPLE.name, actor="test")
    next_year = EXAMPLE.read_bytes().replace(b"<n1:GLPostingDate>2017-", b"<n1:GLPostingDate>2018-")
    second = do_import_saft(data=next_year, file_name="2018.xml", actor="test")
    assert (first.lines_added, second.lines_added, second.lines_duplicate) == (170, 170, 0)
    assert sorted({line["year"] for line in stored_lines(company)}) == [2017, 2018]
    # the 2017 batch as an earlier version stored it (keys without the year): the same lines again add nothing
    batch = ImportBatch.objects.with_scopes_disabled().filter(organisation=company, status="done").order_by("pk")[0]
    path = linestore.absolute(batch.parquet_path)
    table = pq.read_table(path)
    legacy = [hashlib.sha256(f"saft|{v}|{r}".encode()).hexdigest()[:32]
              for v, r in zip(table.column("voucher").to_pylist(), table.column("line_id").to_pylist())]
    pq.write_table(table.set_column(table.schema.get_field_index("line_key"), "line_key", pa.array(legacy)), path)
    reexported = EXAMPLE.read_bytes().replace(b"<n1:AuditFileDateCreated>2018-01-10<",
                                              b"<n1:AuditFileDateCreated>2018-03-01<", 1)
    overlap = do_import_saft(data=reexported, file_name="again.xml", actor="test")
    assert (overlap.lines_added, overlap.lines_duplicate) == (0, 170)


def test_a_municipal_account_gives_its_kostra_art_and_a_private_one_does_not():
    assert art_for_account("115001") == "115"
    assert art_for_account("11500") == "115"
    assert art_for_account("4000") == ""
    assert art_for_account("99999") == ""


def test_a_saft_file_of_an_unknown_company_is_refused_clearly(db):
    with pytest.raises(InvalidInput) as caught:
        do_import_saft(data=EXAMPLE.read_bytes(), file_name=EXAMPLE.name, actor="test")
    assert "888888888" in str(caught.value)


def test_the_xmlspy_skeleton_without_the_saft_namespace_is_rejected_naming_the_file(company):
    # Skatteetaten's second example is an XMLSpy-generated skeleton ('a' placeholders, no namespace)
    with pytest.raises(ImportRejected) as caught:
        parse_saft(XMLSPY.read_bytes(), XMLSPY.name)
    assert f"{XMLSPY.name}, row 3: not a SAF-T Financial file" in str(caught.value)


def test_a_saft_130_file_that_breaks_the_schema_is_rejected(company, data_dir):
    text = EXAMPLE.read_bytes().replace(b"<n1:AuditFileVersion>1.0<", b"<n1:AuditFileVersion>1.30<")
    with pytest.raises(ImportRejected) as caught:
        do_import_saft(data=text, file_name="new.xml", actor="test")
    assert "new.xml" in str(caught.value) and "SAF-T 1.30 schema" in str(caught.value)
    assert ImportBatch.objects.with_scopes_disabled().count() == 0 and not list(data_dir.rglob("*.parquet"))


def test_a_bad_amount_rejects_the_saft_file(company):
    text = re.sub(rb"(<n1:DebitAmount>\s*<n1:Amount>)10000<", rb"\1ti<", EXAMPLE.read_bytes(), count=1)
    with pytest.raises(ImportRejected) as caught:
        do_import_saft(data=text, file_name="amount.xml", actor="test")
    assert "amount.xml" in str(caught.value) and "not a number" in str(caught.value)


def test_broken_saft_xml_is_rejected(company):
    with pytest.raises(ImportRejected) as caught:
        do_import_saft(data=EXAMPLE.read_bytes()[:5000], file_name="cut.xml", actor="test")
    assert "cut.xml" in str(caught.value) and "not well-formed XML" in str(caught.value)


def cli(data_dir, *args):
    return run_cli("--data-dir", data_dir, *args)


@pytest.mark.django_db
def test_the_cli_imports_ehf_and_saft_and_prints_the_match_report(tmp_path):
    data = tmp_path / "cli"
    assert cli(data, "org", "add", "987654325", "Buyercompany ASA").returncode == 0
    done = cli(data, "import", "ehf", str(EHF / "Norwegian-example-1.xml"))
    assert done.returncode == 0, done.stderr
    assert "1 documents read, 1 added (7 lines)" in done.stdout and "MTR" in done.stderr
    assert "already present" in cli(data, "import", "ehf", str(EHF / "Norwegian-example-1.xml")).stdout
    ExchangeRate.objects.filter(year=2017, currency="EUR").delete()  # shipped since method v2 (issue 15 item 8)
    refused = cli(data, "import", "ehf", str(EHF / "base-example.xml"), "--org", "987654325")
    assert refused.returncode == 2 and "no exchange rate EUR" in refused.stderr
    saft = cli(data, "import", "saft", str(EXAMPLE), "--org", "987654325")
    assert saft.returncode == 2 and "888888888" in saft.stderr
    before = cli(data, "invoices", "match", "--org", "987654325")  # the engine matches when it computes
    assert before.returncode == 1 and "nothing computed yet; run `klimainnkjop compute`" in before.stderr
    assert cli(data, "compute").returncode == 0
    report = cli(data, "invoices", "match", "--org", "987654325", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert "warning" not in report.stderr
    document = json.loads(report.stdout)
    assert document["summary"]["unmatched_invoices"] == 1
    assert document["unmatched_invoices"][0]["invoice_no"] == "TOSL108"
    table = cli(data, "invoices", "match", "--org", "987654325")
    assert "invoice only" in table.stdout and "TOSL108" in table.stdout
    assert cli(data, "import", "ledger", "--help").returncode == 0
