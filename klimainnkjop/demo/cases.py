"""The demo region's procurement cases: 40 cases across the organisations, walked through the services to
different states, so that the share with climate or environmental requirements can be counted by hand from
CASES below (a case has them when it names library requirements or records climate weighted or required).
"""
from __future__ import annotations


from klimainnkjop.demo import region as R
from klimainnkjop.core.actors import DEMO, ActorLike

STEPS = ["opened", "screened", "ambition_decided", "requirements_set", "announced", "awarded", "closed"]
K, E, G, NO, SO, V, A = "kongsvinger", "eidskog", "grue", "nord-odal", "sor-odal", "valer", "asnes"

# org, title, category, value NOK, final state, requirements [(code, weight)], § 7-9 option, renews agreement
CASES: list[tuple] = [
    (K, "Matvarer til storhusholdning 2027", "goods.food", 41_000_000, "announced",
     [("MAT-01", 30), ("MAT-02", None), ("MAT-03", None)], "award_weight", "2025-101"),
    (K, "Strøm 2027–2030", "energy.electricity", 60_000_000, "requirements_set", [("GEN-03", None)],
     "specification", "2021-201"),
    (K, "Rørleggertjenester", "construction.works", 14_000_000, "awarded", [("BYG-03", None), ("BYG-09", None)],
     "specification", "2023-303"),
    (K, "Elektrikertjenester", "construction.works", 12_000_000, "closed", [("BYG-03", None)], "specification",
     "2023-304"),
    (K, "Nytt sykehjem, totalentreprise", "construction.new_buildings", 180_000_000, "closed",
     [("BYG-01", None), ("BYG-02", None), ("BYG-04", 30), ("BYG-06", None)], "award_weight", None),
    (K, "Kontormøbler rådhuset", "goods.furniture", 900_000, "closed", [("MOB-01", None), ("MOB-02", 30)],
     "award_weight", None),
    (K, "Konsulentbistand økonomisystem", "services.consultancy", 400_000, "closed", [], "exempt", None),
    (K, "Drosjetjenester 2027", "services.travel", 9_500_000, "ambition_decided", [], None, "2022-802"),
    (K, "Forsikring 2027", "services.insurance", 16_000_000, "screened", [], None, "2023-001"),
    (K, "Skoleskyss, tilleggsrute", "services.travel", 600_000, "cancelled", [], None, None),
    (E, "Brøyting og strøing", "construction.civil", 3_500_000, "awarded", [("TRA-01", None)], "specification",
     None),
    (E, "Rehabilitering av skolebad", "construction.works", 8_000_000, "closed", [("BYG-03", None), ("BYG-07", 30)],
     "award_weight", None),
    (E, "Arbeidsklær hjemmetjenesten", "goods.textiles", 300_000, "closed", [("TEK-01", None)], "specification",
     None),
    (E, "Regnskapsrevisjon", "services.consultancy", 250_000, "closed", [], "exempt", None),
    (G, "Kjøretøy til hjemmetjenesten", "goods.vehicles", 2_400_000, "closed", [("TRA-03", None)], "specification",
     None),
    (G, "Vedlikehold av kommunale veier", "construction.civil", 5_000_000, "announced", [("BYG-08", None)],
     "specification", None),
    (G, "Kurs i klimaregnskap", "services.training", 120_000, "closed", [], "exempt", None),
    (G, "Frukt og grønt 2027", "goods.food.vegetables", 7_500_000, "opened", [], None, "2022-102"),
    (NO, "Skolemøbler", "goods.furniture", 1_200_000, "closed", [("MOB-01", None), ("MOB-03", None)],
     "specification", None),
    (NO, "Renhold av kommunale bygg", "services.cleaning", 4_000_000, "awarded", [("REN-01", None), ("REN-03", None)],
     "specification", None),
    (NO, "Juridisk bistand", "services.consultancy", 300_000, "closed", [], "exempt", None),
    (NO, "Tilbygg barnehage", "construction.works", 22_000_000, "requirements_set",
     [("BYG-01", None), ("BYG-03", None), ("GEN-02", 30)], "award_weight", None),
    (SO, "Mat til barnehagene", "goods.food", 1_500_000, "closed", [("MAT-01", 30), ("MAT-06", 10)],
     "award_weight", None),
    (SO, "Nye PC-er til skolene", "goods.it_equipment", 2_000_000, "closed", [("IKT-01", None), ("IKT-02", None)],
     "specification", None),
    (SO, "Gatelys, LED", "construction.civil", 3_000_000, "announced", [("GEN-02", 30)], "award_weight", None),
    (SO, "Annonsering av stillinger", "services.advertising", 150_000, "closed", [], "exempt", None),
    (V, "Vask av tekstiler", "services.cleaning", 800_000, "closed", [("TEK-04", None)], "specification", None),
    (V, "Omsorgsboliger", "construction.new_buildings", 45_000_000, "ambition_decided", [], None, None),
    (V, "Telefoni", "services.telecom", 500_000, "closed", [], "exempt", None),
    (A, "Ombrukte PC-er til administrasjonen", "goods.it_equipment", 600_000, "closed", [("IKT-03", 40)],
     "award_weight", None),
    (A, "Drivstoff til kommunale kjøretøy", "energy.fuel", 1_800_000, "awarded", [("TRA-01", None)],
     "specification", None),
    (A, "Skolebøker", "goods.teaching", 700_000, "cancelled", [], None, None),
    ("givas", "Vannbehandlingskjemikalier 2027", "goods.chemicals", 6_500_000, "screened", [], None, "2022-901"),
    ("givas", "Ny høydebasseng", "construction.civil", 30_000_000, "closed",
     [("BYG-01", None), ("BYG-02", None), ("BYG-10", None)], "specification", None),
    ("gir", "Materialgjenvinning 2027", "waste.treatment", 18_000_000, "requirements_set", [("GEN-03", None)],
     "specification", "2022-904"),
    ("gir", "Renovasjonsbiler på biogass", "goods.vehicles", 12_000_000, "closed", [("TRA-02", None)],
     "specification", None),
    ("brann", "Brannbekledning", "goods.textiles", 1_100_000, "closed", [("TEK-02", None)], "specification", None),
    ("solor", "Containere", "goods.equipment", 900_000, "closed", [], "exempt", None),
    ("giv", "Læremidler norskopplæring", "goods.teaching", 200_000, "closed", [], "exempt", None),
    ("sekretariat", "Regnskapssystem", "services.software", 350_000, "opened", [], None, None),
]


def has_requirements(entry: tuple) -> bool:
    """The hand rule: requirements from the library, or a record that weights or requires climate."""
    return bool(entry[5]) or entry[6] in ("award_weight", "specification")


def do_load_demo_cases(*, actor: ActorLike = None) -> int:
    """Open the demo's cases and walk each to its state through the services (after the compute: screening reads
    the account). Returns how many."""
    from klimainnkjop.services import cases as services
    from klimainnkjop.storage.models import Agreement, Organisation
    from klimainnkjop import access

    if not access.is_operator(actor) and access.person_of(actor) is None:
        actor = DEMO  # the generator walks the cases itself: services/cases lets only the operator's system actors act

    for org_key, title, category, value, final, requirements, option, renews in CASES:
        organisation = Organisation.objects.get(orgnr=R.ORGS_BY_KEY[org_key].orgnr)
        agreement = Agreement.objects.filter(number=renews).first() if renews else None
        case = services.do_open_case(organisation=organisation, title=title, category=category,
                                     estimated_value_nok=value, agreement=agreement, actor=actor)
        if final == "cancelled":
            services.do_cancel_case(case=case, reason="Behovet falt bort", actor=actor)
            continue
        target = STEPS.index(final)
        if target >= 1:
            services.do_screen_case(case=case, actor=actor)
        if target >= 2:
            ambition = "advanced" if value >= 1_300_000 else "basic"
            services.do_propose_ambition(case=case, ambition=ambition, actor=actor)
            services.do_decide_ambition(case=case, ambition=ambition, actor=actor)
        if target >= 3:
            services.do_set_case_requirements(
                case=case, requirements=[{"code": code, "weight_percent": weight} for code, weight in requirements],
                actor=actor)
            weight = sum(w for _, w in requirements if w) if option == "award_weight" else None
            services.do_record_considerations(
                case=case, option=option, weight_percent=weight,
                description="Kravene i kravspesifikasjonen" if option == "specification" else "",
                reason="Liten anskaffelse uten vesentlig klimapåvirkning" if option == "exempt" else "", actor=actor)
        if target >= 4:
            services.do_announce_case(case=case, actor=actor)
        if target >= 5:
            codes = [code for code, _ in requirements]
            supplier = agreement.suppliers[0] if agreement else R.SUPPLIERS["build"].orgnr
            services.do_award_case(case=case, supplier_orgnr=supplier, requirements=codes,
                                   climate_weight_percent=next((w for _, w in requirements if w), None),
                                   actor=actor)
        if target >= 6:
            services.do_close_case(case=case, actor=actor)
    return len(CASES)
