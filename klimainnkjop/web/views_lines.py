"""The drill-down: the lines behind a dashboard figure, with the same filters, paginated, sortable, as CSV.

Reads lines.parquet of the latest run through selectors.lines with a filter and a limit (one page at a
time); the CSV export streams every line the filters give.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext as _, gettext_lazy

from klimainnkjop.access import OutsideScope, scope_for, streamed
from klimainnkjop.core import cells
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import lines as line_selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors.results import NoResults
from klimainnkjop.web import formatting, labels
from klimainnkjop.web.views import BadPeriod, bad_period_response, method_label, period_label, requested_period

PAGE_SIZE = 50
SORTS = {"kg": "kg", "belop": "amount"}
METHODS = {"supplier", "activity", "spend", line_selectors.NO_VALUE}
FILTER_PARAMS = ["periode", "kategori", "enhet", "underenheter", "leverandor", "metode", "prosjekt"]


class BadFilter(Exception):
    pass


def line_href(orgnr: str, line_key: str) -> str:
    """The explanation page of one line (org/<orgnr>/linje/<line_key>/, built by another page's author)."""
    for name in ("line", "line_explanation", "explain_line"):
        try:
            return reverse(name, args=[orgnr, line_key])
        except NoReverseMatch:
            continue
    return f"/org/{quote(orgnr, safe='')}/linje/{quote(line_key, safe='')}/"


def _filters(request, scope, orgnr: str) -> tuple[dict, dict]:
    """(selector filters, the query parameters that gave them); BadPeriod/BadFilter/LookupError."""
    params = {k: request.GET.get(k, "").strip() for k in FILTER_PARAMS}
    period = requested_period(request)
    selected: dict = {}
    if period is not None:
        selected.update(year=period.year, months=period.months)
    if params["kategori"]:
        selected["category"] = params["kategori"]
    if params["leverandor"]:
        selected["supplier"] = params["leverandor"]
    if params["prosjekt"]:  # a construction project's lines: investment lines with this project number
        selected["project"] = params["prosjekt"]
    if params["metode"]:
        if params["metode"] not in METHODS:
            raise BadFilter(_("Unknown method “%(value)s”: choose supplier, activity, spend or - (none).")
                            % {"value": params["metode"]})
        selected["method"] = params["metode"]
    allowed = scope.unit_filter(orgnr)
    if params["enhet"]:
        if params["enhet"] == line_selectors.NO_VALUE:
            selected["units"] = [line_selectors.NO_VALUE]
        elif params["underenheter"]:
            selected["units"] = dashboard.unit_subtree(scope, orgnr, params["enhet"])  # LookupError: 404
        else:
            if allowed is not None and params["enhet"] not in allowed:
                raise LookupError(params["enhet"])
            selected["units"] = [params["enhet"]]
    return selected, {k: v for k, v in params.items() if v} | ({"periode": period.code} if period else {})


CSV_COLUMNS = ["line_key", "posting_date", "year", "month", "unit", "category", "art", "supplier_orgnr",
               "supplier_name", "description", "invoice_no", "investment", "amount_nok", "method", "factor_ref",
               "factor_value", "quality", "kg_co2e", "kg_low", "kg_high"]


# The headers in the reader's language (the open data of offentlig/ keeps machine names: docs/open-data.md)
CSV_HEADERS = {
    "line_key": gettext_lazy("Line key"), "posting_date": gettext_lazy("Posting date"), "year": gettext_lazy("Year"),
    "month": gettext_lazy("Month"), "unit": gettext_lazy("Unit"), "category": gettext_lazy("Category"),
    "art": gettext_lazy("Art"), "supplier_orgnr": gettext_lazy("Supplier's organisation number"),
    "supplier_name": gettext_lazy("Supplier"), "description": gettext_lazy("Description"),
    "invoice_no": gettext_lazy("Invoice number"), "investment": gettext_lazy("Investment"),
    "amount_nok": gettext_lazy("Amount, NOK"), "method": gettext_lazy("Method"),
    "factor_ref": gettext_lazy("Factor"), "factor_value": gettext_lazy("Factor value"),
    "quality": gettext_lazy("Quality"), "kg_co2e": gettext_lazy("kg CO2e"), "kg_low": gettext_lazy("kg CO2e, low"),
    "kg_high": gettext_lazy("kg CO2e, high"),
}


def _csv_response(scope, orgnr: str, selected: dict, order: str) -> StreamingHttpResponse:
    """The lines for Norwegian Excel, through the product's export writer (core/cells.py): supplier names and
    descriptions are text that can never become a formula; amounts and kg are numbers with a decimal comma."""
    writer = cells.CsvWriter(cells.EXCEL)

    def rows():
        yield writer.start() + writer.row([str(CSV_HEADERS[c]) for c in CSV_COLUMNS])
        offset = 0
        while True:
            chunk = line_selectors.lines(scope, org=orgnr, limit=10_000, offset=offset, order=order, **selected)
            for r in chunk:
                yield writer.row([
                    r["line_key"], r["posting_date"].isoformat() if r["posting_date"] else "", r["year"], r["month"],
                    r["unit"], r["category"], r["art"], r["supplier_orgnr"], r["supplier_name"], r["description"],
                    r["invoice_no"], 1 if r["investment"] else 0, cells.number(r["amount_ore"] / 100, 2),
                    labels.method_label(r["method"] or ""), r["factor_ref"], cells.number(r["factor_value"], 6),
                    r["quality"] or None,
                    cells.number(r["kg_co2e"], 3), cells.number(r["kg_low"], 3), cells.number(r["kg_high"], 3)])
            if len(chunk) < 10_000:
                return
            offset += 10_000

    # the rows are produced after the view has returned: in the request's scope all the same (access.streamed)
    response = StreamingHttpResponse(streamed(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="linjer-{orgnr}.csv"'
    return response


@login_required
def lines(request, orgnr):
    scope = scope_for(request.user)
    try:
        org = org_selectors.organisation(scope, orgnr)
    except (OutsideScope, org_selectors.NotFound):
        raise Http404
    try:
        selected, params = _filters(request, scope, org.orgnr)
    except BadPeriod as bad:
        return bad_period_response(request, bad.text)
    except BadFilter as bad:
        return render(request, "web/lines_invalid.html", {"org": org, "message": str(bad)}, status=400)
    except (LookupError, OutsideScope):
        raise Http404
    sort = request.GET.get("sortering", "kg")
    if sort not in SORTS:
        return render(request, "web/lines_invalid.html", {"org": org, "message": _(
            "Unknown order “%(value)s”: choose kg or belop.") % {"value": sort}}, status=400)
    try:
        page_no = max(1, int(request.GET.get("side", "1")))
    except ValueError:
        page_no = 1
    if request.GET.get("format") == "csv":
        try:
            return _csv_response(scope, org.orgnr, selected, SORTS[sort])
        except NoResults:
            raise Http404
    try:
        total = line_selectors.lines_total(scope, org=org.orgnr, **selected)
        # a page past the last shows the last (a page number of any size never reaches the query's offset)
        page_no = min(page_no, max(1, -(-total["lines"] // PAGE_SIZE)))
        rows = line_selectors.lines(scope, org=org.orgnr, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE,
                                    order=SORTS[sort], **selected)
    except NoResults:
        total, rows = None, []
    pages = max(1, -(-(total["lines"] if total else 0) // PAGE_SIZE))

    def href(**changes) -> str:
        query = dict(params, sortering=sort, side=str(page_no))
        query.update(changes)
        return f"{request.path}?{urlencode({k: v for k, v in query.items() if v})}"

    categories = dashboard.category_names(scope, get_language() or "nb")
    facts = []
    if "periode" in params:
        facts.append((_("Period"), period_label(dashboard.parse_period(params["periode"]))))
    if "kategori" in params:
        facts.append((_("Category"), categories.get(params["kategori"], _("Without category")
                                                    if params["kategori"] == "-" else params["kategori"])))
    if "enhet" in params:
        facts.append((_("Unit"), params["enhet"] + (" " + _("with sub-units") if "underenheter" in params else "")))
    if "leverandor" in params:
        facts.append((_("Supplier"), params["leverandor"]))
    if "metode" in params:
        facts.append((_("Method"), method_label("" if params["metode"] == "-" else params["metode"])))
    if "prosjekt" in params:
        facts.append((_("Investment project"), params["prosjekt"]))
    shown = [{
        "date": r["posting_date"], "description": r["description"] or r["item_name"] or "",
        "supplier": r["supplier_name"] or r["supplier_orgnr"] or "", "unit": r["unit"] or "",
        "category": categories.get(r["category"], r["category"] or ""), "method": method_label(r["method"] or ""),
        "amount": formatting.number(r["amount_ore"] / 100, 2), "kg": formatting.number(r["kg_co2e"], 1),
        "href": line_href(org.orgnr, r["line_key"]), "key": r["line_key"]} for r in rows]
    context = {
        "org": org, "rows": shown, "total": total, "facts": facts, "page_no": page_no, "pages": pages,
        "sort": sort, "first": (page_no - 1) * PAGE_SIZE + 1, "last": (page_no - 1) * PAGE_SIZE + len(rows),
        "sort_kg_href": href(sortering="kg", side="1"), "sort_amount_href": href(sortering="belop", side="1"),
        "previous_href": href(side=str(page_no - 1)) if page_no > 1 else "",
        "next_href": href(side=str(page_no + 1)) if page_no < pages else "",
        "csv_href": f"{request.path}?{urlencode(dict(params, sortering=sort, format='csv'))}",
        "dashboard_href": reverse("organisation", args=[org.orgnr]) + (
            f"?periode={params['periode']}" if "periode" in params else ""),
        "total_tonnes": formatting.number(total["kg_co2e"] / 1000, 1) if total else "",
        "tonnes_range": (f"{formatting.number(total['kg_low'] / 1000, 1)}\u2013"
                         f"{formatting.number(total['kg_high'] / 1000, 1)}") if total else "",
    }
    return render(request, "web/lines.html", context)
