"""Checks against the wrong file (issue 16 item 5): a SAF-T file whose header names another company and an EHF invoice
of another organisation of the region are refused for the chosen organisation unless confirmed (the upload's checkbox, the CLI's --force),
with an audit entry; and a year that an earlier import of another source also covers is named in the upload's result
and the CLI's output with the source that counts (a ledger for 2024 where a KOSTRA file for 2024 exists)."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import results
from klimainnkjop.selectors.uploads import _overlap_rule, year_overlaps
from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.models import AuditEntry, ImportBatch, Upload
from tests.conftest import run_cli
from tests.factories import VISMA, do_import_kostra, do_save_profile, kostra_file, ledger_csv, make_user, page, record

pytestmark = pytest.mark.django_db
KONGSVINGER, GRUE = "944117784", "964950113"
DATA = Path(__file__).parent / "data"
SAFT = DATA / "saft" / "ExampleFile_SAF-T_Financial_888888888_20180228235959.xml"  # company 888888888
EHF = DATA / "ehf" / "Norwegian-example-1.xml"  # buyer 987654325


@pytest.fixture
def finance(client, reference, org, other_org):
    client.force_login(make_user("finance", org, "finance"))
    return client


def _upload(client, path_or_name, content: bytes | None = None, kind: str = "ledger", **extra):
    name = path_or_name.name if isinstance(path_or_name, Path) else path_or_name
    data = path_or_name.read_bytes() if content is None else content
    return client.post(f"/org/{KONGSVINGER}/last-opp/", {"kind": kind, "file": SimpleUploadedFile(name, data),
                                                        **extra})


# ---------------------------------------------------------------- SAF-T and EHF of another organisation

def test_a_saft_file_of_another_company_is_refused_unless_confirmed(finance):
    _upload(finance, SAFT, kind="saft")
    refused = Upload.objects.with_scopes_disabled().get()
    assert refused.status == Upload.STATUS_FAILED and not ImportBatch.objects.with_scopes_disabled().exists()
    [error] = refused.errors
    assert (error["file"], error["row"], error["column"]) == (SAFT.name, None, "Header/Company/RegistrationNumber")
    assert "company 888888888's, not Kongsvinger kommune's (944117784)" in error["reason"]
    assert not AuditEntry.objects.filter(action="confirm_saft_import").exists()

    _upload(finance, SAFT, kind="saft", confirm_other="on")
    confirmed = Upload.objects.with_scopes_disabled().first()
    assert confirmed.status == Upload.STATUS_DONE and confirmed.confirmed_other
    assert confirmed.result["lines_added"] == 170  # every general-ledger line of Skatteetaten's example
    assert ImportBatch.objects.with_scopes_disabled().get().organisation.orgnr == KONGSVINGER
    entry = AuditEntry.objects.get(action="confirm_saft_import")
    assert entry.actor_label == "finance" and entry.organisation.orgnr == KONGSVINGER
    assert entry.after["company_orgnr"] == "888888888" and entry.after["file"] == SAFT.name


def test_the_cli_refuses_a_saft_file_of_another_company_without_force(reference, org):
    refused = run_cli("import", "saft", str(SAFT), "--org", KONGSVINGER)
    assert refused.returncode == 2 and "column 'Header/Company/RegistrationNumber'" in refused.stderr
    assert "--force" in refused.stderr and not ImportBatch.objects.with_scopes_disabled().exists()
    forced = run_cli("import", "saft", str(SAFT), "--org", KONGSVINGER, "--force")
    assert forced.returncode == 0 and "170 lines added" in forced.stdout
    assert AuditEntry.objects.filter(action="confirm_saft_import", actor_label="cli").count() == 1


def _to_grue() -> bytes:
    return EHF.read_bytes().replace(b"987654325", GRUE.encode())  # the same invoice, addressed to Grue


def test_an_ehf_invoice_of_another_organisation_of_the_region_is_refused_unless_confirmed(finance):
    _upload(finance, "grue.xml", _to_grue(), kind="ehf")
    refused = Upload.objects.with_scopes_disabled().get()
    assert refused.status == Upload.STATUS_FAILED and not ImportBatch.objects.with_scopes_disabled().exists()
    assert [(e["file"], e["column"]) for e in refused.errors] == [("grue.xml", "AccountingCustomerParty")]
    assert ("the buyer is organisation 964950113 (Grue kommune), not Kongsvinger kommune (944117784)"
            in refused.errors[0]["reason"])

    _upload(finance, "grue.xml", _to_grue(), kind="ehf", confirm_other="on")
    confirmed = Upload.objects.with_scopes_disabled().first()
    assert confirmed.status == Upload.STATUS_DONE and confirmed.result["lines_added"] == 7
    assert ImportBatch.objects.with_scopes_disabled().get().organisation.orgnr == KONGSVINGER
    entry = AuditEntry.objects.get(action="confirm_ehf_import")
    assert [(d["file"], d["buyer_orgnr"]) for d in entry.after["differences"]] == [("grue.xml", GRUE)]
    assert entry.organisation.orgnr == KONGSVINGER and entry.actor_label == "finance"


def test_an_invoice_to_a_buyer_the_region_does_not_know_is_imported_with_a_warning(finance):
    # a municipal enterprise or a former number: measured, not refused (item 6), and said
    _upload(finance, EHF, kind="ehf")
    upload = Upload.objects.with_scopes_disabled().get()
    assert upload.status == Upload.STATUS_DONE and upload.result["lines_added"] == 7
    assert any("the buyer's orgnr 987654325 differs from 944117784" in w for w in upload.result["warnings"])
    assert not AuditEntry.objects.filter(action="confirm_ehf_import").exists()


def test_the_cli_refuses_an_ehf_invoice_of_another_organisation_without_force(reference, org, other_org, tmp_path):
    to_grue = tmp_path / "grue.xml"
    to_grue.write_bytes(_to_grue())
    refused = run_cli("import", "ehf", str(to_grue), "--org", KONGSVINGER)
    assert refused.returncode == 2 and "organisation 964950113 (Grue kommune)" in refused.stderr
    assert "--force" in refused.stderr and not ImportBatch.objects.with_scopes_disabled().exists()
    forced = run_cli("import", "ehf", str(to_grue), "--org", KONGSVINGER, "--force")
    assert forced.returncode == 0 and "1 added (7 lines)" in forced.stdout
    assert AuditEntry.objects.filter(action="confirm_ehf_import", actor_label="cli").count() == 1


# ---------------------------------------------------------------- a year shared with another source

KOSTRA_2024 = kostra_file(record(year=2024, region="040200", orgnr=KONGSVINGER, art="115", kr=700))
LEDGER_2024 = ledger_csv("15.03.2024;10000;1100;1100;982463718;Kontorgiganten AS;5 000,00;Papir")


def test_a_ledger_for_a_year_with_a_kostra_file_names_the_overlap_and_that_the_ledger_counts(finance, org):
    kostra = do_import_kostra(data=KOSTRA_2024, file_name="kostra-2024.txt", organisation=org, actor="test")
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    _upload(finance, "regnskap-2024.csv", LEDGER_2024.encode(), ledger_profile="visma")
    upload = Upload.objects.with_scopes_disabled().get()
    assert upload.status == Upload.STATUS_DONE
    assert upload.result["overlaps"] == [{
        "year": 2024, "source": "ledger", "other_source": "kostra", "other_file": "kostra-2024.txt",
        "other_batch": kostra.batch.pk, "rule": "kostra_steps_aside",
        "counts": "the new file counts; the earlier KOSTRA file's lines of the year step aside"}]
    html, tree = page(finance, f"/org/{KONGSVINGER}/last-opp/{upload.pk}/")
    notice = tree.find_all("div", id="upload-overlaps")[0]
    text = " ".join(notice.text().split())
    assert f"2024: kostra-2024.txt (import {kostra.batch.pk}) dekker det samme året." in text
    assert "Denne filen teller; KOSTRA-filens linjer for året viker." in text
    # and so it is counted: the account of 2024 is the ledger's 5 000 NOK, not the KOSTRA file's 700 000
    do_compute(actor="test")
    [row] = results.totals(system_scope(), org=KONGSVINGER, year=2024, by=["source"])["rows"]
    assert row["source"] == "ledger" and row["spend_nok"] == 5_000


def test_the_cli_names_the_overlap_of_a_kostra_file_with_an_earlier_ledger(reference, org, tmp_path):
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    ledger = tmp_path / "regnskap-2024.csv"
    ledger.write_text(LEDGER_2024, encoding="utf-8")
    first = run_cli("import", "ledger", str(ledger), "--org", KONGSVINGER, "--profile", "visma")
    assert first.returncode == 0 and "overlap" not in first.stdout  # nothing before it
    batch = ImportBatch.objects.with_scopes_disabled().get()
    path = tmp_path / "kostra-2024.txt"
    path.write_bytes(KOSTRA_2024)
    second = run_cli("import", "kostra", str(path), "--org", KONGSVINGER)
    assert second.returncode == 0
    assert (f"overlap: 2024: overlaps regnskap-2024.csv (ledger, import {batch.pk}) — the earlier ledger counts; "
            "this KOSTRA file's lines of the year step aside") in second.stdout


def test_other_years_and_the_same_source_are_no_overlap(reference, org):
    do_import_kostra(data=KOSTRA_2024, file_name="kostra-2024.txt", organisation=org, actor="test")
    other_year = do_import_kostra(data=kostra_file(record(year=2023, region="040200", orgnr=KONGSVINGER, art="115",
                                                          kr=600)), file_name="kostra-2023.txt", organisation=org,
                                  actor="test")
    assert year_overlaps(system_scope(), KONGSVINGER, [other_year.batch.pk]) == []


@pytest.mark.parametrize("new,other,rule", [
    ("ledger", "kostra", "kostra_steps_aside"), ("saft", "kostra", "kostra_steps_aside"),
    ("kostra", "ledger", "new_kostra_steps_aside"), ("kostra", "saft", "new_kostra_steps_aside"),
    ("ledger", "saft", "both_ledgers_count"), ("saft", "ledger", "both_ledgers_count"),
    ("ehf", "ledger", "invoices_meet_ledger"), ("supplier_stats", "saft", "invoices_meet_ledger"),
    ("ledger", "ehf", "ledger_meets_invoices"), ("ehf", "kostra", "invoices_meet_kostra"),
    ("ledger", "ledger", None), ("kostra", "kostra", None), ("ehf", "supplier_stats", None), ("kostra", "ehf", "kostra_meets_invoices"),
])
def test_which_source_counts_follows_the_engine_rule(new, other, rule):
    assert _overlap_rule(new, other) == rule
