"""The public page (no sign-in): only figures an administrator published (a Publication), and the same figures
as open data (CSV and JSON). Nothing published: 404."""
from __future__ import annotations


from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language

from klimainnkjop.selectors import dashboard
from klimainnkjop.access import system_scope
from klimainnkjop.core import cells
from klimainnkjop.selectors import reports as report_selectors
from klimainnkjop.selectors.documents import published_baselines
from klimainnkjop.web import formatting


def _publications(orgnr: str | None) -> list:
    # published figures are public: read with the system's scope
    return report_selectors.publications(system_scope(), orgnr, region=orgnr is None)


def _category_names() -> dict[str, str]:
    return dashboard.category_names(system_scope(), get_language() or "nb")


def _view(publication, names: dict[str, str]) -> dict:
    f = publication.figures
    total = f["total"]
    return {
        "year": publication.year, "published_at": publication.published_at, "run": publication.run_id,
        "factor_sets": f.get("factor_sets", []), "consolidated": f.get("consolidated"),
        "tonnes": formatting.number(total["kg_co2e"] / 1000, 1),
        "tonnes_operating": formatting.number(total["kg_co2e_operating"] / 1000, 1),
        "tonnes_investment": formatting.number(total["kg_co2e_investment"] / 1000, 1),
        "tonnes_low": formatting.number(total["kg_co2e_low"] / 1000, 1),
        "tonnes_high": formatting.number(total["kg_co2e_high"] / 1000, 1),
        "spend": formatting.number(total["spend_nok"], 0),
        "categories": [{"name": names.get(c["category"], c["category"] or "–"),
                        "tonnes": formatting.number(c["kg_co2e"] / 1000, 1),
                        "spend": formatting.number(c["spend_nok"], 0)} for c in f["categories"]],
    }


def public_region(request):
    region = _publications(None)
    organisations = report_selectors.published_organisations(system_scope())
    baselines = published_baselines()  # the region's published baseline reports (issue 13)
    if not region and not organisations and not baselines:
        raise Http404
    names = _category_names()
    return render(request, "web/public.html", {"subject": None, "publications": [_view(p, names) for p in region],
                                               "organisations": organisations, "baselines": baselines})


def public_organisation(request, orgnr: str):
    publications = _publications(orgnr)
    if not publications:
        raise Http404
    names = _category_names()
    return render(request, "web/public.html", {"subject": publications[0].organisation,
                                               "publications": [_view(p, names) for p in publications]})


# --- open data: exactly the published figures ---------------------------------------------------------------

def open_data(publications: list) -> list[dict]:
    """One row per published year and category, and a row per year with category 'total'."""
    rows = []
    for p in sorted(publications, key=lambda p: p.year):
        f = p.figures
        base = {"orgnr": f.get("orgnr") or "", "year": p.year, "consolidated": bool(f.get("consolidated")),
                "run": f.get("run"), "published_at": p.published_at.isoformat()}
        total = f["total"]
        rows.append({**base, "category": "total", "kg_co2e": total["kg_co2e"], "spend_nok": total["spend_nok"],
                     "kg_co2e_operating": total["kg_co2e_operating"],
                     "kg_co2e_investment": total["kg_co2e_investment"], "kg_co2e_low": total["kg_co2e_low"],
                     "kg_co2e_high": total["kg_co2e_high"]})
        for c in f["categories"]:
            rows.append({**base, "category": c["category"], "kg_co2e": c["kg_co2e"], "spend_nok": c["spend_nok"],
                         "kg_co2e_operating": None, "kg_co2e_investment": None, "kg_co2e_low": None,
                         "kg_co2e_high": None})
    return rows


def _document(publications: list) -> dict:
    factor_sets = sorted({fs for p in publications for fs in p.figures.get("factor_sets", [])})
    return {"description": "Klimagassutslipp fra innkjøp (kg CO2e) og innkjøp (NOK), publisert av administrator",
            "factor_sets": factor_sets,
            "publications": [p.figures | {"published_at": p.published_at.isoformat()}
                             for p in sorted(publications, key=lambda p: p.year)],
            "rows": open_data(publications)}


def _csv(publications: list, name: str) -> HttpResponse:
    rows = open_data(publications)  # through the product's export writer (core/cells.py), for Norwegian Excel
    response = HttpResponse(cells.csv_records(rows, list(rows[0])).encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _json(publications: list) -> JsonResponse:
    return JsonResponse(_document(publications), json_dumps_params={"ensure_ascii": False, "indent": 2})


def region_csv(request):
    publications = _publications(None)
    if not publications:
        raise Http404
    return _csv(publications, "klimainnkjop-region")


def region_json(request):
    publications = _publications(None)
    if not publications:
        raise Http404
    return _json(publications)


def organisation_csv(request, orgnr: str):
    publications = _publications(orgnr)
    if not publications:
        raise Http404
    return _csv(publications, f"klimainnkjop-{orgnr}")


def organisation_json(request, orgnr: str):
    publications = _publications(orgnr)
    if not publications:
        raise Http404
    return _json(publications)
