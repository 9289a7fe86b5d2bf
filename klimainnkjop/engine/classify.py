"""Classification of lines into categories, as joins over rules that are data.

Precedence (best first), each candidate with the rule that decided it and a confidence:
  1 manual override of one line          (org, line_key)           confidence 1.0
  2 user rule: supplier, account, item code (equality) or keyword (a word of the text)
                                                                     confidence 0.95
  3 learned text model prediction         (org, line_key)           its own probability
  4 item classification code (CPV, UNSPSC) on the line, longest prefix of the shipped mapping   0.8
  5 the supplier's NACE code, longest prefix                          0.6
  6 the KOSTRA art of the ledger line, refined by its KOSTRA function  0.5
    (art × function, as Klimakost does: `art_functions` rows art, function prefix, investment
    '' | 'I' | 'D', category; the longest function prefix wins, then a row for the line's
    investment/operating side, then the art alone)
Within a level: rule priority, then the longer prefix. Portable: equi-joins, unnest of a split
string, windows; no UDFs.

Inputs:
  lines        the line store schema (org, line_key, supplier_orgnr, account, art, description,
               item_name, item_class_scheme, item_class_code)
  art_classes  art, exclusion, category
  overrides    org, line_key, category, rule
  rules        rule, kind (supplier|account|item_code|keyword), value, org ('' = every organisation),
               category, priority
  predictions  org, line_key, category, confidence
  code_map     scheme (cpv|unspsc|nace), code, category
  suppliers    orgnr, nace
  lengths      n   (prefix lengths to try, 1..10)
  art_functions art, function (a prefix of the line's function; '' = any), investment ('' = either,
               'I' = investment lines only, 'D' = operating lines only), category   (optional)
"""
from __future__ import annotations

import ibis
from ibis import _

KEY = ["org", "line_key"]
CANDIDATE = ["org", "line_key", "category", "rule", "confidence", "level", "order"]


def _candidates(table: ibis.Table, level: int, *, category, rule, confidence, order) -> ibis.Table:
    return table.select(
        org=table.org, line_key=table.line_key, category=category, rule=rule,
        # a constant as a DOUBLE, not the DECIMAL DuckDB reads a plain 0.95 as (ibis writes float literals so): the
        # column stays DOUBLE whichever levels the plan has
        confidence=ibis.literal(str(confidence)).cast("float64") if isinstance(confidence, float) else confidence,
        level=ibis.literal(level, "int32"), order=order.cast("int64"),
    )


def _prefix_matches(lines: ibis.Table, code, scheme, code_map: ibis.Table, lengths: ibis.Table, level: int,
                    confidence: float, label: str) -> ibis.Table:
    expanded = lines.select(org=lines.org, line_key=lines.line_key, code=code, scheme=scheme) \
        .filter(_.code.notnull() & (_.code != ""))
    expanded = expanded.cross_join(lengths).filter(lambda t: t.n <= t.code.length())
    expanded = expanded.mutate(prefix=expanded.code.substr(0, expanded.n))
    matched = expanded.join(code_map, (expanded.scheme == code_map.scheme) & (expanded.prefix == code_map.code))
    return _candidates(matched, level, category=matched.category,
                       rule=ibis.literal(label + ":") + matched.scheme + ibis.literal(":") + matched.prefix,
                       confidence=confidence, order=-matched.n)


def _function_code(function):
    """The KOSTRA file's 4-character function field written with a leading zero ("0355") is function 355; a
    ledger's 4-digit sub-function ("3551") stays as it is and matches its function by prefix."""
    return ibis.ifelse((function.length() == 4) & function.startswith("0"), function.substr(1), function)


def classify(lines: ibis.Table, art_classes: ibis.Table, overrides: ibis.Table | None, rules: ibis.Table | None,
             predictions: ibis.Table | None, code_map: ibis.Table | None, suppliers: ibis.Table | None,
             lengths: ibis.Table, min_prediction: float = 0.6, art_functions: ibis.Table | None = None,
             present=None) -> ibis.Table:
    """(org, line_key, category, rule, confidence) for every line that any level places. A level whose table is
    None, or that `present` (pipeline.Present: rule_kinds, item_codes, supplier_codes) says has nothing to match,
    is left out of the plan: it would place no line."""
    rule_kinds = present.rule_kinds if present is not None else {"supplier", "account", "item_code", "keyword"}
    item_codes = present.item_codes if present is not None else True
    supplier_codes = present.supplier_codes if present is not None else True
    lines = lines.select("org", "line_key", "supplier_orgnr", "account", "art",
                         function=_function_code(ibis.coalesce(_.function, ibis.literal("")).strip()),
                         is_investment=ibis.coalesce(_.investment, ibis.literal(False)),
                         text=ibis.coalesce(_.description, ibis.literal("")) + ibis.literal(" ")
                         + ibis.coalesce(_.item_name, ibis.literal("")),
                         item_scheme=ibis.coalesce(_.item_class_scheme, ibis.literal("")),
                         item_code=ibis.coalesce(_.item_class_code, ibis.literal("")))
    parts = []

    if overrides is not None:
        manual = lines.join(overrides, KEY)
        parts.append(_candidates(manual, 1, category=manual.category, rule=manual.rule, confidence=1.0,
                                 order=ibis.literal(0)))

    if rules is not None:
        for kind, column in (("supplier", "supplier_orgnr"), ("account", "account"), ("item_code", "item_code")):
            if kind not in rule_kinds:
                continue
            kind_rules = rules.filter(rules.kind == kind)
            hit = lines.join(kind_rules, (lines[column] == kind_rules.value)
                             & ((kind_rules.org == "") | (kind_rules.org == lines.org)))
            parts.append(_candidates(hit, 2, category=hit.category, rule=hit.rule, confidence=0.95,
                                     order=hit.priority))
        if "keyword" in rule_kinds:
            words = lines.select("org", "line_key", word=_.text.lower().re_split(r"[^0-9a-zæøåäöü]+")) \
                .unnest("word")
            keyword_rules = rules.filter(rules.kind == "keyword")
            hit = words.join(keyword_rules, (words.word == keyword_rules.value)
                             & ((keyword_rules.org == "") | (keyword_rules.org == words.org)))
            parts.append(_candidates(hit, 2, category=hit.category, rule=hit.rule, confidence=0.95,
                                     order=hit.priority))

    if predictions is not None:
        predicted = lines.join(predictions.filter(predictions.confidence >= min_prediction), KEY)
        parts.append(_candidates(predicted, 3, category=predicted.category, rule=ibis.literal("model"),
                                 confidence=predicted.confidence, order=ibis.literal(0)))

    if code_map is not None and item_codes:
        parts.append(_prefix_matches(lines, lines.item_code, lines.item_scheme, code_map, lengths, 4, 0.8, "item"))

    if code_map is not None and suppliers is not None and supplier_codes:
        with_nace = lines.join(suppliers, lines.supplier_orgnr == suppliers.orgnr)
        parts.append(_prefix_matches(with_nace, with_nace.nace, ibis.literal("nace"), code_map, lengths, 5, 0.6,
                                     "supplier"))

    by_art = lines.join(art_classes.filter(art_classes.category.notnull()), "art")
    parts.append(_candidates(by_art, 6, category=by_art.category,
                             rule=ibis.literal("kostra_art:") + by_art.art, confidence=0.5,
                             order=ibis.literal(0)))
    if art_functions is not None:
        af = art_functions
        side = ibis.ifelse(lines.is_investment, ibis.literal("I"), ibis.literal("D"))
        refined = lines.join(af, (lines.art == af.art)
                             & (lines.function.substr(0, af.function.length()) == af.function)
                             & ((af.investment == "") | (af.investment == side)))
        specificity = af.function.length() * 2 + ibis.ifelse(af.investment == "", 0, 1)
        parts.append(_candidates(refined, 6, category=af.category,
                                 rule=ibis.literal("kostra_art_function:") + lines.art + ibis.literal(":")
                                 + af.function + ibis.literal(":") + af.investment,
                                 confidence=0.5, order=-specificity))

    candidates = ibis.union(*parts)
    ranked = candidates.mutate(_rank=ibis.row_number().over(group_by=KEY, order_by=["level", "order", "rule"]))
    return ranked.filter(ranked._rank == 0).select("org", "line_key", "category", "rule", "confidence")
