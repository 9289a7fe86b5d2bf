"""Method v2 (issue 15): what was bought (KOSTRA art × function), factor choice by quality, with hand-computed
cases. The engine's rules run on small in-memory tables (as tests/test_pipeline_units.py does); the shipped
mapping and factor values are read from klimainnkjop/data, and one case runs the whole path (KOSTRA import,
reference data, compute)."""
import csv

import pyarrow as pa
import pytest

from klimainnkjop.core.kostra import KOSTRA_FUNCTION_SCHEME, parse_art_function_code
from klimainnkjop.engine import pipeline, runner
from klimainnkjop.paths import SHIPPED_DATA
from klimainnkjop.storage.linestore import INVOICE_LINE_SCHEMA

ORG, SUPPLIER, FUEL_SUPPLIER = "944117784", "999999999", "988888888"
IKS, GRUE = "987654321", "964950113"  # a joint company of the region and another municipality
CPI = {2019: 110.8, 2023: 129.6, 2024: 133.6, 2026: 141.0}  # klimainnkjop/data/price_index.csv
YEARS = (2019, 2023, 2024)
# shipped factor values (klimainnkjop/data/factor_sets/*.csv), kg CO2e per NOK of 2026 or per litre
DFO = {"waste.treatment": 0.053627304347826095, "services.public_production": 0.01778890821256039,
       "construction.works": 0.02479850241545894, "goods.food": 0.02036864734299517,
       "services.travel": 0.02942813526570049}
EPA = {"goods.food.dairy": 0.11640746390603525, "construction.new_buildings": 0.022220590053043512,
       "construction.civil": 0.025793227033118288, "waste.treatment": 0.09988621109768583}
DIESEL, HVO = 3.1818299999999997, 0.5999699999999999  # DESNZ 2025, kg CO2e per litre


def shipped_art_functions() -> pa.Table:
    with open(SHIPPED_DATA / "mappings" / "kostra_art_function.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return pa.table({name: [r[name] for r in rows] for name in ("art", "function", "investment", "category")})


def shipped_parents() -> dict[str, str | None]:
    with open(SHIPPED_DATA / "categories.csv", encoding="utf-8") as fh:
        return {r["code"]: r["parent"] or None for r in csv.DictReader(fh, delimiter=";")}


def shipped_art_categories() -> dict[str, str]:
    with open(SHIPPED_DATA / "art_categories.csv", encoding="utf-8") as fh:
        return {r["art"]: r["category"] for r in csv.DictReader(fh, delimiter=";")}


@pytest.fixture(scope="module")
def con():
    backend = runner.connect()
    yield backend
    backend.disconnect()


def line_table(*rows: dict) -> pa.Table:
    defaults = {f.name: "" if pa.types.is_string(f.type) else None for f in INVOICE_LINE_SCHEMA}
    defaults.update(org=ORG, batch="b", source="kostra", year=2019, month=0, art="375", account="",
                    amount_ore=0, vat_ore=0, currency="NOK", investment=False)
    return pa.Table.from_pylist([{**defaults, "line_key": f"k{i}", **row} for i, row in enumerate(rows)],
                                schema=INVOICE_LINE_SCHEMA)


def spend(values: dict[str, float], tier: int) -> list[dict]:
    return [{"category": c, "year": y, "value": v, "low": v / 2, "high": v * 2, "price_year": 2026, "currency": "NOK",
             "ref": f"{c}@{tier}", "quality": 4 if tier == 1 else 5, "tier": tier}
            for c, v in values.items() for y in YEARS]


def activity(category: str, value: float) -> list[dict]:
    return [{"category": category, "year": y, "unit": "litre", "value": value, "low": value * 0.7,
             "high": value * 1.3, "ref": f"{category}@desnz", "quality": 3, "priority": 0} for y in YEARS]


def supplier(orgnr: str, value: float) -> list[dict]:
    return [{"supplier_orgnr": orgnr, "year": y, "value": value, "low": value / 2, "high": value * 2,
             "price_year": y, "currency": "NOK", "ref": "fuel-company", "quality": 2, "priority": 0} for y in YEARS]


RULES = pa.schema([("rule", pa.string()), ("kind", pa.string()), ("value", pa.string()), ("org", pa.string()),
                   ("category", pa.string()), ("priority", pa.int64())])


def results(con, *rows, spend_factors=(), activity_factors=(), supplier_factors=(), rules=(),
            art_functions=None, member_kinds=()) -> dict[str, dict]:
    tables = dict(
        lines=line_table(*rows),
        art_classes=runner.art_class_table(shipped_art_categories()),
        ancestors=runner.ancestor_table(shipped_parents()),
        spend_factors=pa.Table.from_pylist(list(spend_factors), schema=runner.SPEND_SCHEMA),
        activity_factors=pa.Table.from_pylist(list(activity_factors), schema=runner.ACTIVITY_SCHEMA),
        conversions=runner.conversion_table(),
        supplier_factors=pa.Table.from_pylist(list(supplier_factors), schema=runner.SUPPLIER_SCHEMA),
        prices=pa.table({"year": pa.array(list(CPI), pa.int32()), "cpi": pa.array(list(CPI.values()))}),
        rates=pa.table({"year": pa.array(list(CPI), pa.int32()), "currency": ["NOK"] * len(CPI),
                        "nok_per_unit": [1.0] * len(CPI)}),
        members=pa.table({"orgnr": pa.array([ORG, *(m for m, _ in member_kinds if m != ORG)], pa.string())}),
        member_kinds=pa.table({"orgnr": pa.array([m for m, _ in member_kinds], pa.string()),
                               "kind": pa.array([k for _, k in member_kinds], pa.string())}),
        rules=pa.Table.from_pylist(list(rules), schema=RULES),
        art_functions=shipped_art_functions() if art_functions is None else art_functions,
    )
    for name, data in tables.items():
        con.con.register(name, data)

    def build(lines, *rest):
        named = dict(zip(list(tables)[1:], rest))
        return pipeline.line_results(lines, *(named[n] for n in runner.LINE_RESULT_INPUTS), rules=named["rules"],
                                     art_functions=named["art_functions"], member_kinds=named["member_kinds"])

    sql = runner._plan(con, f"{__name__}.results", tuple(tables), build)
    out = con.con.sql(sql).to_arrow_table().to_pylist()
    return {r["line_key"]: r for r in out}


def to_2026(nok: float, year: int) -> float:
    return nok * CPI[2026] / CPI[year]


# --- 1. art × function → category -------------------------------------------------------------------------

FACTORS = spend(DFO, 1) + spend(EPA, 2)


def test_kongsvingers_household_waste_bought_from_its_joint_company_gets_the_waste_factor_not_hired_labour(con):
    rows = results(con,
                   {"art": "375", "function": "0355", "amount_ore": 20_700_000_00},  # as in the KOSTRA file
                   {"art": "375", "function": "355", "amount_ore": 20_700_000_00},   # as in a ledger
                   {"art": "375", "function": "3551", "amount_ore": 20_700_000_00},  # a ledger's sub-function
                   {"art": "375", "function": "120", "amount_ore": 1_000_000_00},   # administration
                   spend_factors=FACTORS)
    # 20.7 MNOK of 2019 × 141.0 / 110.8 = 26 342 960.3 NOK of 2026 × 0.053 627 3 = 1 412 653.5 kg
    waste_kg = to_2026(20_700_000, 2019) * DFO["waste.treatment"]
    assert waste_kg == pytest.approx(1_412_653.5, rel=1e-7)
    for key in ("k0", "k1", "k2"):
        row = rows[key]
        assert (row["category"], row["classification_rule"]) == ("waste.treatment", "kostra_art_function:375:355:")
        assert (row["method"], row["factor_rank"], row["factor_basis"]) == ("spend", 4, "spend")
        assert row["kg_co2e"] == pytest.approx(waste_kg, rel=1e-12)
    assert rows["k3"]["category"] == "services.public_production"
    assert rows["k3"]["classification_rule"] == "kostra_art:375"
    assert rows["k3"]["kg_co2e"] == pytest.approx(to_2026(1_000_000, 2019) * DFO["services.public_production"])
    # method v1 gave the waste the hired-labour factor: 0.017 789 instead of 0.053 627 kg/NOK
    v1 = results(con, {"art": "375", "function": "0355", "amount_ore": 20_700_000_00}, spend_factors=FACTORS,
                 art_functions=pa.table({c: pa.array([], pa.string()) for c in ("art", "function", "investment",
                                                                                   "category")}))["k0"]
    assert v1["category"] == "services.public_production"
    assert waste_kg / v1["kg_co2e"] == pytest.approx(DFO["waste.treatment"] / DFO["services.public_production"])


@pytest.mark.parametrize("line, category, rule", [
    ({"art": "370", "function": "0345"}, "waste.treatment.water_sewage", "kostra_art_function:370:34:"),
    ({"art": "350", "function": "0353"}, "waste.treatment.water_sewage", "kostra_art_function:350:353:"),
    ({"art": "270", "function": "0332"}, "construction.civil", "kostra_art_function:270:332:"),
    ({"art": "370", "function": "0223"}, "services.travel", "kostra_art_function:370:223:"),
    ({"art": "370", "function": "0253"}, "services.health", "kostra_art_function:370:253:"),
    ({"art": "230", "function": "0222", "investment": True}, "construction.new_buildings",
     "kostra_art_function:230::I"),
    ({"art": "230", "function": "0332", "investment": True}, "construction.civil", "kostra_art_function:230:332:I"),
    ({"art": "230", "function": "0222"}, "construction.works", "kostra_art:230"),   # maintenance of a school
    ({"art": "230", "function": "0345"}, "construction.civil", "kostra_art_function:230:34:D"),
    ({"art": "115", "function": "0253"}, "goods.food", "kostra_art:115"),            # food in an institution
    ({"art": "270", "function": "0355", "investment": True}, "waste.treatment", "kostra_art_function:270:355:"),
])
def test_the_function_refines_the_art_by_the_longest_prefix_then_the_investment_side(con, line, category, rule):
    row = results(con, {**line, "amount_ore": 100_000_00}, spend_factors=FACTORS)["k0"]
    assert (row["category"], row["classification_rule"]) == (category, rule)


def test_water_and_sewage_take_the_norwegian_factor_for_refuse_water_and_sewage_of_their_parent(con):
    row = results(con, {"art": "375", "function": "0350", "amount_ore": 1_000_000_00}, spend_factors=FACTORS)["k0"]
    assert (row["factor_category"], row["factor_ref"]) == ("waste.treatment", "waste.treatment@1")
    assert row["kg_co2e"] == pytest.approx(to_2026(1_000_000, 2019) * DFO["waste.treatment"], rel=1e-12)


def test_every_shipped_art_function_row_names_a_known_category_a_purchase_art_and_a_valid_code():
    from klimainnkjop.core import kostra

    parents = shipped_parents()
    table = shipped_art_functions().to_pylist()
    assert len(table) == len({(r["art"], r["function"], r["investment"]) for r in table}) == 103
    for r in table:
        assert r["category"] in parents, r
        assert kostra.exclusion_reason(r["art"]) is None, r
        assert parse_art_function_code(f"{r['art']}:{r['function']}:{r['investment']}") == (
            r["art"], r["function"], r["investment"])


@pytest.mark.parametrize("code", ["375:355", "37:355:", "375:35a:", "375:355:X", "375:35555:"])
def test_a_malformed_art_function_code_is_refused(code):
    with pytest.raises(ValueError):
        parse_art_function_code(code)


def test_a_kostra_file_line_follows_its_function_through_reference_data_and_compute(org, reference):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.services.compute import do_compute
    from tests.factories import do_import_kostra
    from klimainnkjop.storage.models import CategoryMapping
    from tests.factories import kostra_file, record

    assert CategoryMapping.objects.filter(scheme=KOSTRA_FUNCTION_SCHEME).count() == 103
    data = kostra_file(record(function="0355", art="375", kr=20_700), record(function="0120", art="375", kr=1_000))
    do_import_kostra(data=data, file_name="0402.dat", actor="test")
    do_compute(actor="test")
    rows = {r["category"]: r for r in totals(system_scope(), by=["category"])["rows"]}
    assert set(rows) == {"waste.treatment", "services.public_production"}
    assert rows["waste.treatment"]["kg_co2e"] == pytest.approx(to_2026(20_700_000, 2019) * DFO["waste.treatment"])
    assert rows["services.public_production"]["kg_co2e"] == pytest.approx(
        to_2026(1_000_000, 2019) * DFO["services.public_production"])


# --- 3. factor choice by quality --------------------------------------------------------------------------

def test_a_supplier_rule_placing_dairy_keeps_the_norwegian_food_factor_not_the_foreign_dairy_factor(con):
    dairy = {"source": "ledger", "year": 2024, "month": 3, "art": "115", "supplier_orgnr": SUPPLIER,
             "amount_ore": 79_455_00}
    rule = {"rule": "dairy-supplier", "kind": "supplier", "value": SUPPLIER, "org": "", "category": "goods.food.dairy",
            "priority": 0}
    row = results(con, dairy, spend_factors=FACTORS, rules=[rule])["k0"]
    assert (row["category"], row["factor_category"], row["factor_ref"]) == ("goods.food.dairy", "goods.food",
                                                                           "goods.food@1")
    assert (row["factor_rank"], row["factor_basis"]) == (4, "spend")
    # 79 455 NOK of 2024 × 141.0 / 133.6 = 83 856.1 NOK of 2026 × 0.020 369 = 1 708.0 kg (not 9 761.5 kg)
    assert row["kg_co2e"] == pytest.approx(79_455 * 141.0 / 133.6 * DFO["goods.food"], rel=1e-12)
    assert row["kg_co2e"] == pytest.approx(1_708.0, abs=0.1)
    # only without a Norwegian factor on its whole path does the foreign one count (rank 5)
    row = results(con, dairy, spend_factors=spend({"goods.food.dairy": EPA["goods.food.dairy"]}, 2),
                  rules=[rule])["k0"]
    assert (row["factor_ref"], row["factor_rank"], row["factor_basis"]) == ("goods.food.dairy@2", 5, "spend_fallback")


FUEL_RULES = [{"rule": "diesel", "kind": "keyword", "value": "diesel", "org": "", "category": "energy.fuel.diesel",
               "priority": 0},
              {"rule": "hvo", "kind": "keyword", "value": "hvo", "org": "", "category": "energy.fuel.hvo",
               "priority": 0}]
FUEL_ACTIVITY = activity("energy.fuel.diesel", DIESEL) + activity("energy.fuel.hvo", HVO)


def fuel(year: int, name: str, litres: float, nok: int) -> dict:
    return {"source": "ledger", "year": year, "month": 6, "art": "120", "supplier_orgnr": FUEL_SUPPLIER,
            "description": f"{name} anleggsmaskin", "quantity": litres, "quantity_unit": "litre", "amount_ore": nok * 100}


def test_litres_on_the_invoice_beat_a_fuel_suppliers_company_wide_kg_per_nok(con):
    rows = results(con, fuel(2024, "Diesel", 10_000.0, 200_000), {**fuel(2024, "Diesel", None, 200_000),
                                                                   "quantity_unit": ""},
                   spend_factors=FACTORS, activity_factors=FUEL_ACTIVITY,
                   supplier_factors=supplier(FUEL_SUPPLIER, 0.05), rules=FUEL_RULES)
    litres, no_quantity = rows["k0"], rows["k1"]
    assert (litres["method"], litres["factor_rank"], litres["factor_basis"]) == ("activity", 2, "activity")
    assert litres["kg_co2e"] == pytest.approx(10_000 * DIESEL, rel=1e-12)          # 31 818.3 kg
    # without litres the supplier's company-level intensity is the best there is: 200 000 NOK × 0.05 = 10 000 kg
    assert (no_quantity["method"], no_quantity["factor_rank"], no_quantity["factor_basis"]) == (
        "supplier", 3, "supplier_company")
    assert no_quantity["kg_co2e"] == pytest.approx(10_000.0, rel=1e-12)


def test_a_switch_from_diesel_to_hvo_at_equal_spend_shows_as_a_cut(con):
    rows = results(con, fuel(2023, "Diesel", 10_000.0, 200_000), fuel(2024, "HVO", 10_000.0, 200_000),
                   spend_factors=FACTORS, activity_factors=FUEL_ACTIVITY,
                   supplier_factors=supplier(FUEL_SUPPLIER, 0.05), rules=FUEL_RULES)
    before, after = rows["k0"]["kg_co2e"], rows["k1"]["kg_co2e"]
    assert (rows["k0"]["category"], rows["k1"]["category"]) == ("energy.fuel.diesel", "energy.fuel.hvo")
    assert before == pytest.approx(31_818.3, rel=1e-9) and after == pytest.approx(5_999.7, rel=1e-9)
    assert before - after == pytest.approx(10_000 * (DIESEL - HVO), rel=1e-12)  # a cut of 25 818.6 kg, 81 %
    # the supplier's company-wide figure would have shown both years at 10 000 kg: no cut at all
    assert rows["k0"]["amount_ore"] == rows["k1"]["amount_ore"]


def test_the_ranking_is_stated_once_best_first():
    assert pipeline.FACTOR_RANKS == {1: "supplier_product", 2: "activity", 3: "supplier_company", 4: "spend",
                                     5: "spend_fallback"}


# --- 7. no silent zero, nothing stuck ---------------------------------------------------------------------

COUNCIL = ("Date;Expense Code;Art;Supplier;Amount;Text\n"
           "01.03.2024;A100;115;Mat AS;7 000,00;Food\n"            # not a KOSTRA art in the column the profile reads
           "02.03.2024;B200;270;Konsulent AS;2 000,00;Advice\n"
           "03.03.2024;115000;115;Mat AS;1 000,00;Food\n")          # an account that starts with art 115
EXPENSE_CODES = {"name": "council", "columns": {"posting_date": "Date", "account": "Expense Code",
                                                 "supplier_name": "Supplier", "amount": "Amount",
                                                 "description": "Text"}}
ARTS = {"name": "council-arts", "columns": {"posting_date": "Date", "art": "Art", "supplier_name": "Supplier",
                                            "amount": "Amount", "description": "Text"}}


def test_an_unfamiliar_layout_warns_naming_the_columns_that_would_help_and_replace_reads_it_again(
        org, reference, tmp_path, admin_client):
    from tests.factories import do_save_profile
    from klimainnkjop.storage.models import AuditEntry, ImportBatch
    from tests.conftest import run_cli

    for spec in (EXPENSE_CODES, ARTS):
        do_save_profile(organisation=org, spec=spec, actor="test")
    path = tmp_path / "council-spend.csv"
    path.write_text(COUNCIL, encoding="utf-8")

    first = run_cli("import", "ledger", path, "--org", org.orgnr, "--profile", "council")
    assert first.returncode == 0 and "3 lines added" in first.stdout
    # 9 000 of 10 000 NOK (A100 and B200) have no KOSTRA art: 90 % > 20 %
    assert "council-spend.csv: warning: 90% of the spend (2 of 3 lines, NOK 9 000) has no KOSTRA art" in first.stdout
    assert ("The profile reads the art from the first three digits of column 'Expense Code' "
            "(values seen: 'A100', 'B200')." in first.stdout)
    assert "Columns that would help: 'art'" in first.stdout and "--replace" in first.stdout
    (batch,) = ImportBatch.objects.with_scopes_disabled().filter(organisation=org, status="done")
    assert batch.errors and "warning" in batch.errors[0]
    page = " ".join(admin_client.get(f"/org/{org.orgnr}/").content.decode().split())
    assert 'id="import-warnings"' in page
    assert ("council-spend.csv: mer enn en femtedel av beløpet mangler en KOSTRA-art regnskapet kjenner, og teller "
            "ikke.") in page

    again = run_cli("import", "ledger", path, "--org", org.orgnr, "--profile", "council-arts")
    assert again.returncode == 0
    assert "already imported (batch %d) (with profile 'council'); nothing added" % batch.pk in again.stdout
    assert "--replace" in again.stdout

    replaced = run_cli("import", "ledger", path, "--org", org.orgnr, "--profile", "council-arts", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert f"3 lines added, 0 already present, replacing batch {batch.pk}" in replaced.stdout
    assert "warning" not in replaced.stdout
    batch.refresh_from_db()
    (new,) = ImportBatch.objects.with_scopes_disabled().filter(organisation=org, status="done")
    assert (batch.status, new.profile_name, new.errors) == ("deleted", "council-arts", [])
    assert 'id="import-warnings"' not in admin_client.get(f"/org/{org.orgnr}/").content.decode()
    audit = AuditEntry.objects.get(action="replace_import")
    assert (audit.object_id, audit.after["replaced_by_profile"]) == (str(batch.pk), "council-arts")


def test_a_line_without_a_kostra_art_counts_where_the_classifier_is_confident_of_what_was_bought(con):
    coffee = {"source": "ledger", "year": 2024, "month": 3, "amount_ore": 10_000_00, "description": "Kaffe til kantina"}
    rows = results(con, {**coffee, "art": ""}, {**coffee, "art": "A12"}, {**coffee, "art": "", "description": "Diverse"},
                   spend_factors=FACTORS,
                   rules=[{"rule": "coffee", "kind": "keyword", "value": "kaffe", "org": "", "category": "goods.food",
                           "priority": 0}])
    for key in ("k0", "k1"):  # a user rule (confidence 0.95) places them: purchases of food
        assert (rows[key]["exclusion"], rows[key]["category"], rows[key]["method"]) == ("", "goods.food", "spend")
        assert rows[key]["kg_co2e"] == pytest.approx(10_000 * 141.0 / 133.6 * DFO["goods.food"], rel=1e-12)
    assert (rows["k2"]["exclusion"], rows["k2"]["kg_co2e"]) == ("unknown_art", 0.0)  # nothing places it


def test_no_warning_at_or_below_a_fifth_of_the_spend_without_an_art():
    from klimainnkjop.services.imports import uncategorised_warning

    assert uncategorised_warning("f.csv", ["115", "A12"], [800_00, 200_00]) is None          # 20 %: no warning
    assert uncategorised_warning("f.csv", ["115", "A12"], [799_00, 201_00]).startswith("f.csv: warning: 20% ")
    assert uncategorised_warning("f.csv", ["115", ""], [-500_00, 500_00]).startswith("f.csv: warning: 50% ")
    assert uncategorised_warning("f.csv", ["010", "115"], [900_00, 100_00]) is None           # wages are known


# --- 2. purchases between members without an orgnr --------------------------------------------------------

REGION = [(ORG, "kommune"), (GRUE, "kommune"), (IKS, "iks")]


def test_a_purchase_from_a_joint_company_without_orgnr_is_intra_region_where_an_iks_of_the_region_counts_that_year(
        con):
    rows = results(con,
                   {"art": "375", "function": "0355", "amount_ore": 20_700_000_00},          # k0 2019: IKS counts
                   {"org": IKS, "art": "270", "function": "0355", "amount_ore": 15_000_000_00},  # k1 the IKS's own
                   {"art": "375", "year": 2023, "amount_ore": 1_000_00},                      # k2 no IKS lines 2023
                   {"art": "375", "supplier_orgnr": SUPPLIER, "amount_ore": 1_000_00},        # k3 a known outsider
                   {"org": IKS, "art": "375", "amount_ore": 1_000_00},                        # k4 the only IKS
                   {"art": "350", "amount_ore": 1_000_00},                                    # k5 Grue has no lines
                   {"art": "370", "amount_ore": 1_000_00},                                    # k6 bought from others
                   spend_factors=FACTORS, member_kinds=REGION)
    assert {k: r["intra_region"] for k, r in rows.items()} == {
        "k0": True, "k1": False, "k2": False, "k3": False, "k4": False, "k5": False, "k6": False}
    assert rows["k0"]["kg_co2e"] > 0  # the organisation's own total keeps it


def test_a_purchase_from_another_municipality_is_intra_region_where_that_municipality_counts_the_same_year(con):
    rows = results(con, {"art": "350", "function": "0253", "amount_ore": 500_000_00},       # k0 Kongsvinger buys
                   {"org": GRUE, "art": "115", "amount_ore": 100_000_00},                    # k1 Grue's own 2019
                   {"org": GRUE, "art": "350", "amount_ore": 100_000_00},                    # k2 Grue buys too
                   {"art": "350", "year": 2023, "amount_ore": 100_000_00},                   # k3 Grue: none in 2023
                   {"art": "350", "org": IKS, "amount_ore": 100_000_00},                     # k4 an IKS buys
                   spend_factors=FACTORS, member_kinds=REGION)
    assert {k: r["intra_region"] for k, r in rows.items()} == {
        "k0": True, "k1": False, "k2": True, "k3": False, "k4": True}


def test_a_region_of_a_municipality_and_its_joint_company_counts_a_purchase_between_them_once(reference):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.services.compute import do_compute
    from tests.factories import do_import_kostra
    from klimainnkjop.services.organisations import do_create_organisation
    from tests.factories import kostra_file, record

    kommune = do_create_organisation(orgnr=ORG, name="Kongsvinger kommune", kostra_region="0402",
                                     region_name="Kongsvingerregionen", actor="test")
    iks = do_create_organisation(orgnr="974760673", name="Glør IKS", kind="iks", region_name="Kongsvingerregionen",
                                 actor="test")
    # Kongsvinger buys household waste handling from its joint company for 20.7 MNOK; the company's own
    # purchases (transport and treatment, 15 MNOK) are where the emissions of that service are counted
    do_import_kostra(data=kostra_file(record(function="0355", art="375", kr=20_700)), file_name="0402.dat",
                     actor="test")
    do_import_kostra(data=kostra_file(record(region="040200", orgnr="974760673", function="0355", art="270",
                                             kr=15_000)), organisation=iks, file_name="glor.dat", actor="test")
    run = do_compute(actor="test")
    scope = system_scope()
    (region,) = totals(scope)["rows"]
    assert region["spend_nok"] == 15_000_000.0
    assert region["kg_co2e"] == pytest.approx(to_2026(15_000_000, 2019) * DFO["waste.treatment"])
    (own,) = totals(scope, org=kommune.orgnr)["rows"]
    assert own["spend_nok"] == 20_700_000.0
    assert own["kg_co2e"] == pytest.approx(to_2026(20_700_000, 2019) * DFO["waste.treatment"])
    # the run's combined ranges (uncertainty/): one row per organisation × year × investment, the median
    # inside its 95 % range
    import pyarrow.parquet as pq
    from klimainnkjop.storage import linestore

    ranges = pq.read_table(linestore.absolute(run.result_dir) / "uncertainty").to_pylist()
    assert [(r["org"], r["year"], r["investment"]) for r in ranges] == [(ORG, 2019, False), (iks.orgnr, 2019, False)]
    for r in ranges:
        assert r["kg_p025"] < r["kg_co2e"] < r["kg_mean"] < r["kg_p975"]
    assert ranges[0]["kg_co2e"] == pytest.approx(own["kg_co2e"])


# --- the method page states every rule, in bokmål -------------------------------------------------------

@pytest.mark.django_db
def test_the_method_page_states_art_by_function_the_ranking_intra_region_and_no_silent_zero_in_norwegian(client):
    html = " ".join(client.get("/metode/").content.decode().split())
    for phrase in [
        "KOSTRA-art og funksjon sammen", "husholdningsavfall (funksjon 355)", "vannforsyning (340, 345)",
        "kommunale veier (332)", "skoleskyss (330, 223)", "helse og omsorg (232, 233, 234, 241, 253, 254, 256)",
        "Byggearbeid (art 230) på investeringslinjer regnes som nybygg", "Matvarer (art 115) er mat uansett funksjon",
        "Hvilken faktor: rangert etter kvaliteten på dataene", "Leverandørens data per produkt.",
        "Aktivitetsbasert.", "Leverandørens utslipp per krone for hele selskapet.", "Norsk kostnadsbasert.",
        "Utenlandsk kostnadsbasert reserve.", "et bytte fra diesel til HVO",
        "Ingen stille null: Hvis mer enn 20 prosent", "(--replace)",
        "kjøp fra interkommunale selskaper (art 375) utenfor regionens sum",
        "kjøp fra andre kommuner (art 350) når en annen kommune i regionen har det", "(intra_region)",
        "Usikkerhet ut fra dataene", "pedigree-matrisen i ecoinvent-databasen", "simulering av linjene (Monte Carlo)",
        "for hvert år fra 2010", "Den europeiske sentralbankens daglige kurser",
        "En linje uten kjent art regnes likevel som et kjøp", "minst 80 prosent sikker",
        "den andre faktoren ligger innenfor linjens intervall på 95 prosent",
        "Strøm oppgitt i kilowattimer bruker NVEs tall", "19 i 2022 og 15 i 2023",
    ]:
        assert phrase in html, phrase
    ranks = html.index("Leverandørens data per produkt."), html.index("Aktivitetsbasert."), \
        html.index("Leverandørens utslipp per krone for hele selskapet."), html.index("Norsk kostnadsbasert."), \
        html.index("Utenlandsk kostnadsbasert reserve.")
    assert list(ranks) == sorted(ranks)  # in the order of pipeline.FACTOR_RANKS


# --- 8. exchange rates for every supported year -----------------------------------------------------------

def test_the_shipped_exchange_rates_are_re_created_by_their_script(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("derive_exchange_rates",
                                                  SHIPPED_DATA.parent.parent / "scripts" / "derive_exchange_rates.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(tmp_path / "rates.csv").read_bytes() == (SHIPPED_DATA / "exchange_rates.csv").read_bytes()


def test_every_common_currency_has_a_rate_for_every_year_of_the_price_index():
    with open(SHIPPED_DATA / "exchange_rates.csv", encoding="utf-8") as fh:
        rates = {(int(r["year"]), r["currency"]): float(r["nok_per_unit"]) for r in csv.DictReader(fh, delimiter=";")}
    with open(SHIPPED_DATA / "price_index.csv", encoding="utf-8") as fh:
        years = [int(r["year"]) for r in csv.DictReader(fh, delimiter=";")]
    assert years == list(range(2010, 2027))
    for year in years:
        for currency in ("EUR", "USD", "SEK", "DKK", "GBP", "CHF", "PLN", "JPY"):
            assert (year, currency) in rates, (year, currency)
    # Norges Bank's own figures are kept where the project has them
    assert (rates[(2022, "EUR")], rates[(2022, "USD")], rates[(2024, "EUR")]) == (10.1026, 9.6245, 11.629)
    # DKK 2019 from the ECB's daily rates: its annual averages were 9.8511 NOK and 7.4661 DKK per EUR, so about
    # 9.8511 / 7.4661 = 1.31945 NOK per DKK (the mean of the daily ratios differs from the ratio of the means)
    assert rates[(2019, "DKK")] == pytest.approx(9.8511 / 7.4661, rel=2e-4)


def test_an_invoice_in_dkk_for_2019_is_converted_and_a_currency_without_rates_stays_a_clear_error(org, reference):
    from klimainnkjop.importers.errors import ImportRejected
    from tests.factories import import_ledger

    profile = {"name": "dkk", "columns": {"posting_date": "Dato", "account": "Konto", "amount": "Beløp",
                                          "currency": "Valuta", "description": "Tekst"}}
    result = import_ledger(org, "Dato;Konto;Beløp;Valuta;Tekst\n01.06.2019;115000;1 000,00;DKK;Smør\n",
                           "dkk.csv", profile=profile)
    assert result.lines_added == 1
    import pyarrow.parquet as pq
    from klimainnkjop.storage import linestore

    (line,) = pq.read_table(linestore.absolute(result.batch.parquet_path)).to_pylist()
    assert (line["currency"], line["amount_orig_minor"], line["amount_ore"]) == ("DKK", 100_000, 131_944)
    with pytest.raises(ImportRejected) as caught:
        import_ledger(org, "Dato;Konto;Beløp;Valuta;Tekst\n01.06.2019;115000;1 000,00;ISK;Fisk\n", "isk.csv",
                      profile=profile)
    assert "no exchange rate ISK→NOK for 2019" in str(caught.value)


# --- 5. uncertainty from data -----------------------------------------------------------------------------

def test_a_lines_spread_comes_from_the_pedigree_of_its_factor_and_the_confidence_of_its_category(con):
    import math

    rows = results(con, {"art": "375", "function": "0355", "amount_ore": 20_700_000_00},
                   fuel(2024, "Diesel", 10_000.0, 200_000), spend_factors=FACTORS, activity_factors=FUEL_ACTIVITY,
                   rules=FUEL_RULES)
    # waste, Norwegian spend (rank 4): basic 1.5; reliability 4 → 1.20; completeness 3 → 1.05; time 2019 vs price
    # year 2026, 7 years → 3 → 1.10; geography Norway 1 → 1.00; technology the category's own factor 3 → 1.20;
    # the KOSTRA art × function's confidence 0.5 → 1 + 0.5 / 2 = 1.25
    waste = math.log(1.5) ** 2 + math.log(1.2) ** 2 + math.log(1.05) ** 2 + math.log(1.1) ** 2 + math.log(1.2) ** 2 \
        + math.log(1.25) ** 2
    assert rows["k0"]["sigma_ln"] == pytest.approx(math.sqrt(waste), rel=1e-12)               # 0.540 5
    # the EPA's waste factor, a second plausible one, 0.099 886 against 0.053 627 kg/NOK (both in 2026 kroner
    # here): ln R = 0.622, inside the 95 % range already (1.96 × 0.540 5 = 1.059), so no wider
    # diesel litres (rank 2): basic 1.05; reliability 3 → 1.10; completeness 2 → 1.02; time 2 → 1.03; UK factor,
    # geography 3 → 1.02; technology 2 → 1.05; a keyword rule's confidence 0.95 → 1.025
    diesel = math.log(1.05) ** 2 + math.log(1.1) ** 2 + math.log(1.02) ** 2 + math.log(1.03) ** 2 \
        + math.log(1.02) ** 2 + math.log(1.05) ** 2 + math.log(1.025) ** 2
    assert rows["k1"]["sigma_ln"] == pytest.approx(math.sqrt(diesel), rel=1e-12)      # 0.124 5


def test_where_two_plausible_factors_disagree_the_other_lies_at_the_edge_of_the_lines_95_percent_range(con):
    import math

    dairy = {"source": "ledger", "year": 2024, "month": 3, "art": "115", "supplier_orgnr": SUPPLIER,
             "amount_ore": 79_455_00}
    rule = {"rule": "dairy-supplier", "kind": "supplier", "value": SUPPLIER, "org": "",
            "category": "goods.food.dairy", "priority": 0}
    row = results(con, dairy, spend_factors=FACTORS, rules=[rule])["k0"]
    # DFØ's food factor 0.020 369 (used, rank 4) against the EPA's dairy factor 0.116 407: ln R = 1.743 1, more
    # than the pedigree's 1.96 sigma, so sigma = 1.743 1 / 1.96 = 0.889 4
    ratio = EPA["goods.food.dairy"] / DFO["goods.food"]
    assert row["sigma_ln"] == pytest.approx(math.log(ratio) / 1.959963984540054, rel=1e-12)
    assert row["sigma_ln"] == pytest.approx(0.8894, abs=1e-4)
    epa_kg = 79_455 * 141.0 / 133.6 * EPA["goods.food.dairy"]
    assert row["kg_co2e"] * math.exp(1.959963984540054 * row["sigma_ln"]) == pytest.approx(epa_kg, rel=1e-12)


def test_a_totals_range_agrees_with_a_monte_carlo_of_its_lines_within_5_percent(con):
    import numpy as np

    rows = results(con,
                   {"art": "375", "function": "0355", "amount_ore": 2_000_000_00},            # waste, factor W
                   {"art": "270", "function": "0355", "amount_ore": 1_500_000_00},            # waste again: W
                   {"art": "375", "function": "0120", "amount_ore": 3_000_000_00},            # hired labour
                   {"art": "230", "function": "0222", "investment": True, "amount_ore": 4_000_000_00},
                   {"source": "ledger", "art": "115", "year": 2024, "supplier_orgnr": SUPPLIER,
                    "amount_ore": 800_000_00},                                                 # dairy
                   fuel(2024, "Diesel", 30_000.0, 600_000), fuel(2023, "Diesel", 20_000.0, 400_000),  # diesel: D
                   spend_factors=spend(DFO, 1) + spend({"goods.food.dairy": EPA["goods.food.dairy"]}, 2),
                   activity_factors=FUEL_ACTIVITY, rules=FUEL_RULES + [
                       {"rule": "dairy", "kind": "supplier", "value": SUPPLIER, "org": "",
                        "category": "goods.food.dairy", "priority": 0}])
    lines = pa.Table.from_pylist(list(rows.values()))
    con.con.register("mc_lines", lines)
    sql = runner._plan(con, f"{__name__}.uncertain_totals", ("mc_lines",),
                       lambda t: pipeline.uncertain_totals(t, ["org"]))
    (total,) = con.con.sql(sql).to_arrow_table().to_pylist()
    assert total["kg_co2e"] == pytest.approx(sum(r["kg_co2e"] for r in rows.values()), rel=1e-12)

    # Monte Carlo: one standard normal draw per factor (lines of the same factor move together), independent
    # between factors; each line lognormal with its median kg and its sigma
    rng = np.random.default_rng(15)
    factors = sorted({r["factor_ref"] for r in rows.values()})
    assert len(factors) == 5 and sum(r["factor_ref"] == "waste.treatment@1" for r in rows.values()) == 2
    draws = {f: rng.standard_normal(400_000) for f in factors}
    simulated = sum(r["kg_co2e"] * np.exp(r["sigma_ln"] * draws[r["factor_ref"]]) for r in rows.values())
    low, high = np.percentile(simulated, [2.5, 97.5])
    assert total["kg_mean"] == pytest.approx(simulated.mean(), rel=0.01)
    assert total["kg_p025"] == pytest.approx(low, rel=0.05)
    assert total["kg_p975"] == pytest.approx(high, rel=0.05)
    # adding the lines' own 95 % ranges (full correlation everywhere) would be wider than the combined range
    added_high = sum(r["kg_co2e"] * np.exp(1.959964 * r["sigma_ln"]) for r in rows.values())
    assert total["kg_p975"] < added_high


def test_the_line_page_says_why_this_factor(region_data, admin_client):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.lines import lines

    org, _ = region_data
    rows = lines(system_scope(), org=org.orgnr)
    works = next(r for r in rows if r["art"] == "230")  # Kongsvinger's school building, an investment
    page = " ".join(admin_client.get(f"/org/{org.orgnr}/linje/{works['line_key']}/").content.decode().split())
    # new buildings have no Norwegian factor of their own: the nearest broader category's, construction works
    assert ('<th scope="row">Hvorfor denne faktoren</th><td id="factor-why">Nivå 4: den norske kostnadsfaktoren for '
            'kategorien eller nærmeste bredere kategori – Bygg- og anleggsarbeider</td>') in page


# --- 4. electricity: NVE's location-based figure per year -------------------------------------------------

def test_the_nve_set_is_re_created_by_its_script_from_the_quoted_sentences(tmp_path):
    import importlib.util
    import sys

    scripts = SHIPPED_DATA.parent.parent / "scripts"
    sys.path.insert(0, str(scripts))
    spec = importlib.util.spec_from_file_location("derive_nve", scripts / "derive_nve_electricity_location.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = script.main(out=tmp_path / "nve.csv")
    assert out.read_bytes() == (SHIPPED_DATA / "factor_sets" / "nve-electricity-location.csv").read_bytes()
    assert {r["valid_from"]: r["value"] for r in script.build_rows()} == {
        2019: 0.017, 2020: 0.008, 2021: 0.011, 2022: 0.019, 2023: 0.015}


def test_electricity_in_kwh_takes_nves_figure_for_its_year_and_the_working_figure_where_nve_has_none(org, reference):
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.results import totals
    from klimainnkjop.services.compute import do_compute
    from tests.factories import import_ledger

    profile = {"name": "kwh", "columns": {"posting_date": "Dato", "account": "Konto", "amount": "Beløp",
                                          "quantity": "Mengde", "quantity_unit": "Enhet", "description": "Tekst"}}
    import_ledger(org, "Dato;Konto;Beløp;Mengde;Enhet;Tekst\n"
                       "15.03.2022;180000;150 000,00;100000;kWh;Strøm skole\n"
                       "15.03.2024;180000;120 000,00;100000;kWh;Strøm skole\n", "power.csv", profile=profile)
    do_compute(actor="test")
    rows = {r["year"]: r for r in totals(system_scope(), by=["year", "method"])["rows"]}
    assert rows[2022]["method"] == rows[2024]["method"] == "activity"
    assert rows[2022]["kg_co2e"] == pytest.approx(100_000 * 0.019)   # NVE 2022: 19 g/kWh, 1 900 kg
    assert rows[2024]["kg_co2e"] == pytest.approx(100_000 * 0.009)   # no NVE figure: the DESNZ set's 9 g/kWh
