"""Reads for the upload pages (issue 16): an organisation's uploads and the profiles an upload may name. Each takes
an access.Scope and the organisation number (outside the scope: OutsideScope); whether the person may upload is
decided by the caller with access.can_import."""
from __future__ import annotations

from pathlib import Path

from django.shortcuts import get_object_or_404

from klimainnkjop.access import Scope, in_scope
from klimainnkjop.storage.models import MappingProfile, SupplierStatsProfile, Upload

PENDING = (Upload.STATUS_QUEUED, Upload.STATUS_RUNNING)
STATUS_MAPPING = Upload.STATUS_MAPPING
RECENT = 20


@in_scope
def uploads(scope: Scope, orgnr: str, *, limit: int = RECENT) -> list[Upload]:
    """The organisation's latest uploads, newest first."""
    scope.check(orgnr)
    return list(Upload.objects.filter(organisation__orgnr=orgnr).select_related("created_by")[:limit])


@in_scope
def upload(scope: Scope, orgnr: str, pk: int) -> Upload:
    """One upload of the organisation; 404 if there is none."""
    scope.check(orgnr)
    return get_object_or_404(Upload.objects.select_related("organisation", "created_by"),
                             organisation__orgnr=orgnr, pk=pk)


@in_scope
def ledger_profiles(scope: Scope, orgnr: str) -> list[str]:
    scope.check(orgnr)
    return list(MappingProfile.objects.filter(organisation__orgnr=orgnr).order_by("name")
                .values_list("name", flat=True))


@in_scope
def stats_profiles(scope: Scope, orgnr: str) -> list[str]:
    scope.check(orgnr)
    return list(SupplierStatsProfile.objects.filter(organisation__orgnr=orgnr).order_by("name")
                .values_list("name", flat=True))


# --- a year that overlaps an earlier import of another source (issue 16 item 5) ---------------------------------

LEDGER_SOURCES = ("ledger", "saft")  # engine/pipeline.LEDGER_SOURCES
INVOICE_SOURCES = ("ehf", "supplier_stats")  # engine/pipeline.INVOICE_SOURCES
# rule → which source counts, as engine/pipeline.reconcile_sources decides it
OVERLAP_RULES = {
    "kostra_steps_aside": "the new file counts; the earlier KOSTRA file's lines of the year step aside",
    "new_kostra_steps_aside": "the earlier ledger counts; this KOSTRA file's lines of the year step aside",
    "both_ledgers_count": "both count: if they hold the same postings, delete one of the imports",
    "invoices_meet_ledger": "invoices matched to ledger lines (supplier orgnr and invoice number) replace them; "
                            "unmatched invoices of the year step aside",
    "ledger_meets_invoices": "the ledger counts; invoices matched to its lines replace them, unmatched invoices of "
                             "the year step aside",
    "invoices_meet_kostra": "the earlier KOSTRA file counts; this file's unmatched invoices of the year step aside",
    "kostra_meets_invoices": "this KOSTRA file counts; the earlier unmatched invoices of the year step aside",
}


def _overlap_rule(new: str, other: str) -> str | None:
    if new in LEDGER_SOURCES and other == "kostra":
        return "kostra_steps_aside"
    if new == "kostra" and other in LEDGER_SOURCES:
        return "new_kostra_steps_aside"
    if new in LEDGER_SOURCES and other in LEDGER_SOURCES and new != other:
        return "both_ledgers_count"
    if new in INVOICE_SOURCES and other in LEDGER_SOURCES:
        return "invoices_meet_ledger"
    if new in LEDGER_SOURCES and other in INVOICE_SOURCES:
        return "ledger_meets_invoices"
    if new in INVOICE_SOURCES and other == "kostra":
        return "invoices_meet_kostra"
    if new == "kostra" and other in INVOICE_SOURCES:
        return "kostra_meets_invoices"
    return None


@in_scope
def year_overlaps(scope: Scope, orgnr: str, batch_ids: list[int]) -> list[dict]:
    """For the lines of these (just imported) batches: each year that an earlier counting import of another source
    of the organisation also holds, with that import and the rule saying which source counts (README "Design":
    where a ledger exists for an organisation and year, KOSTRA lines of that year step aside; invoices matched to
    ledger lines replace them). One entry per year, new source and earlier file: {year, source, other_source,
    other_file, other_batch, rule, counts}."""
    from klimainnkjop.engine import reader
    from klimainnkjop.storage import linestore
    from klimainnkjop.storage.models import ImportBatch

    scope.check(orgnr)
    batches = list(ImportBatch.objects.filter(organisation__orgnr=orgnr, status=ImportBatch.STATUS_DONE)
                   .exclude(parquet_path=""))
    new_tokens = {b.token for b in batches if b.pk in set(batch_ids)}
    if not new_tokens:
        return []
    by_token = {b.token: b for b in batches}
    files = [str(linestore.absolute(b.parquet_path)) for b in batches]
    rows = reader.batch_years([f for f in files if Path(f).exists()])
    new = {(source, year) for token, source, year, _ in rows if token in new_tokens}
    found: dict[tuple, dict] = {}
    for token, other_source, year, _ in rows:
        if token in new_tokens:
            continue
        for source, new_year in new:
            rule = _overlap_rule(source, other_source) if new_year == year else None
            if rule is None:
                continue
            other = by_token[token]
            found.setdefault((year, source, other.pk), {
                "year": int(year), "source": source, "other_source": other_source, "other_file": other.file_name,
                "other_batch": other.pk, "rule": rule, "counts": OVERLAP_RULES[rule]})
    return [found[k] for k in sorted(found)]


def overlap_message(entry: dict) -> str:
    """One overlap as the command line prints it."""
    return (f"{entry['year']}: overlaps {entry['other_file']} ({entry['other_source']}, import {entry['other_batch']}) "
            f"— {entry['counts']}")
