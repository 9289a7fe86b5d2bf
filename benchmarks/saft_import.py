"""SAF-T import throughput (issue 20 item 1, "the same for ... SAF-T"): the product's read (the hardened XML parse,
the schema check, the lines collected as columns, then dates, amounts, keys, the anti-join and the Parquet write in
DuckDB) against a plain lxml iterparse of the same file, and against the Python code the import ran before, in the
same run; CPU seconds beside wall time.

    .venv/bin/python benchmarks/saft_import.py                   # 1,000,000 general-ledger lines
    .venv/bin/python benchmarks/saft_import.py --lines 200000 --tmp /tmp/bsaft

Cases (one process, after one warm-up of DuckDB):
- baseline: `lxml.etree.iterparse` of the file, every element cleared after its end (reading the XML, nothing
  else);
- product: `services.saft_ingest.parse_saft` (the hardened parse of importers/xmlsafe.py, the 1.30 XSD, the lines
  collected into Arrow columns, then dates, amounts, VAT, suppliers, arts and the key hash in SQL) plus what the
  import does next outside the database transaction: the anti-join with an earlier batch (10 % of the lines) and
  one COPY to Parquet;
- before: `importers.saft.parse_saft` (a dataclass per line, Decimal per amount, sha256 per line in Python) plus
  the service's loop of before this work (a Python set of the stored keys, a dict of columns written with pyarrow).
The XSD check is part of both product and before (reported apart: "schema").
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klimainnkjop.settings")

from timing import measure, report, work_folder  # noqa: E402 - benchmarks/timing.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "data" / "saft" / "ExampleFile_SAF-T_Financial_888888888_20180228235959.xml"
ACCOUNTS = ["11500", "12000", "12600", "16000", "18000", "19500", "4000", "6300", "6800", "7100"]
WORDS = ["Kontorrekvisita", "Matvarer kjøkken", "Drivstoff", "Strøm", "Vedlikehold bygg", "Konsulenttjenester"]


def generate(path: Path, lines: int, seed: int = 20) -> None:
    """The Skatteetaten example's header and master files, then `lines` general-ledger lines in transactions of
    three (cost with VAT, the supplier's credit line, the VAT line), written a chunk of transactions at a time."""
    rng = np.random.default_rng(seed)
    text = EXAMPLE.read_text(encoding="utf-8-sig")
    head = text[:text.index("<n1:GeneralLedgerEntries>")]
    transactions = lines // 3
    chunk = 20_000
    with open(path, "w", encoding="utf-8") as out:
        out.write(head)
        out.write(f"<n1:GeneralLedgerEntries>\n<n1:NumberOfEntries>{transactions}</n1:NumberOfEntries>\n"
                  "<n1:Journal>\n<n1:JournalID>GL</n1:JournalID><n1:Description>Bench</n1:Description>"
                  "<n1:Type>GL</n1:Type>\n")
        for start in range(0, transactions, chunk):
            n = min(chunk, transactions - start)
            days = rng.integers(0, 365, n)
            accounts = rng.integers(0, len(ACCOUNTS), n)
            suppliers = rng.integers(2000, 2006, n)
            amounts = np.round(rng.lognormal(7, 1.5, n), 2)
            words = rng.integers(0, len(WORDS), n)
            parts = []
            for i in range(n):
                tx = start + i + 1
                date = np.datetime64("2017-01-01") + int(days[i])
                amount, vat = amounts[i], round(amounts[i] * 0.25, 2)
                text_ = f"{WORDS[words[i]]} {tx}"
                parts.append(
                    f"<n1:Transaction><n1:TransactionID>{tx}</n1:TransactionID><n1:Period>1</n1:Period>"
                    f"<n1:PeriodYear>2017</n1:PeriodYear><n1:TransactionDate>{date}</n1:TransactionDate>"
                    f"<n1:Description>{text_}</n1:Description><n1:SystemEntryDate>{date}</n1:SystemEntryDate>"
                    f"<n1:GLPostingDate>{date}</n1:GLPostingDate>\n"
                    f"<n1:Line><n1:RecordID>1</n1:RecordID><n1:AccountID>{ACCOUNTS[accounts[i]]}</n1:AccountID>"
                    f"<n1:SourceDocumentID>{tx}</n1:SourceDocumentID><n1:Description>{text_}</n1:Description>"
                    f"<n1:DebitAmount><n1:Amount>{amount:.2f}</n1:Amount></n1:DebitAmount>"
                    f"<n1:TaxInformation><n1:TaxType>MVA</n1:TaxType><n1:TaxCode>1</n1:TaxCode>"
                    f"<n1:TaxPercentage>25</n1:TaxPercentage><n1:TaxBase>{amount:.2f}</n1:TaxBase>"
                    f"<n1:TaxAmount><n1:Amount>{vat:.2f}</n1:Amount></n1:TaxAmount></n1:TaxInformation>"
                    f"<n1:ReferenceNumber>F{tx}</n1:ReferenceNumber></n1:Line>\n"
                    f"<n1:Line><n1:RecordID>2</n1:RecordID><n1:AccountID>2400</n1:AccountID>"
                    f"<n1:SourceDocumentID>{tx}</n1:SourceDocumentID><n1:SupplierID>{suppliers[i]}</n1:SupplierID>"
                    f"<n1:Description>{text_}</n1:Description>"
                    f"<n1:CreditAmount><n1:Amount>{amount + vat:.2f}</n1:Amount></n1:CreditAmount>"
                    f"<n1:ReferenceNumber>F{tx}</n1:ReferenceNumber></n1:Line>\n"
                    f"<n1:Line><n1:RecordID>3</n1:RecordID><n1:AccountID>2710</n1:AccountID>"
                    f"<n1:SourceDocumentID>{tx}</n1:SourceDocumentID><n1:Description>Beregnet MVA</n1:Description>"
                    f"<n1:DebitAmount><n1:Amount>{vat:.2f}</n1:Amount></n1:DebitAmount></n1:Line>\n"
                    f"</n1:Transaction>\n")
            out.write("".join(parts))
        out.write("</n1:Journal>\n</n1:GeneralLedgerEntries>\n</n1:AuditFile>\n")


def before(data: bytes, name: str, stored: Path, target: Path) -> tuple[int, int, float]:
    """The import's work as it was before this change: the importer's parse, then the service's loop."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from klimainnkjop.importers.saft import parse_saft
    from klimainnkjop.storage import linestore

    parsed = parse_saft(data, name)
    existing = linestore.read_keys([stored])
    columns: dict[str, list] = {f.name: [] for f in linestore.LINE_SCHEMA}
    duplicates = 0
    for line in parsed.lines:
        if line.key in existing:
            duplicates += 1
            continue
        values = {
            "line_key": line.key, "org": "888888888", "source": "saft", "row_no": line.row_no,
            "posting_date": line.posting_date, "year": line.posting_date.year, "month": line.posting_date.month,
            "account": line.account, "art": line.art, "function": "", "unit": "", "project": "",
            "supplier_orgnr": line.supplier_orgnr, "supplier_name": line.supplier_name,
            "amount_ore": line.amount_ore, "vat_ore": line.vat_ore, "currency": "NOK",
            "amount_orig_minor": line.amount_ore, "description": line.description, "invoice_no": line.invoice_no,
            "voucher": line.transaction_id, "line_id": line.record_id, "investment": False, "quantity": None,
            "quantity_unit": "", "batch": "b",
        }
        for key, value in values.items():
            columns[key].append(value)
    pq.write_table(pa.table(columns, schema=linestore.LINE_SCHEMA), target, compression="zstd")
    return len(columns["line_key"]), duplicates, parsed.validation_seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--tmp", type=Path)
    args = parser.parse_args(argv)

    tmp = work_folder(args.tmp, "bench-saft-")
    import duckdb
    import pyarrow.parquet as pq
    from lxml import etree

    path = tmp / f"saft-{args.lines}.xml"
    if not path.exists():
        generate(path, args.lines)
    data = path.read_bytes()
    print(f"{path}: {args.lines // 3 * 3:,} lines, {len(data) / 1e6:.1f} MB", flush=True)
    duckdb.connect().execute("SELECT 1").fetchall()

    def baseline():
        count = 0
        for _event, element in etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True,
                                               huge_tree=True):
            if element.tag == "{urn:StandardAuditFile-Taxation-Financial:NO}Line":
                count += 1
            element.clear(keep_tail=False)
        return count

    # an earlier import's batch: the first tenth of the transactions, so the anti-join has something to find
    stored = tmp / "stored.parquet"
    text = data.decode("utf-8")
    cut = text.index("</n1:Transaction>", len(text) // 10) + len("</n1:Transaction>")
    small = (text[:cut] + "\n</n1:Journal>\n</n1:GeneralLedgerEntries>\n</n1:AuditFile>\n").encode("utf-8")
    before(small, "earlier.xml", tmp / "none.parquet", stored)

    from klimainnkjop.services import saft_ingest

    def product():
        with saft_ingest.parse_saft(data, path.name) as read:
            duplicates = read.ingest.drop_stored([stored])
            added = read.ingest.fresh_summary()[0]
            read.ingest.write_fresh(tmp / "batch.parquet", org="888888888", batch="b", source="saft",
                                    columns=saft_ingest.PARQUET_COLUMNS)
            return added, duplicates, read.validation_seconds

    rows = []
    b_wall, b_cpu, n = measure(baseline)
    rows.append(("lxml iterparse of the file, the baseline", n, b_wall, b_cpu))
    p_wall, p_cpu, (added, duplicates, schema) = measure(product)
    rows.append((f"product: parse_saft (columns, SQL) + anti-join + COPY ({added:,} lines, {duplicates:,} "
                 f"duplicates; schema {schema:.2f} s wall)", n, p_wall, p_cpu))
    b2_wall, b2_cpu, _ = measure(baseline)
    rows.append(("lxml iterparse again", n, b2_wall, b2_cpu))
    o_wall, o_cpu, (o_added, o_duplicates, o_schema) = measure(
        lambda: before(data, path.name, stored, tmp / "before.parquet"))
    rows.append((f"before: the importer's parse + the service's loop ({o_added:,} lines, {o_duplicates:,} "
                 f"duplicates; schema {o_schema:.2f} s wall)", n, o_wall, o_cpu))
    columns = [f.name for f in pq.read_schema(tmp / "before.parquet") if f.name != "batch"]
    same = (pq.read_table(tmp / "batch.parquet", columns=columns).to_pylist()
            == pq.read_table(tmp / "before.parquet", columns=columns).to_pylist())
    print(f"same lines written by product and before: {same}")

    report("saft_import", rows, (min(b_wall, b2_wall), min(b_cpu, b2_cpu)),
           counted="lines", against="iterparse", extra={"same": same})
    return 0


if __name__ == "__main__":
    sys.exit(main())
