"""Reads of computed lines (the lineage of every figure), always scoped."""
from __future__ import annotations

import ibis
from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.selectors.results import NoResults, _table, latest_run, scoped
from klimainnkjop.storage import linestore

LINE_COLUMNS = ["org", "line_key", "source", "year", "month", "unit", "art", "category", "supplier_orgnr",
                "investment", "exclusion", "amount_ore", "quantity", "quantity_unit", "method", "factor_ref",
                "factor_value", "quality", "deflator", "kg_co2e", "kg_low", "kg_high", "classification_rule",
                "classification_confidence", "intra_region", "posting_date", "supplier_name", "description",
                "invoice_no", "item_name", "item_class_scheme", "item_class_code"]


def _lines(scope: Scope, org: str) -> ibis.Table:
    scope.check(org)
    run = latest_run()
    if run is None:
        raise NoResults("nothing computed yet; run `klimainnkjop compute`")
    return scoped(_table(linestore.absolute(run.run.result_dir) / "lines.parquet").filter(_.org == org), scope)


def lines(scope: Scope, *, org: str, year: int | None = None, category: str | None = None,
          exclusion: str | None = "", limit: int = 50, offset: int = 0) -> list[dict]:
    """Lines of one organisation, largest emissions first (exclusion None: every line)."""
    table = _lines(scope, org)
    if year is not None:
        table = table.filter(_.year == year)
    if category is not None:
        table = table.filter(_.category == category)
    if exclusion is not None:
        table = table.filter(_.exclusion == exclusion)
    table = table.select(*LINE_COLUMNS).order_by([ibis.desc("kg_co2e"), "line_key"])
    return table.limit(limit, offset=offset).to_pyarrow().to_pylist()


def explain_line(scope: Scope, *, org: str, line_key: str) -> dict:
    """Why is this line in this category, with this factor? Everything the engine decided for it."""
    rows = _lines(scope, org).filter(_.line_key == line_key).select(*LINE_COLUMNS).to_pyarrow().to_pylist()
    if not rows:
        raise LookupError(f"no line {line_key} in {org}")
    return rows[0]


def review_queue(scope: Scope, *, org: str, limit: int = 50) -> list[dict]:
    """Purchase lines whose classification is least certain, ordered by the emissions at stake:
    the line's uncertainty range (kg) × (1 − classification confidence); unclassified lines first."""
    table = _lines(scope, org).filter(_.exclusion == "")
    confidence = ibis.coalesce(_.classification_confidence, ibis.literal(0.0))
    at_stake = (ibis.greatest(_.kg_high - _.kg_low, _.amount_ore.cast("float64") / 100 * 0.05)) * (1 - confidence)
    table = table.mutate(at_stake=at_stake).filter(_.at_stake > 0)
    return table.select(*LINE_COLUMNS, "at_stake").order_by([ibis.desc("at_stake"), "line_key"]) \
        .limit(limit).to_pyarrow().to_pylist()
