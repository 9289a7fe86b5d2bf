"""Generating and archiving reports; publishing figures for the public page. Every write has an audit entry."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from klimainnkjop import access, paths
from klimainnkjop.access import Scope
from klimainnkjop.reports import data as report_data
from klimainnkjop.reports.periods import parse_period
from klimainnkjop.selectors import results
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage.models import Organisation, Publication, Report

FORMATS = ("pdf", "xlsx", "csv")
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def render(data: report_data.ReportData, fmt: str) -> bytes:
    if fmt == "pdf":
        from klimainnkjop.reports import pdf
        return pdf.write(data)
    if fmt == "xlsx":
        from klimainnkjop.reports import xlsx
        return xlsx.write(data)
    if fmt == "csv":
        from klimainnkjop.reports import csv_writer
        return csv_writer.write(data)
    raise InvalidInput(f"--format: {fmt!r} must be one of {', '.join(FORMATS)}")


def _file_name(report: Report, data: report_data.ReportData) -> str:
    subject = data.orgnr or "region"
    if data.unit_code:
        subject += "-" + re.sub(r"[^A-Za-z0-9_-]", "_", data.unit_code)
    return f"klimaregnskap-{subject}-{data.period.code}-{report.pk}.{report.format}"


def do_generate_report(scope: Scope, *, scope_kind: str, period: str, fmt: str, orgnr: str | None = None,
                       unit_code: str | None = None, actor: Any = None) -> Report:
    """Builds the report, writes it to the data directory (reports/) and records it with its run and sha256.

    Runs synchronously; the Report row's status and progress say how far it came (failed: the error)."""
    parsed = parse_period(period)
    if fmt not in FORMATS:
        raise InvalidInput(f"--format: {fmt!r} must be one of {', '.join(FORMATS)}")
    organisation = Organisation.objects.filter(orgnr=orgnr).first() if orgnr else None
    if scope_kind != report_data.SCOPE_REGION and orgnr and organisation is None:
        raise InvalidInput(f"--org: no organisation with orgnr {orgnr}")
    user = actor if getattr(actor, "is_authenticated", False) else None
    report = Report.objects.create(
        scope_kind=scope_kind, organisation=organisation if scope_kind != report_data.SCOPE_REGION else None,
        unit_code=unit_code or "", period=parsed.code, format=fmt, status=Report.STATUS_RUNNING,
        progress="Henter tall", created_by=user)
    try:
        data = report_data.build(scope, scope_kind=scope_kind, period=parsed, orgnr=orgnr, unit_code=unit_code)
        Report.objects.filter(pk=report.pk).update(progress=f"Skriver {fmt.upper()}")
        content = render(data, fmt)
        folder = paths.data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        name = _file_name(report, data)
        (folder / name).write_bytes(content)
        report.run_id = data.run_id
        report.factor_sets = [fs.label for fs in data.factor_sets] or [data.factor_set]
        report.file_path = f"reports/{name}"
        report.sha256 = hashlib.sha256(content).hexdigest()
        report.status, report.progress = Report.STATUS_DONE, "Ferdig"
        report.save()
    except Exception as exc:
        report.status, report.progress, report.error = Report.STATUS_FAILED, "Feilet", str(exc)[:2000]
        report.save()
        raise
    record_audit(actor=actor, action="report.generate", obj=report, organisation=organisation,
                 after={"scope": scope_kind, "orgnr": orgnr, "unit": unit_code, "period": parsed.code,
                        "format": fmt, "run": report.run_id, "factor_sets": report.factor_sets,
                        "file": report.file_path, "sha256": report.sha256})
    return report


def report_path(report: Report):
    return paths.data_dir() / report.file_path


# --- publication of figures on the public page -----------------------------------------------------------

def published_figures(orgnr: str | None, year: int) -> dict:
    """The figures that a publication shows: totals and per category of one year (consolidated for the region),
    read with the system's scope through selectors.results."""
    scope = access.system_scope()
    document = results.totals(scope, org=orgnr, year=year, by=["category", "investment"])
    categories: dict[str, dict] = {}
    total = {"kg_co2e": 0.0, "kg_co2e_operating": 0.0, "kg_co2e_investment": 0.0, "kg_co2e_low": 0.0,
             "kg_co2e_high": 0.0, "spend_ore": 0}
    for row in document["rows"]:
        code = row["category"] or ""
        entry = categories.setdefault(code, {"category": code, "kg_co2e": 0.0, "spend_ore": 0})
        spend = report_data.ore(row["spend_nok"])
        entry["kg_co2e"] += row["kg_co2e"]
        entry["spend_ore"] += spend
        total["kg_co2e"] += row["kg_co2e"]
        total["kg_co2e_investment" if row["investment"] else "kg_co2e_operating"] += row["kg_co2e"]
        total["kg_co2e_low"] += row["kg_co2e_low"]
        total["kg_co2e_high"] += row["kg_co2e_high"]
        total["spend_ore"] += spend
    rows = sorted(categories.values(), key=lambda c: -c["kg_co2e"])
    for entry in [total, *rows]:
        entry["kg_co2e"] = round(entry["kg_co2e"], 3)
        entry["spend_nok"] = round(entry.pop("spend_ore") / 100, 2)
    for key in ("kg_co2e_operating", "kg_co2e_investment", "kg_co2e_low", "kg_co2e_high"):
        total[key] = round(total[key], 3)
    return {"orgnr": orgnr, "year": year, "consolidated": document["consolidated"], "run": document["run"],
            "factor_sets": document["factor_sets"], "total": total, "categories": rows}


def do_publish_figures(*, year: int, orgnr: str | None = None, actor: Any = None) -> Publication:
    """Publishes (or republishes, replacing) one year's figures of an organisation, or of the region with
    orgnr None. A person must administer the organisation (or the region); the CLI acts as the operator."""
    if getattr(actor, "is_authenticated", False):
        allowed = access.can_administer(actor, orgnr) if orgnr else access.can_administer_region(actor)
        if not allowed:
            raise PermissionError("only the organisation's or the region's administrators may publish figures")
    organisation = None
    if orgnr:
        organisation = Organisation.objects.filter(orgnr=orgnr).first()
        if organisation is None:
            raise InvalidInput(f"--org: no organisation with orgnr {orgnr}")
    if not 1900 <= int(year) <= 2999:
        raise InvalidInput(f"--year: {year!r} is not a year")
    figures = published_figures(orgnr, int(year))
    if not figures["categories"]:
        raise InvalidInput(f"--year: no computed figures for {orgnr or 'the region'} in {year}")
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        previous = Publication.objects.filter(organisation=organisation, year=year).first()
        before = {"run": previous.run_id, "total": previous.figures.get("total")} if previous else None
        Publication.objects.filter(organisation=organisation, year=year).delete()
        publication = Publication.objects.create(organisation=organisation, year=year, run_id=figures["run"],
                                                 figures=figures, published_by=user)
        publication.published_at = timezone.now()
        record_audit(actor=actor, action="figures.publish", obj=publication, organisation=organisation,
                     before=before, after={"orgnr": orgnr, "year": year, "run": figures["run"],
                                           "total": figures["total"]})
    return publication
