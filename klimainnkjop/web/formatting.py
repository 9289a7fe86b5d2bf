"""Formatting of numbers as shown in tables and on chart labels (the same function for both)."""
from __future__ import annotations

import functools
from decimal import Decimal

from django.utils import formats
from django.utils.dates import MONTHS
from django.utils.translation import get_language, gettext as _


@functools.lru_cache(maxsize=16)
def _separators(language: str) -> tuple[str, str, object]:
    return (formats.get_format("DECIMAL_SEPARATOR", language), formats.get_format("THOUSAND_SEPARATOR", language),
            formats.get_format("NUMBER_GROUPING", language))


def number(value, decimals: int = 1) -> str:
    """Django's localized number_format (grouped), written with Python's own formatting where the language groups
    by threes: a page shows hundreds of numbers, and number_format costs about ten times as much."""
    if value is None or value == "":
        return "–"
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # no "-0,0"
    decimal_separator, thousand_separator, grouping = _separators(get_language() or "")
    if grouping != 3:
        return formats.number_format(rounded, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    # from the float's shortest repr, as number_format does (not its binary value: 562949953421312.8 stays ,80)
    separators = {ord(","): thousand_separator, ord("."): decimal_separator}
    return f"{Decimal(repr(rounded)):,.{decimals}f}".translate(separators)


def percent(value, decimals: int = 1) -> str:
    if value is None:
        return "–"
    text = number(value, decimals)
    # Norwegian typesetting puts a (non-breaking) space before the percent sign.
    return f"{text}\u00a0%" if (get_language() or "nb").startswith(("nb", "no")) else f"{text}%"


def kpi_value(value, unit: str) -> str:
    """A KPI's value (or a target's level) in its unit's precision, the same wherever it is shown: per cent with
    one decimal, kg CO2e per krone with four, per inhabitant with three, tonnes with one."""
    if value is None:
        return "–"
    if unit == "%":
        return percent(value)
    if unit.startswith("kg CO2e/kr"):
        return number(value, 4)
    if "innb" in unit:
        return number(value, 3)
    return number(value, 1)


def months_so_far(through: int) -> str:
    """The months of a year under way, January to `through`, as a page names them ("januar–mars")."""
    return _("%(first)s–%(last)s") % {"first": MONTHS[1], "last": MONTHS[through]}


def year_so_far(label, through: int | None) -> str:
    """A year's label with the months it is compared by when a year under way sets them ("2025 (januar–mars)")."""
    return _("%(year)s (%(months)s)") % {"year": label, "months": months_so_far(through)} if through else str(label)
