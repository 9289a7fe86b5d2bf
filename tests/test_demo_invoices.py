"""The demo region's EHF invoices: valid documents, matched to the ledger lines they were booked on, part of
the account activity-based, and the fuel and food switches of 2025 visible at about equal spend."""
from __future__ import annotations

from pathlib import Path

import pytest

from klimainnkjop.demo import ehf
from klimainnkjop.demo import region as R
from klimainnkjop.demo.generate import generate
from tests.conftest import DEMO

SCALE, SEED, TODAY = DEMO["scale"], DEMO["seed"], DEMO["today"]  # the shared_demo fixture's (conftest.py)
FUEL_ORGS = ("gir", "solor", "brann", "kongsvinger", "eidskog", "grue", "nord-odal", "sor-odal", "valer", "asnes")


def _by_year_category(orgs) -> dict[tuple[int, str], dict]:
    """Spend and kg CO2e per year and category, summed over the organisations' own accounts."""
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals

    out: dict[tuple[int, str], dict] = {}
    for key in orgs:
        for row in totals(system_scope(), org=R.ORGS_BY_KEY[key].orgnr, by=["year", "category"])["rows"]:
            cell = out.setdefault((row["year"], row["category"]), {"spend_nok": 0.0, "kg_co2e": 0.0})
            cell["spend_nok"] += row["spend_nok"]
            cell["kg_co2e"] += row["kg_co2e"]
    return out


def _family(cells, year: int, root: str) -> tuple[float, float]:
    """(spend NOK, kg CO2e) of a category and its sub-categories in a year."""
    rows = [v for (y, c), v in cells.items() if y == year and c and (c == root or c.startswith(root + "."))]
    return sum(r["spend_nok"] for r in rows), sum(r["kg_co2e"] for r in rows)


# --- the documents -------------------------------------------------------------------------------------
def test_the_generator_writes_ehf_invoices_for_the_fuel_and_food_buyers(tmp_path):
    manifest = generate(tmp_path, scale=SCALE, seed=SEED, today=TODAY)
    buyers = {entry["org_key"] for entry in manifest.invoice_files}
    assert buyers == set(FUEL_ORGS)
    for entry in manifest.invoice_files:
        assert len(entry["documents"]) >= (2 if entry["year"] < TODAY.year else 1)
        assert all((tmp_path / path).read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
                   for path in entry["documents"])
    count_at_scale_1 = sum(ehf.invoice_count(n, m, 1.0) for n, m in ((ehf.FUEL_INVOICES, ehf.FUEL_MIN),
                                                                      (ehf.FOOD_INVOICES, ehf.FOOD_MIN)))
    assert count_at_scale_1 == 38  # monthly fuel and fortnightly food invoices per organisation and year


def test_every_demo_invoice_passes_the_xsd_en16931_and_peppol_rules_and_reconciles(tmp_path):
    from klimainnkjop.importers.ehf import parse_document

    manifest = generate(tmp_path, scale=SCALE, seed=SEED, today=TODAY)
    units = set()
    for entry in manifest.invoice_files[:6]:
        for path in entry["documents"]:
            doc = parse_document((tmp_path / path).read_bytes(), Path(path).name)
            assert doc.seller.orgnr in {R.SUPPLIERS["fuel"].orgnr, R.SUPPLIERS["food"].orgnr}
            assert doc.buyer.orgnr == entry["orgnr"]
            assert doc.currency == "NOK"
            assert sum(line.amount_minor for line in doc.lines) == doc.tax_exclusive_minor
            assert doc.tax_inclusive_minor == doc.payable_minor > doc.tax_exclusive_minor
            assert all(line.item_class_scheme == "cpv" and line.quantity > 0 for line in doc.lines)
            units.update(line.quantity_unit for line in doc.lines)
            rates = {line.vat_percent for line in doc.lines}
            assert rates == ({25.0} if doc.seller.orgnr == R.SUPPLIERS["fuel"].orgnr else {15.0})
    assert {"litre", "kg"} <= units


def test_each_invoice_is_booked_in_its_buyers_ledger_with_the_same_number_supplier_and_amount(tmp_path):
    from klimainnkjop.importers.ehf import parse_document
    from klimainnkjop.importers.ledger import Profile, parse_ledger

    manifest = generate(tmp_path, scale=SCALE, seed=SEED, today=TODAY)
    ledgers = {(f.org_key, f.year): f for f in manifest.files}
    for entry in manifest.invoice_files:
        ledger = ledgers[(entry["org_key"], entry["year"])]
        parsed = parse_ledger((tmp_path / ledger.path).read_bytes(), Path(ledger.path).name,
                              Profile.from_spec(manifest.profiles[entry["org_key"]]))
        booked: dict[tuple[str, str], int] = {}
        for line in parsed.lines:
            if line.invoice_no:
                key = (line.supplier_orgnr, line.invoice_no)
                booked[key] = booked.get(key, 0) + line.amount_minor
        for path in entry["documents"]:
            doc = parse_document((tmp_path / path).read_bytes(), Path(path).name, validate=False)
            assert booked[(doc.seller.orgnr, doc.document_id)] == doc.tax_exclusive_minor, path


# --- loaded and computed -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_demo_imports_its_invoices_without_rejections_and_matches_every_one_to_the_ledger(shared_demo):
    from klimainnkjop.services.invoices import match_invoices_to_ledger
    from klimainnkjop.storage.models import ImportBatch, Organisation

    result, messages = shared_demo.value
    documents = sum(len(entry["documents"]) for entry in result.manifest.invoice_files)
    assert result.invoices_read == result.invoices_added == documents > 100
    assert ImportBatch.objects.filter(kind="ehf").count() == len(result.manifest.invoice_files)
    assert any(m.startswith("Importerer e-fakturaer (EHF) for Grue kommune 2025") for m in messages)
    assert "E-fakturaer (EHF)" in result.summary()
    for key in FUEL_ORGS:
        report = match_invoices_to_ledger(Organisation.objects.get(orgnr=R.ORGS_BY_KEY[key].orgnr))
        assert report["summary"]["unmatched_invoices"] == 0, (key, report["unmatched_invoices"][:3])
        assert report["summary"]["matched"] > 0


@pytest.mark.django_db
def test_matched_invoices_replace_their_ledger_lines_so_the_spend_stays_calibrated_and_part_is_activity_based(shared_demo):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.storage.models import Organisation

    members = set(Organisation.objects.values_list("orgnr", flat=True))
    by_year: dict[int, float] = {}
    for row in totals(system_scope(), by=["year", "supplier"])["rows"]:
        if row["supplier"] not in members:
            by_year[row["year"]] = by_year.get(row["year"], 0.0) + row["spend_nok"]
    target = R.REGION_PURCHASES_NOK * SCALE
    for year in range(2021, 2026):
        assert target * 0.85 <= by_year[year] <= target * 1.15, (year, by_year[year], target)
    methods = {row["method"]: row for row in totals(system_scope(), by=["method"])["rows"]}
    assert methods["activity"]["kg_co2e"] > 0
    assert 0.005 < methods["activity"]["spend_nok"] / sum(r["spend_nok"] for r in methods.values()) < 0.2
    sources = {row["source"]: row["spend_nok"] for row in totals(system_scope(), by=["source"])["rows"]}
    assert sources["ehf"] > 0
    with_excluded = {row["source"]: row["spend_nok"]
                     for row in totals(system_scope(), by=["source"], include_excluded=True)["rows"]}
    assert with_excluded["ehf"] == pytest.approx(sources["ehf"])  # no invoice left out as unmatched


@pytest.mark.django_db
def test_the_switch_to_hvo_and_from_beef_lowers_emissions_at_about_equal_spend(shared_demo):
    cells = _by_year_category(FUEL_ORGS)
    fuel_before, fuel_after = _family(cells, 2024, "energy.fuel"), _family(cells, 2025, "energy.fuel")
    assert fuel_before[0] > 0 and fuel_after[0] > 0
    assert abs(fuel_after[0] / fuel_before[0] - 1) < 0.10, (fuel_before, fuel_after)
    assert fuel_after[1] < fuel_before[1] * 0.7, (fuel_before, fuel_after)
    assert _family(cells, 2025, "energy.fuel.hvo")[1] > 0 and _family(cells, 2024, "energy.fuel.hvo")[0] == 0

    kommuner = [o.key for o in R.ORGS if o.kind == "kommune"]
    cells = _by_year_category(kommuner)
    food_before, food_after = _family(cells, 2024, "goods.food"), _family(cells, 2025, "goods.food")
    assert abs(food_after[0] / food_before[0] - 1) < 0.10, (food_before, food_after)
    assert food_after[1] < food_before[1] * 0.85, (food_before, food_after)
    beef_before, beef_after = _family(cells, 2024, "goods.food.beef"), _family(cells, 2025, "goods.food.beef")
    assert beef_after[1] < beef_before[1] * 0.6
