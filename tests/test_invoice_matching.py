"""`klimainnkjop invoices match` reports the engine's matching, so it agrees with what `compute` counted.

The matching rule exists once (engine/pipeline.invoice_documents); each compute run writes its outcome
(matches.parquet) beside the lines it counted, and the CLI reads that through selectors/invoices.py. These tests
run the real import, compute and CLI on the Norwegian EHF example (TOSL108 from 123456785: 1 436,50 NOK excl. VAT
in 7 lines, issued 2013) and a ledger, and compare the report with the run's lines and totals, worked out by hand.
"""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.selectors.results import latest_run, totals
from klimainnkjop.services.invoices import do_import_ehf
from klimainnkjop.services.organisations import do_create_organisation
from klimainnkjop.storage import linestore
from tests.conftest import run_cli
from tests.factories import import_ledger, ledger_csv

EHF = Path(__file__).resolve().parent / "data" / "ehf" / "Norwegian-example-1.xml"
BUYER, SELLER = "987654325", "123456785"
PROFILE = {"name": "inv", "columns": {"posting_date": "Dato", "account": "Konto", "supplier_orgnr": "Orgnr",
                                      "amount": "Beløp", "invoice_no": "Faktura"}}
HEADER = "Dato;Konto;Orgnr;Beløp;Faktura\n"


@pytest.fixture
def buyer(db):
    org = do_create_organisation(orgnr=BUYER, name="Buyercompany ASA", actor="test")
    do_import_ehf(documents=[(EHF.name, EHF.read_bytes())], actor="test")
    return org


def match_report() -> dict:
    assert run_cli("compute").returncode == 0
    done = run_cli("invoices", "match", "--org", BUYER, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run_lines() -> dict[str, dict]:
    folder = linestore.absolute(latest_run().run.result_dir)
    return {r["line_key"]: r for r in pq.read_table(folder / "lines").to_pylist() if r["org"] == BUYER}


def spend_by_source() -> dict[str, float]:
    return {r["source"]: r["spend_nok"] for r in totals(system_scope(), org=BUYER, by=["source"])["rows"]}


def test_a_matched_invoice_is_counted_once_in_place_of_the_ledger_lines_the_report_names(buyer):
    import_ledger(buyer, ledger_csv(f"01.07.2013;115000;{SELLER};1 000,00;TOSL108",
                                    f"01.07.2013;120000;{SELLER};437,50;TOSL108",
                                    f"02.07.2013;120000;{SELLER};99,00;X-1", header=HEADER), profile=PROFILE)
    report = match_report()
    assert report["summary"] == {"invoices": 1, "matched": 1, "unmatched_invoices": 0, "unmatched_ledger": 1}
    assert report["run"] == latest_run().run.pk and report["stale"] is False
    matched = report["matched"][0]
    assert (matched["invoice_no"], matched["amount_nok"], matched["lines"], matched["ledger_amount_nok"],
            matched["ledger_lines"], matched["difference_nok"]) == ("TOSL108", 1436.5, 7, 1437.5, 2, -1.0)
    lines = run_lines()
    # the two ledger lines the report names are the ones compute left out for the invoice's detail, no others
    replaced = {key for key, line in lines.items() if line["exclusion"] == "invoice_detail"}
    assert replaced == set(matched["ledger_line_keys"]) and len(replaced) == 2
    assert [line["exclusion"] for line in lines.values() if line["source"] == "ehf"] == [""] * 7
    # counted once: the invoice's 1 436,50 and X-1's 99,00, not the ledger's 1 437,50 as well
    assert spend_by_source() == {"ehf": 1436.5, "ledger": 99.0}
    assert report["unmatched_ledger"] == [{"supplier_orgnr": SELLER, "supplier_name": "", "invoice_no": "X-1",
                                           "posting_date": "2013-07-02", "amount_nok": 99.0, "lines": 1,
                                           "sources": "ledger"}]


def test_an_invoice_the_report_calls_unmatched_is_left_out_and_its_ledger_line_counted(buyer):
    # 1 500,00 against 1 436,50: 63,50 NOK apart, beyond max(1 NOK, 0.5 % of 1 500 = 7,50 NOK)
    import_ledger(buyer, ledger_csv(f"01.07.2013;115000;{SELLER};1 500,00;TOSL108", header=HEADER),
                  profile=PROFILE)
    report = match_report()
    assert report["summary"] == {"invoices": 1, "matched": 0, "unmatched_invoices": 1, "unmatched_ledger": 0}
    invoice = report["unmatched_invoices"][0]
    assert (invoice["reason"], invoice["difference_nok"]) == ("amount differs beyond tolerance", -63.5)
    lines = run_lines()
    assert {line["exclusion"] for line in lines.values() if line["source"] == "ehf"} == {"unmatched_invoice"}
    assert spend_by_source() == {"ledger": 1500.0}


def test_the_report_says_when_the_data_changed_after_the_run_it_reads(buyer):
    assert run_cli("compute").returncode == 0
    import_ledger(buyer, ledger_csv(f"01.07.2013;115000;{SELLER};1 436,50;TOSL108", header=HEADER),
                  profile=PROFILE)
    stale = run_cli("invoices", "match", "--org", BUYER)
    assert stale.returncode == 0 and "invoice only" in stale.stdout
    assert "warning: the data changed after compute run" in stale.stderr
    assert match_report()["summary"]["matched"] == 1
