import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.selectors.results import totals
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage.models import ImportBatch, Organisation
from tests.factories import do_import_kostra, kostra_file, record


def test_records_are_48_characters_as_in_the_ssb_layout():
    assert len(record()) == 48


def test_a_kostra_file_gives_a_baseline_with_operating_and_investment_apart(org, reference):
    data = kostra_file(
        record(art="115", kr=14582), record(art="190", kr=31063),
        record(klasse="0", function="0222", art="230", kr=114131),
        record(art="010", kr=885593), record(art="729", kr=-50000),
        record(skjema="0B", klasse="2", function="    ", art="10 ", kr=1234),
    )
    result = do_import_kostra(data=data, file_name="0402.dat", actor="test")
    assert result.batch.organisation == org  # found by the 2019 number 0402, now 3401
    assert result.lines_added == 5  # the balance record is skipped
    do_compute(actor="test")
    rows = {r["investment"]: r["spend_nok"] for r in totals(system_scope(), by=["investment"])["rows"]}
    assert rows == {False: (14582 + 31063) * 1000.0, True: 114131 * 1000.0}


def test_a_kostra_file_for_an_unknown_region_creates_the_organisation_from_its_orgnr(db, reference):
    data = kostra_file(record(region="341700", orgnr="964950113", art="115", kr=10))
    result = do_import_kostra(data=data, file_name="grue.dat", actor="test")
    created = Organisation.objects.get(orgnr="964950113")
    assert created.kostra_region == "3417" and result.batch.organisation == created


def test_a_kostra_file_for_an_unknown_region_without_orgnr_is_refused(db, reference):
    with pytest.raises(InvalidInput, match="no organisation has KOSTRA region 3417"):
        do_import_kostra(data=kostra_file(record(region="341700")), file_name="grue.dat", actor="test")


def test_bad_kostra_records_are_reported_by_row_and_field_and_nothing_is_stored(org):
    data = kostra_file(record(), record(art="1x5"), record(kr=0)[:40] + "  12a4567", "too short")
    with pytest.raises(ImportRejected) as caught:
        do_import_kostra(data=data, file_name="k.dat", actor="test")
    messages = [str(e) for e in caught.value.errors]
    assert "k.dat, row 2, column 'art': not an art code: '1x5'" in messages
    assert any(m.startswith("k.dat, row 3, column 'belop'") for m in messages)
    assert any(m.startswith("k.dat, row 4") and "48" in m for m in messages)
    assert ImportBatch.objects.with_scopes_disabled().count() == 0


def test_a_superscript_digit_is_not_a_digit_in_a_kostra_record(org):
    """str.isdigit() takes '²' (and int() then raised, with no row or column; an art '1²0' was stored)."""
    data = kostra_file(record(year="201²"), record(art="1²5"))
    with pytest.raises(ImportRejected) as caught:
        do_import_kostra(data=data, file_name="k.dat", actor="test")
    messages = [str(e) for e in caught.value.errors]
    assert "k.dat, row 1, column 'aargang': not a year: '201²'" in messages
    assert "k.dat, row 2, column 'art': not an art code: '1²5'" in messages
    assert ImportBatch.objects.with_scopes_disabled().count() == 0


def test_the_same_kostra_year_twice_is_not_counted_twice(org, reference):
    do_import_kostra(data=kostra_file(record()), file_name="a.dat", actor="test")
    again = do_import_kostra(data=kostra_file(record()) + b"\r\n", file_name="b.dat", actor="test")
    assert (again.lines_added, again.lines_duplicate) == (0, 1)
