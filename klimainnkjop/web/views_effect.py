"""The measured effect (issue 10, item 6): the change in tonnes CO2e between two periods for the region, an
organisation or one of its units, all categories or one, split into volume (spending more or less, at constant
prices) and intensity and mix (buying differently) by LMDI-I. Thin like views.py: access via access.scope_for, reads
via selectors.effect, the chart via reports.measure_charts."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext as _

from klimainnkjop.access import scope_for
from klimainnkjop.reports import measure_charts
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import effect as selectors
from klimainnkjop.web import formatting
from klimainnkjop.web.views_measures import org_param
from klimainnkjop.web.views import period_choices, period_codes


def _tonnes(kg: float) -> str:
    return formatting.number(kg / 1000.0, 1)


def _signed(kg: float) -> str:
    return ("+" if kg > 0 else "") + _tonnes(kg)


def _nok(value: float) -> str:
    return formatting.number(value, 0)


def _choices(scope, orgnr: str | None) -> dict:
    orgs = dashboard.organisation_names(scope)
    units = dashboard.unit_names(scope, orgnr) if orgnr else {}
    allowed = scope.unit_filter(orgnr) if orgnr else None
    names = dashboard.category_names(scope, get_language() or "nb")
    return {"organisations": sorted(orgs.items(), key=lambda kv: kv[1]),
            "units": sorted((c, n) for c, n in units.items() if allowed is None or c in allowed),
            "categories": sorted(names.items(), key=lambda kv: kv[0]), "org_names": orgs, "category_names": names}


def _period(text: str):
    try:
        return dashboard.parse_period(text)
    except dashboard.PeriodError:
        return None


@login_required
def effect(request):
    scope = scope_for(request.user)
    orgnr = org_param(request, scope)
    unit = request.GET.get("enhet") or None
    category = request.GET.get("kategori") or None
    choices = _choices(scope, orgnr)
    text_from = (request.GET.get("fra") or "").strip()
    text_to = (request.GET.get("til") or "").strip()
    context = {**choices, "selected_org": orgnr or "", "selected_unit": unit or "", "selected_category": category or "",
               "org_name": choices["org_names"].get(orgnr, "") if orgnr else ""}
    errors = []
    available = selectors.years(scope, org=orgnr)
    period_options = period_choices(available, dashboard.monthly_years(scope, org=orgnr))  # as on the dashboards
    context["period_options"] = period_options
    for text in (text_from, text_to):
        if text and text not in period_codes(period_options):
            errors.append(_("“%(text)s” is not one of the periods with figures. Choose a period in the list.")
                          % {"text": text})
    if unit and not orgnr:
        errors.append(_("Choose the organisation of the unit."))
    elif unit and unit not in dict(choices["units"]):
        errors.append(_("“%(code)s” is not a unit you may choose. Choose a unit in the list.") % {"code": unit})
    if category and category not in choices["category_names"]:
        errors.append(_("There is no category %(code)s.") % {"code": category})
    if errors:
        return render(request, "web/measure_effect.html",
                      {**context, "errors": errors, "text_from": text_from, "text_to": text_to}, status=400)
    if not text_to and available:
        text_to = str(available[-1])
    if not text_from and text_to:
        text_from = _period(text_to).previous().code
    context.update({"text_from": text_from, "text_to": text_to, "years": available})
    if not available:
        context["message"] = _("Nothing is computed here yet.")
        return render(request, "web/measure_effect.html", context)
    period_from, period_to = _period(text_from), _period(text_to)
    # the split compares two periods of one length, the earlier first (a quarter against a year is no change)
    if period_from.kind != period_to.kind:
        errors.append(_("Compare two periods of the same length: two years, two half-years, two four-month "
                        "periods or two quarters."))
    elif (period_from.year, period_from.number) >= (period_to.year, period_to.number):
        errors.append(_("The first period must come before the second."))
    if errors:
        return render(request, "web/measure_effect.html", {**context, "errors": errors}, status=400)
    try:
        split = selectors.effect_split(scope, period_from=period_from, period_to=period_to, org=orgnr, unit=unit,
                                       category=category)
    except LookupError:
        raise Http404 from None
    if split is None:
        context["message"] = _("Nothing is computed here yet.")
        return render(request, "web/measure_effect.html", context)
    context.update(_split_context(split, choices["category_names"], orgnr, period_from, period_to))
    return render(request, "web/measure_effect.html", context)


def _split_context(split: selectors.Split, names: dict[str, str], orgnr: str | None, period_from, period_to) -> dict:
    label_from, label_to = split.period_from, split.period_to
    # the year under way: both years from January to its last month (the dashboards' rule)
    label_from, label_to = (formatting.year_so_far(label, split.through_month) for label in (label_from, label_to))
    kinds = {"total": _("Tonnes CO2e"), "volume": _("Volume: spending more or less"),
             "intensity": _("Intensity and mix: buying differently"),
             "method": _("Change of method: another kind of data, not a cut")}
    t = 1000.0
    steps = [{"label": label_from, "kind": "total", "start": 0.0, "end": split.kg_from / t},
             {"label": _("Volume"), "kind": "volume", "start": split.kg_from / t,
              "end": (split.kg_from + split.volume_kg) / t},
             {"label": _("Intensity and mix"), "kind": "intensity",
              "start": (split.kg_from + split.volume_kg) / t,
              "end": (split.kg_from + split.volume_kg + split.intensity_kg) / t},
             {"label": _("Change of method"), "kind": "method",
              "start": (split.kg_from + split.volume_kg + split.intensity_kg) / t, "end": split.kg_to / t},
             {"label": label_to, "kind": "total", "start": 0.0, "end": split.kg_to / t}]
    chart = measure_charts.effect_split(steps, y_title=_("Tonnes CO2e"),
                                        kind_labels={k: str(v) for k, v in kinds.items()},
                                        language=get_language() or "nb")

    def lines_href(code: str) -> str:
        if not orgnr or not period_to.whole_year:
            return ""
        return reverse("lines", args=[orgnr]) + "?" + urlencode({"periode": period_to.code, "kategori": code})

    rows = [{"category": names.get(r["category"], r["category"] or "–"), "code": r["category"],
             "href": lines_href(r["category"]) if r["category"] else "",
             "from": _tonnes(r["kg_from"]), "to": _tonnes(r["kg_to"]), "change": _signed(r["change_kg"]),
             "volume": _signed(r["volume_kg"]), "intensity": _signed(r["intensity_kg"]),
             "method": _signed(r["method_kg"]), "spend_from": _nok(r["spend_from_nok"]),
             "spend_to": _nok(r["spend_to_constant_nok"])}
            for r in split.rows]
    return {"split": split, "chart": chart, "rows": rows, "label_from": label_from, "label_to": label_to,
            "figures": {"from": _tonnes(split.kg_from), "to": _tonnes(split.kg_to), "change": _signed(split.change_kg),
                        "volume": _signed(split.volume_kg), "intensity": _signed(split.intensity_kg),
                        "method": _signed(split.method_kg),
                        "spend_from": _nok(split.spend_from_nok), "spend_to": _nok(split.spend_to_nok),
                        "spend_constant": _nok(split.spend_to_constant_nok),
                        "spend_growth": formatting.percent(
                            100.0 * (split.spend_to_constant_nok / split.spend_from_nok - 1)
                            if split.spend_from_nok > 0 else None, 1)},
            "category_name": names.get(split.category, split.category) if split.category else ""}
