"""EHF / PEPPOL BIS Billing 3.0 import: validation, reconciliation with the document totals, idempotence."""
import re
import time
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from klimainnkjop.importers.ehf import parse_document
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.access import system_scope
from klimainnkjop.selectors.invoices import invoice_matches
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.invoices import read_inputs
from klimainnkjop.services.organisations import do_create_organisation
from klimainnkjop.services.reference import do_set_exchange_rate
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ExchangeRate, ImportBatch, Supplier
from tests.factories import do_import_ehf, import_ledger, ledger_csv

EHF = Path(__file__).resolve().parent / "data" / "ehf"
EXAMPLES = sorted(p.name for p in EHF.glob("*.xml"))
NORWEGIAN = "Norwegian-example-1.xml"
RATES = {("EUR", 2017): 9.3259, ("EUR", 2018): 9.5975, ("GBP", 2017): 10.6443, ("GBP", 2018): 10.8535,
         ("SEK", 2017): 0.9689, ("SEK", 2018): 0.9365}


def stored_lines(org):
    files = [linestore.absolute(b.parquet_path) for b in ImportBatch.objects.with_scopes_disabled().filter(organisation=org, status="done")]
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.fixture
def rates(db):
    for (currency, year), value in RATES.items():
        do_set_exchange_rate(year=year, currency=currency, nok_per_unit=value, source="test", actor="test")


@pytest.fixture
def buyer(db):
    """The buyer of the Norwegian example (orgnr 987654325)."""
    return do_create_organisation(orgnr="987654325", name="Buyercompany ASA", actor="test")


def computed_matches(org) -> dict:
    """The invoice matching of a compute run made now (the engine matches; `invoices match` reads it)."""
    do_compute(actor="test")
    return invoice_matches(system_scope(), org=org.orgnr)


def doc_bytes(name):
    return (EHF / name).read_bytes()


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_peppol_example_imports_and_its_lines_reconcile_with_the_document_totals(org, rates, name):
    doc = parse_document(doc_bytes(name), name)
    item_lines = [line for line in doc.lines if not line.is_document_allowance_charge]
    assert sum(line.amount_minor for line in item_lines) == doc.line_extension_minor
    assert sum(line.amount_minor for line in doc.lines) == doc.tax_exclusive_minor
    assert doc.line_extension_minor - doc.allowance_total_minor + doc.charge_total_minor == doc.tax_exclusive_minor

    result = do_import_ehf(documents=[(name, doc_bytes(name))], organisation=org, actor="test")
    assert result.documents_added == 1 and result.lines_added == len(doc.lines)
    lines = stored_lines(org)
    rate = 1.0 if doc.currency == "NOK" else RATES[(doc.currency, doc.issue_date.year)]
    assert {line["source"] for line in lines} == {"ehf"}
    assert sum(line["amount_orig_minor"] for line in lines) == doc.tax_exclusive_minor
    assert abs(sum(line["amount_ore"] for line in lines) - doc.tax_exclusive_minor * rate) <= len(lines)
    assert {line["invoice_no"] for line in lines} == {doc.document_id}
    assert all(line["art"] == "" and line["posting_date"] == doc.issue_date for line in lines)


def test_a_credit_note_counts_negative_in_amount_and_quantity(org, rates):
    name = "base-creditnote-correction.xml"
    do_import_ehf(documents=[(name, doc_bytes(name))], organisation=org, actor="test")
    lines = {line["line_id"]: line for line in stored_lines(org)}
    # line 1 credits 7 days at 400 EUR; line 2 is a negative credit line (+3 days)
    assert lines["1"]["amount_orig_minor"] == -280000 and lines["1"]["quantity"] == -7.0
    assert lines["2"]["amount_orig_minor"] == 150000 and lines["2"]["quantity"] == 3.0
    assert lines["1"]["document_type"] == "creditnote"
    assert sum(line["amount_orig_minor"] for line in lines.values()) == -132500


def test_the_norwegian_example_maps_buyer_seller_items_units_and_vat(buyer):
    result = do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    assert result.lines_added == 7  # 5 invoice lines, the freight charge and the promotion discount
    lines = {line["line_id"]: line for line in stored_lines(buyer)}
    first = lines["1"]
    assert first["org"] == "987654325" and first["supplier_orgnr"] == "123456785"
    assert first["supplier_name"] == "The Sellercompany ASA"
    assert first["amount_ore"] == 127300 and first["vat_ore"] == 31825 and first["currency"] == "NOK"
    assert first["quantity"] == 1.0 and first["quantity_unit"] == "piece" and first["unit_code"] == "NAR"
    assert first["item_class_scheme"] == "cpv" and first["item_class_code"] == "65434568"
    assert first["description"] == first["item_name"] == "Laptop computer"
    assert first["seller_item_id"] == "JB007"
    charge = lines["AC1"]
    assert charge["amount_ore"] == 10000 and charge["vat_ore"] == 2500 and charge["description"] == "charge: Freight"
    assert lines["AC2"]["amount_ore"] == -10000 and lines["AC2"]["description"] == "allowance: Promotion discount"
    assert sum(line["amount_ore"] for line in lines.values()) == 143650
    assert Supplier.objects.filter(orgnr="123456785").exists()


def test_an_unknown_unit_code_keeps_the_amount_without_a_quantity_and_warns(buyer):
    result = do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    line = {line["line_id"]: line for line in stored_lines(buyer)}["5"]
    assert line["unit_code"] == "MTR" and line["quantity"] is None and line["quantity_unit"] == ""
    assert line["amount_ore"] != 0
    assert any("unit code 'MTR' is not known" in w for w in result.warnings)


def test_the_same_invoice_twice_adds_nothing_even_in_another_file_name_or_a_zip(buyer, tmp_path):
    do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    again = do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    assert again.lines_added == 0 and again.documents_duplicate == 1
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("in/renamed.xml", doc_bytes(NORWEGIAN).replace(b"<cbc:Note>", b"<cbc:Note>Resent. "))
        zf.writestr("in/readme.txt", "not an invoice")
    zipped = do_import_ehf(documents=read_inputs([archive]), actor="test")
    assert zipped.documents_read == 1 and zipped.documents_duplicate == 1 and zipped.lines_added == 0
    assert len(stored_lines(buyer)) == 7


def test_a_folder_imports_all_its_documents_and_a_same_id_document_in_it_counts_once(org, rates, tmp_path):
    for name in ("base-example.xml", "sales-order-example.xml", "vat-category-O.xml"):
        (tmp_path / name).write_bytes(doc_bytes(name))
    result = do_import_ehf(documents=read_inputs([tmp_path]), organisation=org, actor="test")
    # base-example and sales-order-example are the same seller's Invoice "Snippet1"
    assert result.documents_read == 3 and result.documents_added == 2 and result.documents_duplicate == 1
    assert any("already in this import with other content" in w for w in result.warnings)
    assert ImportBatch.objects.with_scopes_disabled().filter(organisation=org, kind="ehf").count() == 1


def test_a_buyer_without_a_matching_organisation_is_refused_clearly(db):
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    assert "no organisation matches the buyer orgnr 987654325" in str(caught.value)
    assert ImportBatch.objects.with_scopes_disabled().count() == 0


def test_a_foreign_currency_without_an_exchange_rate_is_refused(org):
    ExchangeRate.objects.filter(year=2017, currency="EUR").delete()  # shipped since method v2 (issue 15 item 8)
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[("base-example.xml", doc_bytes("base-example.xml"))], organisation=org, actor="test")
    assert "no exchange rate EUR→NOK for 2017" in str(caught.value)


def test_broken_xml_is_rejected_naming_the_file_and_nothing_is_stored(buyer, data_dir):
    broken = doc_bytes(NORWEGIAN)[:2000]
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN)), ("broken.xml", broken)], actor="test")
    message = str(caught.value)
    assert "broken.xml" in message and "not well-formed XML" in message
    assert ImportBatch.objects.with_scopes_disabled().count() == 0
    assert not list(data_dir.rglob("*.parquet"))


def test_an_xsd_invalid_document_is_rejected_with_the_schema_message(buyer, data_dir):
    text = doc_bytes(NORWEGIAN).decode().replace("<cbc:IssueDate>2013-06-30</cbc:IssueDate>",
                                                 "<cbc:IssueDate>30.06.2013</cbc:IssueDate>")
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[("bad-date.xml", text.encode())], actor="test")
    message = str(caught.value)
    assert "bad-date.xml" in message and "rule XSD" in message and "IssueDate" in message
    assert ImportBatch.objects.with_scopes_disabled().count() == 0 and not list(data_dir.rglob("*.parquet"))


def test_an_en16931_rule_failure_rejects_the_document_with_its_rule_id(buyer, data_dir):
    text = doc_bytes(NORWEGIAN).decode()
    # a line amount that no longer adds up to the document's sum of line amounts (BR-CO-10)
    text = text.replace('<cbc:LineExtensionAmount currencyID="NOK">1273</cbc:LineExtensionAmount>',
                        '<cbc:LineExtensionAmount currencyID="NOK">1274</cbc:LineExtensionAmount>', 1)
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[("sum.xml", text.encode())], actor="test")
    message = str(caught.value)
    assert "sum.xml" in message and "rule BR-CO-10 (en16931, fatal)" in message
    assert ImportBatch.objects.with_scopes_disabled().count() == 0 and not list(data_dir.rglob("*.parquet"))


def test_a_peppol_rule_failure_is_kept_as_a_finding_and_the_invoice_is_imported(buyer):
    """Measure, don't gatekeep: PEPPOL's rules (here R003, a buyer reference or order reference) are kept as findings
    with the batch, counted in the result and the audit entry; the purchase counts."""
    from klimainnkjop.storage.models import AuditEntry

    text = doc_bytes(NORWEGIAN).decode()
    text = re.sub(r"<cbc:BuyerReference>.*?</cbc:BuyerReference>", "", text)
    text = re.sub(r"<cac:OrderReference>.*?</cac:OrderReference>", "", text, flags=re.S)
    result = do_import_ehf(documents=[("noref.xml", text.encode())], actor="test")
    assert result.documents_added == 1 and result.lines_added > 0
    batch = ImportBatch.objects.with_scopes_disabled().get()
    before = {(f.layer, f.rule, f.flag) for f in parse_document(doc_bytes(NORWEGIAN), NORWEGIAN).findings}
    assert ("peppol", "PEPPOL-EN16931-R003", "fatal") not in before
    assert {(f["layer"], f["rule"], f["flag"]) for f in batch.findings} == before | {
        ("peppol", "PEPPOL-EN16931-R003", "fatal")}
    assert {f["file"] for f in batch.findings} == {"noref.xml"}
    assert result.findings == len(batch.findings) == result.as_dict()["findings"]
    assert AuditEntry.objects.get(action="import_ehf").after["findings"] == len(batch.findings)


def test_one_refused_file_refuses_the_whole_import(buyer, data_dir):
    text = doc_bytes(NORWEGIAN).decode().replace(
        '<cbc:LineExtensionAmount currencyID="NOK">1273</cbc:LineExtensionAmount>',
        '<cbc:LineExtensionAmount currencyID="NOK">1274</cbc:LineExtensionAmount>', 1)
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN)), ("sum.xml", text.encode())], actor="test")
    assert "sum.xml" in str(caught.value) and "BR-CO-10" in str(caught.value)
    assert NORWEGIAN not in str(caught.value)
    assert ImportBatch.objects.with_scopes_disabled().count() == 0 and not list(data_dir.rglob("*.parquet"))


def test_a_document_that_is_not_an_invoice_is_refused(buyer):
    saft = (Path(__file__).resolve().parent / "data" / "saft").glob("Example*.xml")
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[("saft.xml", next(saft).read_bytes())], actor="test")
    assert "not a UBL 2.1 Invoice or CreditNote" in str(caught.value)


def test_validation_after_the_first_document_takes_well_under_a_second():
    parse_document(doc_bytes(NORWEGIAN), NORWEGIAN)  # compiles and caches the validators
    began = time.perf_counter()
    for name in EXAMPLES:
        parse_document(doc_bytes(name), name)
    assert (time.perf_counter() - began) / len(EXAMPLES) < 0.5


def test_invoices_are_matched_to_ledger_lines_on_supplier_and_invoice_number(buyer):
    do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    profile = {"name": "inv", "columns": {"posting_date": "Dato", "account": "Konto", "supplier_orgnr": "Orgnr",
                                          "amount": "Beløp", "invoice_no": "Faktura"}}
    header = "Dato;Konto;Orgnr;Beløp;Faktura\n"
    # TOSL108 totals 1 436.50 NOK excl. VAT, posted on two lines; 1 NOK off is within the tolerance
    import_ledger(buyer, ledger_csv("01.07.2013;115000;123456785;1 000,00;TOSL108",
                                    "01.07.2013;120000;123456785;437,50;TOSL108",
                                    "02.07.2013;120000;123456785;99,00;X-1", header=header), profile=profile)
    report = computed_matches(buyer)
    assert report["summary"] == {"invoices": 1, "matched": 1, "unmatched_invoices": 0, "unmatched_ledger": 1}
    matched = report["matched"][0]
    assert matched["invoice_no"] == "TOSL108" and matched["amount_nok"] == 1436.5
    assert matched["ledger_amount_nok"] == 1437.5 and matched["ledger_lines"] == 2
    assert report["unmatched_ledger"][0]["invoice_no"] == "X-1"


def test_an_invoice_whose_ledger_amount_differs_too_much_is_reported_unmatched(buyer):
    do_import_ehf(documents=[(NORWEGIAN, doc_bytes(NORWEGIAN))], actor="test")
    profile = {"name": "inv", "columns": {"posting_date": "Dato", "account": "Konto", "supplier_orgnr": "Orgnr",
                                          "amount": "Beløp", "invoice_no": "Faktura"}}
    import_ledger(buyer, ledger_csv("01.07.2013;115000;123456785;1 500,00;TOSL108",
                                    header="Dato;Konto;Orgnr;Beløp;Faktura\n"), profile=profile)
    report = computed_matches(buyer)
    assert report["summary"]["matched"] == 0
    assert report["unmatched_invoices"][0]["reason"] == "amount differs beyond tolerance"


def test_a_document_the_rule_sets_cannot_evaluate_is_refused_naming_the_file_not_a_crash(buyer, monkeypatch):
    """Saxon may raise on a schema-valid document (a rule's XPath meeting two values where it expects one): the
    document is refused with the reason, as any other refused document, and the rest of the import goes on."""
    from saxonche import PySaxonApiError

    from klimainnkjop.importers import ehf, validation
    from klimainnkjop.importers.ehf import InvalidDocument

    def raising(names, document):
        raise PySaxonApiError("XPTY0004: A sequence of more than one item is not allowed as the first argument")

    ehf.forget_verdicts()
    monkeypatch.setattr(validation._processor(), "svrl_all", raising)
    with pytest.raises(InvalidDocument) as caught:
        parse_document(doc_bytes(NORWEGIAN), NORWEGIAN)
    message = str(caught.value)
    assert NORWEGIAN in message and "rules could not be evaluated" in message and "XPTY0004" in message
    ehf.forget_verdicts()
