"""Electricity's two figures (issue 15 item 4): the names of the shipped sets and the typical price that turns
NOK into kWh, shared by the method page (selectors.factors.electricity_figures) and the market-based figure of the
account (services.compute → engine.pipeline MARKET-BASED)."""
from __future__ import annotations

ELECTRICITY = "energy.electricity"
LOCATION_SET, MARKET_SET = "nve-electricity-location", "nve-electricity-market"

# A typical price of electricity for a public body, to put the spend factor (kg per NOK) beside the activity factor
# (kg per kWh) and to estimate the kWh of a spend-based electricity line for its market-based figure: Statistics
# Norway, "Priser på kraft og nettleie uten avgifter, etter forbrukargruppe. Øre/kWh", 2018, Offentlig
# administrasjon og forsvar: 63,8 øre/kWh (power and grid rent, without taxes; data/SOURCES.md). Moved to another
# year with the CPI.
TYPICAL_PRICE = {"year": 2018, "nok_per_kwh": 0.638,
                 "source": "SSB, Priser på kraft og nettleie uten avgifter, etter forbrukargruppe (2018), offentlig "
                           "administrasjon og forsvar: 63,8 øre/kWh",
                 "url": "https://www.ssb.no/399860/priser-pa-kraft-og-nettleie-uten-avgifter-etter-forbrukargruppe."
                        "ore-kwh"}
