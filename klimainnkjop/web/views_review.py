"""The review queue (org/<orgnr>/gjennomgang/) and the explanation of one line (org/<orgnr>/linje/<key>/).

Thin: access via access.scope_for / can_view / can_classify, reads via selectors.lines, changes via
services.classification. Outside the person's scope both pages are 404; a person who may see but not
change (a reader) gets 403 on POST.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext as _, gettext_lazy, ngettext

from klimainnkjop.access import OutsideScope, can_classify, can_view, scope_for, system_scope
from klimainnkjop.selectors import lines as line_selectors
from klimainnkjop.selectors.results import NoResults
from klimainnkjop.services.classification import do_add_classification_rule, do_override_line_categories
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.web import formatting
from klimainnkjop.web.forms import error_text

QUEUE_LENGTH = 50
METHOD_LABELS = {"supplier": gettext_lazy("Supplier-specific"), "activity": gettext_lazy("Activity-based"),
                 "spend": gettext_lazy("Spend-based")}
# why this factor: the rank of engine.pipeline.FACTOR_RANKS a line's factor came from (method v2)
FACTOR_BASIS_LABELS = {
    "supplier_product": gettext_lazy("Rank 1: the supplier's product-level data"),
    "activity": gettext_lazy("Rank 2: a physical quantity on the line (activity)"),
    "supplier_company": gettext_lazy("Rank 3: the supplier's company-level intensity per krone"),
    "spend": gettext_lazy("Rank 4: the Norwegian spend factor for the category or its nearest broader category"),
    "spend_fallback": gettext_lazy("Rank 5: the foreign fallback factor (no Norwegian factor for the category)"),
}
RULE_NONE, RULE_SUPPLIER, RULE_KEYWORD = "", "supplier", "keyword"


def _category_names() -> dict[str, str]:
    return dashboard.category_names(system_scope(), get_language() or "nb")  # shared reference data


def _organisation(request, orgnr: str):
    """The organisation if the person may see it; 404 otherwise (outside scope is not found)."""
    if not can_view(request.user, orgnr):
        raise Http404
    try:
        return org_selectors.organisation(scope_for(request.user), orgnr)
    except (OutsideScope, org_selectors.NotFound):
        raise Http404


def rule_text(rule: str | None) -> str:
    """The deciding rule in words (engine/classify.py names it)."""
    rule = rule or ""
    if not rule:
        return _("No rule placed this line")
    if rule == "model":
        return _("Text model (learned from descriptions)")
    if rule.startswith("manual#"):
        return _("Manual choice for this line (%(rule)s)") % {"rule": rule}
    if rule.startswith("rule#"):
        return _("Classification rule (%(rule)s)") % {"rule": rule}
    if rule.startswith("item:"):
        return _("Item classification code %(code)s") % {"code": rule.split(":", 1)[1]}
    if rule.startswith("supplier:"):
        return _("The supplier's industry code %(code)s") % {"code": rule.split(":", 1)[1]}
    if rule.startswith("kostra_art:"):
        return _("KOSTRA art %(art)s") % {"art": rule.split(":", 1)[1]}
    return rule


def factor_pk(factor_ref: str | None) -> int | None:
    """factor_ref is '<set>:<version>#<factor pk>' (supplier-specific factors: 'supplier#<pk>', no page)."""
    if not factor_ref or factor_ref.startswith("supplier#") or "#" not in factor_ref:
        return None
    tail = factor_ref.rsplit("#", 1)[1]
    return int(tail) if tail.isdecimal() else None


def _text(row: dict) -> str:
    return " – ".join(t for t in (row.get("description"), row.get("item_name")) if t) or "–"


def _row_view(orgnr: str, row: dict, names: dict[str, str]) -> dict:
    category = row.get("category")
    return {
        "key": row["line_key"], "href": reverse("line", args=[orgnr, row["line_key"]]), "text": _text(row),
        "supplier": row.get("supplier_name") or row.get("supplier_orgnr") or "–",
        "supplier_orgnr": row.get("supplier_orgnr") or "",
        "amount": formatting.number((row.get("amount_ore") or 0) / 100, 0),
        "kg": formatting.number(row.get("kg_co2e"), 0),
        "category": names.get(category, category) if category else _("Without category"),
        "rule": rule_text(row.get("classification_rule")),
        "confidence": formatting.percent((row.get("classification_confidence") or 0.0) * 100, 0),
        "at_stake": formatting.number(row.get("at_stake"), 0),
        "date": row.get("posting_date") or row.get("year"),
    }


class ReclassifyForm(forms.Form):
    lines = forms.MultipleChoiceField(label=gettext_lazy("Lines"), widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": gettext_lazy("Choose at least one line.")})
    category = forms.ChoiceField(label=gettext_lazy("New category"))
    make_rule = forms.ChoiceField(
        label=gettext_lazy("Also make a rule of it"), required=False, widget=forms.RadioSelect,
        choices=[(RULE_NONE, gettext_lazy("No, only these lines")),
                 (RULE_SUPPLIER, gettext_lazy("Yes: every line from the supplier of the chosen lines")),
                 (RULE_KEYWORD, gettext_lazy("Yes: every line whose text has the word below"))])
    keyword = forms.CharField(label=gettext_lazy("Word"), required=False, max_length=60,
                              help_text=gettext_lazy("One word of the line text, e.g. «diesel»."))

    def __init__(self, *args, line_keys: list[str], names: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(k, k) for k in line_keys]
        self.fields["category"].choices = [("", _("Choose a category"))] + sorted(
            ((code, f"{name} ({code})") for code, name in names.items()), key=lambda c: c[1].lower())

    def clean(self):
        data = super().clean()
        if data.get("make_rule") == RULE_KEYWORD:
            word = (data.get("keyword") or "").strip().lower()
            if not word or not word.isalnum():
                self.add_error("keyword", _("Write one word (letters and digits only)."))
            data["keyword"] = word
        return data


@login_required
def review(request, orgnr):
    org = _organisation(request, orgnr)
    scope = scope_for(request.user)
    names = _category_names()
    try:
        queue = line_selectors.review_queue(scope, org=org.orgnr, limit=QUEUE_LENGTH)
        computed = True
    except NoResults:
        queue, computed = [], False
    except OutsideScope:
        raise Http404
    may_change = can_classify(request.user, org.orgnr)
    status = 200
    if request.method == "POST":
        if not may_change:
            return HttpResponseForbidden(_("You may see these lines but not change their category."))
        form = ReclassifyForm(request.POST, line_keys=[r["line_key"] for r in queue], names=names)
        if form.is_valid():
            chosen = form.cleaned_data["lines"]
            category = form.cleaned_data["category"]
            rule = form.cleaned_data.get("make_rule") or RULE_NONE
            suppliers = {r["supplier_orgnr"] for r in queue if r["line_key"] in chosen}
            if rule == RULE_SUPPLIER and (len(suppliers) != 1 or not next(iter(suppliers))):
                form.add_error("make_rule", _("A supplier rule needs lines from one and the same supplier."))
            else:
                try:
                    count = do_override_line_categories(organisation=org, line_keys=chosen, category_code=category,
                                                        actor=request.user)
                    if rule == RULE_SUPPLIER:
                        do_add_classification_rule(kind="supplier", value=next(iter(suppliers)),
                                                   category_code=category, organisation=org, actor=request.user)
                    elif rule == RULE_KEYWORD:
                        do_add_classification_rule(kind="keyword", value=form.cleaned_data["keyword"],
                                                   category_code=category, organisation=org, actor=request.user)
                except InvalidInput as exc:
                    form.add_error(None, error_text(exc))
                else:
                    messages.success(request, ngettext(
                        "%(count)s line moved to %(category)s. The change counts from the next computation and "
                        "teaches the text model at its next training.",
                        "%(count)s lines moved to %(category)s. The change counts from the next computation and "
                        "teaches the text model at its next training.", count) % {
                        "count": count, "category": names.get(category, category)})
                    return redirect("review", orgnr=org.orgnr)
        status = 400
    else:
        form = ReclassifyForm(line_keys=[r["line_key"] for r in queue], names=names)
    context = {"org": org, "rows": [_row_view(org.orgnr, r, names) for r in queue], "computed": computed,
               "may_change": may_change, "form": form}
    return render(request, "web/review.html", context, status=status)


@login_required
def line(request, orgnr, line_key):
    org = _organisation(request, orgnr)
    try:
        row = line_selectors.explain_line(scope_for(request.user), org=org.orgnr, line_key=line_key)
    except (LookupError, OutsideScope):  # NoResults is a LookupError too
        raise Http404
    names = _category_names()
    category = row.get("category")
    pk = factor_pk(row.get("factor_ref"))
    confidence = row.get("classification_confidence")
    view = {
        **_row_view(org.orgnr, row, names),
        "category_code": category or "",
        "rule_code": row.get("classification_rule") or "",
        "confidence": formatting.percent(confidence * 100, 0) if confidence is not None else "–",
        "method": str(METHOD_LABELS.get(row.get("method"), _("No factor"))),
        "factor_ref": row.get("factor_ref") or "",
        "factor_why": str(FACTOR_BASIS_LABELS.get(row.get("factor_basis"), "")),
        "factor_category": names.get(row.get("factor_category"), row.get("factor_category") or ""),
        "factor_href": reverse("factor", args=[pk]) if pk else "",
        "factor_value": formatting.number(row.get("factor_value"), 6) if row.get("factor_value") is not None else "–",
        "deflator": formatting.number(row.get("deflator"), 4) if row.get("deflator") is not None else "–",
        "kg_low": formatting.number(row.get("kg_low"), 1), "kg_high": formatting.number(row.get("kg_high"), 1),
        "kg": formatting.number(row.get("kg_co2e"), 1),
        "quality": row.get("quality") or "–", "year": row.get("year"), "month": row.get("month"),
        "unit": row.get("unit") or "–", "art": row.get("art") or "–", "source": row.get("source"),
        "exclusion": row.get("exclusion") or "", "invoice_no": row.get("invoice_no") or "",
        "quantity": (f"{formatting.number(row['quantity'], 2)} {row.get('quantity_unit') or ''}".strip()
                     if row.get("quantity") is not None else ""),
    }
    return render(request, "web/line_explanation.html",
                  {"org": org, "line": view, "may_change": can_classify(request.user, org.orgnr)})
