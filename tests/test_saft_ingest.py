"""The columnar read of a SAF-T file (services.saft_ingest.parse_saft: the lines collected as Arrow columns, dates,
amounts, VAT, suppliers and keys in DuckDB) gives exactly what the importer's own parse gives
(importers.saft.parse_saft): the same lines with the same keys, or the same errors naming file, row and field
(issue 20)."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.importers.saft import parse_saft as python_parse
from klimainnkjop.services.saft_ingest import parse_saft as columnar_parse

DATA = Path(__file__).resolve().parent / "data" / "saft"
EXAMPLE = DATA / "ExampleFile_SAF-T_Financial_888888888_20180228235959.xml"
FIELDS = ("row_no", "posting_date", "transaction_id", "record_id", "account", "art", "supplier_orgnr",
          "supplier_name", "amount_ore", "vat_ore", "description", "invoice_no", "key")


def outcome(parse, data: bytes, name: str):
    """('lines', company, warnings, [line dicts]) or ('errors', [error dicts])."""
    try:
        parsed = parse(data, name)
    except ImportRejected as exc:
        return ("errors", [e.as_dict() for e in exc.errors])
    if hasattr(parsed, "parsed_lines"):
        with parsed:
            return ("lines", parsed.company_orgnr, parsed.warnings, parsed.total_debit_ore, parsed.parsed_lines())
    return ("lines", parsed.company_orgnr, parsed.warnings, parsed.total_debit_ore,
            [{f: getattr(line, "key" if f == "key" else f) for f in FIELDS} for line in parsed.lines])


def assert_same(data: bytes, name: str = "saft.xml") -> tuple:
    expected = outcome(python_parse, data, name)
    got = outcome(columnar_parse, data, name)
    assert got == expected
    return got


def document(transactions: str, totals: str = "<n1:TotalDebit>10.00</n1:TotalDebit>") -> bytes:
    """The example's header and master files with these transactions in one journal."""
    text = EXAMPLE.read_text(encoding="utf-8-sig")
    head = text[:text.index("<n1:GeneralLedgerEntries>")]
    return (head + f"<n1:GeneralLedgerEntries><n1:NumberOfEntries>1</n1:NumberOfEntries>{totals}"
            "<n1:Journal><n1:JournalID> J1 </n1:JournalID><n1:Description>d</n1:Description><n1:Type>GL</n1:Type>"
            f"{transactions}</n1:Journal></n1:GeneralLedgerEntries></n1:AuditFile>").encode("utf-8")


def line(record="1", account="11500", debit="100.00", credit=None, tax=None, supplier=None, reference=None,
         source="S1", description=" Innkjøp ") -> str:
    parts = [f"<n1:RecordID>{record}</n1:RecordID>" if record is not None else "",
             f"<n1:AccountID>{account}</n1:AccountID>" if account is not None else "",
             f"<n1:SourceDocumentID>{source}</n1:SourceDocumentID>" if source is not None else "",
             f"<n1:SupplierID>{supplier}</n1:SupplierID>" if supplier is not None else "",
             f"<n1:Description>{description}</n1:Description>",
             f"<n1:DebitAmount><n1:Amount>{debit}</n1:Amount></n1:DebitAmount>" if debit is not None else "",
             f"<n1:CreditAmount><n1:Amount>{credit}</n1:Amount></n1:CreditAmount>" if credit is not None else "",
             tax or "",
             f"<n1:ReferenceNumber>{reference}</n1:ReferenceNumber>" if reference is not None else ""]
    return "<n1:Line>" + "".join(parts) + "</n1:Line>\n"


def transaction(tx_id="1001", date="2017-01-05", lines=None, transaction_date=None) -> str:
    posting = f"<n1:GLPostingDate>{date}</n1:GLPostingDate>" if date is not None else ""
    other = f"<n1:TransactionDate>{transaction_date}</n1:TransactionDate>" if transaction_date is not None else ""
    return (f"<n1:Transaction>\n<n1:TransactionID>{tx_id}</n1:TransactionID>{other}{posting}\n"
            + "".join(lines if lines is not None else [line()]) + "</n1:Transaction>\n")


def tax_plain(amount: str) -> str:
    return f"<n1:TaxInformation><n1:TaxType>MVA</n1:TaxType><n1:TaxAmount><n1:Amount>{amount}</n1:Amount>" \
           "</n1:TaxAmount></n1:TaxInformation>"


def tax_split(debit: str | None, credit: str | None) -> str:
    return ("<n1:TaxInformation><n1:TaxType>MVA</n1:TaxType>"
            + (f"<n1:DebitTaxAmount><n1:Amount>{debit}</n1:Amount></n1:DebitTaxAmount>" if debit is not None else "")
            + (f"<n1:CreditTaxAmount><n1:Amount>{credit}</n1:Amount></n1:CreditTaxAmount>" if credit is not None
               else "") + "</n1:TaxInformation>")


def test_the_skatteetaten_example_reads_alike_line_for_line_and_key_for_key():
    kind, company, warnings, total, lines = assert_same(EXAMPLE.read_bytes(), EXAMPLE.name)
    assert (kind, company, len(lines)) == ("lines", "888888888", 170) and warnings and total is not None
    assert any(line["supplier_orgnr"] for line in lines) and any(line["vat_ore"] for line in lines)


def test_supplier_of_the_transaction_taxes_references_and_whitespace_read_alike():
    transactions = [
        transaction("1", lines=[line("1", tax=tax_plain("25.00")), line("2", "2400", None, "125.00", supplier="2002",
                                                                         reference=" F-1 ")]),
        transaction("2", lines=[line("1", tax=tax_split("10", "2.5") + tax_plain("1.005")),
                                line("2", supplier="2000"), line("3", supplier="2001")]),
        transaction(" 3 ", date=" 2017-02-01 ", lines=[line(" 7 ", " 12000 ", " 1234.5 ", source=None,
                                                            supplier=" 2003 ")]),
        transaction("4", date=None, transaction_date="2017-03-01", lines=[line(debit="", credit="  ")]),
        transaction("5", date="", transaction_date="2017-03-02", lines=[line(debit="+.5", credit="5.")]),
        transaction("6", date="20170304", lines=[line(debit="1e2", credit="0.004999", tax=tax_split(None, "  "))]),
        transaction("7", date="2017-W10-1", lines=[line(debit="-0.005", supplier="ukjent")]),
        transaction("8", lines=[line(debit="123456789012.345"), line("2", debit="0.0000000000000000000000000049")]),
    ]
    kind, _, _, _, lines = assert_same(document("".join(transactions)))
    assert kind == "lines" and len(lines) == 12


def test_each_kind_of_bad_value_is_refused_with_the_same_errors_in_the_same_order():
    transactions = [
        transaction("1", date="2017-02-30"),
        transaction("2", date="not a date", lines=[line(debit="tull")]),
        transaction("3", lines=[line(record=None), line("2", account=" "), line("3", debit="ti"),
                                line("4", debit="10", credit="1e13"), line("5", tax=tax_plain("  ")),
                                line("6", tax=tax_split("NaN", "x")), line("7", debit="10000000000000")]),
        transaction("4", date="0000-01-01"),
        transaction("5", date=""),
    ]
    kind, errors = assert_same(document("".join(transactions)))
    assert kind == "errors" and len(errors) == 11
    assert [e["column"] for e in errors][:3] == ["GLPostingDate", "GLPostingDate", "RecordID"]


def test_a_repeated_key_and_a_bad_total_are_refused_alike():
    twice = transaction("1", lines=[line("1"), line("1")])
    assert assert_same(document(twice))[0] == "errors"
    assert assert_same(document(transaction(), "<n1:TotalDebit>tull</n1:TotalDebit>"))[0] == "errors"
    assert assert_same(document("", "<n1:TotalDebit> </n1:TotalDebit>"))[0] == "lines"


AMOUNT = st.one_of(st.from_regex(r"[+-]?[0-9]{0,15}(\.[0-9]{0,16})?", fullmatch=True),
                   st.sampled_from(["", " ", "1e3", "1E-2", "Infinity", "NaN", "1_000", "١٢", "0x10", ".", "-"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amounts=st.lists(st.tuples(AMOUNT, AMOUNT, AMOUNT), min_size=1, max_size=5),
       date=st.sampled_from(["2017-01-05", " 2017-01-05", "2017-1-5", "20170105", "2017-13-01", "", "0001-01-01"]))
def test_any_amounts_and_dates_read_alike(amounts, date):
    lines = [line(str(i), debit=d, credit=c, tax=tax_plain(t) if t else None)
             for i, (d, c, t) in enumerate(amounts, start=1)]
    assert_same(document(transaction(date=date, lines=lines)))
