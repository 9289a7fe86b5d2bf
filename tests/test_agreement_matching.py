"""The rule that puts a purchase under an agreement (engine/agreements.py), on a few in-memory result rows.

No database and no compute: every row and every rule is written below, and each agreement's spend and kg
are worked out by hand in the comments.
"""
import ibis
import pyarrow as pa
import pytest

from klimainnkjop.engine import agreements as matching
from klimainnkjop.engine import runner

K, G = "944117784", "964950113"
S1, S2 = "982463718", "987654325"


def row(org, year, month, category, supplier, spend_ore, kg, exclusion=""):
    return {"org": org, "year": year, "month": month, "unit": "1100", "category": category,
            "supplier_orgnr": supplier, "art": "115", "investment": False, "source": "ledger",
            "exclusion": exclusion, "covered": True, "method": "spend", "quality": 4, "intra_region": False,
            "spend_ore": spend_ore, "kg_co2e": kg, "kg_low": kg * 0.5, "kg_high": kg * 2, "lines": 1}


ROWS = [
    row(K, 2024, 3, "goods.food.beef", S1, 100_000, 50.0),           # A: agreements 1, 2 (misfit) and 4 -> 4
    row(K, 2024, 3, "goods.cleaning_products", S1, 20_000, 5.0),     # B: 2 fits its category -> 2
    row(G, 2024, 3, "goods.food", S1, 30_000, 10.0),                 # C: G is in 2 (misfit) and 3 (none) -> 3
    row(K, 2022, 12, "goods.food", S1, 40_000, 20.0),                # D: before every agreement of K
    row(K, 2024, 3, "goods.food", S2, 50_000, 25.0),                 # E: S2 is nobody's supplier
    row(K, 2024, 3, "goods.food", S1, 90_000, 0.0, "wages"),          # F: not a purchase
    row(K, 2024, 0, "goods.food", "", 60_000, 30.0),                 # G: KOSTRA annual line, no supplier
    row(K, 2023, 5, "goods.food.fish", S1, 7_000, 3.0),              # H: only 1 had started -> 1
    row(K, 2024, 7, "goods.cleaning_products", S1, 1_500, 2.0),      # I: 2 has ended; 1 and 4 misfit -> 4
    row(K, 2024, 6, "goods.cleaning_products", S1, 1_000, 1.0),      # J: the last month of 2 -> 2
]


def rule(agreement, supplier, org, first, last, category=""):
    return {"agreement": agreement, "supplier_orgnr": supplier, "org": org, "first_period": first,
            "last_period": last, "category": category, "start_period": first}


RULES = [
    rule(1, S1, K, 202301, 202512, "goods.food"),                    # food 2023-2025 for K
    rule(2, S1, K, 202401, 202406, "goods.cleaning_products"),       # cleaning, first half of 2024, K and G
    rule(2, S1, G, 202401, 202406, "goods.cleaning_products"),
    rule(3, S1, G, 202001, 202612),                                  # everything of S1 for G, no categories
    rule(4, S1, K, 202402, 202412, "goods.food"),                    # a newer food agreement for K
]


@pytest.fixture(scope="module")
def results():
    con = runner.connect()
    aggregates = ibis.memtable(pa.Table.from_pylist(ROWS))
    out = con.to_pyarrow(matching.per_agreement(aggregates, matching.rule_table(RULES))).to_pylist()
    by_year = con.to_pyarrow(matching.per_agreement(aggregates, matching.rule_table(RULES), ["year"])).to_pylist()
    yield {r["agreement"]: r for r in out}, by_year
    con.disconnect()


def test_each_purchase_counts_for_the_agreement_that_fits_it_best(results):
    per_agreement, _ = results
    # 1: H (70 kr, 3 kg); 2: B + J (200 + 10 kr, 5 + 1 kg); 3: C (300 kr, 10 kg); 4: A + I (1000 + 15 kr, 52 kg)
    assert {a: (r["spend_ore"], r["kg_co2e"], r["lines"]) for a, r in per_agreement.items()} == {
        1: (7_000, 3.0, 1), 2: (21_000, 6.0, 2), 3: (30_000, 10.0, 1), 4: (101_500, 52.0, 2)}


def test_the_agreements_add_up_to_the_matched_purchases_and_leave_out_the_rest(results):
    per_agreement, by_year = results
    purchases = sum(r["spend_ore"] for r in ROWS if not r["exclusion"] and r["supplier_orgnr"] and r["month"])
    unmatched = 40_000 + 50_000  # D (before its agreements) and E (another supplier)
    assert sum(r["spend_ore"] for r in per_agreement.values()) == purchases - unmatched == 159_500
    assert sum(r["kg_low"] for r in per_agreement.values()) == pytest.approx(71 * 0.5)
    assert sum(r["kg_co2e"] for r in by_year) == pytest.approx(71.0)
    assert {(r["agreement"], r["year"]) for r in by_year} == {(1, 2023), (2, 2024), (3, 2024), (4, 2024)}


def test_no_rules_match_nothing():
    con = runner.connect()
    aggregates = ibis.memtable(pa.Table.from_pylist(ROWS))
    assert con.to_pyarrow(matching.per_agreement(aggregates, matching.rule_table([]))).num_rows == 0
    con.disconnect()
