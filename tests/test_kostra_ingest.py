"""The vectorised KOSTRA reader (services/kostra_ingest.py) gives the importer's records and errors exactly."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klimainnkjop.importers import kostra
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.services.kostra_ingest import parse_kostra
from tests.factories import kostra_file, record


def importer_result(data: bytes):
    try:
        parsed = kostra.parse_kostra(data, "k.dat")
    except ImportRejected as exc:
        return [str(e) for e in exc.errors]
    return (parsed.rows_read, parsed.records, parsed.regions, parsed.years)


def vectorised_result(data: bytes):
    try:
        with parse_kostra(data, "k.dat") as read:
            return (read.rows_read, read.records(), read.regions, read.years), read.reader
    except ImportRejected as exc:
        return [str(e) for e in exc.errors], None


EDGE_FILES = {
    "plain": kostra_file(record(), record(art="190", kr=-31063), record(klasse="0", function="0222", art="230")),
    "balance and blank field": kostra_file(record(skjema="0B", klasse="2", function="    ", art="10 ", kr=1234)),
    "short art padded": kostra_file(record(art="5  "), record(art=" 15")),
    "amount with spaces and sign": kostra_file(record(kr=0)[:39] + "  - 1 234", record(kr=0)[:39] + "+00000012"),
    "blank lines and LF only": b"\n\n" + record().encode() + b"\n   \n" + record(art="120").encode() + b"\n",
    "no final line break": record().encode() + b"\r\n" + record(art="120").encode(),
    "errors in many fields": kostra_file(record(), record(art="1x5"), record(kr=0)[:40] + "  12a4567", "too short",
                                         record(skjema="9Z", year=1850, region="12345A", klasse="7")),
    "unicode digits the importer reads": (record(year=2019).replace("2019", "\u0662\u0660\u0661\u0669") + "\r\n").encode(),
    "underscore amount": kostra_file(record(kr=0)[:39] + "1_000_000"),
    "a lone CR": record().encode() + b"\r" + record(art="120").encode() + b"\r\n",
    "a form feed line break": record().encode() + b"\x0c" + record(art="120").encode(),
    "old region renumbered": kostra_file(record(region="040200"), record(region="341700", orgnr="964950113")),
    "empty": b"\r\n  \r\n",
    "longer records": kostra_file(record() + "   extra", record(art="120") + "x"),
    "same basis repeated": kostra_file(record(), record(), record(kr=5)),
}


@pytest.mark.parametrize("name", sorted(EDGE_FILES))
def test_the_vectorised_kostra_reader_gives_the_importers_records_or_errors_for_an_edge_case_file(name):
    data = EDGE_FILES[name]
    result, _ = vectorised_result(data)
    assert result == importer_result(data)


def test_a_plain_kostra_file_is_read_by_duckdb_and_an_odd_line_break_by_the_importer():
    assert vectorised_result(EDGE_FILES["plain"])[1] == "duckdb"
    assert vectorised_result(EDGE_FILES["a form feed line break"])[1] == "python"


FIELD_TEXT = st.text(alphabet="0123456789 -+AaBb_\u0660\u00a0\t", max_size=10)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["0A", "0B", "0C", " 0", "X"]), FIELD_TEXT, FIELD_TEXT,
                          st.sampled_from(["0", "1", "2", "3", "4", "5", "9", " "]), FIELD_TEXT, FIELD_TEXT,
                          st.integers(min_value=30, max_value=60)), min_size=1, max_size=8))
def test_generated_records_read_the_same_by_sql_and_by_the_importer(rows):
    lines = []
    for skjema, year, region, klasse, art, amount, length in rows:
        line = (f"{skjema:<2.2}{year:<4.4} {region:<6.6}{'964950113'}{' ' * 9}{klasse}0202{art:<3.3}"
                f"{amount:>9.9}")
        lines.append(line[:length])
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    result, _ = vectorised_result(data)
    assert result == importer_result(data)
