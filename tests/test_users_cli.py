"""`klimainnkjop user ...` and `klimainnkjop audit export`, run in this process (tests/conftest.py run_cli)."""
import csv
import io
import json

import pytest

from tests.conftest import run_cli

KONGSVINGER, GRUE = "944117784", "964950113"
PASSWORD = "en-lang-og-god-passfrase"

pytestmark = pytest.mark.django_db


def cli(data_dir, *args, stdin=None):
    return run_cli("--data-dir", data_dir, *args, stdin=stdin)


@pytest.fixture
def region(tmp_path):
    data = tmp_path / "cli"
    for orgnr, name in ((KONGSVINGER, "Kongsvinger kommune"), (GRUE, "Grue kommune")):
        assert cli(data, "org", "add", orgnr, name).returncode == 0
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("Dato;Konto;Ansvar;Beløp\n01.03.2024;115000;2100;1 000,00\n", encoding="utf-8")
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"name": "p", "columns": {"posting_date": "Dato", "account": "Konto",
                                                             "unit": "Ansvar", "amount": "Beløp"}}))
    assert cli(data, "profile", "import", str(profile), "--org", KONGSVINGER).returncode == 0
    assert cli(data, "import", "ledger", str(ledger), "--org", KONGSVINGER).returncode == 0
    return data


def people(data, *args):
    result = cli(data, "user", "list", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip().startswith("[") else []


def test_user_add_creates_a_person_without_a_password_and_a_second_role_adds_a_membership(region):
    first = cli(region, "user", "add", "Kari@Kongsvinger.kommune.no", "--org", KONGSVINGER, "--role", "reader")
    assert first.returncode == 0, first.stderr
    assert "no password" in first.stdout
    second = cli(region, "user", "add", "kari@kongsvinger.kommune.no", "--org", KONGSVINGER, "--role",
                 "unit-leader", "--unit", "2100")
    assert second.returncode == 0, second.stderr
    assert people(region) == [
        {"email": "kari@kongsvinger.kommune.no", "organisation": KONGSVINGER, "role": "reader", "unit": "",
         "active": True, "password": False},
        {"email": "kari@kongsvinger.kommune.no", "organisation": KONGSVINGER, "role": "unit-leader", "unit": "2100",
         "active": True, "password": False},
    ]
    removed = cli(region, "user", "remove", "kari@kongsvinger.kommune.no", "--org", KONGSVINGER, "--role", "reader")
    assert removed.returncode == 0, removed.stderr
    assert [p["role"] for p in people(region)] == ["unit-leader"]


def test_user_add_with_a_password_from_standard_input_sets_a_usable_password(region):
    result = cli(region, "user", "add", "ola@grue.kommune.no", "--org", GRUE, "--role", "auditor",
                 "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert people(region, "--org", GRUE)[0]["password"] is True
    export = cli(region, "audit", "export", "--format", "json")
    assert PASSWORD not in export.stdout and "argon2" not in export.stdout


@pytest.mark.parametrize("args,stdin,field", [
    (["--role", "unit-leader"], None, "unit"),
    (["--role", "unit-leader", "--unit", "9999"], None, "unit"),
    (["--role", "reader", "--unit", "2100"], None, "unit"),
    (["--role", "boss"], None, "role"),
    (["--role", "reader", "--password-stdin"], "kort\n", "password"),
    (["--role", "reader", "--password-stdin"], "\n", "password"),
], ids=["unit-leader without unit", "unknown unit", "unit for another role", "unknown role", "weak password",
        "empty password"])
def test_bad_input_exits_2_naming_the_field_and_writes_nothing(region, args, stdin, field):
    result = cli(region, "user", "add", "per@kongsvinger.kommune.no", "--org", KONGSVINGER, *args, stdin=stdin)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"klimainnkjop: {field}: " in result.stderr
    assert people(region) == []


def test_bad_email_or_organisation_exits_2(region):
    bad_email = cli(region, "user", "add", "not-an-address", "--org", KONGSVINGER, "--role", "reader")
    assert bad_email.returncode == 2 and "email: " in bad_email.stderr
    bad_org = cli(region, "user", "add", "per@example.no", "--org", "123456789", "--role", "reader")
    assert bad_org.returncode == 2 and "--org: " in bad_org.stderr


def test_the_cli_refuses_in_english_whatever_language_the_process_has(region):
    from django.utils import translation

    with translation.override("nb"):  # the site's default, which a service's gettext would otherwise speak
        result = cli(region, "user", "add", "not-an-address", "--org", KONGSVINGER, "--role", "reader")
        assert translation.get_language() == "nb"  # and the process's language is as it was
    assert result.returncode == 2
    assert "klimainnkjop: email: 'not-an-address' is not an e-mail address" in result.stderr


def test_audit_export_writes_semicolon_csv_for_norwegian_excel_and_json(region):
    assert cli(region, "user", "add", "kari@kongsvinger.kommune.no", "--org", KONGSVINGER, "--role",
               "reader").returncode == 0
    assert cli(region, "user", "add", "ola@grue.kommune.no", "--org", GRUE, "--role", "reader").returncode == 0
    result = cli(region, "audit", "export", "--org", KONGSVINGER, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeffid;who;when;action;object;organisation;before;after")
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff")), delimiter=";"))
    actions = {r["action"] for r in rows}
    assert {"create_organisation", "save_profile", "import_ledger", "create_user", "add_membership"} <= actions
    assert {r["organisation"] for r in rows} <= {KONGSVINGER, ""}
    assert "grue" not in result.stdout
    membership = next(r for r in rows if r["action"] == "add_membership")
    assert json.loads(membership["after"])["role"] == "reader" and membership["who"] == "cli"
    everything = json.loads(cli(region, "audit", "export", "--format", "json").stdout)
    assert {"id", "who", "when", "action", "object", "organisation", "before", "after"} == set(everything[0])
    assert {e["organisation"] for e in everything} >= {KONGSVINGER, GRUE}
    assert cli(region, "audit", "export", "--format", "xml").returncode == 2
