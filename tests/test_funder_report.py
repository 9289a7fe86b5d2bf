"""The funder's progress and final report (Framdriftsrapport / Sluttrapport to Klimasats): the results of the
period against the year before and the baseline year, the author's texts, the data lineage; in PDF and XLSX;
the same totals as the standard report and the dashboard; bad layouts and texts refused before anything is
written.

The fixture is tests/test_reports.py's: Kongsvinger buys in 2024 and 2025 (one purchase from Grue, inside the
region), Grue in 2025, and Kongsvinger has 2023 only as KOSTRA annual figures (month 0).
"""
from __future__ import annotations

import io

import pytest

from klimainnkjop import paths
from klimainnkjop.access import system_scope
from klimainnkjop.core.figures import Figures
from klimainnkjop.reports import data as report_data
from klimainnkjop.reports.periods import parse_period
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.reports import do_generate_report, render, report_path
from klimainnkjop.storage.models import AuditEntry, Report
from tests.conftest import run_cli
from tests.shared_accounts import accounts, org, other_org  # noqa: F401 - one load of the region for the module
from tests.factories import GRUE, KONGSVINGER


def cli(*args, data_dir):
    return run_cli("--data-dir", data_dir, *args)


TEXTS = {
    "project": "Mer klimavennlig innkjøp i Kongsvingerregionen",
    "activities": "Kartla innkjøpene for 2024 og 2025.\n\nLærte opp innkjøperne i alle kommunene.",
    "deviations": "Leverandørdata for strøm kom senere enn planlagt; vi brukte utgiftsbaserte faktorer.",
    "next_steps": "Hente mengder fra rammeavtaleleverandørene.",
}


def funder(period: str, orgnr: str | None = KONGSVINGER, texts: dict | None = None) -> report_data.ReportData:
    return report_data.build(system_scope(), scope_kind="org" if orgnr else "region", orgnr=orgnr,
                             period=parse_period(period), layout="funder", texts=TEXTS if texts is None else texts)


def line_kg(orgnr: str | None, year: int, months: range) -> float:
    """The selectors' kg, month by month, for a hand sum."""
    rows = results.totals(system_scope(), org=orgnr, year=year, by=["month"])["rows"]
    return sum(r["kg_co2e"] for r in rows if r["month"] in months)


def pdf_text(content: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")


# --- the figures ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_funder_report_of_a_half_year_has_the_hand_computed_spend_and_the_year_before(accounts):
    data = funder("2025H2")
    # July–December 2025: the school 300 000,00 (investment), paper 7 777,77 and the purchase from Grue 50 000,00
    assert data.total.ore_total == 300_000_00 + 7_777_77 + 50_000_00 == 357_777_77
    assert data.total.ore_investment == 300_000_00
    assert data.total.kg == pytest.approx(line_kg(KONGSVINGER, 2025, range(7, 13)), abs=1e-9)
    previous = data.comparisons[0]
    assert previous.period.code == "2024H2" and not previous.baseline
    assert previous.total.ore_total == 20_000_00  # paper in August 2024
    assert previous.total.kg == pytest.approx(line_kg(KONGSVINGER, 2024, range(7, 13)), abs=1e-9)
    # the baseline is the first year with figures (2023, KOSTRA only): the same months have nothing
    assert data.baseline_year == 2023
    assert [c.label for c in data.comparisons] == ["2024H2", "2023H2 (basisår)"]
    assert data.comparisons[1].total.lines == 0 and data.comparisons[1].annual_lines == 2
    assert any("bare årstall" in note for note in data.notes)


@pytest.mark.django_db
def test_a_dashboard_and_a_report_of_the_same_subject_and_period_show_the_same_figures(accounts):
    for orgnr in (KONGSVINGER, None):
        for code in ("2025H2", "2025Q3", "2025"):
            data = funder(code, orgnr)
            standard = report_data.build(system_scope(), scope_kind="org" if orgnr else "region", orgnr=orgnr,
                                         period=parse_period(code))
            board = dashboard.period_overview(system_scope(), org=orgnr, period=dashboard.parse_period(code))
            # one type sums both (core.figures.Figures), money in øre: the same integers, not merely close
            assert type(board.total) is type(data.total) is type(standard.total) is Figures
            assert data.total.ore_total == standard.total.ore_total == board.total.ore_total > 0
            assert data.total.ore_investment == board.total.ore_investment
            assert data.total.covered_ore == board.total.covered_ore
            assert data.total.lines == board.total.lines
            # kg are floats summed over differently grouped rows (month × category here, org × method there)
            assert data.total.kg == pytest.approx(standard.total.kg, abs=1e-9)
            assert data.total.kg == pytest.approx(board.total.kg, abs=1e-6)
            assert data.comparisons[0].total.ore_total == standard.previous.ore_total == board.previous.ore_total


@pytest.mark.django_db
def test_the_region_funder_report_is_consolidated_and_its_total_is_the_sum_of_the_organisation_rows(accounts):
    data = funder("2025H2", None)
    # Kongsvinger without the 50 000,00 it bought from Grue, plus Grue's power in August 44 444,44
    assert data.total.ore_total == 300_000_00 + 7_777_77 + 44_444_44 == 352_222_21
    assert {s.key for s in data.by_part} == {KONGSVINGER, GRUE}
    assert sum(s.ore_total for s in data.by_part) == data.total.ore_total
    assert sum(s.kg for s in data.by_part) == pytest.approx(data.total.kg, abs=1e-9)
    for comparison in data.comparisons:
        assert sum(s.ore_total for s in comparison.by_part.values()) == comparison.total.ore_total
        assert sum(s.ore_total for s in comparison.by_category.values()) == comparison.total.ore_total


@pytest.mark.django_db
def test_a_year_report_compares_with_the_baseline_year_the_author_chose_or_the_first_year_with_figures(accounts):
    default = funder("2025")
    assert default.baseline_year == 2023
    kostra_2023 = report_data.build(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period=parse_period("2023"))
    baseline = default.comparisons[1]
    assert baseline.baseline and baseline.total.lines == kostra_2023.total.lines > 0
    assert baseline.total.ore_total == kostra_2023.total.ore_total
    assert baseline.total.kg == pytest.approx(kostra_2023.total.kg, abs=1e-9)
    chosen = funder("2025", texts={**TEXTS, "baseline_year": "2024"})
    # the year before is the baseline: one comparison column, marked as the baseline
    assert chosen.baseline_year == 2024
    assert [c.label for c in chosen.comparisons] == ["2024 (basisår)"]
    assert chosen.comparisons[0].total.ore_total == 10_000_00 + 40_000_00 + 20_000_00  # 2024: paper, power, paper
    assert any("valgt av forfatteren" in note for note in chosen.notes)


# --- PDF and XLSX -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_funder_pdf_is_tagged_titled_framdriftsrapport_and_holds_the_texts_and_the_results(accounts):
    import pypdf

    data = funder("2025H2")
    content = render(data, "pdf")
    reader = pypdf.PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert str(root["/Lang"]).lower().startswith("nb")
    assert reader.metadata.title == "Framdriftsrapport: Kongsvinger kommune, 2025H2" == data.title
    tags: set[str] = set()
    alts: list[str] = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, pypdf.generic.DictionaryObject):
            if "/S" in node:
                tags.add(str(node["/S"]))
                if str(node["/S"]) == "/Figure" and "/Alt" in node:
                    alts.append(str(node["/Alt"]))
            if "/K" in node and depth < 60:
                walk(node["/K"], depth + 1)

    walk(root["/StructTreeRoot"])
    assert {"/H1", "/H2", "/H3", "/Table", "/TH", "/TD", "/Figure", "/P"} <= tags, tags
    assert any(alt.startswith("Stolpediagram: Utslipp per kategori") and "Nybygg" in alt
               for alt in alts), alts
    text = pdf_text(content)
    for heading in ("Resultater", "Resultater per kategori", "Resultater per enhet", "Gjennomførte aktiviteter",
                    "Avvik fra plan", "Videre arbeid", "Om rapporten"):
        assert heading in text
    assert "Lærte opp innkjøperne i alle kommunene." in text
    assert "Leverandørdata for strøm kom senere enn planlagt" in text
    assert "Mer klimavennlig innkjøp i Kongsvingerregionen" in text
    assert "Ikke fylt ut." in text  # no experiences were given
    flat = text.replace(" ", "").replace("\n", "")
    assert "357778kr" in flat  # the lead: 357 777,77 kr rounded to the krone
    assert f"{data.total.kg / 1000:.1f}tonnCO2e".replace(".", ",") in flat
    assert "Samme periode året før (2024H2)" in text
    assert f"nr. {data.run_id}" in text


@pytest.mark.django_db
def test_a_final_report_is_titled_sluttrapport(accounts):
    data = funder("2025", texts={**TEXTS, "kind": "final", "experiences": "Tallgrunnlaget er avgjørende."})
    assert data.final and data.title == "Sluttrapport: Kongsvinger kommune, 2025"
    text = pdf_text(render(data, "pdf"))
    assert "Sluttrapport til tilskuddsgiver" in text and "Tallgrunnlaget er avgjørende." in text
    report = do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025", fmt="csv",
                                actor="test", layout=Report.LAYOUT_FUNDER, texts={**TEXTS, "kind": "final"})
    assert report_path(report).name == f"sluttrapport-{KONGSVINGER}-2025-{report.pk}.csv"
    standard = do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025", fmt="csv",
                                  actor="test")
    assert report_path(standard).name == f"klimaregnskap-{KONGSVINGER}-2025-{standard.pk}.csv"


@pytest.mark.django_db
def test_the_funder_xlsx_has_the_results_the_texts_and_totals_equal_to_the_organisation_rows(accounts):
    import openpyxl

    data = funder("2025H2", None)
    book = openpyxl.load_workbook(io.BytesIO(render(data, "xlsx")))
    assert book.sheetnames == ["Resultater", "Resultater per kategori", "Resultater per organisasjon", "Metode",
                               "Datakvalitet", "Måleindikatorer og mål", "Gjennomførte aktiviteter", "Avvik fra plan", "Erfaringer",
                               "Videre arbeid", "Om rapporten"]
    header, *rows = list(book["Resultater"].iter_rows(values_only=True))
    # Grue has no purchases in 2024 or 2023 (REPORTS_GRUE_CSV): both earlier columns of the region are partial
    # (issue 11's honest baseline) and say so
    assert header == ("Nøkkeltall", "2025H2", "2024H2 (ufullstendig)", "Endring fra 2024H2",
                      "2023H2 (basisår, ufullstendig)", "Endring fra 2023H2")
    figures = {row[0]: row for row in rows}
    assert round(figures["Innkjøp, kr"][1] * 100) == 352_222_21
    assert figures["Utslipp, kg CO2e"][1] == pytest.approx(line_kg(None, 2025, range(7, 13)), abs=1e-6)
    # change from 2024H2 in kroner: (352 222,21 − 20 000,00) / 20 000,00
    assert figures["Innkjøp, kr"][3] == pytest.approx(332_222.21 / 20_000)
    # row 9: "Innkjøp, kr" (after the market-based row)
    assert book["Resultater"]["B9"].number_format == "#,##0.00" and book["Resultater"]["D9"].number_format == "0.0%"
    header, *rows = list(book["Resultater per organisasjon"].iter_rows(values_only=True))
    assert header[:3] == ("Organisasjon", "2025H2, tonn CO2e", "2024H2 (ufullstendig), tonn CO2e")
    spend = header.index("2025H2, innkjøp, kr")
    *organisations, total = rows
    assert total[0] == "Sum" and [r[0] for r in organisations] == ["Kongsvinger kommune", "Grue kommune"]
    assert round(total[spend] * 100) == 352_222_21 == sum(round(r[spend] * 100) for r in organisations)
    assert total[1] == pytest.approx(sum(r[1] for r in organisations), abs=1e-12)
    assert total[1] * 1000 == pytest.approx(data.total.kg, abs=1e-6)
    activities = [row[0] for row in book["Gjennomførte aktiviteter"].iter_rows(min_row=2, values_only=True)]
    assert activities == ["Kartla innkjøpene for 2024 og 2025.", "Lærte opp innkjøperne i alle kommunene."]
    assert book["Avvik fra plan"]["A2"].value == TEXTS["deviations"]
    assert book["Erfaringer"]["A2"].value == "Ikke fylt ut."
    about = {row[0]: row[1] for row in book["Om rapporten"].iter_rows(min_row=2, values_only=True)}
    assert about["Rapporttype"] == "Framdriftsrapport til tilskuddsgiver" and about["Basisår"] == "2023"
    assert about["Prosjekt"] == TEXTS["project"]


@pytest.mark.django_db
def test_the_standard_layout_is_unchanged_by_the_funder_layout(accounts):
    import openpyxl

    data = report_data.build(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period=parse_period("2025H2"))
    assert data.layout == "standard" and data.comparisons == [] and data.baseline_year is None
    book = openpyxl.load_workbook(io.BytesIO(render(data, "xlsx")))
    assert book.sheetnames[0] == "Sammendrag" and "Gjennomførte aktiviteter" not in book.sheetnames


# --- generating, archiving, refusing ---------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_a_generated_funder_report_records_its_layout_texts_run_and_factor_sets(accounts, fmt):
    report = do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025H2", fmt=fmt,
                                actor="test", layout=Report.LAYOUT_FUNDER,
                                texts={**TEXTS, "activities": "  Kartla innkjøpene.\r\n\r\nLærte opp.  "})
    run = results.latest_run().run
    report.refresh_from_db()
    assert report.status == Report.STATUS_DONE and report.layout == "funder"
    assert report.texts["activities"] == "Kartla innkjøpene.\n\nLærte opp."  # trimmed, newlines normalised
    assert report.run_id == run.pk and report.factor_sets == run.factor_sets and report.factor_sets
    assert report_path(report).exists()
    assert report_path(report).name == f"framdriftsrapport-{KONGSVINGER}-2025H2-{report.pk}.{fmt}"
    entry = AuditEntry.objects.get(action="generate_report", object_id=str(report.pk))
    assert entry.after["layout"] == "funder" and entry.after["texts"] == report.texts
    assert entry.after["run"] == run.pk and entry.after["factor_sets"] == run.factor_sets
    if fmt == "xlsx":
        import openpyxl

        about = {r[0]: r[1] for r in openpyxl.load_workbook(report_path(report))["Om rapporten"].iter_rows(
            min_row=2, values_only=True)}
        assert f"nr. {run.pk}" in about["Beregning (kjøring)"]
        assert {k.removeprefix("Faktorsett ") for k in about if k.startswith("Faktorsett ")} == set(run.factor_sets)


@pytest.mark.django_db
@pytest.mark.parametrize("layout, texts, message", [
    ("sponsor", {}, "--layout: 'sponsor' must be one of standard, funder"),
    ("standard", {"activities": "Noe"}, "only the funder layout takes texts"),
    ("funder", {"activity": "Noe"}, "unknown field 'activity'"),
    ("funder", {"activities": 42}, "'activities' must be text, not int"),
    ("funder", {"deviations": "x" * 5001}, "'deviations' \\(Avvik fra plan\\) has 5001 characters; at most 5000"),
    ("funder", {"activities": "Nul\x00tegn"}, "'activities' \\(Gjennomførte aktiviteter\\) contains a control character"),
    ("funder", {"kind": "half"}, "'kind' 'half' must be progress or final"),
    ("funder", {"baseline_year": "2030"}, "--baseline-year: 2030 is after the report's period 2025H2"),
    ("funder", {"baseline_year": "twenty"}, "--baseline-year: 'twenty' is not a year"),
    ("funder", ["activities"], "texts: must be a mapping"),
])
def test_a_bad_layout_or_text_is_refused_clearly_and_leaves_no_report_row_or_file(accounts, layout, texts,
                                                                                     message):
    folder = paths.data_dir() / "reports"
    before = set(folder.rglob("*"))  # the module's other tests' reports (tests/shared_accounts.py)
    with pytest.raises(InvalidInput, match=message):
        do_generate_report(system_scope(), scope_kind="org", orgnr=KONGSVINGER, period="2025H2", fmt="pdf",
                           actor="test", layout=layout, texts=texts)
    assert not Report.objects.exists()
    assert set(folder.rglob("*")) == before


@pytest.mark.django_db
def test_an_author_text_that_looks_like_a_formula_stays_text_in_excel_and_csv(accounts):
    import csv

    import openpyxl

    data = funder("2025H2", texts={"activities": "=HYPERLINK(\"http://example.com\")", "deviations": "@SUM(A1)"})
    book = openpyxl.load_workbook(io.BytesIO(render(data, "xlsx")))
    cell = book["Gjennomførte aktiviteter"]["A2"]
    # a string cell with the quote prefix style: Excel shows the text and keeps it text when edited
    assert (cell.data_type, cell.value, cell.quotePrefix) == ("s", "=HYPERLINK(\"http://example.com\")", True)
    rows = list(csv.reader(io.StringIO(render(data, "csv").decode("utf-8-sig")), delimiter=";"))
    assert ["'=HYPERLINK(\"http://example.com\")"] in rows and ["'@SUM(A1)"] in rows
