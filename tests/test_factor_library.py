"""The factor library and the method per line (issue 3): hand-computed reference cases."""
import io

import openpyxl
import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.selectors.factors import factor_row, factors
from klimainnkjop.selectors.results import compare_runs, totals
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.factors import (PublishedSetIsImmutable, do_add_category, do_add_supplier_factor,
                                           do_import_factor_set, do_set_category_mapping)
from klimainnkjop.services.reference import shipped_factor_set_files
from klimainnkjop.storage.models import AuditEntry, Category, Factor, FactorSet
from tests.factories import HEADER, META, VISMA, factor_file, import_ledger, ledger_csv

def test_a_factor_set_file_imports_once_and_a_published_set_never_changes(reference):
    data = factor_file("energy.heating_oil;activity;litre;;;2,5;2.4;2.6;NO;;;3;test row 1;")
    fs, created = do_import_factor_set(data=data, file_name="a.csv", actor="test")
    assert created and fs.status == "published" and fs.factors.get().value == 2.5
    assert do_import_factor_set(data=data, file_name="a.csv", actor="test") == (fs, False)
    changed = factor_file("energy.heating_oil;activity;litre;;;2,7;2.4;2.8;NO;;;3;test row 1;")
    with pytest.raises(PublishedSetIsImmutable, match="new version"):
        do_import_factor_set(data=changed, file_name="b.csv", actor="test")
    assert FactorSet.objects.get(name="test-activity").factors.get().value == 2.5
    assert AuditEntry.objects.filter(action="import_factor_set", object_id=str(fs.pk)).exists()


def test_a_draft_set_can_be_replaced_until_it_is_published(reference):
    draft = META.replace("# role: activity", "# role: activity\n# status: draft")
    do_import_factor_set(data=factor_file("energy.heating_oil;activity;litre;;;2,5;;;NO;;;3;r;", meta=draft),
                         file_name="d.csv", actor="test")
    fs, created = do_import_factor_set(data=factor_file("energy.heating_oil;activity;litre;;;2,6;;;NO;;;3;r;",
                                                        meta=draft), file_name="d2.csv", actor="test")
    assert created and fs.factors.get().value == 2.6
    assert fs.factors.get().low == pytest.approx(2.6 * 0.7)  # default range for quality 3: ±30 %


def test_every_bad_factor_row_is_reported_with_file_row_and_column(reference):
    data = factor_file(
        "goods.unicorns;spend;NOK;2026;;0.1;;;NO;;;4;x;",
        "goods.food;spend;NOK;;;0.1;;;NO;;;4;x;",
        "goods.food;activity;parsec;;;0.1;;;NO;;;3;x;",
        "goods.office;spend;NOK;2026;;0.1;0.2;0.3;NO;;;4;x;",
        "goods.office;spend;NOK;2026;;-1;;;NO;;;9;;",
    )
    with pytest.raises(ImportRejected) as caught:
        do_import_factor_set(data=data, file_name="bad.csv", actor="test")
    messages = [str(e) for e in caught.value.errors]
    assert "bad.csv, row 8, column 'key': unknown category 'goods.unicorns'; add it to the taxonomy first" in messages
    assert any(m.startswith("bad.csv, row 9, column 'price_year'") for m in messages)
    assert any(m.startswith("bad.csv, row 10, column 'unit': unknown physical unit 'parsec'") for m in messages)
    assert any(m.startswith("bad.csv, row 11, column 'low'") for m in messages)
    assert any(m.startswith("bad.csv, row 12, column 'quality'") for m in messages)
    assert any(m.startswith("bad.csv, row 12, column 'source_ref'") for m in messages)
    assert not FactorSet.objects.filter(name="test-activity").exists()


def test_an_xlsx_factor_set_imports_like_the_csv_template(reference):
    book = openpyxl.Workbook()
    meta = book.active
    meta.title = "set"
    for line in META.splitlines()[:-1]:
        key, _, value = line[2:].partition(": ")
        meta.append([key, value])
    sheet = book.create_sheet("factors")
    sheet.append(META.splitlines()[-1].split(";"))
    sheet.append(["energy.fuel.diesel", "activity", "litre", None, None, 2.68, 2.5, 2.9, "NO", 2024, None, 3,
                  "test", None])
    buffer = io.BytesIO()
    book.save(buffer)
    fs, _ = do_import_factor_set(data=buffer.getvalue(), file_name="set.xlsx", actor="test")
    factor = fs.factors.get()
    assert (factor.category.code, factor.unit, factor.value, factor.valid_from_year) == ("energy.fuel.diesel", "litre", 2.68, 2024)


QUANTITY_PROFILE = {"name": "qty", "columns": {**VISMA["columns"], "quantity": "Mengde", "quantity_unit": "Enhet"}}
QUANTITY_HEADER = HEADER.rstrip("\n") + ";Mengde;Enhet\n"


def test_an_activity_line_uses_its_quantity_before_its_spend(org, reference):
    do_import_factor_set(data=factor_file("energy.heating_oil;activity;litre;;;2.5;2.25;2.75;NO;;;3;oil;"),
                         file_name="oil.csv", actor="test")
    import_ledger(org, ledger_csv("01.02.2024;182000;1200;1000;977777777;Olje AS;12 000,00;Fyringsolje;1 000;LTR",
                                  "01.03.2024;182000;1200;1000;977777777;Olje AS;6 000,00;Fyringsolje;5;hl",
                                  "01.04.2024;182000;1200;1000;977777777;Olje AS;3 000,00;Frakt;;",
                                  header=QUANTITY_HEADER), profile=QUANTITY_PROFILE)
    run = do_compute(actor="test")
    rows = {r["method"]: r for r in totals(system_scope(), by=["method"])["rows"]}
    # 1 000 l + 5 hl = 1 500 l × 2.5 kg/l = 3 750 kg; the freight line has no quantity: spend-based
    assert rows["activity"]["kg_co2e"] == pytest.approx(3750.0)
    assert rows["activity"]["kg_co2e_low"] == pytest.approx(3375.0)
    assert rows["activity"]["kg_co2e_high"] == pytest.approx(4125.0)
    assert rows["activity"]["spend_nok"] == 18_000.0
    spend_factor = factors(set_name="provisional-dfo").get(category__code="energy.heating_oil").value
    assert rows["spend"]["kg_co2e"] == pytest.approx(3000 * 141.0 / 133.6 * spend_factor)
    assert "test-activity:1" in run.factor_sets
    by_quality = {r["quality"]: r["lines"] for r in totals(system_scope(), by=["quality"])["rows"]}
    assert by_quality == {3: 2, 4: 1}


def test_a_supplier_specific_factor_beats_activity_and_spend(org, reference):
    do_add_supplier_factor(supplier_orgnr="977777777", value=0.01, low=0.009, high=0.011, price_year=2024,
                           valid_from_year=2024, valid_to_year=2025, evidence="verified climate account 2024",
                           actor="test")
    import_ledger(org, ledger_csv("01.02.2024;182000;1200;1000;977777777;Olje AS;12 345,67;Fyringsolje",
                                  "01.02.2023;182000;1200;1000;977777777;Olje AS;1 000,00;Fyringsolje"))
    do_compute(actor="test")
    rows = {(r["year"], r["method"]): r for r in totals(system_scope(), by=["year", "method"])["rows"]}
    # 12 345.67 NOK in 2024 at the factor's own price year 2024: × 0.01 = 123.4567 kg
    assert rows[(2024, "supplier")]["kg_co2e"] == pytest.approx(123.4567, abs=1e-9)
    assert rows[(2024, "supplier")]["kg_co2e_high"] == pytest.approx(135.80237, abs=1e-9)
    assert (2023, "spend") in rows  # outside the supplier factor's validity


def test_a_supplier_factor_of_zero_is_refused_naming_the_field(reference):
    """A supplier's factor applies to all its spend (rank 3): zero would count every purchase from it as no
    emissions, covered, a silent zero."""
    from klimainnkjop.core.errors import ImportRejected
    from klimainnkjop.storage.models import SupplierFactor

    for value in (0.0, -0.01):
        with pytest.raises(ImportRejected) as refused:
            do_add_supplier_factor(supplier_orgnr="977777777", value=value, price_year=2024, valid_from_year=2024,
                                   valid_to_year=2025, evidence="a climate account", actor="test")
        assert ("value", "must be above zero") in [(e.column, e.reason.split(" (")[0]) for e in refused.value.errors]
    assert not SupplierFactor.objects.exists()


def test_a_category_without_its_own_factor_uses_its_parents(org, reference):
    do_add_category(code="goods.food.rice", name_nb="Ris", parent_code="goods.food", actor="test")
    do_set_category_mapping(scheme="kostra_art", code="115", category_code="goods.food.rice", actor="test")
    import_ledger(org, ledger_csv("01.03.2026;115000;2020;2100;999999999;Mat AS;1 000,00;Ris"))
    run = do_compute(factor_set_name="provisional-dfo", actor="test")
    row = totals(system_scope(), by=["category"])["rows"][0]
    food = factors(set_name="provisional-dfo").get(category__code="goods.food").value
    assert row["category"] == "goods.food.rice" and row["kg_co2e"] == pytest.approx(1000 * food)
    assert run.factor_sets[0] == "provisional-dfo:2026.1"


def test_the_fallback_set_covers_a_category_the_chosen_set_lacks(org, reference):
    fallback = FactorSet.objects.create(name="fallback", version="1", publisher="t", licence="CC0",
                                        attribution="t", role="spend-fallback")
    # method v2: the fallback counts only where the chosen set has no factor on the category's whole path; the
    # provisional set has food (the parent of beef) but nothing for hotel nights or their parent, transport
    hotel = Category.objects.get(code="transport.hotel")
    Factor.objects.create(factor_set=fallback, category=hotel, value=0.2, low=0.1, high=0.3, unit="NOK",
                          price_year=2022, quality=5, source_ref="test")
    do_set_category_mapping(scheme="kostra_art", code="115", category_code="transport.hotel", actor="test")
    import_ledger(org, ledger_csv("01.03.2022;115000;2020;2100;999999999;Hotell AS;1 000,00;Overnatting"))
    run = do_compute(factor_set_name="provisional-dfo", actor="test")
    row = totals(system_scope(), by=["category", "method", "quality"])["rows"][0]
    assert (row["category"], row["method"], row["quality"]) == ("transport.hotel", "spend", 5)
    assert row["kg_co2e"] == pytest.approx(1000 * 0.2)  # same price year: no deflation
    assert "fallback:1" in run.factor_sets


def test_region_totals_do_not_double_count_purchases_between_member_organisations(org, other_org, reference):
    import_ledger(org, ledger_csv(f"01.03.2024;375000;3550;4100;{other_org.orgnr};Grue kommune;100 000,00;Tjenester",
                                  "01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Mat"))
    do_compute(actor="test")
    region = totals(system_scope())["rows"][0]
    own = totals(system_scope(), org=org.orgnr)["rows"][0]
    assert region["spend_nok"] == 1_000.0 and own["spend_nok"] == 101_000.0


def test_recomputing_with_another_set_shows_the_difference_per_category(org, reference):
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Mat",
                                  "01.03.2024;100000;1200;1000;966666666;Kontor AS;2 000,00;Papir"))
    doubled = META.replace("test-activity", "doubled-food").replace("# role: activity", "# role: spend-default")
    do_import_factor_set(data=factor_file("goods.food;spend;NOK;2026;;0.04;;;NO;;;4;double;", meta=doubled),
                         file_name="d.csv", actor="test")
    provisional = do_compute(factor_set_name="provisional-dfo", actor="test")
    other = do_compute(factor_set_name="doubled-food", actor="test")
    rows = {r["category"]: r for r in compare_runs(system_scope(), base=provisional, other=other)}
    food = factors(set_name="provisional-dfo").get(category__code="goods.food").value
    spend_2026 = 1000 * 141.0 / 133.6
    assert rows["goods.food"]["kg_diff"] == pytest.approx(spend_2026 * (0.04 - food))
    assert rows["goods.office"]["kg_base"] > 0 and rows["goods.office"]["kg_other"] == 0.0
    assert provisional.result_dir != other.result_dir


def test_every_shipped_factor_names_its_source_and_licence(reference):
    assert shipped_factor_set_files()
    rows = [factor_row(f) for f in factors()]
    assert rows
    for row in rows:
        assert row["source_ref"] and row["licence"] and row["attribution"], row
        assert row["low"] <= row["value"] <= row["high"]


def test_lines_of_two_organisations_with_the_same_natural_key_keep_their_own_factors(org, other_org, reference):
    """Natural keys are unique within an organisation only: the same voucher and line id in two ledgers."""
    profile = {"name": "ids", "columns": {**VISMA["columns"], "voucher": "Bilag", "line_id": "Linje"}}
    header = HEADER.rstrip("\n") + ";Bilag;Linje\n"
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;1 000,00;Mat;1;1", header=header),
                  profile=profile)
    import_ledger(other_org, ledger_csv("01.03.2024;180000;2020;2100;988888888;Kraft AS;1 000,00;Strøm;1;1",
                                        header=header), profile=profile)
    do_compute(factor_set_name="provisional-dfo", actor="test")
    rows = {r["org"]: r for r in totals(system_scope(), by=["org", "category"])["rows"]}
    provisional = factors(set_name="provisional-dfo")
    deflate = 141.0 / 133.6
    assert rows[org.orgnr]["category"] == "goods.food"
    assert rows[org.orgnr]["kg_co2e"] == pytest.approx(1000 * deflate * provisional.get(category__code="goods.food").value)
    assert rows[other_org.orgnr]["kg_co2e"] == pytest.approx(
        1000 * deflate * provisional.get(category__code="energy.electricity").value)
    assert totals(system_scope())["rows"][0]["lines"] == 2
