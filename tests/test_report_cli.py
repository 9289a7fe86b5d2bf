"""Reports made from the command line in a data directory of their own, from an empty database (the org, the
profile, the ledger, the compute): the standard report archived and published, and the funder's report with its
texts from files. Apart from tests/test_reports.py and tests/test_funder_report.py, whose tests share one region."""
from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.factories import KONGSVINGER, WEB_PROFILE
from tests.factories import REPORTS_KONGSVINGER_CSV as KONGSVINGER_CSV


def cli(*args, data_dir):
    return run_cli("--data-dir", data_dir, *args)


def computed_account(tmp_path):
    """Kongsvinger added, its profile and ledger imported and computed through the CLI in a data directory of its
    own; returns that directory."""
    import json

    var = tmp_path / "var"
    profile, ledger = tmp_path / "profile.json", tmp_path / "ledger.csv"
    profile.write_text(json.dumps(WEB_PROFILE), encoding="utf-8")
    ledger.write_text(KONGSVINGER_CSV, encoding="utf-8")
    for args in (["org", "add", KONGSVINGER, "Kongsvinger kommune"], ["profile", "import", str(profile), "--org",
                 KONGSVINGER], ["import", "ledger", str(ledger), "--org", KONGSVINGER], ["compute"]):
        result = cli(*args, data_dir=var)
        assert result.returncode == 0, (args, result.stderr)
    return var


@pytest.mark.django_db
def test_the_cli_writes_an_archived_report_and_publishes_a_year(tmp_path):
    import openpyxl

    var = computed_account(tmp_path)
    out = tmp_path / "rapport.xlsx"
    result = cli("report", "--org", KONGSVINGER, "--period", "2025T2", "--format", "xlsx", "-o", str(out),
                 data_dir=var)
    assert result.returncode == 0, result.stderr
    assert "run " in result.stdout and "sha256" in result.stdout
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(out)["Sammendrag"].iter_rows(min_row=2, values_only=True)}
    assert round(summary["Innkjøp, kr"] * 100) == 55_555_55 + 300_000_00  # May–August 2025: power, the school
    assert len(list((var / "reports").iterdir())) == 1
    result = cli("publish", "--org", KONGSVINGER, "--year", "2025", data_dir=var)
    assert result.returncode == 0, result.stderr
    assert "published" in result.stdout
    result = cli("report", "--region", "--period", "2025", "--format", "pdf", "-o", str(tmp_path / "r.pdf"),
                 data_dir=var)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.django_db
def test_the_cli_writes_a_funder_report_with_the_texts_from_files(tmp_path):
    import openpyxl

    var = computed_account(tmp_path)
    activities, deviations = tmp_path / "aktiviteter.txt", tmp_path / "avvik.txt"
    activities.write_text("Kartla innkjøpene.\n\nLærte opp innkjøperne.\n", encoding="utf-8")
    deviations.write_text("Ingen avvik.", encoding="utf-8")
    out = tmp_path / "sluttrapport.xlsx"
    result = cli("report", "--org", KONGSVINGER, "--period", "2025", "--format", "xlsx", "-o", str(out),
                 "--layout", "funder", "--final", "--activities-file", str(activities), "--deviations-file",
                 str(deviations), "--baseline-year", "2024", data_dir=var)
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(out)
    assert [r[0] for r in book["Gjennomførte aktiviteter"].iter_rows(min_row=2, values_only=True)] == [
        "Kartla innkjøpene.", "Lærte opp innkjøperne."]
    assert book["Avvik fra plan"]["A2"].value == "Ingen avvik."
    about = {r[0]: r[1] for r in book["Om rapporten"].iter_rows(min_row=2, values_only=True)}
    assert about["Rapport"] == "Sluttrapport: Kongsvinger kommune, 2025" and about["Basisår"] == "2024"
    # 2025 against 2024 (the baseline): 2025 without the salary line; 2024 paper, power, paper
    figures = {r[0]: r for r in book["Resultater"].iter_rows(min_row=2, values_only=True)}
    assert round(figures["Innkjøp, kr"][1] * 100) == 12_345_67 + 55_555_55 + 300_000_00 + 7_777_77 + 50_000_00
    assert round(figures["Innkjøp, kr"][2] * 100) == 10_000_00 + 40_000_00 + 20_000_00
    # a text file that does not exist: exit 2, naming the option, and no file written
    result = cli("report", "--org", KONGSVINGER, "--period", "2025", "--format", "pdf", "-o",
                 str(tmp_path / "r.pdf"), "--layout", "funder", "--deviations-file", str(tmp_path / "nope.txt"),
                 data_dir=var)
    assert result.returncode == 2, result.stderr
    assert "--deviations-file" in result.stderr and not (tmp_path / "r.pdf").exists()
