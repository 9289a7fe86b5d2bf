"""Measured effect (issue 10, item 6): the change in kg CO2e between two periods split by LMDI-I into volume (spend at
constant prices) and intensity and mix, through the selector, the CLI, the page and a measure's measured effect.
The account is two small ledgers of 2024 and 2025, computed once for the module; every figure is hand-computed from
the shipped factor and price-index files (tests/factories.kg). The demo's HVO and food measures are in
tests/test_demo.py (which has the demo region already)."""
from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from klimainnkjop.access import Scope, system_scope
from klimainnkjop.selectors import effect as selectors
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.selectors.dashboard import parse_period
from klimainnkjop.services import measures as measure_services
from klimainnkjop.storage.models import Organisation
from tests.conftest import Shared, run_cli, shared_state
from tests.factories import (
    GRUE, KONGSVINGER, WEB_HEADER, WEB_PROFILE, assert_no_inline_script, chart_payload, cpi, import_ledger, kg,
    make_user, norwegian, page, table_cells,
)

K_CSV = WEB_HEADER + (
    "15.03.2024;10000;1100;982463718;Kontorgiganten AS;100 000,00;Papir;1;1;1\n"
    "20.06.2024;18000;1200;987654325;Nettkraft AS;200 000,00;Strøm;2;1;1\n"
    "15.03.2025;10000;1100;982463718;Kontorgiganten AS;150 000,00;Papir;11;1;1\n"
    "20.06.2025;18000;1200;987654325;Nettkraft AS;180 000,00;Strøm;12;1;1\n"
    "01.09.2025;12000;1100;982463718;Kontorgiganten AS;20 000,00;Rekvisita;13;1;1\n"
)
G_CSV = WEB_HEADER + (
    "10.05.2024;10000;2100;982463718;Kontorgiganten AS;50 000,00;Papir;1;1;1\n"
    "10.05.2025;10000;2100;982463718;Kontorgiganten AS;40 000,00;Papir;2;1;1\n"
)
DEFLATE = cpi(2024) / cpi(2025)  # 2025 kroner in 2024 prices


def log_mean(a: float, b: float) -> float:
    """L(a, b), written out independently of the code under test."""
    if a <= 0 or b <= 0:
        return 0.0
    return a if a == b else (a - b) / (math.log(a) - math.log(b))


def by_hand(cells: dict[str, tuple[float, float, float, float]]) -> tuple[float, float]:
    """(volume, intensity and mix) of LMDI-I from (spend 2024, spend 2025, kg 2024, kg 2025) per category, the
    intensity part from its own formula L × ln((E1 / Q1) / (E0 / Q0)) (not as the change less the volume)."""
    q0 = sum(c[0] for c in cells.values())
    q1 = sum(c[1] for c in cells.values()) * DEFLATE
    volume = intensity = 0.0
    for _, _, e0, e1 in cells.values():
        if e0 > 0 and e1 > 0:
            weight = log_mean(e1, e0)
            volume += weight * math.log(q1 / q0)
            intensity += weight * math.log((e1 / q1) / (e0 / q0))
        else:
            intensity += e1 - e0  # a category that appears or disappears: all mix
    return volume, intensity


K_CELLS = {
    "goods.office": (100_000, 150_000, kg(100_000, "goods.office", 2024), kg(150_000, "goods.office", 2025)),
    "energy.electricity": (200_000, 180_000, kg(200_000, "energy.electricity", 2024),
                           kg(180_000, "energy.electricity", 2025)),
    "goods.consumables": (0, 20_000, 0.0, kg(20_000, "goods.consumables", 2025)),
}
K_FROM = sum(c[2] for c in K_CELLS.values())
K_TO = sum(c[3] for c in K_CELLS.values())
K_VOLUME, K_INTENSITY = by_hand(K_CELLS)


@pytest.fixture(scope="module")
def shared_account(request):
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.organisations import do_create_organisation

    with shared_state(request, "effect") as path:
        kongsvinger = do_create_organisation(orgnr=KONGSVINGER, name="Kongsvinger kommune", kostra_region="0402",
                                             region_name="Kongsvingerregionen", actor="test")
        grue = do_create_organisation(orgnr=GRUE, name="Grue kommune", kostra_region="0423",
                                      region_name="Kongsvingerregionen", actor="test")
        import_ledger(kongsvinger, K_CSV, "kongsvinger.csv", profile=WEB_PROFILE)
        import_ledger(grue, G_CSV, "grue.csv", profile=WEB_PROFILE)
        do_compute(actor="test")
        yield Shared(path, None)


@pytest.fixture
def account(shared_account, db):
    return shared_account


def split(scope=None, **kwargs):
    return selectors.effect_split(scope or system_scope(), period_from=parse_period(kwargs.pop("start", "2024")),
                                  period_to=parse_period(kwargs.pop("end", "2025")), **kwargs)


# --- the index itself -------------------------------------------------------------------------------------------

def test_lmdi_of_two_categories_matches_the_hand_computation_and_its_parts_add_up_exactly():
    # category A: 100 kg on 1000 NOK -> 150 kg on 1200 NOK; B: 50 kg on 1000 NOK -> 40 kg on 1000 NOK
    volume, intensity = selectors.lmdi([100.0, 50.0], [150.0, 40.0], 2000.0, 2200.0)
    l_a, l_b = 50 / math.log(1.5), -10 / math.log(0.8)
    assert volume[0] == pytest.approx(l_a * math.log(1.1), rel=1e-12)
    assert volume[1] == pytest.approx(l_b * math.log(1.1), rel=1e-12)
    assert intensity[0] == pytest.approx(l_a * math.log(1.5 / 1.1), rel=1e-12)
    assert intensity[1] == pytest.approx(l_b * math.log(0.8 / 1.1), rel=1e-12)
    assert volume.sum() + intensity.sum() == pytest.approx(40.0, abs=1e-12)  # 190 - 150
    assert list(volume + intensity) == pytest.approx([50.0, -10.0], abs=1e-12)


def test_the_log_mean_of_equal_values_is_the_value_and_a_zero_gives_no_weight():
    assert list(selectors.log_mean([3.0, 0.0, 5.0, -1.0], [3.0, 4.0, 0.0, 2.0])) == [3.0, 0.0, 0.0, 0.0]
    volume, intensity = selectors.lmdi([0.0, 10.0], [7.0, 0.0], 100.0, 300.0)  # one appears, one disappears
    assert list(volume) == [0.0, 0.0] and list(intensity) == [7.0, -10.0]


# --- the selector on the account ----------------------------------------------------------------------------------

def test_an_organisations_change_splits_into_hand_computed_volume_and_intensity_parts(account):
    s = split(org=KONGSVINGER)
    assert (s.kg_from, s.kg_to) == (pytest.approx(K_FROM, rel=1e-9), pytest.approx(K_TO, rel=1e-9))
    assert s.volume_kg == pytest.approx(K_VOLUME, rel=1e-9)
    assert s.intensity_kg == pytest.approx(K_INTENSITY, rel=1e-9)
    assert s.volume_kg + s.intensity_kg == pytest.approx(s.kg_to - s.kg_from, abs=1e-9)
    assert s.spend_to_constant_nok == pytest.approx(350_000 * DEFLATE, rel=1e-12) and s.price_year == 2024
    rows = {r["category"]: r for r in s.rows}
    consumables = rows["goods.consumables"]  # bought in 2025 only: all of it is mix
    assert consumables["volume_kg"] == 0 and consumables["intensity_kg"] == pytest.approx(K_CELLS[
        "goods.consumables"][3], rel=1e-9)
    for r in s.rows:
        assert r["volume_kg"] + r["intensity_kg"] == pytest.approx(r["kg_to"] - r["kg_from"], abs=1e-9)


def test_buying_more_of_one_spend_based_category_is_all_volume(account):
    s = split(org=KONGSVINGER, category="goods.office")
    e0, e1 = K_CELLS["goods.office"][2:]
    assert s.kg_to - s.kg_from == pytest.approx(e1 - e0, rel=1e-9)
    assert s.volume_kg == pytest.approx(e1 - e0, rel=1e-9)  # same factor per krone at constant prices
    assert s.intensity_kg == pytest.approx(0.0, abs=1e-6)


def test_the_region_is_split_over_the_categories_of_every_organisation_and_a_reader_sees_their_own(account):
    cells = dict(K_CELLS)
    s0, s1, e0, e1 = cells["goods.office"]
    cells["goods.office"] = (s0 + 50_000, s1 + 40_000, e0 + kg(50_000, "goods.office", 2024),
                             e1 + kg(40_000, "goods.office", 2025))
    volume, intensity = by_hand(cells)
    s = split()
    assert s.volume_kg == pytest.approx(volume, rel=1e-9) and s.intensity_kg == pytest.approx(intensity, rel=1e-9)
    own = split(Scope(orgnrs=frozenset({GRUE}), label="grue"))
    assert own.kg_from == pytest.approx(kg(50_000, "goods.office", 2024), rel=1e-9)
    assert own.intensity_kg == pytest.approx(0.0, abs=1e-6)


def test_quarters_compare_the_months_they_hold(account):
    s = split(org=KONGSVINGER, start="2024Q1", end="2025Q1")  # office in March both years; electricity in June
    e0, e1 = K_CELLS["goods.office"][2:]
    assert (s.kg_from, s.kg_to) == (pytest.approx(e0, rel=1e-9), pytest.approx(e1, rel=1e-9))
    assert [r["category"] for r in s.rows] == ["goods.office"]


# --- a measure's measured effect ----------------------------------------------------------------------------------

def test_an_implemented_measure_is_measured_by_the_intensity_part_of_its_own_purchases(account):
    m = measure_services.do_create_measure(
        name="Mindre strøm og rekvisita", kind=2, mechanism="quantity", percent=10.0,
        categories=["energy.electricity", "goods.office"], organisations=[KONGSVINGER], baseline_year=2024,
        actor="test")
    assert measure_selectors.measure_row(system_scope(), m)["measured_kg_per_year"] is None  # proposed
    measure_services.do_change_measure_status(measure=m, status="implemented", date=dt.date(2025, 1, 1),
                                              actor="test")
    m.refresh_from_db()
    _, intensity = by_hand({k: v for k, v in K_CELLS.items() if k != "goods.consumables"})
    row = measure_selectors.measure_row(system_scope(), m)
    assert row["measured_kg_per_year"] == pytest.approx(intensity, rel=1e-9)
    assert row["measured_kg_per_year"] < 0  # money moved from electricity to office: less kg per krone
    measured = measure_selectors.measured_effect(system_scope(), m)
    assert (measured.from_year, measured.to_year) == (2024, 2025)
    assert measured.volume_kg + measured.intensity_kg == pytest.approx(measured.kg_to - measured.kg_from, abs=1e-9)


# --- the CLI ------------------------------------------------------------------------------------------------------

def test_the_effect_command_gives_the_split_as_json(account):
    result = run_cli("effect", "--org", KONGSVINGER, "--from", "2024", "--to", "2025", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["kg_from"] == pytest.approx(K_FROM, rel=1e-9)
    assert document["kg_to"] == pytest.approx(K_TO, rel=1e-9)
    assert document["volume_kg"] == pytest.approx(K_VOLUME, rel=1e-9)
    assert document["intensity_kg"] == pytest.approx(K_INTENSITY, rel=1e-9)
    assert document["volume_kg"] + document["intensity_kg"] == pytest.approx(
        document["kg_to"] - document["kg_from"], abs=1e-9)
    assert {r["category"] for r in document["rows"]} == set(K_CELLS)
    region = json.loads(run_cli("effect", "--region", "--category", "goods.office", "--from", "2024", "--to", "2025",
                                "--format", "json").stdout)
    assert region["kg_from"] == pytest.approx(kg(150_000, "goods.office", 2024), rel=1e-9)


def test_the_effect_command_refuses_a_bad_period_or_category_with_exit_2(account):
    bad = run_cli("effect", "--region", "--from", "tjuetjuefire", "--to", "2025")
    assert bad.returncode == 2 and "--from" in bad.stderr and "2025Q3" in bad.stderr
    bad = run_cli("effect", "--region", "--category", "goods.nothing", "--from", "2024", "--to", "2025")
    assert bad.returncode == 2 and "--category" in bad.stderr and "goods.nothing" in bad.stderr


# --- the pages ----------------------------------------------------------------------------------------------------

def test_the_effect_page_shows_the_split_in_cards_a_table_and_a_chart_of_the_same_numbers(account, client):
    client.force_login(make_user("les-k", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    html, tree = page(client, f"/tiltak/effekt/?org={KONGSVINGER}&fra=2024&til=2025")
    assert_no_inline_script(tree, "/tiltak/effekt/")
    assert "Målt effekt" in html and "Intensitet og sammensetning" in html  # bokmål
    volume = ("+" if K_VOLUME > 0 else "") + norwegian(K_VOLUME / 1000)
    intensity = ("+" if K_INTENSITY > 0 else "") + norwegian(K_INTENSITY / 1000)
    cells = table_cells(tree.find_all("table", id="effect-table")[0])
    assert volume in cells and intensity in cells and norwegian(K_FROM / 1000) in cells
    spec = chart_payload(tree.find_all("figure")[0])["spec"]
    ends = [v["end"] for v in spec["data"]["values"]]
    # no change of method in these ledgers (all spend-based): the method step ends where intensity did
    assert ends == pytest.approx([K_FROM / 1000, (K_FROM + K_VOLUME) / 1000, K_TO / 1000, K_TO / 1000, K_TO / 1000],
                                 rel=1e-9)
    for field in ("effect-org", "effect-category", "effect-from", "effect-to"):
        assert f'for="{field}"' in html and f'id="{field}"' in html
    assert client.get("/tiltak/effekt/?fra=2024&til=tjuetjuefem").status_code == 400
    assert '<th scope="col" class="num">Endring</th>' in html  # the difference, not the verb "Endre"
    # a quarter against a year, or the later period first, is no change: refused in bokmål (was shown as a split)
    for wrong, words in (("fra=2025Q1&til=2025", "samme lengde"), ("fra=2025&til=2024", "komme før")):
        response = client.get(f"/tiltak/effekt/?org={KONGSVINGER}&{wrong}")
        assert response.status_code == 400 and words in response.content.decode(), wrong


def test_a_measure_page_shows_expected_against_measured(account, client):
    m = measure_services.do_create_measure(
        name="Strøm og kontor", kind=2, mechanism="quantity", percent=10.0,
        categories=["energy.electricity", "goods.office"], organisations=[KONGSVINGER], baseline_year=2024,
        actor="test")
    measure_services.do_change_measure_status(measure=m, status="implemented", date=dt.date(2025, 3, 1), actor="test")
    _, intensity = by_hand({k: v for k, v in K_CELLS.items() if k != "goods.consumables"})
    client.force_login(make_user("les-k", Organisation.objects.get(orgnr=KONGSVINGER), "reader"))
    html, tree = page(client, f"/tiltak/{m.pk}/")
    cells = table_cells(tree.find_all("table", id="measured-table")[0])
    assert norwegian(-intensity / 1000) in cells  # shown as a cut
    expected = 0.1 * (K_CELLS["goods.office"][2] + K_CELLS["energy.electricity"][2])
    assert norwegian(expected / 1000) in cells
    assert "Forventet mot målt" in html


def test_the_excel_report_has_the_measured_change_of_an_implemented_measure(account, tmp_path):
    from openpyxl import load_workbook

    m = measure_services.do_create_measure(
        name="Strøm og kontor", kind=2, mechanism="quantity", percent=10.0,
        categories=["energy.electricity", "goods.office"], organisations=[KONGSVINGER], baseline_year=2024,
        actor="test")
    measure_services.do_change_measure_status(measure=m, status="implemented", date=dt.date(2025, 1, 1), actor="test")
    _, intensity = by_hand({k: v for k, v in K_CELLS.items() if k != "goods.consumables"})
    out = tmp_path / "k.xlsx"
    result = run_cli("report", "--org", KONGSVINGER, "--period", "2025", "--format", "xlsx", "-o", out)
    assert result.returncode == 0, result.stderr
    rows = list(load_workbook(out)["Tiltak"].iter_rows(values_only=True))
    column = rows[0].index("Målt endring, tonn CO2e (negativ: kutt)")
    assert rows[1][0] == "Strøm og kontor" and rows[1][column] == pytest.approx(intensity / 1000, rel=1e-9)
    pdf = tmp_path / "k.pdf"
    assert run_cli("report", "--org", KONGSVINGER, "--period", "2025", "--format", "pdf", "-o", pdf).returncode == 0


def test_a_unit_is_split_over_its_own_purchases_and_an_unknown_unit_is_refused(account):
    s = split(org=KONGSVINGER, unit="1100")  # office and, in 2025, consumables; electricity is unit 1200's
    volume, intensity = by_hand({k: v for k, v in K_CELLS.items() if k != "energy.electricity"})
    assert s.volume_kg == pytest.approx(volume, rel=1e-9) and s.intensity_kg == pytest.approx(intensity, rel=1e-9)
    bad = run_cli("effect", "--org", KONGSVINGER, "--unit", "9999", "--from", "2024", "--to", "2025")
    assert bad.returncode == 2 and "--unit" in bad.stderr and "9999" in bad.stderr
