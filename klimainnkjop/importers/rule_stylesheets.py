"""The EN 16931 and PEPPOL BIS 3 rule sets rewritten as XSLT 3 stylesheets that Saxon HE runs faster (the CEN's
about 1.3x, PEPPOL's about 3x; benchmarks/README.md section 7), with the same failures in the same order.

A compiled Schematron stylesheet (the CEN's, or `validation.compile_schematron`'s for PEPPOL) passes template rules
over the whole document once per pattern: for every element, Saxon HE's interpreter tries the pattern's rule
contexts in priority order. Measured, that dispatch is most of the time, not the checks (the PEPPOL stylesheet
with every assertion removed still costs 80 % of the full one). The stylesheet written here (`stylesheet`)
keeps Schematron's semantics without the pass:

- per pattern, each rule's context is selected once (`//context`: the nodes an XSLT pattern matches), and each node
  some rule matches is checked by the first rule of the pattern (in priority order) that matches it, in document
  order, checks in their order; the failures are written as the rule set's own stylesheet writes them (id, flag,
  text; location by `path()`, which `validation._short_path` reads to the same '/Invoice[1]/…' as the CEN's path).
- A pattern whose selection raises a dynamic error is run again as template rules (`xsl:try`): XSLT treats an
  error while matching a pattern as "no match", which a selection cannot do. A check that raises does so again
  there, as it does in the shipped stylesheet.
- A check that a location path selects nothing (most of the CEN's ~700 UBL-CR syntax rules: `not(cac:X/cbc:Y)`,
  `count(cac:X/cbc:Y) <= 1`) is evaluated only where the path's first steps (up to a predicate) select something
  (`gates`), the checks in a row under the same steps sharing one test of them.
- A rule's checks are written once, as a named template that both paths call (compiling stays as fast as the
  shipped stylesheet's).

What was tried and measured slower (commit 0aa1c3a): the checks that XPath 1.0 states exactly evaluated by lxml,
Saxon only for the rest. lxml's per-call cost (a few µs per XPath, ~300 calls per invoice) equals Saxon's checks.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from lxml import etree

XSL = "http://www.w3.org/1999/XSL/Transform"
SCH = "http://purl.oclc.org/dsdl/schematron"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass
class Check:
    id: str
    test: str                 # XPath 2, as in the rule set
    failed: object            # the XSLT that writes its svrl:failed-assert
    negate: bool = True       # an assertion (fails when its test is false), else a report
    gates: tuple = ()         # paths it can fail only where each selects something (see `gates`)


@dataclass
class Rule:
    context: str                                 # the XSLT match pattern
    checks: list[Check] = field(default_factory=list)
    lets: list = field(default_factory=list)     # xsl:variable elements, evaluated before the checks


@dataclass
class Pattern:
    rules: list[Rule]  # the first whose context matches a node checks it


def _x(parent, tag: str, **attrs):
    return etree.SubElement(parent, f"{{{XSL}}}{tag}", **attrs)


# ---------------------------------------------------------------- reading the rule sets


def cen_rules(tree: etree._ElementTree) -> tuple[list[Pattern], dict[str, str]]:
    """The CEN's compiled XSLT: one pattern per mode its root template applies, rules by falling priority; and its
    namespaces."""
    root = tree.getroot()
    namespaces = {k: v for k, v in root.nsmap.items() if k}
    start = next(t for t in root.findall(f"{{{XSL}}}template") if t.get("match") == "/" and not t.get("mode"))
    modes = [a.get("mode") for a in start.iter(f"{{{XSL}}}apply-templates") if a.get("mode")]
    patterns = []
    for mode in modes:
        templates = [t for t in root.findall(f"{{{XSL}}}template") if t.get("mode") == mode and t.get("priority")
                     and float(t.get("priority")) >= 0]
        templates.sort(key=lambda t: -float(t.get("priority")))
        rules = []
        for template in templates:
            known = (f"{{{XSL}}}choose", f"{{{XSL}}}apply-templates", f"{{{SVRL}}}fired-rule")
            if any(isinstance(c.tag, str) and c.tag not in known for c in template):
                raise ValueError(f"CEN rule {template.get('match')}: an element this reader does not know")
            rule = Rule(template.get("match"))
            for choose in template.findall(f"{{{XSL}}}choose"):
                failed = copy.deepcopy(choose.find(f"{{{XSL}}}otherwise/{{{SVRL}}}failed-assert"))
                attributes = {a.get("name"): a for a in failed.findall(f"{{{XSL}}}attribute")}
                location = attributes["location"]
                for child in list(location):
                    location.remove(child)
                location.set("select", "path()")
                test = choose.find(f"{{{XSL}}}when").get("test")
                rule.checks.append(Check((attributes["id"].text or "").strip(), test, failed,
                                         gates=gates(test)))
            rules.append(rule)
        patterns.append(Pattern(rules))
    return patterns, namespaces


def schematron_rules(root) -> tuple[list[Pattern], dict[str, str], list]:
    """An ISO Schematron schema (PEPPOL's): its patterns and rules in document order, its namespaces, and what
    goes before the rules (its lets and patterns' lets as global variables, its XSLT functions)."""
    ns = {"sch": SCH}
    namespaces = {"xs": "http://www.w3.org/2001/XMLSchema",
                  **{n.get("prefix"): n.get("uri") for n in root.findall("sch:ns", ns)}}
    patterns = []
    for pattern in root.findall("sch:pattern", ns):
        rules = []
        for node in pattern.findall("sch:rule", ns):
            rule = Rule(" ".join(node.get("context").split()))
            rule.lets = [etree.Element(f"{{{XSL}}}variable", name=let.get("name"), select=let.get("value"))
                         for let in node.findall("sch:let", ns)]
            for check in node:
                if check.tag not in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    continue
                failed = etree.Element(f"{{{SVRL}}}failed-assert")
                for attr in ("id", "flag"):
                    if check.get(attr):
                        failed.set(attr, check.get(attr))
                _x(failed, "attribute", name="location", select="path()")
                message_xslt(check, etree.SubElement(failed, f"{{{SVRL}}}text"))
                negate = check.tag == f"{{{SCH}}}assert"
                rule.checks.append(Check(check.get("id") or "?", check.get("test"), failed, negate,
                                         gates(check.get("test")) if negate else ()))
            rules.append(rule)
        patterns.append(Pattern(rules))
    lets = [*root.findall("sch:let", ns), *root.findall("sch:pattern/sch:let", ns)]
    prelude = [etree.Element(f"{{{XSL}}}variable", name=let.get("name"), select=let.get("value")) for let in lets]
    return patterns, namespaces, prelude + root.findall(f"{{{XSL}}}function")


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


# ---------------------------------------------------------------- checks that need a child

_TOKEN = re.compile(r"""\s*(?:
   (?P<str>'[^']*'|"[^"]*")
  |(?P<num>\d+(?:\.\d*)?|\.\d+)
  |(?P<var>\$[\w.-]+)
  |(?P<name>(?:[A-Za-z_][\w.-]*:)?(?:[A-Za-z_][\w.-]*|\*)|\*:[A-Za-z_][\w.-]*)
  |(?P<op>//|/|::|\.\.|\.|@|\(|\)|\[|\]|,|\||!=|<=|>=|=|<|>|\*|\+|-)
)""", re.X)


def _tokens(expr: str) -> list[tuple[str, str]] | None:
    out, pos, expr = [], 0, expr.strip()
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None or match.end() == pos:
            return None
        out.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return out


def _closing(tokens, opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index][1] in ("(", "["):
            depth += 1
        elif tokens[index][1] in (")", "]"):
            depth -= 1
            if depth == 0:
                return index
    return -1


def gates(test: str) -> tuple[str, ...]:
    """For an assertion `not(PATH)` or `count(PATH) <= 1`, where PATH begins with steps to child elements without
    predicates (`cac:A/cac:B/…`, `(cac:A | cac:B)/…`): those steps' paths ('cac:A', 'cac:A/cac:B'; not the last
    step). The assertion can fail only where each selects something, and where one does not, the rule set
    evaluates none of PATH's later predicates either (so it raises no error there). () for any other test."""
    tokens = _tokens(test)
    if not tokens:
        return ()
    while tokens[0][1] == "(" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    values = [v for _, v in tokens]
    if values[:2] == ["not", "("] and _closing(tokens, 1) == len(tokens) - 1:
        path = tokens[2:-1]
    elif values[:2] == ["count", "("] and values[-2:] == ["<=", "1"] and _closing(tokens, 1) == len(tokens) - 3:
        path = tokens[2:-3]
    else:
        return ()
    steps, index = [], 0
    while index < len(path):
        kind, value = path[index]
        if kind == "name" and ":" in value and "*" not in value:
            step, index = value, index + 1
        elif value == "(":
            end = _closing(path, index)
            names = [v for _, v in path[index + 1:end]]
            if end < 0 or len(names) < 2 or any(v != "|" for v in names[1::2]) \
                    or any(":" not in v or "*" in v for v in names[::2]):
                break
            step, index = "(" + " | ".join(names[::2]) + ")", end + 1
        else:
            break
        if index < len(path) and path[index][1] != "/":
            break  # a predicate, '//' or anything else: the steps before it only
        steps.append(step)
        index += 1
    return tuple("/".join(steps[:n]) for n in range(1, min(len(steps), _count_steps(path)) + 1)
                 if n < _count_steps(path))


def _count_steps(path) -> int:
    depth, count = 0, 1
    for _, value in path:
        if value in ("(", "["):
            depth += 1
        elif value in (")", "]"):
            depth -= 1
        elif value in ("/", "//") and depth == 0:
            count += 1
    return count


# ---------------------------------------------------------------- the stylesheet


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


def _select(pattern: str) -> str:
    """An XSLT 2 match pattern as an XPath expression selecting every node of the document it matches."""
    branches = []
    for branch in _split_union(pattern):
        branch = branch.strip()
        if branch.startswith("(") and not branch[1:].lstrip().startswith("/"):
            raise ValueError(f"pattern {pattern!r}: a relative parenthesised branch")
        branches.append(branch if branch.startswith(("/", "(")) else "//" + branch)
    return " | ".join(branches)


def stylesheet(patterns: list[Pattern], namespaces: dict, prelude: list) -> bytes:
    """The rule set as one XSLT 3 stylesheet writing SVRL (see the module's docstring)."""
    out = etree.Element(f"{{{XSL}}}stylesheet", nsmap={"xsl": XSL, "svrl": SVRL, **namespaces},
                        version="3.0")
    _x(out, "output", method="xml", indent="no")
    for element in prelude:
        out.append(copy.deepcopy(element))
    start = _x(out, "template", match="/")
    report = etree.SubElement(start, f"{{{SVRL}}}schematron-output")
    for number, pattern in enumerate(patterns):
        last = max((i for i, rule in enumerate(pattern.rules) if rule.checks), default=-1)
        if last < 0:
            continue
        rules = pattern.rules[:last + 1]
        attempt = _x(report, "try")
        if any("$" in rule.context for rule in rules):
            # the global variables again as local ones: xsl:try catches no error of a global variable's evaluation
            for element in prelude:
                if element.tag == f"{{{XSL}}}variable":
                    attempt.append(copy.deepcopy(element))
        for index, rule in enumerate(rules):
            _x(attempt, "variable", name=f"p{number}r{index}", select=_select(rule.context))
        nodes = " | ".join(f"$p{number}r{i}" for i, rule in enumerate(rules) if rule.checks)
        choose = _x(_x(attempt, "for-each", select=nodes), "choose")
        for index, rule in enumerate(rules):
            when = _x(choose, "when", test=f"exists(. intersect $p{number}r{index})")
            if rule.checks:  # the checks once, as a named template (the context node is the caller's)
                _checks(_x(out, "template", name=f"p{number}r{index}"), rule)
                _x(when, "call-template", name=f"p{number}r{index}")
        _x(_x(attempt, "catch"), "apply-templates", select="/", mode=f"P{number}")
        _templates(out, number, rules)
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def _checks(parent, rule: Rule) -> None:
    for let in rule.lets:
        parent.append(copy.deepcopy(let))
    open_gates: list[tuple[str, object]] = []  # nested xsl:if, one per gate, shared by consecutive checks
    for check in rule.checks:
        wanted = check.gates
        common = 0
        while common < min(len(open_gates), len(wanted)) and open_gates[common][0] == wanted[common]:
            common += 1
        del open_gates[common:]
        for gate in wanted[common:]:
            open_gates.append((gate, _x(open_gates[-1][1] if open_gates else parent, "if", test=f"exists({gate})")))
        condition = f"not({check.test})" if check.negate else f"({check.test})"
        _x(open_gates[-1][1] if open_gates else parent, "if", test=condition).append(copy.deepcopy(check.failed))


def _templates(out, number: int, rules: list[Rule]) -> None:
    """A pattern as template rules in mode P<number>, as the rule set's own stylesheet has it (for xsl:catch)."""
    mode = f"P{number}"
    for order, rule in enumerate(rules):
        template = _x(out, "template", match=rule.context, mode=mode, priority=str(1000 + len(rules) - order))
        if rule.checks:
            _x(template, "call-template", name=f"p{number}r{order}")
        _x(template, "apply-templates", select="@*|*", mode=mode)
    _x(_x(out, "template", match="@*|node()", mode=mode, priority="-10"), "apply-templates", select="@*|*",
       mode=mode)
