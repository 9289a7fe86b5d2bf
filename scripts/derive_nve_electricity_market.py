"""Derive the factor set `nve-electricity-market` (role `market`: the market-based figure reported beside the
account, never in its total): the market-based figure for electricity in Norway, NVE's supplier declaration (varedeklarasjon for
strømleverandører, the residual mix after guarantees of origin), per year where a published figure is in the raw file.

Input (kept in the repository, byte for byte):
  klimainnkjop/data/raw/nve-electricity/nve-excerpts.txt   verbatim sentences with the figures and their pages
Method: one activity row per year for `energy.electricity` in kWh, valid for that year only, value = the
declaration's g CO2/kWh / 1000, read from the sentence quoted below (which must be in the raw file verbatim). The
declaration gives CO2 only (not CO2e). Quality 3: the 2015 figure is NVE's own page, the 2016 and 2020 figures
are suppliers' pages quoting NVE. Years without a published figure in the raw file have no row: a market-based
figure is not estimated for them; a year takes the nearest earlier published year's figure (engine.runner.
expand_nearest_earlier). The role `market` makes `compute` carry a market-based kg per line (`kg_co2e_market`, engine.
pipeline MARKET-BASED) beside the account's location-based kg (nve-electricity-location); the method page shows both
per year. Version 2024.2: 2024.1 had no role (the same rows).

Usage: python scripts/derive_nve_electricity_market.py [--check]
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _factorset as fs  # noqa: E402

NAME = "nve-electricity-market"
RAW_FILE = fs.RAW / "nve-electricity" / "nve-excerpts.txt"
META = {
    "name": NAME,
    "version": "2024.2",
    "publisher": "NVE (Norges vassdrags- og energidirektorat)",
    "licence": "facts, cite NVE",
    "attribution": "NVE, varedeklarasjon for strømleverandører (market-based residual mix, CO2 per kWh sold "
                   "without guarantees of origin)",
    "gwp_basis": "CO2 only",
    "description": "Norway's market-based (residual mix) emission factor for electricity, the years with a "
                   "published figure (2015, 2016, 2020), from raw/nve-electricity/nve-excerpts.txt, derived by "
                   "scripts/derive_nve_electricity_market.py, the market-based figure reported beside the "
                   "location-based account, never in its total",
    "role": "market",
}
# year → (the sentence carrying the figure, verbatim in the raw file; the pattern that reads g CO2/kWh from it)
FIGURES = {
    2015: ("The estimated emissions from the electricity disclosure is CO2 509 g/kWh.", r"CO2 (\d+) g/kWh"),
    2016: ("Det er beregnet et CO2-utslipp på 530 g/kWh* knyttet til varedeklarasjonen for elektrisitet",
           r"på (\d+) g/kWh"),
    2020: ("CO2-utslipp: 402 g/kWh", r"utslipp: (\d+) g/kWh"),
}
PAGES = {2015: "B4, NVE", 2016: "B2, Entelios quoting NVE", 2020: "B1, Wattn quoting NVE"}


def build_rows() -> list[dict]:
    text = RAW_FILE.read_text(encoding="utf-8")
    rows = []
    for year, (sentence, pattern) in sorted(FIGURES.items()):
        if sentence not in text:
            raise ValueError(f"{RAW_FILE.name}: the sentence for {year} is not in the raw file: {sentence!r}")
        grams = int(re.search(pattern, sentence).group(1))
        rows.append(fs.row("energy.electricity", "activity", "kWh", grams / 1000, quality=3, region="NO",
                           valid_from=year, valid_to=year,
                           source_ref=f"NVE varedeklarasjon {year}: {grams} g CO2/kWh (nve-excerpts.txt {PAGES[year]})",
                           note="market-based, residual mix of electricity sold in Norway without guarantees of "
                                "origin"))
    return rows


def main(out=None) -> Path:
    return fs.write(NAME, META, build_rows(), out)


if __name__ == "__main__":
    sys.exit(fs.run(NAME, main))
