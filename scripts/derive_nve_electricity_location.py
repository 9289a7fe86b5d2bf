"""Derive the factor set `nve-electricity-location` (role activity): Norway's location-based emission factor for
electricity used, per year, as NVE publishes it (klimadeklarasjon for fysisk levert strøm).

Input (kept in the repository, byte for byte):
  klimainnkjop/data/raw/nve-electricity/nve-excerpts.txt   verbatim sentences with the figures and their pages
Method: one activity row per year for `energy.electricity` in kWh, valid for that year only, value = NVE's
g CO2e/kWh / 1000; each figure is read from the sentence quoted below, which must be in the raw file verbatim
(the script fails otherwise). Quality 2 (a national figure for the year, from the authority; the DESNZ set's
Norwegian row, a working override of 9 g, has quality 3, so NVE's figure is chosen for the years it covers).
The supplier declaration (residual mix, market-based) is not in this set: the product reports location-based
figures only (README, method page).

Usage: python scripts/derive_nve_electricity_location.py [--check]
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _factorset as fs  # noqa: E402

NAME = "nve-electricity-location"
RAW_FILE = fs.RAW / "nve-electricity" / "nve-excerpts.txt"
META = {
    "name": NAME,
    "version": "2024.1",
    "publisher": "NVE (Norges vassdrags- og energidirektorat)",
    "licence": "facts, cite NVE",
    "attribution": "NVE, klimadeklarasjon for fysisk levert strøm (location-based CO2e per kWh used in Norway)",
    "gwp_basis": "AR5 GWP100",
    "description": "Norway's location-based emission factor for electricity used, per year 2019-2023, from NVE's "
                   "published figures (raw/nve-electricity/nve-excerpts.txt), derived by "
                   "scripts/derive_nve_electricity_location.py",
    "role": "activity",
}
# year → (the sentence carrying the figure, verbatim in the raw file; the pattern that reads g CO2e/kWh from it)
FIGURES = {
    2019: ("Beregnet CO2-faktor for bruk av strøm i Norge i 2019, er 17 g CO2e/kWh.", r"er (\d+) g CO2e/kWh"),
    2020: ("Dette er en økning fra 2020 da klimagassutslippet var 8 g CO2e/kWh.", r"var (\d+) g CO2e/kWh"),
    2021: ("Det gjennomsnittlige klimagassutslippet knyttet til bruk av strøm i Norge var i 2021 11 gram "
           "CO2-ekvivalenter per kilowattime.", r"i 2021 (\d+) gram"),
    2022: ("Dette er en reduksjon fra 2022 da klimagassutslippet var 19 g CO2 e/kWh.", r"var (\d+) g CO2 e/kWh"),
    2023: ("I 2023 var det gjennomsnittlige klimagassutslippet knyttet til bruk av strøm i Norge 15 gram CO2 "
           "-ekvivalenter per kilowattime.", r"Norge (\d+) gram"),
}
PAGES = {2019: "A4", 2020: "A2", 2021: "A2", 2022: "A1", 2023: "A1"}


def build_rows() -> list[dict]:
    text = RAW_FILE.read_text(encoding="utf-8")
    rows = []
    for year, (sentence, pattern) in sorted(FIGURES.items()):
        if sentence not in text:
            raise ValueError(f"{RAW_FILE.name}: the sentence for {year} is not in the raw file: {sentence!r}")
        grams = int(re.search(pattern, sentence).group(1))
        rows.append(fs.row("energy.electricity", "activity", "kWh", grams / 1000, quality=2, region="NO",
                           valid_from=year, valid_to=year,
                           source_ref=f"NVE {year}: {grams} g CO2e/kWh (nve-excerpts.txt {PAGES[year]})",
                           note="location-based, electricity used in Norway (physically delivered)"))
    return rows


def main(out=None) -> Path:
    return fs.write(NAME, META, build_rows(), out)


if __name__ == "__main__":
    sys.exit(fs.run(NAME, main))
