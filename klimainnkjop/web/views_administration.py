"""The region administrators' area (issue 16 item 9, issue 18 item 2): publishing a year of the region and its
organisations in one form, supplier factors, exchange rates and retraining the text model (queued for the background
worker, its status polled by web/static/web/training.js). Only region administrators (access.can_administer_region);
anyone else signed in gets 403. Thin: services/administration.py writes, selectors/administration.py reads."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from klimainnkjop import access
from klimainnkjop.core.errors import ImportRejected, InvalidInput
from klimainnkjop.selectors import administration as admin_selectors
from klimainnkjop.services import administration as admin_services
from klimainnkjop.services.reference import MAX_NOK_PER_UNIT
from klimainnkjop.web import formatting
from klimainnkjop.web.forms import error_text
from klimainnkjop.web.reasons import translated_reason


def _region_admin(request):
    if not access.can_administer_region(request.user):
        raise PermissionDenied
    return access.scope_for(request.user)


@login_required
def index(request):
    scope = _region_admin(request)
    return render(request, "web/administration.html", {
        "years": admin_selectors.computed_years(scope), "published": len(admin_selectors.publications(scope)),
        "supplier_factors": len(admin_selectors.supplier_factors(scope)),
        "rates": len(admin_selectors.exchange_rates(scope)),
        "version": next(iter(admin_selectors.model_versions(scope, 1)), None)})


# ---------------------------------------------------------------- publishing: one form for the region and its members

class PublishForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int)
    region = forms.BooleanField(label=gettext_lazy("The region (consolidated)"), required=False, initial=True)
    organisations = forms.MultipleChoiceField(label=gettext_lazy("Organisations"), required=False,
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, years: list[int], organisations: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]
        self.fields["organisations"].choices = [(o.orgnr, o.name) for o in organisations]
        if years:
            self.fields["year"].initial = years[0]
        self.fields["organisations"].initial = [o.orgnr for o in organisations]


@login_required
@require_http_methods(["GET", "POST"])
def publish(request):
    scope = _region_admin(request)
    years = admin_selectors.computed_years(scope)
    orgs = admin_selectors.organisations(scope)
    status = 200
    form = PublishForm(request.POST if request.method == "POST" else None, years=years, organisations=orgs)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                done = admin_services.do_publish_region_figures(
                    year=data["year"], region=data["region"], orgnrs=data["organisations"], actor=request.user)
            except InvalidInput as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, ngettext("Published %(count)d set of figures for %(year)s.",
                                                   "Published %(count)d sets of figures for %(year)s.",
                                                   len(done)) % {"count": len(done), "year": data["year"]})
                return redirect("administration_publish")
        status = 400
    published = admin_selectors.publications(scope)
    names = {o.orgnr: o.name for o in orgs}
    rows = [{"name": _("The region") if orgnr is None else names.get(orgnr, orgnr), "orgnr": orgnr, "year": year,
             "published_at": p.published_at, "tonnes": formatting.number(p.figures["total"]["kg_co2e"] / 1000, 1)}
            for (orgnr, year), p in sorted(published.items(), key=lambda kv: (-kv[0][1], kv[0][0] or ""))]
    return render(request, "web/administration_publish.html", {"form": form, "years": years, "rows": rows},
                  status=status)


# ---------------------------------------------------------------- supplier factors

class SupplierFactorForm(forms.Form):
    supplier_orgnr = forms.CharField(label=gettext_lazy("Supplier's organisation number"), max_length=11)
    value = forms.FloatField(label=gettext_lazy("Emission intensity, kg CO2e per NOK"), localize=True, min_value=0)
    low = forms.FloatField(label=gettext_lazy("Low end of the range"), localize=True, required=False, min_value=0,
                           help_text=gettext_lazy("Empty: a fifth below the value."))
    high = forms.FloatField(label=gettext_lazy("High end of the range"), localize=True, required=False, min_value=0,
                            help_text=gettext_lazy("Empty: a fifth above the value."))
    price_year = forms.IntegerField(label=gettext_lazy("Price year"), min_value=1990, max_value=2999)
    valid_from_year = forms.IntegerField(label=gettext_lazy("Valid from (year)"), min_value=1990, max_value=2999)
    valid_to_year = forms.IntegerField(label=gettext_lazy("Valid to (year)"), min_value=1990, max_value=2999)
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What documents the figure: an EPD, a climate report, a verified account."))

    def clean_supplier_orgnr(self):
        orgnr = "".join(self.cleaned_data["supplier_orgnr"].split())
        if not (len(orgnr) == 9 and orgnr.isdecimal()):
            raise forms.ValidationError(_("An organisation number has nine digits."))
        return orgnr

    def clean(self):
        data = super().clean()
        first, last = data.get("valid_from_year"), data.get("valid_to_year")
        if first and last and first > last:
            self.add_error("valid_to_year", _("The last year comes before the first."))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def supplier_factors(request):
    scope = _region_admin(request)
    status = 200
    form = SupplierFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                factor = admin_services.do_add_supplier_factor(actor=request.user, **form.cleaned_data)
            except ImportRejected as exc:
                for error in exc.errors:
                    field = error.column if error.column in form.fields else None
                    form.add_error(field, translated_reason(error.reason))
            else:
                messages.success(request, _("Supplier factor added for %(orgnr)s. The account is recomputed.")
                                 % {"orgnr": factor.supplier_orgnr})
                return redirect("administration_supplier_factors")
        status = 400
    return render(request, "web/administration_supplier_factors.html",
                  {"form": form, "factors": admin_selectors.supplier_factors(scope)}, status=status)


# ---------------------------------------------------------------- exchange rates

class RateForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=1900, max_value=2999)
    currency = forms.CharField(label=gettext_lazy("Currency (ISO 4217)"), min_length=3, max_length=3,
                               help_text=gettext_lazy("For example EUR, SEK, USD."))
    nok_per_unit = forms.FloatField(label=gettext_lazy("NOK per unit (annual average)"), localize=True,
                                    min_value=0.000001, max_value=MAX_NOK_PER_UNIT)
    source = forms.CharField(label=gettext_lazy("Source"), max_length=300,
                             initial="Norges Bank, årsgjennomsnitt")


@login_required
@require_http_methods(["GET", "POST"])
def exchange_rates(request):
    scope = _region_admin(request)
    status = 200
    form = RateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                rate = admin_services.do_set_exchange_rate(actor=request.user, **form.cleaned_data)
            except InvalidInput as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Rate %(currency)s %(year)s saved. The account is recomputed.")
                                 % {"currency": rate.currency, "year": rate.year})
                return redirect("administration_rates")
        status = 400
    return render(request, "web/administration_rates.html",
                  {"form": form, "rates": admin_selectors.exchange_rates(scope)}, status=status)


# ---------------------------------------------------------------- retraining the text model

def _training_context(scope) -> dict:
    jobs = admin_selectors.training_jobs(scope)
    return {"jobs": jobs, "pending": any(j.status in ("queued", "running") for j in jobs),
            "versions": admin_selectors.model_versions(scope)}


@login_required
def training(request):
    scope = _region_admin(request)
    return render(request, "web/administration_training.html", _training_context(scope))


@login_required
@require_POST
def training_start(request):
    _region_admin(request)
    job = admin_services.do_request_training(actor=request.user)
    if job.status == "failed":
        messages.error(request, _("The retraining failed: %(error)s") % {"error": job.error})
    elif job.status == "done":
        messages.success(request, _("The text model is retrained. The account is recomputed."))
    else:
        messages.info(request, _("The retraining is queued; this page shows when it is done."))
    return redirect("administration_training")


@login_required
def training_status(request):
    """The status part of the page alone, for the page's script to poll while a retraining is queued or running."""
    scope = _region_admin(request)
    return render(request, "web/_training_status.html", _training_context(scope))
