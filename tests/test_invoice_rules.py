"""E-invoice rules: measure, don't gatekeep. The examples published with EN 16931 import with their PEPPOL findings
kept as warnings; only a schema error, an unreadable file or amounts that do not add up refuse an invoice; the
PEPPOL rule set's own unit tests pass against the rules as this product runs them."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from klimainnkjop.importers import validation
from klimainnkjop.importers.ehf import parse_document
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.services.reference import do_set_exchange_rate
from klimainnkjop.storage.models import ExchangeRate, ImportBatch
from tests.factories import do_import_ehf, make_user, page

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = sorted(p.name for p in (DATA / "en16931-examples").iterdir() if p.suffix.lower() == ".xml")
# (one upstream file is named PEPPOL-COMMON-R048.xm; it is a testSet like the others)
PEPPOL_UNIT = sorted(p for p in (DATA / "peppol-unit").iterdir() if p.suffix in (".xml", ".xm"))
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"


def example(name: str) -> bytes:
    return (DATA / "en16931-examples" / name).read_bytes()


def test_the_en16931_examples_are_all_there():
    assert len(EXAMPLES) == 19 and "ubl-tc434-example1.xml" in EXAMPLES


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_en16931_example_imports_with_its_failed_rules_kept_as_findings(org, name):
    doc = parse_document(example(name), name)
    if doc.currency != "NOK" and not ExchangeRate.objects.filter(year=doc.issue_date.year,
                                                                 currency=doc.currency).exists():
        # a stand-in rate where none is shipped for that year: what is tested here is the rules, not the rate
        do_set_exchange_rate(year=doc.issue_date.year, currency=doc.currency, nok_per_unit=1.5,
                             source="test stand-in", actor="test")
    result = do_import_ehf(documents=[(name, example(name))], organisation=org, actor="test")
    assert result.documents_added == 1 and result.lines_added == len(doc.lines) > 0
    batch = ImportBatch.objects.with_scopes_disabled().get(organisation=org)
    found = {(f["layer"], f["rule"]) for f in batch.findings}
    assert found == {(f.layer, f.rule) for f in doc.findings}
    assert result.findings == len(batch.findings)
    assert not any(validation.refuses(validation.RuleFailure(f["layer"], f["rule"], f["flag"], f["message"]))
                   for f in batch.findings)


def test_the_examples_break_peppol_rules_that_no_longer_refuse_them():
    """The rules that refused 16 of the 19 examples before (PEPPOL's business process, specification identifier,
    electronic addresses, national rules): each is now a finding."""
    findings = {f.rule for name in EXAMPLES for f in parse_document(example(name), name).findings}
    assert {"PEPPOL-EN16931-R001", "PEPPOL-EN16931-R004", "PEPPOL-EN16931-R007", "PEPPOL-EN16931-R020",
            "NO-R-001", "DK-R-005"} <= findings


@pytest.mark.parametrize("failure, refused", [
    (validation.RuleFailure("xsd", "XSD", "fatal", "element IssueDate: not a date"), True),
    (validation.RuleFailure("en16931", "BR-CO-10", "fatal", "sum of line amounts"), True),
    (validation.RuleFailure("en16931", "BR-CO-15", "fatal", "total with VAT"), True),
    (validation.RuleFailure("en16931", "BR-CO-10", "warning", "a warning only"), False),
    (validation.RuleFailure("en16931", "BR-01", "fatal", "specification identifier"), False),
    (validation.RuleFailure("peppol", "PEPPOL-EN16931-R001", "fatal", "business process"), False),
    (validation.RuleFailure("peppol", "BR-CO-10", "fatal", "not the EN 16931 layer"), False),
])
def test_only_a_schema_error_or_amounts_that_do_not_add_up_refuse_an_invoice(failure, refused):
    assert validation.refuses(failure) is refused


@pytest.mark.django_db
def test_an_invoice_whose_amounts_do_not_add_up_is_still_refused(org, data_dir):
    name = "ubl-tc434-example2.xml"  # NOK: no rate needed
    text = example(name).decode()
    total = '<cbc:TaxExclusiveAmount currencyID="NOK">'
    start = text.index(total) + len(total)
    end = text.index("<", start)
    text = text[:start] + str(int(float(text[start:end])) + 1000) + text[end:]
    with pytest.raises(ImportRejected) as caught:
        do_import_ehf(documents=[(name, text.encode())], organisation=org, actor="test")
    assert name in str(caught.value) and "BR-CO-" in str(caught.value)
    assert ImportBatch.objects.with_scopes_disabled().count() == 0 and not list(data_dir.rglob("*.parquet"))


def _unit_cases():
    for path in PEPPOL_UNIT:
        root = etree.parse(str(path)).getroot()
        for number, test in enumerate(root.iter(f"{VEFA}test"), start=1):
            expected = test.find(f"{VEFA}assert")
            document = next(c for c in test if isinstance(c.tag, str) and not c.tag.startswith(VEFA))
            for check in expected:
                kind = check.tag.removeprefix(VEFA)
                if kind in ("success", "error", "warning"):
                    yield pytest.param(etree.tostring(document, encoding="unicode"), kind, check.text.strip(),
                                       id=f"{path.stem}-{number}-{kind}-{check.text.strip()}")


UNIT_CASES = list(_unit_cases())


def test_the_peppol_unit_tests_are_all_there():
    assert len(PEPPOL_UNIT) == 58 and len(UNIT_CASES) == 235


def test_the_peppol_rules_as_run_here_pass_the_rule_sets_own_unit_tests():
    """PEPPOL publishes its rules as Schematron and their unit tests as testSet files (a document and the rule it
    must fire, or must not); importers/validation.py compiles the Schematron. Every one of the 235 assertions holds."""
    wrong = []
    for case in UNIT_CASES:
        document, kind, rule = case.values
        fired = {f.rule for f in validation.schematron_failures("peppol", document)}
        if (rule in fired) != (kind in ("error", "warning")):
            wrong.append(case.id)
    assert not wrong, wrong


@pytest.mark.django_db
def test_the_import_page_lists_the_findings_to_those_who_may_see_the_organisation(org, other_org, client):
    name = "ubl-tc434-example2.xml"
    do_import_ehf(documents=[(name, example(name))], organisation=org, actor="test")
    batch = ImportBatch.objects.with_scopes_disabled().get(organisation=org)
    client.force_login(make_user("leser", org, "reader"))
    html, tree = page(client, f"/org/{org.orgnr}/importer/{batch.pk}/")
    assert "NO-R-001" in html and "PEPPOL-EN16931-R004" in html
    assert f"{len(batch.findings)} funn" in html
    html, _ = page(client, f"/org/{org.orgnr}/importer/")
    assert f"/org/{org.orgnr}/importer/{batch.pk}/" in html
    client.force_login(make_user("annen", other_org, "reader"))
    assert client.get(f"/org/{org.orgnr}/importer/{batch.pk}/").status_code == 404
    assert client.get(f"/org/{other_org.orgnr}/importer/{batch.pk}/").status_code == 404
