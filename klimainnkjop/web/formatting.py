"""Formatting of numbers as shown in tables and on chart labels (the same function for both)."""
from __future__ import annotations

from django.utils import formats
from django.utils.translation import get_language


def number(value, decimals: int = 1) -> str:
    if value is None or value == "":
        return "–"
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # no "-0,0"
    return formats.number_format(rounded, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def percent(value, decimals: int = 1) -> str:
    if value is None:
        return "–"
    text = number(value, decimals)
    # Norwegian typesetting puts a (non-breaking) space before the percent sign.
    return f"{text}\u00a0%" if (get_language() or "nb").startswith(("nb", "no")) else f"{text}%"
