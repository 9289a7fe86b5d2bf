"""The demo region's agreements: about 40 framework and single agreements of the Kongsvinger region, with the
demo's suppliers and organisations, loaded through services/agreements.py.

Dates are fixed (the demo's ledgers run from 2021): several agreements ended before 2026, a dozen end or reach an
option date from December 2026 to 2028, the rest later. Most joint agreements are managed by Kongsvinger
kommune for the seven municipalities (the region's procurement cooperation); the IKS have agreements of their
own.
"""
from __future__ import annotations

import datetime as dt

from klimainnkjop.demo import region as R
from klimainnkjop.core.actors import ActorLike

KOMMUNER = [o.key for o in R.ORGS if o.kind == "kommune"]
ALL = [o.key for o in R.ORGS]
D = dt.date

# number, name, supplier keys, categories, participant keys, owner key, start, end, options used, options left,
# estimated yearly value in million NOK
AGREEMENTS: list[tuple] = [
    ("2021-101", "Matvarer til storhusholdning", ["food"], ["goods.food"], KOMMUNER, "kongsvinger",
     D(2021, 9, 1), D(2025, 8, 31), 0, 0, 38.0),
    ("2025-101", "Matvarer til storhusholdning", ["food"], ["goods.food"], KOMMUNER, "kongsvinger",
     D(2025, 9, 1), D(2027, 8, 31), 0, 2, 41.0),
    ("2022-102", "Frukt og grønt", ["food2"], ["goods.food.vegetables", "goods.food.fruit"], KOMMUNER, "kongsvinger",
     D(2022, 1, 1), D(2026, 12, 31), 2, 0, 7.5),
    ("2022-103", "Meieriprodukter", ["dairy"], ["goods.food.dairy"], KOMMUNER, "kongsvinger",
     D(2022, 3, 1), D(2027, 2, 28), 1, 1, 5.8),
    ("2023-104", "Brød og bakervarer", ["bakery"], ["goods.food.grain"], KOMMUNER, "kongsvinger",
     D(2023, 5, 1), D(2027, 4, 30), 0, 0, 3.9),
    ("2021-201", "Strøm (kraftleveranse)", ["power"], ["energy.electricity"], ALL, "kongsvinger",
     D(2021, 1, 1), D(2026, 12, 31), 1, 1, 62.0),
    ("2020-202", "Fjernvarme Kongsvinger sentrum", ["heat"], ["energy.district_heating"], ["kongsvinger"],
     "kongsvinger", D(2020, 1, 1), D(2029, 12, 31), 0, 0, 9.0),
    ("2023-203", "Drivstoff og fyringsolje", ["fuel"], ["energy.fuel", "energy.heating_oil"], ALL, "kongsvinger",
     D(2023, 4, 1), D(2027, 3, 31), 0, 0, 24.0),
    ("2022-204", "Drivstoffkort (Solør)", ["fuel2"], ["energy.fuel"], ["grue", "valer", "asnes", "solor"], "asnes",
     D(2022, 6, 1), D(2026, 12, 31), 1, 1, 6.2),
    ("2021-301", "Rammeavtale byggearbeider", ["build", "build2"], ["construction.works"], KOMMUNER, "kongsvinger",
     D(2021, 6, 1), D(2025, 5, 31), 0, 0, 120.0),
    ("2025-301", "Rammeavtale byggearbeider", ["build", "build2"], ["construction.works"], KOMMUNER, "kongsvinger",
     D(2025, 6, 1), D(2027, 5, 31), 0, 2, 135.0),
    ("2022-302", "Grunnarbeid og graving", ["dig"], ["construction.civil"], [*KOMMUNER, "givas"], "kongsvinger",
     D(2022, 2, 1), D(2027, 1, 31), 1, 0, 28.0),
    ("2023-303", "Rørleggertjenester", ["pipe"], ["construction.works", "services.maintenance"],
     [*KOMMUNER, "givas"], "kongsvinger", D(2023, 1, 1), D(2026, 12, 31), 0, 1, 14.0),
    ("2023-304", "Elektrikertjenester", ["elec"], ["construction.works", "services.maintenance"], KOMMUNER,
     "kongsvinger", D(2023, 1, 1), D(2026, 12, 31), 0, 1, 12.0),
    ("2022-305", "Trelast og byggevarer", ["timber"], ["goods.building_materials.wood", "goods.building_materials"],
     KOMMUNER, "kongsvinger", D(2022, 9, 1), D(2026, 8, 31), 1, 0, 8.5),
    ("2024-306", "Heis og ventilasjon, service", ["lift"], ["services.maintenance"], KOMMUNER, "kongsvinger",
     D(2024, 1, 1), D(2027, 12, 31), 0, 2, 6.0),
    ("2022-401", "IKT-drift og brukerstøtte", ["it"], ["services.it"], ALL, "kongsvinger",
     D(2022, 1, 1), D(2027, 12, 31), 0, 2, 22.0),
    ("2021-402", "Telefoni og datakommunikasjon", ["tele"], ["services.telecom"], ALL, "kongsvinger",
     D(2021, 7, 1), D(2026, 6, 30), 1, 0, 11.0),
    ("2026-402", "Telefoni og datakommunikasjon", ["tele"], ["services.telecom"], ALL, "kongsvinger",
     D(2026, 7, 1), D(2028, 6, 30), 0, 2, 10.5),
    ("2024-403", "PC-er, skjermer og nettbrett", ["pc"], ["goods.it_equipment"], ALL, "kongsvinger",
     D(2024, 3, 1), D(2026, 2, 28), 0, 2, 16.0),
    ("2023-404", "Fagsystemer og lisenser", ["software"], ["services.software"], KOMMUNER, "kongsvinger",
     D(2023, 1, 1), D(2030, 12, 31), 0, 0, 19.0),
    ("2022-501", "Renholdstjenester", ["clean"], ["services.cleaning"], KOMMUNER, "kongsvinger",
     D(2022, 4, 1), D(2026, 3, 31), 0, 2, 18.0),
    ("2023-502", "Vask og leie av tekstiler", ["laundry"], ["goods.textiles", "services.cleaning"], KOMMUNER,
     "kongsvinger", D(2023, 10, 1), D(2027, 9, 30), 0, 0, 4.2),
    ("2022-601", "Kontorrekvisita", ["office"], ["goods.office", "goods.paper"], ALL, "kongsvinger",
     D(2022, 1, 1), D(2025, 12, 31), 0, 1, 7.0),
    ("2022-602", "Læremidler og bøker", ["books"], ["goods.teaching"], ["kongsvinger", "eidskog", "grue", "nord-odal",
                                                                          "sor-odal", "valer", "asnes", "giv"],
     "kongsvinger", D(2022, 8, 1), D(2027, 7, 31), 1, 0, 9.0),
    ("2023-603", "Møbler og inventar", ["furniture"], ["goods.furniture"], ALL, "kongsvinger",
     D(2023, 2, 1), D(2027, 1, 31), 0, 0, 8.0),
    ("2021-701", "Medisinsk forbruksmateriell", ["medical"], ["goods.medical"], KOMMUNER, "kongsvinger",
     D(2021, 11, 1), D(2026, 10, 31), 1, 1, 13.0),
    ("2022-702", "Legemidler til institusjoner", ["pharmacy"], ["goods.medical.pharmaceuticals"], KOMMUNER,
     "kongsvinger", D(2022, 1, 1), D(2027, 12, 31), 0, 0, 10.0),
    ("2024-703", "Vikartjenester helse", ["temps"], ["services.health"], KOMMUNER, "kongsvinger",
     D(2024, 5, 1), D(2026, 4, 30), 0, 2, 15.0),
    ("2023-801", "Skoleskyss", ["schoolbus"], ["services.travel"], KOMMUNER, "kongsvinger",
     D(2023, 8, 1), D(2028, 7, 31), 0, 2, 21.0),
    ("2022-802", "Drosjetjenester", ["taxi"], ["services.travel"], KOMMUNER, "kongsvinger",
     D(2022, 1, 1), D(2026, 12, 31), 1, 0, 9.5),
    ("2024-803", "Leasing av personbiler og varebiler", ["cars"], ["goods.vehicles"], ALL, "kongsvinger",
     D(2024, 1, 1), D(2027, 12, 31), 0, 1, 12.0),
    ("2023-804", "Tunge kjøretøy og service", ["trucks"], ["goods.vehicles", "services.maintenance"],
     ["gir", "solor", "brann"], "gir", D(2023, 6, 1), D(2028, 5, 31), 0, 0, 14.0),
    ("2022-901", "Vannbehandlingskjemikalier", ["chem"], ["goods.chemicals"], ["givas"], "givas",
     D(2022, 1, 1), D(2026, 12, 31), 1, 1, 6.5),
    ("2023-902", "Analyse av drikkevann og avløp", ["lab"], ["services.other"], ["givas"], "givas",
     D(2023, 1, 1), D(2027, 12, 31), 0, 1, 2.5),
    ("2021-903", "Behandling av restavfall", ["incinerate"], ["waste.treatment"], ["gir", "solor"], "gir",
     D(2021, 1, 1), D(2027, 12, 31), 2, 0, 30.0),
    ("2022-904", "Materialgjenvinning", ["recycle"], ["waste.treatment"], ["gir", "solor"], "gir",
     D(2022, 1, 1), D(2026, 12, 31), 0, 2, 18.0),
    ("2024-905", "Beholdere og containere", ["containers"], ["goods.equipment"], ["gir", "solor"], "solor",
     D(2024, 4, 1), D(2028, 3, 31), 0, 0, 3.0),
    ("2022-906", "Brannmateriell og verneutstyr", ["firegear"], ["goods.equipment", "goods.textiles"], ["brann"],
     "brann", D(2022, 5, 1), D(2026, 4, 30), 0, 1, 3.5),
    ("2023-001", "Forsikring", ["insurance"], ["services.insurance"], ALL, "kongsvinger",
     D(2023, 1, 1), D(2026, 12, 31), 0, 2, 16.0),
    ("2023-002", "Revisjon og rådgivning", ["audit", "consult"], ["services.consultancy"], ALL, "sekretariat",
     D(2023, 1, 1), D(2027, 12, 31), 0, 0, 5.0),
    ("2024-003", "Rådgivende ingeniører", ["engineer"], ["services.consultancy"], [*KOMMUNER, "givas", "gir"],
     "kongsvinger", D(2024, 9, 1), D(2028, 8, 31), 0, 0, 11.0),
]


def do_load_demo_agreements(*, actor: ActorLike = None) -> int:
    """Save the demo's agreements (an existing number is updated to the demo's values). Returns how many."""
    from klimainnkjop.services.agreements import do_save_agreement

    for (number, name, suppliers, categories, participants, owner, start, end, used, left,
         value_mnok) in AGREEMENTS:
        do_save_agreement(number=number, name=name, suppliers=[R.SUPPLIERS[s].orgnr for s in suppliers],
                          categories=categories, participants=[R.ORGS_BY_KEY[p].orgnr for p in participants],
                          owner=R.ORGS_BY_KEY[owner].orgnr, start=start, end=end, options_used=used,
                          options_left=left, estimated_yearly_ore=round(value_mnok * 1e6 * 100),
                          contact="Innkjøpskontoret", actor=actor)
    return len(AGREEMENTS)
