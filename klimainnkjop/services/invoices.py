"""Invoice-level data: EHF/PEPPOL BIS 3 documents and SAF-T Financial files into the line store. (Invoices are
matched to ledger lines by the engine when it computes: engine/pipeline.invoice_documents, read by
selectors/invoices.py.)

EHF import policy:
- every document of the import (one file, a folder's *.xml, a zip's *.xml) is validated first; if any is
  refused (unreadable, a schema error, or amounts that do not add up: importers/validation.refuses), the whole
  import is refused and nothing is stored (the message names every file and rule id);
- measure, don't gatekeep: every other failed rule (PEPPOL, national, EN 16931 outside BR-CO) is a finding; the
  document is imported and its findings are kept with the batch (`ImportBatch.findings`), counted in the result
  and the audit entry, and listed on the import's page;
- one ImportBatch (kind "ehf") per organisation and import; its sha is the file's (one document) or the
  hash of the sorted document hashes, so the same import twice is recognised as such;
- per-document idempotence: a line's natural key is seller + document type + document id + line id, so a
  document imported again (alone, in another folder or zip) adds nothing and is counted as duplicate.
"""
from __future__ import annotations

import hashlib
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext

from klimainnkjop.importers import archives
from klimainnkjop.importers.ehf import InvoiceDocument, parse_documents
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.services.saft_ingest import ReadSaft, parse_saft
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.imports import PARQUET_COLUMNS, ImportResult, Staged, _stored_files, run_import, staged
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.selectors.factors import exchange_rates
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ImportBatch, Organisation
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike


# ---------------------------------------------------------------- reading inputs


def _wanted(member: str) -> bool:
    return not member.endswith("/") and "__MACOSX" not in member and member.lower().endswith(".xml")


def read_inputs(paths: list[str | Path], budget: archives.Budget | None = None) -> list[tuple[str, bytes]]:
    """(name, bytes) of every XML document in the given files, folders (recursively) and zip files, within the
    limits of importers/archives.py for the whole import (ArchiveRefused, an ImportRejected, names the file)."""
    budget = budget or archives.Budget()
    out: list[tuple[str, bytes]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".zip"))
            out.extend(read_inputs(files, budget) if files else [])
        elif not path.exists():
            raise FileNotFoundError(reason("%(path)s: no such file or folder", path=path))
        elif path.is_file() and zipfile.is_zipfile(path):
            out.extend(archives.read_zip(path, path.name, budget, wanted=_wanted))
        else:
            out.append((path.name, archives.read_file(path, budget)))
    if not out:
        raise InvalidInput.at(", ".join(str(p) for p in paths), gettext("no XML documents found"))
    return out


# ---------------------------------------------------------------- EHF


@dataclass
class InvoiceImportResult(ImportResult):
    """An EHF import: documents rather than rows (`rows_read` counts the documents read; duplicates are counted per
    document, so `lines_duplicate` stays 0), and one batch per organisation the documents are for (`batch` when
    there is one). `already_imported`: no document was new."""

    documents_added: int = 0
    documents_duplicate: int = 0
    batches: list[ImportBatch] = field(default_factory=list)
    findings: int = 0  # failed rules kept as findings on the imported documents (not refused)
    validation_seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # file → layer → s

    @property
    def documents_read(self) -> int:
        return self.rows_read

    def as_dict(self) -> dict:
        return {
            "documents_read": self.documents_read, "documents_added": self.documents_added,
            "documents_duplicate": self.documents_duplicate, "lines_added": self.lines_added,
            "findings": self.findings,
            "batches": [b.pk for b in self.batches], "warnings": self.warnings,
            "validation_seconds": self.validation_seconds,
        }


def _resolve_org(doc: InvoiceDocument, organisation: Organisation | None, errors: list[RowError],
                 warnings: list[str], confirm_other: bool = False,
                 confirmed: list[dict] | None = None) -> Organisation | None:
    """The organisation an invoice is imported for. With one chosen, a buyer that is another organisation of the region
    refuses the file (issue 16 item 5: the wrong organisation's invoice) unless confirm_other (the upload's checkbox,
    --force): then the difference is collected in `confirmed` for the audit entry. A buyer orgnr the region does not
    know (a municipal enterprise, a former number) is imported for the chosen organisation with a warning."""
    buyer = doc.buyer.orgnr
    if organisation is not None:
        if buyer and buyer != organisation.orgnr:
            other = Organisation.objects.filter(orgnr=buyer).first()
            if other is not None and not confirm_other:
                errors.append(RowError(doc.file_name, None, "AccountingCustomerParty", reason(
                    "the buyer is organisation %(buyer)s (%(name)s), not %(organisation)s (%(orgnr)s); confirm that "
                    "the invoice belongs to this organisation (the checkbox on the web, --force on the command line)",
                    buyer=buyer, name=other.name, organisation=organisation.name, orgnr=organisation.orgnr)))
                return None
            if other is not None and confirmed is not None:
                confirmed.append({"file": doc.file_name, "document": doc.document_id, "buyer_orgnr": buyer})
            warnings.append(f"{doc.file_name}: the buyer's orgnr {buyer} differs from {organisation.orgnr}; imported "
                            f"for {organisation.orgnr}" + (" as confirmed" if other is not None else ""))
        return organisation
    found = Organisation.objects.filter(orgnr=buyer).first() if buyer else None
    if found is None:
        if buyer:
            why = reason("no organisation matches the buyer orgnr %(orgnr)s; add it with `klimainnkjop org add` or "
                         "name one with --org", orgnr=buyer)
        elif doc.buyer.name:
            why = reason("no organisation matches the buyer %(name)s (no Norwegian orgnr); add it with `klimainnkjop "
                         "org add` or name one with --org", name=doc.buyer.name)
        else:
            why = reason("no organisation matches the buyer the buyer (no Norwegian orgnr); add it with `klimainnkjop "
                         "org add` or name one with --org")
        errors.append(RowError(doc.file_name, None, None, why))
    return found


def do_import_ehf(*, documents: list[tuple[str, bytes]], organisation: Organisation | None = None,
                  confirm_other: bool = False, actor: ActorLike = None) -> InvoiceImportResult:
    result = InvoiceImportResult(rows_read=len(documents))
    errors: list[RowError] = []
    parsed: list[InvoiceDocument] = []
    for (name, _), doc in zip(documents, parse_documents(documents)):  # verdicts cached by SHA-256; a pool
        if isinstance(doc, list):  # the errors refusing the document
            errors.extend(doc)
            continue
        parsed.append(doc)
        result.validation_seconds[name] = {k: round(v, 4) for k, v in doc.validation_seconds.items()}
        result.warnings.extend(doc.warnings)
    if errors:
        raise ImportRejected(errors)

    rates = exchange_rates()
    by_org: dict[int, tuple[Organisation, list[tuple[InvoiceDocument, float]]]] = {}
    confirmed: list[dict] = []
    for doc in parsed:
        org = _resolve_org(doc, organisation, errors, result.warnings, confirm_other, confirmed)
        rate = 1.0 if doc.currency == "NOK" else rates.get((doc.issue_date.year, doc.currency))
        if rate is None:
            errors.append(RowError(doc.file_name, None, "DocumentCurrencyCode", reason(
                "no exchange rate %(currency)s→NOK for %(year)s; add it on /administrasjon/valutakurser/ or with "
                "`klimainnkjop rate set %(year)s %(currency)s NOK_PER_UNIT`",
                currency=doc.currency, year=doc.issue_date.year)))
        if org is not None and rate is not None:
            by_org.setdefault(org.pk, (org, []))[1].append((doc, rate))
    if errors:
        raise ImportRejected(errors)
    if confirmed and organisation is not None:
        record_audit(actor=actor, action=Action.CONFIRM_EHF_IMPORT, object_type="File",
                     object_id=confirmed[0]["file"][:200], organisation=organisation,
                     after={"organisation": organisation.orgnr, "differences": confirmed[:500]})

    for org, docs in by_org.values():
        _import_for_org(org, docs, result, actor)
    result.already_imported = result.documents_added == 0
    if len(result.batches) == 1:
        result.batch = result.batches[0]
    return result


def _import_for_org(org: Organisation, docs: list[tuple[InvoiceDocument, float]], result: InvoiceImportResult,
                    actor: ActorLike) -> None:
    """The documents of one organisation as one batch, through the import skeleton (services.imports.run_import)."""
    shas = sorted(doc.sha256 for doc, _ in docs)
    sha = shas[0] if len(shas) == 1 else hashlib.sha256("|".join(shas).encode()).hexdigest()
    file_name = docs[0][0].file_name if len(docs) == 1 else f"{len(docs)} documents: {docs[0][0].file_name} …"
    counts = {"documents_added": 0, "documents_duplicate": 0, "findings": 0}
    imported = run_import(organisation=org, kind="ehf", file_name=file_name[:500], sha=sha, actor=actor,
                          stage=lambda previous: staged(_stage_ehf(org, docs, shas, file_name[:500], sha, result,
                                                                   counts)))
    if imported.already_imported:
        result.documents_duplicate += len(docs)
        return
    result.batches.append(imported.batch)
    result.findings += counts["findings"]
    result.documents_added += counts["documents_added"]
    result.documents_duplicate += counts["documents_duplicate"]
    result.lines_added += imported.lines_added


def _stage_ehf(org: Organisation, docs: list[tuple[InvoiceDocument, float]], shas: list[str], file_name: str,
               sha: str, result: InvoiceImportResult, counts: dict) -> Staged:
    """Per-document dedupe: a document whose lines are all stored (or that is in this import twice) is a duplicate;
    the batch's `lines_duplicate` counts such documents."""
    existing = linestore.read_keys(_stored_files(org, kinds=("ehf",)))
    seen_docs: dict[tuple[str, str, str], str] = {}
    findings: list[dict] = []
    columns: dict[str, list] = {f.name: [] for f in linestore.INVOICE_LINE_SCHEMA}
    suppliers: dict[str, str] = {}
    added_docs = duplicates = 0
    for doc, rate in docs:
        ident = (doc.seller.key, doc.document_type, doc.document_id)
        keys = [doc.line_key(line.line_id) for line in doc.lines]
        if ident in seen_docs or (keys and all(k in existing for k in keys)):
            duplicates += 1
            if ident in seen_docs and seen_docs[ident] != doc.sha256:
                result.warnings.append(f"{doc.file_name}: {doc.document_type} {doc.document_id} from {doc.seller.key} "
                                       f"is already in this import with other content; skipped (a correction is a "
                                       "credit note)")
            continue
        seen_docs[ident] = doc.sha256
        added_docs += 1
        findings.extend({"file": doc.file_name, "document": doc.document_id, "layer": f.layer, "rule": f.rule,
                         "flag": f.flag, "message": f.message[:500], "location": f.location[:300]}
                        for f in doc.findings)
        if doc.seller.orgnr:
            suppliers[doc.seller.orgnr] = doc.seller.name
        for row_no, (line, key) in enumerate(zip(doc.lines, keys), start=1):
            if key in existing:
                continue
            amount = round(line.amount_minor * rate)
            values = {
                "line_key": key, "org": org.orgnr, "source": "ehf", "row_no": row_no,
                "posting_date": doc.issue_date, "year": doc.issue_date.year, "month": doc.issue_date.month,
                "account": "", "art": "", "function": "", "unit": "", "project": "",
                "supplier_orgnr": doc.seller.orgnr, "supplier_name": doc.seller.name, "amount_ore": amount,
                "vat_ore": round(line.vat_minor * rate), "currency": doc.currency,
                "amount_orig_minor": line.amount_minor, "description": line.item_name,
                "invoice_no": doc.document_id, "voucher": "", "line_id": line.line_id, "investment": False,
                "quantity": line.quantity, "quantity_unit": line.quantity_unit,
                "document_type": doc.document_type, "document_id": doc.document_id, "item_name": line.item_name,
                "item_description": line.item_description, "seller_item_id": line.seller_item_id,
                "item_class_scheme": line.item_class_scheme, "item_class_code": line.item_class_code,
                "unit_code": line.unit_code,
            }
            for name, value in values.items():
                columns[name].append(value)
    counts.update(documents_added=added_docs, documents_duplicate=duplicates, findings=len(findings))
    raw = {doc.sha256: doc.data for doc, _ in docs}
    return Staged(rows_read=len(docs), duplicates=duplicates, columns=columns, schema=linestore.INVOICE_LINE_SCHEMA,
                  suppliers=suppliers, findings=findings, raw_files=[(raw[s], s) for s in shas],
                  audit={"file": file_name, "sha256": sha, "documents": len(docs),
                         "lines_added": len(columns["line_key"]), "documents_duplicate": duplicates,
                         "findings": len(findings)})


# ---------------------------------------------------------------- SAF-T


@dataclass
class SaftImportResult(ImportResult):
    validation_seconds: float = 0.0


def do_import_saft(*, data: bytes, file_name: str, organisation: Organisation | None = None,
                   confirm_other: bool = False, actor: ActorLike = None) -> SaftImportResult:
    """A SAF-T Financial file. With an organisation chosen, a file whose company registration number (the header's
    Company/RegistrationNumber) is another's is refused (issue 16 item 5) unless confirm_other (the upload's checkbox,
    --force), which writes an audit entry `confirm_saft_import`."""
    with parse_saft(data, file_name) as parsed:  # the lines stay in DuckDB until the batch is written
        if organisation is None:
            organisation = Organisation.objects.filter(orgnr=parsed.company_orgnr).first()
            if organisation is None:
                raise InvalidInput.at(file_name, gettext(
                    "no organisation has the file's company orgnr %(orgnr)s; add it with `klimainnkjop org add` or "
                    "name one with --org"), orgnr=parsed.company_orgnr or gettext("(none)"))
        elif parsed.company_orgnr and parsed.company_orgnr != organisation.orgnr:
            if not confirm_other:
                known = Organisation.objects.filter(orgnr=parsed.company_orgnr).first()
                if known:
                    why = reason("the file is %(name)s's (%(company)s), not %(organisation)s's (%(orgnr)s); confirm "
                                 "that it belongs to this organisation (the checkbox on the web, --force on the "
                                 "command line)", name=known.name, company=parsed.company_orgnr,
                                 organisation=organisation.name, orgnr=organisation.orgnr)
                else:
                    why = reason("the file is company %(company)s's, not %(organisation)s's (%(orgnr)s); confirm "
                                 "that it belongs to this organisation (the checkbox on the web, --force on the "
                                 "command line)", company=parsed.company_orgnr, organisation=organisation.name,
                                 orgnr=organisation.orgnr)
                raise ImportRejected([RowError(file_name, None, "Header/Company/RegistrationNumber", why)])
            record_audit(actor=actor, action=Action.CONFIRM_SAFT_IMPORT, object_type="File", object_id=file_name[:200],
                         organisation=organisation,
                         after={"file": file_name, "sha256": linestore.sha256_bytes(data), "organisation":
                                organisation.orgnr, "company_orgnr": parsed.company_orgnr})
        # the file's warnings go to the result, not to the batch (as before the skeleton)
        facts = {"warnings": list(parsed.warnings), "validation_seconds": parsed.validation_seconds}
        return run_import(organisation=organisation, kind="saft", file_name=file_name, sha=linestore.sha256_bytes(data),
                          data=data, result=SaftImportResult, already=facts, actor=actor,
                          stage=lambda previous: _stage_saft(organisation, parsed, facts))


@contextmanager
def _stage_saft(organisation: Organisation, parsed: ReadSaft, facts: dict):
    """The lines anti-joined with the organisation's SAF-T batches in DuckDB; the ingest stays open until the commit
    has written the fresh ones with one COPY."""
    ingest = parsed.ingest
    duplicates = ingest.drop_stored(_stored_files(organisation, kinds=("saft",)))
    added, amount, _, suppliers = ingest.fresh_summary()

    def write(path: Path, token: str) -> None:
        ingest.write_fresh(path, org=organisation.orgnr, batch=token, source="saft", columns=PARQUET_COLUMNS,
                           order="row_no, pos")

    yield Staged(rows_read=parsed.lines, duplicates=duplicates, written=(added, amount, write),
                 suppliers=suppliers, result=facts)
