"""Shared helpers of the factor-set derivation scripts (standard library only).

Every `scripts/derive_<name>.py` builds its rows from raw files under
`klimainnkjop/data/raw/` and writes `klimainnkjop/data/factor_sets/<name>.csv` in the format of
`docs/factor-set-template.md`. The output is deterministic: the same raw files give the same bytes.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "klimainnkjop" / "data"
RAW = DATA / "raw"
MAPPINGS = DATA / "mappings"
FACTOR_SETS = DATA / "factor_sets"

COLUMNS = [
    "key", "basis", "unit", "price_year", "price_type", "value", "low", "high", "region",
    "valid_from", "valid_to", "quality", "source_ref", "note",
]
META_ORDER = ["name", "version", "publisher", "licence", "attribution", "gwp_basis", "description", "role"]
# template default uncertainty by data quality: ±20 % (1-2), ±30 % (3), ±50 % (4), ±70 % (5)
SPREAD = {1: 0.2, 2: 0.2, 3: 0.3, 4: 0.5, 5: 0.7}
ACTIVITY_UNITS = {"kg", "tonne", "litre", "kWh", "MWh", "km", "tonne_km", "passenger_km", "m2", "m3", "night", "piece"}


def read_csv(path: Path, delimiter: str = ";") -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def category_codes() -> set[str]:
    """Codes of the taxonomy plus the proposed ones."""
    codes = {r["code"] for r in read_csv(DATA / "categories.csv")}
    proposed = MAPPINGS / "categories_proposed.csv"
    if proposed.exists():
        codes |= {r["code"] for r in read_csv(proposed)}
    return codes


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def row(key, basis, unit, value, *, quality, region, source_ref, note="", price_year=None,
        price_type=None, valid_from=None, valid_to=None) -> dict:
    value = float(value)
    spread = SPREAD[quality]
    return {
        "key": key, "basis": basis, "unit": unit, "price_year": price_year,
        "price_type": price_type if price_type or basis != "spend" else "purchaser",
        "value": value, "low": value * (1 - spread), "high": value * (1 + spread), "region": region,
        "valid_from": valid_from, "valid_to": valid_to, "quality": quality,
        "source_ref": source_ref, "note": note,
    }


def _clean(text: str, what: str, forbidden: str = ";\n\r") -> str:
    if any(c in text for c in forbidden) or text != text.strip():
        raise ValueError(f"{what} must not contain ';', line breaks or edge spaces: {text!r}")
    return text


def render(meta: dict, rows: list[dict]) -> str:
    missing = [k for k in META_ORDER if k not in meta]
    if missing:
        raise ValueError(f"metadata missing: {missing}")
    codes = category_codes()
    lines = [f"# {k}: {_clean(str(meta[k]), k)}" for k in META_ORDER]
    lines.append(";".join(COLUMNS))
    for r in rows:
        if r["key"] not in codes:
            raise ValueError(f"unknown category {r['key']}")
        if not r["value"] > 0 or not r["low"] <= r["value"] <= r["high"]:
            raise ValueError(f"bad value range in {r}")
        if r["basis"] == "activity" and r["unit"] not in ACTIVITY_UNITS:
            raise ValueError(f"bad activity unit in {r}")
        lines.append(";".join(_clean(fmt(r[c]), c) for c in COLUMNS))
    return "\n".join(lines) + "\n"


def write(name: str, meta: dict, rows: list[dict], out=None) -> Path:
    out = Path(out) if out else FACTOR_SETS / f"{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(render(meta, rows))
    return out


def longest_prefix(mapping: list[tuple[str, str]], code: str) -> str | None:
    """Category of the longest mapping prefix of `code` (None when no prefix matches)."""
    best = None
    for prefix, category in mapping:
        if code.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, category)
    return best[1] if best else None


def load_mapping(path: Path, scheme: str) -> list[tuple[str, str]]:
    rows = [r for r in read_csv(path) if r["scheme"] == scheme]
    seen = set()
    for r in rows:
        if r["code"] in seen:
            raise ValueError(f"{path.name}: duplicate code {r['code']}")
        seen.add(r["code"])
    return [(r["code"], r["category"]) for r in rows]


def run(name: str, main, argv=None) -> int:
    """`python scripts/derive_x.py` writes the shipped file; `--check` exits 1 if it differs."""
    argv = sys.argv[1:] if argv is None else argv
    shipped = FACTOR_SETS / f"{name}.csv"
    if "--check" in argv:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            fresh = main(out=Path(tmp) / f"{name}.csv")
            same = shipped.exists() and fresh.read_bytes() == shipped.read_bytes()
        print(f"{shipped}: {'up to date' if same else 'DIFFERS from its derivation'}")
        return 0 if same else 1
    print(main())
    return 0
