"""The demo region "Kongsvingerregionen": organisations, units, suppliers and spending profiles.

Everything here is fictitious except the municipality names, their KOSTRA numbers and their rough
populations. Organisation numbers are made up (deterministic, valid MOD11 check digit).

Calibration (`KONGSVINGER_2019`) is Kongsvinger kommune's 2019 KOSTRA accounts in 1000 NOK: the demo
keeps their proportions (which art, operating or investment) and scales the level so that the whole
region buys for about 1.15 billion NOK a year.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from klimainnkjop.core.kostra import OrgNumber

REGION_NAME = "Kongsvingerregionen"
START_YEAR = 2021
# Purchases (KOSTRA art 100-379, operating plus investment) of the whole region in REFERENCE_YEAR at
# scale 1, consolidated: what the region buys from outside itself. The kommuner's purchases from the
# region's IKS (art 375) and from each other (art 350) come on top (about 13 %): they are purchases in
# each organisation's own account, but the region total leaves them out (the seller's own purchases
# are counted already). Other years follow GROWTH (price and volume growth).
REGION_PURCHASES_NOK = 1_150_000_000
REFERENCE_YEAR = 2023
GROWTH = 0.04
# Purchase lines per year for the whole region at scale 1 (non-purchase lines come on top).
PURCHASE_LINES_PER_YEAR = 28_000


def fictitious_orgnr(label: str) -> str:
    """A deterministic 9-digit number starting with 9 with a valid MOD11 check digit."""
    counter = 0
    while True:
        digest = hashlib.sha256(f"klimainnkjop-demo|{label}|{counter}".encode()).hexdigest()
        first8 = "9" + str(int(digest, 16) % 10_000_000).zfill(7)
        number = OrgNumber.with_check_digit(first8)
        if number is not None:
            return number
        counter += 1


# --- calibration: Kongsvinger kommune 2019, KOSTRA, 1000 NOK -----------------------------------------
# Operating purchases art 100-299 = 200,415; the nine largest are the published figures, the rest of
# the 57,877 is spread over the smaller arts.
OPERATING_100_299 = {
    "190": 31_063, "270": 28_576, "195": 16_513, "115": 14_582, "170": 12_963, "180": 12_120,
    "120": 10_515, "200": 8_130, "240": 8_076,
    "100": 4_200, "105": 5_400, "110": 3_100, "114": 2_300, "130": 5_600, "140": 1_900, "150": 4_500,
    "181": 2_600, "185": 4_300, "209": 1_300, "210": 3_200, "220": 2_400, "230": 6_800, "250": 3_700,
    "260": 6_477,
}
OPERATING_300_379 = {"370": 128_501, "375": 62_024, "350": 22_234, "300": 4_900, "330": 3_374}
INVESTMENT_100_299 = {"230": 114_131, "200": 4_800, "250": 3_400, "270": 3_627}
WAGES_010_099 = 885_593
KONGSVINGER_2019 = {
    "operating_100_299": OPERATING_100_299, "operating_300_379": OPERATING_300_379,
    "investment_100_299": INVESTMENT_100_299, "wages": WAGES_010_099,
}
KONGSVINGER_PURCHASES_2019 = (sum(OPERATING_100_299.values()) + sum(OPERATING_300_379.values())
                              + sum(INVESTMENT_100_299.values()))

# Typical invoice size (NOK) per art: many small invoices for food and office supplies, few large ones
# for rent, construction and purchases from other public bodies. Sets the number of lines per art.
TYPICAL_LINE_NOK = {
    "010": 240_000, "020": 60_000, "040": 25_000, "090": 120_000, "099": 80_000,
    "100": 2_500, "105": 4_000, "110": 3_000, "114": 6_000, "115": 5_000, "120": 4_000, "130": 5_000,
    "140": 6_000, "150": 8_000, "170": 10_000, "180": 35_000, "181": 30_000, "185": 40_000,
    "190": 70_000, "195": 18_000, "200": 14_000, "209": 15_000, "210": 90_000, "220": 12_000,
    "230": 80_000, "240": 14_000, "250": 12_000, "260": 20_000, "270": 25_000,
    "300": 60_000, "330": 80_000, "350": 150_000, "370": 80_000, "375": 300_000,
    "429": 60_000, "470": 90_000, "475": 200_000, "500": 400_000, "510": 900_000,
    "600": 30_000, "620": 40_000, "630": 50_000, "640": 60_000, "650": 120_000, "700": 250_000,
    "710": 60_000, "729": 700_000, "750": 500_000, "800": 6_000_000, "870": 5_000_000, "910": 3_000_000,
}
INVESTMENT_TYPICAL_LINE_NOK = {"230": 450_000, "250": 40_000, "270": 60_000, "200": 30_000, "210": 600_000}

# Non-purchase arts as a share of the organisation's purchases (negative: income).
KOMMUNE_OTHER = {
    "429": 0.07, "470": 0.09, "475": 0.02, "500": 0.035, "510": 0.07,
    "600": -0.07, "620": -0.05, "630": -0.04, "700": -0.06, "710": -0.04, "729": -0.07,
    "800": -1.15, "870": -0.85,
}
IKS_OTHER = {"429": 0.07, "500": 0.03, "510": 0.05, "650": -0.6, "729": -0.07, "750": -0.9}
WAGE_SPLIT = {"010": 0.70, "020": 0.04, "040": 0.02, "090": 0.13, "099": 0.11}

# Monthly profiles (Jan..Dec). Lines are dated by the square root of the profile and their amounts
# weighted by the other square root, so spend per month follows the profile.
SEASON_DEFAULT = (1.0, 1.05, 1.1, 1.0, 1.05, 1.0, 0.45, 0.9, 1.1, 1.1, 1.1, 1.2)
SEASON_ENERGY = (1.7, 1.55, 1.3, 1.0, 0.7, 0.5, 0.4, 0.45, 0.6, 0.95, 1.25, 1.55)
SEASON_BUILD = (0.5, 0.5, 0.7, 0.95, 1.25, 1.45, 0.8, 1.45, 1.45, 1.2, 0.95, 0.65)
SEASON_FLAT = (1.0,) * 12
SEASON_WAGES = (1.0, 1.0, 1.0, 1.0, 1.0, 1.9, 0.55, 1.0, 1.0, 1.0, 1.0, 1.0)  # holiday pay in June
SEASON_BY_ART = {"180": SEASON_ENERGY, "181": SEASON_ENERGY, "230": SEASON_BUILD, "250": SEASON_BUILD,
                 "010": SEASON_WAGES, "020": SEASON_DEFAULT, "090": SEASON_FLAT, "099": SEASON_WAGES,
                 "800": SEASON_FLAT, "870": SEASON_FLAT, "500": SEASON_FLAT, "510": SEASON_FLAT}

VAT_RATE = {"115": 0.15, "170": 0.12, "190": 0.0, "185": 0.0, "300": 0.0, "330": 0.0, "350": 0.0,
            "375": 0.0, "370": 0.0, "150": 0.0, "105": 0.25}
PURCHASE_RANGE = (100, 379)


def is_purchase_art(art: str) -> bool:
    return PURCHASE_RANGE[0] <= int(art) <= PURCHASE_RANGE[1]


# --- suppliers -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Supplier:
    key: str
    name: str
    orgnr: str


SUPPLIER_NAMES = {
    "food": "Glåmdal Storhusholdning AS", "food2": "Solør Frukt og Grønt AS", "bakery": "Bakeriet på Skarnes AS",
    "dairy": "Odalsmeieriet SA",
    "power": "Vinger Kraftsalg AS", "grid": "Glåmdal Nett AS", "heat": "Kongsvinger Fjernvarme AS",
    "fuel": "Glåmdal Drivstoff AS", "fuel2": "Solør Energi og Drivstoff AS",
    "build": "Odal Bygg og Anlegg AS", "build2": "Vinger Entreprenør AS", "dig": "Kongsvinger Maskin og Graving AS",
    "pipe": "Solør Rør og Varme AS", "elec": "Glåmdal Elektro AS", "timber": "Eidskog Trelast AS",
    "it": "Innlandet IKT-tjenester AS", "tele": "Fjellnett Telekom AS", "pc": "Skrivebord Digital AS",
    "software": "Norsk Fagsystem AS",
    "clean": "Renholdsgruppen Glåmdal AS", "laundry": "Solør Vaskeri AS",
    "engineer": "Rådgivende Ingeniører Innlandet AS", "audit": "Revisjon og Rådgivning Øst AS",
    "law": "Advokatfirmaet Glomma DA", "consult": "Kommunekonsult Norden AS",
    "taxi": "Glåmdal Taxi SA", "bus": "Solør Bussreiser AS", "schoolbus": "Skoleskyss Innlandet AS",
    "rent": "Kongsvinger Eiendomsutvikling AS", "rent2": "Odal Næringsbygg AS", "rent3": "Flisa Eiendom AS",
    "office": "Kontorlandet Norge AS", "books": "Læremiddelforlaget Nordlys AS",
    "medical": "Medisinsk Engros Norge AS", "pharmacy": "Apotekforsyningen Øst AS",
    "media": "Glommaposten Media AS", "course": "Kompetansesenteret Innlandet AS",
    "insurance": "Kommuneforsikring Norden AS", "guard": "Vaktselskapet Grensevakt AS",
    "furniture": "Inventar og Utstyr Øst AS", "cars": "Glåmdal Bil AS", "trucks": "Tungbil Innlandet AS",
    "firegear": "Brannmateriell Norge AS", "rental": "Maskinutleie Glåmdal AS",
    "lift": "Heis og Ventilasjon Service AS", "chem": "Vannkjemi Norden AS", "lab": "Vannlaboratoriet Øst AS",
    "recycle": "Gjenvinning Øst AS", "incinerate": "Energigjenvinning Innlandet AS",
    "childcare": "Barnevernsinstitusjonen Lysglimt AS", "care": "Privat Omsorg Innlandet AS",
    "doctor": "Legesenteret Vinger AS", "temps": "Vikarbyrået Helsepersonell AS",
    "state": "Statlig Fellestjeneste Innlandet", "county": "Fylkeskommunal Tannhelsetjeneste Innlandet",
    "containers": "Beholder og Container Norge AS",
}
SUPPLIERS = {key: Supplier(key, name, fictitious_orgnr(f"supplier|{key}")) for key, name in SUPPLIER_NAMES.items()}

# Framework-agreement style: the same few suppliers per art everywhere in the region.
SUPPLIERS_BY_ART: dict[str, list[tuple[str, float]]] = {
    "100": [("office", 0.8), ("pc", 0.2)],
    "105": [("books", 0.75), ("office", 0.25)],
    "110": [("medical", 0.85), ("pharmacy", 0.15)],
    "114": [("pharmacy", 1.0)],
    "115": [("food", 0.7), ("food2", 0.12), ("dairy", 0.1), ("bakery", 0.08)],
    "120": [("office", 0.25), ("fuel", 0.25), ("fuel2", 0.1), ("timber", 0.15), ("medical", 0.1), ("food", 0.15)],
    "130": [("tele", 0.7), ("it", 0.3)],
    "140": [("media", 1.0)],
    "150": [("course", 0.8), ("consult", 0.2)],
    "170": [("schoolbus", 0.45), ("taxi", 0.35), ("bus", 0.2)],
    "180": [("power", 0.65), ("grid", 0.35)],
    "181": [("heat", 1.0)],
    "185": [("insurance", 0.7), ("guard", 0.3)],
    "190": [("rent", 0.5), ("rent2", 0.3), ("rent3", 0.2)],
    "195": [("software", 0.75), ("it", 0.25)],
    "200": [("furniture", 0.45), ("pc", 0.4), ("rental", 0.15)],
    "209": [("medical", 1.0)],
    "210": [("cars", 0.8), ("trucks", 0.2)],
    "220": [("rental", 0.8), ("pc", 0.2)],
    "230": [("build", 0.4), ("build2", 0.25), ("elec", 0.15), ("pipe", 0.12), ("dig", 0.08)],
    "240": [("lift", 0.4), ("it", 0.3), ("pipe", 0.15), ("elec", 0.15)],
    "250": [("timber", 0.7), ("pipe", 0.15), ("elec", 0.15)],
    "260": [("clean", 0.8), ("laundry", 0.2)],
    "270": [("consult", 0.3), ("engineer", 0.25), ("audit", 0.15), ("law", 0.1), ("temps", 0.2)],
    "300": [("state", 1.0)],
    "330": [("county", 1.0)],
    "370": [("childcare", 0.35), ("care", 0.3), ("doctor", 0.15), ("temps", 0.2)],
}


# --- organisations ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    sector: str
    functions: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Project:
    code: str
    name: str
    function: str
    unit: str
    first_year: int
    last_year: int
    weight: float
    arts: tuple[tuple[str, float], ...]


BUILDING = (("230", 0.8), ("270", 0.08), ("250", 0.06), ("200", 0.06))
PIPES = (("230", 0.75), ("250", 0.15), ("270", 0.10))
VEHICLES = (("210", 1.0),)
MINOR = (("200", 0.5), ("230", 0.3), ("210", 0.2))


@dataclass(frozen=True)
class Org:
    key: str
    name: str
    short: str
    kind: str
    kostra_region: str
    share: float                   # share of the region's purchases
    layout: str                    # visma | agresso-csv | agresso-xlsx
    units: tuple[Unit, ...]
    profile: str                   # spending profile name
    investment_share: float
    wage_ratio: float              # wages / purchases
    projects: tuple[Project, ...] = ()
    population: int = 0

    @property
    def orgnr(self) -> str:
        return fictitious_orgnr(f"org|{self.key}")


# Sectors of a kommune: art -> sector weights
KOMMUNE_SECTORS: dict[str, dict[str, float]] = {
    "100": {"adm": 0.4, "skole": 0.2, "bhg": 0.1, "inst": 0.1, "hjem": 0.1, "nav": 0.1},
    "105": {"skole": 0.8, "bhg": 0.2},
    "110": {"inst": 0.6, "hjem": 0.3, "helse": 0.1},
    "114": {"inst": 0.7, "hjem": 0.2, "helse": 0.1},
    "115": {"inst": 0.6, "bhg": 0.15, "skole": 0.1, "hjem": 0.1, "adm": 0.05},
    "120": {"teknisk": 0.3, "skole": 0.2, "bhg": 0.15, "inst": 0.15, "hjem": 0.1, "va": 0.1},
    "130": {"adm": 0.5, "skole": 0.15, "inst": 0.1, "hjem": 0.15, "teknisk": 0.1},
    "140": {"adm": 0.7, "kultur": 0.3},
    "150": {"adm": 0.3, "skole": 0.25, "inst": 0.2, "hjem": 0.15, "bhg": 0.1},
    "170": {"skole": 0.55, "hjem": 0.15, "nav": 0.15, "adm": 0.15},
    "180": {"eiendom": 0.85, "va": 0.1, "teknisk": 0.05},
    "181": {"eiendom": 1.0},
    "185": {"eiendom": 0.6, "adm": 0.4},
    "190": {"eiendom": 0.5, "nav": 0.2, "adm": 0.3},
    "195": {"adm": 0.6, "skole": 0.15, "inst": 0.1, "hjem": 0.1, "teknisk": 0.05},
    "200": {"skole": 0.3, "inst": 0.2, "adm": 0.2, "teknisk": 0.2, "bhg": 0.1},
    "209": {"inst": 0.7, "hjem": 0.3},
    "210": {"teknisk": 0.6, "hjem": 0.4},
    "220": {"teknisk": 0.6, "adm": 0.4},
    "230": {"eiendom": 0.7, "teknisk": 0.2, "va": 0.1},
    "240": {"eiendom": 0.6, "teknisk": 0.2, "adm": 0.2},
    "250": {"eiendom": 0.6, "teknisk": 0.3, "va": 0.1},
    "260": {"eiendom": 1.0},
    "270": {"adm": 0.4, "nav": 0.2, "inst": 0.1, "hjem": 0.1, "teknisk": 0.1, "plan": 0.1},
    "300": {"adm": 0.5, "nav": 0.5},
    "330": {"skole": 0.5, "helse": 0.5},
    "350": {"nav": 0.4, "helse": 0.3, "skole": 0.3},
    "370": {"nav": 0.45, "hjem": 0.2, "helse": 0.15, "skole": 0.1, "kultur": 0.1},
}
# IKS bought by the kommuner (art 375): which IKS, how much, under which sector and function.
IKS_SERVICES = {"givas": ("va", 0.34), "gir": ("teknisk", 0.22), "solor": ("teknisk", 0.12),
                "brann": ("adm", 0.22), "giv": ("skole", 0.07), "sekretariat": ("adm", 0.03)}
IKS_FUNCTION = {"givas": ("340", "345"), "gir": ("355",), "solor": ("355",), "brann": ("339", "338"),
                "giv": ("213",), "sekretariat": ("110",)}

PLACES = {
    "kongsvinger": ["Austmarka", "Brandval", "Langeland", "Marikollen", "Vennersberg", "Roverud", "Holt", "Lia"],
    "eidskog": ["Magnor", "Skotterud", "Matrand", "Vestmarka"],
    "grue": ["Kirkenær", "Namnå", "Grinder", "Svullrya"],
    "nord-odal": ["Sand", "Mo", "Knapper", "Sagstua"],
    "sor-odal": ["Skarnes", "Sander", "Slåstad", "Disenå", "Oppstad"],
    "valer": ["Våler", "Braskereidfoss", "Kirkebygda"],
    "asnes": ["Flisa", "Hof", "Kjellmyra", "Arneberg", "Gjesåsen"],
}


def kommune_units(key: str, schools: int, kindergartens: int, care_homes: int) -> tuple[Unit, ...]:
    places = PLACES[key]
    units = [
        Unit("1000", "Kommunedirektørens stab", "adm", ("120",), 2.0),
        Unit("1100", "Økonomiavdelingen", "adm", ("120",)),
        Unit("1200", "IKT og digitalisering", "adm", ("120",), 1.5),
        Unit("1300", "Personal og organisasjon", "adm", ("120",)),
        Unit("1900", "Politisk sekretariat", "adm", ("100", "110"), 0.5),
    ]
    for i in range(schools):
        name = f"{places[i % len(places)]} {'ungdomsskole' if i == schools - 1 and schools > 2 else 'skole'}"
        units.append(Unit(f"21{i:02d}", name, "skole", ("202", "202", "215"), 1.0))
    for i in range(kindergartens):
        units.append(Unit(f"25{i:02d}", f"{places[(i + 1) % len(places)]} barnehage", "bhg", ("201",)))
    for i in range(care_homes):
        units.append(Unit(f"31{i:02d}", f"{places[(i + 2) % len(places)]} sykehjem", "inst", ("253",), 1.5))
    units += [
        Unit("3200", "Hjemmetjenesten", "hjem", ("254",), 1.5),
        Unit("3250", "Tjenester for funksjonshemmede", "hjem", ("254", "234")),
        Unit("3300", "Legetjenesten", "helse", ("241",)),
        Unit("3400", "Helsestasjon og skolehelsetjeneste", "helse", ("232",)),
        Unit("3450", "Psykisk helse og rus", "helse", ("241", "275")),
        Unit("3500", "NAV sosialtjeneste", "nav", ("242", "281", "265")),
        Unit("3600", "Barneverntjenesten", "nav", ("244", "251", "252")),
        Unit("4100", "Teknisk drift", "teknisk", ("333", "335", "120")),
        Unit("4200", "Eiendomsforvaltning", "eiendom", ("130", "222", "222", "221", "261", "261", "265", "381")),
        Unit("4300", "Vei og park", "teknisk", ("333", "335")),
        Unit("4400", "Vann og avløp", "va", ("340", "345")),
        Unit("4500", "Plan, byggesak og landbruk", "plan", ("301", "302", "329")),
        Unit("5100", "Kultur og bibliotek", "kultur", ("370", "385", "231", "380")),
    ]
    return tuple(units)


def _iks_units(*units: tuple[str, str, tuple[str, ...], float]) -> tuple[Unit, ...]:
    return tuple(Unit(code, name, "iks", functions, weight) for code, name, functions, weight in units)


ORGS: tuple[Org, ...] = (
    Org("kongsvinger", "Kongsvinger kommune", "Kongsvinger", "kommune", "3401", 0.0, "visma",
        kommune_units("kongsvinger", 6, 6, 2), "kommune", 0.23, 1.62, (
            Project("1101", "Ny Langeland skole", "222", "4200", 2021, 2023, 5.0, BUILDING),
            Project("1102", "Rehabilitering Roverud sykehjem", "261", "4200", 2023, 2026, 4.0, BUILDING),
            Project("1103", "Fornyelse vannledning Holt–Lia", "340", "4400", 2022, 2026, 2.0, PIPES),
        ), population=18_000),
    Org("eidskog", "Eidskog kommune", "Eidskog", "kommune", "3416", 0.0, "visma",
        kommune_units("eidskog", 3, 3, 1), "kommune", 0.2, 1.62, (
            Project("2101", "Ny Magnor skole", "222", "4200", 2021, 2022, 5.0, BUILDING),
            Project("2102", "Vannledning Skotterud", "340", "4400", 2023, 2025, 2.0, PIPES),
        ), population=6_100),
    Org("grue", "Grue kommune", "Grue", "kommune", "3417", 0.0, "agresso-csv",
        kommune_units("grue", 2, 3, 1), "kommune", 0.2, 1.62, (
            Project("3101", "Vannledning Kirkenær", "340", "4400", 2021, 2023, 3.0, PIPES),
            Project("3102", "Rehabilitering Grinder sykehjem", "261", "4200", 2024, 2026, 4.0, BUILDING),
        ), population=4_600),
    Org("nord-odal", "Nord-Odal kommune", "Nord-Odal", "kommune", "3414", 0.0, "agresso-csv",
        kommune_units("nord-odal", 3, 3, 1), "kommune", 0.2, 1.62, (
            Project("4101", "Utvidelse Sand skole", "222", "4200", 2023, 2025, 4.0, BUILDING),
            Project("4102", "Avløpsrenseanlegg Mo", "345", "4400", 2021, 2022, 2.0, PIPES),
        ), population=5_000),
    Org("sor-odal", "Sør-Odal kommune", "Sør-Odal", "kommune", "3415", 0.0, "visma",
        kommune_units("sor-odal", 4, 4, 1), "kommune", 0.22, 1.62, (
            Project("5101", "Utvidelse Skarnes ungdomsskole", "222", "4200", 2022, 2024, 4.0, BUILDING),
            Project("5102", "Omsorgsboliger Sander", "265", "4200", 2024, 2026, 3.0, BUILDING),
        ), population=7_900),
    Org("valer", "Våler kommune", "Våler", "kommune", "3419", 0.0, "agresso-xlsx",
        kommune_units("valer", 2, 2, 1), "kommune", 0.2, 1.62, (
            Project("6101", "Nytt Våler omsorgssenter", "261", "4200", 2021, 2023, 5.0, BUILDING),
            Project("6102", "Gang- og sykkelvei Braskereidfoss", "333", "4300", 2024, 2025, 1.5, PIPES),
        ), population=3_600),
    Org("asnes", "Åsnes kommune", "Åsnes", "kommune", "3418", 0.0, "agresso-xlsx",
        kommune_units("asnes", 4, 4, 1), "kommune", 0.21, 1.62, (
            Project("7101", "Ny Flisa skole", "222", "4200", 2022, 2024, 5.0, BUILDING),
            Project("7102", "Vannledning Hof", "340", "4400", 2025, 2026, 2.0, PIPES),
        ), population=7_100),
    Org("givas", "Glåmdal Interkommunale Vann- og avløpsselskap (GIVAS)", "GIVAS", "iks", "", 0.055, "visma",
        _iks_units(("1000", "Administrasjon", ("120",), 0.5), ("2000", "Vannverk", ("340",), 1.5),
                   ("3000", "Avløpsrenseanlegg", ("345",), 1.5), ("4000", "Ledningsnett", ("340", "345"), 1.0),
                   ("5000", "Laboratorium", ("340", "345"), 0.3)),
        "va", 0.45, 0.5, (
            Project("9101", "Nytt høydebasseng Vennersberg", "340", "2000", 2021, 2022, 2.0, BUILDING),
            Project("9102", "Fornyelse hovedvannledning langs Glomma", "340", "4000", 2022, 2026, 3.0, PIPES),
            Project("9103", "Oppgradering Skarnes renseanlegg", "345", "3000", 2024, 2026, 2.5, BUILDING),
        )),
    Org("brann", "Glåmdal Brannvesen IKS", "Glåmdal Brannvesen", "iks", "", 0.03, "agresso-csv",
        _iks_units(("1000", "Administrasjon", ("120",), 0.5), ("2000", "Beredskap Kongsvinger", ("339",), 1.5),
                   ("2100", "Beredskap Flisa", ("339",), 1.0), ("2200", "Beredskap Skarnes", ("339",), 1.0),
                   ("3000", "Forebyggende avdeling", ("338",), 0.6), ("4000", "110-sentral", ("339",), 0.4)),
        "brann", 0.15, 1.5, (
            Project("8101", "Nye mannskapsbiler", "339", "2000", 2022, 2023, 2.0, VEHICLES),
            Project("8102", "Ny høyderedskapsbil", "339", "2100", 2025, 2025, 2.0, VEHICLES),
        )),
    Org("gir", "Glåmdal Interkommunale Renovasjonsselskap (GIR)", "GIR", "iks", "", 0.045, "visma",
        _iks_units(("1000", "Administrasjon", ("120",), 0.4), ("2000", "Innsamling", ("355",), 2.0),
                   ("3000", "Gjenvinningsstasjoner", ("355",), 1.0), ("4000", "Behandling og deponi", ("355",), 1.0)),
        "renovasjon", 0.12, 0.4, (
            Project("9201", "Nye renovasjonsbiler", "355", "2000", 2021, 2022, 2.0, VEHICLES),
            Project("9202", "Ny gjenvinningsstasjon Kongsvinger", "355", "3000", 2024, 2025, 2.0, BUILDING),
        )),
    Org("solor", "Solør Renovasjon IKS", "Solør Renovasjon", "iks", "", 0.03, "agresso-xlsx",
        _iks_units(("1000", "Administrasjon", ("120",), 0.4), ("2000", "Innsamling", ("355",), 2.0),
                   ("3000", "Gjenvinningsstasjon Flisa", ("355",), 1.0)),
        "renovasjon", 0.1, 0.4, (
            Project("9301", "Nye renovasjonsbiler", "355", "2000", 2023, 2024, 2.0, VEHICLES),
        )),
    Org("giv", "Glåmdal interkommunale voksenopplæringssenter (GIV)", "GIV", "iks", "", 0.012, "agresso-csv",
        _iks_units(("1000", "Administrasjon", ("120",), 0.5), ("2000", "Norskopplæring", ("213",), 1.5),
                   ("3000", "Grunnskole for voksne", ("213",), 1.0)),
        "voksenopplaering", 0.03, 2.0),
    Org("sekretariat", "Glåmdal Sekretariat IKS", "Glåmdal Sekretariat", "iks", "", 0.003, "visma",
        _iks_units(("1000", "Sekretariat", ("110",), 1.0), ("2000", "Kontrollutvalg", ("110",), 0.5)),
        "sekretariat", 0.0, 2.5),
)

# Art shares (operating purchases) of the IKS, fitting their trade.
IKS_PROFILES: dict[str, dict[str, float]] = {
    "va": {"120": 0.15, "180": 0.13, "240": 0.10, "250": 0.06, "230": 0.09, "270": 0.07, "210": 0.03,
           "195": 0.04, "200": 0.05, "130": 0.015, "170": 0.02, "185": 0.02, "190": 0.01, "100": 0.005,
           "150": 0.01, "220": 0.03, "260": 0.005, "370": 0.12, "110": 0.01},
    "renovasjon": {"370": 0.30, "170": 0.15, "120": 0.11, "210": 0.08, "240": 0.06, "220": 0.04, "270": 0.05,
                   "180": 0.02, "190": 0.03, "195": 0.03, "200": 0.07, "130": 0.01, "150": 0.01, "185": 0.02,
                   "100": 0.005, "250": 0.015},
    "brann": {"210": 0.14, "200": 0.20, "120": 0.10, "150": 0.08, "130": 0.06, "190": 0.13, "240": 0.06,
              "185": 0.03, "270": 0.05, "170": 0.03, "180": 0.03, "195": 0.04, "100": 0.01, "115": 0.01,
              "260": 0.02, "110": 0.01},
    "voksenopplaering": {"105": 0.15, "190": 0.25, "195": 0.10, "200": 0.10, "130": 0.05, "150": 0.05,
                         "170": 0.05, "270": 0.10, "260": 0.08, "100": 0.04, "115": 0.02, "120": 0.03,
                         "180": 0.04},
    "sekretariat": {"270": 0.35, "190": 0.2, "195": 0.12, "150": 0.1, "130": 0.06, "100": 0.05, "170": 0.06,
                    "200": 0.06},
}
IKS_SUPPLIERS: dict[str, dict[str, list[tuple[str, float]]]] = {
    "va": {"120": [("chem", 0.7), ("fuel", 0.2), ("office", 0.1)], "370": [("lab", 0.5), ("dig", 0.5)],
           "230": [("dig", 0.5), ("pipe", 0.5)]},
    "renovasjon": {"120": [("fuel", 0.6), ("fuel2", 0.3), ("containers", 0.1)],
                   "370": [("recycle", 0.6), ("incinerate", 0.4)], "170": [("trucks", 0.3), ("bus", 0.7)],
                   "200": [("containers", 0.8), ("rental", 0.2)], "210": [("trucks", 1.0)]},
    "brann": {"120": [("fuel", 0.7), ("firegear", 0.3)], "200": [("firegear", 0.8), ("pc", 0.2)],
              "210": [("trucks", 0.7), ("cars", 0.3)]},
}

ORGS_BY_KEY = {org.key: org for org in ORGS}


def intra_region_share() -> float:
    """Expected share of the region's gross purchases bought from the region's own organisations."""
    kommune_share = sum(share for key, share in org_shares().items() if ORGS_BY_KEY[key].kind == "kommune")
    operating = {**OPERATING_100_299, **OPERATING_300_379}
    # kommuner: investment share 0.2-0.23; the art shares are of their operating purchases
    intra = 0.0
    for org in ORGS:
        if org.kind == "kommune":
            own = (operating["375"] + operating["350"]) / sum(operating.values()) * (1 - org.investment_share)
            intra += org_shares()[org.key] * own
    assert 0 < intra < kommune_share
    return intra


def org_shares() -> dict[str, float]:
    """Share of the region's purchases per organisation: kommuner by population (smaller ones buy a
    little more per inhabitant), IKS by their fixed share."""
    iks_total = sum(o.share for o in ORGS if o.kind == "iks")
    weights = {o.key: o.population ** 0.9 for o in ORGS if o.kind == "kommune"}
    total = sum(weights.values())
    shares = {}
    for org in ORGS:
        shares[org.key] = org.share if org.kind == "iks" else (1 - iks_total) * weights[org.key] / total
    return shares

# --- what each supplier sells and where it is booked (issue 18 item 5) ------------------------------------
# A line's text comes from its supplier's list (generate.OrgYear.text), so a waste treatment line is from a
# waste company and a school bus company never sells "Innsamlingsruter". Per art where a supplier sells under
# several arts; "*" for any other art.
SUPPLIER_TEXTS: dict[str, dict[str, list[str]]] = {
    "office": {"105": ["Læremidler, kontorrekvisita", "Skrivesaker til elever", "Papir til skolen"],
               "120": ["Forbruksmateriell kontor", "Engangsartikler", "Tørkepapir og såpe"],
               "*": ["Kontorrekvisita", "Papir og toner", "Kontormateriell"]},
    "pc": {"100": ["Toner og blekk", "Tastaturer og mus", "Kabler og tilbehør"],
           "220": ["Leie av kopimaskin {month}", "Leie av skrivere {month}"],
           "*": ["PC-er og skjermer", "Nettbrett", "Skrivere og tilbehør"]},
    "books": {"*": ["Læremidler", "Digitale læremidler, lisenser", "Bøker til skolebiblioteket"]},
    "medical": {"120": ["Hansker og engangsartikler", "Desinfeksjonsmidler", "Forbruksmateriell pleie"],
                "209": ["Medisinsk utstyr", "Hjelpemidler"],
                "*": ["Sykepleieartikler", "Inkontinensprodukter", "Medisinsk forbruksmateriell"]},
    "pharmacy": {"*": ["Legemidler multidose", "Legemidler"]},
    "food": {"120": ["Kjøkkenutstyr og engangsartikler", "Renholdsmidler til kjøkken"],
             "*": ["Matvarer uke {week}", "Kjøkkenleveranse uke {week}", "Storhusholdningsvarer uke {week}"]},
    "food2": {"*": ["Frukt og grønt uke {week}", "Grønnsaker uke {week}", "Frukt uke {week}"]},
    "dairy": {"*": ["Meierivarer uke {week}", "Melk og ost uke {week}"]},
    "bakery": {"*": ["Brød og bakevarer uke {week}", "Bakeriet uke {week}"]},
    "fuel": {"*": ["Drivstoff {month}", "Diesel {month}", "Fyringsolje og drivstoff {month}"]},
    "fuel2": {"*": ["Drivstoff {month}", "Diesel {month}", "AdBlue og smøreolje"]},
    "timber": {"120": ["Verktøy og rekvisita", "Festemidler og småvarer", "Maling"],
               "*": ["Byggevarer", "Trelast", "Byggevarer og trelast"]},
    "chem": {"*": ["Vannbehandlingskjemikalier", "Fellingskjemikalier", "Klor og lut"]},
    "containers": {"*": ["Containere og beholdere", "Avfallsbeholdere", "Kompostbeholdere"]},
    "firegear": {"*": ["Brannslanger og armatur", "Verneutstyr for brannmannskap", "Røykdykkerutstyr"]},
    "tele": {"*": ["Mobilabonnement {month}", "Bredbånd og datalinjer {month}", "Fasttelefoni {month}"]},
    "it": {"130": ["Datalinjer {month}", "Nettverkstjenester {month}"],
           "195": ["Programvarelisenser", "Lisens fagsystem"],
           "240": ["Driftsavtale IKT {month}", "Brukerstøtte IKT {month}"],
           "*": ["IKT-tjenester {month}"]},
    "media": {"*": ["Kunngjøring", "Stillingsannonse", "Informasjonsmateriell"]},
    "course": {"*": ["Kursavgift", "Fagdag", "Konferanseavgift"]},
    "consult": {"150": ["Kurs i prosjektledelse", "Fagdag økonomi"],
                "*": ["Konsulenttjenester", "Rådgivning", "Analyser"]},
    "engineer": {"*": ["Rådgivende ingeniørtjenester", "Prosjektering", "Byggeledelse"]},
    "audit": {"*": ["Revisjonsbistand", "Økonomisk rådgivning", "Forvaltningsrevisjon"]},
    "law": {"*": ["Juridisk bistand", "Advokatbistand"]},
    "temps": {"370": ["Innleie av sykepleiere {month}", "Vikarer helse og omsorg {month}"],
              "*": ["Innleid personell", "Vikartjenester {month}"]},
    "taxi": {"*": ["Drosje", "TT-transport {month}", "Pasienttransport {month}"]},
    "bus": {"*": ["Skoleskyss {month}", "Busstransport {month}", "Turkjøring"]},
    "schoolbus": {"*": ["Skoleskyss {month}", "Skoleskyss, tilleggsrute {month}"]},
    "power": {"*": ["Strøm {month}"]},
    "grid": {"*": ["Nettleie {month}"]},
    "heat": {"*": ["Fjernvarme {month}"]},
    "insurance": {"*": ["Forsikringspremie", "Yrkesskadeforsikring"]},
    "guard": {"*": ["Vakthold og alarm {month}", "Alarmovervåking {month}"]},
    "rent": {"*": ["Husleie {month}", "Leie av lokaler {month}"]},
    "rent2": {"*": ["Husleie {month}", "Leie av lokaler {month}"]},
    "rent3": {"*": ["Husleie {month}", "Leie av lokaler {month}"]},
    "software": {"*": ["Lisens fagsystem", "Årsavgift", "Programvarelisenser"]},
    "furniture": {"*": ["Inventar", "Møbler", "Utstyr"]},
    "rental": {"*": ["Leie av maskiner", "Leie av anleggsmaskiner", "Leie av lift"]},
    "cars": {"210": ["Leasing kjøretøy {month}", "Kjøp av kjøretøy", "Tjenestebil"], "*": ["Bilutleie"]},
    "trucks": {"170": ["Leie av lastebil med sjåfør {month}", "Transport av avfall {month}"],
               "*": ["Lastebil", "Leasing lastebil {month}", "Kjøretøy"]},
    "build": {"*": ["Vedlikehold bygg", "Utbedring tak", "Byggearbeider"]},
    "build2": {"*": ["Vedlikehold bygg", "Entreprise, delfaktura", "Betongarbeider"]},
    "dig": {"370": ["Graving og tilkobling av stikkledninger", "Graving, lekkasjereparasjon"],
            "*": ["Graving og masseflytting", "Asfaltering", "Reparasjon ledningsnett"]},
    "pipe": {"230": ["Rørleggerarbeider", "Reparasjon ledningsnett"],
             "240": ["Service varmeanlegg", "Serviceavtale ventilasjon"],
             "*": ["Rørdeler", "Sanitærutstyr"]},
    "elec": {"230": ["Elektroarbeider", "Nytt el-anlegg"], "240": ["Service elektroanlegg", "Serviceavtale nødlys"],
             "*": ["Elektromateriell", "Lysarmaturer"]},
    "lift": {"*": ["Heisservice", "Serviceavtale ventilasjon"]},
    "clean": {"*": ["Renhold {month}", "Hovedrengjøring"]},
    "laundry": {"*": ["Vask av tøy {month}", "Leie og vask av arbeidstøy {month}"]},
    "lab": {"*": ["Vannprøver og analyser {month}", "Analyser avløpsvann {month}"]},
    "recycle": {"*": ["Behandling av avfall {month}", "Mottak av restavfall {month}", "Sortering av avfall {month}"]},
    "incinerate": {"*": ["Energigjenvinning av restavfall {month}", "Forbrenning av avfall {month}"]},
    "childcare": {"*": ["Kjøp av plass, barnevernsinstitusjon {month}", "Beredskapshjem {month}"]},
    "care": {"*": ["Kjøp av plass, omsorgsbolig {month}", "Private omsorgstjenester {month}",
                   "Avlastning {month}"]},
    "doctor": {"*": ["Legevakt {month}", "Fastlegetjenester {month}"]},
    "state": {"*": ["Kjøp fra staten"]},
    "county": {"*": ["Tannhelsetjenester"]},
}

# Functions a supplier's purchases are booked on when it serves one field (KOSTRA functions, by prefix); a line
# placed elsewhere moves to a unit of the organisation that has such a function.
SUPPLIER_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "recycle": ("355", "354"), "incinerate": ("355", "354"), "lab": ("340", "345", "350", "353"),
    "childcare": ("244", "251", "252"), "care": ("253", "254", "234"), "doctor": ("241", "232", "233"),
    "temps|370": ("253", "254", "241"), "chem": ("340", "345", "350", "353"),
}
