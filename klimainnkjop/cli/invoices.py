"""Invoice-level data: `invoices match`, and the handlers of `import ehf` and `import saft` (whose parsers are
in the `import` group of cli/data.py)."""
from __future__ import annotations

import sys

from klimainnkjop.cli.output import EXIT_OK, emit, find_org, print_overlaps, read_file
from klimainnkjop.core.actors import CLI


def add_parsers(sub) -> None:
    invoices_parser = sub.add_parser("invoices", help="invoice-level data")
    invoices_parser.set_defaults(handler=cmd_invoices)
    invoices = invoices_parser.add_subparsers(dest="invoices_command", required=True)
    match = invoices.add_parser("match", help="invoices matched to ledger lines (supplier orgnr + invoice number) "
                                              "as the latest compute run matched them")
    match.add_argument("--org", required=True)
    match.add_argument("--format", choices=["json", "table"], default="table")


def cmd_import_ehf(args) -> int:
    from klimainnkjop.services.invoices import do_import_ehf, read_inputs

    documents = read_inputs(args.paths)
    result = do_import_ehf(documents=documents, organisation=find_org(args.org) if args.org else None,
                           confirm_other=args.force, actor=CLI)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{result.documents_read} documents read, {result.documents_added} added "
          f"({result.lines_added} lines), {result.documents_duplicate} already present"
          + (f"; {result.findings} rule findings kept as warnings (PEPPOL/EN 16931 rules that do not refuse an "
             "invoice, listed on the import's page)" if result.findings else ""))
    for batch in result.batches:
        print_overlaps(batch)
    return EXIT_OK


def cmd_import_saft(args) -> int:
    from klimainnkjop.services.invoices import do_import_saft

    data, name = read_file(args.file)
    result = do_import_saft(data=data, file_name=name, organisation=find_org(args.org) if args.org else None,
                            confirm_other=args.force, actor=CLI)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.already_imported:
        print(f"{name}: already imported (batch {result.batch.pk}); nothing added")
    else:
        print(f"{name}: {result.rows_read} lines read, {result.lines_added} lines added, "
              f"{result.lines_duplicate} already present")
        print_overlaps(result.batch)
    return EXIT_OK


def cmd_invoices(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.invoices import invoice_matches

    report = invoice_matches(system_scope(), org=find_org(args.org).orgnr)
    if report["stale"]:
        print(f"warning: the data changed after compute run {report['run']} ({report['computed_at']}), whose "
              "matching this is; run `klimainnkjop compute` for the current one", file=sys.stderr)
    if args.format == "json":
        emit([], "json", report)
        return EXIT_OK
    rows = [{"status": "matched", **_row(r)} for r in report["matched"]]
    rows += [{"status": "invoice only", **_row(r)} for r in report["unmatched_invoices"]]
    rows += [{"status": "ledger only", "supplier_orgnr": r["supplier_orgnr"], "invoice_no": r["invoice_no"],
              "date": r["posting_date"], "invoice_nok": None, "ledger_nok": r["amount_nok"]}
             for r in report["unmatched_ledger"]]
    emit(rows, "table")
    s = report["summary"]
    print(f"{s['invoices']} invoices: {s['matched']} matched, {s['unmatched_invoices']} without a ledger match; "
          f"{s['unmatched_ledger']} ledger invoice numbers without an invoice")
    return EXIT_OK


def _row(r: dict) -> dict:
    return {"supplier_orgnr": r["supplier_orgnr"], "invoice_no": r["invoice_no"], "date": r["issue_date"],
            "invoice_nok": r["amount_nok"], "ledger_nok": r.get("ledger_amount_nok")}
