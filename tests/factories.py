"""What tests share: builders (a profile, a ledger, KOSTRA and factor files, people), the hand-computed figures
of the web tests' region, and readers of HTML pages. Fixtures are in tests/conftest.py; test modules import
from here, never from each other."""
from __future__ import annotations

import csv
import functools
import json
import re
import threading
import time
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model

from klimainnkjop.access import operator
from klimainnkjop.services import cases, imports, invoices, profiles, suppliers
from klimainnkjop.storage.models import Membership

DATA = Path(__file__).resolve().parent.parent / "klimainnkjop" / "data"
NBSP = "\u00a0"

VISMA = {
    "name": "visma",
    "columns": {
        "posting_date": "Dato", "account": "Konto", "function": "Funksjon", "unit": "Ansvar",
        "supplier_orgnr": "Orgnr", "supplier_name": "Leverandør", "amount": "Beløp", "description": "Tekst",
    },
}
HEADER = "Dato;Konto;Funksjon;Ansvar;Orgnr;Leverandør;Beløp;Tekst\n"


def as_operator(service):
    """The service called as the command line calls it: as the operator, in no organisation's scope (README: Design,
    scoped by default). Fixtures run without a scope anyway (tests/conftest.py); a test body does not."""
    @functools.wraps(service)
    def call(*args, **kwargs):
        with operator():
            return service(*args, **kwargs)
    return call


class _AsOperator:
    """A services module whose do_* services are called as the operator (as_operator); everything else as it is."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        return as_operator(value) if name.startswith("do_") and callable(value) else value


# a procurement case's steps for test bodies that walk one, as the command line would (each step writes its event)
operator_cases = _AsOperator(cases)

# the import services for test bodies that import a file themselves, as the command line would
do_import_ledger = as_operator(imports.do_import_ledger)
do_import_kostra = as_operator(imports.do_import_kostra)
do_delete_import_batch = as_operator(imports.do_delete_import_batch)
do_save_profile = as_operator(profiles.do_save_profile)
do_import_ehf = as_operator(invoices.do_import_ehf)
do_import_saft = as_operator(invoices.do_import_saft)
do_import_supplier_stats = as_operator(suppliers.do_import_supplier_stats)
do_save_supplier_stats_profile = as_operator(suppliers.do_save_supplier_stats_profile)


def ledger_csv(*rows: str, header: str = HEADER) -> str:
    return header + "".join(r + "\n" for r in rows)


def import_ledger(org, text: str, name: str = "ledger.csv", *, encoding: str = "utf-8", profile: dict | None = None):
    """The ledger file imported through the real services with `profile` (VISMA unless given) saved first."""
    spec = profile or VISMA
    do_save_profile(organisation=org, spec=spec, actor="test")  # as the operator (as_operator)
    return do_import_ledger(organisation=org, data=text.encode(encoding), file_name=name,
                            profile_name=spec["name"], actor="test")


# --- the web tests' ledgers (a fuller profile) and their hand-computed figures -----------------------------

WEB_PROFILE = {
    "name": "visma",
    "columns": {"posting_date": "Bilagsdato", "account": "Konto", "unit": "Ansvar", "supplier_orgnr": "Lev.orgnr",
                "supplier_name": "Leverandør", "amount": "Beløp", "description": "Tekst", "voucher": "Bilagsnr",
                "line_id": "Linje", "kontoklasse": "Kontoklasse"},
    "date_format": "%d.%m.%Y",
    "currency": "NOK",
}

WEB_HEADER = "Bilagsdato;Konto;Ansvar;Lev.orgnr;Leverandør;Beløp;Tekst;Bilagsnr;Linje;Kontoklasse\n"

# Kongsvinger, 2024: office supplies (art 100) and electricity (art 180) in operating, construction works
# (art 230) as investment, and wages (art 010) that must be left out.
KONGSVINGER_CSV = WEB_HEADER + (
    "15.03.2024;10000;1100;982463718;Kontorgiganten AS;123 456,00;Papir;1;1;1\n"
    "20.06.2024;18000;1200;987654325;Nettkraft AS;250 000,00;Strøm;2;1;1\n"
    "01.09.2024;23000;1200;974760673;Byggmester Hansen AS;1 000 000,00;Skolebygg;3;1;0\n"
    "31.01.2024;01000;1100;;;500 000,00;Lønn;4;1;1\n"
)
# Grue, 2024: office supplies only.
GRUE_CSV = WEB_HEADER + "10.05.2024;10000;2100;982463718;Kontorgiganten AS;77 777,00;Papir;1;1;1\n"


def factor(category: str) -> float:
    """The default spend set's factor, read straight from its shipped file."""
    with open(DATA / "factor_sets" / "dfo-klimaintensiteter.csv", encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter=";")
        return next(float(r["value"]) for r in rows if r["key"] == category and r["basis"] == "spend")


def food_engine_inputs(files, *, cpi: dict[int, float], years: range, food_factor: float = 0.02):
    """engine.runner.EngineInputs for the engine's own tests: the line files `files`, art 115 food with one spend
    factor per kr (`food_factor`, its range half to double, price year 2026) valid over `years`, art 270 services
    without a factor, the price index `cpi` ({year: index}) and NOK only."""
    import pyarrow as pa

    from klimainnkjop.engine import runner

    factors = [{"category": "goods.food", "value": food_factor, "low": food_factor / 2, "high": food_factor * 2,
                "price_year": 2026, "currency": "NOK", "ref": "food", "quality": 4, "tier": 1, "valid_from": 2000,
                "valid_to": 2030}]
    return runner.EngineInputs(
        line_files=list(files),
        art_classes=runner.art_class_table({"115": "goods.food", "270": "services.other"}),
        ancestors=runner.ancestor_table({"goods.food": None, "services.other": None}),
        spend_factors=runner.expand_years(factors, years, runner.SPEND_SCHEMA),
        prices=pa.table({"year": pa.array(list(cpi), pa.int32()), "cpi": pa.array(list(cpi.values()), pa.float64())}),
        rates=pa.table({"year": pa.array(list(cpi), pa.int32()), "currency": ["NOK"] * len(cpi),
                        "nok_per_unit": [1.0] * len(cpi)}),
    )


def cpi(year: int) -> float:
    with open(DATA / "price_index.csv", encoding="utf-8") as fh:
        return next(float(r["value"]) for r in csv.DictReader(fh, delimiter=";") if int(r["year"]) == year)


def kg(spend_nok: float, category: str, year: int) -> float:
    """kg CO2e by hand: spend moved to the factor's price year (2026) with the CPI, times the factor."""
    return spend_nok * cpi(2026) / cpi(year) * factor(category)


def norwegian(value: float, decimals: int = 1) -> str:
    """Written the Norwegian way, independently of the code under test: 12 345,6 (non-breaking space)."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", NBSP)


KONGSVINGER_OPERATING_KG = kg(123_456, "goods.office", 2024) + kg(250_000, "energy.electricity", 2024)
KONGSVINGER_INVESTMENT_KG = kg(1_000_000, "construction.works", 2024)
KONGSVINGER_KG = KONGSVINGER_OPERATING_KG + KONGSVINGER_INVESTMENT_KG
GRUE_KG = kg(77_777, "goods.office", 2024)


def make_user(username: str, organisation=None, role: str | None = None):
    user = get_user_model().objects.create_user(username=username, password="a-long-test-password")
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


# --- a tiny HTML tree, enough to find figures and tables (the standard library only) -----------------------

class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent, self.children, self.text_parts = tag, attrs, parent, [], []

    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text() for p in self.text_parts)

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str, **attrs) -> list["Node"]:
        def matches(n: Node, key: str, value: str) -> bool:
            if key == "class_":
                return value in (n.attrs.get("class") or "").split()
            return n.attrs.get(key) == value

        return [n for n in self.iter() if n.tag == tag and all(matches(n, k, v) for k, v in attrs.items())]


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        self.current.text_parts.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        self.current.text_parts.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text_parts.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    return builder.root


def squash(text: str) -> str:
    """Collapse ordinary white space (not the non-breaking spaces inside numbers)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def table_cells(table: Node) -> list[str]:
    return [squash(c.text()) for c in table.iter() if c.tag in ("td", "th")]


def chart_payload(figure: Node) -> dict:
    """The chart's Vega-Lite spec and number format, embedded as JSON for the browser to draw (reports/charts.py)."""
    wrapper = [n for n in figure.iter() if n.attrs.get("data-chart")][0]
    source = [n for n in figure.iter() if n.tag == "script" and n.attrs.get("id") == wrapper.attrs["data-chart"]]
    assert len(source) == 1 and source[0].attrs.get("type") == "application/json"
    return json.loads(source[0].text())


def chart_value_labels(figure: Node) -> list[str]:
    """The numbers printed on the bars: the values of the spec's text layer (the bars' own layer holds the
    stacked parts; tests/browser checks that the drawn SVG prints the same labels)."""
    spec = chart_payload(figure)["spec"]
    return [v["label"] for layer in spec["layer"] if layer["mark"]["type"] == "text" for v in layer["data"]["values"]]


def assert_no_inline_script(tree: Node, url: str) -> None:
    """Scripts are this site's files or JSON data (a chart's spec), never inline code (the CSP forbids it)."""
    for script in tree.find_all("script"):
        if script.attrs.get("src"):
            assert script.attrs["src"].startswith("/static/") and not script.text().strip(), (url, script.attrs)
        else:
            assert script.attrs.get("type") == "application/json", (url, script.attrs)


def page(client, url: str) -> tuple[str, Node]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    return html, parse(html)


# --- KOSTRA files (SSB's fixed-width layout) and factor set files ------------------------------------------

def record(year=2019, klasse="1", function="0202", art="115", kr=14582, skjema="0A", region="040200",
           orgnr=" " * 9):
    return f"{skjema}{year} {region}{orgnr}{' ' * 9}{klasse}{function}{art}{kr:>9}"


def kostra_file(*records):
    return ("\r\n".join(records) + "\r\n").encode("latin-1")


META = """# name: test-activity
# version: 1
# publisher: Test
# licence: CC0
# attribution: made for a test
# role: activity
key;basis;unit;price_year;price_type;value;low;high;region;valid_from;valid_to;quality;source_ref;note
"""


def factor_file(*rows, meta=META):
    return (meta + "".join(r + "\n" for r in rows)).encode()


# --- the permission table: who gets what, for every URL pattern (tests/test_web_permissions.py checks it) ----

KONGSVINGER = "944117784"
GRUE = "964950113"
LOGIN = "/logg-inn/"

USER_KINDS = ["anonymous", "region_admin", "reader_own", "reader_other"]
# reader_own reads Kongsvinger (the organisation in the URLs below); reader_other reads Grue only.
# Rows may also say what these get (the administration and audit rows do): an org-admin and an auditor of
# Kongsvinger.
EXTRA_KINDS = ["org_admin_own", "auditor_own"]
ALL_KINDS = USER_KINDS + EXTRA_KINDS
FORBIDDEN = 403

OK, LOGIN_REDIRECT, NOT_FOUND, REDIRECT, NOT_ALLOWED = 200, "login", 404, 302, 405
BAD_REQUEST = 400

# route -> list of (method, path, {user kind: expected}); expected is a status or "login" (302 to the login page)
EXPECTATIONS: dict[str, list[tuple[str, str, dict[str, object]]]] = {
    "": [
        ("get", "/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/?periode=2024T2", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                     "reader_other": OK}),
        ("get", "/?periode=tjuetjuefem", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                          "reader_own": BAD_REQUEST, "reader_other": BAD_REQUEST}),
    ],
    "org/<str:orgnr>/": [
        ("get", f"/org/{KONGSVINGER}/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{GRUE}/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND, "reader_other": OK}),
        ("get", "/org/999999999/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", "/org/not-a-number/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/?periode=2024H1",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/?periode=2024H3",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/linjer/": [  # the drill-down list (scoped like the dashboard; tests/test_web_dashboards.py)
        ("get", f"/org/{KONGSVINGER}/linjer/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?periode=2024Q2&kategori=goods.office&metode=spend&sortering=belop",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?format=csv",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?periode=2024Q5",  # a bad period is a message, not a 500
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?metode=magic",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("get", "/org/999999999/linjer/", {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND,
                                           "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/enhet/<str:unit>/": [  # a unit dashboard (units exist once imported: test_web_dashboards.py)
        ("get", f"/org/{KONGSVINGER}/enhet/no-such-unit/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND,
          "reader_other": NOT_FOUND}),
    ],
    "faktorer/": [
        ("get", "/faktorer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/faktorer/?q=mat&side=2",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/faktorer/?sett=no-such-set:1",  # a bad choice is a form error, not a 500
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": BAD_REQUEST}),
    ],
    "faktorer/<int:pk>/": [
        # the factor library is shared reference data (its usage list is scoped: tests/test_web_factors.py)
        ("get", "/faktorer/999999999/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", "/faktorer/not-a-number/", {k: NOT_FOUND for k in USER_KINDS}),
    ],
    "metode/": [
        ("get", "/metode/", {k: OK for k in USER_KINDS}),  # public: the method is no secret
    ],
    "sammenligning/": [
        ("get", "/sammenligning/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/sammenligning/?a=x&b=999999999",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": BAD_REQUEST}),
    ],
    "logg-inn/": [
        ("get", LOGIN, {"anonymous": OK, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
    ],
    "logg-ut/": [
        ("post", "/logg-ut/", {k: REDIRECT for k in USER_KINDS}),
        ("get", "/logg-ut/", {k: NOT_ALLOWED for k in USER_KINDS}),  # logging out takes a POST form
    ],
    "i18n/setlang/": [
        ("post", "/i18n/setlang/", {k: REDIRECT for k in USER_KINDS}),  # anyone may choose a language
    ],
    # --- administration (views_admin.py): 404 outside the scope, 403 where seen but not administered ----------
    "organisasjoner/": [
        ("get", "/organisasjoner/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
    ],
    "organisasjoner/ny/": [
        ("get", "/organisasjoner/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN,
                                        "reader_other": FORBIDDEN, "org_admin_own": FORBIDDEN,
                                        "auditor_own": FORBIDDEN}),
        ("post", "/organisasjoner/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                         "reader_own": FORBIDDEN, "reader_other": FORBIDDEN,
                                         "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
    ],
    "org/<str:orgnr>/endre/": [
        ("get", f"/org/{KONGSVINGER}/endre/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN,
                                               "reader_other": NOT_FOUND, "org_admin_own": FORBIDDEN,
                                               "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/endre/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
        ("get", "/org/999999999/endre/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
    "org/<str:orgnr>/enheter/": [
        ("get", f"/org/{KONGSVINGER}/enheter/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                 "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                 "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/enheter/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND,
                                          "reader_other": FORBIDDEN, "org_admin_own": NOT_FOUND,
                                          "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/enheter/<int:pk>/endre/": [
        ("get", f"/org/{KONGSVINGER}/enheter/999999/endre/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{GRUE}/enheter/999999/endre/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/personer/": [
        ("get", f"/org/{KONGSVINGER}/personer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                  "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                  "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/personer/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                   "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                   "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/personer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND,
                                           "reader_other": FORBIDDEN, "org_admin_own": NOT_FOUND,
                                           "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/personer/<int:pk>/fjern/": [
        ("post", f"/org/{KONGSVINGER}/personer/999999/fjern/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{KONGSVINGER}/personer/999999/fjern/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),  # a change takes a POST
    ],
    "org/<str:orgnr>/invitasjoner/": [
        ("get", f"/org/{KONGSVINGER}/invitasjoner/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                      "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                      "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/invitasjoner/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                       "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                       "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/invitasjoner/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                               "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
                                               "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/invitasjoner/<int:pk>/trekk-tilbake/": [
        ("post", f"/org/{KONGSVINGER}/invitasjoner/999999/trekk-tilbake/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{KONGSVINGER}/invitasjoner/999999/trekk-tilbake/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "org/<str:orgnr>/importer/": [
        ("get", f"/org/{KONGSVINGER}/importer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                                  "reader_other": NOT_FOUND, "org_admin_own": OK, "auditor_own": OK}),
        ("get", f"/org/{GRUE}/importer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND,
                                           "reader_other": OK, "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/importer/<int:pk>/": [
        # can_view, like the list (an existing batch with findings: tests/test_invoice_rules.py)
        ("get", f"/org/{KONGSVINGER}/importer/999999/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/importer/<int:pk>/slett/": [
        # can_import: org-admin, finance, purchaser and region-admin (an existing batch: tests/test_web_admin.py)
        ("get", f"/org/{KONGSVINGER}/importer/999999/slett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/importer/999999/slett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
    ],
    "revisjonslogg/": [
        ("get", "/revisjonslogg/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                    **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?format=csv", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                               **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?format=json", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?format=xml", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                               **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?handling=no-such-action", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                            **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
    ],
    "org/<str:orgnr>/revisjonslogg/": [
        ("get", f"/org/{KONGSVINGER}/revisjonslogg/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                       "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                       "org_admin_own": FORBIDDEN, "auditor_own": OK}),
        ("get", f"/org/{KONGSVINGER}/revisjonslogg/?format=csv",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": FORBIDDEN, "auditor_own": OK}),
        ("get", f"/org/{GRUE}/revisjonslogg/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
                                                "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
        ("get", f"/org/{GRUE}/revisjonslogg/?format=json",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    # --- sign-in second factor, own account, invitations (views_account.py) ------------------------------------
    "logg-inn/totp/": [
        ("get", "/logg-inn/totp/", {k: REDIRECT for k in ALL_KINDS}),  # without a password step first: to login
    ],
    "meg/": [
        ("get", "/meg/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
    ],
    "meg/totp/ny/": [
        ("post", "/meg/totp/ny/", {"anonymous": LOGIN_REDIRECT, **{k: REDIRECT for k in ALL_KINDS[1:]}}),
        ("get", "/meg/totp/ny/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "meg/totp/bekreft/": [
        ("post", "/meg/totp/bekreft/", {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "meg/totp/fjern/": [
        ("post", "/meg/totp/fjern/", {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "invitasjon/<str:token>/": [
        ("get", "/invitasjon/not-a-token/", {k: NOT_FOUND for k in ALL_KINDS}),
        ("post", "/invitasjon/not-a-token/", {k: NOT_FOUND for k in ALL_KINDS}),
    ],
}

# Reports, publishing and the public page (org-admin and scoped downloads: tests/test_web_public.py)
EXPECTATIONS.update({
    "rapporter/": [
        ("get", "/rapporter/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("post", "/rapporter/",  # an empty form is a form error
         {"anonymous": LOGIN_REDIRECT, "region_admin": 400, "reader_own": 400, "reader_other": 400}),
    ],
    "rapporter/<int:pk>/last-ned/": [
        ("get", "/rapporter/999999999/last-ned/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "rapporter/status/": [  # the archive list the reports page polls; scoped like the page (test_report_jobs.py)
        ("get", "/rapporter/status/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
    ],
    "rapporter/planer/": [  # adding a report schedule: administrators only; an empty form is a form error
        ("post", "/rapporter/planer/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                        "reader_own": FORBIDDEN, "reader_other": FORBIDDEN,
                                        "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", "/rapporter/planer/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "rapporter/planer/<int:pk>/slett/": [  # removing one (real schedules: tests/test_report_jobs.py)
        ("post", "/rapporter/planer/999999999/slett/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("get", "/rapporter/planer/999999999/slett/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "org/<str:orgnr>/publiser/": [
        ("post", f"/org/{KONGSVINGER}/publiser/",  # no year: nothing published
         {"anonymous": LOGIN_REDIRECT, "region_admin": 400, "reader_own": 403, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/publiser/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_ALLOWED, "reader_own": NOT_ALLOWED,
          "reader_other": NOT_ALLOWED}),
    ],
    # the public page shows published figures only; nothing is published here
    "offentlig/": [("get", "/offentlig/", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/data.csv": [("get", "/offentlig/data.csv", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/data.json": [("get", "/offentlig/data.json", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/<str:orgnr>/": [("get", f"/offentlig/{KONGSVINGER}/", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/<str:orgnr>/data.csv": [("get", f"/offentlig/{KONGSVINGER}/data.csv", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/<str:orgnr>/data.json": [
        ("get", f"/offentlig/{KONGSVINGER}/data.json", {k: NOT_FOUND for k in USER_KINDS})],
})

# The review queue and the explanation of one line (purchasers and lines: tests/test_web_review.py)
EXPECTATIONS.update({
    "org/<str:orgnr>/gjennomgang/": [
        ("get", f"/org/{KONGSVINGER}/gjennomgang/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("post", f"/org/{KONGSVINGER}/gjennomgang/",  # no line chosen: a form error; a reader may not change
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": 403, "reader_other": NOT_FOUND}),
        ("get", "/org/999999999/gjennomgang/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/linje/<str:line_key>/": [
        ("get", f"/org/{KONGSVINGER}/linje/no-such-line/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", f"/org/{GRUE}/linje/no-such-line/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
})


# --- OpenID Connect: a stand-in provider on the loopback interface (tests/test_auth.py, test_sign_in_audit.py) --

class FakeProvider:
    """Token, JWKS and userinfo endpoints of an OIDC provider, in this process (no network)."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: dict = {}
        self.userinfo: dict = {}
        self.requests: list[str] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body: dict):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                provider.requests.append(self.path)
                self._send({"access_token": "access-1", "token_type": "Bearer", "expires_in": 300,
                            "id_token": provider.id_token()})

            def do_GET(self):
                provider.requests.append(self.path)
                if self.path.startswith("/jwks"):
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                    self._send({"keys": [jwk | {"kid": "k1", "alg": "RS256", "use": "sig"}]})
                else:
                    self._send(provider.userinfo)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def id_token(self, key=None) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "klimainnkjop", "iat": now, "exp": now + 300, "nonce": "nonce-1"}
        return jwt.encode(body | self.claims, key or self.key, algorithm="RS256", headers={"kid": "k1"})


# --- the reports' region (tests/test_reports.py, test_report_jobs.py, the funder report; conftest's accounts) ---

# Kongsvinger buys in several months of 2024 and 2025 (two units, operating and investment); one purchase is
# from Grue (inside the region: left out of the consolidated region account). Grue buys in 2025.
REPORTS_KONGSVINGER_CSV = WEB_HEADER + (
    "15.01.2024;10000;1100;982463718;Kontorgiganten AS;10 000,00;Papir;1;1;1\n"
    "15.05.2024;18000;1200;987654325;Nettkraft AS;40 000,00;Strøm;2;1;1\n"
    "20.08.2024;10000;1100;982463718;Kontorgiganten AS;20 000,00;Papir;3;1;1\n"
    "15.02.2025;10000;1100;982463718;Kontorgiganten AS;12 345,67;Papir;4;1;1\n"
    "10.05.2025;18000;1200;987654325;Nettkraft AS;55 555,55;Strøm;5;1;1\n"
    "01.07.2025;23000;1200;974760673;Byggmester Hansen AS;300 000,00;Skolebygg;6;1;0\n"
    "20.09.2025;10000;1100;982463718;Kontorgiganten AS;7 777,77;Papir;7;1;1\n"
    "05.11.2025;12000;1100;964950113;Grue kommune;50 000,00;Tjenestekjøp;8;1;1\n"
    "31.01.2025;01000;1100;;;500 000,00;Lønn;9;1;1\n"
)
REPORTS_GRUE_CSV = WEB_HEADER + (
    "10.03.2025;10000;2100;982463718;Kontorgiganten AS;33 333,33;Papir;1;1;1\n"
    "10.08.2025;18000;2100;987654325;Nettkraft AS;44 444,44;Strøm;2;1;1\n"
)


# --- measures (tiltak): the pages' permission rows (issue 10; pages with measures: tests/test_measures.py) ---

EXPECTATIONS.update({
    "tiltak/": [
        ("get", "/tiltak/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", f"/tiltak/?org={KONGSVINGER}",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
    ],
    "tiltak/<int:pk>/": [
        ("get", "/tiltak/999999999/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "tiltak/<int:pk>/status/": [  # recording a status step (real measures: tests/test_measures.py)
        ("post", "/tiltak/999999999/status/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("get", "/tiltak/999999999/status/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "tiltak/pakker/<int:pk>/vedta/": [  # recording a package's adoption (real packages: tests/test_measures.py)
        ("post", "/tiltak/pakker/999999999/vedta/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("get", "/tiltak/pakker/999999999/vedta/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "tiltak/pakker/": [
        ("get", "/tiltak/pakker/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                    "reader_other": OK}),
    ],
    "tiltak/kurve/": [
        ("get", "/tiltak/kurve/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                   "reader_other": OK}),
        ("get", "/tiltak/kurve/?pakke=999999999",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "tiltak/bane/": [  # no package adopted: a message, not an error
        ("get", "/tiltak/bane/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                  "reader_other": OK}),
        ("get", f"/tiltak/bane/?org={KONGSVINGER}",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", "/tiltak/bane/?til=tjuetretti",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": BAD_REQUEST}),
    ],
})


# --- targets, KPIs and climate budgets (issue 11; tests/test_targets.py) -----------------------------------------
# The budget page: every person who sees the organisation may open it (a unit leader sees only their units' budgets:
# tests/test_targets.py); setting a budget is for org-admins, finance and region administrators; an empty form is
# a form error.
EXPECTATIONS.update({
    "org/<str:orgnr>/klimabudsjett/": [
        ("get", f"/org/{KONGSVINGER}/klimabudsjett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND,
          "org_admin_own": OK, "auditor_own": OK}),
        # the table's account is empty and has no budget: 2025Q3 is not in the list of periods (400)
        ("get", f"/org/{KONGSVINGER}/klimabudsjett/?periode=2025Q3",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/klimabudsjett/?periode=2025Q9",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("post", f"/org/{KONGSVINGER}/klimabudsjett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
          "reader_other": NOT_FOUND, "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", "/org/999999999/klimabudsjett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND,
          "reader_other": NOT_FOUND}),
    ],
    # the targets in force; adopting the steering document's targets is for region administrators
    "mal/": [
        ("get", "/mal/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("post", "/mal/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
                           "reader_other": FORBIDDEN, "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
    ],
})


# --- agreements and the requirement library (issue 12; tests/test_agreements.py, test_requirements.py) --------

AGREEMENT_HEADER = ("Avtalenummer;Avtalenavn;Leverandører;Kategorier;Deltakere;Eier;Start;Slutt;Opsjoner brukt;"
                    "Opsjoner igjen;Estimert årlig verdi\n")


def agreement_list(*rows: tuple) -> str:
    """An agreement list with the default profile's Norwegian headers, one row per tuple in AGREEMENT_HEADER's
    order."""
    return AGREEMENT_HEADER + "".join(";".join(row) + "\n" for row in rows)


# Agreements, renewals and the requirement library (views_agreements.py; agreements of real people and scoped
# figures: tests/test_web_agreements.py). No agreements exist in the permission table's world.
EXPECTATIONS.update({
    "avtaler/": [
        ("get", "/avtaler/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("get", "/avtaler/?ar=2024", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("get", "/avtaler/?ar=tjue", {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "avtaler/fornyelser/": [
        ("get", "/avtaler/fornyelser/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("get", "/avtaler/fornyelser/?maaneder=0",
         {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "avtaler/<int:pk>/": [
        ("get", "/avtaler/999999999/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
    "avtaler/ny/": [  # region administrators, and org-admins and purchasers for their own organisation
        ("get", "/avtaler/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN,
                                 "reader_other": FORBIDDEN, "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", "/avtaler/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
                                  "reader_other": FORBIDDEN, "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
    ],
    "avtaler/<int:pk>/endre/": [
        ("get", "/avtaler/999999999/endre/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("post", "/avtaler/999999999/endre/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
    "kravbibliotek/": [
        ("get", "/kravbibliotek/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("get", "/kravbibliotek/?type=award&kategori=goods.food",
         {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("get", "/kravbibliotek/?type=wish", {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "kravbibliotek/ny/": [  # the library is the region's: region administrators edit it
        ("get", "/kravbibliotek/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                       **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("post", "/kravbibliotek/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                        **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
    ],
    "kravbibliotek/<str:code>/endre/": [
        ("get", "/kravbibliotek/MAT-01/endre/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                 **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/kravbibliotek/NO-SUCH/endre/", {"anonymous": LOGIN_REDIRECT,
                                                  **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
    "kravbibliotek/<str:code>/": [
        ("get", "/kravbibliotek/MAT-01/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("get", "/kravbibliotek/NO-SUCH/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
})


# Procurement cases (views_cases.py; a case walked by a purchaser and an approver: tests/test_agreements.py)
EXPECTATIONS.update({
    "saker/": [("get", "/saker/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}})],
    "saker/ny/": [
        ("get", "/saker/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN,
                               "reader_other": FORBIDDEN, "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", "/saker/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
                                "reader_other": FORBIDDEN, "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
    ],
    "saker/sjekkliste/": [("get", "/saker/sjekkliste/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}})],
    "saker/<int:pk>/": [
        ("get", "/saker/999999999/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}})],
    "saker/<int:pk>/vedlegg.pdf": [
        ("get", "/saker/999999999/vedlegg.pdf", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}})],
    "saker/<int:pk>/protokoll.pdf": [
        ("get", "/saker/999999999/protokoll.pdf", {"anonymous": LOGIN_REDIRECT,
                                                   **{k: NOT_FOUND for k in ALL_KINDS[1:]}})],
    "saker/<int:pk>/steg/": [
        ("post", "/saker/999999999/steg/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("get", "/saker/999999999/steg/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
})


# --- the background worker (django-tasks' database queue), as `klimainnkjop worker --batch` runs it -------------

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def run_worker() -> None:
    """`klimainnkjop worker --batch` in this process: runs every queued job that is due, then returns."""
    import signal

    from klimainnkjop.cli import main

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        assert main(["worker", "--batch"]) == 0
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


# --- measured effect (issue 10, item 6): the page's permission rows (figures: tests/test_effect.py) ---

EXPECTATIONS.update({
    "tiltak/effekt/": [
        ("get", "/tiltak/effekt/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                    "reader_other": OK}),
        # the table's account is empty: no period is in the list, so these are refused (tests/test_forms_from_lists.py)
        ("get", f"/tiltak/effekt/?org={KONGSVINGER}&fra=2024&til=2025",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("get", "/tiltak/effekt/?fra=tjuetjuefire",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": BAD_REQUEST}),
    ],
})


# --- uploads on the web and the mapping wizard (issue 16 items 1, 2, 5; tests/test_uploads.py) ----------------
# can_import: org-admin, finance, purchaser, region-admin; a reader or auditor of the organisation gets 403, anyone
# who does not see it 404. An existing upload's pages: tests/test_uploads.py.
_UPLOAD_MISSING = {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN,
                   "reader_other": NOT_FOUND, "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}
EXPECTATIONS.update({
    "org/<str:orgnr>/last-opp/": [
        ("get", f"/org/{KONGSVINGER}/last-opp/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/last-opp/",  # an empty form is a form error
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
          "reader_other": NOT_FOUND, "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/last-opp/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/last-opp/<int:pk>/": [("get", f"/org/{KONGSVINGER}/last-opp/999999/", _UPLOAD_MISSING)],
    "org/<str:orgnr>/last-opp/<int:pk>/status/": [
        ("get", f"/org/{KONGSVINGER}/last-opp/999999/status/", _UPLOAD_MISSING)],
    "org/<str:orgnr>/last-opp/<int:pk>/kolonner/": [
        ("get", f"/org/{KONGSVINGER}/last-opp/999999/kolonner/", _UPLOAD_MISSING),
        ("post", f"/org/{KONGSVINGER}/last-opp/999999/kolonner/", _UPLOAD_MISSING)],
})


# --- issue 13: the documents page and the published baseline report (tests/test_documents.py) ---------------------
EXPECTATIONS.update({
    "dokumenter/": [
        ("get", "/dokumenter/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
        ("post", "/dokumenter/",  # no document chosen: a message, nothing made
         {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "dokumenter/publiser/": [
        ("post", "/dokumenter/publiser/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                           "reader_own": FORBIDDEN, "reader_other": FORBIDDEN,
                                           "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
        ("get", "/dokumenter/publiser/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "dokumenter/vedtak/": [  # an empty form: a message for those who may record decisions
        ("post", "/dokumenter/vedtak/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                         "reader_own": FORBIDDEN, "reader_other": FORBIDDEN,
                                         "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
        ("get", "/dokumenter/vedtak/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "offentlig/kartlegging/<int:year>.pdf": [
        ("get", "/offentlig/kartlegging/2024.pdf", {k: NOT_FOUND for k in USER_KINDS}),
    ],
})


def make_kongsvinger():
    """Kongsvinger kommune (KONGSVINGER) in the region Kongsvingerregionen, created."""
    from klimainnkjop.services.organisations import do_create_organisation

    return do_create_organisation(orgnr=KONGSVINGER, name="Kongsvinger kommune", kostra_region="0402",
                                  region_name="Kongsvingerregionen", actor="test")


def make_grue():
    """Grue kommune (GRUE) in the region Kongsvingerregionen, created."""
    from klimainnkjop.services.organisations import do_create_organisation

    return do_create_organisation(orgnr=GRUE, name="Grue kommune", kostra_region="0423",
                                  region_name="Kongsvingerregionen", actor="test")


def make_reports_region():
    """The reports' region in the database: Kongsvinger and Grue with REPORTS_KONGSVINGER_CSV and REPORTS_GRUE_CSV
    imported and computed (for module fixtures; conftest's `accounts` adds a KOSTRA year). Returns both."""
    from klimainnkjop.services.compute import do_compute

    org, other = make_kongsvinger(), make_grue()
    import_ledger(org, REPORTS_KONGSVINGER_CSV, "kongsvinger.csv", profile=WEB_PROFILE)
    import_ledger(other, REPORTS_GRUE_CSV, "grue.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    return org, other


# --- construction projects against FutureBuilt (issue 11 item 5; tests/test_construction.py) -------------------
# Everyone who sees the organisation reads its projects; org-admins, purchasers and region administrators add and
# edit them and upload climate calculations (an empty form is a form error). No project exists in this world: a
# project's own page with real people is in tests/test_construction.py.
EXPECTATIONS.update({
    "org/<str:orgnr>/bygg/": [
        ("get", f"/org/{KONGSVINGER}/bygg/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND,
          "org_admin_own": OK, "auditor_own": OK}),
        ("post", f"/org/{KONGSVINGER}/bygg/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
          "reader_other": NOT_FOUND, "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", "/org/999999999/bygg/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND,
          "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/bygg/<int:pk>/": [
        ("get", f"/org/{KONGSVINGER}/bygg/999999999/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("post", f"/org/{KONGSVINGER}/bygg/999999999/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
})

# --- issue 16 item 8: the JSON API and its tokens (tests/test_api.py, tests/test_api_schemathesis.py) -------------
# The API takes a token only: a signed-in session is no token (401 for everyone); its OpenAPI document is public.
_API_NO_TOKEN = {k: 401 for k in ALL_KINDS}
EXPECTATIONS.update({
    "api/v1/": [("get", "/api/v1/", {k: NOT_FOUND for k in ALL_KINDS})],
    "api/v1/openapi.json": [("get", "/api/v1/openapi.json", {k: OK for k in ALL_KINDS})],
    "api/v1/organisations/<orgnr>/totals": [("get", f"/api/v1/organisations/{KONGSVINGER}/totals", _API_NO_TOKEN)],
    "api/v1/organisations/<orgnr>/kpis": [("get", f"/api/v1/organisations/{KONGSVINGER}/kpis?period=2024",
                                           _API_NO_TOKEN)],
    "api/v1/organisations/<orgnr>/lines": [("get", f"/api/v1/organisations/{KONGSVINGER}/lines", _API_NO_TOKEN),
                                           ("post", f"/api/v1/organisations/{KONGSVINGER}/lines", _API_NO_TOKEN)],
    "api/v1/organisations/<orgnr>/imports": [("post", f"/api/v1/organisations/{KONGSVINGER}/imports",
                                              _API_NO_TOKEN)],
    "org/<str:orgnr>/api-nokler/": [  # the organisation's API tokens: its administrators and region administrators
        ("get", f"/org/{KONGSVINGER}/api-nokler/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/api-nokler/",  # an empty form is a form error
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": FORBIDDEN,
          "reader_other": NOT_FOUND, "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/api-nokler/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/api-nokler/<int:pk>/trekk-tilbake/": [
        ("post", f"/org/{KONGSVINGER}/api-nokler/999999/trekk-tilbake/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN,
          "reader_other": NOT_FOUND, "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{KONGSVINGER}/api-nokler/999999/trekk-tilbake/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
})


# A case's documents as DOCX (views_cases.case_annex/case_record; a real case's, and another organisation's 404:
# tests/test_agreements.py)
EXPECTATIONS.update({
    "saker/<int:pk>/vedlegg.docx": [
        ("get", "/saker/999999999/vedlegg.docx", {"anonymous": LOGIN_REDIRECT,
                                                  **{k: NOT_FOUND for k in ALL_KINDS[1:]}})],
    "saker/<int:pk>/protokoll.docx": [
        ("get", "/saker/999999999/protokoll.docx", {"anonymous": LOGIN_REDIRECT,
                                                    **{k: NOT_FOUND for k in ALL_KINDS[1:]}})],
})

# --- the region administrators' area (issue 16 item 9, issue 18 item 2; tests/test_administration.py) --------------
# access.can_administer_region: region administrators only; anyone else signed in 403. An empty form: 400.
_REGION_ADMIN_ONLY = {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                      **{k: FORBIDDEN for k in ALL_KINDS[2:]}}
_REGION_ADMIN_FORM = {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                      **{k: FORBIDDEN for k in ALL_KINDS[2:]}}
EXPECTATIONS.update({
    "administrasjon/": [("get", "/administrasjon/", _REGION_ADMIN_ONLY)],
    "administrasjon/publiser/": [("get", "/administrasjon/publiser/", _REGION_ADMIN_ONLY),
                                 ("post", "/administrasjon/publiser/", _REGION_ADMIN_FORM)],
    "administrasjon/leverandorfaktorer/": [("get", "/administrasjon/leverandorfaktorer/", _REGION_ADMIN_ONLY),
                                           ("post", "/administrasjon/leverandorfaktorer/", _REGION_ADMIN_FORM)],
    "administrasjon/valutakurser/": [("get", "/administrasjon/valutakurser/", _REGION_ADMIN_ONLY),
                                     ("post", "/administrasjon/valutakurser/", _REGION_ADMIN_FORM)],
    "administrasjon/klassifisering/": [("get", "/administrasjon/klassifisering/", _REGION_ADMIN_ONLY)],
    "administrasjon/klassifisering/start/": [
        ("get", "/administrasjon/klassifisering/start/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),  # asking takes a POST
        ("post", "/administrasjon/klassifisering/start/",  # queued (with the tests' immediate backend: trained)
         {"anonymous": LOGIN_REDIRECT, "region_admin": REDIRECT, **{k: FORBIDDEN for k in ALL_KINDS[2:]}})],
    "administrasjon/klassifisering/status/": [("get", "/administrasjon/klassifisering/status/", _REGION_ADMIN_ONLY)],
})

# The user guide: public, like the method page (tests/test_help.py)
EXPECTATIONS.update({
    "hjelp/": [("get", "/hjelp/", {k: OK for k in ALL_KINDS})],
})
