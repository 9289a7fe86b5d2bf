"""The per-line calculation, written once as ibis expressions.

Runs on DuckDB by default and is meant to run unchanged on Spark: no engine-specific SQL, no as-of
joins (factor validity is expanded to year keys), no Python UDFs. Money stays int64 øre until the
final multiplication, emissions are float64 kg CO2e.

Inputs (ibis tables):
  lines         the line store schema (storage.linestore.LINE_SCHEMA)
  art_classes   art, exclusion ('' for a purchase, else the reason), category (nullable)
  factors       category, year, factor_value, price_year, factor_currency, factor_ref   (one row per year key)
  prices        year, cpi
  rates         year, currency, nok_per_unit   (NOK itself included with 1.0)
"""
from __future__ import annotations

import ibis
from ibis import _

AGGREGATE_KEYS = ["org", "year", "month", "unit", "category", "supplier_orgnr", "art", "investment", "source",
                  "exclusion", "covered"]


def preferred_source(lines: ibis.Table) -> ibis.Table:
    """A KOSTRA file is a year's baseline; where ledger lines exist for the same organisation and year,
    they are more detailed and the KOSTRA lines of that year step aside (no double counting)."""
    ledger_years = lines.filter(_.source != "kostra").select("org", "year").distinct()
    kostra = lines.filter(_.source == "kostra").anti_join(ledger_years, ["org", "year"])
    return lines.filter(_.source != "kostra").union(kostra)


def line_results(lines: ibis.Table, art_classes: ibis.Table, factors: ibis.Table, prices: ibis.Table,
                 rates: ibis.Table) -> ibis.Table:
    lines = preferred_source(lines)
    classified = lines.left_join(art_classes, lines.art == art_classes.art).select(
        *[lines[c] for c in lines.columns],
        exclusion=ibis.coalesce(art_classes.exclusion, ibis.literal("unknown_art")),
        category=art_classes.category,
    )
    with_factor = classified.left_join(
        factors, (classified.category == factors.category) & (classified.year == factors.year)
    ).select(
        *[classified[c] for c in classified.columns],
        factor_value=factors.factor_value, price_year=factors.price_year,
        factor_currency=factors.factor_currency, factor_ref=factors.factor_ref,
    )
    line_cpi = prices.select(cpi_year=_.year, cpi_line=_.cpi)
    factor_cpi = prices.select(cpi_price_year=_.year, cpi_factor=_.cpi)
    fx = rates.select(fx_year=_.year, fx_currency=_.currency, fx_nok=_.nok_per_unit)
    t = with_factor.left_join(line_cpi, with_factor.year == line_cpi.cpi_year)
    t = t.left_join(factor_cpi, t.price_year == factor_cpi.cpi_price_year)
    t = t.left_join(fx, (t.price_year == fx.fx_year) & (t.factor_currency == fx.fx_currency))
    purchase = t.exclusion == ""
    computable = purchase & t.factor_value.notnull() & t.cpi_line.notnull() & t.cpi_factor.notnull() & t.fx_nok.notnull()
    # spend in the factor's currency at the factor's price year
    spend_at_price_year = (t.amount_ore.cast("float64") / 100.0) * (t.cpi_factor / t.cpi_line) / t.fx_nok
    return t.select(
        "line_key", "org", "batch", "source", "year", "month", "unit", "art", "category", "supplier_orgnr",
        "investment", "exclusion", "amount_ore", "factor_ref", "factor_value", "price_year",
        deflator=ibis.ifelse(computable, t.cpi_factor / t.cpi_line, ibis.null("float64")),
        covered=computable,
        kg_co2e=ibis.ifelse(computable, spend_at_price_year * t.factor_value, ibis.literal(0.0)),
    )


def aggregates(results: ibis.Table) -> ibis.Table:
    """Organisation × year × month × unit × category × supplier × art × investment, for the pages to read."""
    return results.group_by(AGGREGATE_KEYS).aggregate(
        spend_ore=_.amount_ore.sum(),
        kg_co2e=_.kg_co2e.sum(),
        lines=_.count(),
    )
