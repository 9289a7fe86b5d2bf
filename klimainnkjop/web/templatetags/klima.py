"""Number formatting for the pages: grouped thousands and the active language's decimal mark.

In bokmål that is "12 300,5" (non-breaking space, decimal comma); in English "12,300.5".
"""
from __future__ import annotations

from django import template

from klimainnkjop.web import formatting

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
