"""Which agreement a purchase was bought under: the one matching rule, as ibis expressions over the results.

A purchase (a row of the run's aggregates with exclusion '') counts for an agreement when
  1. its supplier orgnr is one of the agreement's suppliers,
  2. the buying organisation is one of the agreement's participants, and
  3. its month lies within the agreement's period (the months of its start and current end, both included;
     KOSTRA's annual lines, month 0, have no supplier and never match).
Where several agreements match one purchase, it counts once, for the best of them:
  a. an agreement whose categories include the purchase's category or one of its ancestors (a purchase in
     goods.food.beef fits an agreement for goods.food), before one without categories, before one whose
     categories do not fit (the supplier also sold something else);
  b. then the agreement that started last; c. then the lowest agreement id.
So the agreements' figures add up to the purchases of their suppliers, participants and periods.

`rules` has one row per agreement × supplier × participant × category (category '' when the agreement names
none): agreement (int64), supplier_orgnr, org, first_period, last_period (year * 100 + month), category,
start_period.
"""
from __future__ import annotations

import ibis
from ibis import _

RULE_SCHEMA = {"agreement": "int64", "supplier_orgnr": "string", "org": "string", "first_period": "int64",
               "last_period": "int64", "category": "string", "start_period": "int64"}
MATCH_KEYS = ["org", "year", "month", "unit", "category", "supplier_orgnr", "art", "investment", "source",
              "exclusion", "covered", "method", "quality", "intra_region"]


def rule_table(rows: list[dict]) -> ibis.Table:
    """The rules as an ibis table (an empty list gives an empty table of the same schema)."""
    import pyarrow as pa

    schema = ibis.schema(RULE_SCHEMA)
    columns = {name: [row[name] for row in rows] for name in RULE_SCHEMA}
    return ibis.memtable(pa.table(columns, schema=schema.to_pyarrow()))


def matched(aggregates: ibis.Table, rules: ibis.Table) -> ibis.Table:
    """The purchases of `aggregates` that count for an agreement, each once, with its `agreement` column."""
    keys = [k for k in MATCH_KEYS if k in aggregates.columns]
    purchases = aggregates.filter((_.exclusion == "") & (_.supplier_orgnr != "") & (_.month > 0))
    purchases = purchases.mutate(period=_.year.cast("int64") * 100 + _.month.cast("int64"))
    joined = purchases.join(rules.rename(rule_category="category"), ["supplier_orgnr", "org"])
    joined = joined.filter((joined.period >= joined.first_period) & (joined.period <= joined.last_period))
    category = joined.category.fill_null("")
    fit = ibis.cases(
        (joined.rule_category == "", 1),
        ((category == joined.rule_category) | category.startswith(joined.rule_category + "."), 0),
        else_=2)
    joined = joined.mutate(fit=fit)
    rank = ibis.row_number().over(group_by=keys, order_by=["fit", ibis.desc("start_period"), "agreement"])
    return joined.mutate(rank=rank).filter(_.rank == 0).drop("rank", "fit", "first_period", "last_period",
                                                            "rule_category", "start_period", "period")


def per_agreement(aggregates: ibis.Table, rules: ibis.Table, by: list[str] | None = None) -> ibis.Table:
    """Spend, kg CO2e (and its range), lines and spend a factor covers per agreement (and the `by` columns,
    e.g. year, investment)."""
    table = matched(aggregates, rules)
    return table.group_by(["agreement", *(by or [])]).aggregate(
        spend_ore=_.spend_ore.sum(), kg_co2e=_.kg_co2e.sum(), kg_low=_.kg_low.sum(), kg_high=_.kg_high.sum(),
        lines=_.lines.sum(), covered_ore=ibis.ifelse(_.covered, _.spend_ore, 0).sum())
