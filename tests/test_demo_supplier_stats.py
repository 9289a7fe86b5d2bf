"""The demo region's supplier purchase statistics: two framework suppliers' quarterly reports (CSV and XLSX)
whose invoices are booked in their customers' ledgers, imported through saved mapping profiles, matched to
those ledger lines instead of added to them, and making the kilograms and litres activity-based."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from klimainnkjop.demo import region as R
from klimainnkjop.demo import stats
from klimainnkjop.demo.generate import generate
from klimainnkjop.demo.load import do_load_demo
from tests.conftest import DEMO

SCALE, SEED, TODAY = DEMO["scale"], DEMO["seed"], DEMO["today"]  # the shared_demo fixture's (conftest.py)
ROOT = Path(__file__).resolve().parents[1]
FOOD, FUEL = R.SUPPLIERS["food2"], R.SUPPLIERS["fuel2"]


def _factor(factor_set: str, key: str, unit: str) -> float:
    """An activity factor read straight from the shipped factor file (independent of the engine)."""
    text = (ROOT / "klimainnkjop" / "data" / "factor_sets" / f"{factor_set}.csv").read_text(encoding="utf-8")
    rows = [line.split(";") for line in text.splitlines() if line and not line.startswith("#")]
    header = rows[0]
    (row,) = [r for r in rows[1:] if r[0] == key and r[header.index("unit")] == unit]
    return float(row[header.index("value")])


def _number(text: str) -> float:
    return float(text.replace(" ", "").replace(",", "."))


def _report_rows(directory: Path, entry: dict) -> list[dict]:
    """A report's rows read with csv / calamine directly, not with the importer: orgnr, invoice, cpv, quantity,
    unit, øre."""
    data = (directory / entry["path"]).read_bytes()
    if entry["path"].endswith(".csv"):
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")
        return [{"orgnr": r["Org.nr kunde"], "invoice": r["Fakturanr"], "cpv": r["CPV"].split("-")[0],
                 "quantity": _number(r["Antall"]), "unit": r["Enhet"], "ore": round(_number(r["Nettobeløp"]) * 100)}
                for r in reader]
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Transaksjoner").to_python()
    header = [str(h) for h in sheet[0]]
    codes = {"D01": "09134220", "H100": "09134230"}
    out = []
    for values in sheet[1:]:
        r = dict(zip(header, values))
        out.append({"orgnr": str(r["Org.nr"]), "invoice": str(r["Fakturanr"]), "cpv": codes[r["Produktkode"]],
                    "quantity": float(r["Volum"]), "unit": r["Enhet"], "ore": round(float(r["Beløp eks. mva"]) * 100)})
    return out


# --- the files -----------------------------------------------------------------------------------------
def test_two_suppliers_report_every_finished_quarter_from_2024_for_their_customers(tmp_path):
    manifest = generate(tmp_path, scale=SCALE, seed=SEED, today=TODAY)
    quarters = [(2024, q) for q in range(1, 5)] + [(2025, q) for q in range(1, 5)] + [(2026, q) for q in (1, 2, 3)]
    for supplier, extension, customers in (("food2", "csv", ["grue", "valer", "asnes"]),
                                           ("fuel2", "xlsx", ["asnes", "solor"])):
        entries = [e for e in manifest.stats_files if e["supplier"] == supplier]
        assert [(e["year"], e["quarter"]) for e in entries] == quarters  # 2026 Q4 is not over on 15 November
        assert all(e["path"].endswith(f"-{e['year']}-K{e['quarter']}.{extension}") for e in entries)
        assert all(e["customers"] == customers for e in entries)
    assert (tmp_path / manifest.stats_files[0]["path"]).read_bytes().startswith(
        "\ufeffKundenr;Kundenavn;Org.nr kunde;Fakturanr;Fakturadato".encode())
    assert (tmp_path / manifest.stats_files[-1]["path"]).read_bytes().startswith(b"PK\x03\x04")
    assert set(manifest.stats_profiles) == {"food2", "fuel2"}
    assert "stats_files" in (tmp_path / "manifest.json").read_text(encoding="utf-8")


def test_the_reports_hold_exactly_the_invoices_the_customers_ledgers_book_from_those_suppliers(tmp_path):
    from klimainnkjop.importers.ledger import Profile, parse_ledger

    manifest = generate(tmp_path, scale=SCALE, seed=SEED, today=TODAY)
    reported: dict[tuple[str, str, str], int] = defaultdict(int)
    for entry in manifest.stats_files:
        supplier = R.SUPPLIERS[entry["supplier"]].orgnr
        for row in _report_rows(tmp_path, entry):
            reported[(row["orgnr"], supplier, row["invoice"])] += row["ore"]
    booked: dict[tuple[str, str, str], int] = defaultdict(int)
    for entry in manifest.files:
        if entry.org_key not in ("grue", "valer", "asnes", "solor") or entry.year < 2024:
            continue
        parsed = parse_ledger((tmp_path / entry.path).read_bytes(), Path(entry.path).name,
                              Profile.from_spec(manifest.profiles[entry.org_key]))
        for line in parsed.lines:
            if line.supplier_orgnr in (FOOD.orgnr, FUEL.orgnr) and entry.org_key in (
                    stats.FOOD.customers if line.supplier_orgnr == FOOD.orgnr else stats.FUEL.customers):
                booked[(entry.orgnr, line.supplier_orgnr, line.invoice_no)] += line.amount_minor
    assert len(reported) > 50
    assert booked == dict(reported)  # same invoices, same amounts to the øre, nothing booked without a report


# --- loaded and computed -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_demo_imports_the_reports_for_each_customer_and_counts_their_kilograms_and_litres_once(shared_demo, data_dir):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.storage.models import ComputeRun, ImportBatch, SupplierStatsProfile

    result, messages = shared_demo.value
    manifest = result.manifest

    # imported through saved profiles, once per customer, with no rows refused
    assert result.stats_reports == 22 and result.stats_imports == 11 * 3 + 11 * 2
    batches = ImportBatch.objects.filter(kind="supplier_stats")
    assert batches.count() == 55 and set(batches.values_list("status", flat=True)) == {"done"}
    assert set(SupplierStatsProfile.objects.values_list("organisation__orgnr", "name")) == {
        (R.ORGS_BY_KEY[key].orgnr, supplier.profile) for supplier in stats.SUPPLIERS for key in supplier.customers}
    rows = [row for entry in manifest.stats_files for row in _report_rows(manifest.directory, entry)]
    assert result.stats_lines_added == len(rows) == sum(batches.values_list("lines_added", flat=True))
    assert "Innkjøpsstatistikk fra leverandører: 22 kvartalsrapporter" in result.summary()
    assert any(m.startswith("Importerer innkjøpsstatistikk kortrapport-2025-K2.xlsx") for m in messages)

    # every stats line is matched to its ledger line and is activity-based: kg × Poore & Nemecek, litres × DESNZ
    run = ComputeRun.objects.latest("pk")
    lines = [r for r in pq.read_table(data_dir / run.result_dir / "lines.parquet").to_pylist()
             if r["source"] == "supplier_stats"]
    assert len(lines) == len(rows)
    assert {r["exclusion"] for r in lines} == {""} and {r["method"] for r in lines} == {"activity"}
    assert {r["art"] for r in lines} == {"115", "120"}  # the ledger line's dimensions
    expected = {"goods.food.vegetables": ("poore-nemecek-2018-food", "kg"),
                "goods.food.fruit": ("poore-nemecek-2018-food", "kg"),
                "energy.fuel.diesel": ("desnz-2025-activity", "litre"),
                "energy.fuel.hvo": ("desnz-2025-activity", "litre")}
    assert {r["category"] for r in lines} == set(expected)
    cpv = {"goods.food.vegetables": ("03212", "03221"), "goods.food.fruit": ("03222",),
           "energy.fuel.diesel": ("09134220",), "energy.fuel.hvo": ("09134230",)}
    for category, (factor_set, unit) in expected.items():
        quantity = sum(r["quantity"] for r in rows if r["cpv"].startswith(cpv[category]))
        computed = [r for r in lines if r["category"] == category]
        assert {r["quantity_unit"] for r in computed} == {unit}
        assert sum(r["quantity"] for r in computed) == pytest.approx(quantity, rel=1e-9)
        assert sum(r["kg_co2e"] for r in computed) == pytest.approx(
            quantity * _factor(factor_set, category, unit), rel=1e-9), category

    # no double counting: each customer's own account spends exactly its ledger's purchases, of which the
    # reported supplier's part now comes from the report (and nothing more from the ledger)
    ledgers = {(f.org_key, f.year): f.purchase_ore for f in manifest.files}
    reported: dict[tuple[str, str, int], int] = defaultdict(int)
    for entry in manifest.stats_files:
        for key, amount in entry["amount_ore"].items():
            reported[(entry["supplier"], key, entry["year"])] += amount
    for supplier in stats.SUPPLIERS:
        for key in supplier.customers:
            orgnr = R.ORGS_BY_KEY[key].orgnr
            for year in (2024, 2025):
                (own,) = totals(system_scope(), org=orgnr, year=year, consolidated=False)["rows"]
                assert round(own["spend_nok"] * 100) == ledgers[(key, year)], (key, year)
                by_source = {(r["supplier"], r["source"]): r["spend_nok"] for r in
                             totals(system_scope(), org=orgnr, year=year, by=["supplier", "source"])["rows"]}
                supplier_orgnr = R.SUPPLIERS[supplier.key].orgnr
                assert round(by_source[(supplier_orgnr, "supplier_stats")] * 100) == \
                    reported[(supplier.key, key, year)] > 0
                assert (supplier_orgnr, "ledger") not in by_source and (supplier_orgnr, "saft") not in by_source
    with_excluded = {r["source"]: r["spend_nok"] for r in totals(system_scope(), by=["source"],
                                                                  include_excluded=True)["rows"]}
    counted = {r["source"]: r["spend_nok"] for r in totals(system_scope(), by=["source"])["rows"]}
    assert counted["supplier_stats"] > 0
    assert counted["supplier_stats"] == pytest.approx(with_excluded["supplier_stats"])  # none left out as unmatched


@pytest.mark.django_db
def test_loading_the_demo_again_imports_no_report_twice(shared_demo):
    from klimainnkjop.storage.models import ImportBatch

    batches = ImportBatch.objects.filter(kind="supplier_stats").count()
    again = do_load_demo(scale=SCALE, seed=SEED, today=TODAY, actor="test")
    assert again.stats_imports == again.stats_already_imported == batches == 55
    assert again.stats_lines_added == 0
    assert ImportBatch.objects.filter(kind="supplier_stats").count() == batches
    assert "var importert fra før" in again.summary()
    empty = do_load_demo(scale=SCALE, seed=SEED, today=TODAY, actor="test", if_empty=True)
    assert not empty.loaded and empty.stats_imports == 0
    assert ImportBatch.objects.filter(kind="supplier_stats").count() == batches
