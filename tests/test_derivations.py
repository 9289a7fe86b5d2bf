"""The shipped factor sets are re-created exactly from the raw files kept in the repository."""

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "klimainnkjop" / "data"
RAW = DATA / "raw"
SETS = {
    "dfo-klimaintensiteter": "derive_dfo_klimaintensiteter",
    "epa-useeio-nok": "derive_epa_useeio_nok",
    "desnz-2025-activity": "derive_desnz_2025_activity",
    "poore-nemecek-2018-food": "derive_poore_nemecek_2018_food",
}
REQUIRED_META = ["name", "version", "publisher", "licence", "attribution", "gwp_basis", "description", "role"]


def load_script(module):
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(module, ROOT / "scripts" / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_set(path):
    meta, body = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            key, _, value = line[2:].partition(": ")
            meta[key] = value
        else:
            body.append(line)
    return meta, list(csv.DictReader(body, delimiter=";"))


def category_codes():
    codes = set()
    for path in (DATA / "categories.csv", DATA / "mappings" / "categories_proposed.csv"):
        with open(path, encoding="utf-8") as f:
            codes |= {r["code"] for r in csv.DictReader(f, delimiter=";")}
    return codes


def shipped(name):
    return parse_set(DATA / "factor_sets" / f"{name}.csv")


def by_key(rows, key):
    return [r for r in rows if r["key"] == key]


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_derivation_script_reproduces_its_shipped_file_byte_for_byte(name, tmp_path):
    out = load_script(SETS[name]).main(out=tmp_path / f"{name}.csv")
    assert out.read_bytes() == (DATA / "factor_sets" / f"{name}.csv").read_bytes()


@pytest.mark.parametrize("name", sorted(SETS))
def test_check_mode_reports_an_up_to_date_file_with_exit_status_0(name):
    assert load_script(SETS[name]).fs.run(name, load_script(SETS[name]).main, ["--check"]) == 0


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_set_carries_all_metadata_with_its_licence_and_attribution(name):
    meta, _ = shipped(name)
    assert [k for k in REQUIRED_META if not meta.get(k)] == []
    assert meta["name"] == name


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_key_is_a_category_of_the_taxonomy_or_a_proposed_one(name):
    _, rows = shipped(name)
    assert rows and {r["key"] for r in rows} <= category_codes()


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_row_has_a_positive_value_between_low_and_high(name):
    _, rows = shipped(name)
    for r in rows:
        value, low, high = float(r["value"]), float(r["low"]), float(r["high"])
        assert 0 < low <= value <= high, r


@pytest.mark.parametrize("name", sorted(SETS))
def test_spend_rows_have_a_price_year_and_currency_and_activity_rows_none(name):
    _, rows = shipped(name)
    for r in rows:
        if r["basis"] == "spend":
            assert r["price_year"].isdigit() and r["unit"] in {"NOK", "USD", "EUR", "GBP"}, r
        else:
            assert r["basis"] == "activity" and r["price_year"] == "", r


@pytest.mark.parametrize("name", sorted(SETS))
def test_files_have_no_trailing_spaces_and_end_with_a_newline(name):
    text = (DATA / "factor_sets" / f"{name}.csv").read_text(encoding="utf-8")
    assert text.endswith("\n") and all(line == line.rstrip() for line in text.splitlines())


def test_roles_and_licences_are_the_ones_of_the_sources():
    roles = {name: shipped(name)[0]["role"] for name in SETS}
    assert roles == {"dfo-klimaintensiteter": "spend-default", "epa-useeio-nok": "spend-fallback",
                     "desnz-2025-activity": "activity", "poore-nemecek-2018-food": "activity"}
    assert shipped("dfo-klimaintensiteter")[0]["attribution"] == (
        "Klimaintensiteter Norge, Sea Breeze Electrical Consulting AS, based on emission factors published by DFØ")
    assert "Open Government Licence v3.0" in shipped("desnz-2025-activity")[0]["licence"]
    assert shipped("poore-nemecek-2018-food")[0]["licence"] == "CC BY 4.0"


def test_the_dfo_food_factor_equals_the_raw_dfo_canteen_row():
    with open(RAW / "dfo-2026" / "factors.csv", encoding="utf-8") as f:
        raw = {r["factor_id"]: r for r in csv.DictReader(f, delimiter=";")}
    assert raw["spend_5911_591"]["factor_value"] == "0.02036864734299517"
    (food,) = by_key(shipped("dfo-klimaintensiteter")[1], "goods.food")
    assert food["value"] == raw["spend_5911_591"]["factor_value"] and "spend_5911_591" in food["source_ref"]
    assert (food["unit"], food["price_year"], food["quality"]) == ("NOK", "2026", "4")


def test_the_raw_dfo_table_is_complete():
    text = (RAW / "dfo-2026" / "factors.csv").read_text(encoding="utf-8")
    assert text.startswith("factor_id;konto_ns_4102;") and text.endswith("do not CPI-adjust\"\n")
    assert len(text) == 34240 and text.count("\n") == 126


def test_every_kostra_category_gets_the_dfo_factor_its_arts_are_bridged_to():
    with open(RAW / "dfo-2026" / "factors.csv", encoding="utf-8") as f:
        raw = {r["factor_id"]: r["factor_value"] for r in csv.DictReader(f, delimiter=";")}
    with open(DATA / "mappings" / "kostra_art_to_dfo.csv", encoding="utf-8") as f:
        bridge = {r["kostra_art"]: r["dfo_factor_id"] for r in csv.DictReader(f, delimiter=";")}
    with open(DATA / "art_categories.csv", encoding="utf-8") as f:
        arts = list(csv.DictReader(f, delimiter=";"))
    rows = {r["key"]: r for r in shipped("dfo-klimaintensiteter")[1]}
    for a in arts:
        assert rows[a["category"]]["value"] == raw[bridge[a["art"]]], a


def test_the_dfo_provisional_choices_are_kept():
    with open(DATA / "provisional-dfo.csv", encoding="utf-8") as f:
        provisional = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter=";"))
    rows = {r["key"]: r for r in shipped("dfo-klimaintensiteter")[1]}
    assert provisional
    for p in provisional:
        assert rows[p["key"]]["value"] == p["value"], p


def test_desnz_diesel_is_combustion_plus_well_to_tank_of_the_raw_flat_file():
    with open(RAW / "desnz-ghg-conversion-factors-2025" / "ghg-conversion-factors-2025-flat-format.csv",
              encoding="utf-8-sig") as f:
        raw = {r["ID"]: float(r["GHG Conversion Factor 2025"]) for r in csv.DictReader(f) if r["GHG Conversion Factor 2025"]}
    (diesel,) = by_key(shipped("desnz-2025-activity")[1], "energy.fuel.diesel")
    assert float(diesel["value"]) == pytest.approx(raw["1_101_1011_8_1"] + raw["11_101_1011_8_1"])
    assert diesel["unit"] == "litre"
    assert 3.0 < float(diesel["value"]) < 3.4


def test_electricity_is_the_norwegian_location_based_factor_and_names_the_market_based_one():
    rows = by_key(shipped("desnz-2025-activity")[1], "energy.electricity")
    assert [(r["value"], r["unit"], r["region"]) for r in rows] == [("0.009", "kWh", "NO")]
    assert "location-based" in rows[0]["note"] and "market-based" in rows[0]["note"] and "0.018" in rows[0]["note"]


def test_poore_nemecek_beef_is_the_raw_beef_herd_total():
    with open(RAW / "owid-poore-nemecek-2018" / "Food_Production.csv", encoding="utf-8") as f:
        raw = {r["Food product"]: r["Total_emissions"] for r in csv.DictReader(f)}
    (beef,) = by_key(shipped("poore-nemecek-2018-food")[1], "goods.food.beef")
    assert float(beef["value"]) == float(raw["Beef (beef herd)"])
    assert (beef["unit"], beef["region"], beef["quality"]) == ("kg", "GLO", "3")


def test_epa_factors_are_per_nok_2022_within_the_range_of_their_naics_codes():
    with open(RAW / "epa-supply-chain-factors-v1.3" / "SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv",
              encoding="utf-8-sig") as f:
        epa = {r["2017 NAICS Code"]: float(r["Supply Chain Emission Factors with Margins"]) for r in csv.DictReader(f)}
    # NACE 21 (pharmaceuticals) is reached only from NAICS 3254xx and 339113 in the bridge
    with open(RAW / "eurostat-classifications" / "NAICS2017_NACE.csv", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        naics = {rec[0] for rec in reader if rec[1].startswith("21")}
    (pharma,) = by_key(shipped("epa-useeio-nok")[1], "goods.medical.pharmaceuticals")
    per_usd = float(pharma["value"]) * 9.6245
    assert min(epa[n] for n in naics) <= per_usd <= max(epa[n] for n in naics)
    assert (pharma["unit"], pharma["price_year"], pharma["region"], pharma["quality"]) == ("NOK", "2022", "US", "5")
    assert "non-Norwegian fallback" in pharma["note"]


@pytest.mark.parametrize("mapping,scheme", [("nace_to_category", "nace"), ("cpv_to_category", "cpv"),
                                            ("unspsc_to_category", "unspsc")])
def test_mapping_tables_name_taxonomy_categories_once_per_code(mapping, scheme):
    with open(DATA / "mappings" / f"{mapping}.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert list(rows[0]) == ["scheme", "code", "category", "note"]
    assert {r["scheme"] for r in rows} == {scheme}
    assert {r["category"] for r in rows} <= category_codes()
    assert len({r["code"] for r in rows}) == len(rows)


def test_every_cpv_prefix_exists_in_the_cpv_2008_list():
    with open(RAW / "cpv-2008" / "cpv_2008_en.csv", encoding="utf-8-sig") as f:
        codes = [r["CODE"].split("-")[0] for r in csv.DictReader(f)]
    with open(DATA / "mappings" / "cpv_to_category.csv", encoding="utf-8") as f:
        prefixes = [r["code"] for r in csv.DictReader(f, delimiter=";")]
    assert [p for p in prefixes if not any(c.startswith(p) for c in codes)] == []


def test_the_longest_cpv_prefix_wins():
    fs = load_script("derive_epa_useeio_nok").fs
    mapping = fs.load_mapping(DATA / "mappings" / "cpv_to_category.csv", "cpv")
    assert fs.longest_prefix(mapping, "15111100") == "goods.food.beef"
    assert fs.longest_prefix(mapping, "15119300") == "goods.food.other"
    assert fs.longest_prefix(mapping, "15000000") == "goods.food"
    assert fs.longest_prefix(mapping, "44114220") == "goods.building_materials.concrete"


def test_every_kostra_purchase_art_is_in_the_dfo_bridge():
    with open(DATA / "kostra_arts.csv", encoding="utf-8") as f:
        arts = {r["art"] for r in csv.DictReader(f, delimiter=";") if "100" <= r["art"] <= "379"}
    with open(DATA / "mappings" / "kostra_art_to_dfo.csv", encoding="utf-8") as f:
        bridged = {r["kostra_art"] for r in csv.DictReader(f, delimiter=";")}
    assert arts == bridged
