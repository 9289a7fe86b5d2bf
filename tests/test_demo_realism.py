"""The demo looks like a real region (issue 18 item 5): a line's text, supplier, art, function and unit fit together.
Read back from the generated files (the ledger exports a person would open), not from the generator's memory."""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from klimainnkjop.demo import region as R
from klimainnkjop.demo.generate import generate
from tests.conftest import DEMO

DATA = Path(__file__).resolve().parent.parent / "klimainnkjop" / "data"
UNRELATED_SHARE = 0.10  # "a small share": at most this much of a supplier's spend in categories unrelated to its main
# categories of different families that one trade sells together (a contractor: works, materials and service)
RELATED = [{"construction", "services.maintenance", "goods.building_materials"},
           {"goods.vehicles", "services.travel"}, {"goods.equipment", "services.rental_equipment"}]
WASTE_SUPPLIERS = {R.SUPPLIERS["recycle"].orgnr, R.SUPPLIERS["incinerate"].orgnr}


def _rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";"))


ART_CATEGORY = {r["art"]: r["category"] for r in _rows("art_categories.csv")}
ART_FUNCTION = [r for r in _rows("mappings/kostra_art_function.csv") if not r["investment"]]


def category(art: str, function: str) -> str:
    """What a line buys: the art's category; for art 370 (purchases for the organisation's own production) the
    function's, as the account maps it (data/mappings/kostra_art_function.csv, longest prefix)."""
    if art == "370":
        found = [r for r in ART_FUNCTION if r["art"] == art and function.startswith(r["function"])]
        if found:
            return max(found, key=lambda r: len(r["function"]))["category"]
    return ART_CATEGORY[art]


def _key(cat: str) -> str:
    return "construction" if cat.startswith("construction") else ".".join(cat.split(".")[:2])


def related(a: str, b: str) -> bool:
    return a.split(".")[0] == b.split(".")[0] or any(_key(a) in g and _key(b) in g for g in RELATED)


def unrelated_shares(lines) -> dict[str, tuple[str, float]]:
    """Per supplier: its main category (most spend) and the share of its spend in categories unrelated to it."""
    spend: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ln in lines:
        spend[ln.supplier_name][category(ln.art, ln.function)] += abs(ln.amount_minor)
    out = {}
    for supplier, by_category in spend.items():
        main = max(by_category, key=by_category.get)
        total = sum(by_category.values())
        out[supplier] = (main, sum(v for c, v in by_category.items() if not related(main, c)) / total)
    return out


@pytest.fixture(scope="module")
def demo_lines(tmp_path_factory):
    """Every purchase line (KOSTRA art 100-379) bought outside the region, read from the generated ledger files
    with each organisation's profile, with the organisation's units."""
    from klimainnkjop.importers.ledger import Profile, parse_ledger

    manifest = generate(tmp_path_factory.mktemp("demo"), scale=DEMO["scale"], seed=DEMO["seed"],
                        today=DEMO["today"])
    own = {o.orgnr for o in R.ORGS}
    out = []
    for entry in manifest.files:
        profile = Profile.from_spec(manifest.profiles[entry.org_key])
        parsed = parse_ledger((manifest.directory / entry.path).read_bytes(), Path(entry.path).name, profile)
        units = {u.code: u for u in R.ORGS_BY_KEY[entry.org_key].units}
        out += [(entry.org_key, units.get(ln.unit), ln) for ln in parsed.lines
                if ln.supplier_orgnr and ln.supplier_orgnr not in own and R.is_purchase_art(ln.art)]
    return out


def test_no_supplier_sells_in_unrelated_categories_beyond_a_small_share(demo_lines):
    shares = unrelated_shares([ln for _, _, ln in demo_lines])
    assert len(shares) >= 50
    assert {s: v for s, v in shares.items() if v[1] > UNRELATED_SHARE} == {}


def test_the_check_fails_on_the_waste_lines_bought_from_a_temp_agency_and_booked_at_culture():
    class Line:
        def __init__(self, supplier, art, function, amount):
            self.supplier_name, self.art, self.function, self.amount_minor = supplier, art, function, amount

    lines = [Line("Vikarbyrået", "370", "355", 148), Line("Vikarbyrået", "270", "120", 500),
             Line("Vikarbyrået", "370", "253", 352), Line("Kontorlandet", "100", "120", 90),
             Line("Kontorlandet", "120", "202", 10)]
    shares = unrelated_shares(lines)
    assert shares["Vikarbyrået"] == ("services.other", pytest.approx(148 / 1000))  # waste next to staffing
    assert shares["Kontorlandet"] == ("goods.office", 0.0)  # office supplies and consumables: both goods
    assert related("construction.works", "goods.building_materials") and not related("goods.food", "waste.treatment")


def test_every_waste_treatment_line_comes_from_a_waste_company_and_is_booked_on_a_waste_function(demo_lines):
    treatment = re.compile(r"(behandling|mottak|sortering|forbrenning|energigjenvinning) av \w*avfall")
    waste = [(org, unit, ln) for org, unit, ln in demo_lines if treatment.search(ln.description.lower())]
    assert len(waste) >= 10
    for org, _unit, ln in waste:
        assert ln.supplier_orgnr in WASTE_SUPPLIERS, (org, ln.description, ln.supplier_name)
        assert ln.function.startswith(("355", "354")), (org, ln.description, ln.function)
    assert not [ln for _, _, ln in demo_lines if ln.supplier_orgnr in WASTE_SUPPLIERS
                and category(ln.art, ln.function).split(".")[0] != "waste"]


def test_a_line_s_text_is_one_its_supplier_sells(demo_lines):
    by_orgnr = {s.orgnr: s.key for s in R.SUPPLIERS.values()}
    stems = {key: {t.split(" {")[0].removesuffix(" uke").lower() for texts in R.SUPPLIER_TEXTS[key].values()
                   for t in texts} for key in R.SUPPLIER_TEXTS}
    wrong = []
    for _org, _unit, ln in demo_lines:
        key = by_orgnr[ln.supplier_orgnr]
        text = ln.description.lower().split(": ")[-1]  # a project's lines start with the project's name
        if ln.project and ": " in ln.description:
            continue  # a construction project's invoices ("Ny Flisa skole: entreprise, delfaktura")
        if not any(text.startswith(stem) for stem in stems[key]) and not text.startswith(("drivstoffkort",)):
            wrong.append((key, ln.description))
    assert wrong == []


def test_care_doctors_and_child_welfare_are_booked_at_their_units_never_at_culture_or_schools(demo_lines):
    fields = {"childcare": {"nav"}, "care": {"hjem", "inst"}, "doctor": {"helse"}}
    by_orgnr = {R.SUPPLIERS[k].orgnr: k for k in fields}
    booked = defaultdict(set)
    for org, unit, ln in demo_lines:
        if ln.supplier_orgnr in by_orgnr and R.ORGS_BY_KEY[org].kind == "kommune":
            booked[by_orgnr[ln.supplier_orgnr]].add(unit.sector)
    assert set(booked) == set(fields)
    for key, sectors in booked.items():
        assert sectors <= fields[key], (key, sectors)
