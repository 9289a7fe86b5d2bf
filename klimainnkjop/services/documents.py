"""The baseline report and the council case documents (issue 13): generating them (DOCX or PDF, one or every
organisation's case document in a zip), the shared texts of the case document, and an organisation's decision
recorded back (its package adopted, the package's measures adopted, its targets given the decision). Every write
has an audit entry; the decision goes through the measure and target services."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from klimainnkjop import paths
from klimainnkjop.access import Scope
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.reports import documents
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.measures import do_adopt_package, do_change_measure_status
from klimainnkjop.services.targets import do_adopt_target_templates, do_set_target
from klimainnkjop.storage.models import Measure, Organisation, Report, Target
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike

FORMATS = ("docx", "pdf")
LANGUAGES = ("nb", "en")
CONTENT_TYPES = {"pdf": "application/pdf", "zip": "application/zip",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def render(doc: documents.Document, fmt: str) -> bytes:
    if fmt == "docx":
        from klimainnkjop.reports import documents_docx
        return documents_docx.write(doc)
    if fmt == "pdf":
        from klimainnkjop.reports import documents_pdf
        return documents_pdf.write(doc)
    raise InvalidInput.at("--format", gettext("%(format)r must be one of %(formats)s"), format=fmt,
                          formats=", ".join(FORMATS))


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput.at("--format", gettext("%(format)r must be one of %(formats)s"), format=fmt,
                              formats=", ".join(FORMATS))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(str.maketrans("æøå", "aoa"))).strip("-") or "x"


def document_language(language: str | None) -> str:
    """The document's language: nb or en (default: the active language, i.e. the page's, else bokmål)."""
    language = language or translation.get_language() or "nb"
    if language.startswith(("nb", "no")):
        return "nb"
    if language.startswith("en"):
        return "en"
    raise InvalidInput.at("--language", gettext("%(language)r must be one of %(languages)s"), language=language,
                          languages=", ".join(LANGUAGES))


def do_generate_baseline(scope: Scope, *, year: int, fmt: str, orgnr: str | None = None,
                         package_name: str | None = None, language: str | None = None,
                         actor: ActorLike = None) -> tuple[documents.Document, bytes]:
    """The baseline report of the region (orgnr None) or an organisation, as DOCX or PDF bytes, its text in
    `language` (nb or en, through gettext)."""
    check_format(fmt)
    language = document_language(language)
    with translation.override(language):
        doc = documents.baseline(scope, year=year, orgnr=orgnr, package_name=package_name)
        doc.language = language
        content = render(doc, fmt)
    record_audit(actor=actor, action=Action.GENERATE_DOCUMENT, object_type="Document", object_id=f"baseline-{year}",
                 organisation=Organisation.objects.filter(orgnr=orgnr).first() if orgnr else None,
                 after={"document": "baseline", "year": year, "org": orgnr, "format": fmt, "language": language,
                        "run": doc.run_id, "package": doc.figures.get("package")})
    return doc, content


def do_generate_saksfremlegg(scope: Scope, *, package_name: str, fmt: str, orgnr: str | None = None,
                             every: bool = False, language: str | None = None,
                             actor: ActorLike = None) -> tuple[str, bytes]:
    """One organisation's case document (file name, bytes), or every organisation's in one zip; its fixed text in
    `language` (nb or en; the shared texts are the author's)."""
    check_format(fmt)
    language = document_language(language)
    with translation.override(language):
        return _saksfremlegg(scope, package_name=package_name, fmt=fmt, orgnr=orgnr, every=every,
                             language=language, actor=actor)


def _saksfremlegg(scope: Scope, *, package_name: str, fmt: str, orgnr: str | None, every: bool, language: str,
                  actor: ActorLike) -> tuple[str, bytes]:
    if every == bool(orgnr):
        raise InvalidInput.at(None, gettext("--org or --all: name one organisation or ask for all of them"))
    texts = documents.document_texts(language)
    if not every:
        doc = documents.saksfremlegg(scope, orgnr=orgnr, package_name=package_name, texts=texts)
        doc.language = language
        content = render(doc, fmt)
        name = f"saksfremlegg-{orgnr}-{_slug(package_name)}.{fmt}"
        orgnrs = [orgnr]
    else:
        orgnrs = list(scope.organisations().order_by("orgnr").values_list("orgnr", flat=True))
        if not orgnrs:
            raise InvalidInput.at("--all", gettext("there are no organisations"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for number in orgnrs:
                doc = documents.saksfremlegg(scope, orgnr=number, package_name=package_name, texts=texts)
                doc.language = language
                archive.writestr(f"saksfremlegg-{number}-{_slug(doc.subject)}.{fmt}", render(doc, fmt))
        content = buffer.getvalue()
        name = f"saksfremlegg-{_slug(package_name)}.zip"
    record_audit(actor=actor, action=Action.GENERATE_DOCUMENT, object_type="Document", object_id="saksfremlegg",
                 organisation=Organisation.objects.filter(orgnr=orgnr).first() if orgnr else None,
                 after={"document": "saksfremlegg", "package": package_name, "orgs": orgnrs, "format": fmt,
                        "language": language})
    return name, content


# --- in the background (the web): the baseline report and every organisation's case documents --------------------
# A document asked for on the web is a Report row (layout "baseline" or "saksfremlegg", its parameters in texts;
# services/reports.do_request_document) made by the report worker (services/reports.generate_report_job), so the
# reports page shows its status and progress and offers the file when it is done, as for the other reports.

DOCUMENT_LAYOUTS = ("baseline", "saksfremlegg")
PROGRESS_WRITING = {"docx": gettext_noop("Writing the Word file (step 2 of 2)"),
                    "pdf": gettext_noop("Writing the PDF file (step 2 of 2)")}
PROGRESS_CASES = gettext_noop("Writing every organisation's case document (step 2 of 2)")
# the same texts as services/reports.py's (one msgid each)
PROGRESS_READING, PROGRESS_DONE, PROGRESS_FAILED = (gettext_noop("Reading the figures (step 1 of 2)"),
                                                    gettext_noop("Done"), gettext_noop("Failed"))


def _progress(report: Report, status: str, progress: str) -> None:
    report.status, report.progress = status, progress
    Report.objects.filter(pk=report.pk).update(status=status, progress=progress)


def make_document(report: Report, scope: Scope, *, actor: ActorLike = None) -> Report:
    """Makes a queued document (services/reports.make_report hands it here): builds it with the scope of the person
    who asked, writes it to the data directory's reports/ and marks the row done (or failed, with the error)."""
    params, fmt = report.texts or {}, report.format
    orgnr = report.organisation.orgnr if report.organisation_id else None
    language = document_language(params.get("language"))
    _progress(report, Report.STATUS_RUNNING, PROGRESS_READING)
    try:
        with translation.override(language):
            if report.layout == "baseline":
                doc = documents.baseline(scope, year=int(params["year"]), orgnr=orgnr,
                                         package_name=params.get("package"))
                doc.language = language
                _progress(report, Report.STATUS_RUNNING, PROGRESS_WRITING[fmt])
                content = render(doc, fmt)
                name = f"kartlegging-{orgnr or 'region'}-{params['year']}-{report.pk}.{fmt}"
                report.run_id = doc.run_id
            else:
                _progress(report, Report.STATUS_RUNNING, PROGRESS_CASES)
                name, content = _saksfremlegg(scope, package_name=params["package"], fmt=fmt, orgnr=orgnr,
                                              every=bool(params.get("all")), language=language, actor=actor)
                name = name.rsplit(".", 1)[0] + f"-{report.pk}." + name.rsplit(".", 1)[1]
        folder = paths.data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
        report.file_path = f"reports/{name}"
        report.sha256 = hashlib.sha256(content).hexdigest()
        report.status, report.progress, report.error = Report.STATUS_DONE, PROGRESS_DONE, ""
        report.save()
    except Exception as exc:
        report.status, report.progress, report.error = Report.STATUS_FAILED, PROGRESS_FAILED, str(exc)[:2000]
        report.save()
        raise
    if report.layout == "baseline":
        record_audit(actor=actor, action=Action.GENERATE_DOCUMENT, object_type="Document",
                     object_id=f"baseline-{params['year']}", organisation=report.organisation,
                     after={"document": "baseline", "year": params["year"], "org": orgnr, "format": fmt,
                            "language": language, "run": report.run_id, "report": report.pk,
                            "file": report.file_path, "sha256": report.sha256})
    return report


def do_save_document_texts(*, texts: dict, actor: ActorLike = None) -> dict:
    """The case document's shared texts, edited once for every organisation (sections as in the shipped
    data/document_texts.json; a section left out keeps its current text). Written to the data directory."""
    checked = documents.check_texts(texts)
    before = documents.document_texts()
    after = {**before, **checked}
    path = documents.texts_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as out:
        json.dump(after, out, ensure_ascii=False, indent=2)
    os.replace(out.name, path)
    record_audit(actor=actor, action=Action.SAVE_DOCUMENT_TEXTS, object_type="DocumentTexts", object_id="saksfremlegg",
                 before={k: before.get(k) for k in checked}, after=checked)
    return after


def do_record_decision(scope: Scope, *, organisation: Organisation, decided_on: dt.date, body: str,
                       case_number: str, package_name: str, target_templates: list[str] | None = None,
                       baseline_year: int | None = None, target_year: int | None = None,
                       actor: ActorLike = None) -> dict:
    """An organisation's decision on the case: its adoption of the package, each of the package's measures
    (that apply to it) adopted by it with the date and case number, its own active targets given the decision's
    date and case number (through do_set_target: a new version), and the steering document's target templates
    named adopted for it. Returns what was set."""
    body, case_number = (body or "").strip(), (case_number or "").strip()
    if not body:
        raise InvalidInput.at("--body", gettext("name the body that decided (e.g. kommunestyret)"))
    if not case_number:
        raise InvalidInput.at("--case", gettext("the decision's case number must be given"))
    scope.check(organisation.orgnr)
    pkg = documents.find_package(scope, package_name)
    with transaction.atomic():
        do_adopt_package(package=pkg, organisation=organisation, adopted_on=decided_on, case_number=case_number,
                         actor=actor)
        adopted, skipped = [], []
        for m in measure_selectors.package_measures(scope, pkg):
            if m.organisations.exists() and not m.organisations.filter(pk=organisation.pk).exists():
                skipped.append(m.name)
                continue
            try:
                do_change_measure_status(measure=m, status=Measure.STATUS_ADOPTED, date=decided_on,
                                         organisation=organisation, case_number=case_number,
                                         note=f"Vedtak i {body}", actor=actor)
                adopted.append(m.name)
            except InvalidInput:  # adopted by this organisation already
                skipped.append(m.name)
        decided = []
        for target in Target.objects.filter(organisation=organisation, active=True, decision_date__isnull=True):
            new = do_set_target(kpi=target.kpi, target_year=target.target_year, value=target.value,
                                baseline_year=target.baseline_year, organisation=organisation,
                                unit_code=target.unit_code, category=target.category, kind=target.kind,
                                milestones=target.milestones, decision_date=decided_on, case_number=case_number,
                                template=target.template, note=target.note, actor=actor)
            decided.append(new.kpi)
        if target_templates:
            if baseline_year is None:
                raise InvalidInput.at("--baseline-year", gettext("the targets adopted need their baseline year"))
            for new in do_adopt_target_templates(baseline_year=baseline_year, target_year=target_year,
                                                 organisation=organisation, keys=target_templates,
                                                 decision_date=decided_on, case_number=case_number, actor=actor):
                decided.append(new.kpi)
        result = {"org": organisation.orgnr, "package": pkg.name, "date": decided_on.isoformat(), "body": body,
                  "case_number": case_number, "measures_adopted": adopted, "measures_skipped": skipped,
                  "targets": decided}
        record_audit(actor=actor, action=Action.RECORD_DECISION, obj=pkg, organisation=organisation, after=result)
    return result


def do_publish_baseline(*, year: int, actor: ActorLike = None) -> dict:
    """The region's baseline report of `year` as PDF on the public page (offentlig/): made with the system's scope
    (the whole region, consolidated) and kept in the data directory; publishing again replaces it."""
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import documents as document_selectors

    doc, content = do_generate_baseline(system_scope(), year=year, fmt="pdf", language="nb", actor=actor)
    path = document_selectors.published_baseline_path(year)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as out:
        out.write(content)
    os.replace(out.name, path)
    result = {"year": year, "run": doc.run_id, "package": doc.figures.get("package"), "bytes": len(content)}
    record_audit(actor=actor, action=Action.PUBLISH_DOCUMENT, object_type="Document", object_id=f"baseline-{year}",
                 after=result)
    return result
