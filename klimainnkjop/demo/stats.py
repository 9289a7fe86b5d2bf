"""Supplier purchase statistics of the demo: two framework suppliers' quarterly reports.

- Solør Frukt og Grønt AS (fruit, vegetables and potatoes, art 115) delivers to the Solør kommuner (Grue,
  Våler, Åsnes) and reports every quarter, as CSV, each invoice's products with kilograms and net amounts
  for all its framework customers in one file.
- Solør Energi og Drivstoff AS (fuel cards, art 120) reports every quarter, as XLSX, each card
  transaction (date, card, vehicle, station, product, litres, amount) with the collective invoice it was
  billed on, for Solør Renovasjon IKS and Åsnes kommune. Its product codes are the supplier's own; the
  mapping profile translates them into CPV codes (`values`), as a user would.

The framework agreements that require the statistics began on 1 January STATS_START, and a quarter's
report exists once the quarter is over. Each invoice is booked in the customer's ledger as one line with
the supplier's orgnr, the invoice number and the invoice's net amount (the sum of its report rows), so the
engine replaces that ledger line with the report's rows (kilograms, litres) instead of adding to it.

Like the EHF invoices, the reported suppliers' budget is a smooth share of the organisation's art (no
per-year noise), and the fuel card customers switch most of their diesel to HVO from ehf.SWITCH_YEAR.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from klimainnkjop.demo import ehf
from klimainnkjop.demo import region as R
from klimainnkjop.demo import writers

STATS_START = 2024


@dataclass(frozen=True)
class StatsSupplier:
    key: str                        # the supplier (R.SUPPLIERS)
    art: str                        # the KOSTRA art its invoices are booked on
    customers: tuple[str, ...]      # organisation keys
    profile: str                    # the name of the saved supplier-statistics profile
    folder: str
    file_stem: str
    extension: str
    invoice_prefix: str
    vat: float


FOOD = StatsSupplier("food2", "115", ("grue", "valer", "asnes"), "solor-frukt-og-gront",
                     "statistikk/solor-frukt-og-gront", "kjopsstatistikk", "csv", "4", 0.15)
FUEL = StatsSupplier("fuel2", "120", ("solor", "asnes"), "solor-energi-drivstoffkort",
                     "statistikk/solor-energi", "kortrapport", "xlsx", "8", 0.25)
SUPPLIERS = (FOOD, FUEL)

FOOD_PRODUCTS = {p.key: p for p in (
    ehf.Product("potatoes", "Poteter, kokepoteter 10 kg", "03212100-1", "KGM",
                {2021: 11.5, 2022: 12.4, 2023: 13.6, 2024: 14.2, 2025: 14.9, 2026: 15.3}, 15),
    ehf.Product("carrots", "Gulrot, norsk", "03221112-4", "KGM",
                {2021: 14.0, 2022: 15.2, 2023: 16.5, 2024: 17.1, 2025: 17.8, 2026: 18.2}, 15),
    ehf.Product("onions", "Løk, gul", "03221113-1", "KGM",
                {2021: 13.0, 2022: 14.1, 2023: 15.6, 2024: 16.0, 2025: 16.6, 2026: 17.0}, 15),
    ehf.Product("cabbage", "Hodekål", "03221410-3", "KGM",
                {2021: 12.0, 2022: 13.0, 2023: 14.4, 2024: 14.9, 2025: 15.5, 2026: 15.9}, 15),
    ehf.Product("tomatoes", "Tomater", "03221240-0", "KGM",
                {2021: 32.0, 2022: 35.0, 2023: 38.5, 2024: 39.9, 2025: 41.0, 2026: 42.0}, 15),
    ehf.Product("apples", "Epler, norske", "03222321-9", "KGM",
                {2021: 24.0, 2022: 26.0, 2023: 28.5, 2024: 29.5, 2025: 30.5, 2026: 31.2}, 15),
    ehf.Product("bananas", "Bananer", "03222111-4", "KGM",
                {2021: 19.5, 2022: 21.0, 2023: 23.0, 2024: 23.9, 2025: 24.5, 2026: 25.0}, 15),
)}
FOOD_MIX = {"potatoes": 0.24, "carrots": 0.12, "onions": 0.08, "cabbage": 0.08, "tomatoes": 0.14, "apples": 0.18,
            "bananas": 0.16}
FOOD_ITEM_NO = {"potatoes": "10021", "carrots": "10112", "onions": "10113", "cabbage": "10141", "tomatoes": "10124",
                "apples": "20321", "bananas": "20111"}
# Pump prices: a little above the wholesale diesel of the EHF invoices.
FUEL_PRODUCTS = {p.key: p for p in (
    ehf.Product("diesel", "Diesel", "09134220", "LTR", {y: round(v * 1.06, 2) for y, v in ehf.DIESEL_PRICES.items()},
                25),
    ehf.Product("hvo", "HVO100", "09134230", "LTR",
                {y: round(v * 1.06 * 1.18, 2) for y, v in ehf.DIESEL_PRICES.items()},
                25),
)}
FUEL_CODES = {"diesel": "D01", "hvo": "H100"}     # the supplier's product codes, as on the card report
FUEL_MIX = {"before": {"diesel": 1.0}, "after": {"hvo": 0.65, "diesel": 0.35}}
STATIONS = ("Flisa", "Kirkenær", "Kongsvinger", "Elverum", "Skarnes", "Våler")
# Vehicles on fuel cards: (registration number, what it is) per customer
VEHICLES = {
    "solor": (("CV 41208", "Renovasjonsbil"), ("CV 41209", "Renovasjonsbil"), ("CV 52311", "Renovasjonsbil"),
              ("EB 77310", "Krokbil"), ("SU 10432", "Hjullaster")),
    "asnes": (("EB 20817", "Lastebil"), ("EB 31105", "Varebil"), ("JT 4411", "Traktor")),
}
TRANSACTIONS = {"solor": 10, "asnes": 6}          # per monthly invoice at scale 1


@dataclass
class StatsRow:
    date: dt.date
    product: ehf.Product
    quantity: Decimal
    price: Decimal
    card: str = ""
    vehicle: str = ""
    station: str = ""

    @property
    def amount_ore(self) -> int:
        return int((self.quantity * self.price * 100).to_integral_value(ROUND_HALF_UP))


@dataclass
class StatsInvoice:
    supplier: StatsSupplier
    number: str
    issue_date: dt.date
    org: R.Org
    unit: R.Unit
    function: str
    rows: list[StatsRow] = field(default_factory=list)

    @property
    def amount_ore(self) -> int:
        return sum(row.amount_ore for row in self.rows)

    @property
    def vat_ore(self) -> int:
        return round(self.amount_ore * self.supplier.vat)

    @property
    def quarter(self) -> tuple[int, int]:
        return self.issue_date.year, (self.issue_date.month - 1) // 3 + 1


def supplier_for(org: R.Org, art: str) -> StatsSupplier | None:
    for supplier in SUPPLIERS:
        if supplier.art == art and org.key in supplier.customers:
            return supplier
    return None


def budget_share(org: R.Org, supplier: StatsSupplier) -> float:
    """The supplier's share of the organisation's art (its weight in the art's supplier pool)."""
    pool = R.IKS_SUPPLIERS.get(org.profile, {}).get(supplier.art) or R.SUPPLIERS_BY_ART[supplier.art]
    return sum(w for k, w in pool if k == supplier.key) / sum(w for _, w in pool)


def _periods(year: int, scale: float) -> list[tuple[dt.date, dt.date]]:
    """Calendar months at a realistic scale, quarters at a tiny one (so every quarter has an invoice)."""
    step = 1 if scale >= 0.25 else 3
    out = []
    for month in range(1, 13, step):
        last = month + step - 1
        out.append((dt.date(year, month, 1), dt.date(year, last, calendar.monthrange(year, last)[1])))
    return out


def _quantity(budget_ore: float, price: Decimal, places: str) -> Decimal:
    return (Decimal(str(budget_ore / 100)) / price).quantize(Decimal(places), ROUND_HALF_UP)


def plan_invoices(org: R.Org, year: int, supplier: StatsSupplier, budget_ore: int, scale: float,
                  seed: int) -> list[StatsInvoice]:
    """The year's invoices of `supplier` to `org`, worth about `budget_ore` in all."""
    rng = random.Random(f"klimainnkjop-demo|{seed}|{org.key}|{year}|stats|{supplier.key}")
    periods = _periods(year, scale)
    index = [o.key for o in R.ORGS].index(org.key) + 1
    weights = []
    for start, end in periods:
        months = R.SEASON_DEFAULT[start.month - 1:end.month] if supplier is FOOD else R.SEASON_FLAT[:1]
        weights.append(sum(months) / len(months) * rng.uniform(0.9, 1.1))
    total = sum(weights)
    invoices = []
    for number, ((start, end), weight) in enumerate(zip(periods, weights), start=1):
        budget = budget_ore * weight / total
        issue = ehf._weekday_on_or_before(end)
        invoice_no = f"{supplier.invoice_prefix}{year % 100:02d}{index:02d}{number:03d}"
        if supplier is FOOD:
            places = [u for u in org.units if u.sector in ("inst", "skole", "bhg")]
            unit = places[rng.randrange(len(places))]
            invoice = StatsInvoice(supplier, invoice_no, issue, org, unit, unit.functions[0])
            for key, share in FOOD_MIX.items():
                product = FOOD_PRODUCTS[key]
                quantity = _quantity(budget * share * rng.uniform(0.85, 1.15), product.price_in(year), "0.1")
                if quantity > 0:
                    invoice.rows.append(StatsRow(issue, product, quantity, product.price_in(year)))
        else:
            if org.kind == "kommune":
                unit, function = next(u for u in org.units if u.code == "4300"), "333"
            else:
                unit = next(u for u in org.units if u.code == "2000")
                function = unit.functions[0]
            invoice = StatsInvoice(supplier, invoice_no, issue, org, unit, function)
            mix = FUEL_MIX["after" if year >= ehf.SWITCH_YEAR else "before"]
            count = TRANSACTIONS[org.key] if scale >= 0.25 else 3
            vehicles = VEHICLES[org.key]
            days = (end - start).days + 1
            for _ in range(count):
                key = rng.choices(list(mix), weights=list(mix.values()))[0]
                product = FUEL_PRODUCTS[key]
                price = (product.price_in(year) * Decimal(str(rng.uniform(0.96, 1.04)))).quantize(Decimal("0.01"))
                vehicle = rng.randrange(len(vehicles))
                date = ehf._weekday_on_or_before(start + dt.timedelta(days=rng.randrange(days)))
                if date < start:
                    date = start
                quantity = _quantity(budget / count * rng.uniform(0.6, 1.4), price, "0.01")
                if quantity > 0:
                    invoice.rows.append(StatsRow(date, product, quantity, price,
                                                 card=f"7077 8{index:02d}0 {vehicle + 1:04d}",
                                                 vehicle=vehicles[vehicle][0], station=rng.choice(STATIONS)))
            invoice.rows.sort(key=lambda r: (r.date, r.card))
        if invoice.rows:
            invoices.append(invoice)
    return invoices


# --- the reports ---------------------------------------------------------------------------------------
FOOD_HEADER = ["Kundenr", "Kundenavn", "Org.nr kunde", "Fakturanr", "Fakturadato", "Varenr", "Varetekst", "CPV",
               "Antall", "Enhet", "Nettobeløp"]
FUEL_HEADER = ["Kundenr", "Kunde", "Org.nr", "Kortnummer", "Kjøretøy", "Dato", "Stasjon", "Produktkode", "Produkt",
               "Volum", "Enhet", "Beløp eks. mva", "Mva", "Fakturanr"]


def _norwegian_quantity(quantity: Decimal) -> str:
    whole, _, decimals = f"{quantity:f}".partition(".")
    return f"{int(whole):,}".replace(",", " ") + (f",{decimals}" if decimals else "")


def write_report(supplier: StatsSupplier, invoices: list[StatsInvoice]) -> bytes:
    """One quarter's report: every row of the invoices (all customers), ordered by customer and invoice."""
    invoices = sorted(invoices, key=lambda i: (i.org.orgnr, i.number))
    customer_no = {key: f"{30000 + 17 * n}" for n, key in enumerate(sorted(supplier.customers), start=1)}
    if supplier is FOOD:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(FOOD_HEADER)
        for invoice in invoices:
            for row in invoice.rows:
                writer.writerow([customer_no[invoice.org.key], invoice.org.name, invoice.org.orgnr, invoice.number,
                                 invoice.issue_date.strftime("%d.%m.%Y"), FOOD_ITEM_NO[row.product.key],
                                 row.product.name, row.product.cpv, _norwegian_quantity(row.quantity), "kg",
                                 writers.norwegian_amount(row.amount_ore)])
        return out.getvalue().encode("utf-8-sig")
    rows: list[list] = [FUEL_HEADER]
    for invoice in invoices:
        for row in invoice.rows:
            rows.append([customer_no[invoice.org.key], invoice.org.name, invoice.org.orgnr, row.card, row.vehicle,
                         row.date, row.station, FUEL_CODES[row.product.key], row.product.name, float(row.quantity),
                         "l", row.amount_ore / 100, round(row.amount_ore * supplier.vat) / 100, invoice.number])
    return writers.xlsx_bytes("Transaksjoner", rows)


def profile_spec(supplier: StatsSupplier) -> dict:
    """The saved mapping profile a user would make for the supplier's report."""
    orgnr, name = R.SUPPLIERS[supplier.key].orgnr, R.SUPPLIERS[supplier.key].name
    if supplier is FOOD:
        return {"name": supplier.profile, "kind": "supplier_stats", "supplier_orgnr": orgnr, "supplier_name": name,
                "columns": {"period": "Fakturadato", "customer_orgnr": "Org.nr kunde", "invoice_no": "Fakturanr",
                            "product_no": "Varenr", "product_name": "Varetekst", "item_class_code": "CPV",
                            "quantity": "Antall", "quantity_unit": "Enhet", "amount": "Nettobeløp"},
                "item_class_scheme": "cpv", "delimiter": ";", "date_format": "%d.%m.%Y",
                "description": "Kvartalsvis kjøpsstatistikk fra rammeavtalen for frukt og grønt (CSV)"}
    return {"name": supplier.profile, "kind": "supplier_stats", "supplier_orgnr": orgnr, "supplier_name": name,
            "columns": {"period": "Dato", "customer_orgnr": "Org.nr", "invoice_no": "Fakturanr",
                        "product_no": "Produktkode", "product_name": "Produkt", "item_class_code": "Produktkode",
                        "quantity": "Volum", "quantity_unit": "Enhet", "amount": "Beløp eks. mva"},
            "item_class_scheme": "cpv", "sheet": "Transaksjoner",
            "values": {"item_class_code": {code: FUEL_PRODUCTS[key].cpv for key, code in FUEL_CODES.items()}},
            "description": "Kvartalsvis transaksjonsrapport for drivstoffkort (XLSX); produktkodene oversatt til CPV"}


def write_reports(directory, invoices: list[StatsInvoice], today: dt.date) -> list[dict]:
    """One report per supplier and finished quarter from STATS_START; the manifest entries."""
    entries = []
    for supplier in SUPPLIERS:
        quarters: dict[tuple[int, int], list[StatsInvoice]] = {}
        for invoice in invoices:
            if invoice.supplier is supplier and invoice.issue_date.year >= STATS_START:
                quarters.setdefault(invoice.quarter, []).append(invoice)
        for (year, quarter), members in sorted(quarters.items()):
            last_month = quarter * 3
            if dt.date(year, last_month, calendar.monthrange(year, last_month)[1]) >= today:
                continue  # the quarter is not over: its report has not come yet
            relative = f"{supplier.folder}/{supplier.file_stem}-{year}-K{quarter}.{supplier.extension}"
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(write_report(supplier, members))
            customers = sorted({i.org.key for i in members}, key=[o.key for o in R.ORGS].index)
            entries.append({"supplier": supplier.key, "profile": supplier.profile, "path": relative, "year": year,
                            "quarter": quarter, "customers": customers,
                            "rows": sum(len(i.rows) for i in members),
                            "amount_ore": {key: sum(i.amount_ore for i in members if i.org.key == key)
                                           for key in customers}})
    return entries
