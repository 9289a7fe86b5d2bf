"""The EN 16931 and PEPPOL BIS 3 rules that XPath 1.0 can state exactly, evaluated by lxml instead of Saxon.

The rule sets are read as shipped (the CEN's compiled XSLT 2, PEPPOL's Schematron) into patterns of rules of
assertions. An assertion is *translated* when its test passes a strict check (`xpath1`): only constructs whose
XPath 1.0 meaning is the XPath 2.0 meaning for the documents that reach the rules (schema-valid UBL), with two
explicit rewrites (exists() → boolean(), empty() → not()). Everything else — decimal arithmetic (sums, the
BR-CO amounts), variables, if/some/every, regular expressions, XSLT functions, comparisons with booleans or of
strings by order — stays in a reduced stylesheet that Saxon still runs, so the verdict is always complete.

Schematron's rule semantics are kept: in a pattern, an element is checked by the first rule (highest priority)
whose context matches it, and only by that one. A pattern is evaluated here only when every one of its rule
contexts can be matched by lxml; otherwise all its assertions stay in Saxon. A failure carries the rule's id, flag,
message (whitespace collapsed, as `validation._svrl_failures` reads it) and the element's location in the form
`validation._short_path` gives ('/Invoice[1]/cac:…' without prefixes: '/Invoice[1]/LegalMonetaryTotal[1]').

Checks are compiled once per process. A rule's translated assertions are first evaluated together as one
conjunction; only when it is false (some assertion fails) are they evaluated one by one.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from lxml import etree

XSL = "http://www.w3.org/1999/XSL/Transform"
SCH = "http://purl.oclc.org/dsdl/schematron"
SVRL = "http://purl.oclc.org/dsdl/svrl"

# ---------------------------------------------------------------- XPath 2 → XPath 1, where exact

_TOKEN = re.compile(r"""\s*(?:
   (?P<str>'[^']*'|"[^"]*")
  |(?P<num>\d+(?:\.\d*)?|\.\d+)
  |(?P<var>\$[\w.-]+)
  |(?P<name>(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*|(?:[A-Za-z_][\w.-]*:)\*|\*:[A-Za-z_][\w.-]*)
  |(?P<op>//|/|::|\.\.|\.|@|\(|\)|\[|\]|,|\||!=|<=|>=|=|<|>|\*|\+|-)
)""", re.X)

FUNCTIONS = {  # XPath 2 function → its XPath 1 equal (same result for the arguments the rules give it)
    "not": "not", "count": "count", "normalize-space": "normalize-space", "string-length": "string-length",
    "contains": "contains", "starts-with": "starts-with", "string": "string", "concat": "concat",
    "boolean": "boolean", "substring": "substring", "translate": "translate", "local-name": "local-name",
    "name": "name", "exists": "boolean", "empty": "not", "true": "true", "false": "false",
    "substring-after": "substring-after", "substring-before": "substring-before",
    "ends-with": "ends-with",  # only as ends-with(name(), 'literal'), rewritten by _ends_with
}
NODE_TESTS = {"node", "text"}
AXES = {"child", "parent", "ancestor", "descendant", "self", "following-sibling", "preceding-sibling",
        "attribute", "descendant-or-self", "ancestor-or-self"}
COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
ORDERING = {"<", "<=", ">", ">="}
# after these tokens a '*' is a name test (wildcard), not multiplication
_BEFORE_WILDCARD = {None, "/", "//", "(", "[", "@", ",", "|", "::", "and", "or", *COMPARISONS}


def _tokens(expr: str) -> list[tuple[str, str]] | None:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None or match.end() == pos:
            return None
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


# functions of one item per argument: XPath 2 raises an error for two nodes, XPath 1 takes the first
SINGLE = {"normalize-space", "string-length", "contains", "starts-with", "string", "concat", "substring",
          "substring-after", "substring-before", "translate", "local-name", "name"}


def xpath1(expr: str) -> str | None:
    """The XPath 1.0 expression with the meaning of this XPath 2.0 one, or None when that is not certain."""
    translated = translate(expr)
    return None if translated is None else translated[0]


def translate(expr: str) -> tuple[str, list[str]] | None:
    """(XPath 1.0 expression, guards) or None: the expression has the XPath 2.0 one's meaning wherever no guard
    (an XPath 1 path relative to the context node) selects two or more nodes. Where one does, XPath 2 would
    raise an error (a one-item function given two) or not, depending on evaluation order: such a document is
    not for lxml."""
    tokens = _tokens(expr)
    if not tokens:
        return None
    guards = _singleton_arguments(tokens)
    if guards is None:
        return None
    text = _translated(tokens)
    return None if text is None else (text, guards)


def _singleton_arguments(tokens) -> list[str] | None:
    """Guards for the path arguments of one-item functions: `count(path) > 1` for one at the top level, and for
    one inside a predicate `/descendant::step[count(path) > 1]` (any element of the predicate's step, anywhere:
    more than needed, never less). None when an argument is not a plain path."""
    guards = []
    owners: list[str] = []  # the step each open predicate belongs to
    last_owner = "*"
    for index, (kind, value) in enumerate(tokens):
        if value == "[":
            before = tokens[index - 1] if index else ("op", "")
            owner = before[1] if before[0] == "name" else (last_owner if before[1] == "]" else "*")
            owners.append(owner)
        elif value == "]":
            last_owner = owners.pop() if owners else "*"
        if not (kind == "name" and value in SINGLE and index + 1 < len(tokens) and tokens[index + 1][1] == "("):
            continue
        depth, arguments, current = 0, [], []
        for kind2, value2 in tokens[index + 2:]:
            if value2 in ("(", "["):
                depth += 1
            elif value2 in (")", "]"):
                if depth == 0:
                    break
                depth -= 1
            if value2 == "," and depth == 0:
                arguments.append(current)
                current = []
            else:
                current.append((kind2, value2))
        arguments.append(current)
        for argument in arguments:
            if not argument or len(argument) == 1 and argument[0][0] in ("str", "num") or argument == [("op", ".")]:
                continue
            if argument[0][0] == "name" and len(argument) > 1 and argument[1][1] == "(" and \
                    argument[-1][1] == ")" and _closes(argument, 1) == len(argument) - 1:
                continue  # a function call: one item
            if any(v in COMPARISONS or v in ("and", "or", "|") for _, v in argument):
                return None
            path = " ".join(v for _, v in argument)
            guards.append(f"/descendant::{owners[-1]}[count({path}) > 1]" if owners else f"count({path}) > 1")
    return guards


def _closes(tokens, opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index][1] in ("(", "["):
            depth += 1
        elif tokens[index][1] in (")", "]"):
            depth -= 1
            if depth == 0:
                return index
    return -1


def _translated(tokens) -> str | None:
    out: list[str] = []
    stack: list[str] = []  # "f" a function call's parentheses, "(" grouping, "[" predicate
    previous: str | None = None
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else None
        if kind == "var":
            return None
        if kind == "name":
            if following == "(":
                if value in FUNCTIONS:
                    if value in ("true", "false") and (previous in COMPARISONS or
                                                        (index + 3 < len(tokens) and tokens[index + 3][1]
                                                         in COMPARISONS)):
                        return None  # a comparison with a boolean: XPath 1 and 2 convert differently
                    value = FUNCTIONS[value]
                elif value not in NODE_TESTS:
                    return None
            elif following == "::":
                if value not in AXES:
                    return None
            elif value in ("and", "or"):
                if previous in (None, "(", "[", ",", "/", "//", "@", "::", "and", "or", *COMPARISONS):
                    return None  # an element named 'and' would be read as an operator by one of them
            elif ":" not in value and previous not in ("@", "::"):
                return None  # unprefixed names are XPath 2 keywords here (if, some, every, div, eq, …)
        elif kind == "num":
            pass
        elif kind == "op":
            if value in ("+", "-"):
                return None
            if value == "*" and previous not in _BEFORE_WILDCARD:
                return None  # multiplication
            if value == "(":
                stack.append("f" if previous is not None and tokens[index - 1][0] == "name" else "(")
            elif value == "[":
                stack.append("[")
            elif value in (")", "]"):
                if not stack:
                    return None
                stack.pop()
            elif value == ",":
                if not stack or stack[-1] != "f":
                    return None  # a sequence constructor
            elif value in ORDERING:
                # ordering comparisons only against a number literal: XPath 1 compares numbers, XPath 2 casts
                # the untyped value to a double; between strings or nodes XPath 2 would compare strings
                after = tokens[index + 1] if index + 1 < len(tokens) else None
                if not ((after and after[0] == "num") or (previous is not None and tokens[index - 1][0] == "num")):
                    return None
        out.append(value)
        previous = value
    if stack:
        return None
    return _ends_with(" ".join(out))


_ENDS_WITH = re.compile(r"ends-with \( name \( \) , '([^']+)' \)")


def _ends_with(expr: str) -> str | None:
    """ends-with(name(), 'Lit') → the last len(Lit) characters of name() are 'Lit' (XPath 1 has no ends-with;
    both count characters as code points). Any other use of ends-with is not translated."""
    expr = _ENDS_WITH.sub(lambda m: f"substring(name(), string-length(name()) - {len(m.group(1)) - 1}) = "
                                    f"'{m.group(1)}'", expr)
    return None if "ends-with" in expr else expr


# two XPath 2 predicates of the rule sets that have a certain XPath 1 form (only as a whole predicate, [...]):
# upper-case(x) = 'VAT' holds exactly for x in {vat, vAt, …}: no other character upper-cases to V, A or T
_VAT_SCHEME = re.compile(r"\[\s*cac:TaxScheme/\(?normalize-space\(upper-case\(cbc:ID\)\)\s*=\s*'VAT'\)?\s*\]")
# untyped = true()/false(): the value cast to xs:boolean (lexical true/1, false/0 after whitespace collapse)
_CHARGE = re.compile(r"\[\s*cbc:ChargeIndicator\s*=\s*(true|false)\(\)\s*\]")


def _rewrite(expr: str) -> str:
    expr = _VAT_SCHEME.sub("[cac:TaxScheme[translate(normalize-space(cbc:ID), 'vat', 'VAT') = 'VAT']]", expr)
    return _CHARGE.sub(lambda m: "[cbc:ChargeIndicator[normalize-space(.) = '%s' or normalize-space(.) = '%s']]"
                       % (("true", "1") if m.group(1) == "true" else ("false", "0")), expr)


def _context_xpath1(pattern: str) -> tuple[str, list[str]] | None:
    """An XSLT match pattern as an XPath 1 expression selecting the nodes it matches in a document, and its guards
    (see translate; all absolute)."""
    pattern = _rewrite(pattern)
    branches, guards = [], []
    for branch in _split_union(pattern):
        branch = branch.strip()
        translated = translate(branch) if branch else None
        if translated is None or translated[0].startswith("(") or "[" in branch and re.search(r"\[\s*\d", branch):
            return None
        text, branch_guards = translated
        if any(not guard.startswith("/") for guard in branch_guards):
            return None
        guards.extend(branch_guards)
        # //x and x (relative) select what /descendant::x does, without libxml2's node set per node on the way
        if text.startswith("// "):
            text = "/descendant::" + text[3:]
        elif not text.startswith("/"):
            text = "/descendant::" + text
        branches.append(text)
    return " | ".join(branches), guards


def _split_union(pattern: str) -> list[str]:
    parts, depth, current, quote = [], 0, "", ""
    for char in pattern:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return [*parts, current]


# ---------------------------------------------------------------- rule sets


@dataclass
class Check:
    id: str
    flag: str
    message: str              # whitespace collapsed ('' when the rule set computes it: then never translated)
    test: str                 # as in the rule set
    fails_when: str | None    # XPath 1 that is true when the check fails; None: Saxon evaluates it
    guards: list[str] = field(default_factory=list)  # XPath 1 at the rule's node, true: lxml may differ here
    failed: object = None     # for Saxon: an XSLT element that writes the check's failure when it fails
    negate: bool = True       # an assertion (fails when its test is false), else a report


@dataclass
class Rule:
    context: str                          # the XSLT match pattern, as in the rule set
    select: str | None                    # XPath 1 selecting the nodes it matches; None: lxml cannot
    guards: list[str] = field(default_factory=list)  # XPath 1, true: lxml may differ on this document
    checks: list[Check] = field(default_factory=list)
    lets: list = field(default_factory=list)  # xsl:variable elements, evaluated before the checks (Saxon)


@dataclass
class Pattern:
    rules: list[Rule]  # first match wins, in this order

    @property
    def fast(self) -> bool:
        return all(rule.select is not None for rule in self.rules)


def _x(parent, tag: str, **attrs):
    return etree.SubElement(parent, f"{{{XSL}}}{tag}", **attrs)


def _message(text_element) -> str | None:
    if text_element is None:
        return ""
    if len(text_element):
        return None  # value-of or other markup: Saxon writes it
    return " ".join((text_element.text or "").split())


def _check(id_, flag, message, test, failed, negate: bool) -> Check:
    translated = translate(_rewrite(test)) if message is not None else None
    if translated is None:
        return Check(id_ or "?", (flag or "fatal").lower(), message or "", test, None, [], failed, negate)
    text, guards = translated
    fails = f"not({text})" if negate else f"({text})"
    return Check(id_ or "?", (flag or "fatal").lower(), message or "", test, fails, guards, failed, negate)


def _rule(context: str) -> Rule:
    translated = None if "$" in context else _context_xpath1(context)
    return Rule(context, None) if translated is None else Rule(context, translated[0], translated[1])


def cen_rules(tree: etree._ElementTree) -> list[Pattern]:
    """The CEN's compiled XSLT: one pattern per mode of its root template, rules by falling priority."""
    root = tree.getroot()
    start = next(t for t in root.findall(f"{{{XSL}}}template") if t.get("match") == "/" and not t.get("mode"))
    modes = [a.get("mode") for a in start.iter(f"{{{XSL}}}apply-templates") if a.get("mode")]
    patterns = []
    for mode in modes:
        templates = [t for t in root.findall(f"{{{XSL}}}template") if t.get("mode") == mode and t.get("priority")
                     and float(t.get("priority")) >= 0]
        templates.sort(key=lambda t: -float(t.get("priority")))
        rules = []
        for template in templates:
            if any(isinstance(c.tag, str) and c.tag not in (f"{{{XSL}}}choose", f"{{{XSL}}}apply-templates",
                                                             f"{{{SVRL}}}fired-rule") for c in template):
                raise ValueError(f"CEN rule {template.get('match')}: an element this reader does not know")
            rule = _rule(template.get("match"))
            for choose in template.findall(f"{{{XSL}}}choose"):
                when = choose.find(f"{{{XSL}}}when")
                failed = copy.deepcopy(choose.find(f"{{{XSL}}}otherwise/{{{SVRL}}}failed-assert"))
                attrs = {a.get("name"): a for a in failed.findall(f"{{{XSL}}}attribute")}
                location = attrs["location"]
                for child in list(location):
                    location.remove(child)
                location.set("select", "path()")
                text = _message(failed.find(f"{{{SVRL}}}text"))
                rule.checks.append(_check((attrs["id"].text or "").strip() if "id" in attrs else None,
                                          (attrs["flag"].text or "").strip() if "flag" in attrs else None,
                                          text, when.get("test"), failed, True))
            rules.append(rule)
        patterns.append(Pattern(rules))
    return patterns


def peppol_rules(tree: etree._ElementTree) -> list[Pattern]:
    """A Schematron schema's patterns and rules (PEPPOL's), in document order."""
    ns = {"sch": SCH}
    patterns = []
    for pattern in tree.getroot().findall("sch:pattern", ns):
        rules = []
        for node in pattern.findall("sch:rule", ns):
            context = " ".join(node.get("context").split())
            rule = _rule(context)
            for let in node.findall("sch:let", ns):
                variable = etree.Element(f"{{{XSL}}}variable", name=let.get("name"), select=let.get("value"))
                rule.lets.append(variable)
            for check in node:
                if check.tag not in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    continue
                failed = etree.Element(f"{{{SVRL}}}failed-assert")
                for attr in ("id", "flag"):
                    if check.get(attr):
                        failed.set(attr, check.get(attr))
                _x(failed, "attribute", name="location", select="path()")
                message_xslt(check, etree.SubElement(failed, f"{{{SVRL}}}text"))
                message = None if len(check) else " ".join((check.text or "").split())
                rule.checks.append(_check(check.get("id"), check.get("flag"), message, check.get("test"), failed,
                                          check.tag == f"{{{SCH}}}assert"))
            rules.append(rule)
        patterns.append(Pattern(rules))
    return patterns


def message_xslt(check, target) -> None:
    """A Schematron assertion's text into `target`, with sch:value-of and sch:name as their XSLT equivalents."""
    target.text = check.text
    for child in check:
        if child.tag == f"{{{SCH}}}value-of":
            node = _x(target, "value-of", select=child.get("select"))
        elif child.tag == f"{{{SCH}}}name":
            node = _x(target, "value-of", select=f"name({child.get('path') or '.'})")
        else:
            node = _x(target, "text")
            node.text = "".join(child.itertext())
        node.tail = child.tail


def _select(pattern: str) -> str:
    """An XSLT 2 match pattern as an XPath 2 expression selecting every node of the document it matches."""
    branches = []
    for branch in _split_union(pattern):
        branch = branch.strip()
        if branch.startswith("("):
            inner = branch[1:].lstrip()
            if not inner.startswith("/"):
                raise ValueError(f"pattern {pattern!r}: a relative parenthesised branch")
            branches.append(branch)
        else:
            branches.append(branch if branch.startswith("/") else "//" + branch)
    return " | ".join(branches)


def saxon_stylesheet(patterns: list[Pattern], nsmap: dict, prelude: list, *, everything: bool = False) -> bytes:
    """The checks lxml does not evaluate (all of them with `everything`) as one XSLT 3 stylesheet writing SVRL.

    Schematron's semantics without, in the common case, a pass of template rules over the document per pattern
    (Saxon HE spends most of its time on that dispatch): per pattern, each rule's context is selected once
    (`//context`), and each node that a rule with checks matches is checked by the first rule of the pattern
    that matches it. Should that raise a dynamic error (a context XSLT would have treated as not matching the
    node, with a warning, or a check that fails with an error either way), the pattern is run again as template
    rules (`xsl:try`), which is what the rule set's own stylesheet does. The failures come in Saxon's order for
    the rule set (pattern, document order, check), each pattern opened by an svrl:active-pattern element, as in
    the CEN's stylesheet."""
    out = etree.Element(f"{{{XSL}}}stylesheet", nsmap={"xsl": XSL, "svrl": SVRL, **nsmap}, version="3.0")
    _x(out, "output", method="xml", indent="no")
    for element in prelude:
        out.append(copy.deepcopy(element))
    start = _x(out, "template", match="/")
    report = etree.SubElement(start, f"{{{SVRL}}}schematron-output")
    for number, pattern in enumerate(patterns):
        etree.SubElement(report, f"{{{SVRL}}}active-pattern")
        kept = [[c for c in rule.checks if everything or not pattern.fast or c.fails_when is None]
                for rule in pattern.rules]
        last = max((i for i, checks in enumerate(kept) if checks), default=-1)
        if last < 0:
            continue
        attempt = _x(report, "try")
        if any("$" in rule.context for rule in pattern.rules[:last + 1]):
            # the global variables again as local ones: xsl:try catches no error of a global variable's evaluation
            for element in prelude:
                if element.tag == f"{{{XSL}}}variable":
                    attempt.append(copy.deepcopy(element))
        for index in range(last + 1):
            _x(attempt, "variable", name=f"p{number}r{index}", select=_select(pattern.rules[index].context))
        nodes = " | ".join(f"$p{number}r{i}" for i in range(last + 1) if kept[i])
        choose = _x(_x(attempt, "for-each", select=nodes), "choose")
        for index in range(last + 1):
            when = _x(choose, "when", test=f"exists(. intersect $p{number}r{index})")
            if kept[index]:
                _checks(when, pattern.rules[index], kept[index])
        _x(_x(attempt, "catch"), "apply-templates", select="/", mode=f"P{number}")
        _templates(out, number, pattern.rules[:last + 1], kept)
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def _checks(parent, rule: Rule, checks: list[Check]) -> None:
    for let in rule.lets:
        parent.append(copy.deepcopy(let))
    for check in checks:
        condition = f"not({check.test})" if check.negate else f"({check.test})"
        _x(parent, "if", test=condition).append(copy.deepcopy(check.failed))


def _templates(out, number: int, rules: list[Rule], kept: list[list[Check]]) -> None:
    """A pattern as template rules in mode P<number> (as compile_schematron writes them)."""
    mode = f"P{number}"
    for order, rule in enumerate(rules):
        template = _x(out, "template", match=rule.context, mode=mode, priority=str(1000 + len(rules) - order))
        _checks(template, rule, kept[order])
        _x(template, "apply-templates", select="@*|*", mode=mode)
    _x(_x(out, "template", match="@*|node()", mode=mode, priority="-10"), "apply-templates", select="@*|*",
       mode=mode)


# ---------------------------------------------------------------- evaluation


GROUP = 24  # checks per conjunction: small enough that a failing group costs few single evaluations


@dataclass
class _CompiledRule:
    rule: Rule
    select: etree.XPath
    check_guard: etree.XPath | None    # at a node the rule fired for, true: a check may differ in XPath 2
    tags: frozenset[str] | None  # the names its nodes can have (None: any)
    groups: list  # (XPath true when none of the group fails or None for one check, [(index, check, fails)])
    rare: dict    # name → [(index, check, fails, needs)]: checks that can fail only if the document has `needs`,
    #               filed under each name of their last step


_NAME = r"[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*"
_LOCAL = r"[A-Za-z_][\w.-]*"
_STEP = rf"(?:{_NAME}|@ {_NAME}|@ {_LOCAL}|\( {_NAME}(?: \| {_NAME})+ \))"
# a failing check of one of these forms — a location path selects nothing, or at most one node — can only fail
# when the path selects something, so when each of its steps' names (outside predicates) occurs in the document
_ABSENT = (re.compile(r"^not\(not \( (.*) \)\)$"), re.compile(r"^not\(\(? ?count \( (.*) \) <= 1 ?\)?\)$"))
_PATH = re.compile(rf"^(?:/ |// )?{_STEP}(?: (?:/|//) {_STEP})*$")


def _needs(check: Check, namespaces: dict[str, str]) -> tuple[frozenset[str], ...] | None:
    """Sets of element names (Clark notation) and attribute names ('@' + Clark) of which the document must have
    at least one each for the check to fail, or None (no such simple condition)."""
    match = next((m for m in (p.match(check.fails_when or "") for p in _ABSENT) if m), None)
    if match is None:
        return None
    path = _without_predicates(match.group(1))
    if path is None or not _PATH.match(path):
        return None
    needs = []
    for step in re.split(r" (?:/|//) |^(?:/|//) ", path):
        if not step:
            continue
        attribute = step.startswith("@ ")
        names = step.strip("() ").split(" | ") if step.startswith("(") else [step[2:] if attribute else step]
        alternatives = set()
        for name in names:
            if ":" in name:
                prefix, local = name.split(":")
                name = f"{{{namespaces[prefix]}}}{local}"
            alternatives.add("@" + name if attribute else name)
        needs.append(frozenset(alternatives))
    return tuple(needs)


def _without_predicates(path: str) -> str | None:
    out, depth = [], 0
    for char in path:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            out.append(char)
    return " ".join("".join(out).split()) if depth == 0 else None


def _tags(select: str, namespaces: dict[str, str]) -> frozenset[str] | None:
    """The element names (Clark) a rule context's nodes can have (the last step of each branch), or None."""
    tags = set()
    for branch in _split_union(select):
        last = re.sub(r"\[[^\[\]]*\]", "", re.sub(r"\[[^\[\]]*\]", "", branch)).strip().split("/")[-1].strip()
        if not re.fullmatch(_NAME, last) or "[" in last:
            return None
        prefix, local = last.split(":")
        tags.add(f"{{{namespaces[prefix]}}}{local}")
    return frozenset(tags)


class Undecided(Exception):
    """A one-item function of a translated rule would get two nodes in this document: XPath 2 raises an error
    there (or not, by evaluation order), XPath 1 takes the first. The document is for the rule sets as shipped."""


def _any(guards: list[str], namespaces) -> etree.XPath | None:
    return etree.XPath(" or ".join(f"({g})" for g in guards), namespaces=namespaces) if guards else None


class Evaluator:
    """The translated checks of one rule set, compiled; `evaluate(root)` gives their failures in Saxon's order.

    Two shortcuts, both exact: a rule whose context's last step names elements that the document does not have
    matches nothing (its select is not run); a check that a path of element names is absent can only fail when
    the document has all of those names (it is evaluated only then). The other checks of a rule are evaluated in
    groups (one XPath: none of them fails), singly only in a group that has a failure."""

    def __init__(self, patterns: list[Pattern], namespaces: dict[str, str]):
        self.patterns: list[tuple[int, list[_CompiledRule]]] = []
        # how often each name occurs in the checks' paths: a check is filed under its least frequent step, which is
        # the least likely to be in a document (cbc:ID is in most, cac:PaymentMandate in few)
        frequency: dict[str, int] = {}
        for check in (c for p in patterns for r in p.rules for c in r.checks if c.fails_when is not None):
            for names in _needs(check, namespaces) or ():
                for name in names:
                    frequency[name] = frequency.get(name, 0) + 1
        context_guards: set[str] = set()
        for number, pattern in enumerate(patterns):
            if not pattern.fast:
                continue
            compiled = []
            for rule in pattern.rules:
                checks = [(index, c, etree.XPath(c.fails_when, namespaces=namespaces))
                          for index, c in enumerate(rule.checks) if c.fails_when is not None]
                rare: dict[str, list] = {}
                for index, c, fails in checks:
                    needs = _needs(c, namespaces)
                    if needs is not None:
                        for name in min(needs, key=lambda names: max(frequency[n] for n in names)):
                            rare.setdefault(name, []).append((index, c, fails, needs))
                common = [(index, c, fails) for index, c, fails in checks if _needs(c, namespaces) is None]
                groups = []
                for i in range(0, len(common), GROUP):
                    group = common[i:i + GROUP]
                    none_fails = None if len(group) == 1 else etree.XPath(
                        "not(" + " or ".join(c.fails_when for _, c, _ in group) + ")", namespaces=namespaces)
                    groups.append((none_fails, group))
                check_guards = sorted({g for _, c, _ in checks for g in c.guards})
                context_guards.update(rule.guards)
                compiled.append(_CompiledRule(rule, etree.XPath(rule.select, namespaces=namespaces),
                                              _any(check_guards, namespaces),
                                              _tags(rule.select, namespaces), groups, rare))
            self.patterns.append((number, compiled))
        # the rule contexts' guards are absolute: one XPath for the document (true: it is not for lxml)
        self.context_guard = _any(sorted(context_guards), namespaces)

    def evaluate(self, root) -> tuple[list[tuple[int, object, Check]], dict[int, dict]]:
        """The failed checks as (pattern number, element, check) in Saxon's order (pattern, document order, check),
        and per pattern the rule that fired for each element (to place Saxon's failures among these)."""
        if self.context_guard is not None and self.context_guard(root):
            raise Undecided("a rule context")
        out, fired = [], {}
        present = set()
        for node in root.iter(etree.Element):
            present.add(node.tag)
            present.update("@" + name for name in node.attrib)
        for number, rules in self.patterns:
            claimed: dict = {}
            for rule in rules:
                if rule.tags is not None and rule.tags.isdisjoint(present):
                    continue
                for node in rule.select(root):
                    if isinstance(node, etree._Element) and node not in claimed:
                        claimed[node] = rule
            fired[number] = claimed
            for node in root.iter():
                rule = claimed.get(node)
                if rule is None:
                    continue
                if rule.check_guard is not None and rule.check_guard(node):
                    raise Undecided(rule.rule.context)
                failed = []
                for none_fails, group in rule.groups:
                    if none_fails is None or not none_fails(node):
                        failed.extend((index, check) for index, check, fails in group if fails(node))
                candidates = {id(entry): entry for name in present.intersection(rule.rare) for entry in rule.rare[name]}
                failed.extend((index, check) for index, check, fails, needs in candidates.values()
                              if all(not names.isdisjoint(present) for names in needs) and fails(node))
                failed.sort(key=lambda pair: pair[0])
                out.extend((number, node, check) for _, check in failed)
        return out, fired


def location(node) -> str:
    """'/Invoice[1]/AccountingSupplierParty[1]': each element's local name and its position among its siblings of
    the same name (as Saxon's path() and the CEN's full path, read by validation._short_path)."""
    steps = []
    while node is not None:
        qname = etree.QName(node)
        position = 1 + sum(1 for s in node.itersiblings(preceding=True) if s.tag == node.tag)
        steps.append(f"{qname.localname}[{position}]")
        node = node.getparent()
    return "/" + "/".join(reversed(steps))

