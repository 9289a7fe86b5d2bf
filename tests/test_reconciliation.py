"""Invoices enrich the ledger instead of adding to it, and classification rules decide categories."""
from pathlib import Path

import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.selectors.lines import explain_line, lines, review_queue
from klimainnkjop.selectors.results import totals
from klimainnkjop.services.classification import do_add_classification_rule, do_override_line_categories
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.factors import do_set_category_mapping
from klimainnkjop.services.organisations import do_create_organisation
from klimainnkjop.storage.models import AuditEntry
from tests.factories import do_import_ehf, do_import_kostra, import_ledger, ledger_csv

EHF = Path(__file__).resolve().parent / "data" / "ehf" / "Norwegian-example-1.xml"  # TOSL108, 2013, 1 436,50
PROFILE = {"name": "inv", "columns": {"posting_date": "Dato", "account": "Konto", "unit": "Ansvar",
                                      "supplier_orgnr": "Orgnr", "amount": "Beløp", "invoice_no": "Faktura",
                                      "description": "Tekst"}}
HEADER = "Dato;Konto;Ansvar;Orgnr;Beløp;Faktura;Tekst\n"


@pytest.fixture
def buyer(db, reference):
    return do_create_organisation(orgnr="987654325", name="Buyercompany ASA", actor="test")


def import_invoice(org):
    return do_import_ehf(documents=[(EHF.name, EHF.read_bytes())], organisation=org, actor="test")


def by_key(org):
    return {r["line_key"]: r for r in lines(system_scope(), org=org.orgnr, exclusion=None, limit=1000)}


def test_a_matched_invoice_replaces_its_ledger_lines_and_takes_their_dimensions(buyer):
    import_invoice(buyer)
    import_ledger(buyer, ledger_csv("01.07.2013;115000;4100;123456785;1 000,00;TOSL108;Mat",
                                    "01.07.2013;120000;4200;123456785;437,50;TOSL108;Diverse",
                                    "02.07.2013;120000;4200;123456785;99,00;X-1;Annet", header=HEADER),
                  profile=PROFILE)
    do_compute(actor="test")
    rows = by_key(buyer).values()
    replaced = [r for r in rows if r["exclusion"] == "invoice_detail"]
    invoice = [r for r in rows if r["source"] == "ehf"]
    assert sorted(r["amount_ore"] for r in replaced) == [43750, 100000]
    assert len(invoice) == 7 and all(r["exclusion"] == "" for r in invoice)
    assert {(r["unit"], r["art"]) for r in invoice} == {("4100", "115")}  # the largest ledger line's
    own = totals(system_scope(), org=buyer.orgnr)["rows"][0]
    assert own["spend_nok"] == 1436.50 + 99.00 and own["lines"] == 8


def test_an_unmatched_invoice_counts_only_where_nothing_else_covers_its_year(buyer):
    import_invoice(buyer)
    do_compute(actor="test")
    assert {r["exclusion"] for r in by_key(buyer).values()} == {""}  # no ledger, no KOSTRA for 2013
    import_ledger(buyer, ledger_csv("02.07.2013;120000;4200;123456785;99,00;X-1;Annet", header=HEADER),
                  profile=PROFILE)
    do_compute(actor="test")
    assert {r["exclusion"] for r in by_key(buyer).values() if r["source"] == "ehf"} == {"unmatched_invoice"}


def test_an_invoice_in_a_year_given_by_a_kostra_file_is_covered_by_it(db, reference):
    org = do_create_organisation(orgnr="987654325", name="Buyercompany ASA", kostra_region="3401", actor="test")
    import_invoice(org)
    record = f"0A2013 340100{' ' * 18}10202115{100:>9}"
    do_import_kostra(data=record.encode(), file_name="k.dat", organisation=org, actor="test")
    do_compute(actor="test")
    rows = by_key(org).values()
    assert {r["exclusion"] for r in rows if r["source"] == "ehf"} == {"covered_by_kostra"}
    assert totals(system_scope(), org=org.orgnr)["rows"][0]["spend_nok"] == 100_000.0


def test_rules_decide_categories_in_their_order_and_every_line_says_why(buyer):
    import_invoice(buyer)
    import_ledger(buyer, ledger_csv("01.07.2013;115000;4100;123456785;1 436,50;TOSL108;Faktura", header=HEADER),
                  profile=PROFILE)
    do_set_category_mapping(scheme="cpv", code="654", category_code="goods.equipment", actor="test")
    rule = do_add_classification_rule(kind="item_code", value="65434568", category_code="goods.it_equipment",
                                      actor="test")
    do_compute(actor="test")
    invoice = {r["line_key"]: r for r in by_key(buyer).values() if r["source"] == "ehf"}
    decided = {(r["category"], r["classification_rule"]) for r in invoice.values()}
    assert ("goods.it_equipment", f"rule#{rule.pk}") in decided           # user rule beats the mapping
    assert ("goods.equipment", "item:cpv:654") in decided                 # longest CPV prefix
    assert ("goods.food", "kostra_art:115") in decided                    # allowance lines: the ledger's art
    laptop = next(k for k, r in invoice.items() if r["classification_rule"] == f"rule#{rule.pk}")
    why = explain_line(system_scope(), org=buyer.orgnr, line_key=laptop)
    assert why["classification_confidence"] == 0.95 and why["method"] == "spend" and why["factor_ref"]

    do_override_line_categories(organisation=buyer, line_keys=[laptop], category_code="services.other",
                                actor="test")
    do_compute(actor="test")
    why = explain_line(system_scope(), org=buyer.orgnr, line_key=laptop)
    assert why["category"] == "services.other" and why["classification_rule"].startswith("manual#")
    assert why["classification_confidence"] == 1.0
    assert AuditEntry.objects.filter(action="override_line_categories").exists()


def test_a_keyword_rule_matches_a_word_of_the_line_text(org, reference):
    import_ledger(org, ledger_csv("01.03.2024;120000;2020;2100;999999999;Olje AS;5 000,00;Diesel til traktor"))
    do_add_classification_rule(kind="keyword", value="Diesel", category_code="energy.fuel.diesel", actor="test")
    do_compute(actor="test")
    row = totals(system_scope(), by=["category"])["rows"][0]
    assert row["category"] == "energy.fuel.diesel"


def test_the_review_queue_puts_the_most_emissions_at_stake_first(org, reference):
    import_ledger(org, ledger_csv("01.03.2024;120000;2020;2100;999999999;A AS;5 000,00;Småting",
                                  "01.03.2024;120000;2020;2100;999999999;A AS;500 000,00;Mye",
                                  "01.03.2024;010000;2020;2100;;;900 000,00;Lønn"))
    do_compute(actor="test")
    queue = review_queue(system_scope(), org=org.orgnr)
    assert [r["amount_ore"] for r in queue] == [50_000_000, 500_000]  # wages are not in the queue
    assert queue[0]["at_stake"] > queue[1]["at_stake"] > 0
