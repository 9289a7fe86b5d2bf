"""EHF in batches (issue 20 item 2): verdicts cached by the file's SHA-256, a process pool over the cores giving the
same documents and errors as one document at a time."""
from pathlib import Path

import pytest

from klimainnkjop.importers import ehf, validation
from klimainnkjop.importers.ehf import InvalidDocument, parse_document, parse_documents

EHF = Path(__file__).resolve().parent / "data" / "ehf"
NORWEGIAN = (EHF / "Norwegian-example-1.xml").read_bytes()
NOT_ADDING_UP = NORWEGIAN.replace(b"<cbc:PayableAmount currencyID=\"NOK\">", b"<cbc:PayableAmount currencyID=\"NOK\">1", 1)


@pytest.fixture(autouse=True)
def no_verdicts():
    ehf.forget_verdicts()
    yield
    ehf.forget_verdicts()


def one_by_one(documents):
    out = []
    for name, data in documents:
        try:
            out.append(parse_document(data, name))
        except InvalidDocument as exc:
            out.append(exc.errors)
    return out


def comparable(result):
    if isinstance(result, list):
        return [str(e) for e in result]
    return (result.file_name, result.document_id, result.lines, result.warnings, result.findings, result.sha256)


def test_the_same_bytes_are_validated_once_and_read_again_with_the_same_findings(monkeypatch):
    calls = []
    real = validation.validate_ubl
    monkeypatch.setattr(validation, "validate_ubl", lambda tree, kind: calls.append(kind) or real(tree, kind))
    first = parse_document(NORWEGIAN, "a.xml")
    second = parse_document(NORWEGIAN, "b.xml")
    assert calls == ["Invoice"]
    assert second.file_name == "b.xml" and second.findings == first.findings and second.lines == first.lines
    assert [w.replace("b.xml", "a.xml") for w in second.warnings] == first.warnings


def test_a_refused_documents_cached_verdict_names_the_file_it_is_read_from_now():
    assert NOT_ADDING_UP != NORWEGIAN
    with pytest.raises(InvalidDocument) as first:
        parse_document(NOT_ADDING_UP, "first.xml")
    with pytest.raises(InvalidDocument) as again:
        parse_document(NOT_ADDING_UP, "again.xml")
    assert [str(e).replace("again.xml", "first.xml") for e in again.value.errors] == \
        [str(e) for e in first.value.errors]
    assert all(str(e).startswith("again.xml") for e in again.value.errors)


def test_a_batch_in_a_process_pool_gives_what_one_document_at_a_time_gives(monkeypatch):
    documents = [(p.name, p.read_bytes()) for p in sorted(EHF.glob("*.xml"))]
    documents += [("broken.xml", b"<Invoice"), ("sums.xml", NOT_ADDING_UP)]
    expected = [comparable(r) for r in one_by_one(documents)]
    ehf.forget_verdicts()
    monkeypatch.setattr(ehf, "POOL_MIN_DOCUMENTS", 2)
    pooled = parse_documents(documents, workers=2)
    assert [comparable(r) for r in pooled] == expected
    # the workers' verdicts are kept here: the next batch validates nothing
    monkeypatch.setattr(validation, "validate_ubl", lambda tree, kind: pytest.fail("validated again"))
    assert [comparable(r) for r in parse_documents(documents, workers=2)] == expected
