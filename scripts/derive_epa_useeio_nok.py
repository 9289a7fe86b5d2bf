"""Derive the factor set `epa-useeio-nok` (role spend-fallback): fine-grained US spend factors in NOK.

Inputs (kept in the repository, byte for byte as published):
  klimainnkjop/data/raw/epa-supply-chain-factors-v1.3/SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv
    US EPA Supply Chain GHG Emission Factors v1.3.0 (public domain), kg CO2e per 2022 USD, purchaser price
  klimainnkjop/data/raw/eurostat-classifications/NAICS2017_NACE.csv   NAICS 2017 -> NACE Rev. 2 (Eurostat)
  klimainnkjop/data/raw/rates/rates.csv                              Norges Bank USD->NOK 2022 (9.6245)
  klimainnkjop/data/mappings/nace_to_category.csv                    NACE prefix -> category (hand-made)

Method:
1. Factor per NAICS code: "Supply Chain Emission Factors with Margins" (purchaser price).
2. Each NAICS code is bridged to its NACE Rev. 2 classes; each NACE class to a category by the longest
   matching prefix in nace_to_category.csv (unmapped classes, e.g. utilities, trade, public
   administration, are left out on purpose).
3. A NAICS code has weight 1 in total, split equally over its NACE correspondences; the category
   factor is the mean of its NAICS factors weighted by those shares (so a NAICS code mapped only
   partly into a category counts partly). No US output or spend weights are used (the raw file has
   none): it is an unweighted mean over commodities in that sense.
4. kg CO2e per NOK (2022 prices) = kg CO2e per USD (2022) / 9.6245 NOK per USD. price_year 2022: the
   engine deflates spend to 2022 with the CPI; no CPI is applied here.
Rows: basis spend, unit NOK, price_year 2022, purchaser, region US, quality 5 (±70 %), sorted by key.

Usage: python scripts/derive_epa_useeio_nok.py [--check]
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _factorset as fs  # noqa: E402

NAME = "epa-useeio-nok"
EPA_FILE = fs.RAW / "epa-supply-chain-factors-v1.3" / "SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv"
BRIDGE_FILE = fs.RAW / "eurostat-classifications" / "NAICS2017_NACE.csv"
RATES_FILE = fs.RAW / "rates" / "rates.csv"
META = {
    "name": NAME,
    "version": "2026.1",
    "publisher": "US Environmental Protection Agency (factors), Eurostat (NAICS-NACE correspondence), conversion Klimainnkjøp",
    "licence": "Public domain (US government work), Eurostat correspondence reused with attribution",
    "attribution": (
        "US EPA, Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities v1.3.0 "
        "(DOI 10.23719/1531143), NAICS 2017 - NACE Rev. 2 correspondence: Eurostat"
    ),
    "gwp_basis": "AR6 GWP100",
    "description": (
        "US EEIO spend factors with margins (purchaser price) per NAICS 2017, bridged to NACE Rev. 2 and the "
        "category taxonomy (mean weighted by correspondence share), converted from kg CO2e per 2022 USD to "
        "kg CO2e per 2022 NOK at 9.6245 NOK/USD, non-Norwegian fallback for categories the default set lacks, "
        "derived by scripts/derive_epa_useeio_nok.py"
    ),
    "role": "spend-fallback",
}


def usd_rate() -> float:
    for r in fs.read_csv(RATES_FILE):
        if r["year"] == "2022" and r["currency"] == "USD":
            return float(r["nok_per_unit"])
    raise ValueError("no USD rate for 2022")


def epa_factors() -> dict[str, float]:
    rows = fs.read_csv(EPA_FILE, delimiter=",")
    return {r["2017 NAICS Code"]: float(r["Supply Chain Emission Factors with Margins"]) for r in rows}


def naics_to_nace() -> dict[str, list[str]]:
    with open(BRIDGE_FILE, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        out: dict[str, list[str]] = defaultdict(list)
        for rec in reader:
            out[rec[0]].append(rec[1])
    return out


def category_weights() -> dict[str, dict[str, float]]:
    """category -> {NAICS code: weight}"""
    mapping = fs.load_mapping(fs.MAPPINGS / "nace_to_category.csv", "nace")
    result: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for naics, naces in naics_to_nace().items():
        for nace in naces:
            category = fs.longest_prefix(mapping, nace)
            if category:
                result[category][naics] += 1 / len(naces)
    return result


def build_rows() -> list[dict]:
    factors = epa_factors()
    rate = usd_rate()
    mapping = fs.load_mapping(fs.MAPPINGS / "nace_to_category.csv", "nace")
    rows = []
    for category, weights in sorted(category_weights().items()):
        used = {n: w for n, w in weights.items() if n in factors}
        if not used:
            continue
        total = sum(used.values())
        per_usd = sum(factors[n] * w for n, w in sorted(used.items())) / total
        prefixes = sorted(code for code, cat in mapping if cat == category)
        rows.append(fs.row(
            category, "spend", "NOK", per_usd / rate, quality=5, region="US", price_year=2022,
            source_ref=f"EPA SEF v1.3 with margins, {len(used)} NAICS codes via NACE {' '.join(prefixes)}",
            note=f"non-Norwegian fallback; {per_usd!r} kg CO2e/USD 2022 / {rate!r} NOK/USD".replace(";", ","),
        ))
    return rows


def main(out=None) -> Path:
    return fs.write(NAME, META, build_rows(), out)


if __name__ == "__main__":
    sys.exit(fs.run(NAME, main))
