"""The baseline report and the council case documents (issue 13): generating them (DOCX or PDF, one or every
organisation's case document in a zip), the shared texts of the case document, and an organisation's decision
recorded back (its package adopted, the package's measures adopted, its targets given the decision). Every write
has an audit entry; the decision goes through the measure and target services."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import tempfile
import zipfile

from django.db import transaction

from klimainnkjop.access import Scope
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.reports import documents
from klimainnkjop.selectors import measures as measure_selectors
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.measures import do_adopt_package, do_change_measure_status
from klimainnkjop.services.targets import do_adopt_target_templates, do_set_target
from klimainnkjop.storage.models import Measure, Organisation, Target
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike

FORMATS = ("docx", "pdf")
CONTENT_TYPES = {"pdf": "application/pdf", "zip": "application/zip",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def render(doc: documents.Document, fmt: str) -> bytes:
    if fmt == "docx":
        from klimainnkjop.reports import documents_docx
        return documents_docx.write(doc)
    if fmt == "pdf":
        from klimainnkjop.reports import documents_pdf
        return documents_pdf.write(doc)
    raise InvalidInput(f"--format: {fmt!r} must be one of {', '.join(FORMATS)}")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"--format: {fmt!r} must be one of {', '.join(FORMATS)}")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(str.maketrans("æøå", "aoa"))).strip("-") or "x"


def do_generate_baseline(scope: Scope, *, year: int, fmt: str, orgnr: str | None = None,
                         package_name: str | None = None, actor: ActorLike = None) -> tuple[documents.Document, bytes]:
    """The baseline report of the region (orgnr None) or an organisation, as DOCX or PDF bytes."""
    _check_format(fmt)
    doc = documents.baseline(scope, year=year, orgnr=orgnr, package_name=package_name)
    content = render(doc, fmt)
    record_audit(actor=actor, action=Action.GENERATE_DOCUMENT, object_type="Document", object_id=f"baseline-{year}",
                 organisation=Organisation.objects.filter(orgnr=orgnr).first() if orgnr else None,
                 after={"document": "baseline", "year": year, "org": orgnr, "format": fmt, "run": doc.run_id,
                        "package": doc.figures.get("package")})
    return doc, content


def do_generate_saksfremlegg(scope: Scope, *, package_name: str, fmt: str, orgnr: str | None = None,
                             every: bool = False, actor: ActorLike = None) -> tuple[str, bytes]:
    """One organisation's case document (file name, bytes), or every organisation's in one zip."""
    _check_format(fmt)
    if every == bool(orgnr):
        raise InvalidInput("--org or --all: name one organisation or ask for all of them")
    texts = documents.document_texts()
    if not every:
        doc = documents.saksfremlegg(scope, orgnr=orgnr, package_name=package_name, texts=texts)
        content = render(doc, fmt)
        name = f"saksfremlegg-{orgnr}-{_slug(package_name)}.{fmt}"
        orgnrs = [orgnr]
    else:
        orgnrs = list(scope.organisations().order_by("orgnr").values_list("orgnr", flat=True))
        if not orgnrs:
            raise InvalidInput("--all: there are no organisations")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for number in orgnrs:
                doc = documents.saksfremlegg(scope, orgnr=number, package_name=package_name, texts=texts)
                archive.writestr(f"saksfremlegg-{number}-{_slug(doc.subject)}.{fmt}", render(doc, fmt))
        content = buffer.getvalue()
        name = f"saksfremlegg-{_slug(package_name)}.zip"
    record_audit(actor=actor, action=Action.GENERATE_DOCUMENT, object_type="Document", object_id="saksfremlegg",
                 organisation=Organisation.objects.filter(orgnr=orgnr).first() if orgnr else None,
                 after={"document": "saksfremlegg", "package": package_name, "orgs": orgnrs, "format": fmt})
    return name, content


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
        raise InvalidInput("--body: name the body that decided (e.g. kommunestyret)")
    if not case_number:
        raise InvalidInput("--case: the decision's case number must be given")
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
                raise InvalidInput("--baseline-year: the targets adopted need their baseline year")
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

    doc, content = do_generate_baseline(system_scope(), year=year, fmt="pdf", actor=actor)
    path = document_selectors.published_baseline_path(year)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as out:
        out.write(content)
    os.replace(out.name, path)
    result = {"year": year, "run": doc.run_id, "package": doc.figures.get("package"), "bytes": len(content)}
    record_audit(actor=actor, action=Action.PUBLISH_DOCUMENT, object_type="Document", object_id=f"baseline-{year}",
                 after=result)
    return result
