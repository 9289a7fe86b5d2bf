"""The per-line calculation, written once as ibis expressions. This is the one place where a line's
factor is resolved.

Runs on DuckDB by default and is meant to run unchanged on Spark: no engine-specific SQL, no as-of
joins (factor validity is expanded to year keys), no Python UDFs; choices between candidates are
windows (row_number) over explicit priorities. Money stays int64 øre until the final
multiplication; emissions are float64 kg CO2e.

Factor choice by quality (FACTOR_RANKS, stated once here; a line takes the best rank it can use and
records it as `factor_rank` and `factor_basis`, "why this factor"):
  1 supplier_product   the supplier's product-level data (an EPD per unit of product): no source of such
                       data is loaded yet, the rank is kept so that it will come first when there is
  2 activity           physical activity: quantity × factor per physical unit (litres, kWh, kg)
  3 supplier_company   the supplier's company-level intensity (kg CO2e per NOK, SupplierFactor)
  4 spend              the chosen spend set (Norwegian, DFØ by default) for the line's category or its
                       nearest ancestor that has one
  5 spend_fallback     the foreign fallback set (EPA, role spend-fallback) for the category or its nearest
                       ancestor, only where the chosen set has no factor on the category's whole path
Inside a rank the data-quality score decides (activity: nearest category, then quality, then set
priority; supplier: quality, then the newest entry). So litres on an invoice beat a fuel supplier's
company-wide kg/NOK, and a Norwegian parent's factor beats a foreign factor for a subcategory.
Spend-based: NOK excl. VAT moved to the factor's price year with the CPI and converted to its currency.

Inputs (ibis tables):
  lines            the line store schema (storage.linestore.LINE_SCHEMA)
  art_classes      art, exclusion ('' for a purchase, else the reason), category (nullable)
  ancestors        category, ancestor, depth   (depth 0 = the category itself)
  spend_factors    category, year, value, low, high, price_year, currency, ref, quality, tier
                   (tier 1 = the chosen spend set, 2 = the fallback set)
  activity_factors category, year, unit, value, low, high, ref, quality, priority
  conversions      from_unit, to_unit, multiplier     (line unit → factor unit, made with pint)
  supplier_factors supplier_orgnr, year, value, low, high, price_year, currency, ref, quality, priority
  prices           year, cpi
  rates            year, currency, nok_per_unit   (NOK itself included with 1.0)
  members          orgnr   (the organisations of the region: purchases between them are intra_region)
  art_functions    art, function, investment, category (optional; KOSTRA art × function → category, see classify)
  member_kinds     orgnr, kind ('kommune' | 'iks')  (optional; the region's members by kind, for the rule below)
  calculations     org, project, kg_co2e, ref   (optional; construction projects' climate calculations, see
                   apply_calculations)
  market_factors   category, year, unit, value, ref, price_nok, price_year   (optional; the market-based figure
                   for electricity, see MARKET-BASED below; years already resolved by runner.expand_nearest_earlier)

A ledger line whose art is missing or not a KOSTRA art is left out (`unknown_art`) unless the classifier is
confident of what was bought (CONFIDENT_WITHOUT_ART: a manual choice, a user rule, a product code, the text
model at 0.8 or more); then it is a purchase of that category.

Purchases between members (`intra_region`, left out of a consolidated region total, kept in an organisation's
own): a line whose supplier orgnr is another member's; and, where a line names no supplier (KOSTRA files,
ledgers without orgnr), a purchase on art 375 (from a joint company the organisation takes part in) when an
IKS member of the region has its own purchases in the same year, and on art 350 (from other municipalities)
when another municipality of the region has its own purchases in the same year (INTRA_REGION_ARTS). Without
such a member in that year the purchase is kept: nobody else counts it.

MARKET-BASED beside location-based (issue 15 item 4). `kg_co2e` is the account: location-based for electricity (NVE's
figure for electricity used in Norway by year). Every line also carries `kg_co2e_market`, the market-based figure:
for a line of a category with a market factor (electricity: NVE's residual mix, the supplier declaration) it is the
line's kWh times that factor, where the kWh are the quantity on the line (activity) or, for a spend-based line, its
NOK divided by the market factor's typical price moved to the line's year with the CPI (price_nok × cpi[line year] /
cpi[price_year]); a line whose factor is the supplier's own (ranks 1 and 3) keeps its kg, as does every other line,
so the market-based total = the total − the electricity lines' location-based kg + their market-based kg. The year
of the residual mix is the line's year or the nearest earlier published year (runner.expand_nearest_earlier, the
one place of that rule); before the first published year the line keeps its kg.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
from ibis import _

from klimainnkjop.engine.classify import classify_lines

AGGREGATE_KEYS = ["org", "year", "month", "unit", "category", "supplier_orgnr", "art", "investment", "source",
                  "exclusion", "covered", "method", "quality", "intra_region"]
# The small table most pages read: no unit, supplier or art (those questions go to the aggregates).
SUMMARY_KEYS = ["org", "year", "month", "category", "investment", "source", "exclusion", "covered", "method",
                "quality", "intra_region"]


INVOICE_SOURCES = ("ehf", "supplier_stats")
LEDGER_SOURCES = ("ledger", "saft")
DOC = ["org", "supplier_orgnr", "invoice_no"]
DIMENSIONS = ["unit", "function", "account", "art", "project", "investment"]

# a line whose art is missing or not a KOSTRA art counts as a purchase when classified with this confidence
CONFIDENT_WITHOUT_ART = 0.8

# art of a purchase without a supplier orgnr → the kind of member that sells it (see the module's docstring)
INTRA_REGION_ARTS = {"375": "iks", "350": "kommune"}

# the line columns line_results carries through its joins: those of its output and those classification reads (the
# other columns of the line store are not listed in every projection of the plan)
CARRIED = ("line_key", "org", "batch", "source", "year", "month", "unit", "art", "supplier_orgnr", "investment",
           "project", "amount_ore", "quantity", "quantity_unit", "posting_date", "supplier_name", "description",
           "invoice_no", "item_name", "item_class_scheme", "item_class_code", "function", "account")

# rank → basis, best first (see the module's docstring)
FACTOR_RANKS = {1: "supplier_product", 2: "activity", 3: "supplier_company", 4: "spend", 5: "spend_fallback"}




@dataclass(frozen=True)
class Present:
    """What the inputs hold, as the runner counts it before it builds a plan (runner.presence): a stage with
    nothing to work on is left out of the plan, which makes a small account's plan a fraction of the size
    DuckDB must bind and optimise (issue 20 item 3). Every flag True (the default) is the whole plan; a stage
    left out gives what it would have given on empty inputs (the same columns and values)."""
    invoices: bool = True          # lines from an invoice source (INVOICE_SOURCES): the invoice <-> ledger matching
    kostra: bool = True            # KOSTRA file lines: their stepping aside for a year with ledger lines
    quantities: bool = True        # lines with a quantity, and activity factors: the activity factor join
    supplier_factors: bool = True  # lines naming a supplier, and supplier factors: the supplier factor join
    fallback: bool = True          # spend factors of the fallback set (tier 2): the second plausible factor
    member_suppliers: bool = True  # lines bought from another member of the region: the members join
    intra_candidates: bool = True  # lines on an INTRA_REGION_ARTS art without a supplier (_sellers_in_the_total)
    item_codes: bool = True        # lines with an item classification code: classification level 4
    supplier_codes: bool = True    # lines naming a supplier, and suppliers with a NACE code: level 5
    rule_kinds: tuple = ("supplier", "account", "item_code", "keyword")  # kinds of user rules there are


# an invoice and the ledger's cost lines of the same supplier and number match when their sums differ by at most
# the greater of 1 NOK and 0.5 % of the ledger's sum
MATCH_TOLERANCE_ORE = 100
MATCH_TOLERANCE_SHARE = 0.005


def _cost_lines_with_doc(ledger: ibis.Table) -> ibis.Table:
    """The ledger side of an invoice: lines naming a supplier orgnr and an invoice number that are cost lines (a
    ledger export's lines as they are; of a SAF-T transaction only the lines with an art or a 3xxx-8xxx account,
    not its payable and VAT postings)."""
    return ledger.filter((_.invoice_no != "") & (_.supplier_orgnr != "")).filter(_is_cost_line(ledger))


def _is_cost_line(t: ibis.Table) -> ibis.BooleanValue:
    """A ledger line that is a cost: a ledger export's lines; of a SAF-T transaction those with an art or a
    3xxx-8xxx account."""
    return (t.source == "ledger") | (t.art != "") | t.account.substr(0, 1).isin(list("345678"))


def _largest_line_dimensions(with_doc: ibis.Table, dimensions: list[str]) -> dict:
    """The dimensions (d_unit, d_function, ...) of a document's largest ledger cost line (by absolute amount, then
    account), as aggregates over its lines (a struct of them, unpacked after, where there are several): those a
    matched invoice takes."""
    first = ibis.struct({"size": -with_doc.amount_ore.abs(), "account": with_doc.account})
    if len(dimensions) == 1:
        return {f"d_{dimensions[0]}": with_doc[dimensions[0]].argmin(first)}
    return {"largest": ibis.struct({f"d_{d}": with_doc[d] for d in dimensions}).argmin(first)}


def invoice_documents(lines: ibis.Table, present: Present = Present()) -> ibis.Table:
    """The invoice <-> ledger matching, the one rule: every (org, supplier_orgnr, invoice_no) that an invoice
    (EHF, supplier statistics) or a ledger cost line names, with both sides summed and `status`:
    `matched` (both, within MATCH_TOLERANCE_*), `amount_differs` (both, beyond it), `invoice_only`,
    `ledger_only`. reconcile_sources replaces the ledger lines of a matched document by the invoice's, which
    take the dimensions of the document's largest ledger line (d_unit, d_function, ...); the runner writes this
    table as the run's matches (matches/), which `klimainnkjop invoices match` reads.

    `ledger_line_keys` are listed for the documents an invoice names (a ledger-only document is listed by its
    sums: nothing replaces its lines); without invoice lines (`present.invoices`) every document is ledger-only
    and the invoice side is not computed."""
    ledger = _cost_lines_with_doc(lines.filter(_.source.isin(LEDGER_SOURCES)))
    # the dimensions of the document's largest line: all of them where a matched invoice may take them, else the
    # accounting unit only (so that a unit leader's scope applies to the matches as to the lines)
    largest = _largest_line_dimensions(ledger, DIMENSIONS if present.invoices else ["unit"])
    # which of the two ledger sources a document has lines from, as two flags (a min and max of the source text
    # per document cost more than the rest of the aggregate in a large run: benchmarks/README.md)
    first, last = sorted(LEDGER_SOURCES)
    ledger_docs = ledger.group_by(DOC).aggregate(
        ledger_ore=_.amount_ore.sum(), ledger_lines=_.count(), ledger_posting_date=_.posting_date.min(),
        has_first=(_.source == first).any(), has_last=(_.source == last).any(),
        ledger_supplier_name=_.supplier_name.max(), **largest)
    if "largest" in largest:
        ledger_docs = ledger_docs.unpack("largest")
    ledger_docs = ledger_docs.mutate(ledger_sources=ibis.cases(
        (ledger_docs.has_first & ledger_docs.has_last, ibis.literal(f"{first},{last}")),
        (ledger_docs.has_first, ibis.literal(first)), else_=ibis.literal(last)))
    if not present.invoices:
        return ledger_docs.select(
            *DOC, unit=ibis.coalesce(ledger_docs.d_unit, ibis.literal("")), status=ibis.literal("ledger_only"),
            supplier_name=ledger_docs.ledger_supplier_name, invoice_source=ibis.null("string"),
            document_type=ibis.null("string"), issue_date=ibis.null("date"), invoice_ore=ibis.null("int64"),
            invoice_lines=ibis.null("int64"), ledger_ore=ledger_docs.ledger_ore,
            ledger_lines=ledger_docs.ledger_lines, ledger_posting_date=ledger_docs.ledger_posting_date,
            ledger_sources=ledger_docs.ledger_sources, ledger_line_keys=ibis.null("array<string>"))
    invoices = lines.filter(_.source.isin(INVOICE_SOURCES))
    document_type = _.document_type.max() if "document_type" in lines.columns else ibis.null("string")
    invoice_docs = invoices.group_by(DOC).aggregate(
        invoice_ore=_.amount_ore.sum(), invoice_lines=_.count(), issue_date=_.posting_date.min(),
        invoice_source=_.source.min(), document_type=document_type, invoice_supplier_name=_.supplier_name.max())
    named = ledger.semi_join(invoice_docs, DOC).group_by(DOC).aggregate(
        ledger_line_keys=_.line_key.collect(order_by=_.line_key)).rename({f"n_{k}": k for k in DOC})
    ledger_docs = ledger_docs.left_join(named, [ledger_docs[k] == named[f"n_{k}"] for k in DOC]).drop(
        *(f"n_{k}" for k in DOC))
    both = invoice_docs.outer_join(ledger_docs, [invoice_docs[k] == ledger_docs[k] for k in DOC])
    has_invoice, has_ledger = both.invoice_lines.notnull(), both.ledger_lines.notnull()
    tolerance = ibis.greatest(ibis.literal(MATCH_TOLERANCE_ORE),
                              (both.ledger_ore.abs() * MATCH_TOLERANCE_SHARE).cast("int64"))
    within = (both.ledger_ore - both.invoice_ore).abs() <= tolerance
    return both.select(
        **{k: ibis.coalesce(both[f"{k}"], both[f"{k}_right"]) for k in DOC},
        unit=ibis.coalesce(both.d_unit, ibis.literal("")),
        status=ibis.cases((has_invoice & has_ledger & within, "matched"), (has_invoice & has_ledger, "amount_differs"),
                          (has_invoice, "invoice_only"), else_="ledger_only"),
        supplier_name=ibis.coalesce(both.invoice_supplier_name, both.ledger_supplier_name),
        invoice_source=both.invoice_source, document_type=both.document_type, issue_date=both.issue_date,
        invoice_ore=both.invoice_ore, invoice_lines=both.invoice_lines,
        ledger_ore=both.ledger_ore, ledger_lines=both.ledger_lines, ledger_posting_date=both.ledger_posting_date,
        ledger_sources=both.ledger_sources, ledger_line_keys=both.ledger_line_keys,
        **{f"d_{d}": both[f"d_{d}"] for d in DIMENSIONS})


def reconcile_sources(lines: ibis.Table, present: Present = Present(), documents: ibis.Table | None = None
                      ) -> ibis.Table:
    """One purchase counted once, from its most detailed source. Adds `source_exclusion`.

    - A KOSTRA file is a year's baseline: where ledger lines (ledger export or SAF-T) exist for the
      same organisation and year, the KOSTRA lines of that year step aside.
    - An invoice (EHF, supplier statistics) that is also in the ledger, matched on supplier orgnr +
      invoice number with the amounts within 1 NOK or 0.5 % (invoice_documents, status `matched`), replaces its
      ledger lines (`invoice_detail`) and takes their accounting dimensions (unit, function, account, art,
      project, investment) from the largest of them: quantities and item names enrich the ledger instead of
      adding to it. Only cost lines count on the ledger side (a ledger export's lines; SAF-T lines with
      an art or a 3xxx–8xxx account), not the payable and VAT postings of the same voucher.
    - An unmatched invoice is left out where the organisation's year is already complete without it:
      `unmatched_invoice` when there are ledger lines (it is probably booked without its number),
      `covered_by_kostra` when a KOSTRA file gives the year. Otherwise it counts as it is.

    `present` (Present.invoices, Present.kostra): without invoice lines nothing is matched and every other line
    counts as it is; without KOSTRA lines none steps aside. `documents`: invoice_documents of these lines when the
    caller has them already (the runner keeps them as a table), else they are derived here.

    The lines pass as one stream in their order (left joins with small tables of what was decided, one filter and
    one projection; no union of the sources' parts): the runner writes the line results in the order of the line
    files (grouped by organisation), so a read of one organisation skips the others' row groups without a sort.
    """
    columns = list(lines.columns)
    if not present.kostra and not present.invoices:
        return lines.filter(_.source != "kostra").mutate(source_exclusion=ibis.literal(""))
    ledger_years = lines.filter(_.source.isin(LEDGER_SOURCES)).select("org", "year").distinct()
    t = lines.left_join(ledger_years.mutate(_ledger_year=ibis.literal(True)), ["org", "year"])
    if present.invoices:
        documents = documents if documents is not None else invoice_documents(lines, present)
        matched = documents.filter(documents.status == "matched").select(
            *(documents[k].name(f"m_{k}") for k in DOC), *(documents[f"d_{d}"] for d in DIMENSIONS),
            _matched=ibis.literal(True))
        t = t.left_join(matched, [t[k] == matched[f"m_{k}"] for k in DOC])
    if present.invoices and present.kostra:
        kostra_years = lines.filter(_.source == "kostra").select("org", "year").distinct() \
            .anti_join(ledger_years, ["org", "year"]) \
            .select(k_org=_.org, k_year=_.year, _kostra_year=ibis.literal(True))
        t = t.left_join(kostra_years, (t.org == kostra_years.k_org) & (t.year == kostra_years.k_year))
    # a KOSTRA file's year steps aside where the ledger gives the same organisation's year
    counted = ~((t.source == "kostra") & t._ledger_year.notnull()) if present.kostra else t.source != "kostra"
    if not present.invoices:
        return t.filter(counted).select(*[t[c] for c in columns], source_exclusion=ibis.literal(""))
    is_invoice, in_matched = t.source.isin(INVOICE_SOURCES), t._matched.notnull()
    # the ledger lines a matched invoice replaces: the document's cost lines (as _cost_lines_with_doc takes them;
    # a matched document names a supplier and a number)
    replaced = t.source.isin(LEDGER_SOURCES) & in_matched & _is_cost_line(t)
    is_matched = is_invoice & in_matched
    kostra_year = t._kostra_year.notnull() if present.kostra else ibis.literal(False)
    return t.filter(counted).select(
        *[t[c] if c not in DIMENSIONS else ibis.ifelse(is_matched, t[f"d_{c}"], t[c]).name(c) for c in columns],
        source_exclusion=ibis.cases(
            (replaced, "invoice_detail"), (is_matched, ""),
            (is_invoice & t._ledger_year.notnull(), "unmatched_invoice"),
            (is_invoice & kostra_year, "covered_by_kostra"), else_=""))


def _first(table: ibis.Table, keys: list[str], order: list) -> ibis.Table:
    ranked = table.mutate(_rank=ibis.row_number().over(group_by=keys, order_by=order))
    return ranked.filter(ranked._rank == 0).drop("_rank")


def _spend_at_price_year(amount_ore, cpi_line, cpi_factor, nok_per_unit):
    """NOK øre in the line's year → the factor's currency at the factor's price year."""
    return (amount_ore.cast("float64") / 100.0) * (cpi_factor / cpi_line) / nok_per_unit


def _nulls(**columns: str) -> dict:
    """Typed null columns: what a left join with nothing to match adds."""
    return {name: ibis.null(dtype) for name, dtype in columns.items()}


def line_results(lines: ibis.Table, art_classes: ibis.Table, ancestors: ibis.Table, spend_factors: ibis.Table,
                 activity_factors: ibis.Table, conversions: ibis.Table, supplier_factors: ibis.Table,
                 prices: ibis.Table, rates: ibis.Table, members: ibis.Table, *, overrides: ibis.Table | None = None,
                 rules: ibis.Table | None = None, predictions: ibis.Table | None = None,
                 code_map: ibis.Table | None = None, suppliers: ibis.Table | None = None,
                 art_functions: ibis.Table | None = None, member_kinds: ibis.Table | None = None,
                 calculations: ibis.Table | None = None, market_factors: ibis.Table | None = None,
                 active_elsewhere: ibis.Table | None = None, reconciled: bool = False,
                 present: Present = Present()) -> ibis.Table:
    """Each line's exclusion, category, factor, kg and range. `reconciled`: the lines are reconcile_sources's
    output already (the runner materialises it first: the one plan was so large that DuckDB spent longer
    binding and optimising it than computing a small account). An optional input that is None, and a stage
    `present` says has nothing to work on, are left out of the plan (Present). `active_elsewhere` (org, year): the
    organisations with purchases in years of lines not given here (the runner's partitions linked from a previous
    run), counted by the intra-region rule beside those of `lines`."""
    lengths = ibis.memtable({"n": list(range(1, 11))})

    lines = lines if reconciled else reconcile_sources(lines, present)
    by_art = lines.left_join(art_classes, lines.art == art_classes.art)
    art_exclusion = ibis.coalesce(art_classes.exclusion, ibis.literal("unknown_art"))
    by_art = by_art.select(
        *[lines[c] for c in lines.columns if c in CARRIED],
        exclusion=ibis.cases((lines.source_exclusion != "", lines.source_exclusion),
                             (lines.source.isin(INVOICE_SOURCES) & (lines.art == ""), ""),
                             else_=art_exclusion),
    )
    base = classify_lines(by_art, art_classes, overrides, rules, predictions, code_map, suppliers, lengths,
                          art_functions=art_functions, present=present).drop("classification_level")
    # no silent zero: a line without a known KOSTRA art is a purchase where the classifier is confident of
    # what was bought (a manual choice, a user rule, a product code, the text model at 0.8 or more)
    placed = (base.exclusion == "unknown_art") & base.category.notnull() \
        & (ibis.coalesce(base.classification_confidence, 0.0) >= CONFIDENT_WITHOUT_ART)
    base = base.mutate(exclusion=ibis.ifelse(placed, ibis.literal(""), base.exclusion))

    # Factors are chosen per key (category × year, category × year × unit, supplier × year), not per
    # line: a window over the few candidate keys, then a plain equi-join to the lines.
    sp = ancestors.join(spend_factors, ancestors.ancestor == spend_factors.category)
    # the chosen set anywhere on the category's path before the fallback set (rank 4 before 5), then the
    # nearest category, then quality
    sp = _first(sp.select(s_category=ancestors.category, s_year=spend_factors.year, depth=ancestors.depth,
                          s_tier=spend_factors.tier, s_value=spend_factors.value, s_low=spend_factors.low,
                          s_high=spend_factors.high, s_price_year=spend_factors.price_year,
                          s_currency=spend_factors.currency, s_ref=spend_factors.ref,
                          s_quality=spend_factors.quality, s_factor_category=ancestors.ancestor),
                ["s_category", "s_year"], ["s_tier", "depth", "s_quality"]).rename(s_depth="depth")

    t = base.left_join(sp, (base.category == sp.s_category) & (base.year == sp.s_year)).drop("s_category", "s_year")
    if present.quantities:
        ac = ancestors.join(activity_factors, ancestors.ancestor == activity_factors.category)
        ac = ac.join(conversions, ac.unit == conversions.to_unit)
        ac = _first(ac.select(a_category=ac.category, a_year=ac.year, a_unit=ac.from_unit, depth=ac.depth,
                              a_multiplier=ac.multiplier, a_value=ac.value, a_low=ac.low, a_high=ac.high,
                              a_ref=ac.ref, a_quality=ac.quality, a_priority=ac.priority,
                              a_factor_category=ac.ancestor),
                    ["a_category", "a_year", "a_unit"], ["depth", "a_quality", "a_priority"]).drop("a_priority") \
            .rename(a_depth="depth")
        t = t.left_join(ac, (t.category == ac.a_category) & (t.year == ac.a_year) & (t.quantity_unit == ac.a_unit)
                        & t.quantity.notnull()).drop("a_category", "a_year", "a_unit")
    else:  # no line has a quantity (or there is no activity factor): no activity factor applies
        t = t.mutate(**_nulls(a_depth="int32", a_multiplier="float64", a_value="float64", a_low="float64",
                              a_high="float64", a_ref="string", a_quality="int32", a_factor_category="string"))
    line_cpi = prices.select(cpi_year=_.year, cpi_line=_.cpi)
    t = t.left_join(line_cpi, t.year == line_cpi.cpi_year).drop("cpi_year")
    s_cpi = prices.select(s_cpi_year=_.year, s_cpi=_.cpi)
    t = t.left_join(s_cpi, t.s_price_year == s_cpi.s_cpi_year).drop("s_cpi_year")
    s_fx = rates.select(s_fx_year=_.year, s_fx_currency=_.currency, s_fx=_.nok_per_unit)
    t = t.left_join(s_fx, (t.s_price_year == s_fx.s_fx_year) & (t.s_currency == s_fx.s_fx_currency))
    t = t.drop("s_fx_year", "s_fx_currency")
    if present.supplier_factors:
        su = _first(supplier_factors.select(u_supplier=_.supplier_orgnr, u_year=_.year, u_value=_.value,
                                            u_low=_.low, u_high=_.high, u_price_year=_.price_year,
                                            u_currency=_.currency, u_ref=_.ref, u_quality=_.quality,
                                            u_priority=_.priority),
                    ["u_supplier", "u_year"], ["u_quality", "u_priority"]).drop("u_priority")
        t = t.left_join(su, (t.supplier_orgnr == su.u_supplier) & (t.year == su.u_year)).drop("u_supplier",
                                                                                               "u_year")
        u_cpi = prices.select(u_cpi_year=_.year, u_cpi=_.cpi)
        t = t.left_join(u_cpi, t.u_price_year == u_cpi.u_cpi_year).drop("u_cpi_year")
        u_fx = rates.select(u_fx_year=_.year, u_fx_currency=_.currency, u_fx=_.nok_per_unit)
        t = t.left_join(u_fx, (t.u_price_year == u_fx.u_fx_year) & (t.u_currency == u_fx.u_fx_currency))
        t = t.drop("u_fx_year", "u_fx_currency")
    else:  # no line names a supplier (or there is no supplier factor)
        t = t.mutate(**_nulls(u_value="float64", u_low="float64", u_high="float64", u_price_year="int32",
                              u_currency="string", u_ref="string", u_quality="int32", u_cpi="float64",
                              u_fx="float64"))
    if present.fallback:
        # a second plausible factor: the fallback set's nearest on the category's path, per krone of the line's
        # year as the chosen one is (uncertainty: where the two disagree, their ratio widens the line's spread)
        alt = ancestors.join(spend_factors.filter(spend_factors.tier == 2),
                             ancestors.ancestor == spend_factors.category)
        alt = _first(alt.select(x_category=alt.category, x_year=alt.year, depth=alt.depth, x_value=alt.value,
                                x_price_year=alt.price_year, x_currency=alt.currency),
                     ["x_category", "x_year"], ["depth"]).drop("depth")
        x_cpi = prices.select(x_cpi_year=_.year, x_cpi=_.cpi)
        alt = alt.join(x_cpi, alt.x_price_year == x_cpi.x_cpi_year)
        x_fx = rates.select(x_fx_year=_.year, x_fx_currency=_.currency, x_fx=_.nok_per_unit)
        alt = alt.join(x_fx, (alt.x_price_year == x_fx.x_fx_year) & (alt.x_currency == x_fx.x_fx_currency))
        alt = alt.select("x_category", "x_year", x_per_nok=alt.x_value * alt.x_cpi / alt.x_fx)
        t = t.left_join(alt, (t.category == alt.x_category) & (t.year == alt.x_year)).drop("x_category", "x_year")
    else:
        t = t.mutate(**_nulls(x_per_nok="float64"))
    if present.member_suppliers:
        member = members.select(member_orgnr=_.orgnr)
        t = t.left_join(member, t.supplier_orgnr == member.member_orgnr)
    else:  # no line is bought from another member of the region
        t = t.mutate(**_nulls(member_orgnr="string"))
    t = _sellers_in_the_total(t, base, member_kinds if present.intra_candidates else None, active_elsewhere)
    t = _with_market_factor(t, market_factors, conversions, prices)

    purchase = t.exclusion == ""
    can_supplier = purchase & t.u_value.notnull() & t.cpi_line.notnull() & t.u_cpi.notnull() & t.u_fx.notnull()
    can_activity = purchase & t.a_value.notnull()
    can_spend = purchase & t.s_value.notnull() & t.cpi_line.notnull() & t.s_cpi.notnull() & t.s_fx.notnull()
    spend_rank = ibis.ifelse(t.s_tier == 1, ibis.literal(4), ibis.literal(5))
    # FACTOR_RANKS: activity (2) before the supplier's company-level intensity (3) before spend (4, 5). The rank is a
    # column of its own and every value below picks by it: written out in each, the choice made the plan several
    # times larger (DuckDB's time to bind and optimise it grows with its size)
    t = t.mutate(factor_rank=ibis.cases((can_activity, ibis.literal(2)), (can_supplier, ibis.literal(3)),
                                        (can_spend, spend_rank), else_=ibis.null("int32")).cast("int32"))
    t = t.mutate(factor_basis=ibis.cases(*((t.factor_rank == r, ibis.literal(name))
                                           for r, name in FACTOR_RANKS.items()), else_=ibis.null("string")))
    t = _with_sigma_ln(t)
    u_spend = _spend_at_price_year(t.amount_ore, t.cpi_line, t.u_cpi, t.u_fx)
    s_spend = _spend_at_price_year(t.amount_ore, t.cpi_line, t.s_cpi, t.s_fx)
    a_quantity = t.quantity * t.a_multiplier
    covered = t.factor_rank.notnull()

    def pick(supplier, activity, spend, default):
        return ibis.cases((t.factor_rank == 2, activity), (t.factor_rank == 3, supplier), (t.factor_rank >= 4, spend),
                          else_=default)

    zero = ibis.literal(0.0)
    kg = pick(u_spend * t.u_value, a_quantity * t.a_value, s_spend * t.s_value, zero)
    # MARKET-BASED: the line's kWh (its quantity, or its NOK at the typical price of its year) × the market factor
    market_kwh = pick(ibis.null("float64"), t.quantity * t.m_kwh_per_unit,
                      (t.amount_ore.cast("float64") / 100.0) / (t.m_price_nok * t.cpi_line / t.m_cpi),
                      ibis.null("float64"))
    by_low = pick(u_spend * t.u_low, a_quantity * t.a_low, s_spend * t.s_low, zero)
    by_high = pick(u_spend * t.u_high, a_quantity * t.a_high, s_spend * t.s_high, zero)
    out = t.select(
        "line_key", "org", "batch", "source", "year", "month", "unit", "art", "category", "supplier_orgnr",
        "investment", "exclusion", "project", "amount_ore", "quantity", "quantity_unit", "classification_rule",
        "classification_confidence", "posting_date", "supplier_name", "description", "invoice_no", "item_name",
        "item_class_scheme", "item_class_code",
        method=pick(ibis.literal("supplier"), ibis.literal("activity"), ibis.literal("spend"),
                    ibis.null("string")),
        factor_ref=pick(t.u_ref, t.a_ref, t.s_ref, ibis.null("string")),
        factor_value=pick(t.u_value, t.a_value, t.s_value, ibis.null("float64")),
        quality=pick(t.u_quality, t.a_quality, t.s_quality, ibis.null("int32")).cast("int32"),
        deflator=pick(t.u_cpi / t.cpi_line, ibis.null("float64"), t.s_cpi / t.cpi_line, ibis.null("float64")),
        sigma_ln=ibis.ifelse(covered, t._sigma_ln, ibis.null("float64")),
        factor_rank=t.factor_rank,
        factor_basis=t.factor_basis,
        factor_category=pick(ibis.null("string"), t.a_factor_category, t.s_factor_category, ibis.null("string")),
        covered=covered,
        kg_co2e=kg,
        kg_co2e_market=ibis.ifelse(t.m_value.notnull() & market_kwh.notnull(), market_kwh * t.m_value, kg),
        # the lower and the higher of amount x the factor's low and high: a credit (a negative amount or quantity)
        # turns their order round, and low <= kg <= high holds for every line
        kg_low=ibis.least(by_low, by_high),
        kg_high=ibis.greatest(by_low, by_high),
        intra_region=(t.member_orgnr.notnull() & (t.supplier_orgnr != t.org)) | t.seller_in_total,
    )
    return apply_calculations(out, calculations)


# --- construction projects' climate calculations (issue 11 item 5) ---------------------------------------------
# A construction project's NS 3720 climate calculation (the contractor's, per building part and material) is
# supplier-specific data of the best rank (1, supplier_product). Where one exists for an organisation's project, the
# project's lines - the organisation's investment purchases whose ledger project dimension is the project's code -
# share the calculation's kg in proportion to their spend, and their own estimate (spend-based or other) steps aside:
# it is kept in `replaced_kg`. So the project's kg equal the calculation's, the lines keep their spend, and the
# organisation's total is its total without the calculation, less the replaced estimates, plus the calculation:
# nothing is counted twice. A project whose lines have no positive spend keeps its estimates (nothing to spread on).
CALCULATION_QUALITY = 2
CALCULATION_GSD = 1.1  # the spread of an NS 3720 calculation (product EPDs and quantities): sigma_ln = ln 1.1


def apply_calculations(out: ibis.Table, calculations: ibis.Table | None) -> ibis.Table:
    """The rule above on the line results; adds `replaced_kg` (null where nothing was replaced)."""
    if calculations is None:
        return out.mutate(replaced_kg=ibis.null("float64"))
    calc = calculations.select(c_org=_.org, c_project=_.project, c_kg=_.kg_co2e, c_ref=_.ref)
    candidate = (out.exclusion == "") & ibis.coalesce(out.investment, False) \
        & (ibis.coalesce(out.project, ibis.literal("")) != "")
    keyed = out.mutate(_p_key=ibis.ifelse(candidate, out.project, ibis.null("string")))
    spend = keyed.filter(keyed._p_key.notnull()).group_by(["org", "_p_key"]).aggregate(p_spend=_.amount_ore.sum())
    spend = spend.join(calc, (spend.org == calc.c_org) & (spend._p_key == calc.c_project))
    spend = spend.filter(spend.p_spend > 0).select(p_org=spend.org, p_project=spend._p_key, p_spend=spend.p_spend,
                                                   c_kg=spend.c_kg, c_ref=spend.c_ref)
    o = keyed.left_join(spend, (keyed.org == spend.p_org) & (keyed._p_key == spend.p_project))
    hit = o.p_spend.notnull()
    kg = o.c_kg * o.amount_ore.cast("float64") / o.p_spend.cast("float64")
    sigma = math.log(CALCULATION_GSD)

    def when(value, otherwise):
        return ibis.ifelse(hit, value, otherwise)

    replaced = {
        "method": when(ibis.literal("supplier"), o.method),
        "factor_ref": when(o.c_ref, o.factor_ref),
        "factor_value": when(o.c_kg / (o.p_spend.cast("float64") / 100.0), o.factor_value),
        "quality": when(ibis.literal(CALCULATION_QUALITY).cast("int32"), o.quality),
        "deflator": when(ibis.null("float64"), o.deflator),
        "sigma_ln": when(ibis.literal(sigma), o.sigma_ln),
        "factor_rank": when(ibis.literal(1).cast("int32"), o.factor_rank),
        "factor_basis": when(ibis.literal(FACTOR_RANKS[1]), o.factor_basis),
        "factor_category": when(ibis.null("string"), o.factor_category),
        "covered": when(ibis.literal(True), o.covered),
        "kg_co2e": when(kg, o.kg_co2e),
        "kg_co2e_market": when(kg, o.kg_co2e_market),
        "kg_low": when(ibis.least(kg * math.exp(-Z_95 * sigma), kg * math.exp(Z_95 * sigma)), o.kg_low),
        "kg_high": when(ibis.greatest(kg * math.exp(-Z_95 * sigma), kg * math.exp(Z_95 * sigma)), o.kg_high),
    }
    return o.select(*[replaced.get(c, o[c]).name(c) if c in replaced else o[c] for c in out.columns],
                    replaced_kg=when(o.kg_co2e, ibis.null("float64")))


def _with_market_factor(t: ibis.Table, market_factors: ibis.Table | None, conversions: ibis.Table,
                        prices: ibis.Table) -> ibis.Table:
    """Adds m_value (kg per unit of the market factor, null where the line's category and year have none),
    m_kwh_per_unit (the line's quantity unit in the factor's unit), m_price_nok and m_cpi (the factor's typical price
    and the CPI of its year): MARKET-BASED in the module's docstring."""
    if market_factors is None:
        return t.mutate(m_value=ibis.null("float64"), m_kwh_per_unit=ibis.null("float64"),
                        m_price_nok=ibis.null("float64"), m_cpi=ibis.null("float64"))
    cpi = prices.select(m_cpi_year=_.year, m_cpi=_.cpi)
    m = market_factors.left_join(cpi, market_factors.price_year == cpi.m_cpi_year)
    m = m.select(m_category=m.category, m_year=m.year, m_unit=m.unit, m_value=m.value, m_price_nok=m.price_nok,
                 m_cpi=m.m_cpi)
    t = t.left_join(m, (t.category == m.m_category) & (t.year == m.m_year)).drop("m_category", "m_year")
    conv = conversions.select(m_from=_.from_unit, m_to=_.to_unit, m_kwh_per_unit=_.multiplier)
    t = t.left_join(conv, (t.quantity_unit == conv.m_from) & (t.m_unit == conv.m_to))
    return t.drop("m_from", "m_to", "m_unit")


def _sellers_in_the_total(t: ibis.Table, lines: ibis.Table, member_kinds: ibis.Table | None,
                          elsewhere: ibis.Table | None = None) -> ibis.Table:
    """Adds `seller_in_total`: a purchase without a supplier orgnr on an art of INTRA_REGION_ARTS, in a year
    where another member of the selling kind has its own purchases (lines that are not left out; `elsewhere`:
    (org, year) with purchases among lines not given)."""
    if member_kinds is None:
        return t.mutate(seller_in_total=ibis.literal(False))
    kinds = member_kinds.select(k_org=_.orgnr, k_kind=_.kind)
    active = lines.filter(lines.exclusion == "").select("org", "year")
    if elsewhere is not None:
        active = active.union(elsewhere.select(org=elsewhere.org.cast("string"), year=elsewhere.year.cast("int32")))
    active = active.distinct()
    active = active.join(kinds, active.org == kinds.k_org)
    per_year = active.group_by(["year", "k_kind"]).aggregate(n_members=_.org.nunique())
    arts = ibis.memtable({"i_art": list(INTRA_REGION_ARTS), "i_kind": list(INTRA_REGION_ARTS.values())})
    sellers = per_year.join(arts, per_year.k_kind == arts.i_kind).select(
        s_year=per_year.year, s_art=arts.i_art, s_kind=arts.i_kind, s_members=per_year.n_members)
    t = t.left_join(sellers, (t.year == sellers.s_year) & (t.art == sellers.s_art)
                    & (ibis.coalesce(t.supplier_orgnr, ibis.literal("")) == "")).drop("s_year", "s_art")
    own = kinds.select(o_org=_.k_org, o_kind=_.k_kind)
    t = t.left_join(own, (t.org == own.o_org) & (t.s_kind == own.o_kind)).drop("o_org")
    # the buyer does not sell to itself: another member of the kind must have purchases that year
    others = ibis.coalesce(t.s_members, 0) - ibis.ifelse(t.o_kind.notnull(), 1, 0)
    return t.mutate(seller_in_total=others >= 1).drop("s_kind", "s_members", "o_kind")


# --- uncertainty from data (method v2) ----------------------------------------------------------------------
# A line's kg is the median of a lognormal whose spread (sigma of ln kg) comes from a pedigree-style score of its
# factor, as in ecoinvent: sigma² = ln(basic)² + Σ ln(U_indicator(score))², each indicator scored 1 (best) to 5.
# Uncertainty factors U per score: ecoinvent's pedigree matrix (Frischknecht et al. 2007, ecoinvent report 1,
# table 10.5). Basic uncertainties and how each indicator is scored here are the project's stated choices.
PEDIGREE = {
    "reliability": (1.00, 1.05, 1.10, 1.20, 1.50),     # the factor's data-quality score (1-5)
    "completeness": (1.00, 1.02, 1.05, 1.10, 1.20),    # activity, supplier 2; Norwegian spend 3; fallback 4
    "time": (1.00, 1.03, 1.10, 1.20, 1.50),            # years between line and factor: <3, <6, <10, <15, more
    "geography": (1.00, 1.01, 1.02, 1.05, 1.10),       # Norway 1 (spend set, supplier); UK activity 3; US 4
    "technology": (1.00, 1.05, 1.20, 1.50, 2.00),      # activity 2; supplier company 3; category 3, ancestor +1
}
BASIC_GSD = {"activity": 1.05, "supplier_company": 1.2, "spend": 1.5, "spend_fallback": 1.5}
# the classification's confidence c (1 a manual choice … 0.5 the KOSTRA art) widens the spread by ln(1 + (1-c)/2);
# on rank 4, a fallback factor for the same category that disagrees by a ratio R makes sigma at least |ln R| / 1.96
Z_95 = 1.959963984540054


def _ln2(values: tuple[float, ...], score) -> ibis.Value:
    return ibis.cases(*((score == i + 1, ibis.literal(math.log(u) ** 2)) for i, u in enumerate(values)),
                      else_=ibis.literal(math.log(values[-1]) ** 2))


def _score(score) -> ibis.Value:
    """An indicator's score, 1 to 5 (5 where there is none)."""
    return ibis.greatest(ibis.literal(1), ibis.least(ibis.literal(5), ibis.coalesce(score, ibis.literal(5))))


def _time_score(years):
    years = years.abs()
    return ibis.cases((years < 3, 1), (years < 6, 2), (years < 10, 3), (years < 15, 4), else_=5)


def _with_sigma_ln(t: ibis.Table) -> ibis.Table:
    """Adds `_sigma_ln` from the line's factor_rank (a column of t; its basis is FACTOR_RANKS[rank]). The scores are
    columns of their own (written out in each use, they made the plan tens of kilobytes larger)."""
    rank = t.factor_rank
    spend_tier1 = rank == 4
    is_activity, is_supplier = rank == 2, rank == 3
    reliability = ibis.cases((is_activity, t.a_quality), (is_supplier, t.u_quality), else_=t.s_quality)
    completeness = ibis.cases((is_activity | is_supplier, 2), (spend_tier1, 3), else_=4)
    time = ibis.cases((is_activity, ibis.literal(2)), (is_supplier, _time_score(t.year - t.u_price_year)),
                      else_=_time_score(t.year - t.s_price_year))
    geography = ibis.cases((is_supplier | spend_tier1, 1), (is_activity, 3), else_=4)
    depth = ibis.cases((is_activity, t.a_depth), (is_supplier, ibis.literal(0)), else_=t.s_depth)
    technology = ibis.cases((is_activity, 2), (is_supplier, 3), (spend_tier1, 3), else_=4) \
        + ibis.ifelse(ibis.coalesce(depth, 0) > 0, 1, 0)
    confidence = ibis.coalesce(t.classification_confidence, ibis.literal(1.0))
    classification = (1 + (1 - confidence) / 2).ln() ** 2
    # two plausible factors (the chosen set's, which the line uses at rank 4, and the fallback's) that disagree
    # by a ratio R: the spread is at least wide enough that the other lies inside the line's 95 % range,
    # sigma >= |ln R| / 1.96
    chosen_per_nok = t.s_value * t.s_cpi / t.s_fx
    disagree = ibis.ifelse(spend_tier1 & t.x_per_nok.notnull() & (t.x_per_nok > 0) & (chosen_per_nok > 0),
                           ((chosen_per_nok / t.x_per_nok).ln() / Z_95) ** 2, ibis.literal(0.0))
    s = t.mutate(_reliability=_score(reliability), _completeness=_score(completeness), _time=_score(time),
                 _geography=_score(geography), _technology=_score(technology),
                 _classification=classification, _disagree=disagree)
    # the pedigree part of the variance (basic + the five indicators) looked up by rank and scores in a table of
    # every combination (_pedigree_variances): the same expression, evaluated by the backend on 12,500 rows instead
    # of every line (its constants are exact decimals there, and their sums took a third of the lines' compute)
    key = _pedigree_key(s.factor_rank, s._reliability, s._completeness, s._time, s._geography, s._technology)
    pedigree = _pedigree_variances()
    s = s.mutate(_p_key=key)
    s = s.left_join(pedigree, s._p_key == pedigree.p_key).drop("_p_key", "p_key")
    variance = s.p_variance + s._classification
    return s.mutate(_sigma_ln=ibis.greatest(variance, s._disagree).sqrt()).drop("p_variance")


def _pedigree_key(rank, *scores):
    """One integer for a factor rank (2-5) and the five indicators' scores (1-5 each)."""
    key = rank
    for score in scores:
        key = key * 5 + (score - 1)
    return key


def _pedigree_variances() -> ibis.Table:
    """(p_key, p_variance) for every factor rank of a line's own factor (2-5: FACTOR_RANKS) and score of each
    indicator: ln(basic)² + Σ ln(U_indicator(score))², summed in the order _with_sigma_ln always summed them."""
    rows = [(rank, *scores) for rank in (2, 3, 4, 5) for scores in _all_scores(5)]
    names = ["rank", "reliability", "completeness", "time", "geography", "technology"]
    table = ibis.memtable({name: [row[i] for row in rows] for i, name in enumerate(names)})
    basis = ibis.cases(*((table["rank"] == r, ibis.literal(name)) for r, name in FACTOR_RANKS.items()),
                       else_=ibis.null("string"))
    basic = ibis.cases(*((basis == b, ibis.literal(math.log(g) ** 2)) for b, g in BASIC_GSD.items()),
                       else_=ibis.literal(math.log(1.5) ** 2))
    t = table.mutate(_basic=basic)
    variance = (t._basic + _ln2(PEDIGREE["reliability"], t.reliability)
                + _ln2(PEDIGREE["completeness"], t.completeness) + _ln2(PEDIGREE["time"], t.time)
                + _ln2(PEDIGREE["geography"], t.geography) + _ln2(PEDIGREE["technology"], t.technology))
    return t.select(p_key=_pedigree_key(t["rank"], t.reliability, t.completeness, t.time, t.geography,
                                        t.technology),
                    p_variance=variance)


def _all_scores(n: int) -> list[tuple[int, ...]]:
    return [()] if n == 0 else [(score, *rest) for score in range(1, 6) for rest in _all_scores(n - 1)]


def uncertain_totals(results: ibis.Table, keys: list[str]) -> ibis.Table:
    """Totals per `keys` with a 95 % range from the lines' lognormal spreads.

    Lines with the same factor are fully correlated (their standard deviations add), different factors are
    independent (their variances and third central moments add); each factor's sum counts as lognormal for its
    skewness. The total is matched in mean, variance and skewness by a shifted lognormal, whose 2.5 and 97.5
    percentiles are the range (a plain two-moment lognormal fit, Fenton-Wilkinson, puts the lower end of a sum
    of several factors about 8 % too low; tests/test_method_v2.py checks the range against a Monte Carlo).
    Columns: keys, kg_co2e (the sum of the lines' medians), kg_mean, kg_sd, kg_p025, kg_p975."""
    return combine_moments(factor_moments(results, keys), keys)


MOMENT_KEYS = ["org", "year", "month", "unit", "category", "investment", "intra_region"]


def factor_moments(results: ibis.Table, keys: list[str]) -> ibis.Table:
    """Per `keys` × factor_ref: the lines' kg (medians), lognormal means and standard deviations summed (lines of
    one factor are fully correlated, so their standard deviations add). Rows of the same factor can be summed
    again in any grouping (combine_moments), which is what a run's moments (moments/) are for: the combined range of
    any view (a period, a unit, the consolidated region) without reading the lines."""
    lines = results.filter(results.covered & results.sigma_ln.notnull())
    s2 = lines.sigma_ln ** 2
    mean = lines.kg_co2e * (s2 / 2).exp()
    sd = (mean * ((s2.exp() - 1).sqrt())).abs()
    return lines.mutate(_mean=mean, _sd=sd).group_by([*keys, "factor_ref"]).aggregate(
        kg=_.kg_co2e.sum(), mean=_._mean.sum(), sd=_._sd.sum())


def combine_moments(moments: ibis.Table, keys: list[str]) -> ibis.Table:
    """The 95 % range per `keys` from factor moments (factor_moments, or a filter of them): see uncertain_totals."""
    per_factor = moments.group_by([*keys, "factor_ref"]).aggregate(kg=_.kg.sum(), mean=_.mean.sum(), sd=_.sd.sum())
    # a lognormal's skewness from its coefficient of variation: (w + 2) sqrt(w - 1), w = 1 + cv²
    w = 1 + ibis.ifelse(per_factor.mean != 0, (per_factor.sd / per_factor.mean) ** 2, 0.0)
    third = ibis.ifelse(per_factor.mean >= 0, 1.0, -1.0) * (w + 2) * (w - 1).sqrt() * per_factor.sd ** 3
    grouped = per_factor.mutate(_third=third)
    sums = dict(kg_co2e=_.kg.sum(), kg_mean=_.mean.sum(), variance=(_.sd * _.sd).sum(), third=_._third.sum())
    total = grouped.group_by(keys).aggregate(**sums) if keys else grouped.aggregate(**sums)
    sd_t = total.variance.sqrt()
    skew = ibis.ifelse(total.variance > 0, total.third / (total.variance * sd_t), 0.0)
    # shifted lognormal with skewness g: u = sqrt(w - 1) solves u³ + 3u = g (Cardano)
    root = (skew * skew / 4 + 1).sqrt()
    u = (skew / 2 + root) ** (1 / 3) - (root - skew / 2) ** (1 / 3)
    shape2 = (1 + u * u).ln()
    shift = total.kg_mean - sd_t / u
    mu = (sd_t / u).ln() - shape2 / 2
    defined = (total.variance > 0) & (skew > 1e-9)
    return total.select(
        *keys, "kg_co2e", "kg_mean", kg_sd=sd_t,
        kg_p025=ibis.ifelse(defined, shift + (mu - Z_95 * shape2.sqrt()).exp(), total.kg_mean),
        kg_p975=ibis.ifelse(defined, shift + (mu + Z_95 * shape2.sqrt()).exp(), total.kg_mean))


def aggregates(results: ibis.Table, keys: list[str] | None = None) -> ibis.Table:
    """Organisation × year × month × unit × category × supplier × art × … for the pages to read."""
    return results.group_by(keys or AGGREGATE_KEYS).aggregate(
        spend_ore=_.amount_ore.sum(),
        kg_co2e=_.kg_co2e.sum(),
        kg_co2e_market=_.kg_co2e_market.sum(),
        kg_low=_.kg_low.sum(),
        kg_high=_.kg_high.sum(),
        lines=_.count(),
    )


def summary(aggregated: ibis.Table) -> ibis.Table:
    """The aggregates rolled up to SUMMARY_KEYS (sums of sums, so every total is the same)."""
    return aggregated.group_by(SUMMARY_KEYS).aggregate(
        spend_ore=_.spend_ore.sum(), kg_co2e=_.kg_co2e.sum(), kg_co2e_market=_.kg_co2e_market.sum(),
        kg_low=_.kg_low.sum(), kg_high=_.kg_high.sum(), lines=_.lines.sum(),
    )


# --- what changed between two runs, and why (issue 16 item 4) -----------------------------------------------------
# Two runs' line results are joined on (org, line_key); every line that counts (a purchase, exclusion '') adds its kg
# to its cell in the run it counts in, with a minus in the earlier run, and the difference gets one cause, the first
# that applies:
#   new_lines      the line is new, or counts now and did not before because another source stepped aside
#   removed_lines  the line is gone, or stepped aside for a more detailed source (an invoice, a ledger)
#   reclassified   another category, or counted as a purchase now / not any more by its art or classification
#   method         the same category, another method (spend, activity, supplier; or covered now / not any more)
#   factors        the same category and method, another factor (reference or value)
#   other          everything else: price index, exchange rates, purchases between members netted out or not
# A reclassified line's kg leaves its old category and enters its new one, so the causes of each cell (org × year
# × month × unit × category × investment × intra_region) add up exactly to the cell's change, and so do any sums
# of cells.
CHANGE_KEYS = ["org", "year", "month", "unit", "category", "investment", "intra_region"]
CHANGE_CAUSES = ("new_lines", "removed_lines", "reclassified", "method", "factors", "other")
CHANGE_COLUMNS = {"org": "string", "line_key": "string", "year": "int32", "month": "int32", "unit": "string",
                  "category": "string", "investment": "boolean", "exclusion": "string", "intra_region": "boolean",
                  "method": "string", "factor_ref": "string", "factor_value": "float64", "kg_co2e": "float64"}
SOURCE_EXCLUSIONS = ("invoice_detail", "unmatched_invoice", "covered_by_kostra")


def unchanged(aggregated: ibis.Table) -> ibis.Table:
    """What changes() gives for lines that are the same in both runs, from their aggregates (AGGREGATE_KEYS hold
    CHANGE_KEYS): per cell of purchases kg_before = kg_after, every cause's kg 0 and every line under `other`
    (nothing about it differs). The runner writes these rows for the years it links from the previous run."""
    return _changes_of_cells(aggregated, new=False)


def all_new(aggregated: ibis.Table) -> ibis.Table:
    """What changes() gives when there was no previous run, from the aggregates: per cell of purchases kg_before 0,
    kg_after and `new_lines_kg` the cell's kg, every line under `new_lines` (no join of every line with nothing)."""
    return _changes_of_cells(aggregated, new=True)


def _changes_of_cells(aggregated: ibis.Table, new: bool) -> ibis.Table:
    purchases = aggregated.filter(aggregated.exclusion == "")
    cells = purchases.group_by(CHANGE_KEYS).aggregate(kg=ibis.coalesce(purchases.kg_co2e, 0.0).sum(),
                                                      lines=purchases.lines.sum())
    cause = "new_lines" if new else "other"
    zero = ibis.literal(0).cast("float64")  # a typed zero (DuckDB reads a bare 0.0 as a decimal)
    return cells.select(
        *CHANGE_KEYS, kg_before=zero if new else cells.kg, kg_after=cells.kg,
        **{f"{c}_kg": cells.kg if new and c == cause else zero for c in CHANGE_CAUSES},
        **{f"{c}_lines": (cells.lines if c == cause else ibis.literal(0)).cast("int64") for c in CHANGE_CAUSES})


def changes(previous: ibis.Table, current: ibis.Table) -> ibis.Table:
    """Per CHANGE_KEYS: kg_before (previous run), kg_after (this run) and `<cause>_kg` for CHANGE_CAUSES, which add
    up to kg_after − kg_before; `<cause>_lines` counts the lines of each cause (in the cell they count in now, a
    removed line in its old cell). Both inputs are line results (lines.parquet) with at least CHANGE_COLUMNS."""
    def side(table: ibis.Table, prefix: str) -> ibis.Table:
        return table.select(**{prefix + c: table[c].cast(t) for c, t in CHANGE_COLUMNS.items()})

    old, new = side(previous, "o_"), side(current, "n_")
    # a line without an organisation is the same line in both runs too (IS NOT DISTINCT FROM)
    j = old.outer_join(new, old.o_org.identical_to(new.n_org) & (old.o_line_key == new.n_line_key))
    in_old, in_new = j.o_line_key.notnull(), j.n_line_key.notnull()
    o_counts = in_old & (j.o_exclusion == "")
    n_counts = in_new & (j.n_exclusion == "")

    def differs(a, b, empty):
        return ibis.coalesce(a, empty) != ibis.coalesce(b, empty)

    stepped = (j.o_exclusion.isin(SOURCE_EXCLUSIONS) & n_counts) | (j.n_exclusion.isin(SOURCE_EXCLUSIONS) & o_counts)
    cause = ibis.cases(
        (~in_old | (stepped & n_counts), "new_lines"),
        (~in_new | stepped, "removed_lines"),
        ((o_counts != n_counts) | differs(j.o_category, j.n_category, ""), "reclassified"),
        (differs(j.o_method, j.n_method, ""), "method"),
        (differs(j.o_factor_ref, j.n_factor_ref, "") | differs(j.o_factor_value, j.n_factor_value, -1.0), "factors"),
        else_="other")
    j = j.mutate(_cause=cause, _o_counts=o_counts, _n_counts=n_counts)
    zero = ibis.literal(0.0)

    def contributions(prefix: str, counts, before: bool) -> ibis.Table:
        kg = ibis.coalesce(j[prefix + "kg_co2e"], zero)
        # a line is counted (for <cause>_lines) in the cell it counts in now; a line that counts no more, in its old
        here = ibis.literal(True) if not before else ~j._n_counts
        return j.filter(counts).select(
            **{k: j[prefix + k] for k in CHANGE_KEYS}, cause=j._cause,
            kg_before=kg if before else zero, kg_after=zero if before else kg, here=here)

    both = ibis.union(contributions("o_", j._o_counts, True), contributions("n_", j._n_counts, False))
    delta = both.kg_after - both.kg_before
    metrics = {"kg_before": both.kg_before.sum(), "kg_after": both.kg_after.sum()}
    for c in CHANGE_CAUSES:
        metrics[f"{c}_kg"] = ibis.ifelse(both.cause == c, delta, zero).sum()
    for c in CHANGE_CAUSES:
        metrics[f"{c}_lines"] = ibis.ifelse((both.cause == c) & both.here, 1, 0).sum().cast("int64")
    return both.group_by(CHANGE_KEYS).aggregate(**metrics)
