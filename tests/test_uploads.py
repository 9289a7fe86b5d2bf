"""Uploads on the web (issue 16 items 1, 2 and 5): a finance officer uploads a ledger in a layout never seen, maps
its columns in the wizard, previews the lines with their category and factor, saves the profile and sees the lines
added; a bad file lists its errors by row and column and stores nothing; a file over the limit is refused; a KOSTRA
file of another organisation is refused unless confirmed (web checkbox, CLI --force), with an audit row."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from klimainnkjop.importers.guess import Sample, guess_columns, guess_date_format
from klimainnkjop.storage.models import (AuditEntry, CategoryMapping, Factor, ImportBatch, MappingProfile, Upload)
from tests.conftest import run_cli
from tests.factories import VISMA, do_save_profile, kostra_file, ledger_csv, make_user, record

pytestmark = pytest.mark.django_db
KONGSVINGER = "944117784"

# An ERP layout the product has never seen: other column names, other order, ISO dates, amounts with a point.
NEW_LAYOUT = (
    "Bokført;Hovedbokskonto;Beløp NOK;Leverandørnavn;Org.nr;Beskrivelse;Ansvarssted\n"
    "2025-02-03;10010;1234.50;Kontorgiganten AS;982463718;Papir og penner;1100\n"
    "2025-03-14;18000;20000.00;Nettkraft AS;987654325;Strøm februar;1200\n"
    "2025-04-30;10020;-234.50;Kontorgiganten AS;982463718;Kreditnota papir;1100\n"
)


@pytest.fixture
def finance(client, reference, org, other_org):
    client.force_login(make_user("finance", org, "finance"))
    return client


def _upload(client, name: str, content: bytes, kind: str = "ledger", **extra):
    return client.post(f"/org/{KONGSVINGER}/last-opp/",
                       {"kind": kind, "file": SimpleUploadedFile(name, content), **extra})


def _mapping_post(guessed: dict[str, str], action: str, **changes) -> dict:
    data = {"name": "ny-erp", "date_format": "", "action": action}
    data.update({f"col_{k}": v for k, v in guessed.items()})
    data.update(changes)
    return data


def test_the_columns_of_a_new_layout_are_guessed_from_the_header_and_the_values():
    sample = Sample(header=["Bokført", "Hovedbokskonto", "Beløp NOK", "Leverandørnavn", "Org.nr", "Beskrivelse",
                            "Ansvarssted", "Kol8"],
                    rows=[(2, ["2025-02-03", "10010", "1234.50", "A AS", "982463718", "x", "1100", "01.02.2025"])],
                    rows_read=1)
    guessed = guess_columns(sample)
    assert guessed == {"posting_date": "Bokført", "account": "Hovedbokskonto", "amount": "Beløp NOK",
                       "supplier_name": "Leverandørnavn", "supplier_orgnr": "Org.nr", "description": "Beskrivelse",
                       "unit": "Ansvarssted"}
    assert guess_date_format(sample, "Bokført") == "%Y-%m-%d"
    assert guess_date_format(sample, "Kol8") == "%d.%m.%Y"
    # without telling names, the values give the date, the orgnr and the amount away
    blind = Sample(header=["A", "B", "C", "D"], rows=[(2, ["7", "31.12.2025", "974760673", "-12,50"]),
                                                      (3, ["8", "01.01.2025", "982463718", "100,00"])], rows_read=2)
    assert guess_columns(blind) == {"posting_date": "B", "supplier_orgnr": "C", "amount": "D"}


def test_a_finance_officer_maps_a_new_layout_previews_it_and_imports_it(finance):
    response = _upload(finance, "ny-erp.csv", NEW_LAYOUT.encode())
    upload = Upload.objects.with_scopes_disabled().get()
    assert response.status_code == 302 and response["Location"] == f"/org/{KONGSVINGER}/last-opp/{upload.pk}/kolonner/"
    assert upload.status == Upload.STATUS_MAPPING and upload.kind == "ledger" and upload.created_by.username == "finance"

    page = finance.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "Kreditnota papir" in html  # the first rows are shown
    guessed = {name: re.search(rf'name="col_{name}"[^>]*>.*?<option value="([^"]*)" selected', html, re.S).group(1)
               for name in ("posting_date", "amount", "account", "supplier_orgnr", "supplier_name")}
    assert guessed == {"posting_date": "Bokført", "amount": "Beløp NOK", "account": "Hovedbokskonto",
                       "supplier_orgnr": "Org.nr", "supplier_name": "Leverandørnavn"}

    # the person changes one guess (the unit) and previews: three lines with category and factor, nothing stored
    preview = finance.post(response["Location"], _mapping_post(guessed, "preview", col_unit="Ansvarssted",
                                                               col_description="Beskrivelse"))
    assert preview.status_code == 200
    table = preview.content.decode().split('id="preview-lines"')[1].split("</table>")[0]
    assert table.count("<tr>") == 4  # the header and three lines
    office = CategoryMapping.objects.get(scheme="kostra_art", code="100").category
    assert office.code in table and "1234.50" in table.replace(",", ".").replace("\xa0", "")
    factor = Factor.objects.filter(category=office, basis="spend", factor_set__role="spend-default").first()
    assert factor is not None and f"{factor.value:.4f}".replace(".", ",") in table
    assert not ImportBatch.objects.with_scopes_disabled().exists() and not MappingProfile.objects.with_scopes_disabled().exists()

    saved = finance.post(response["Location"], _mapping_post(guessed, "save", col_unit="Ansvarssted",
                                                             col_description="Beskrivelse"))
    assert saved.status_code == 302 and saved["Location"] == f"/org/{KONGSVINGER}/last-opp/{upload.pk}/"
    upload.refresh_from_db()
    assert upload.status == Upload.STATUS_DONE and upload.profile_name == "ny-erp" and upload.errors == []
    assert upload.result["rows_read"] == 3 and upload.result["lines_added"] == 3
    batch = ImportBatch.objects.with_scopes_disabled().get()
    assert (batch.kind, batch.lines_added, batch.amount_ore) == ("ledger", 3, 123450 + 2000000 - 23450)
    assert MappingProfile.objects.with_scopes_disabled().get().spec["columns"]["unit"] == "Ansvarssted"
    result = finance.get(saved["Location"]).content.decode()
    assert 'id="lines-added">3<' in result and 'data-status="done"' in result
    actions = set(AuditEntry.objects.filter(object_type="Upload").values_list("action", flat=True))
    assert actions == {"create_upload", "map_upload", "complete_upload"}
    assert AuditEntry.objects.filter(action="save_profile").count() == 1
    # the next file in that layout goes straight through with the saved profile
    again = _upload(finance, "ny-erp-mai.csv", (NEW_LAYOUT.splitlines()[0] + "\n2025-05-02;10010;99.00;X;;y;1100\n")
                    .encode(), ledger_profile="ny-erp")
    latest = Upload.objects.with_scopes_disabled().first()
    assert again["Location"] == f"/org/{KONGSVINGER}/last-opp/{latest.pk}/" and latest.result["lines_added"] == 1


def test_a_mapping_without_an_amount_is_an_error_and_saves_nothing(finance):
    location = _upload(finance, "ny-erp.csv", NEW_LAYOUT.encode())["Location"]
    response = finance.post(location, _mapping_post({"posting_date": "Bokført", "account": "Hovedbokskonto"}, "save"))
    assert response.status_code == 400 and "amount" in response.content.decode()
    assert not MappingProfile.objects.with_scopes_disabled().exists() and Upload.objects.with_scopes_disabled().get().status == Upload.STATUS_MAPPING


def test_the_wizard_does_not_overwrite_a_profile_of_the_same_name(finance, org):
    do_save_profile(organisation=org, spec={**VISMA, "name": "ny-erp"}, actor="test")
    location = _upload(finance, "ny-erp.csv", NEW_LAYOUT.encode())["Location"]
    response = finance.post(location, _mapping_post({"posting_date": "Bokført", "account": "Hovedbokskonto",
                                                     "amount": "Beløp NOK"}, "save"))
    assert response.status_code == 400 and "har allerede en profil med navnet &#x27;ny-erp&#x27;" in \
        response.content.decode()
    assert MappingProfile.objects.with_scopes_disabled().get().spec["columns"] == VISMA["columns"]
    assert Upload.objects.with_scopes_disabled().get().status == Upload.STATUS_MAPPING and not ImportBatch.objects.with_scopes_disabled().exists()


def test_a_file_name_longer_than_the_file_system_allows_is_stored_shortened(finance, org):
    """200 "å" are 400 bytes: the upload was a 500 (the file could not be saved under that name)."""
    name = "å" * 200 + ".csv"  # Django keeps 255 characters of an uploaded name
    response = _upload(finance, name, ledger_csv("15.03.2025;10000;1100;1100;;;100,00;Papir").encode())
    assert response.status_code in (200, 302)
    upload = Upload.objects.with_scopes_disabled().get()
    stored = Path(upload.stored_path).name
    assert stored.endswith("å.csv") and len(stored.encode()) <= 200 and upload.file_name.endswith("å.csv")


def test_a_bad_file_lists_its_errors_by_row_and_column_and_stores_nothing(finance, org):
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    bad = ledger_csv("15.03.2025;10000;1100;1100;;;100,00;Papir",
                     "32.03.2025;10000;1100;1100;;;100,00;Papir",
                     "15.04.2025;10000;1100;1100;;;hundre;Papir")
    response = _upload(finance, "feil.csv", bad.encode("utf-8"), ledger_profile="visma")
    upload = Upload.objects.with_scopes_disabled().get()
    assert response["Location"] == f"/org/{KONGSVINGER}/last-opp/{upload.pk}/"
    assert upload.status == Upload.STATUS_FAILED and upload.stored_path == ""
    assert [(e["file"], e["row"], e["column"]) for e in upload.errors] == [("feil.csv", 3, "Dato"),
                                                                           ("feil.csv", 4, "Beløp")]
    assert not ImportBatch.objects.with_scopes_disabled().exists()
    html = finance.get(response["Location"]).content.decode()
    assert "Filen ble avvist; ingenting ble lagret." in html
    assert re.search(r'<td class="num">3</td><td>Dato</td>', html) and re.search(r'<td class="num">4</td><td>Beløp</td>',
                                                                                 html)
    # each reason is kept in English (the CLI and the API read the same record) and shown in bokmål
    assert [e["reason"] for e in upload.errors] == ["not a date: '32.03.2025'",
                                                    "not a number: 'hundre'"]
    assert "<td>ikke en dato: &#x27;32.03.2025&#x27;</td>" in html
    assert "<td>ikke et tall: &#x27;hundre&#x27;</td>" in html
    assert AuditEntry.objects.filter(action="fail_upload", object_id=str(upload.pk)).count() == 1


def test_a_file_over_the_limit_is_refused_with_the_limit_named(finance, settings):
    settings.KLIMAINNKJOP_ARCHIVE_MAX_MEMBER_MIB = 1
    response = _upload(finance, "stor.csv", b"x" * (1024 * 1024 + 1))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Filen er på 1.0 MiB; grensen er 1 MiB per fil." in html
    assert not Upload.objects.with_scopes_disabled().exists()


def _kostra_other_region() -> bytes:
    # Grue's records (region 0423) uploaded to Kongsvinger (0402)
    return kostra_file(record(region="042300", orgnr="964950113", art="115", kr=1000),
                       record(region="042300", orgnr="964950113", art="120", kr=500))


def test_a_kostra_file_of_another_organisation_is_refused_unless_confirmed(finance):
    _upload(finance, "grue-2019.txt", _kostra_other_region(), kind="kostra")
    refused = Upload.objects.with_scopes_disabled().get()
    assert refused.status == Upload.STATUS_FAILED
    assert [(e["row"], e["column"]) for e in refused.errors] == [(1, "region"), (1, "orgnr")]
    assert "964950113" in refused.errors[1]["reason"] and not ImportBatch.objects.with_scopes_disabled().exists()
    assert not AuditEntry.objects.filter(action="confirm_kostra_import").exists()

    _upload(finance, "grue-2019.txt", _kostra_other_region(), kind="kostra", confirm_other="on")
    confirmed = Upload.objects.with_scopes_disabled().first()
    assert confirmed.status == Upload.STATUS_DONE and confirmed.confirmed_other
    assert confirmed.result["lines_added"] == 2 and ImportBatch.objects.with_scopes_disabled().get().amount_ore == (1000 + 500) * 1000 * 100  # thousand kroner
    entry = AuditEntry.objects.get(action="confirm_kostra_import")
    assert entry.actor_label == "finance" and len(entry.after["differences"]) == 2


def test_the_cli_refuses_a_kostra_file_of_another_organisation_without_force(reference, org, other_org, tmp_path):
    path = tmp_path / "grue-2019.txt"
    path.write_bytes(_kostra_other_region())
    refused = run_cli("import", "kostra", str(path), "--org", KONGSVINGER)
    assert refused.returncode == 2 and "row 1, column 'region'" in refused.stderr and "--force" in refused.stderr
    assert not ImportBatch.objects.with_scopes_disabled().exists()
    forced = run_cli("import", "kostra", str(path), "--org", KONGSVINGER, "--force")
    assert forced.returncode == 0 and "2 lines added" in forced.stdout
    assert AuditEntry.objects.filter(action="confirm_kostra_import", actor_label="cli").count() == 1
    # the file of its own organisation needs no confirmation
    own = tmp_path / "kongsvinger-2019.txt"
    own.write_bytes(kostra_file(record(region="040200", orgnr=KONGSVINGER, art="115", kr=700)))
    assert run_cli("import", "kostra", str(own), "--org", KONGSVINGER).returncode == 0


def test_a_zip_of_ehf_invoices_is_imported_with_its_findings_listed(client, db):
    import io
    import zipfile
    from pathlib import Path

    from klimainnkjop.services.organisations import do_create_organisation

    buyer = do_create_organisation(orgnr="987654325", name="Buyercompany ASA", actor="test")
    client.force_login(make_user("innkjoper", buyer, "purchaser"))
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(Path(__file__).parent / "data" / "ehf" / "Norwegian-example-1.xml", "faktura/1.xml")
    response = client.post("/org/987654325/last-opp/", {"kind": "ehf", "file": SimpleUploadedFile(
        "fakturaer.zip", packed.getvalue())})
    upload = Upload.objects.with_scopes_disabled().get()
    assert response["Location"] == f"/org/987654325/last-opp/{upload.pk}/" and upload.status == Upload.STATUS_DONE
    assert upload.result["documents_read"] == upload.result["documents_added"] == 1
    assert upload.result["lines_added"] == 7  # 5 invoice lines, the freight charge and the promotion discount
    assert upload.result["findings_count"] == len(ImportBatch.objects.with_scopes_disabled().get().findings)
    html = client.get(response["Location"]).content.decode()
    assert 'id="lines-added">7<' in html and f"/org/987654325/importer/{ImportBatch.objects.with_scopes_disabled().get().pk}/" in html


def test_a_zip_without_xml_documents_is_refused_by_its_own_name(finance):
    import io
    import zipfile

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("les-meg.txt", "ingen fakturaer her")
    _upload(finance, "tom.zip", packed.getvalue(), kind="ehf")
    upload = Upload.objects.with_scopes_disabled().get()
    assert upload.status == Upload.STATUS_FAILED and not ImportBatch.objects.with_scopes_disabled().exists()
    assert upload.errors == [{"file": "tom.zip", "row": None, "column": None, "reason": (
        "tom.zip: fant ingen XML-dokumenter (en EHF-opplasting er en XML-fil eller en zip-fil med slike)")}]


def test_a_queued_upload_shows_its_progress_until_the_worker_has_run_the_job(finance, org, settings):
    do_save_profile(organisation=org, spec=VISMA, actor="test")
    # the production set-up: the job waits in the database for `klimainnkjop worker`
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    location = _upload(finance, "mars.csv", ledger_csv("15.03.2025;10000;1100;1100;;;100,00;Papir").encode(),
                       ledger_profile="visma")["Location"]
    page = finance.get(location).content.decode()
    assert 'data-status="queued"' in page and "<progress" in page and "web/upload.js" in page
    status = finance.get(location + "status/").content.decode()
    assert 'id="upload-status"' in status and 'data-status="queued"' in status and "<html" not in status
    assert not ImportBatch.objects.with_scopes_disabled().exists()
    from django_tasks_db.models import DBTaskResult

    from klimainnkjop.services.uploads import process_upload_job

    job = DBTaskResult.objects.get()  # waiting for the worker, which runs it as below
    upload = Upload.objects.with_scopes_disabled().get()
    assert job.status == "READY" and job.args_kwargs["kwargs"] == {"upload_id": upload.pk,
                                                                   "user_id": upload.created_by_id}
    assert process_upload_job.call(**job.args_kwargs["kwargs"]) == Upload.STATUS_DONE
    assert AuditEntry.objects.get(action="import_ledger").actor_label == "finance"  # as the person who uploaded
    done = finance.get(location + "status/").content.decode()
    assert 'data-status="done"' in done and 'id="lines-added">1<' in done and "<progress" not in done


def test_an_upload_left_unmapped_for_a_week_is_expired_by_the_maintenance_clean_and_its_file_removed(finance):
    import datetime as dt

    from django.utils import timezone

    from klimainnkjop import paths
    from klimainnkjop.services.maintenance import do_clean_leftovers

    _upload(finance, "ny-erp.csv", NEW_LAYOUT.encode())
    upload = Upload.objects.with_scopes_disabled().get()
    kept = paths.data_dir() / upload.stored_path
    assert kept.read_bytes() == NEW_LAYOUT.encode()
    do_clean_leftovers(now=timezone.now() + dt.timedelta(days=6))
    assert Upload.objects.with_scopes_disabled().get().status == Upload.STATUS_MAPPING and kept.exists()
    do_clean_leftovers(now=timezone.now() + dt.timedelta(days=7, minutes=1))
    upload.refresh_from_db()
    assert upload.status == Upload.STATUS_FAILED and "not mapped within 7 days" in upload.errors[0]["reason"]
    assert not kept.exists() and not kept.parent.exists() and upload.stored_path == ""
    assert AuditEntry.objects.filter(action="expire_upload", object_id=str(upload.pk)).count() == 1
