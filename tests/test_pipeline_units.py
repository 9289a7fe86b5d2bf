"""The ibis functions of the engine, one rule at a time, on small in-memory tables run on DuckDB.

No database and no files: every test builds its lines and reference tables in memory (Arrow), runs one
function of engine/pipeline.py or engine/classify.py on the backend of engine/runner.connect() and
compares with numbers worked out by hand in the test. Like engine/runner.run, the inputs are registered
under fixed names and each plan is compiled once (runner._plan): building and compiling the expressions
takes seconds, running them on a few lines milliseconds.
"""
import pyarrow as pa
import pytest

from klimainnkjop.engine import pipeline, runner
from klimainnkjop.engine.classify import classify
from klimainnkjop.storage.linestore import INVOICE_LINE_SCHEMA

ORG, MEMBER, SUPPLIER = "944117784", "964950113", "999999999"
CPI = {2022: 122.8, 2023: 129.6, 2024: 133.6, 2026: 141.0}
EUR_2022 = 10.1026
YEARS = (2022, 2023, 2024)


@pytest.fixture(scope="module")
def con():
    backend = runner.connect()
    yield backend
    backend.disconnect()


def execute(con, name: str, build, **tables: pa.Table) -> list[dict]:
    """build(*tables) run on the given tables, registered under their keyword names; compiled once per plan."""
    for table_name, data in tables.items():
        con.con.register(table_name, data)
    sql = runner._plan(con, f"{__name__}.{name}", tuple(tables), build)
    return con.con.sql(sql).to_arrow_table().to_pylist()


def line_table(*rows: dict) -> pa.Table:
    """Lines of the line store's schema: a purchase of food (art 115) by ORG in March 2024 unless a row says
    otherwise; keys k0, k1, … in the order given."""
    defaults = {f.name: "" if pa.types.is_string(f.type) else None for f in INVOICE_LINE_SCHEMA}
    defaults.update(org=ORG, batch="b", source="ledger", year=2024, month=3, art="115", account="115000",
                    amount_ore=0, vat_ore=0, currency="NOK", investment=False)
    records = [{**defaults, "line_key": f"k{i}", **row} for i, row in enumerate(rows)]
    return pa.Table.from_pylist(records, schema=INVOICE_LINE_SCHEMA)


def by_key(rows: list[dict]) -> dict[str, dict]:
    keyed = {r["line_key"]: r for r in rows}
    assert len(keyed) == len(rows), "a line key twice"
    return keyed


def table(schema: pa.Schema, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def reconciled(con, lines: pa.Table) -> dict[str, dict]:
    return by_key(execute(con, "reconcile", pipeline.reconcile_sources, lines=lines))


# --- reconciliation of sources ----------------------------------------------------------------------------

def test_kostra_lines_step_aside_only_for_an_organisations_year_with_ledger_or_saft_lines(con):
    lines = line_table(
        {"source": "ledger", "year": 2024},                   # k0 ORG's ledger for 2024
        {"source": "kostra", "year": 2024},                   # k1 steps aside
        {"source": "kostra", "year": 2023},                   # k2 ORG has no ledger for 2023: stays
        {"source": "kostra", "year": 2024, "org": MEMBER},    # k3 MEMBER has no ledger for 2024: stays
        {"source": "saft", "year": 2023, "org": MEMBER},      # k4 MEMBER's SAF-T for 2023
        {"source": "kostra", "year": 2023, "org": MEMBER},    # k5 steps aside for the SAF-T file
    )
    rows = reconciled(con, lines)
    assert sorted(rows) == ["k0", "k2", "k3", "k4"]
    assert {r["source_exclusion"] for r in rows.values()} == {""}


def _invoice(amount_ore: int, invoice_no: str = "F1", **other) -> dict:
    return {"source": "ehf", "supplier_orgnr": SUPPLIER, "invoice_no": invoice_no, "amount_ore": amount_ore,
            "art": "", "account": "", "unit": "", "function": "", "project": "", **other}


def test_a_matched_invoice_replaces_its_ledger_lines_and_takes_the_dimensions_of_the_largest(con):
    lines = line_table(
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F1", "amount_ore": 100_000, "unit": "4100", "art": "115",
         "account": "115000", "function": "2020", "project": "P1", "investment": True},
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F1", "amount_ore": 43_750, "unit": "4200", "art": "120",
         "account": "120000", "function": "2100", "project": "P2", "investment": False},
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F2", "amount_ore": 9_900, "unit": "4200", "art": "120"},
        {"supplier_orgnr": "988888888", "invoice_no": "F1", "amount_ore": 143_750, "unit": "4300", "art": "120"},
        _invoice(120_000, item_name="Kaffe", quantity=10.0, quantity_unit="kg"),
        _invoice(23_750, item_name="Te"),
    )
    rows = reconciled(con, lines)
    # the ledger sum of (SUPPLIER, F1) is 1 437,50 NOK = the invoice's 1 200,00 + 237,50
    assert {k: rows[k]["source_exclusion"] for k in rows} == {
        "k0": "invoice_detail", "k1": "invoice_detail", "k2": "", "k3": "", "k4": "", "k5": ""}
    for key in ("k4", "k5"):  # the dimensions of k0, the larger ledger line
        assert {d: rows[key][d] for d in pipeline.DIMENSIONS} == {
            "unit": "4100", "function": "2020", "account": "115000", "art": "115", "project": "P1",
            "investment": True}
    assert (rows["k4"]["item_name"], rows["k4"]["quantity"], rows["k4"]["amount_ore"]) == ("Kaffe", 10.0, 120_000)


TOLERANCE_CASES = [  # ledger sum, invoice sum, matched
    (10_000, 10_100, True),          # 1 NOK is the least tolerance
    (10_000, 10_101, False),
    (10_000, 9_900, True),
    (100_000, 100_500, True),        # 0.5 % of 1 000 NOK = 5 NOK
    (100_000, 100_501, False),
    (1_000_000, 1_005_000, True),    # 0.5 % of 10 000 NOK = 50 NOK
    (1_000_000, 994_999, False),
    (-20_000, -20_100, True),        # a credit note
]


def test_an_invoice_matches_its_ledger_lines_within_1_nok_or_half_a_percent(con):
    lines = []
    for i, (ledger_ore, invoice_ore, _) in enumerate(TOLERANCE_CASES):  # ledger line k{2i}, invoice k{2i+1}
        lines += [{"supplier_orgnr": SUPPLIER, "invoice_no": f"F{i}", "amount_ore": ledger_ore, "unit": "4100"},
                  _invoice(invoice_ore, invoice_no=f"F{i}")]
    rows = reconciled(con, line_table(*lines))
    outcome = {case: (rows[f"k{2 * i}"]["source_exclusion"], rows[f"k{2 * i + 1}"]["source_exclusion"],
                      rows[f"k{2 * i + 1}"]["unit"]) for i, case in enumerate(TOLERANCE_CASES)}
    assert outcome == {case: ("invoice_detail", "", "4100") if case[2] else ("", "unmatched_invoice", "")
                       for case in TOLERANCE_CASES}


def test_only_cost_lines_of_a_saft_voucher_are_matched_not_its_payable_and_vat_postings(con):
    saft = {"source": "saft", "supplier_orgnr": SUPPLIER, "invoice_no": "F1", "art": ""}
    lines = line_table({**saft, "account": "6550", "amount_ore": 100_000},
                       {**saft, "account": "2400", "amount_ore": -125_000},
                       {**saft, "account": "2710", "amount_ore": 25_000},
                       _invoice(100_000))
    rows = reconciled(con, lines)
    assert [rows[k]["source_exclusion"] for k in ("k0", "k1", "k2", "k3")] == ["invoice_detail", "", "", ""]
    assert rows["k3"]["account"] == "6550"


UNMATCHED_CASES = {  # what else is there: the invoice's fate
    "nothing else gives the year": ([], ""),
    "ledger lines": ([{"source": "ledger", "invoice_no": "X-1"}], "unmatched_invoice"),
    "SAF-T lines": ([{"source": "saft", "account": "6550", "art": ""}], "unmatched_invoice"),
    "a KOSTRA file": ([{"source": "kostra"}], "covered_by_kostra"),
    "KOSTRA stepped aside for a ledger": ([{"source": "kostra"}, {"source": "ledger"}], "unmatched_invoice"),
    "another year's": ([{"source": "ledger", "year": 2023}, {"source": "kostra", "year": 2023}], ""),
    "another organisation's": ([{"source": "ledger", "org": "800000000"}, {"source": "kostra", "org": "800000000"}],
                               ""),
}


@pytest.mark.parametrize("source", ["ehf", "supplier_stats"])
def test_an_unmatched_invoice_is_left_out_only_where_its_year_is_complete_without_it(con, source):
    lines, invoice_keys = [], {}
    for i, (case, (others, _)) in enumerate(UNMATCHED_CASES.items()):  # each case an organisation of its own
        org = f"9{i:08d}"
        invoice_keys[case] = f"k{len(lines)}"
        lines += [_invoice(50_000, source=source, org=org), *({"org": org, **other} for other in others)]
    rows = reconciled(con, line_table(*lines))
    assert {case: rows[key]["source_exclusion"] for case, key in invoice_keys.items()} == {
        case: expected for case, (_, expected) in UNMATCHED_CASES.items()}


def documents(con, lines: pa.Table) -> dict[tuple[str, str], dict]:
    rows = execute(con, "invoice_documents", pipeline.invoice_documents, lines=lines)
    keyed = {(r["supplier_orgnr"], r["invoice_no"]): r for r in rows}
    assert len(keyed) == len(rows)
    return keyed


def test_the_matching_names_every_document_of_either_side_with_its_sums_and_status(con):
    saft = {"source": "saft", "supplier_orgnr": SUPPLIER, "art": ""}
    lines = line_table(
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F1", "amount_ore": 100_000, "unit": "4100"},     # k0
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F1", "amount_ore": 43_750, "unit": "4200"},      # k1
        _invoice(143_650),                                                                             # k2 F1: -1 NOK
        {**saft, "invoice_no": "F2", "account": "6550", "amount_ore": 50_000},                       # k3 cost line
        {**saft, "invoice_no": "F2", "account": "2400", "amount_ore": -62_500},                      # k4 payable
        _invoice(60_000, invoice_no="F2", source="supplier_stats"),                                   # k5 differs
        _invoice(10_000, invoice_no="F3", document_type="creditnote", supplier_name="Lev AS"),         # k6 alone
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F4", "amount_ore": 7_000, "supplier_name": "Lev"},  # k7 alone
        {"supplier_orgnr": "", "invoice_no": "F5", "amount_ore": 9_000},                              # k8 no orgnr
    )
    docs = documents(con, lines)
    assert sorted(docs) == [(SUPPLIER, "F1"), (SUPPLIER, "F2"), (SUPPLIER, "F3"), (SUPPLIER, "F4")]
    f1, f2, f3, f4 = (docs[(SUPPLIER, n)] for n in ("F1", "F2", "F3", "F4"))
    assert (f1["status"], f1["invoice_ore"], f1["ledger_ore"], f1["ledger_lines"], f1["ledger_line_keys"],
            f1["unit"]) == ("matched", 143_650, 143_750, 2, ["k0", "k1"], "4100")
    # only the SAF-T cost line counts: 500 NOK against the statistics' 600 NOK is beyond max(1 NOK, 2.50 NOK)
    assert (f2["status"], f2["ledger_ore"], f2["ledger_lines"], f2["ledger_sources"], f2["invoice_source"]) == (
        "amount_differs", 50_000, 1, "saft", "supplier_stats")
    assert (f3["status"], f3["invoice_ore"], f3["ledger_ore"], f3["document_type"], f3["supplier_name"],
            f3["unit"]) == ("invoice_only", 10_000, None, "creditnote", "Lev AS", "")
    assert (f4["status"], f4["ledger_ore"], f4["invoice_ore"], f4["supplier_name"]) == ("ledger_only", 7_000, None,
                                                                                       "Lev")
    # the reconciliation applies the same outcome: F1's ledger lines step aside, F2's invoice is left out
    rows = reconciled(con, lines)
    assert {k: rows[k]["source_exclusion"] for k in ("k0", "k1", "k2", "k3", "k5", "k6", "k7")} == {
        "k0": "invoice_detail", "k1": "invoice_detail", "k2": "", "k3": "", "k5": "unmatched_invoice",
        "k6": "unmatched_invoice", "k7": ""}


def test_a_ledger_document_names_both_ledger_sources_and_the_unit_of_its_largest_line_with_or_without_invoices(con):
    saft = {"source": "saft", "supplier_orgnr": SUPPLIER, "art": "", "account": "6550"}
    lines = line_table(
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F1", "amount_ore": 20_000, "unit": "4100"},
        {**saft, "invoice_no": "F1", "amount_ore": -50_000, "unit": "4200"},    # the largest by absolute amount
        {**saft, "invoice_no": "F2", "amount_ore": 30_000, "unit": "4300", "account": "6560"},
        {**saft, "invoice_no": "F2", "amount_ore": -30_000, "unit": "4400", "account": "6550"},  # tie: lower account
        {"supplier_orgnr": SUPPLIER, "invoice_no": "F3", "amount_ore": 1_000, "unit": "4500"},
    )
    for present in (pipeline.Present(), pipeline.Present(invoices=False)):
        rows = execute(con, f"ledger_documents_{present.invoices}",
                       lambda t, p=present: pipeline.invoice_documents(t, p), lines=lines)
        docs = {r["invoice_no"]: r for r in rows}
        assert {n: (d["status"], d["ledger_sources"], d["unit"], d["ledger_lines"]) for n, d in docs.items()} == {
            "F1": ("ledger_only", "ledger,saft", "4200", 2), "F2": ("ledger_only", "saft", "4400", 2),
            "F3": ("ledger_only", "ledger", "4500", 1)}


def test_the_matching_status_follows_the_tolerance_of_1_nok_or_half_a_percent(con):
    lines = []
    for i, (ledger_ore, invoice_ore, _) in enumerate(TOLERANCE_CASES):
        lines += [{"supplier_orgnr": SUPPLIER, "invoice_no": f"F{i}", "amount_ore": ledger_ore},
                  _invoice(invoice_ore, invoice_no=f"F{i}")]
    docs = documents(con, line_table(*lines))
    assert {case: docs[(SUPPLIER, f"F{i}")]["status"] for i, case in enumerate(TOLERANCE_CASES)} == {
        case: "matched" if case[2] else "amount_differs" for case in TOLERANCE_CASES}


# --- classification --------------------------------------------------------------------------------------

OVERRIDES = pa.schema([("org", pa.string()), ("line_key", pa.string()), ("category", pa.string()),
                       ("rule", pa.string())])
RULES = pa.schema([("rule", pa.string()), ("kind", pa.string()), ("value", pa.string()), ("org", pa.string()),
                   ("category", pa.string()), ("priority", pa.int64())])
PREDICTIONS = pa.schema([("org", pa.string()), ("line_key", pa.string()), ("category", pa.string()),
                         ("confidence", pa.float64())])
CODE_MAP = pa.schema([("scheme", pa.string()), ("code", pa.string()), ("category", pa.string())])
SUPPLIERS = pa.schema([("orgnr", pa.string()), ("nace", pa.string())])

COFFEE = {"supplier_orgnr": SUPPLIER, "account": "115000", "art": "115", "description": "Kaffe og te",
          "item_class_scheme": "cpv", "item_class_code": "15860000"}


ART_FUNCTIONS = pa.schema([("art", pa.string()), ("function", pa.string()), ("investment", pa.string()),
                          ("category", pa.string())])


def classified(con, lines: pa.Table, *, overrides=(), rules=(), predictions=(), code_map=(), suppliers=(),
               art_categories=None, art_functions=None) -> dict[str, dict]:
    tables = dict(lines=lines, art_classes=runner.art_class_table(art_categories or {"115": "c.art"}),
                  overrides=table(OVERRIDES, list(overrides)), rules=table(RULES, list(rules)),
                  predictions=table(PREDICTIONS, list(predictions)), code_map=table(CODE_MAP, list(code_map)),
                  suppliers=table(SUPPLIERS, list(suppliers)), lengths=pa.table({"n": list(range(1, 11))}))
    if art_functions is None:
        return by_key(execute(con, "classify", classify, **tables))

    def build(*named):
        return classify(*named[:-1], art_functions=named[-1])
    return by_key(execute(con, "classify_by_function", build, **tables,
                          art_functions=table(ART_FUNCTIONS, list(art_functions))))


def rule(name, kind, value, category, priority=0, org=""):
    return {"rule": name, "kind": kind, "value": value, "org": org, "category": category, "priority": priority}


LEVELS = {  # one line that every level places, each in its own category
    "overrides": [{"org": ORG, "line_key": "k0", "category": "c.override", "rule": "line-override"}],
    "rules": [rule("supplier-rule", "supplier", SUPPLIER, "c.rule")],
    "predictions": [{"org": ORG, "line_key": "k0", "category": "c.model", "confidence": 0.7}],
    "code_map": [{"scheme": "cpv", "code": "158", "category": "c.item"},
                 {"scheme": "nace", "code": "10.8", "category": "c.nace"}],
    "suppliers": [{"orgnr": SUPPLIER, "nace": "10.83"}],
}


@pytest.mark.parametrize("dropped, expected", [
    ((), ("c.override", "line-override", 1.0)),
    (("overrides",), ("c.rule", "supplier-rule", 0.95)),
    (("overrides", "rules"), ("c.model", "model", 0.7)),
    (("overrides", "rules", "predictions"), ("c.item", "item:cpv:158", 0.8)),
    (("overrides", "rules", "predictions", "item"), ("c.nace", "supplier:nace:10.8", 0.6)),
    (("overrides", "rules", "predictions", "item", "suppliers"), ("c.art", "kostra_art:115", 0.5)),
])
def test_classification_levels_decide_in_their_order_of_precedence(con, dropped, expected):
    levels = {k: v for k, v in LEVELS.items() if k not in dropped}
    if "item" in dropped:
        levels["code_map"] = [m for m in levels["code_map"] if m["scheme"] != "cpv"]
    row = classified(con, line_table(COFFEE), **levels)["k0"]
    assert (row["category"], row["rule"], row["confidence"]) == expected


@pytest.mark.parametrize("kind, value", [("supplier", SUPPLIER), ("account", "115000"), ("item_code", "15860000"),
                                         ("keyword", "kaffe")])
def test_a_user_rule_of_each_kind_places_a_line_with_confidence_0_95(con, kind, value):
    rows = classified(con, line_table(COFFEE, {**COFFEE, "supplier_orgnr": "1", "account": "1", "item_class_code": "1",
                                               "description": "Kaffemaskin"}),
                      rules=[rule(f"{kind}-rule", kind, value, "c.rule")])
    assert (rows["k0"]["category"], rows["k0"]["rule"], rows["k0"]["confidence"]) == ("c.rule", f"{kind}-rule", 0.95)
    assert rows["k1"]["category"] == "c.art"  # a keyword is a whole word: "kaffemaskin" is not "kaffe"


def test_within_the_rule_level_the_lower_priority_number_then_the_rule_name_wins(con):
    rows = classified(con, line_table(COFFEE), rules=[rule("b", "supplier", SUPPLIER, "c.late", priority=5),
                                                      rule("z", "keyword", "kaffe", "c.first", priority=1),
                                                      rule("a", "account", "115000", "c.tie", priority=5)])
    assert rows["k0"]["category"] == "c.first"
    rows = classified(con, line_table(COFFEE), rules=[rule("b", "supplier", SUPPLIER, "c.b", priority=5),
                                                      rule("a", "account", "115000", "c.a", priority=5)])
    assert rows["k0"]["category"] == "c.a"


def test_a_rule_of_one_organisation_does_not_place_the_lines_of_another(con):
    rows = classified(con, line_table(COFFEE, {**COFFEE, "org": MEMBER}),
                      rules=[rule("theirs", "supplier", SUPPLIER, "c.theirs", org=MEMBER)])
    assert rows["k0"]["category"] == "c.art" and rows["k1"]["category"] == "c.theirs"


def test_the_longest_prefix_of_an_item_or_nace_code_wins(con):
    rows = classified(con, line_table(COFFEE, {**COFFEE, "item_class_code": ""}),
                      code_map=[{"scheme": "cpv", "code": "15", "category": "c.food"},
                                {"scheme": "cpv", "code": "1586", "category": "c.coffee"},
                                {"scheme": "cpv", "code": "158", "category": "c.drinks"},
                                {"scheme": "nace", "code": "10", "category": "c.industry"},
                                {"scheme": "nace", "code": "10.83", "category": "c.tea"}],
                      suppliers=[{"orgnr": SUPPLIER, "nace": "10.830"}])
    assert (rows["k0"]["category"], rows["k0"]["rule"]) == ("c.coffee", "item:cpv:1586")
    assert (rows["k1"]["category"], rows["k1"]["rule"]) == ("c.tea", "supplier:nace:10.83")


def test_a_model_prediction_below_0_6_is_ignored(con):
    rows = classified(con, line_table(COFFEE, COFFEE),
                      predictions=[{"org": ORG, "line_key": "k0", "category": "c.model", "confidence": 0.6},
                                   {"org": ORG, "line_key": "k1", "category": "c.model", "confidence": 0.59}])
    assert rows["k0"]["category"] == "c.model" and rows["k1"]["category"] == "c.art"


def test_an_art_function_row_for_any_function_and_side_ties_with_the_art_alone_which_wins_by_its_rule_name(con):
    any_function = {"art": "115", "function": "", "investment": "", "category": "c.any"}
    operating = {"art": "115", "function": "", "investment": "D", "category": "c.operating"}
    lines = line_table({**COFFEE, "function": "253"}, {**COFFEE, "function": "253", "investment": True})
    rows = classified(con, lines, art_functions=[any_function])
    assert [(r["category"], r["rule"]) for r in rows.values()] == [("c.art", "kostra_art:115")] * 2
    rows = classified(con, lines, art_functions=[any_function, operating])  # a side is more specific than none
    assert (rows["k0"]["category"], rows["k0"]["rule"]) == ("c.operating", "kostra_art_function:115::D")
    assert rows["k1"]["category"] == "c.art"
    rows = classified(con, lines, art_functions=[any_function], art_categories={"116": "c.other"})
    assert [(r["category"], r["rule"], r["confidence"]) for r in rows.values()] == \
        [("c.any", "kostra_art_function:115::", 0.5)] * 2  # without a category of the art, the row places it


def test_a_line_no_level_places_has_no_classification(con):
    rows = classified(con, line_table({**COFFEE, "art": "010"}, {**COFFEE, "art": ""}))
    assert rows == {}


# --- method, factor and kg per line ------------------------------------------------------------------------

def spend(category, value, *, price_year=2026, currency="NOK", tier=1, ref=None, quality=4, low=None, high=None):
    return [{"category": category, "year": y, "value": value, "low": value / 2 if low is None else low,
             "high": value * 2 if high is None else high, "price_year": price_year, "currency": currency,
             "ref": ref or f"{category}@{tier}", "quality": quality, "tier": tier} for y in YEARS]


def activity(category, unit, value, *, ref="act", quality=2, priority=0):
    return [{"category": category, "year": y, "unit": unit, "value": value, "low": value / 2, "high": value * 2,
             "ref": ref, "quality": quality, "priority": priority} for y in YEARS]


def supplier(orgnr, value, *, price_year=2024, currency="NOK", ref="sup", quality=1, priority=0):
    return [{"supplier_orgnr": orgnr, "year": y, "value": value, "low": value / 2, "high": value * 2,
             "price_year": price_year, "currency": currency, "ref": ref, "quality": quality, "priority": priority}
            for y in YEARS]


CATEGORIES = {"115": "goods.food.meat", "180": "energy.electricity", "270": "services.other"}
PARENTS = {"goods": None, "goods.food": "goods", "goods.food.meat": "goods.food", "energy.electricity": None,
           "services.other": None}
CONVERSION_SCHEMA = pa.schema([("from_unit", pa.string()), ("to_unit", pa.string()), ("multiplier", pa.float64())])
PRICE_SCHEMA = pa.schema([("year", pa.int32()), ("cpi", pa.float64())])
RATE_SCHEMA = pa.schema([("year", pa.int32()), ("currency", pa.string()), ("nok_per_unit", pa.float64())])
MEMBER_SCHEMA = pa.schema([("orgnr", pa.string())])
CONVERSIONS = [("kWh", "kWh", 1.0), ("kWh", "MWh", 0.001), ("MWh", "MWh", 1.0), ("MWh", "kWh", 1000.0),
               ("kg", "kg", 1.0)]


def results(con, *rows, spend_factors=(), activity_factors=(), supplier_factors=(), cpi=None, rates=None,
            members=(ORG, MEMBER)) -> dict[str, dict]:
    cpi = CPI if cpi is None else cpi
    rates = [(y, "NOK", 1.0) for y in CPI] + ([(2022, "EUR", EUR_2022)] if rates is None else rates)
    return by_key(execute(
        con, "line_results", pipeline.line_results,
        lines=line_table(*rows),
        art_classes=runner.art_class_table(CATEGORIES),
        ancestors=runner.ancestor_table(PARENTS),
        spend_factors=table(runner.SPEND_SCHEMA, list(spend_factors)),
        activity_factors=table(runner.ACTIVITY_SCHEMA, list(activity_factors)),
        conversions=table(CONVERSION_SCHEMA, [dict(zip(CONVERSION_SCHEMA.names, c)) for c in CONVERSIONS]),
        supplier_factors=table(runner.SUPPLIER_SCHEMA, list(supplier_factors)),
        prices=table(PRICE_SCHEMA, [{"year": y, "cpi": v} for y, v in cpi.items()]),
        rates=table(RATE_SCHEMA, [dict(zip(RATE_SCHEMA.names, r)) for r in rates]),
        members=table(MEMBER_SCHEMA, [{"orgnr": m} for m in members]),
    ))


POWER = {"art": "180", "amount_ore": 1_000_000, "quantity": 5_000.0, "quantity_unit": "kWh", "supplier_orgnr": SUPPLIER}
POWER_SPEND = 10_000 * CPI[2026] / CPI[2024] * 0.035  # 369.386 227 544 9 kg


@pytest.mark.parametrize("factors, method, kg, ref, quality, deflator", [
    (("supplier", "activity", "spend"), "activity", 5_000 * 0.001 * 20.0, "act", 2, None),
    (("supplier", "spend"), "supplier", 10_000 * 0.02, "sup", 1, 1.0),
    (("activity", "spend"), "activity", 5_000 * 0.001 * 20.0, "act", 2, None),
    (("spend",), "spend", POWER_SPEND, "energy.electricity@1", 4, CPI[2026] / CPI[2024]),
    ((), None, 0.0, None, None, None),
])
def test_a_line_takes_the_activity_then_the_supplier_then_the_spend_factor(con, factors, method, kg, ref, quality,
                                                                           deflator):
    row = results(con, POWER,
                  supplier_factors=supplier(SUPPLIER, 0.02) if "supplier" in factors else (),
                  activity_factors=activity("energy.electricity", "MWh", 20.0) if "activity" in factors else (),
                  spend_factors=spend("energy.electricity", 0.035) if "spend" in factors else ())["k0"]
    assert (row["method"], row["factor_ref"], row["quality"], row["covered"]) == (method, ref, quality, bool(factors))
    assert row["kg_co2e"] == pytest.approx(kg, rel=1e-12)
    assert row["kg_low"] == pytest.approx(kg / 2, rel=1e-12) and row["kg_high"] == pytest.approx(kg * 2, rel=1e-12)
    assert row["deflator"] == (None if deflator is None else pytest.approx(deflator, rel=1e-12))
    assert row["exclusion"] == "" and row["category"] == "energy.electricity"


@pytest.mark.parametrize("quantity, unit", [(None, ""), (5.0, "kg")])
def test_an_activity_factor_needs_a_quantity_in_a_unit_that_converts_to_its_own(con, quantity, unit):
    row = results(con, {**POWER, "quantity": quantity, "quantity_unit": unit},
                  activity_factors=activity("energy.electricity", "MWh", 20.0),
                  spend_factors=spend("energy.electricity", 0.035))["k0"]
    assert row["method"] == "spend" and row["kg_co2e"] == pytest.approx(POWER_SPEND, rel=1e-12)


def test_of_two_activity_factors_the_better_quality_then_the_lower_priority_wins(con):
    rows = results(con, POWER, activity_factors=[*activity("energy.electricity", "MWh", 20.0, ref="a", quality=3),
                                                 *activity("energy.electricity", "kWh", 0.03, ref="b", quality=2,
                                                           priority=1),
                                                 *activity("energy.electricity", "MWh", 25.0, ref="c", quality=2,
                                                           priority=2)])
    # per line unit (kWh) the candidates are b (quality 2, priority 1), c (2, 2) and a (3): b wins
    assert rows["k0"]["factor_ref"] == "b" and rows["k0"]["kg_co2e"] == pytest.approx(5_000 * 0.03, rel=1e-12)


@pytest.mark.parametrize("factors, ref, value", [
    (spend("goods", 0.01) + spend("goods.food", 0.02) + spend("goods.food.meat", 0.03), "goods.food.meat@1", 0.03),
    (spend("goods", 0.01) + spend("goods.food", 0.02), "goods.food@1", 0.02),
    (spend("goods", 0.01), "goods@1", 0.01),
])
def test_a_category_without_a_spend_factor_takes_its_nearest_ancestors(con, factors, ref, value):
    row = results(con, {"art": "115", "amount_ore": 100_000, "year": 2024}, spend_factors=factors)["k0"]
    assert (row["category"], row["factor_ref"], row["factor_value"]) == ("goods.food.meat", ref, value)
    assert row["kg_co2e"] == pytest.approx(1_000 * CPI[2026] / CPI[2024] * value, rel=1e-12)


def test_the_fallback_set_covers_only_categories_the_chosen_set_has_no_factor_for(con):
    factors = [*spend("goods.food", 0.02, ref="dfo-food"), *spend("goods.food", 0.5, tier=2, ref="epa-food"),
               *spend("energy.electricity", 0.3, tier=2, ref="epa-power"),
               *spend("goods.food.meat", 0.9, tier=2, ref="epa-meat"), *spend("goods", 0.01, ref="dfo-goods")]
    rows = results(con, {"art": "115", "amount_ore": 100_000}, {"art": "180", "amount_ore": 100_000},
                   spend_factors=[f for f in factors if f["ref"] != "epa-meat"])
    assert rows["k0"]["factor_ref"] == "dfo-food" and rows["k1"]["factor_ref"] == "epa-power"
    # the set counts before the nearer category (method v2, ranks 4 and 5): the chosen set's factor for food,
    # the parent, beats the fallback set's own factor for meat
    rows = results(con, {"art": "115", "amount_ore": 100_000}, spend_factors=factors)
    assert rows["k0"]["factor_ref"] == "dfo-food"
    assert (rows["k0"]["factor_rank"], rows["k0"]["factor_basis"], rows["k0"]["factor_category"]) == (
        4, "spend", "goods.food")


def test_spend_is_moved_to_the_factors_price_year_with_the_consumer_price_index(con):
    row = results(con, {"art": "270", "year": 2022, "amount_ore": 1_000_000},
                  spend_factors=spend("services.other", 0.02, low=0.01, high=0.05))["k0"]
    # 10 000 NOK of 2022 = 10 000 × 141.0 / 122.8 = 11 482.084 690 55 NOK of 2026
    assert row["deflator"] == pytest.approx(141.0 / 122.8, rel=1e-12)
    assert row["kg_co2e"] == pytest.approx(229.641_693_811, rel=1e-11)
    assert (row["kg_low"], row["kg_high"]) == (pytest.approx(114.820_846_906, rel=1e-11),
                                               pytest.approx(574.104_234_528, rel=1e-11))


def test_a_factor_in_euro_applies_to_spend_moved_to_its_price_year_and_converted_at_that_years_rate(con):
    row = results(con, {"art": "270", "year": 2024, "amount_ore": 1_162_900},
                  spend_factors=spend("services.other", 0.5, price_year=2022, currency="EUR"))["k0"]
    # 11 629 NOK of 2024 × 122.8 / 133.6 = 10 688.823 353 29 NOK of 2022 ÷ 10.1026 = 1 058.037 647 5 EUR × 0.5
    assert row["kg_co2e"] == pytest.approx(529.018_823_75, rel=1e-11)
    assert row["method"] == "spend"


@pytest.mark.parametrize("cpi, rates, why", [
    ({y: v for y, v in CPI.items() if y != 2024}, None, "no CPI for the line's year"),
    ({y: v for y, v in CPI.items() if y != 2022}, None, "no CPI for the factor's price year"),
    (None, [], "no EUR rate for the factor's price year"),
])
def test_a_spend_factor_without_its_price_index_or_rate_leaves_the_line_uncovered(con, cpi, rates, why):
    row = results(con, {"art": "270", "year": 2024, "amount_ore": 100_000}, cpi=cpi, rates=rates,
                  spend_factors=spend("services.other", 0.5, price_year=2022, currency="EUR"))["k0"]
    assert (row["method"], row["covered"], row["kg_co2e"]) == (None, False, 0.0), why


EXCLUSION_CASES = [  # line, its exclusion ('' = a purchase)
    ({"art": "010"}, "wages"),
    ({"art": "429"}, "transfer"),
    ({"art": "290"}, "internal"),
    ({"art": ""}, "unknown_art"),                                # a ledger line must say its art
    ({"art": "", "source": "ehf", "org": "800000000"}, ""),     # an invoice line need not: it is a purchase
    ({"art": "115"}, ""),
]


def test_only_a_purchase_gets_a_factor(con):
    rows = results(con, *({"amount_ore": 100_000, "supplier_orgnr": SUPPLIER, **line} for line, _ in EXCLUSION_CASES),
                   spend_factors=spend("goods", 0.01), supplier_factors=supplier(SUPPLIER, 0.02))
    assert [rows[f"k{i}"]["exclusion"] for i in range(len(EXCLUSION_CASES))] == [e for _, e in EXCLUSION_CASES]
    for i, (_, exclusion) in enumerate(EXCLUSION_CASES):
        row = rows[f"k{i}"]
        if exclusion:
            assert (row["method"], row["covered"], row["kg_co2e"], row["kg_high"]) == (None, False, 0.0, 0.0)
        else:
            assert row["method"] == "supplier" and row["kg_co2e"] == pytest.approx(1_000 * 0.02, rel=1e-12)


def test_ledger_lines_an_invoice_replaced_are_excluded_and_the_invoice_carries_the_emissions(con):
    rows = results(con, {"supplier_orgnr": SUPPLIER, "invoice_no": "F1", "amount_ore": 100_000, "art": "115"},
                   _invoice(100_000), spend_factors=spend("goods", 0.01))
    assert (rows["k0"]["exclusion"], rows["k0"]["kg_co2e"], rows["k0"]["method"]) == ("invoice_detail", 0.0, None)
    assert (rows["k1"]["exclusion"], rows["k1"]["art"], rows["k1"]["category"]) == ("", "115", "goods.food.meat")
    assert rows["k1"]["kg_co2e"] == pytest.approx(1_000 * CPI[2026] / CPI[2024] * 0.01, rel=1e-12)


def test_a_purchase_from_another_organisation_of_the_region_is_intra_region(con):
    cases = [(ORG, MEMBER, True),         # from another organisation of the region
             (MEMBER, ORG, True),
             (ORG, ORG, False),           # its own
             (ORG, SUPPLIER, False),      # outside the region
             (ORG, "", False)]
    rows = results(con, *({"org": org, "supplier_orgnr": supplier_orgnr, "amount_ore": 100}
                          for org, supplier_orgnr, _ in cases))
    assert [rows[f"k{i}"]["intra_region"] for i in range(len(cases))] == [intra for *_, intra in cases]


# --- aggregates and summary -------------------------------------------------------------------------------

def test_aggregates_sum_lines_per_aggregate_key_and_the_summary_rolls_them_up_without_unit_supplier_and_art(con):
    base = {"org": ORG, "year": 2024, "month": 3, "unit": "1000", "category": "goods.food", "supplier_orgnr": "S1",
            "art": "115", "investment": False, "source": "ledger", "exclusion": "", "covered": True,
            "method": "spend", "quality": 4, "intra_region": False}
    rows = [  # the first line's market-based kg differs from its kg (as an electricity line's may)
        {**base, "amount_ore": 1_000, "kg_co2e": 1.5, "kg_co2e_market": 3.0, "kg_low": 1.0, "kg_high": 2.0},
        {**base, "amount_ore": 250, "kg_co2e": 0.25, "kg_co2e_market": 0.25, "kg_low": 0.125, "kg_high": 0.5},
        {**base, "supplier_orgnr": "S2", "unit": "2000", "art": "120", "amount_ore": 500, "kg_co2e": 0.5,
         "kg_co2e_market": 0.5, "kg_low": 0.25, "kg_high": 1.0},
        {**base, "month": 4, "amount_ore": 7, "kg_co2e": 0.0, "kg_co2e_market": 0.0, "kg_low": 0.0, "kg_high": 0.0},
    ]
    lines = pa.Table.from_pylist(rows)
    sums = ["spend_ore", "kg_co2e", "kg_co2e_market", "kg_low", "kg_high", "lines"]
    aggregated = execute(con, "aggregates", pipeline.aggregates, results=lines)
    assert sorted((r["month"], r["supplier_orgnr"], *(r[s] for s in sums)) for r in aggregated) == [
        (3, "S1", 1_250, 1.75, 3.25, 1.125, 2.5, 2), (3, "S2", 500, 0.5, 0.5, 0.25, 1.0, 1),
        (4, "S1", 7, 0.0, 0.0, 0.0, 0.0, 1)]
    assert set(aggregated[0]) == set(pipeline.AGGREGATE_KEYS) | set(sums)
    rolled = execute(con, "summary", lambda t: pipeline.summary(pipeline.aggregates(t)), results=lines)
    assert sorted((r["month"], *(r[s] for s in sums)) for r in rolled) == [
        (3, 1_750, 2.25, 3.75, 1.375, 3.5, 3), (4, 7, 0.0, 0.0, 0.0, 0.0, 1)]
    assert set(rolled[0]) == set(pipeline.SUMMARY_KEYS) | set(sums)
    assert set(pipeline.AGGREGATE_KEYS) - set(pipeline.SUMMARY_KEYS) == {"unit", "supplier_orgnr", "art"}


# --- what changed between two runs, and why (issue 16 item 4) -----------------------------------------------------

def result_lines(*rows: dict) -> pa.Table:
    """Line results (the columns pipeline.changes reads): a counted spend-based purchase of food by ORG in March
    2024 unless a row says otherwise."""
    defaults = dict(org=ORG, year=2024, month=3, unit="U1", category="goods.food", investment=False, exclusion="",
                    intra_region=False, method="spend", factor_ref="dfo#1", factor_value=0.5, kg_co2e=0.0)
    schema = pa.schema([(c, {"string": pa.string(), "int32": pa.int32(), "boolean": pa.bool_(),
                             "float64": pa.float64()}[t]) for c, t in pipeline.CHANGE_COLUMNS.items()])
    return pa.Table.from_pylist([{**defaults, **row} for row in rows], schema=schema)


def changes_of(con, before: pa.Table, after: pa.Table) -> dict[tuple, dict]:
    rows = execute(con, "changes", pipeline.changes, change_before=before, change_after=after)
    return {(r["org"], r["category"], r["intra_region"]): r for r in rows}


def test_the_change_between_two_runs_is_split_by_cause_and_the_causes_add_up(con):
    before = result_lines(
        {"line_key": "same", "kg_co2e": 100.0},                                  # unchanged
        {"line_key": "gone", "kg_co2e": 40.0},                                   # removed
        {"line_key": "moved", "kg_co2e": 30.0},                                  # food → cleaning
        {"line_key": "factor", "kg_co2e": 50.0},                                 # a new DFØ version
        {"line_key": "litres", "kg_co2e": 80.0},                                 # spend → activity
        {"line_key": "cpi", "kg_co2e": 10.0},                                    # the price index revised
        {"line_key": "wages", "kg_co2e": 0.0, "exclusion": "wages", "method": None},   # never counts
        {"line_key": "kostra", "kg_co2e": 60.0, "org": MEMBER})                  # steps aside for a ledger
    after = result_lines(
        {"line_key": "same", "kg_co2e": 100.0},
        {"line_key": "moved", "kg_co2e": 12.0, "category": "goods.cleaning", "factor_ref": "dfo#2"},
        {"line_key": "factor", "kg_co2e": 55.0, "factor_ref": "dfo2#1", "factor_value": 0.55},
        {"line_key": "litres", "kg_co2e": 20.0, "method": "activity", "factor_ref": "desnz#9"},
        {"line_key": "cpi", "kg_co2e": 10.5},
        {"line_key": "wages", "kg_co2e": 0.0, "exclusion": "wages", "method": None},
        {"line_key": "new", "kg_co2e": 7.0},                                     # a new line
        {"line_key": "kostra", "kg_co2e": 60.0, "org": MEMBER, "exclusion": "covered_by_kostra", "method": None},
        {"line_key": "ledger", "kg_co2e": 65.0, "org": MEMBER})
    cells = changes_of(con, before, after)
    food, cleaning, member = (cells[(ORG, "goods.food", False)], cells[(ORG, "goods.cleaning", False)],
                              cells[(MEMBER, "goods.food", False)])
    # by hand, ORG's food: before 100 + 40 + 30 + 50 + 80 + 10 = 310; after 100 + 55 + 20 + 10.5 + 7 = 192.5
    assert food["kg_before"] == pytest.approx(310.0) and food["kg_after"] == pytest.approx(192.5)
    assert food["new_lines_kg"] == pytest.approx(7.0) and food["removed_lines_kg"] == pytest.approx(-40.0)
    assert food["reclassified_kg"] == pytest.approx(-30.0)           # the line left food with its 30 kg
    assert food["factors_kg"] == pytest.approx(5.0) and food["method_kg"] == pytest.approx(-60.0)
    assert food["other_kg"] == pytest.approx(0.5)
    assert (food["new_lines_lines"], food["removed_lines_lines"], food["method_lines"]) == (1, 1, 1)
    # ... and entered cleaning with 12 kg: reclassified in both cells, -30 + 12 = -18 in the organisation's total
    assert cleaning["kg_before"] == 0.0 and cleaning["reclassified_kg"] == pytest.approx(12.0)
    assert cleaning["reclassified_lines"] == 1 and food["reclassified_lines"] == 0
    # MEMBER: the KOSTRA line (60) stepped aside for the ledger line (65): one removed, one new
    assert member["removed_lines_kg"] == pytest.approx(-60.0) and member["new_lines_kg"] == pytest.approx(65.0)
    for cell in cells.values():
        parts = sum(cell[f"{c}_kg"] for c in pipeline.CHANGE_CAUSES)
        assert parts == pytest.approx(cell["kg_after"] - cell["kg_before"], abs=1e-9)


def test_without_a_previous_run_every_line_is_new(con):
    after = result_lines({"line_key": "a", "kg_co2e": 3.0}, {"line_key": "b", "kg_co2e": 4.0, "intra_region": True})
    cells = changes_of(con, after.slice(0, 0), after)
    assert cells[(ORG, "goods.food", False)]["new_lines_kg"] == 3.0
    assert cells[(ORG, "goods.food", True)]["new_lines_kg"] == 4.0        # kept apart: consolidation leaves it out
    assert all(c["kg_before"] == 0.0 for c in cells.values())


def test_a_line_netted_out_as_a_purchase_between_members_is_another_cause_in_consolidated_cells(con):
    before = result_lines({"line_key": "a", "kg_co2e": 9.0})
    after = result_lines({"line_key": "a", "kg_co2e": 9.0, "intra_region": True})
    cells = changes_of(con, before, after)
    assert cells[(ORG, "goods.food", False)]["other_kg"] == -9.0
    assert cells[(ORG, "goods.food", True)]["other_kg"] == 9.0
