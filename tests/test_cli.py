"""The CLI contract that automation relies on: once as a real process (exit statuses, output and where the data
goes), the rest in this process (tests/conftest.py run_cli)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def shipped_factor(set_name, key, column="value"):
    """Read a shipped factor straight from its file (an oracle independent of the importer)."""
    text = (ROOT / "klimainnkjop" / "data" / "factor_sets" / f"{set_name}.csv").read_text(encoding="utf-8")
    rows = [line.split(";") for line in text.splitlines() if line and not line.startswith("#")]
    header = rows[0]
    row = next(r for r in rows[1:] if r[0] == key and r[1] == "spend")
    return float(row[header.index(column)])


def process_cli(data_dir, *args, stdin=None):
    """The CLI as another process (on PostgreSQL with a database of its own: the separate_database fixture)."""
    env = {**os.environ, "KLIMAINNKJOP_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "klimainnkjop.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def cli(data_dir, *args, stdin=None):
    return run_cli("--data-dir", data_dir, *args, stdin=stdin)


@pytest.fixture
def files(tmp_path):
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"name": "visma", "columns": {
        "posting_date": "Dato", "account": "Konto", "unit": "Ansvar", "supplier_orgnr": "Orgnr",
        "supplier_name": "Leverandør", "amount": "Beløp"}}), encoding="utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes("Dato;Konto;Ansvar;Orgnr;Leverandør;Beløp\n"
                       "01.03.2024;115000;2100;999999999;Mat AS;-1 234,50\n"
                       "15.04.2024;115000;2100;999999999;Mat AS;10 000,00\n"
                       "15.04.2024;010000;2100;;;50 000,00\n".encode("cp1252"))
    bad = tmp_path / "bad.csv"
    bad.write_text("Dato;Konto;Ansvar;Orgnr;Leverandør;Beløp\n01.03.2024;115000;2100;;;tolv\n", encoding="utf-8")
    return profile, ledger, bad


def test_the_cli_imports_computes_and_reports_totals_as_json(tmp_path, files, separate_database):
    profile, ledger, _ = files
    data = tmp_path / "var"
    cli = process_cli
    assert cli(data, "org", "add", "944117784", "Kongsvinger kommune", "--kostra-region", "0402").returncode == 0
    assert cli(data, "profile", "import", str(profile), "--org", "944117784").returncode == 0
    first = cli(data, "import", "ledger", str(ledger), "--org", "944117784", "--profile", "visma")
    assert first.returncode == 0 and "3 lines added" in first.stdout
    computed = cli(data, "compute")
    assert computed.returncode == 0
    # what the run's totals are (every account added up, all years), the factor sets named with single spaces
    assert "all years, the organisations' own accounts added up (not consolidated): 2 purchases, " \
        in computed.stdout and "  " not in computed.stdout
    out = cli(data, "totals", "--org", "944117784", "--year", "2024", "--by", "org,year,category", "--format", "json")
    document = json.loads(out.stdout)
    assert document["factor_set"] == "dfo-klimaintensiteter 2026.1"
    kg = 8765.5 * 141.0 / 133.6 * shipped_factor("dfo-klimaintensiteter", "goods.food")
    # per line: 10 000 kr from the factor's low to its high; the credit of -1 234,50 from its high to its low
    low, high = ((10_000 * shipped_factor("dfo-klimaintensiteter", "goods.food", a)
                  - 1_234.5 * shipped_factor("dfo-klimaintensiteter", "goods.food", b)) * 141.0 / 133.6
                 for a, b in (("low", "high"), ("high", "low")))
    assert document["rows"] == [{"org": "944117784", "year": 2024, "category": "goods.food", "spend_nok": 8765.5,
                                 "kg_co2e": pytest.approx(kg), "kg_co2e_market": pytest.approx(kg),  # no power
                                 "kg_co2e_low": pytest.approx(low),
                                 "kg_co2e_high": pytest.approx(high), "lines": 2}]
    bad = cli(data, "import", "ledger", str(files[2]), "--org", "944117784")
    assert bad.returncode == 2 and "row 2" in bad.stderr and "Traceback" not in bad.stderr
    if separate_database:  # PostgreSQL: the data went to the database, not to a file in the data directory
        import psycopg

        with psycopg.connect(separate_database) as conn:
            names = conn.execute("SELECT name FROM klimainnkjop_organisation").fetchall()
        assert names == [("Kongsvinger kommune",)] and not (data / "klimainnkjop.sqlite3").exists()
    else:  # the embedded default: one SQLite file in the data directory
        assert (data / "klimainnkjop.sqlite3").exists()


@pytest.mark.django_db
def test_organisations_list_as_json_the_same_file_is_recognised_and_totals_come_as_csv(tmp_path, files):
    """The rest of the first test's flow, in this process (moved from the process test to spare three starts)."""
    profile, ledger, _ = files
    data = tmp_path / "var"
    assert cli(data, "org", "add", "944117784", "Kongsvinger kommune", "--kostra-region", "0402").returncode == 0
    listed = json.loads(cli(data, "org", "list", "--format", "json").stdout)
    assert listed == [{"orgnr": "944117784", "name": "Kongsvinger kommune", "kind": "kommune", "kostra_region": "3401"}]
    assert cli(data, "profile", "import", str(profile), "--org", "944117784").returncode == 0
    assert "3 lines added" in cli(data, "import", "ledger", str(ledger), "--org", "944117784").stdout
    again = cli(data, "import", "ledger", str(ledger), "--org", "944117784")
    assert again.returncode == 0 and "already imported" in again.stdout
    assert cli(data, "compute").returncode == 0
    csv_out = cli(data, "totals", "--by", "art", "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "art,spend_nok,kg_co2e,kg_co2e_market,kg_co2e_low,kg_co2e_high,lines" and csv_out[1].startswith("115,8765.5,")


@pytest.mark.django_db
def test_bad_input_exits_2_naming_file_row_and_column_and_writes_nothing(tmp_path, files):
    profile, _, bad = files
    data = tmp_path / "var"
    cli(data, "org", "add", "944117784", "Kongsvinger kommune")
    cli(data, "profile", "import", str(profile), "--org", "944117784")
    result = cli(data, "import", "ledger", str(bad), "--org", "944117784")
    assert result.returncode == 2
    assert "bad.csv, row 2, column 'Beløp': not a number: 'tolv'" in result.stderr
    assert not list((data / "lines").rglob("*.parquet")) if (data / "lines").exists() else True


@pytest.mark.django_db
@pytest.mark.parametrize("args,message", [
    (["org", "add", "12", "X"], "9-digit"),
    (["import", "ledger", "/nonexistent.csv", "--org", "944117784"], "no such file"),
    (["totals", "--by", "colour"], "unknown key"),
    (["import", "ledger", str(ROOT / "README.md"), "--org", "111111111"], "no organisation"),
])
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, message):
    result = cli(tmp_path / "var", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


@pytest.mark.django_db
def test_totals_before_any_computation_says_what_to_do(tmp_path):
    result = cli(tmp_path / "var", "totals")
    assert result.returncode == 1
    assert "klimainnkjop compute" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.django_db
def test_users_add_categories_and_mappings_that_the_next_computation_uses(tmp_path, files):
    profile, ledger, _ = files
    data = tmp_path / "var"
    cli(data, "org", "add", "944117784", "Kongsvinger kommune")
    cli(data, "profile", "import", str(profile), "--org", "944117784")
    cli(data, "import", "ledger", str(ledger), "--org", "944117784")
    added = cli(data, "categories", "add", "goods.food.school_meals", "Skolemat", "--parent", "goods.food")
    assert added.returncode == 0, added.stderr
    mapped = cli(data, "categories", "map", "kostra_art", "115", "goods.food.school_meals")
    assert mapped.returncode == 0, mapped.stderr
    assert cli(data, "categories", "map", "cpv", "15", "goods.unicorns").returncode == 2
    cli(data, "compute")
    rows = json.loads(cli(data, "totals", "--by", "category", "--format", "json").stdout)["rows"]
    assert [r["category"] for r in rows] == ["goods.food.school_meals"]
    listed = json.loads(cli(data, "categories", "list", "--format", "json").stdout)
    assert {"code": "goods.food.school_meals", "parent": "goods.food", "name_nb": "Skolemat",
            "name_en": "Skolemat"} in listed
