"""Reads of computed lines (the lineage of every figure), always scoped."""
from __future__ import annotations

import ibis
from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.selectors.results import NoResults, Run, _lines_table, cached, latest_run, scoped
from klimainnkjop.storage import linestore

LINE_COLUMNS = ["org", "line_key", "source", "year", "month", "unit", "art", "category", "supplier_orgnr",
                "investment", "exclusion", "amount_ore", "quantity", "quantity_unit", "method", "factor_ref",
                "factor_value", "quality", "deflator", "kg_co2e", "kg_low", "kg_high", "classification_rule",
                "classification_confidence", "intra_region", "posting_date", "supplier_name", "description",
                "invoice_no", "item_name", "item_class_scheme", "item_class_code"]

# "why this factor" (method v2): the rank of engine.pipeline.FACTOR_RANKS the line's factor came from, and the
# category whose factor it is (the line's own or its nearest ancestor's)
WHY_COLUMNS = ["factor_rank", "factor_basis", "factor_category"]


def _run(scope: Scope, org: str) -> Run:
    scope.check(org)
    run = latest_run()
    if run is None:
        raise NoResults()
    return run


def _lines(scope: Scope, org: str, run: Run | None = None) -> ibis.Table:
    scope.check(org)
    run = run or _run(scope, org)
    return scoped(_lines_table(linestore.absolute(run.run.result_dir), org).filter(_.org == org), scope)


NO_VALUE = "-"  # a filter value meaning "without": no category, no unit, no supplier, not covered (method)
ORDERS = {"kg": [ibis.desc("kg_co2e"), "line_key"], "amount": [ibis.desc("amount_ore"), "line_key"]}


def _filtered(scope: Scope, *, org: str, year: int | None = None, category: str | None = None,
              exclusion: str | None = "", units: list[str] | None = None, supplier: str | None = None,
              method: str | None = None, months: list[int] | None = None, project: str | None = None,
              run: Run | None = None) -> ibis.Table:
    """The organisation's lines narrowed by the drill-down filters (None: no filter on that key;
    NO_VALUE: lines without a value for it). `project`: a construction project's lines, the investment lines
    with that ledger project number (none in a run made before lines carried their project)."""
    table = _lines(scope, org, run)
    if project is not None:
        if "project" not in table.columns:
            return table.filter(ibis.literal(False))
        table = table.filter((_.project == project) & _.investment)
    if year is not None:
        table = table.filter(_.year == year)
    if months is not None:
        table = table.filter(_.month.isin(list(months) or [-1]))
    for column, value in (("category", category), ("supplier_orgnr", supplier), ("method", method)):
        if value == NO_VALUE:
            table = table.filter(table[column].isnull() | (table[column] == ""))
        elif value is not None:
            table = table.filter(table[column] == value)
    if units is not None:
        wanted = [u for u in units if u != NO_VALUE]
        cond = _.unit.isin(wanted or [""])
        if NO_VALUE in units:
            cond = cond | _.unit.isnull() | (_.unit == "")
        table = table.filter(cond)
    if exclusion is not None:
        table = table.filter(_.exclusion == exclusion)
    return table


CACHED_ROWS = 200  # a page of the drill-down list is cached per run and scope; exports are not


def _filter_key(filters: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in filters.items()))


def lines(scope: Scope, *, org: str, year: int | None = None, category: str | None = None,
          exclusion: str | None = "", limit: int | None = 50, offset: int = 0, units: list[str] | None = None,
          supplier: str | None = None, method: str | None = None, months: list[int] | None = None,
          order: str = "kg", project: str | None = None) -> list[dict]:
    """Lines of one organisation, largest emissions (order="amount": largest amount) first
    (exclusion None: every line; limit None: all of them). A page (limit up to CACHED_ROWS) is cached per
    compute run and scope, as the dashboards' figures are: a run's lines never change."""
    filters = {"year": year, "category": category, "exclusion": exclusion, "units": units, "supplier": supplier,
               "method": method, "months": months}
    if project is not None:
        filters["project"] = project
    run = _run(scope, org)

    def read() -> list[dict]:
        table = _filtered(scope, org=org, run=run, **filters).select(*LINE_COLUMNS).order_by(ORDERS[order])
        if limit is not None:
            table = table.limit(limit, offset=offset)
        elif offset:
            table = table.limit(None, offset=offset)
        return table.to_pyarrow().to_pylist()

    if limit is None or limit > CACHED_ROWS:
        return read()
    return cached("lines", scope, run, (org, _filter_key(filters), limit, offset, order), read)


def lines_total(scope: Scope, *, org: str, **filters) -> dict:
    """How many lines the same filters give, and their sums (amount in NOK, kg CO2e with its range); cached
    per compute run and scope."""
    run = _run(scope, org)

    def read() -> dict:
        table = _filtered(scope, org=org, run=run, **filters)
        row = table.aggregate(lines=_.count(), amount_ore=_.amount_ore.sum(), kg_co2e=_.kg_co2e.sum(),
                              kg_low=_.kg_low.sum(), kg_high=_.kg_high.sum()).to_pyarrow().to_pylist()[0]
        return {"lines": int(row["lines"] or 0), "amount_nok": (row["amount_ore"] or 0) / 100,
                "kg_co2e": float(row["kg_co2e"] or 0.0), "kg_low": float(row["kg_low"] or 0.0),
                "kg_high": float(row["kg_high"] or 0.0)}

    return cached("lines-total", scope, run, (org, _filter_key(filters)), read)


def explain_line(scope: Scope, *, org: str, line_key: str) -> dict:
    """Why is this line in this category, with this factor? Everything the engine decided for it."""
    table = _lines(scope, org)
    why = [c for c in WHY_COLUMNS if c in table.columns]  # runs before method v2 have none of them
    rows = table.filter(_.line_key == line_key).select(*LINE_COLUMNS, *why).to_pyarrow().to_pylist()
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
