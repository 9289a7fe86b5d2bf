"""Physical units: names used in factor sets and on invoice lines (incl. UN/ECE Rec 20 codes), via pint."""
from __future__ import annotations

from functools import lru_cache

import pint

# Canonical unit names of factor sets -> pint expressions.
CANONICAL = {
    "kg": "kilogram", "tonne": "metric_ton", "g": "gram", "litre": "liter", "m3": "meter**3",
    "kWh": "kilowatt_hour", "MWh": "megawatt_hour", "GJ": "gigajoule", "km": "kilometer",
    "tonne_km": "metric_ton * kilometer", "passenger_km": "passenger * kilometer", "m2": "meter**2",
    "night": "night", "piece": "piece", "package": "package",
}
# Names seen on invoice lines and in ledgers (UN/ECE Recommendation 20 codes and common spellings).
ALIASES = {
    "KGM": "kg", "TNE": "tonne", "GRM": "g", "LTR": "litre", "MTQ": "m3", "KWH": "kWh", "MWH": "MWh",
    "KMT": "km", "MTK": "m2", "H87": "piece", "C62": "piece", "EA": "piece", "NAR": "piece", "PCE": "piece",
    "TKM": "tonne_km", "DAY": "night",
    "kilo": "kg", "kilogram": "kg", "tonn": "tonne", "t": "tonne", "l": "litre", "liter": "litre", "L": "litre",
    "kwh": "kWh", "mwh": "MWh", "stk": "piece", "stk.": "piece", "pkm": "passenger_km", "tkm": "tonne_km",
    "m²": "m2", "m³": "m3", "natt": "night", "døgn": "night", "dl": "dl", "ml": "ml", "hg": "hg",
    "ton": "tonne", "stykk": "piece",
    # Packages of a size the line does not say (Rec 20 PK pack, PA packet, BX box, CT carton, CS case, BO bottle,
    # RO roll, SET; Norwegian pakke, kartong, kasse, eske, boks, flaske, rull, sett). Their own unit, so no
    # activity factor applies and the spend factor does -- and never pint's *peck* for "pk" or *pint* for "pt".
    "PK": "package", "PA": "package", "BX": "package", "CT": "package", "CS": "package", "BO": "package",
    "RO": "package", "SET": "package", "pk.": "package", "pakke": "package", "pakn": "package",
    "pakning": "package", "kartong": "package", "kasse": "package", "ks": "package", "eske": "package",
    "boks": "package", "fl": "package", "flaske": "package", "rull": "package", "rl": "package",
    "sett": "package", "pt": "package", "pall": "package",
}
# Case does not matter for the aliases ("Liter", "KG", "Kwh"), except where pint's names differ by case only.
_FOLDED = {name.lower(): target for name, target in {**{c: c for c in CANONICAL}, **ALIASES}.items()}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry()
    ureg.define("passenger = [passenger]")
    ureg.define("night = [night]")
    ureg.define("piece = [piece]")
    ureg.define("package = [package]")
    return ureg


def canonical(name: str) -> str | None:
    """The canonical name for a unit string, or None if unknown."""
    name = name.strip()
    if len(name) > 40:  # no unit is written longer; pint's parser takes seconds on a few thousand characters
        return None
    if name in CANONICAL:
        return name
    alias = ALIASES.get(name) or _FOLDED.get(name.lower())  # no two names differ by case only
    if alias:
        return alias
    try:
        registry().Unit(name)
        return name
    except Exception:  # noqa: BLE001 - pint raises several error types for unknown names
        return None


def factor(from_unit: str, to_unit: str) -> float | None:
    """Multiplier that turns a quantity in from_unit into to_unit; None if incompatible or unknown."""
    a, b = canonical(from_unit), canonical(to_unit)
    if a is None or b is None:
        return None
    ureg = registry()
    try:
        return float(ureg.Quantity(1, CANONICAL.get(a, a)).to(CANONICAL.get(b, b)).magnitude)
    except pint.errors.DimensionalityError:
        return None


def conversion_rows(line_units: set[str], factor_units: set[str]) -> list[tuple[str, str, float]]:
    """(line unit, factor unit, multiplier) for every convertible pair: a table the engine joins."""
    rows = []
    for lu in sorted(line_units):
        for fu in sorted(factor_units):
            m = factor(lu, fu)
            if m is not None:
                rows.append((lu, fu, m))
    return rows


def normalize(quantity: float, unit: str) -> tuple[float, str] | None:
    """A quantity in any known unit, expressed in a canonical unit of the same dimension ('5 hl' → 500 litre)."""
    name = canonical(unit)
    if name is None:
        return None
    if name in CANONICAL:
        return quantity, name
    for target in CANONICAL:
        m = factor(name, target)
        if m is not None:
            return quantity * m, target
    return None
