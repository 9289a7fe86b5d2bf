"""Derive the factor set `dfo-klimaintensiteter` (role spend-default).

Input (kept in the repository, byte for byte as published):
  klimainnkjop/data/raw/dfo-2026/factors.csv
    Sea-Breeze-Consulting/klimaintensiteter-norge @ c1573658146ee4723f9bb6a0ea20c6b25e49b581,
    data/public/dfo/2026/factors.csv (CC BY 4.0)
Bridges (hand-made, reviewed):
  klimainnkjop/data/mappings/kostra_art_to_dfo.csv   KOSTRA art -> DFØ spend factor id
  klimainnkjop/data/mappings/category_to_dfo.csv     finer taxonomy categories with a specific DFØ account
  klimainnkjop/data/art_categories.csv               KOSTRA art -> category

Method: one spend row per category of art_categories.csv; its value is the DFØ factor of the arts of
that category (all arts of one category must bridge to the same DFØ factor, else the script fails).
Then one row per category of category_to_dfo.csv (categories without a KOSTRA art of their own, e.g.
invoice-level IT equipment). Values are taken unchanged: kg CO2e per NOK in 2026 prices (the source
CPI-adjusted DFØ's 2022 factors to 2026M08, interim), purchaser price, quality 4, ±50 %.
The DFØ table's activity rows (electricity, district heating, fuels, flights, hotel) are NOT in this
set: electricity and district heating go to `desnz-2025-activity` (Norwegian values from this same
raw file), fuels, flights and hotels come from DESNZ 2025 with documented scopes.

Usage: python scripts/derive_dfo_klimaintensiteter.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _factorset as fs  # noqa: E402

NAME = "dfo-klimaintensiteter"
RAW_FILE = fs.RAW / "dfo-2026" / "factors.csv"
META = {
    "name": NAME,
    "version": "2026.1",
    "publisher": "DFØ / Sea Breeze Electrical Consulting AS",
    "licence": "CC BY 4.0",
    "attribution": "Klimaintensiteter Norge, Sea Breeze Electrical Consulting AS, based on emission factors published by DFØ",
    "gwp_basis": "AR5 GWP100",
    "description": (
        "Norwegian public-sector spend factors (DFØ 2022 factors, CPI-adjusted to 2026M08 by the source, "
        "kg CO2e per NOK, purchaser price) bridged to KOSTRA art codes and taxonomy categories, "
        "data/public/dfo/2026/factors.csv @ c1573658, derived by scripts/derive_dfo_klimaintensiteter.py"
    ),
    "role": "spend-default",
}


def dfo_spend() -> dict[str, dict]:
    rows = fs.read_csv(RAW_FILE)
    return {r["factor_id"]: r for r in rows if r["factor_type"] == "spend"}


def build_rows() -> list[dict]:
    spend = dfo_spend()
    bridge = {r["kostra_art"]: r for r in fs.read_csv(fs.MAPPINGS / "kostra_art_to_dfo.csv")}
    per_category: dict[str, list[str]] = {}
    for r in fs.read_csv(fs.DATA / "art_categories.csv"):
        b = bridge.get(r["art"])
        if b is None or not b["dfo_factor_id"]:
            raise ValueError(f"art {r['art']} has no DFØ factor in kostra_art_to_dfo.csv")
        per_category.setdefault(r["category"], []).append(r["art"])
    chosen: dict[str, tuple[str, str]] = {}
    for category, arts in per_category.items():
        ids = {bridge[a]["dfo_factor_id"] for a in arts}
        if len(ids) != 1:
            raise ValueError(f"{category}: arts {arts} bridge to different DFØ factors {sorted(ids)}")
        chosen[category] = (ids.pop(), "KOSTRA art " + ", ".join(sorted(arts)) + ": " + bridge[sorted(arts)[0]]["note"])
    for r in fs.read_csv(fs.MAPPINGS / "category_to_dfo.csv"):
        if r["category"] in chosen:
            raise ValueError(f"{r['category']} is already covered through a KOSTRA art")
        chosen[r["category"]] = (r["dfo_factor_id"], "invoice-level category: " + r["note"])
    out = []
    for category in sorted(chosen):
        fid, note = chosen[category]
        src = spend[fid]
        out.append(fs.row(
            category, "spend", "NOK", src["factor_value"], quality=4, region="NO", price_year=2026,
            source_ref=f"DFØ {fid} ({src['kontonavn_ns_4102']})",
            note=f"{note} (price level {src['price_year']})",
        ))
    return out


def main(out=None) -> Path:
    return fs.write(NAME, META, build_rows(), out)


if __name__ == "__main__":
    sys.exit(fs.run(NAME, main))
