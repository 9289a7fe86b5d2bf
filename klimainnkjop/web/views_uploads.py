"""Uploads on the web (issue 16 items 1, 2 and 5): the upload form of an organisation, the mapping wizard for a
ledger in a new layout, the page of one upload (its progress while the background job runs, polled by
web/static/web/upload.js, then what was added or every error by file, row and column). Who may upload:
access.can_import (org-admin, finance, purchaser, region admins); others who see the organisation get 403, those
who do not, 404. Thin: services/uploads.py does the work."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods

from klimainnkjop import access
from klimainnkjop.core.errors import ImportRejected, InvalidInput
from klimainnkjop.importers import archives
from klimainnkjop.importers.guess import WIZARD_FIELDS
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors import uploads as upload_selectors
from klimainnkjop.services import uploads as upload_services
from klimainnkjop.web.forms import error_text

KIND_CHOICES = [("ledger", gettext_lazy("Ledger export (CSV or XLSX)")), ("kostra", gettext_lazy("KOSTRA file")),
                ("saft", gettext_lazy("SAF-T Financial (XML)")),
                ("ehf", gettext_lazy("EHF invoices (an XML file or a zip of them)")),
                ("supplier-stats", gettext_lazy("Supplier's purchase statistics (CSV or XLSX)"))]
FIELD_LABELS = {
    "posting_date": gettext_lazy("Date"), "amount": gettext_lazy("Amount"), "account": gettext_lazy("Account"),
    "art": gettext_lazy("KOSTRA art"), "function": gettext_lazy("KOSTRA function"),
    "unit": gettext_lazy("Unit (responsibility code)"), "unit_name": gettext_lazy("Unit name"),
    "supplier_orgnr": gettext_lazy("Supplier's organisation number"), "supplier_name": gettext_lazy("Supplier name"),
    "description": gettext_lazy("Description"), "invoice_no": gettext_lazy("Invoice number"),
    "voucher": gettext_lazy("Voucher number"), "vat": gettext_lazy("VAT amount"), "currency": gettext_lazy("Currency"),
    "project": gettext_lazy("Project"),
}


def _organisation(request, orgnr: str):
    """The organisation, if the person sees it (else 404) and may import into it (else 403)."""
    if not access.can_view(request.user, orgnr):
        raise Http404
    try:
        org = org_selectors.organisation(access.scope_for(request.user), orgnr)
    except (access.OutsideScope, org_selectors.NotFound):
        raise Http404
    if not access.can_import(request.user, orgnr):
        raise PermissionDenied
    return org


def _limit_mib() -> int:
    return upload_services.max_upload_bytes() // archives.MIB


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file is"), choices=KIND_CHOICES)
    file = forms.FileField(label=gettext_lazy("File"))
    ledger_profile = forms.ChoiceField(
        label=gettext_lazy("Column profile for a ledger export"), required=False,
        help_text=gettext_lazy("A layout the organisation has not imported before: choose the first option and map "
                               "its columns in the next step."))
    stats_profile = forms.ChoiceField(label=gettext_lazy("Profile for supplier statistics"), required=False)
    confirm_other = forms.BooleanField(
        label=gettext_lazy("The file belongs to this organisation even if it names another organisation number or "
                           "KOSTRA region"), required=False,
        help_text=gettext_lazy("For KOSTRA, SAF-T and EHF files, which name the organisation they belong to. "
                               "Confirming is recorded in the audit log."))

    def __init__(self, *args, ledger_profiles: list[str], stats_profiles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ledger_profile"].choices = [("", _("A new layout: map the columns"))] + \
            [(n, n) for n in ledger_profiles]
        self.fields["stats_profile"].choices = [("", _("The organisation's only profile"))] + \
            [(n, n) for n in stats_profiles]
        self.fields["file"].help_text = _("At most %(limit)s MiB per file.") % {"limit": _limit_mib()}

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > upload_services.max_upload_bytes():
            raise forms.ValidationError(
                _("The file is %(size).1f MiB; the limit is %(limit)s MiB per file. Split it (for example by "
                  "period) or ask the operator to import it.") % {"size": file.size / archives.MIB,
                                                                 "limit": _limit_mib()})
        return file


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, orgnr):
    org = _organisation(request, orgnr)
    scope = access.scope_for(request.user)
    profiles = {"ledger_profiles": upload_selectors.ledger_profiles(scope, org.orgnr),
                "stats_profiles": upload_selectors.stats_profiles(scope, org.orgnr)}
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, **profiles)
        if form.is_valid():
            data = form.cleaned_data
            kind = data["kind"]
            profile = data["ledger_profile"] if kind == "ledger" else \
                data["stats_profile"] if kind == "supplier-stats" else ""
            try:
                done = upload_services.do_upload_file(
                    organisation=org, kind=kind, data=data["file"].read(), file_name=data["file"].name,
                    profile_name=profile, confirm_other=data["confirm_other"] and kind in ("kostra", "saft", "ehf"),
                    actor=request.user)
            except InvalidInput as exc:
                form.add_error(None, error_text(exc))
            else:
                if done.status == upload_selectors.STATUS_MAPPING:
                    return redirect("upload_mapping", orgnr=org.orgnr, pk=done.pk)
                return redirect("upload_result", orgnr=org.orgnr, pk=done.pk)
        status = 400
    else:
        form = UploadForm(**profiles)
    return render(request, "web/upload.html", {
        "org": org, "form": form, "limit_mib": _limit_mib(),
        "uploads": upload_selectors.uploads(scope, org.orgnr)}, status=status)


def _result_context(request, org, pk: int) -> dict:
    item = upload_selectors.upload(access.scope_for(request.user), org.orgnr, pk)
    return {"org": org, "upload": item, "pending": item.status in upload_selectors.PENDING}


@login_required
def upload_result(request, orgnr, pk):
    org = _organisation(request, orgnr)
    context = _result_context(request, org, pk)
    if context["upload"].status == upload_selectors.STATUS_MAPPING:
        return redirect("upload_mapping", orgnr=org.orgnr, pk=pk)
    return render(request, "web/upload_result.html", context)


@login_required
def upload_status(request, orgnr, pk):
    """The status part of the upload's page alone, for the page's script to poll while the job runs."""
    org = _organisation(request, orgnr)
    return render(request, "web/_upload_status.html", _result_context(request, org, pk))


class MappingForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the profile"), max_length=100,
                           help_text=gettext_lazy("The next file in this layout is imported with it."))
    date_format = forms.CharField(label=gettext_lazy("Date format (optional)"), max_length=20, required=False,
                                  help_text=gettext_lazy("For example %d.%m.%Y; empty: recognised from the dates."))

    def __init__(self, *args, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("(not in the file)"))] + [(h, h) for h in header if h.strip()]
        for fld in WIZARD_FIELDS:
            self.fields[f"col_{fld}"] = forms.ChoiceField(label=FIELD_LABELS[fld], choices=choices, required=False)

    def column_fields(self):
        return [self[f"col_{fld}"] for fld in WIZARD_FIELDS]

    def spec(self) -> dict:
        data = self.cleaned_data
        spec = {"name": data["name"].strip(),
                "columns": {fld: data[f"col_{fld}"] for fld in WIZARD_FIELDS if data.get(f"col_{fld}")}}
        if data["date_format"].strip():
            spec["date_format"] = data["date_format"].strip()
        return spec


@login_required
@require_http_methods(["GET", "POST"])
def upload_mapping(request, orgnr, pk):
    """The mapping wizard: the first rows, the guessed columns to confirm or change, a preview of 20 parsed lines
    with their category and factor, then the profile saved and the file imported with it."""
    org = _organisation(request, orgnr)
    item = upload_selectors.upload(access.scope_for(request.user), org.orgnr, pk)
    if item.status != upload_selectors.STATUS_MAPPING:
        return redirect("upload_result", orgnr=org.orgnr, pk=item.pk)
    context = {"org": org, "upload": item, "preview": None, "unreadable": None}
    try:
        data = upload_services.uploaded_bytes(item)
        sample, guessed, date_format = upload_services.guess_mapping(data, item.file_name)
    except (InvalidInput, ImportRejected) as exc:
        context["unreadable"] = exc.errors if isinstance(exc, ImportRejected) else [error_text(exc)]
        return render(request, "web/upload_mapping.html", context, status=400)
    context.update({"sample": sample, "guessed": guessed})
    status = 200
    if request.method == "POST":
        form = MappingForm(request.POST, header=sample.header)
        if form.is_valid():
            spec = form.spec()
            try:
                preview = upload_services.preview_ledger(data, item.file_name, spec)
            except InvalidInput as exc:
                form.add_error(None, error_text(exc))
                preview = None
            context["preview"] = preview
            if preview is not None and not preview.errors and request.POST.get("action") == "save":
                try:
                    upload_services.do_map_upload(upload=item, spec=spec, actor=request.user)
                except InvalidInput as exc:
                    form.add_error(None, error_text(exc))
                else:
                    return redirect("upload_result", orgnr=org.orgnr, pk=item.pk)
            if form.errors or (preview is not None and preview.errors):
                status = 400
        else:
            status = 400
    else:
        stem = item.file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0][:80] or "profil"
        initial = {"name": stem, "date_format": date_format}
        initial.update({f"col_{fld}": column for fld, column in guessed.items()})
        form = MappingForm(initial=initial, header=sample.header)
    context["form"] = form
    return render(request, "web/upload_mapping.html", context, status=status)
