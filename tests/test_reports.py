"""Periodic reports: the same totals as the selectors for every kind of period, in PDF, XLSX and CSV; archived
with their run and factor sets; the CLI; the report pages and their scope."""
from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.access import scope_for, system_scope
from klimainnkjop.reports import data as report_data
from klimainnkjop.reports.periods import parse_period
from klimainnkjop.selectors import results
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reports import do_generate_report, render, report_path
from klimainnkjop.storage.models import AuditEntry, Membership, Report
from tests.conftest import run_cli
from tests.shared_accounts import accounts, org, other_org  # noqa: F401 - one load of the region for the module
from tests.factories import GRUE, KONGSVINGER


PERIODS = {"2025Q1": (1, 2, 3), "2025Q3": (7, 8, 9), "2025H1": tuple(range(1, 7)), "2025H2": tuple(range(7, 13)),
           "2025T2": (5, 6, 7, 8), "2025T3": (9, 10, 11, 12), "2025": tuple(range(0, 13)),
           "2023": tuple(range(0, 13)), "2023Q2": (4, 5, 6)}


def selector_totals(period: str, orgnr: str | None) -> tuple[int, float]:
    """The selectors' own totals for the period: øre and kg, summed over the period's months."""
    months = PERIODS[period]
    year = int(period[:4])
    rows = results.totals(system_scope(), org=orgnr, year=year, by=["month"])["rows"]
    wanted = [r for r in rows if r["month"] in months]
    return sum(round(r["spend_nok"] * 100) for r in wanted), sum(r["kg_co2e"] for r in wanted)


@pytest.mark.django_db
@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("orgnr", [KONGSVINGER, None], ids=["organisation", "region"])
def test_report_totals_equal_the_selectors_totals_for_quarters_half_years_tertials_and_years(accounts, period,
                                                                                             orgnr):
    data = report_data.build(system_scope(), scope_kind="region" if orgnr is None else "org",
                             period=parse_period(period), orgnr=orgnr)
    ore, kg = selector_totals(period, orgnr)
    assert data.total.ore_total == ore
    assert data.total.kg == pytest.approx(kg, abs=1e-6)
    # every breakdown adds up to the same total
    for groups in (data.by_category, data.by_part, data.by_month, data.by_method, data.by_quality):
        assert sum(s.ore_total for s in groups) == ore
        assert sum(s.kg for s in groups) == pytest.approx(kg, abs=1e-6)
    assert data.previous.ore_total == sum(
        round(r["spend_nok"] * 100) for r in results.totals(system_scope(), org=orgnr, year=int(period[:4]) - 1,
                                                             by=["month"])["rows"] if r["month"] in PERIODS[period])


@pytest.mark.django_db
def test_the_region_report_is_consolidated_and_the_organisation_report_is_not(accounts):
    region = report_data.build(system_scope(), scope_kind="region", period=parse_period("2025"))
    kongsvinger = report_data.build(system_scope(), scope_kind="org", period=parse_period("2025"), orgnr=KONGSVINGER)
    grue = report_data.build(system_scope(), scope_kind="org", period=parse_period("2025"), orgnr=GRUE)
    assert region.consolidated and not kongsvinger.consolidated
    assert region.total.ore_total == kongsvinger.total.ore_total + grue.total.ore_total - 50_000_00
    assert {s.key for s in region.by_part} == {KONGSVINGER, GRUE}


@pytest.mark.django_db
def test_kostra_annual_lines_count_only_in_a_full_year_report_and_the_report_says_so(accounts):
    year = report_data.build(system_scope(), scope_kind="org", period=parse_period("2023"), orgnr=KONGSVINGER)
    quarter = report_data.build(system_scope(), scope_kind="org", period=parse_period("2023Q2"), orgnr=KONGSVINGER)
    assert year.total.lines > 0 and [s.key for s in year.by_month] == [0]
    assert quarter.total.lines == 0 and quarter.annual_left_out.lines > 0
    assert any("bare med i årsrapporter" in note for note in quarter.notes)
    assert any("måned 0" in note for note in year.notes)


@pytest.mark.django_db
def test_operating_and_investment_are_apart_and_intensity_and_range_are_given(accounts):
    data = report_data.build(system_scope(), scope_kind="org", period=parse_period("2025Q3"), orgnr=KONGSVINGER)
    assert data.total.ore_investment == 300_000_00 and data.total.ore_operating == 7_777_77
    assert data.total.kg_low <= data.total.kg <= data.total.kg_high
    assert data.total.intensity == pytest.approx(data.total.kg / data.total.spend_nok)
    assert data.top_categories[0].key == "construction.new_buildings"  # investment art 230 (method v2)
    assert data.previous.ore_total == 20_000_00  # 2024Q3


@pytest.mark.django_db
def test_a_unit_report_covers_that_unit_only(accounts):
    data = report_data.build(system_scope(), scope_kind="unit", period=parse_period("2025"), orgnr=KONGSVINGER,
                             unit_code="1200")
    assert data.total.ore_total == 55_555_55 + 300_000_00
    assert [s.key for s in data.by_part] == ["1200"]


@pytest.mark.parametrize("text", ["2025Q5", "2025H3", "2025T4", "25Q1", "2025X1", ""])
def test_a_bad_period_is_refused_naming_the_field(text):
    with pytest.raises(InvalidInput, match="--period"):
        parse_period(text)


def test_periods_have_the_right_months():
    assert parse_period("2025T2").months == (5, 6, 7, 8)
    assert parse_period("2025h2").months == tuple(range(7, 13))
    assert parse_period("2025Q4").months == (10, 11, 12)
    assert parse_period("2025").months[0] == 0


@pytest.mark.django_db
def test_the_pdf_is_a_tagged_pdf_in_bokmal_with_the_title_headings_tables_and_chart_alt_text(accounts):
    import pypdf

    data = report_data.build(system_scope(), scope_kind="org", period=parse_period("2025H2"), orgnr=KONGSVINGER)
    content = render(data, "pdf")
    assert content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert str(root["/Lang"]).lower().startswith("nb")
    assert reader.metadata.title == data.title
    tags: set[str] = set()
    alts: list[str] = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            for child in node:
                walk(child, depth + 1)
            return
        if not isinstance(node, pypdf.generic.DictionaryObject):
            return
        if "/S" in node:
            tags.add(str(node["/S"]))
            if str(node["/S"]) == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
        if "/K" in node and depth < 60:
            walk(node["/K"], depth + 1)

    walk(root["/StructTreeRoot"])
    assert {"/H1", "/H2", "/Table", "/TH", "/TD", "/Figure"} <= tags, tags
    assert any("Stolpediagram" in alt for alt in alts)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Sammendrag" in text and "Om rapporten" in text
    tonnes = f"{data.total.kg / 1000:,.1f}".replace(",", " ").replace(".", ",")
    assert tonnes.replace(" ", "") in text.replace(" ", "").replace("\u00a0", "")


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2025Q3", "2025H1", "2025T2", "2025"])
def test_the_xlsx_opens_has_a_sheet_per_table_and_its_totals_match_the_selectors(accounts, period):
    import openpyxl

    data = report_data.build(system_scope(), scope_kind="org", period=parse_period(period), orgnr=KONGSVINGER)
    book = openpyxl.load_workbook(io.BytesIO(render(data, "xlsx")))
    assert book.sheetnames == ["Sammendrag", "Største kategorier", "Per kategori", "Per enhet", "Per måned",
                               "Metode", "Datakvalitet", "Måleindikatorer og mål", "Om rapporten"]
    ore, kg = selector_totals(period, KONGSVINGER)
    summary = {row[0]: row[1] for row in book["Sammendrag"].iter_rows(min_row=2, values_only=True)}
    assert round(summary["Innkjøp, kr"] * 100) == ore
    assert summary["Utslipp, kg CO2e"] == pytest.approx(kg, abs=1e-6)
    categories = list(book["Per kategori"].iter_rows(values_only=True))
    assert categories[0][:3] == ("Kode", "Kategori", "Drift, tonn CO2e")
    sum_row = categories[-1]
    assert sum_row[1] == "Sum" and sum_row[5] == pytest.approx(kg, abs=1e-6)
    assert book["Per kategori"]["K2"].number_format == "#,##0.00"
    about = {row[0]: row[1] for row in book["Om rapporten"].iter_rows(min_row=2, values_only=True)}
    assert about["Periode"].startswith(period) and f"nr. {data.run_id}" in about["Beregning (kjøring)"]
    assert any(key.startswith("Faktorsett ") and "lisens" in value for key, value in about.items())


@pytest.mark.django_db
def test_the_csv_is_semicolon_separated_with_decimal_commas_and_the_same_totals(accounts):
    data = report_data.build(system_scope(), scope_kind="org", period=parse_period("2025T2"), orgnr=KONGSVINGER)
    content = render(data, "csv")
    assert content.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Sammendrag"] and rows[1][0] == "Nøkkeltall"
    by_label = {r[0]: r for r in rows if r}
    ore, kg = selector_totals("2025T2", KONGSVINGER)
    assert by_label["Innkjøp, kr"][1] == f"{ore / 100:.2f}".replace(".", ",")
    assert float(by_label["Utslipp, kg CO2e"][1].replace(",", ".")) == pytest.approx(kg, abs=1e-3)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_a_generated_report_is_archived_with_its_run_factor_sets_checksum_and_an_audit_entry(accounts, fmt):
    import hashlib

    report = do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025Q3", fmt=fmt,
                                actor="test")
    run = results.latest_run().run
    assert report.status == Report.STATUS_DONE and report.run_id == run.pk
    assert report.factor_sets == run.factor_sets and report.factor_sets
    content = report_path(report).read_bytes()
    assert hashlib.sha256(content).hexdigest() == report.sha256
    assert report.file_path.startswith("reports/") and report.file_path.endswith(f".{fmt}")
    entry = AuditEntry.objects.get(action="generate_report", object_id=str(report.pk))
    assert entry.after["run"] == run.pk and entry.after["sha256"] == report.sha256


@pytest.mark.django_db
def test_a_report_that_fails_is_recorded_as_failed(accounts):
    with pytest.raises(InvalidInput):
        do_generate_report(system_scope(), scope_kind="unit", orgnr=KONGSVINGER, unit_code="no-such-unit",
                           period="2025", fmt="csv", actor="test")
    assert Report.objects.get().status == Report.STATUS_FAILED


@pytest.mark.django_db
def test_scope_limits_reports(accounts):
    users = get_user_model().objects
    reader = users.create_user(username="reader", password="a-long-test-password")
    Membership.objects.create(user=reader, organisation_id=report_data.Organisation.objects.get(orgnr=GRUE).pk,
                              role="reader")
    scope = scope_for(reader)
    from klimainnkjop.access import OutsideScope

    with pytest.raises(OutsideScope):
        report_data.build(scope, scope_kind="org", period=parse_period("2025"), orgnr=KONGSVINGER)
    with pytest.raises(PermissionError):
        report_data.build(scope, scope_kind="region", period=parse_period("2025"))


def cli(*args, data_dir):
    return run_cli("--data-dir", data_dir, *args)


@pytest.mark.django_db
def test_the_cli_refuses_a_bad_period_with_exit_2_naming_the_field(tmp_path):
    result = cli("report", "--region", "--period", "2025Q9", "--format", "csv", "-o", str(tmp_path / "r.csv"),
                 data_dir=tmp_path / "var")
    assert result.returncode == 2, result.stderr
    assert "--period" in result.stderr
    assert not (tmp_path / "r.csv").exists()
