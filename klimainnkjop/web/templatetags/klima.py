"""Number formatting for the pages: grouped thousands and the active language's decimal mark.

In bokmål that is "12 300,5" (non-breaking space, decimal comma); in English "12,300.5".
"""
from __future__ import annotations

from django import template

from klimainnkjop.web import formatting, labels, reasons

register = template.Library()


@register.filter
def tonnes(kg_or_tonnes, decimals: int = 1) -> str:
    """Format a number of tonnes (already divided by 1000)."""
    return formatting.number(kg_or_tonnes, decimals)


@register.filter
def nok(value) -> str:
    """Whole kroner, grouped."""
    return formatting.number(value, 0)


@register.filter
def percent(value) -> str:
    return formatting.percent(value)


@register.filter
def integer(value) -> str:
    return formatting.number(value, 0)


# --- codes by their labels (web/labels.py, issue 18) ---------------------------------------------------------

@register.filter
def source_label(code) -> str:
    return labels.source_label(code or "")


@register.filter
def status_label(code) -> str:
    return labels.status_label(code or "")


@register.filter
def case_step_label(code) -> str:
    return labels.case_step_label(code or "")


@register.filter
def batch_name(file_name) -> str:
    """An import's file name; the name an import of several e-invoices gets ("34 documents: D2026… …") in words."""
    return labels.batch_name(file_name or "")


@register.filter
def price_type_label(code) -> str:
    return labels.price_type_label(code or "")


@register.filter
def set_description(description) -> str:
    return labels.factor_set_description(description or "")


@register.filter
def reason(text) -> str:
    """A refused row's reason in the page's language (web/reasons.py)."""
    return reasons.translated_reason(str(text or ""))


@register.filter
def row_error(error) -> str:
    """A refused row (a RowError or an upload's stored dict): file, row, column and reason in the page's language."""
    return reasons.row_error_text(error)
