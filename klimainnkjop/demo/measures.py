"""The demo region's measures (tiltak): 15 measures of the four kinds on the baseline year 2024, two ambition
packages (Basis, Høy) adopted by some organisations, the HVO and food measures implemented in 2025. Loaded
through the services after the account is computed; the expected effects are computed from the account, not
given here. A measure or package that exists already is left as it is (loading twice adds nothing). The concrete
and cleaning measures are bound to agreements of the register by number (demo/agreements.py: 2025-301, 2022-501)
and take effect from their renewal; the others name an agreement outside the register with its renewal date."""
from __future__ import annotations

import datetime as dt

from klimainnkjop.demo import region as R
from klimainnkjop.core.actors import ActorLike

BASELINE_YEAR = 2024

# name, kind, mechanism, percent, categories, to_category, one-off NOK, yearly NOK, lifetime, owner, extra
MEASURES: tuple[tuple, ...] = (
    ("Gjenbruk av møbler og utstyr", 1, "quantity", 25.0, ["goods.equipment"], None, 150_000, -60_000, 5,
     "Innkjøpsrådgiver", {"description": "Ombruksportal for møbler og utstyr mellom kommunene i regionen før nye "
                                         "innkjøp."}),
    ("Lengre brukstid for kjøretøy", 1, "quantity", 15.0, ["goods.vehicles"], None, 0, -80_000, 8,
     "Teknisk sjef", {"description": "Kjøretøy skiftes ut etter tilstand, ikke alder."}),
    ("Ombruk av byggematerialer", 1, "quantity", 10.0, ["goods.building_materials"], None, 50_000, -10_000, 5,
     "Eiendomssjef", {"description": "Kartlegging av ombrukbare materialer før riving og rehabilitering."}),
    ("Mindre storfekjøtt, mer plantebasert protein", 2, "switch", 50.0, ["goods.food.beef"], "goods.food.legumes",
     20_000, 0, 3, "Kjøkkensjef",
     {"description": "Halvparten av storfekjøttet i institusjonskjøkkenene byttes med belgfrukter og annet "
                     "plantebasert protein.", "effective_date": dt.date(2025, 1, 1)}),
    ("Mindre matsvinn", 2, "quantity", 15.0, ["goods.food"], None, 30_000, -40_000, 3, "Kjøkkensjef",
     {"description": "Måling av matsvinn og bestilling etter faktisk forbruk."}),
    ("Færre reiser, flere videomøter", 2, "quantity", 30.0, ["services.travel"], None, 0, -150_000, 1,
     "Rådmannens stab", {"description": "Reiser til møter i Oslo og mellom kommunene erstattes med videomøter der "
                                        "det går."}),
    ("Digitale arbeidsflater, mindre papir og rekvisita", 2, "quantity", 25.0, ["goods.office"], None, 0, -20_000, 1,
     "Rådmannens stab", {}),
    ("HVO100 i kommunale kjøretøy og maskiner", 3, "switch", 100.0, ["energy.fuel.diesel"], "energy.fuel.hvo",
     0, 60_000, 1, "Teknisk sjef",
     {"description": "Drivstoffavtalen krever HVO100 (fornybar diesel) til kjøretøy og anleggsmaskiner.",
      "agreement": "Drivstoffavtale 2025–2028", "agreement_renewal": dt.date(2025, 1, 1)}),
    ("Samordnet varelevering", 3, "intensity", 10.0, ["goods.consumables"], None, 40_000, 0, 5,
     "Innkjøpsrådgiver", {"description": "Én samlet levering per uke til hver enhet."}),
    ("Lavkarbonbetong i byggeprosjekter", 3, "intensity", 15.0, ["construction.works"], None, 0, 250_000, 1,
     "Eiendomssjef", {"description": "Krav om lavkarbonbetong klasse A i alle nye byggekontrakter.",
                      "agreement": "2025-301"}),
    ("Fossilfrie bygge- og anleggsplasser", 4, "intensity", 10.0, ["construction.works"], None, 0, 200_000, 1,
     "Eiendomssjef", {"description": "Kontraktsvilkår om fossilfri byggeplass i alle entrepriser.",
                      "effective_date": dt.date(2026, 7, 1)}),
    ("Klimakrav i renholdsavtalen", 4, "intensity", 20.0, ["services.cleaning"], None, 0, 15_000, 1,
     "Innkjøpsrådgiver", {"description": "Tildelingskriterium for miljømerkede midler og fossilfri transport.",
                          "agreement": "2022-501"}),
    ("Klimakriterier ved kjøp av tjenester", 4, "intensity", 10.0, ["services.other"], None, 0, 30_000, 1,
     "Innkjøpsrådgiver", {"description": "Klima vektes med minst 30 % i tildelingen."}),
    ("Energikrav i leieavtaler", 4, "intensity", 15.0, ["premises.rent"], None, 0, 50_000, 1, "Eiendomssjef",
     {"agreement": "Leie av lokaler", "agreement_renewal": dt.date(2026, 7, 1)}),
    ("Kvalifikasjonskrav om klimaregnskap hos leverandører", 4, "intensity", 5.0, ["services.maintenance"], None,
     10_000, 5_000, 3, "Innkjøpsrådgiver", {}),
)

PACKAGES = (
    ("Basis", "Tiltak som sparer penger eller koster lite.",
     ["Færre reiser, flere videomøter", "Digitale arbeidsflater, mindre papir og rekvisita",
      "Gjenbruk av møbler og utstyr", "Mindre matsvinn", "Mindre storfekjøtt, mer plantebasert protein"]),
    ("Høy", "Basis og klimakrav i de store avtalene.",
     ["Færre reiser, flere videomøter", "Digitale arbeidsflater, mindre papir og rekvisita",
      "Gjenbruk av møbler og utstyr", "Mindre matsvinn", "Mindre storfekjøtt, mer plantebasert protein",
      "HVO100 i kommunale kjøretøy og maskiner", "Lavkarbonbetong i byggeprosjekter",
      "Fossilfrie bygge- og anleggsplasser", "Klimakrav i renholdsavtalen", "Klimakriterier ved kjøp av tjenester",
      "Energikrav i leieavtaler", "Lengre brukstid for kjøretøy", "Samordnet varelevering"]),
)

# organisation key, package, date, case number
ADOPTIONS = (("kongsvinger", "Høy", dt.date(2025, 3, 12), "25/00412"),
             ("grue", "Basis", dt.date(2025, 5, 20), "25/118"),
             ("asnes", "Basis", dt.date(2025, 6, 3), "25/2210"))

# name, [(status, date, organisation key, case number, agreement)]
STATUS_STEPS = (
    ("HVO100 i kommunale kjøretøy og maskiner",
     [("recommended", None, None, "", ""), ("adopted", dt.date(2024, 11, 20), "kongsvinger", "24/3301", ""),
      ("implemented", dt.date(2025, 1, 1), None, "", "Drivstoffavtale 2025–2028")]),
    ("Mindre storfekjøtt, mer plantebasert protein",
     [("recommended", None, None, "", ""), ("adopted", dt.date(2024, 12, 5), "kongsvinger", "24/3410", ""),
      ("implemented", dt.date(2025, 1, 1), None, "", "")]),
    ("Færre reiser, flere videomøter", [("recommended", None, None, "", "")]),
    ("Lavkarbonbetong i byggeprosjekter", [("recommended", None, None, "", "")]),
    ("Gjenbruk av møbler og utstyr",
     [("recommended", None, None, "", ""), ("adopted", dt.date(2025, 5, 20), "grue", "25/119", "")]),
)


def load_demo_measures(*, actor: ActorLike = None) -> dict:
    """Creates what is missing of the demo's measures, packages, adoptions and status steps; returns counts."""
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import measures as selectors
    from klimainnkjop.selectors import organisations as org_selectors
    from klimainnkjop.services import measures as services

    scope = system_scope()
    orgs = {o.key: org_selectors.organisation(scope, o.orgnr) for o in R.ORGS
            if org_selectors.organisations(scope).filter(orgnr=o.orgnr).exists()}
    existing = {m.name: m for m in selectors.measures(scope)}
    made = 0
    for name, kind, mechanism, percent, categories, to_category, once, yearly, lifetime, owner, extra in MEASURES:
        if name in existing:
            continue
        existing[name] = services.do_create_measure(
            name=name, kind=kind, mechanism=mechanism, percent=percent, categories=categories,
            to_category=to_category, baseline_year=BASELINE_YEAR, cost_once_nok=once, cost_yearly_nok=yearly,
            lifetime_years=lifetime, owner=owner, actor=actor, **extra)
        made += 1
        for step_name, steps in STATUS_STEPS:
            if step_name != name:
                continue
            for status, date, org_key, case, agreement in steps:
                services.do_change_measure_status(measure=existing[name], status=status, date=date,
                                                  organisation=orgs.get(org_key) if org_key else None,
                                                  case_number=case, agreement=agreement, actor=actor)
    packages = {p.name: p for p in selectors.packages(scope)}
    for name, description, names in PACKAGES:
        if name not in packages:
            packages[name] = services.do_create_package(name=name, description=description,
                                                        measures=[existing[n] for n in names],
                                                        baseline_year=BASELINE_YEAR, actor=actor)
    adopted = {(a.organisation.orgnr, a.package.name) for a in selectors.adoptions(scope)}
    for org_key, name, date, case in ADOPTIONS:
        org = orgs.get(org_key)
        if org is not None and (org.orgnr, name) not in adopted:
            services.do_adopt_package(package=packages[name], organisation=org, adopted_on=date, case_number=case,
                                      actor=actor)
    return {"measures": len(existing), "new_measures": made, "packages": len(packages)}
