"""Uploads on the web (issue 16 items 1, 2 and 5): a file is recorded and kept in the data directory (uploads/),
then validated and imported by a background job (process_upload_job, run inline with the immediate task backend)
through the same import service as the command line — the whole file validated first, so a failed file stores
nothing. The Upload row keeps who, when, the file, its kind, the status and the outcome: what was added, or every
error by file, row and column. A ledger in a layout without a profile waits for the mapping wizard (status
mapping): its columns guessed (importers/guess.py), the person's mapping previewed on 20 lines with their category
and spend factor, the profile saved (services/profiles.do_save_profile) and the file imported with it.

Checks against the wrong file (item 5): a KOSTRA file whose records name another organisation's orgnr or another
KOSTRA region than the chosen organisation, a SAF-T file of another company (its header's registration number) and
an EHF invoice of another buyer are refused unless confirmed (`confirm_other`, the web's checkbox and the CLI's
--force); a confirmed import writes an audit entry (`confirm_kostra_import`, `confirm_saft_import`,
`confirm_ehf_import`) naming what differed. A year the new lines share with an earlier import of another source
(a ledger for 2024 where a KOSTRA file for 2024 exists) is named in the result with the source that counts
(selectors/uploads.year_overlaps)."""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django_tasks import task

from klimainnkjop import paths
from klimainnkjop.core.errors import ImportRejected, InvalidInput, RowError, reason
from klimainnkjop.importers import archives, guess
from klimainnkjop.services.kostra_ingest import ReadKostra, parse_kostra
from klimainnkjop.importers.ledger import Profile, parse_ledger
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import (CategoryMapping, Factor, MappingProfile, Organisation, SupplierStatsProfile,
                                         Upload)
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.access import operator
from klimainnkjop.core.actors import SYSTEM, WORKER, ActorLike, as_actor

KINDS = Upload.KINDS
PROGRESS_QUEUED = gettext_noop("Waiting for its turn")
PROGRESS_READING = gettext_noop("Checking the file (step 1 of 2)")
PROGRESS_STORING = gettext_noop("Storing the lines (step 2 of 2)")
PROGRESS_DONE = gettext_noop("Done")
PROGRESS_FAILED = gettext_noop("Failed: nothing was stored")
PROGRESS_MAPPING = gettext_noop("Waiting for the columns to be mapped")
PREVIEW_LINES = 20
MAPPING_KEPT = dt.timedelta(days=7)  # a file waiting for its mapping is kept this long
INTERRUPTED_AFTER = dt.timedelta(hours=2)  # no upload takes this long to import; one still running was interrupted


def max_upload_bytes() -> int:
    """The largest file the web takes: the per-file limit of importers/archives.py (KLIMAINNKJOP_ARCHIVE_MAX_MEMBER_MIB,
    default 100 MiB), the same as a file or a zip member of a command-line import."""
    return archives.limits().max_member_bytes


def _user(actor: ActorLike):
    return as_actor(actor).user


def _stored(upload: Upload):
    return paths.data_dir() / upload.stored_path


def _facts(upload: Upload) -> dict:
    return {"file": upload.file_name, "kind": upload.kind, "size": upload.size, "sha256": upload.file_sha256,
            "profile": upload.profile_name or None, "status": upload.status, "result": upload.result,
            "errors": len(upload.errors)}


# ---------------------------------------------------------------- KOSTRA of another organisation (item 5)

def kostra_mismatches(data: bytes, file_name: str, organisation: Organisation,
                      parsed: ReadKostra | None = None) -> list[RowError]:
    """One error per orgnr or KOSTRA region in the file that is not the organisation's (at its first row).
    `parsed`: the file read already (services/kostra_ingest.py)."""
    if parsed is None:
        with parse_kostra(data, file_name) as read:
            return kostra_mismatches(data, file_name, organisation, read)
    errors: list[RowError] = []
    for row_no, kind, value in parsed.others(organisation.kostra_region or "", organisation.orgnr):
        if kind == "region":
            errors.append(RowError(file_name, row_no, "region", reason(
                "KOSTRA region %(value)s is not %(organisation)s's (%(region)s); confirm that the file belongs to "
                "this organisation (the checkbox on the web, --force on the command line)",
                value=value, organisation=organisation.name, region=organisation.kostra_region)))
        else:
            errors.append(RowError(file_name, row_no, "orgnr", reason(
                "orgnr %(value)s is not %(organisation)s's (%(orgnr)s); confirm that the file belongs to this "
                "organisation (the checkbox on the web, --force on the command line)",
                value=value, organisation=organisation.name, orgnr=organisation.orgnr)))
    return errors


def do_import_kostra_checked(*, data: bytes, file_name: str, organisation: Organisation | None,
                             confirm_other: bool = False, actor: ActorLike = None):
    """services/imports.do_import_kostra after the check against the wrong file: with an organisation chosen, a file
    naming another orgnr or region is refused (ImportRejected) unless confirm_other, which writes an audit entry.
    The file is read once for both."""
    from klimainnkjop.services.imports import do_import_kostra

    with parse_kostra(data, file_name) as parsed:
        if organisation is not None:
            mismatches = kostra_mismatches(data, file_name, organisation, parsed)
            if mismatches and not confirm_other:
                raise ImportRejected(mismatches)
            if mismatches:
                record_audit(actor=actor, action=Action.CONFIRM_KOSTRA_IMPORT, object_type="File",
                             object_id=file_name[:200], organisation=organisation,
                             after={"file": file_name, "sha256": linestore.sha256_bytes(data),
                                    "differences": [e.as_dict() for e in mismatches]})
        return do_import_kostra(data=data, file_name=file_name, organisation=organisation, actor=actor,
                                parsed=parsed)


# ---------------------------------------------------------------- recording an upload

def do_upload_file(*, organisation: Organisation, kind: str, data: bytes, file_name: str, profile_name: str = "",
                   confirm_other: bool = False, actor: ActorLike = None) -> Upload:
    """Records an upload and keeps its file; a ledger without a profile waits for the mapping wizard, anything else
    is handed to the background job (done already when this returns with the immediate backend)."""
    if kind not in KINDS:
        raise InvalidInput.at("kind", gettext("%(kind)r must be one of %(kinds)s"), kind=kind, kinds=", ".join(KINDS))
    limit = max_upload_bytes()
    if len(data) > limit:
        raise InvalidInput.at(file_name, gettext("%(size)s MiB is larger than the limit of %(limit)s MiB per file "
                                                 "(%(setting)s)"),
                              size=f"{len(data) / archives.MIB:.1f}", limit=limit // archives.MIB,
                              setting=archives.setting_name("max_member_mib"))
    if not data:
        raise InvalidInput.at(file_name, gettext("the file is empty"))
    if kind == "ledger" and profile_name and \
            not MappingProfile.objects.filter(organisation=organisation, name=profile_name).exists():
        raise InvalidInput.at("profile", gettext("%(orgnr)s has no ledger profile named %(name)r"),
                              orgnr=organisation.orgnr, name=profile_name)
    if kind == "supplier-stats" and profile_name and \
            not SupplierStatsProfile.objects.filter(organisation=organisation, name=profile_name).exists():
        raise InvalidInput.at("profile", gettext("%(orgnr)s has no supplier-statistics profile named %(name)r"),
                              orgnr=organisation.orgnr, name=profile_name)
    mapping = kind == "ledger" and not profile_name
    sha = linestore.sha256_bytes(data)
    safe_name = paths.fitting_name("".join(c if c.isalnum() or c in "._-" else "_"
                                           for c in file_name.rsplit("/", 1)[-1])) or "file"
    folder = paths.data_dir() / "uploads" / linestore.new_token()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / safe_name).write_bytes(data)
    with transaction.atomic():
        upload = Upload.objects.create(
            organisation=organisation, kind=kind, file_name=file_name[:500], size=len(data), file_sha256=sha,
            stored_path=str((folder / safe_name).relative_to(paths.data_dir())), profile_name=profile_name,
            confirmed_other=confirm_other, created_by=_user(actor),
            status=Upload.STATUS_MAPPING if mapping else Upload.STATUS_QUEUED,
            progress=PROGRESS_MAPPING if mapping else PROGRESS_QUEUED)
        record_audit(actor=actor, action=Action.CREATE_UPLOAD, obj=upload, organisation=organisation,
                     after=_facts(upload))
    if not mapping:
        _enqueue(upload, actor)
    upload.refresh_from_db()
    return upload


def _enqueue(upload: Upload, actor: ActorLike) -> None:
    user = _user(actor)
    process_upload_job.enqueue(upload_id=upload.pk, user_id=user.pk if user else None)


def uploaded_bytes(upload: Upload) -> bytes:
    """The kept file of an upload that waits (mapping or queued); InvalidInput once it has been processed."""
    path = _stored(upload)
    if not upload.stored_path or not path.is_file():
        raise InvalidInput.at(upload.file_name, gettext("the uploaded file is no longer kept; upload it again"))
    return path.read_bytes()


# ---------------------------------------------------------------- the mapping wizard (item 2)

@dataclass
class Preview:
    lines: list[dict]
    rows_read: int
    errors: list[RowError]


def guess_mapping(data: bytes, file_name: str) -> tuple[guess.Sample, dict[str, str], str]:
    """The first rows, the guessed columns and the guessed date format."""
    found = guess.sample(data, file_name)
    columns = guess.guess_columns(found)
    return found, columns, guess.guess_date_format(found, columns.get("posting_date"))


def _category_by_art(arts: set[str]) -> dict[str, CategoryMapping]:
    """The KOSTRA-art mapping of each art, longest prefix first (as the engine's category by art)."""
    mappings = list(CategoryMapping.objects.filter(scheme="kostra_art").select_related("category"))
    out = {}
    for art in arts:
        hits = [m for m in mappings if art.startswith(m.code)]
        if hits:
            out[art] = max(hits, key=lambda m: len(m.code))
    return out


def preview_ledger(data: bytes, file_name: str, spec: dict, *, limit: int = PREVIEW_LINES) -> Preview:
    """The file parsed with the mapping (not saved): the first lines with their category by KOSTRA art and the spend
    factor of the default factor set for it, or every error by row and column. InvalidInput for a bad mapping."""
    from klimainnkjop.services.compute import default_factor_set

    try:
        profile = Profile.from_spec(spec, source="mapping")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    try:
        parsed = parse_ledger(data, file_name, profile)
    except ImportRejected as exc:
        return Preview(lines=[], rows_read=0, errors=exc.errors)
    shown = parsed.lines[:limit]
    categories = _category_by_art({line.art for line in shown if line.art})
    factors: dict[int, Factor] = {}
    try:
        factor_set = default_factor_set()
    except InvalidInput:
        factor_set = None
    if factor_set is not None:
        wanted = {m.category_id for m in categories.values()}
        for f in Factor.objects.filter(factor_set=factor_set, basis=Factor.BASIS_SPEND, category_id__in=wanted) \
                .order_by("category_id", "-valid_from_year"):
            factors.setdefault(f.category_id, f)
    lines = []
    for line in shown:
        mapping = categories.get(line.art)
        factor = factors.get(mapping.category_id) if mapping else None
        lines.append({"row": line.row_no, "date": line.posting_date, "amount": line.amount_minor / 100,
                      "currency": line.currency, "account": line.account, "art": line.art, "unit": line.unit,
                      "supplier": line.supplier_name or line.supplier_orgnr, "description": line.description,
                      "category": mapping.category if mapping else None, "factor": factor})
    return Preview(lines=lines, rows_read=parsed.rows_read, errors=[])


def do_map_upload(*, upload: Upload, spec: dict, actor: ActorLike = None) -> Upload:
    """Saves the mapping as the organisation's profile and hands the waiting ledger to the background job."""
    from klimainnkjop.services.profiles import do_save_profile

    if upload.status != Upload.STATUS_MAPPING:
        raise InvalidInput.at(upload.file_name, gettext("the file is not waiting for a mapping"))
    name = spec.get("name") if isinstance(spec, dict) else None
    if MappingProfile.objects.filter(organisation=upload.organisation, name=name).exists():
        raise InvalidInput.at("profile", gettext("%(organisation)s has a profile named %(name)r already; give the new "
                                                 "layout another name (or upload the file with that profile)"),
                              organisation=upload.organisation.name, name=name)
    saved = do_save_profile(organisation=upload.organisation, spec=spec, actor=actor, source="mapping")
    with transaction.atomic():
        upload.profile_name, upload.status, upload.progress = saved.name, Upload.STATUS_QUEUED, PROGRESS_QUEUED
        upload.save(update_fields=["profile_name", "status", "progress"])
        record_audit(actor=actor, action=Action.MAP_UPLOAD, obj=upload, organisation=upload.organisation,
                     after=_facts(upload))
    _enqueue(upload, actor)
    upload.refresh_from_db()
    return upload


# ---------------------------------------------------------------- the background job

def _progress(upload: Upload, status: str, progress: str) -> None:
    upload.status, upload.progress = status, progress
    Upload.objects.filter(pk=upload.pk).update(status=status, progress=progress)


def _run(upload: Upload, actor: ActorLike) -> dict:
    """Imports the kept file through its service; the result as the page shows it."""
    org = upload.organisation
    path = _stored(upload)
    if upload.kind == "ehf":
        from klimainnkjop.services.invoices import do_import_ehf, read_inputs

        try:
            documents = read_inputs([path])
        except InvalidInput:  # its message names the kept file's path in the data directory
            raise InvalidInput.at(upload.file_name, gettext("no XML documents found (an EHF upload is an XML file or "
                                                            "a zip of them)")) from None
        _progress(upload, Upload.STATUS_RUNNING, PROGRESS_STORING)
        result = do_import_ehf(documents=documents, organisation=org, confirm_other=upload.confirmed_other,
                               actor=actor)
        findings = [f for b in result.batches for f in (b.findings or [])]
        return {"overlaps": _overlaps(org, [b.pk for b in result.batches]),
                "documents_read": result.documents_read, "documents_added": result.documents_added,
                "documents_duplicate": result.documents_duplicate, "lines_added": result.lines_added,
                "batches": [b.pk for b in result.batches], "findings": findings[:500],
                "findings_count": result.findings, "warnings": result.warnings[:100]}
    result = import_file(upload.kind, data=uploaded_bytes(upload), file_name=upload.file_name, organisation=org,
                         profile_name=upload.profile_name or None, confirm_other=upload.confirmed_other, actor=actor)
    out = result.as_dict()
    out["batches"] = [result.batch.pk] if result.batch else []
    out["overlaps"] = _overlaps(org, out["batches"]) if not result.already_imported else []
    return out


def _overlaps(organisation: Organisation, batch_ids: list[int]) -> list[dict]:
    """The years the new batches share with an earlier import of another source, and which counts (item 5)."""
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.uploads import year_overlaps

    return year_overlaps(system_scope(), organisation.orgnr, batch_ids)


def import_file(kind: str, *, data: bytes, file_name: str, organisation: Organisation, profile_name: str | None = None,
                confirm_other: bool = False, actor: ActorLike = None):
    """One file of a single-file kind (ledger, kostra, saft, supplier-stats; not ehf, which takes documents) through
    its import service, as the web upload and the drop folders run it; the service's ImportResult."""
    if kind == "ledger":
        from klimainnkjop.services.imports import do_import_ledger

        return do_import_ledger(organisation=organisation, data=data, file_name=file_name, profile_name=profile_name,
                                actor=actor)
    if kind == "kostra":
        return do_import_kostra_checked(data=data, file_name=file_name, organisation=organisation,
                                        confirm_other=confirm_other, actor=actor)
    if kind == "saft":
        from klimainnkjop.services.invoices import do_import_saft

        return do_import_saft(data=data, file_name=file_name, organisation=organisation, confirm_other=confirm_other,
                              actor=actor)
    if kind == "supplier-stats":
        from klimainnkjop.services.suppliers import do_import_supplier_stats

        return do_import_supplier_stats(organisation=organisation, data=data, file_name=file_name,
                                        profile_name=profile_name, actor=actor)
    raise InvalidInput.at("kind", gettext("%(kind)r must be one of %(kinds)s"), kind=kind,
                          kinds="ledger, kostra, saft, supplier-stats")


def process_upload(upload: Upload, *, actor: ActorLike = None) -> Upload:
    """Validates and imports a queued upload; marks it done with what was added, or failed with every error. The
    kept file is removed afterwards (an imported file is archived by the import, a failed one is not kept)."""
    _progress(upload, Upload.STATUS_RUNNING, PROGRESS_READING)
    try:
        result = _run(upload, actor)
    except ImportRejected as exc:
        upload.status, upload.progress, upload.errors = Upload.STATUS_FAILED, PROGRESS_FAILED, \
            [e.as_dict() for e in exc.errors[:1000]]
        upload.result = {"errors_count": len(exc.errors)}
    except (InvalidInput, ValueError, LookupError, FileNotFoundError) as exc:
        upload.status, upload.progress = Upload.STATUS_FAILED, PROGRESS_FAILED
        upload.errors = [RowError(upload.file_name, None, None, str(exc)).as_dict()]
        upload.result = {"errors_count": 1}
    except Exception as exc:  # noqa: BLE001 - the row must say failed; the worker logs the traceback
        upload.status, upload.progress = Upload.STATUS_FAILED, PROGRESS_FAILED
        upload.errors = [RowError(upload.file_name, None, None, reason(
            "the import failed unexpectedly (%(kind)s)", kind=type(exc).__name__)).as_dict()]
        upload.result = {"errors_count": 1}
    else:
        upload.status, upload.progress, upload.result, upload.errors = \
            Upload.STATUS_DONE, PROGRESS_DONE, result, []
    folder = _stored(upload).parent
    if upload.stored_path and folder.parent.name == "uploads":
        shutil.rmtree(folder, ignore_errors=True)
    upload.stored_path = ""
    upload.finished_at = timezone.now()
    with transaction.atomic():
        upload.save()
        done = upload.status == Upload.STATUS_DONE
        record_audit(actor=actor, action=Action.COMPLETE_UPLOAD if done else Action.FAIL_UPLOAD,
                     obj=upload, organisation=upload.organisation, after=_facts(upload))
    return upload


@task()
@operator()  # the worker's entry point: the job checks the asker's right itself
def process_upload_job(upload_id: int, user_id: int | None = None) -> str:
    """The background job: imports a queued upload as the person who uploaded it (their right checked again)."""
    from klimainnkjop import access

    upload = Upload.objects.select_related("organisation").filter(pk=upload_id).first()
    if upload is None or upload.status != Upload.STATUS_QUEUED:
        return upload.status if upload else "missing"
    actor: ActorLike = WORKER
    if user_id is not None:
        actor = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if actor is None or not access.can_import(actor, upload.organisation.orgnr):
            upload.status, upload.progress = Upload.STATUS_FAILED, PROGRESS_FAILED
            upload.errors = [RowError(upload.file_name, None, None,
                                      reason("the person who uploaded the file may no longer import")).as_dict()]
            upload.save()
            return upload.status
    return process_upload(upload, actor=actor).status


def do_expire_uploads(*, now: dt.datetime | None = None, actor: ActorLike = SYSTEM) -> list[int]:
    """Marks failed, and removes the kept file of, an upload that waited for its mapping longer than MAPPING_KEPT or
    has been running longer than INTERRUPTED_AFTER (its worker was stopped). Called by services/maintenance.py
    (`maintenance clean`, and when serve or a worker starts). Returns the uploads' ids."""
    now = now or timezone.now()
    reasons = {Upload.STATUS_MAPPING: (now - MAPPING_KEPT, reason(
                   "the columns were not mapped within %(days)s days; upload the file again", days=MAPPING_KEPT.days)),
               Upload.STATUS_RUNNING: (now - INTERRUPTED_AFTER, reason(
                   "interrupted: the worker stopped while importing the file; nothing was stored; upload it again"))}
    done = []
    for status, (limit, why) in reasons.items():
        for upload in Upload.objects.select_related("organisation").filter(status=status, created_at__lt=limit):
            if upload.stored_path:
                shutil.rmtree(_stored(upload).parent, ignore_errors=True)
            with transaction.atomic():
                upload.status, upload.progress, upload.stored_path = Upload.STATUS_FAILED, PROGRESS_FAILED, ""
                upload.errors = [RowError(upload.file_name, None, None, why).as_dict()]
                upload.finished_at = now
                upload.save()
                record_audit(actor=actor, action=Action.EXPIRE_UPLOAD, obj=upload, organisation=upload.organisation,
                             before={"status": status}, after=_facts(upload))
            done.append(upload.pk)
    return done
