"""Drop folders: a file an ERP export puts into <orgnr>/<source>/[<profile>/] is imported once through the same
services, moved to done/ or failed/ (with its reason), and the account is computed so it shows on the dashboard."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import dashboard
from klimainnkjop.services import dropfolders
from klimainnkjop.services.profiles import do_save_profile
from klimainnkjop.storage.models import AuditEntry, ImportBatch
from tests.conftest import run_cli
from tests.factories import GRUE_CSV, KONGSVINGER_CSV, WEB_PROFILE, kg

KONGSVINGER, GRUE = "944117784", "964950113"
OLD = time.time() - 3600  # a file that has been still for an hour
EHF = Path(__file__).resolve().parent / "data" / "ehf" / "Norwegian-example-1.xml"


@pytest.fixture
def drop(reference, org, other_org, data_dir):
    for organisation in (org, other_org):
        do_save_profile(organisation=organisation, spec=WEB_PROFILE, actor="test")
    root = dropfolders.ensure_layout([KONGSVINGER, GRUE])
    return root


def put(path: Path, text: str | bytes, *, age: float = 3600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_the_layout_has_a_folder_per_organisation_and_source(drop):
    assert sorted(p.name for p in (drop / KONGSVINGER).iterdir()) == sorted(dropfolders.SOURCES)


def test_a_dropped_ledger_is_imported_once_moved_to_done_and_computed_onto_the_dashboard(drop):
    put(drop / KONGSVINGER / "ledger" / "visma" / "hovedbok-2024.csv", KONGSVINGER_CSV)
    put(drop / GRUE / "ledger" / "grue-2024.csv", GRUE_CSV)  # the organisation's default profile
    run = dropfolders.do_import_due_files(actor="test")
    assert [(o.organisation, o.status) for o in run.outcomes] == [(KONGSVINGER, "imported"), (GRUE, "imported")]
    assert run.computed_run is not None and run.failed == 0
    assert not list((drop / KONGSVINGER / "ledger" / "visma").glob("*.csv"))
    assert len(list((drop / KONGSVINGER / "ledger" / "done").glob("*-hovedbok-2024.csv"))) == 1
    expected = (kg(123_456, "goods.office", 2024) + kg(250_000, "energy.electricity", 2024)
                + kg(1_000_000, "construction.works", 2024) + kg(77_777, "goods.office", 2024))
    overview = dashboard.period_overview(system_scope(), period=dashboard.parse_period("2024"))
    assert overview.total.tonnes == pytest.approx(expected / 1000, rel=1e-9)
    again = dropfolders.do_import_due_files(actor="test")
    assert again.outcomes == [] and again.computed_run is None
    assert ImportBatch.objects.with_scopes_disabled().count() == 2


def test_the_same_file_dropped_again_is_recognised_and_adds_nothing(drop):
    put(drop / KONGSVINGER / "ledger" / "visma" / "a.csv", KONGSVINGER_CSV)
    dropfolders.do_import_due_files(actor="test", compute=False)
    put(drop / KONGSVINGER / "ledger" / "visma" / "a-kopi.csv", KONGSVINGER_CSV)
    run = dropfolders.do_import_due_files(actor="test")
    assert [(o.status, o.lines_added) for o in run.outcomes] == [("already_imported", 0)]
    assert run.computed_run is None and ImportBatch.objects.with_scopes_disabled().count() == 1
    assert len(list((drop / KONGSVINGER / "ledger" / "done").iterdir())) == 2


def test_a_bad_file_moves_to_failed_with_its_reason_and_an_audit_entry_and_stores_nothing(drop):
    bad = KONGSVINGER_CSV.replace("123 456,00", "mange kroner")
    put(drop / KONGSVINGER / "ledger" / "visma" / "feil.csv", bad)
    run = dropfolders.do_import_due_files(actor="test")
    [outcome] = run.outcomes
    assert outcome.status == "failed" and "feil.csv, row 2, column 'Beløp'" in outcome.message
    reason = next((drop / KONGSVINGER / "ledger" / "failed").glob("*-feil.csv.reason.txt")).read_text()
    assert "feil.csv, row 2, column 'Beløp'" in reason
    assert ImportBatch.objects.with_scopes_disabled().count() == 0 and run.computed_run is None
    entry = AuditEntry.objects.get(action="fail_drop_import")
    assert entry.after["file"] == f"{KONGSVINGER}/ledger/visma/feil.csv" and entry.organisation.orgnr == KONGSVINGER


def test_a_file_whose_name_is_near_the_file_systems_limit_moves_to_failed_shortened(drop):
    """248 bytes of 'ø' is a legal name; the time stamp in failed/ made it too long, and every run crashed on it."""
    name = "ø" * 122 + ".csv"
    put(drop / KONGSVINGER / "ledger" / "visma" / name, KONGSVINGER_CSV.replace("123 456,00", "mange kroner"))
    [outcome] = dropfolders.do_import_due_files(actor="test").outcomes
    assert outcome.status == "failed"
    [moved] = [p for p in (drop / KONGSVINGER / "ledger" / "failed").iterdir() if not p.name.endswith(".reason.txt")]
    assert moved.name.endswith("ø.csv") and len(moved.name.encode()) <= 255
    assert not list((drop / KONGSVINGER / "ledger" / "visma").glob("*.csv"))  # the next run does not see it again
    # its audit entry names the file whole in `after`, and its object id within the column (PostgreSQL refused it)
    entry = AuditEntry.objects.get(action="fail_drop_import")
    assert entry.after["file"] == f"{KONGSVINGER}/ledger/visma/{name}" and len(entry.object_id) <= 60


def test_a_file_still_being_written_waits_for_the_next_run(drop):
    put(drop / KONGSVINGER / "ledger" / "visma" / "ny.csv", KONGSVINGER_CSV, age=1)
    put(drop / KONGSVINGER / "ledger" / "visma" / "eksport.csv.part", KONGSVINGER_CSV)
    run = dropfolders.do_import_due_files(actor="test", compute=False)
    assert run.outcomes == [] and sorted(run.waiting) == [f"{KONGSVINGER}/ledger/visma/eksport.csv.part",
                                                         f"{KONGSVINGER}/ledger/visma/ny.csv"]
    later = dropfolders.do_import_due_files(actor="test", compute=False, now=time.time() + 60)
    assert [o.file for o in later.outcomes] == [f"{KONGSVINGER}/ledger/visma/ny.csv"]


def test_a_folder_of_an_unknown_organisation_and_a_missing_profile_fail_with_a_reason(drop):
    put(drop / "999999999" / "kostra" / "k.txt", "x")
    put(drop / KONGSVINGER / "ledger" / "ukjent-profil" / "b.csv", KONGSVINGER_CSV)
    run = dropfolders.do_import_due_files(actor="test")
    assert [o.status for o in run.outcomes] == ["failed", "failed"]
    assert "no organisation 999999999" in run.outcomes[1].message
    assert "ukjent-profil" in run.outcomes[0].message


def test_a_dropped_e_invoice_is_imported(drop):
    from klimainnkjop.services.organisations import do_create_organisation

    do_create_organisation(orgnr="987654325", name="Buyercompany ASA", actor="test")
    put(drop / "987654325" / "ehf" / "faktura.xml", EHF.read_bytes())
    run = dropfolders.do_import_due_files(actor="test", compute=False)
    assert [(o.status, o.lines_added > 0) for o in run.outcomes] == [("imported", True)]
    assert ImportBatch.objects.with_scopes_disabled().get().kind == "ehf"


def test_the_cli_runs_the_due_imports_and_prints_json(drop):
    put(drop / GRUE / "ledger" / "visma" / "grue.csv", GRUE_CSV)
    result = run_cli("imports", "run-due", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["lines_added"] == 1 and report["failed"] == 0 and report["computed_run"]
    assert report["files"][0]["moved_to"].startswith(f"{GRUE}/ledger/done/")
    assert run_cli("imports", "layout", "123456789").returncode == 2


def test_watch_imports_on_every_round_until_stopped(drop, monkeypatch):
    put(drop / GRUE / "ledger" / "visma" / "grue.csv", GRUE_CSV)
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        raise KeyboardInterrupt  # stopped after the first round

    monkeypatch.setattr(time, "sleep", sleep)
    result = run_cli("watch", "--interval", "5")
    assert result.returncode == 0 and rounds == [5.0]
    assert "grue.csv: imported, 1 lines added" in result.stdout
