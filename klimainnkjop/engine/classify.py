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
Within a level: rule priority, then the longer prefix, then the rule's name. Portable: equi-joins, unnest of
a split string, windows; no UDFs.

How (issue 20 item 3): each level's choice is made where it is small, then joined to the lines once, one left
join per level, and the first level that places a line gives its category, rule and confidence. A level that
depends on a line's attributes only is decided on the distinct keys of those attributes: the item code level per
(scheme, code), the NACE level per supplier, the art × function level per (art, function, side); the user rules
per line among the lines a rule matches; overrides and predictions per (org, line_key) in their own tables. No
window runs over every line.

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
RULE_KINDS = ("supplier", "account", "item_code", "keyword")


def _double(confidence: float) -> ibis.Value:
    """A constant confidence as a DOUBLE, not the DECIMAL DuckDB reads a plain 0.95 as (ibis writes float literals
    so)."""
    return ibis.literal(str(confidence)).cast("float64")


def _first(table: ibis.Table, keys: list[str], order: list) -> ibis.Table:
    ranked = table.mutate(_rank=ibis.row_number().over(group_by=keys, order_by=order))
    return ranked.filter(ranked._rank == 0).drop("_rank")


def _longest_prefix(codes: ibis.Table, key: list[str], code, scheme, code_map: ibis.Table, lengths: ibis.Table,
                    label: str) -> ibis.Table:
    """Per `key` of `codes`: the code_map row of the longest prefix of `code` in `scheme` (then the smaller rule
    name), as (key..., category, rule)."""
    expanded = codes.select(*key, code=code, scheme=scheme).filter(_.code.notnull() & (_.code != ""))
    expanded = expanded.cross_join(lengths).filter(lambda t: t.n <= t.code.length())
    expanded = expanded.mutate(prefix=expanded.code.substr(0, expanded.n))
    matched = expanded.join(code_map, (expanded.scheme == code_map.scheme) & (expanded.prefix == code_map.code))
    matched = matched.select(*key, category=matched.category, n=matched.n,
                             rule=ibis.literal(label + ":") + matched.scheme + ibis.literal(":") + matched.prefix)
    return _first(matched, key, [ibis.desc("n"), "rule"]).drop("n")


def _function_code(function):
    """The KOSTRA file's 4-character function field written with a leading zero ("0355") is function 355; a
    ledger's 4-digit sub-function ("3551") stays as it is and matches its function by prefix."""
    return ibis.ifelse((function.length() == 4) & function.startswith("0"), function.substr(1), function)


def classify_lines(lines: ibis.Table, art_classes: ibis.Table, overrides: ibis.Table | None,
                   rules: ibis.Table | None, predictions: ibis.Table | None, code_map: ibis.Table | None,
                   suppliers: ibis.Table | None, lengths: ibis.Table, min_prediction: float = 0.6,
                   art_functions: ibis.Table | None = None, present=None) -> ibis.Table:
    """`lines` with `category`, `classification_rule` and `classification_confidence` added (null where no level
    places the line) and `classification_level` (1-6, the level that placed it). A level whose table is None, or
    that `present` (pipeline.Present: rule_kinds, item_codes, supplier_codes) says has nothing to match, is left out
    of the plan: it would place no line."""
    rule_kinds = present.rule_kinds if present is not None else set(RULE_KINDS)
    item_codes = present.item_codes if present is not None else True
    supplier_codes = present.supplier_codes if present is not None else True
    columns = list(lines.columns)
    w = lines.mutate(_c_function=_function_code(ibis.coalesce(_.function, ibis.literal("")).strip()),
                     _c_side=ibis.ifelse(ibis.coalesce(_.investment, ibis.literal(False)), ibis.literal("I"),
                                         ibis.literal("D")),
                     _c_scheme=ibis.coalesce(_.item_class_scheme, ibis.literal("")),
                     _c_code=ibis.coalesce(_.item_class_code, ibis.literal("")))
    # per level, best first: the table joined to the lines, its join condition, and (placed, category, rule,
    # confidence) read from the joined lines
    joins, levels = [], []

    def level(number: int, table: ibis.Table, on, choice) -> None:
        joins.append((table, on))
        levels.append((number, choice))

    if overrides is not None:  # 1: a manual choice for the line; of two, the smaller rule name
        o = _first(overrides.select(o_org=_.org, o_line_key=_.line_key, o_category=_.category, o_rule=_.rule),
                   ["o_org", "o_line_key"], ["o_rule"])
        level(1, o, (w.org == o.o_org) & (w.line_key == o.o_line_key),
              lambda j: (j.o_line_key.notnull(), j.o_category, j.o_rule, _double(1.0)))

    kinds = [k for k in RULE_KINDS if k in rule_kinds] if rules is not None else []
    if kinds:  # 2: user rules, decided among the lines a rule matches: the lower priority number, then the name
        narrow = w.select("org", "line_key", "supplier_orgnr", "account", item_code=_._c_code,
                          text=ibis.coalesce(_.description, ibis.literal("")) + ibis.literal(" ")
                          + ibis.coalesce(_.item_name, ibis.literal("")))
        hits = []
        for kind, column in (("supplier", "supplier_orgnr"), ("account", "account"), ("item_code", "item_code")):
            if kind in kinds:
                kind_rules = rules.filter(rules.kind == kind)
                hits.append(narrow.join(kind_rules, (narrow[column] == kind_rules.value)
                                        & ((kind_rules.org == "") | (kind_rules.org == narrow.org))))
        if "keyword" in kinds:
            words = narrow.select("org", "line_key", word=_.text.lower().re_split(r"[^0-9a-zæøåäöü]+")) \
                .unnest("word")
            keyword_rules = rules.filter(rules.kind == "keyword")
            hits.append(words.join(keyword_rules, (words.word == keyword_rules.value)
                                   & ((keyword_rules.org == "") | (keyword_rules.org == words.org))))
        hits = [h.select(r_org=h.org, r_line_key=h.line_key, r_category=h.category, r_rule=h.rule,
                         r_order=h.priority.cast("int64")) for h in hits]
        r = _first(ibis.union(*hits), ["r_org", "r_line_key"], ["r_order", "r_rule"]).drop("r_order")
        level(2, r, (w.org == r.r_org) & (w.line_key == r.r_line_key),
              lambda j: (j.r_line_key.notnull(), j.r_category, j.r_rule, _double(0.95)))

    if predictions is not None:  # 3: the learned text model, at min_prediction or more
        p = predictions.filter(predictions.confidence >= min_prediction)
        p = _first(p.select(p_org=_.org, p_line_key=_.line_key, p_category=_.category, p_confidence=_.confidence),
                   ["p_org", "p_line_key"], [ibis.desc("p_confidence"), "p_category"])
        level(3, p, (w.org == p.p_org) & (w.line_key == p.p_line_key),
              lambda j: (j.p_line_key.notnull(), j.p_category, ibis.literal("model"), j.p_confidence))

    if code_map is not None and item_codes:  # 4: the item's code (CPV, UNSPSC), per distinct scheme and code
        codes = w.select(i_scheme=_._c_scheme, i_code=_._c_code).filter(_.i_code != "").distinct()
        i = _longest_prefix(codes, ["i_scheme", "i_code"], codes.i_code, codes.i_scheme, code_map, lengths, "item")
        i = i.rename(i_category="category", i_rule="rule")
        level(4, i, (w._c_scheme == i.i_scheme) & (w._c_code == i.i_code),
              lambda j: (j.i_code.notnull(), j.i_category, j.i_rule, _double(0.8)))

    if code_map is not None and suppliers is not None and supplier_codes:  # 5: the supplier's NACE, per supplier
        n = _longest_prefix(suppliers, ["orgnr"], suppliers.nace, ibis.literal("nace"), code_map, lengths,
                            "supplier")
        n = n.rename(n_orgnr="orgnr", n_category="category", n_rule="rule")
        level(5, n, w.supplier_orgnr == n.n_orgnr,
              lambda j: (j.n_orgnr.notnull(), j.n_category, j.n_rule, _double(0.6)))

    # 6: the KOSTRA art, refined by its function: a row of art_functions for the line's art, function prefix and
    # side wins over the art alone, except one for any function and either side (specificity 0), which ties with
    # the art and loses by its rule's name ("kostra_art:" sorts before "kostra_art_function:")
    k = art_classes.filter(art_classes.category.notnull()).select(k_art=_.art, k_category=_.category)
    joins.append((k, w.art == k.k_art))
    if art_functions is not None:
        # per distinct (art, function, side): the longest function prefix, then a row for the side, then the name
        keys = w.select(f_art=_.art, f_function=_._c_function, f_side=_._c_side).distinct()
        af = art_functions
        refined = keys.join(af, (keys.f_art == af.art)
                            & (keys.f_function.substr(0, af.function.length()) == af.function)
                            & ((af.investment == "") | (af.investment == keys.f_side)))
        refined = refined.select(
            "f_art", "f_function", "f_side", f_category=af.category,
            f_specificity=af.function.length() * 2 + ibis.ifelse(af.investment == "", 0, 1),
            f_rule=ibis.literal("kostra_art_function:") + refined.f_art + ibis.literal(":") + af.function
            + ibis.literal(":") + af.investment)
        f = _first(refined, ["f_art", "f_function", "f_side"], [ibis.desc("f_specificity"), "f_rule"])
        joins.append((f, (w.art == f.f_art) & (w._c_function == f.f_function) & (w._c_side == f.f_side)))

    joined = w
    for table, on in joins:
        joined = joined.left_join(table, on)
    choices = [(number, *choice(joined)) for number, choice in levels]
    art_choice = (6, joined.k_art.notnull(), joined.k_category, ibis.literal("kostra_art:") + joined.k_art,
                  _double(0.5))
    if art_functions is not None:
        refined_choice = (6, joined.f_art.notnull(), joined.f_category, joined.f_rule, _double(0.5))
        choices += [(6, refined_choice[1] & (joined.f_specificity > 0), *refined_choice[2:]), art_choice,
                    refined_choice]
    else:
        choices.append(art_choice)

    def first(index: int, null_type: str):
        return ibis.cases(*((c[1], c[index]) for c in choices), else_=ibis.null(null_type))

    return joined.select(
        *[joined[c] for c in columns], category=first(2, "string"), classification_rule=first(3, "string"),
        classification_confidence=first(4, "float64"),
        classification_level=ibis.cases(*((c[1], ibis.literal(c[0], "int32")) for c in choices),
                                        else_=ibis.null("int32")))


def classify(lines: ibis.Table, art_classes: ibis.Table, overrides: ibis.Table | None, rules: ibis.Table | None,
             predictions: ibis.Table | None, code_map: ibis.Table | None, suppliers: ibis.Table | None,
             lengths: ibis.Table, min_prediction: float = 0.6, art_functions: ibis.Table | None = None,
             present=None) -> ibis.Table:
    """(org, line_key, category, rule, confidence) for every line that any level places (classify_lines)."""
    lines = lines.select("org", "line_key", "supplier_orgnr", "account", "art", "function", "investment",
                         "description", "item_name", "item_class_scheme", "item_class_code")
    placed = classify_lines(lines, art_classes, overrides, rules, predictions, code_map, suppliers, lengths,
                            min_prediction, art_functions, present)
    placed = placed.filter(placed.classification_level.notnull())
    return placed.select("org", "line_key", "category", rule=placed.classification_rule,
                         confidence=placed.classification_confidence)
