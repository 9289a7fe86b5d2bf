"""Invoices matched to ledger lines, as the latest compute run matched them.

The rule lives once, in the engine (engine/pipeline.invoice_documents, applied by reconcile_sources); each run
writes its outcome per organisation x supplier x invoice number as `matches/` (files per organisation), and this
module only reads those files, scoped like every read of results (selectors.results.scoped). So `klimainnkjop
invoices match` reports exactly what `compute` counted: a matched invoice's lines in place of its ledger lines, once.
"""
from __future__ import annotations

from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.engine import reader
from klimainnkjop.engine.partitions import MATCHES
from klimainnkjop.engine.pipeline import MATCH_TOLERANCE_ORE, MATCH_TOLERANCE_SHARE
from klimainnkjop.selectors.results import NoResults, Run, _table, compute_status, latest_run, scoped
from klimainnkjop.storage import linestore


REASONS = {
    "amount_differs": "amount differs beyond tolerance",
    "invoice_only": "no ledger line with this supplier and invoice number",
}


def _nok(ore) -> float | None:
    return None if ore is None else ore / 100


def invoice_matches(scope: Scope, *, org: str, run: Run | None = None) -> dict:
    """The latest run's matching of one organisation's invoices (EHF, supplier statistics) to its ledger cost
    lines: {"organisation", "run", "computed_at", "stale", "tolerance", "matched", "unmatched_invoices",
    "unmatched_ledger", "summary"}; `stale` is true when the data changed after the run started (then the next
    compute may match otherwise). Raises NoResults before the first run, or for a run made before runs
    recorded their matching."""
    scope.check(org)
    run = run or latest_run()
    if run is None:
        raise NoResults()
    folder = linestore.absolute(run.run.result_dir)
    if not reader.has_result(folder, MATCHES):
        raise NoResults(f"compute run {run.run.pk} was made before runs recorded their invoice matching; "
                        "run `klimainnkjop compute`")
    table = scoped(_table(reader.result_source(folder, MATCHES, org)).filter(_.org == org), scope)
    rows = table.order_by(["issue_date", "ledger_posting_date", "supplier_orgnr", "invoice_no"]) \
        .to_pyarrow().to_pylist()
    matched, unmatched_invoices, unmatched_ledger = [], [], []
    for r in rows:
        if r["status"] == "ledger_only":
            unmatched_ledger.append({
                "supplier_orgnr": r["supplier_orgnr"], "supplier_name": r["supplier_name"],
                "invoice_no": r["invoice_no"], "posting_date": str(r["ledger_posting_date"]),
                "amount_nok": _nok(r["ledger_ore"]), "lines": r["ledger_lines"], "sources": r["ledger_sources"]})
            continue
        invoice = {"supplier_orgnr": r["supplier_orgnr"], "supplier_name": r["supplier_name"],
                   "invoice_no": r["invoice_no"], "document_type": r["document_type"] or "invoice",
                   "source": r["invoice_source"], "issue_date": str(r["issue_date"]),
                   "amount_nok": _nok(r["invoice_ore"]), "lines": r["invoice_lines"]}
        if r["status"] != "invoice_only":
            invoice.update({"ledger_amount_nok": _nok(r["ledger_ore"]), "ledger_lines": r["ledger_lines"],
                            "ledger_posting_date": str(r["ledger_posting_date"]),
                            "ledger_sources": r["ledger_sources"],
                            "difference_nok": _nok(r["invoice_ore"] - r["ledger_ore"]),
                            "ledger_line_keys": list(r["ledger_line_keys"] or [])})
        if r["status"] == "matched":
            matched.append(invoice)
        else:
            invoice["reason"] = REASONS[r["status"]]
            unmatched_invoices.append(invoice)
    return {
        "organisation": org, "run": run.run.pk, "computed_at": run.run.created_at.isoformat(),
        "stale": compute_status().stale,
        "tolerance": {"nok": MATCH_TOLERANCE_ORE / 100, "share": MATCH_TOLERANCE_SHARE},
        "matched": matched, "unmatched_invoices": unmatched_invoices, "unmatched_ledger": unmatched_ledger,
        "summary": {"invoices": len(matched) + len(unmatched_invoices), "matched": len(matched),
                    "unmatched_invoices": len(unmatched_invoices), "unmatched_ledger": len(unmatched_ledger)},
    }
