"""The deterministic demo-region generator: ledger exports and a KOSTRA file, written as files.

Pure: it touches no database. The same seed, scale and `today` give byte-identical files. Every
organisation and year gets its own random stream (seeded by a string, which Python hashes with
SHA-512, not with the per-process `hash()`), so the past years' files stay the same as `today` moves on.

Budgets are allocated exactly: each organisation-year-art budget is split over its lines, so the
region's purchases per year match the calibration to the øre whatever the scale; randomness only
decides how the budget is spread over lines, units, suppliers and dates.

EHF invoices (ehf.py): the fuel supplier's to the IKS that drive trucks and to the kommuner's technical
services, the food wholesaler's to the kommuner's care homes and schools. Their budget is a smooth share
of the organisation's art 120 / 115 (the rest of the art goes to other suppliers as before), and each
invoice is booked in the ledger as one or two lines with its supplier orgnr, number and amount, so the
engine replaces those lines with the invoice's litres and kilograms. Files: ehf/<org>/<year>/<number>.xml.

Supplier purchase statistics (stats.py): a fruit-and-vegetables supplier's and a fuel-card supplier's
quarterly reports (CSV and XLSX, all their customers in one file) from 2024, their invoices booked in the
customers' ledgers in the same way. Files: statistikk/<supplier>/<report>-<year>-K<quarter>.csv|xlsx.
"""
from __future__ import annotations

import bisect
import calendar
import datetime as dt
import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from klimainnkjop.demo import ehf
from klimainnkjop.demo import region as R
from klimainnkjop.demo import stats
from klimainnkjop.demo import writers

MONTHS_NB = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
             "november", "desember")

TEXTS = {
    "010": ["Fastlønn {month}"], "020": ["Vikarlønn {month}"], "040": ["Overtid {month}"],
    "090": ["Pensjonsinnskudd {month}"], "099": ["Arbeidsgiveravgift {month}"],
    "100": ["Kontorrekvisita", "Papir og toner", "Kontormateriell"],
    "105": ["Læremidler", "Digitale læremidler, lisenser", "Bøker til skolebiblioteket"],
    "110": ["Sykepleieartikler", "Inkontinensprodukter", "Medisinsk forbruksmateriell"],
    "114": ["Legemidler multidose", "Legemidler"],
    "115": ["Matvarer uke {week}", "Kjøkkenleveranse uke {week}", "Frukt og grønt uke {week}",
            "Meierivarer uke {week}"],
    "120": ["Forbruksmateriell", "Drivstoff {month}", "Verktøy og rekvisita", "Rengjøringsmidler", "Kjemikalier"],
    "130": ["Mobilabonnement {month}", "Bredbånd og datalinjer {month}", "Porto"],
    "140": ["Kunngjøring", "Stillingsannonse", "Informasjonsmateriell"],
    "150": ["Kursavgift", "Fagdag", "Konferanseavgift"],
    "170": ["Skoleskyss {month}", "TT-transport {month}", "Drosje", "Reise og opphold", "Innsamlingsruter {month}"],
    "180": ["Strøm {month}", "Nettleie {month}"],
    "181": ["Fjernvarme {month}"],
    "185": ["Forsikringspremie", "Vakthold og alarm {month}"],
    "190": ["Husleie {month}", "Leie av lokaler {month}"],
    "195": ["Lisens fagsystem", "Årsavgift", "Programvarelisenser", "Gebyrer"],
    "200": ["Inventar", "PC-er og skjermer", "Utstyr", "Containere og beholdere"],
    "209": ["Medisinsk utstyr", "Hjelpemidler"],
    "210": ["Leasing kjøretøy {month}", "Kjøp av kjøretøy", "Kjøretøy"],
    "220": ["Leie av maskiner", "Leie av kopimaskin {month}"],
    "230": ["Vedlikehold bygg", "Utbedring tak", "Reparasjon ledningsnett", "Asfaltering"],
    "240": ["Serviceavtale ventilasjon", "Heisservice", "Vaktmestertjenester {month}", "Driftsavtale IKT {month}"],
    "250": ["Byggevarer", "Rørdeler", "Elektromateriell"],
    "260": ["Renhold {month}", "Vask av tøy {month}"],
    "270": ["Konsulenttjenester", "Juridisk bistand", "Innleid personell", "Rådgivning", "Analyser"],
    "300": ["Kjøp fra staten"], "330": ["Tannhelsetjenester"], "350": ["Interkommunalt samarbeid {month}"],
    "370": ["Kjøp av plass", "Private tjenester {month}", "Legevakt {month}", "Behandling av avfall {month}"],
    "375": ["Kjøp fra IKS {month}"],
    "429": ["Merverdiavgift med rett til kompensasjon {month}"],
    "470": ["Tilskudd til lag og foreninger", "Økonomisk sosialhjelp {month}"],
    "475": ["Overføring til IKS"], "500": ["Renter {month}"], "510": ["Avdrag lån {month}"],
    "600": ["Brukerbetalinger {month}", "Foreldrebetaling {month}"], "620": ["Gebyrer {month}", "Salg"],
    "630": ["Husleieinntekter {month}"], "650": ["Salg av tjenester {month}"], "700": ["Refusjon fra staten"],
    "710": ["Sykelønnsrefusjon {month}"], "729": ["Kompensasjon for merverdiavgift {month}"],
    "750": ["Refusjon fra eierkommunene {month}"], "800": ["Rammetilskudd {month}"], "870": ["Skatteinngang {month}"],
    "910": ["Bruk av lån"],
}
# Where non-purchase arts are posted (function), when not on a sampled unit's function.
FIXED_FUNCTION = {"500": "870", "510": "870", "800": "840", "870": "800", "910": "870"}
# Spread of line amounts (lognormal sigma): monthly bills are alike, construction invoices are not.
SIGMA = {"180": 0.35, "181": 0.35, "190": 0.4, "130": 0.6, "230": 1.2, "270": 1.2, "370": 1.2}
INTRA_SHARE = R.intra_region_share()
LAYOUT_EXT = {"visma": "csv", "agresso-csv": "csv", "agresso-xlsx": "xlsx"}


@dataclass
class Line:
    date: dt.date
    art: str
    unit: R.Unit
    function: str
    project: str
    investment: bool
    supplier: R.Supplier | None
    amount_ore: int
    vat_ore: int
    text: str
    invoice: str
    voucher: str = ""
    line_no: int = 1
    ehf: bool = False              # booked from an EHF invoice (its lines share one voucher)


@dataclass
class DemoFile:
    org_key: str
    orgnr: str
    org_name: str
    year: int
    layout: str
    profile: str
    path: str                      # relative to the demo directory
    rows: int
    amount_ore: int                # all lines
    positive_ore: int              # all positive lines
    purchase_ore: int              # KOSTRA art 100-379


@dataclass
class DemoOrg:
    key: str
    orgnr: str
    name: str
    kind: str
    kostra_region: str
    layout: str
    profile: str


@dataclass
class Manifest:
    directory: Path
    seed: int
    scale: float
    today: dt.date
    region: str
    organisations: list[DemoOrg]
    files: list[DemoFile]
    kostra_files: list[dict]
    profiles: dict[str, dict] = field(default_factory=dict)  # org key -> profile spec
    # EHF invoices per organisation and year: org_key, orgnr, year, directory, documents (paths), amount_ore
    invoice_files: list[dict] = field(default_factory=list)
    # Supplier statistics, one per supplier and quarter: supplier, profile, path, year, quarter, customers
    # (org keys), rows, amount_ore (per customer); and the profile spec per supplier key
    stats_files: list[dict] = field(default_factory=list)
    stats_profiles: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "seed": self.seed, "scale": self.scale, "today": self.today.isoformat(), "region": self.region,
            "organisations": [asdict(o) for o in self.organisations], "files": [asdict(f) for f in self.files],
            "kostra_files": self.kostra_files, "profiles": self.profiles, "invoice_files": self.invoice_files,
            "stats_files": self.stats_files, "stats_profiles": self.stats_profiles,
        }, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@dataclass
class Bucket:
    art: str
    budget_nok: float
    investment: bool = False
    project: R.Project | None = None


# --- budgets -------------------------------------------------------------------------------------------
def region_purchases(year: int, scale: float) -> float:
    """Gross purchases of all organisations (including those between them) for one year."""
    consolidated = R.REGION_PURCHASES_NOK * scale * (1 + R.GROWTH) ** (year - R.REFERENCE_YEAR)
    return consolidated / (1 - INTRA_SHARE)


def _noisy(shares: dict[str, float], rng: random.Random | None, spread: float) -> dict[str, float]:
    noisy = {k: v * (rng.uniform(1 - spread, 1 + spread) if rng else 1.0) for k, v in shares.items()}
    total = sum(noisy.values())
    return {k: v / total for k, v in noisy.items()}


def operating_shares(org: R.Org) -> dict[str, float]:
    if org.kind == "kommune":
        shares = {**R.OPERATING_100_299, **R.OPERATING_300_379}
    else:
        shares = R.IKS_PROFILES[org.profile]
    total = sum(shares.values())
    return {art: value / total for art, value in shares.items()}


def org_year_buckets(org: R.Org, year: int, scale: float, rng: random.Random | None) -> list[Bucket]:
    """Budgets (NOK, negative for income) per art for one organisation and year."""
    purchases = region_purchases(year, scale) * R.org_shares()[org.key] * (rng.uniform(0.97, 1.03) if rng else 1.0)
    investment = purchases * org.investment_share
    operating = purchases - investment
    buckets = [Bucket(art, operating * share) for art, share in _noisy(operating_shares(org), rng, 0.08).items()]
    if investment > 0:
        projects = [p for p in org.projects if p.first_year <= year <= p.last_year] + [minor_project(org)]
        weight = sum(p.weight for p in projects)
        for project in projects:
            for art, share in project.arts:
                buckets.append(Bucket(art, investment * project.weight / weight * share, True, project))
    wages = purchases * org.wage_ratio
    buckets += [Bucket(art, wages * share) for art, share in R.WAGE_SPLIT.items()]
    others = R.KOMMUNE_OTHER if org.kind == "kommune" else R.IKS_OTHER
    for art, ratio in others.items():
        base = operating if art in ("429", "729") else purchases
        buckets.append(Bucket(art, base * ratio))
    if investment > 0:
        buckets.append(Bucket("429", investment * 0.15, True, minor_project(org)))
        buckets.append(Bucket("729", -investment * 0.15, True, minor_project(org)))
        if org.kind == "kommune":
            buckets.append(Bucket("910", -investment * 0.7, True, minor_project(org)))
    return buckets


def minor_project(org: R.Org) -> R.Project:
    index = [o.key for o in R.ORGS].index(org.key) + 1
    unit = "4200" if org.kind == "kommune" else org.units[-1].code
    return R.Project(f"{index:02d}00", "Mindre investeringer", "", unit, 2000, 2100, 1.0, R.MINOR)


def typical_size(bucket: Bucket) -> float:
    if bucket.investment and bucket.art in R.INVESTMENT_TYPICAL_LINE_NOK:
        return R.INVESTMENT_TYPICAL_LINE_NOK[bucket.art]
    return R.TYPICAL_LINE_NOK[bucket.art]


def line_density() -> float:
    """Lines per 'typical invoice' so that the region has PURCHASE_LINES_PER_YEAR purchase lines a year."""
    raw = 0.0
    for org in R.ORGS:
        for bucket in org_year_buckets(org, R.REFERENCE_YEAR, 1.0, None):
            if R.is_purchase_art(bucket.art):
                raw += abs(bucket.budget_nok) / typical_size(bucket)
    return R.PURCHASE_LINES_PER_YEAR / raw


# --- lines ---------------------------------------------------------------------------------------------
class Picker:
    """Weighted choice from a fixed, ordered list (deterministic for a given random stream)."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)

    def pick(self, rng: random.Random):
        if len(self.items) == 1:
            return self.items[0]
        return self.items[min(bisect.bisect_right(self.cum, rng.random() * self.cum[-1]), len(self.items) - 1)]


def _business_day(year: int, month: int, day: int) -> dt.date:
    date = dt.date(year, month, day)
    if date.weekday() >= 5:
        back = date - dt.timedelta(days=date.weekday() - 4)
        date = back if back.month == month else date + dt.timedelta(days=7 - date.weekday())
    return date


class OrgYear:
    def __init__(self, org: R.Org, year: int, scale: float, seed: int, today: dt.date, density: float,
                 iks_suppliers: dict[str, R.Supplier], kommune_suppliers: dict[str, R.Supplier]):
        self.org, self.year, self.today, self.density = org, year, today, density
        self.rng = random.Random(f"klimainnkjop-demo|{seed}|{org.key}|{year}")
        self.iks_suppliers, self.kommune_suppliers = iks_suppliers, kommune_suppliers
        self.scale, self.seed = scale, seed
        self.invoices: list[ehf.Invoice] = []          # the year's EHF invoices up to today
        self.stats_invoices: list[stats.StatsInvoice] = []  # the year's invoices reported in supplier statistics
        self.invoiced: dict[str, set[str]] = {}         # art -> suppliers whose purchases come as planned invoices
        self.units_by_code = {u.code: u for u in org.units}
        self.all_units = Picker(list(org.units), [u.weight for u in org.units])
        self.pickers: dict[tuple, Picker] = {}
        self.sector_units: dict[str, Picker] = {}
        for unit in org.units:
            self.sector_units.setdefault(unit.sector, Picker([], []))
        for sector in self.sector_units:
            members = [u for u in org.units if u.sector == sector]
            self.sector_units[sector] = Picker(members, [u.weight for u in members])

    def picker(self, key: tuple, items: list, weights: list[float]) -> Picker:
        found = self.pickers.get(key)
        if found is None:
            found = self.pickers[key] = Picker(items, weights)
        return found

    # where a line is posted
    def place(self, bucket: Bucket) -> tuple[R.Unit, str, R.Supplier | None]:
        rng, org, art = self.rng, self.org, bucket.art
        supplier = None
        if art == "375" and org.kind == "kommune":
            key = self.picker(("iks",), list(R.IKS_SERVICES), [s for _, s in R.IKS_SERVICES.values()]).pick(rng)
            unit = self.sector_units[R.IKS_SERVICES[key][0]].pick(rng)
            return unit, rng.choice(R.IKS_FUNCTION[key]), self.iks_suppliers[key]
        if art == "350":
            others = [k for k in self.kommune_suppliers if k != org.key]
            supplier = self.kommune_suppliers[rng.choice(others)]
        elif R.is_purchase_art(art):
            pool = R.IKS_SUPPLIERS.get(org.profile, {}).get(art) or R.SUPPLIERS_BY_ART[art]
            pool = [(k, w) for k, w in pool if k not in self.invoiced.get(art, ())]
            supplier = R.SUPPLIERS[self.picker(("supplier", art), [k for k, _ in pool], [w for _, w in pool]).pick(rng)]
        if bucket.project is not None and bucket.project.function:
            return self.units_by_code[bucket.project.unit], bucket.project.function, supplier
        if art in FIXED_FUNCTION:
            unit = self.units_by_code.get("1100", org.units[0])
            return unit, FIXED_FUNCTION[art], supplier
        if org.kind == "kommune" and art in R.KOMMUNE_SECTORS:
            sectors = R.KOMMUNE_SECTORS[art]
            sector = self.picker(("sector", art), list(sectors), list(sectors.values())).pick(rng)
            unit = self.sector_units[sector].pick(rng)
        elif org.kind == "kommune" and art in ("600",):
            unit = self.sector_units[rng.choice(["inst", "bhg"])].pick(rng)
        elif org.kind == "kommune" and art == "630":
            unit = self.units_by_code["4200"]
            return unit, "265", supplier
        else:
            unit = self.all_units.pick(rng)
        return unit, rng.choice(unit.functions), supplier

    def fit(self, unit: R.Unit, function: str, supplier: R.Supplier | None, bucket: Bucket):
        """A supplier that serves one field is booked on its functions: a line placed on another function moves
        to a unit of the organisation that has one (chosen from the unit drawn, without another random draw)."""
        if supplier is None or (bucket.project is not None and bucket.project.function):
            return unit, function, supplier
        allowed = R.SUPPLIER_FUNCTIONS.get(f"{supplier.key}|{bucket.art}") or R.SUPPLIER_FUNCTIONS.get(supplier.key)
        if not allowed or function.startswith(allowed):
            return unit, function, supplier
        fitting = [(u, f) for u in self.org.units for f in u.functions if f.startswith(allowed)]
        if not fitting:
            return unit, function, supplier
        index = sum(ord(c) for c in unit.code + function) % len(fitting)
        return fitting[index][0], fitting[index][1], supplier

    def text(self, art: str, date: dt.date, project: R.Project | None, supplier: R.Supplier | None = None) -> str:
        choices = TEXTS.get(art, ["Diverse"])
        template = self.rng.choice(choices)
        own = R.SUPPLIER_TEXTS.get(supplier.key) if supplier is not None else None
        if own:  # the supplier's own texts, at the position drawn (the random stream stays the same)
            texts = own.get(art) or own["*"]
            template = texts[choices.index(template) % len(texts)]
        text = template.format(month=f"{MONTHS_NB[date.month - 1]} {date.year}", week=date.isocalendar()[1])
        if project is not None and project.function:
            text = f"{project.name}: {text.lower() if art != '230' else 'entreprise, delfaktura'}"
        return text

    def invoice_lines(self, bucket: Bucket) -> tuple[list[Line], int]:
        """The ledger lines booked from the bucket's EHF invoices (fuel, food) and the budget they use.

        The invoices' budget is a smooth share of the year's purchases (no per-year noise), so the spend
        on fuel and food grows steadily and a switch shows in the emissions, not in the spend."""
        org, year = self.org, self.year
        if bucket.investment:
            return [], 0
        out, used = self.stats_lines(bucket)
        if bucket.art not in (ehf.FUEL_ART, ehf.FOOD_ART):
            return out, used
        kind = "fuel" if bucket.art == ehf.FUEL_ART else "food"
        share = ehf.fuel_budget_share(org) if kind == "fuel" else ehf.food_budget_share(org)
        if share <= 0:
            return out, used
        operating = region_purchases(year, self.scale) * R.org_shares()[org.key] * (1 - org.investment_share)
        budget_ore = round(operating * operating_shares(org)[bucket.art] * share * 100)
        invoices = ehf.plan_invoices(org, year, kind, budget_ore, self.scale, self.seed)
        self.invoiced.setdefault(bucket.art, set()).add(ehf.FUEL_SUPPLIER if kind == "fuel" else ehf.FOOD_SUPPLIER)
        used += sum(invoice.amount_ore for invoice in invoices)
        for invoice in invoices:
            if invoice.issue_date > self.today:
                continue
            self.invoices.append(invoice)
            date = invoice.issue_date
            text = (f"Drivstoff {MONTHS_NB[date.month - 1]} {date.year}" if kind == "fuel"
                    else f"Matvarer uke {date.isocalendar()[1]}")
            for function, amount, vat in invoice.ledger_parts():
                out.append(Line(date=date, art=bucket.art, unit=invoice.unit, function=function, project="",
                                investment=False, supplier=invoice.supplier, amount_ore=amount, vat_ore=vat,
                                text=text, invoice=invoice.number, ehf=True))
        return out, used

    def stats_lines(self, bucket: Bucket) -> tuple[list[Line], int]:
        """The ledger lines of the invoices a framework supplier reports in its statistics (one line per
        invoice, with the supplier orgnr, number and net amount of the report's rows) and the budget they use."""
        org, year = self.org, self.year
        supplier = stats.supplier_for(org, bucket.art)
        if supplier is None or year < stats.STATS_START:
            return [], 0
        operating = region_purchases(year, self.scale) * R.org_shares()[org.key] * (1 - org.investment_share)
        budget_ore = round(operating * operating_shares(org)[bucket.art] * stats.budget_share(org, supplier) * 100)
        invoices = stats.plan_invoices(org, year, supplier, budget_ore, self.scale, self.seed)
        self.invoiced.setdefault(bucket.art, set()).add(supplier.key)
        out = []
        for invoice in invoices:
            if invoice.issue_date > self.today:
                continue
            self.stats_invoices.append(invoice)
            date = invoice.issue_date
            text = (f"Frukt og grønt {MONTHS_NB[date.month - 1]} {date.year}" if supplier is stats.FOOD
                    else f"Drivstoffkort, samlefaktura {MONTHS_NB[date.month - 1]} {date.year}")
            out.append(Line(date=date, art=bucket.art, unit=invoice.unit, function=invoice.function, project="",
                            investment=False, supplier=R.SUPPLIERS[supplier.key], amount_ore=invoice.amount_ore,
                            vat_ore=invoice.vat_ore, text=text, invoice=invoice.number))
        return out, sum(invoice.amount_ore for invoice in invoices)

    def lines(self) -> list[Line]:
        rng = self.rng
        out: list[Line] = []
        for bucket in org_year_buckets(self.org, self.year, self.scale, rng):
            budget_ore = round(bucket.budget_nok * 100)
            invoiced, used = self.invoice_lines(bucket)
            out.extend(invoiced)
            budget_ore -= used
            if budget_ore == 0:
                continue
            count = max(1, round(self.density * abs(bucket.budget_nok) / typical_size(bucket)))
            season = R.SEASON_BY_ART.get(bucket.art, R.SEASON_DEFAULT)
            root = [math.sqrt(s) for s in season]
            months = Picker(list(range(1, 13)), root)
            sigma = SIGMA.get(bucket.art, 1.0 if R.is_purchase_art(bucket.art) else 0.35)
            drafts = []
            for _ in range(count):
                month = months.pick(rng)
                if bucket.art in R.WAGE_SPLIT:
                    day = 12
                else:
                    day = rng.randint(1, calendar.monthrange(self.year, month)[1])
                weight = rng.lognormvariate(0.0, sigma) * root[month - 1]
                drafts.append((_business_day(self.year, month, day), weight))
            total_weight = sum(w for _, w in drafts)
            amounts = [int(budget_ore * w / total_weight) for _, w in drafts]
            largest = max(range(count), key=lambda i: abs(amounts[i]))
            amounts[largest] += budget_ore - sum(amounts)
            vat_rate = R.VAT_RATE.get(bucket.art, 0.25) if R.is_purchase_art(bucket.art) else 0.0
            for (date, _), amount in zip(drafts, amounts):
                unit, function, supplier = self.fit(*self.place(bucket), bucket)
                out.append(Line(
                    date=date, art=bucket.art, unit=unit, function=function,
                    project=bucket.project.code if bucket.project is not None else "",
                    investment=bucket.investment, supplier=supplier, amount_ore=amount,
                    vat_ore=round(amount * vat_rate), text=self.text(bucket.art, date, bucket.project, supplier),
                    invoice=str(rng.randint(100000, 9999999)) if supplier is not None else "",
                ))
        out = [line for line in out if line.date <= self.today and line.amount_ore != 0]
        out.sort(key=lambda ln: (ln.date, ln.supplier is None, ln.art, ln.unit.code, ln.function, ln.amount_ore))
        # Vouchers: one per invoice (an EHF invoice booked on several lines keeps one voucher); the wages of
        # a month share one payroll voucher.
        number, payroll, booked = 0, {}, {}
        for line in out:
            if line.ehf:
                key = (line.supplier.orgnr, line.invoice)
                if key not in booked:
                    number += 1
                    booked[key] = [f"{self.year % 100:02d}{number:06d}", 0]
                voucher = booked[key]
                voucher[1] += 1
                line.voucher, line.line_no = voucher[0], voucher[1]
            elif line.art in R.WAGE_SPLIT:
                if line.date not in payroll:
                    number += 1
                    payroll[line.date] = [f"{self.year % 100:02d}{number:06d}", 0]
                voucher = payroll[line.date]
                voucher[1] += 1
                line.voucher, line.line_no = voucher[0], voucher[1]
            else:
                number += 1
                line.voucher, line.line_no = f"{self.year % 100:02d}{number:06d}", 1
        return out


# --- files ---------------------------------------------------------------------------------------------
def profile_spec(layout: str) -> dict:
    if layout == "visma":
        return {
            "name": "visma",
            "columns": {"posting_date": "Bilagsdato", "account": "Konto", "function": "Funksjon", "unit": "Ansvar",
                        "unit_name": "Ansvarsnavn", "project": "Prosjekt", "kontoklasse": "Kontoklasse",
                        "supplier_orgnr": "Lev.orgnr", "supplier_name": "Leverandør", "description": "Tekst",
                        "invoice_no": "Fakturanr", "amount": "Beløp", "vat": "MVA", "voucher": "Bilagsnr",
                        "line_id": "Linje"},
            "encoding": "cp1252", "delimiter": ";", "date_format": "%d.%m.%Y", "currency": "NOK",
        }
    columns = {"posting_date": "Bilagsdato", "account": "Konto", "art": "Art", "function": "Tjeneste",
               "unit": "Ansvar", "unit_name": "Ansvar (T)", "project": "Prosjekt", "kontoklasse": "Regnskap",
               "supplier_orgnr": "Org.nr", "supplier_name": "Leverandørnavn", "description": "Beskrivelse",
               "invoice_no": "Fakturanr", "currency": "Valuta", "amount": "Beløp", "vat": "Mva-beløp",
               "voucher": "Bilagsnr", "line_id": "Sekvensnr"}
    spec = {"name": "agresso", "columns": columns, "date_format": "%Y-%m-%d", "currency": "NOK",
            "values": {"kontoklasse": {"Driftsregnskap": "1", "Investeringsregnskap": "0"}}}
    if layout == "agresso-xlsx":
        spec.update(name="agresso-xlsx", sheet="Hovedbok")
    else:
        spec.update(delimiter=",", encoding="utf-8-sig")
    return spec


def generate(directory: Path, *, scale: float = 1.0, seed: int = 2021, today: dt.date | None = None,
             progress=None) -> Manifest:
    """Write the demo region's files under `directory` (replacing earlier demo files) and return the manifest."""
    today = today or dt.date.today()
    if scale <= 0:
        raise ValueError("scale must be positive")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in sorted(directory.glob("ledger/*/*")) + sorted(directory.glob("kostra/*")) + \
            sorted(directory.glob("ehf/*/*/*.xml")) + sorted(directory.glob("statistikk/*/*")):
        old.unlink()
    density = line_density()
    iks_suppliers = {o.key: R.Supplier(o.key, o.name, o.orgnr) for o in R.ORGS if o.kind == "iks"}
    kommune_suppliers = {o.key: R.Supplier(o.key, o.name, o.orgnr) for o in R.ORGS if o.kind == "kommune"}
    organisations = [DemoOrg(o.key, o.orgnr, o.name, o.kind, o.kostra_region, o.layout, profile_spec(o.layout)["name"])
                     for o in R.ORGS]
    files: list[DemoFile] = []
    invoice_files: list[dict] = []
    stats_invoices: list[stats.StatsInvoice] = []
    years = list(range(R.START_YEAR, today.year + 1))
    for org in R.ORGS:
        spec = profile_spec(org.layout)
        for year in years:
            if progress:
                progress(f"Genererer {org.name} {year}")
            org_year = OrgYear(org, year, scale, seed, today, density, iks_suppliers, kommune_suppliers)
            lines = org_year.lines()
            stats_invoices.extend(org_year.stats_invoices)
            if not lines:
                continue
            if org_year.invoices:
                invoice_files.append(write_invoices(directory, org, year, org_year.invoices))
            relative = f"ledger/{org.key}/{org.key}-{year}.{LAYOUT_EXT[org.layout]}"
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(writers.write_ledger(org.layout, lines))
            files.append(DemoFile(
                org.key, org.orgnr, org.name, year, org.layout, spec["name"], relative, len(lines),
                sum(ln.amount_ore for ln in lines), sum(ln.amount_ore for ln in lines if ln.amount_ore > 0),
                sum(ln.amount_ore for ln in lines if R.is_purchase_art(ln.art))))
    kostra_files = []
    kongsvinger = R.ORGS_BY_KEY["kongsvinger"]
    kostra_path = directory / "kostra" / "kongsvinger-2019.txt"
    kostra_path.parent.mkdir(parents=True, exist_ok=True)
    factor = region_purchases(2019, scale) * R.org_shares()["kongsvinger"] / (R.KONGSVINGER_PURCHASES_2019 * 1000)
    kostra_rng = random.Random(f"klimainnkjop-demo|{seed}|kostra")
    kostra_path.write_bytes(writers.write_kostra_2019(kongsvinger, factor, kostra_rng))
    kostra_files.append({"org_key": "kongsvinger", "orgnr": kongsvinger.orgnr, "year": 2019,
                         "path": "kostra/kongsvinger-2019.txt", "scale_factor": round(factor, 6)})
    stats_files = stats.write_reports(directory, stats_invoices, today)
    manifest = Manifest(directory, seed, scale, today, R.REGION_NAME, organisations, files, kostra_files,
                        {o.key: profile_spec(o.layout) for o in R.ORGS}, invoice_files, stats_files,
                        {s.key: stats.profile_spec(s) for s in stats.SUPPLIERS})
    (directory / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def write_invoices(directory: Path, org: R.Org, year: int, invoices: list[ehf.Invoice]) -> dict:
    """One EHF document per invoice under ehf/<org>/<year>/; the manifest entry of the organisation-year."""
    folder = f"ehf/{org.key}/{year}"
    (directory / folder).mkdir(parents=True, exist_ok=True)
    documents = []
    for invoice in sorted(invoices, key=lambda i: i.number):
        relative = f"{folder}/{invoice.number}.xml"
        (directory / relative).write_bytes(ehf.write_invoice(invoice))
        documents.append(relative)
    return {"org_key": org.key, "orgnr": org.orgnr, "year": year, "directory": folder, "documents": documents,
            "amount_ore": sum(i.amount_ore for i in invoices)}
