"""Derive the factor set `desnz-2025-activity` (role activity): physical-unit factors.

Inputs (kept in the repository, byte for byte as published):
  klimainnkjop/data/raw/desnz-ghg-conversion-factors-2025/ghg-conversion-factors-2025-flat-format.csv
    UK DESNZ greenhouse gas reporting: conversion factors 2025, flat file (OGL v3.0, AR5 GWP100)
  klimainnkjop/data/raw/dfo-2026/factors.csv
    Norwegian electricity (location-based) and district heating (CC BY 4.0)

Method (each row is listed in SELECTION with the DESNZ ids it adds up):
- Scope: the value is the sum of the direct factor (combustion / operation) and its well-to-tank
  (WTT) factor wherever the flat file has both, so that a litre, kWh or km carries its upstream fuel
  chain as a purchase does in a spend factor. Only rows with GHG/Unit `kg CO2e` are used.
  Materials (primary material production, cradle to gate), waste disposal and hotel stays have one
  factor only.
- Fuels: diesel and petrol "average biofuel blend" (pump fuel; Norwegian pump fuel carries at least
  as much bio-component, so this is still conservative); heating oil = "Gas oil" (light heating oil;
  heating kerosene would be "Burning oil"); natural gas per kWh gross CV; HVO = "Biodiesel HVO"
  (biogenic CO2 is outside DESNZ scopes, so only CH4/N2O plus WTT); bioenergy = wood pellets per
  kWh; biogas per kWh.
- Air travel: average passenger, WITH radiative forcing (DESNZ recommends it to capture the full
  climate impact of flights) + WTT. transport.air carries the UK domestic factor (short sectors,
  comparable to Norwegian domestic flights); short- and long-haul go to proposed sub-categories.
- Freight: HGV all diesel, all HGVs, average laden, per tonne_km; van: diesel van up to 3.5 t per
  tonne_km (proposed sub-category transport.freight.van).
- Rail: UK national rail per passenger_km (overstates electric Norwegian rail); car: average car,
  unknown fuel, per km; hotel: UK room night (region GB; DESNZ has no Norwegian hotel factor).
- Materials: construction concrete, metals (steel and metals), wood, asphalt, average construction
  (goods.building_materials), HDPE incl. forming for plastic pipes; primary production, per tonne.
- Waste: commercial and industrial waste to incineration with energy recovery (waste.treatment;
  DESNZ allocates combustion emissions to the recovered energy, so the factor covers collection
  and transport only) and to landfill (proposed waste.treatment.landfill), per tonne.
- Electricity is NOT taken from DESNZ (UK grid): energy.electricity comes from the DFØ table,
  location-based (NO) only (one factor per key and unit; market-based named in its note); district heating
  likewise from the DFØ table. These rows keep the source text of the DFØ table and region NO.
All rows quality 3 (±30 %). Row order: as listed in SELECTION (sorted by key, main row first).

Usage: python scripts/derive_desnz_2025_activity.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _factorset as fs  # noqa: E402

NAME = "desnz-2025-activity"
DESNZ_FILE = fs.RAW / "desnz-ghg-conversion-factors-2025" / "ghg-conversion-factors-2025-flat-format.csv"
DFO_FILE = fs.RAW / "dfo-2026" / "factors.csv"
UNITS = {"litres": "litre", "kWh (Gross CV)": "kWh", "kWh": "kWh", "passenger.km": "passenger_km",
         "tonne.km": "tonne_km", "km": "km", "Room per night": "night", "tonnes": "tonne"}

# key -> (DESNZ ids to add up, note)
SELECTION = [
    ("energy.bio", ["2_104_1045_5_1", "12_901_1045_5_1"], "wood pellets per kWh, combustion (CH4, N2O) + WTT"),
    ("energy.fuel.biogas", ["2_105_1047_5_1", "12_902_1047_5_1"], "biogas per kWh, combustion (CH4, N2O) + WTT"),
    ("energy.fuel.diesel", ["1_101_1011_8_1", "11_101_1011_8_1"], "diesel (average biofuel blend), combustion + WTT (100% mineral diesel would be 2.66155 + 0.62409)"),
    ("energy.fuel.hvo", ["2_103_1036_8_1", "12_900_1036_8_1"], "Biodiesel HVO, combustion (CH4, N2O, biogenic CO2 outside scopes) + WTT"),
    ("energy.fuel.petrol", ["1_101_1017_8_1", "11_101_1017_8_1"], "petrol (average biofuel blend), combustion + WTT"),
    ("energy.gas", ["1_100_1004_6_1", "11_100_1004_6_1"], "natural gas per kWh gross CV, combustion + WTT"),
    ("energy.heating_oil", ["1_101_1014_8_1", "11_101_1014_8_1"], "gas oil (light heating oil) per litre, combustion + WTT"),
    ("goods.building_materials", ["19_500_5004_15_1"], "average construction material, primary production per tonne"),
    ("goods.building_materials.asphalt", ["19_500_5012_15_1"], "asphalt, primary production per tonne"),
    ("goods.building_materials.concrete", ["19_500_5020_15_1"], "concrete, primary production per tonne"),
    ("goods.building_materials.plastic_pipes", ["19_505_5132_15_1"], "HDPE incl. forming, primary production per tonne (proxy for PE/PP pipes)"),
    ("goods.building_materials.steel", ["19_500_5028_15_1"], "construction metals, primary production per tonne"),
    ("goods.building_materials.wood", ["19_500_5048_15_1"], "construction wood, primary production per tonne"),
    ("transport.air", ["21_316_3160_11_1", "22_912_3160_11_1"], "domestic flight, average passenger, with radiative forcing + WTT"),
    ("transport.air.long_haul", ["21_316_3168_11_1", "22_912_3168_11_1"], "long-haul flight, average passenger, with radiative forcing + WTT"),
    ("transport.air.short_haul", ["21_316_3162_11_1", "22_912_3162_11_1"], "short-haul flight, average passenger, with radiative forcing + WTT"),
    ("transport.car", ["25_301_3074_4_1", "26_904_3074_4_1"], "average car, unknown fuel, per km + WTT"),
    ("transport.freight", ["27_304_3140_14_1", "28_907_3140_14_1"], "HGV all diesel, average laden, per tonne_km + WTT"),
    ("transport.freight.van", ["27_303_3102_14_1", "28_906_3102_14_1"], "diesel van up to 3.5 t, per tonne_km + WTT"),
    ("transport.hotel", ["29_600_4000_13_1"], "UK hotel, room night (no Norwegian hotel factor in DESNZ)"),
    ("transport.rail", ["25_315_3147_11_1", "26_911_3147_11_1"], "UK national rail per passenger_km + WTT (overstates electric Norwegian rail)"),
    ("waste.treatment", ["20_507_5311_15_1"], "commercial and industrial waste, incineration with energy recovery (collection and transport only: combustion is allocated to the energy recovered)"),
    ("waste.treatment.landfill", ["20_507_5313_15_1"], "commercial and industrial waste to landfill"),
]
# key -> DFØ activity factor id (Norwegian values)
DFO_SELECTION = [
    ("energy.district_heating", "activity_6341_fjernvarme", "district heating, Norway"),
    ("energy.electricity", "activity_6341_elektrisitet__lokasjonsbasert__no",
     "location-based, Norwegian grid (a set holds one factor per key and unit; the market-based figure, "
     "DFØ activity_6341_elektrisitet__markedsbasert 0.018 kg/kWh, belongs in a market-based set of its own)"),
]
META = {
    "name": NAME,
    "version": "2026.1",
    "publisher": "UK Department for Energy Security and Net Zero (DESNZ), Norwegian electricity and district heating: DFØ / Sea Breeze Electrical Consulting AS",
    "licence": "Open Government Licence v3.0, electricity and district heating rows CC BY 4.0",
    "attribution": (
        "Contains public sector information licensed under the Open Government Licence v3.0: UK Government "
        "GHG Conversion Factors for Company Reporting 2025 (DESNZ). Electricity and district heating: "
        "Klimaintensiteter Norge, Sea Breeze Electrical Consulting AS, based on emission factors published by DFØ"
    ),
    "gwp_basis": "AR5 GWP100",
    "description": (
        "Activity factors (kg CO2e per litre, kWh, km, passenger_km, tonne_km, night, tonne) from the DESNZ 2025 "
        "flat file: direct + well-to-tank (WTT) where both exist, air travel with radiative forcing, materials "
        "cradle to gate, waste disposal per DESNZ boundaries, Norwegian electricity (location-based) "
        "and district heating from the DFØ 2026 table, derived by scripts/derive_desnz_2025_activity.py"
    ),
    "role": "activity",
}


def build_rows() -> list[dict]:
    desnz = {r["ID"]: r for r in fs.read_csv(DESNZ_FILE, delimiter=",")}
    dfo = {r["factor_id"]: r for r in fs.read_csv(DFO_FILE)}
    rows = []
    for key, ids, note in SELECTION:
        picked = [desnz[i] for i in ids]
        for r in picked:
            if r["GHG/Unit"] != "kg CO2e" or not r["GHG Conversion Factor 2025"]:
                raise ValueError(f"{r['ID']} is not a kg CO2e total")
        units = {UNITS[r["UOM"]] for r in picked}
        if len(units) != 1:
            raise ValueError(f"{key}: mixed units {units}")
        value = sum(float(r["GHG Conversion Factor 2025"]) for r in picked)
        label = " / ".join(x for x in (picked[0]["Level 2"], picked[0]["Level 3"], picked[0]["Level 4"], picked[0]["Column Text"]) if x)
        rows.append(fs.row(key, "activity", units.pop(), value, quality=3, region="GB",
                           source_ref=f"DESNZ 2025 {' + '.join(ids)} ({label})", note=note))
    for key, fid, note in DFO_SELECTION:
        r = dfo[fid]
        unit = {"kgCO2e/kWh": "kWh"}[r["unit"]]
        rows.append(fs.row(key, "activity", unit, r["factor_value"], quality=3, region="NO",
                           source_ref=f"DFØ 2026 {fid} ({r['category']}, source: {r['source']})",
                           note=f"{note}; {r['method_version']}".replace(";", ",")))
    rows.sort(key=lambda r: r["key"])  # stable: keeps the main electricity row first
    return rows


def main(out=None) -> Path:
    return fs.write(NAME, META, build_rows(), out)


if __name__ == "__main__":
    sys.exit(fs.run(NAME, main))
