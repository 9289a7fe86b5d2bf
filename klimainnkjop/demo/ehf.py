"""EHF invoices of the demo: the fuel supplier's invoices to the organisations that drive trucks and
machines, and the food wholesaler's invoices to the kommuner's care homes and schools.

An invoice is planned here (what, how much, at which price), written as an EHF / PEPPOL BIS Billing 3.0
document (UBL 2.1 Invoice) that passes the XSD, EN 16931 and PEPPOL rules, and booked in the buyer's
ledger as one or a few lines carrying the same supplier orgnr, invoice number and amount (excl. VAT), so
the engine replaces those ledger lines with the invoice's lines (quantities in litres and kilograms).

The measures: from SWITCH_YEAR on, most of the diesel is HVO (dearer per litre: a few per cent more spend on
fuel, fewer litres) and part of the beef is replaced by legumes and chicken (fewer kg of beef, more spend on beef
and legumes together), so the measured effect (LMDI) shows a cut although spending on them grew.
Amounts are integer øre; quantities have one decimal, prices two, and a line's amount is quantity ×
price rounded half up to the øre, as EN 16931 has it.
"""
from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from klimainnkjop.demo import region as R

SWITCH_YEAR = 2025
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
FUEL_SUPPLIER = "fuel"
FOOD_SUPPLIER = "food"
# Which organisations get fuel invoices (profile or kind), the KOSTRA art they are booked on.
FUEL_ART = "120"
FOOD_ART = "115"
FUEL_PROFILES = ("renovasjon", "brann")
# Invoices per organisation and year at scale 1, and at least (any scale).
FUEL_INVOICES, FUEL_MIN = 12, 2
FOOD_INVOICES, FOOD_MIN = 26, 3  # fortnightly: keeps the full demo load near a minute


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    cpv: str              # CPV 2008 code without its check digit (ItemClassificationCode listID="STI")
    unit_code: str        # UN/ECE Rec 20
    price: dict[int, float]  # NOK per unit excl. VAT by year (years after the last: the last)
    vat: int              # per cent

    def price_in(self, year: int) -> Decimal:
        known = max(y for y in self.price if y <= year) if any(y <= year for y in self.price) else min(self.price)
        return Decimal(str(self.price[known]))


DIESEL_PRICES = {2021: 12.4, 2022: 18.9, 2023: 17.2, 2024: 16.6, 2025: 16.1, 2026: 15.8}
PRODUCTS = {p.key: p for p in (
    Product("diesel", "Diesel, autodiesel EN 590", "09134220", "LTR", DIESEL_PRICES, 25),
    Product("hvo", "HVO100 biodiesel (EN 15940)", "09134230", "LTR",
            {y: round(v * 1.18, 2) for y, v in DIESEL_PRICES.items()}, 25),
    Product("beef", "Storfekjøtt, kjøttdeig og gryte", "15111100", "KGM",
            {2021: 138.0, 2022: 146.0, 2023: 158.0, 2024: 164.0, 2025: 169.0}, 15),
    Product("pork", "Svinekjøtt", "15113000", "KGM",
            {2021: 84.0, 2022: 88.0, 2023: 95.0, 2024: 98.0, 2025: 101.0}, 15),
    Product("chicken", "Kyllingfilet", "15112130", "KGM",
            {2021: 98.0, 2022: 104.0, 2023: 112.0, 2024: 116.0, 2025: 119.0}, 15),
    Product("fish", "Fiskefilet, torsk og sei", "15210000", "KGM",
            {2021: 112.0, 2022: 121.0, 2023: 129.0, 2024: 134.0, 2025: 138.0}, 15),
    Product("vegetables", "Grønnsaker, rotgrønnsaker og kål", "03221000", "KGM",
            {2021: 23.0, 2022: 25.0, 2023: 27.5, 2024: 28.5, 2025: 29.0}, 15),
    Product("legumes", "Belgfrukter, linser og kikerter", "03212200", "KGM",
            {2021: 31.0, 2022: 33.0, 2023: 35.0, 2024: 36.0, 2025: 37.0}, 15),
)}
# Spend shares per invoice: fuel (HVO takes most of it from SWITCH_YEAR) and the food basket.
FUEL_MIX = {"before": {"diesel": 1.0}, "after": {"hvo": 0.8, "diesel": 0.2}}
FOOD_MIX = {"before": {"beef": 0.26, "pork": 0.15, "chicken": 0.14, "fish": 0.18, "vegetables": 0.22,
                       "legumes": 0.05},
            "after": {"beef": 0.14, "pork": 0.15, "chicken": 0.20, "fish": 0.18, "vegetables": 0.13,
                      "legumes": 0.20}}
# HVO costs about 18 % more a litre: from SWITCH_YEAR the fuel bill is this much larger (the vehicles drive about as
# much, the fleet buys a little less), so the switch cuts emissions while the spend on fuel grows.
FUEL_BUDGET_AFTER_SWITCH = 1.03
# Addresses (street, postcode, city) of the demo's parties.
ADDRESSES = {
    "kongsvinger": ("Rådhusplassen 1", "2226", "Kongsvinger"), "eidskog": ("Rådhusvegen 7", "2230", "Skotterud"),
    "grue": ("Kirkenærvegen 1", "2260", "Kirkenær"), "nord-odal": ("Kommunehusvegen 2", "2120", "Sagstua"),
    "sor-odal": ("Kommunehusvegen 1", "2100", "Skarnes"), "valer": ("Kommunehuset", "2436", "Våler i Solør"),
    "asnes": ("Rådhusvegen 3", "2270", "Flisa"), "gir": ("Rolf Jacobsens vei 8", "2208", "Kongsvinger"),
    "solor": ("Industrivegen 4", "2270", "Flisa"), "brann": ("Storgata 51", "2212", "Kongsvinger"),
    "fuel": ("Glommengata 60", "2211", "Kongsvinger"), "food": ("Industrivegen 12", "2212", "Kongsvinger"),
}
SUPPLIER_ACCOUNTS = {"fuel": "18033012345", "food": "18033067890"}


@dataclass
class InvoiceLine:
    product: Product
    quantity: Decimal     # one decimal
    price: Decimal        # two decimals

    @property
    def amount_ore(self) -> int:
        return int((self.quantity * self.price * 100).to_integral_value(ROUND_HALF_UP))


@dataclass
class Invoice:
    number: str
    issue_date: dt.date
    supplier: R.Supplier
    buyer_key: str
    buyer_orgnr: str
    buyer_name: str
    unit: R.Unit                          # where it is delivered (the ledger's unit)
    functions: tuple[str, ...]            # the ledger's functions: one ledger line each (amount split)
    lines: list[InvoiceLine]
    period: tuple[dt.date, dt.date]

    @property
    def amount_ore(self) -> int:
        return sum(line.amount_ore for line in self.lines)

    def vat_by_rate(self) -> dict[int, tuple[int, int]]:
        """rate → (taxable øre, VAT øre), VAT rounded half up per rate (EN 16931 BR-CO-17)."""
        taxable: dict[int, int] = {}
        for line in self.lines:
            taxable[line.product.vat] = taxable.get(line.product.vat, 0) + line.amount_ore
        return {rate: (amount, int((Decimal(amount) * rate / 100).to_integral_value(ROUND_HALF_UP)))
                for rate, amount in sorted(taxable.items())}

    @property
    def vat_ore(self) -> int:
        return sum(vat for _, vat in self.vat_by_rate().values())

    def ledger_parts(self) -> list[tuple[str, int, int]]:
        """(function, amount øre, VAT øre) of the ledger lines this invoice is booked on."""
        if len(self.functions) == 1:
            return [(self.functions[0], self.amount_ore, self.vat_ore)]
        first = self.amount_ore * 6 // 10
        first_vat = self.vat_ore * 6 // 10
        return [(self.functions[0], first, first_vat),
                (self.functions[1], self.amount_ore - first, self.vat_ore - first_vat)]


def invoice_count(base: int, minimum: int, scale: float) -> int:
    return max(minimum, min(base * 4, round(base * scale)))


def _period_end(year: int, index: int, count: int) -> tuple[dt.date, dt.date]:
    """The index-th of `count` equal periods of the year (months when count is 12, weeks when 52)."""
    days = 366 if calendar.isleap(year) else 365
    start = dt.date(year, 1, 1) + dt.timedelta(days=days * index // count)
    end = dt.date(year, 1, 1) + dt.timedelta(days=days * (index + 1) // count - 1)
    return start, end


def _weekday_on_or_before(date: dt.date) -> dt.date:
    while date.weekday() >= 5:
        date -= dt.timedelta(days=1)
    return date


def plan_lines(mix: dict[str, float], budget_ore: int, year: int, rng: random.Random) -> list[InvoiceLine]:
    """Lines worth about `budget_ore` in the mix's spend shares (± a little per product)."""
    out = []
    for key, share in mix.items():
        product = PRODUCTS[key]
        price = product.price_in(year)
        target = Decimal(budget_ore) / 100 * Decimal(str(share * rng.uniform(0.92, 1.08)))
        quantity = (target / price).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if quantity > 0:
            out.append(InvoiceLine(product, quantity, price))
    return out


def fuel_budget_share(org: R.Org) -> float:
    """Share of the organisation's art 120 that is fuel from the fuel supplier (0: no fuel invoices)."""
    if org.kind == "kommune":
        pool = R.SUPPLIERS_BY_ART[FUEL_ART]
    elif org.profile in FUEL_PROFILES:
        pool = R.IKS_SUPPLIERS[org.profile][FUEL_ART]
    else:
        return 0.0
    return sum(w for k, w in pool if k == FUEL_SUPPLIER) / sum(w for _, w in pool)


def food_budget_share(org: R.Org) -> float:
    """Share of a kommune's art 115 bought from the food wholesaler (0 for the IKS)."""
    if org.kind != "kommune":
        return 0.0
    pool = R.SUPPLIERS_BY_ART[FOOD_ART]
    return sum(w for k, w in pool if k == FOOD_SUPPLIER) / sum(w for _, w in pool)


def plan_invoices(org: R.Org, year: int, kind: str, budget_ore: int, scale: float, seed: int) -> list[Invoice]:
    """The year's fuel or food invoices to `org`, worth `budget_ore` in all (before `today` cuts the year)."""
    rng = random.Random(f"klimainnkjop-demo|{seed}|{org.key}|{year}|ehf|{kind}")
    index = [o.key for o in R.ORGS].index(org.key) + 1
    units = {u.code: u for u in org.units}
    if kind == "fuel":
        count = invoice_count(FUEL_INVOICES, FUEL_MIN, scale)
        season = R.SEASON_FLAT
        supplier = R.SUPPLIERS[FUEL_SUPPLIER]
        mix = FUEL_MIX["after" if year >= SWITCH_YEAR else "before"]
        if year >= SWITCH_YEAR:
            budget_ore = round(budget_ore * FUEL_BUDGET_AFTER_SWITCH)
        if org.kind == "kommune":
            places = [(units["4100"], ("333", "335"))]
        else:
            trucks = [u for u in org.units if u.code in ("2000", "2100", "2200")]
            places = [(u, (u.functions[0],)) for u in trucks]
        prefix = "D"
    else:
        count = invoice_count(FOOD_INVOICES, FOOD_MIN, scale)
        season = R.SEASON_DEFAULT
        supplier = R.SUPPLIERS[FOOD_SUPPLIER]
        mix = FOOD_MIX["after" if year >= SWITCH_YEAR else "before"]
        places = [(u, (u.functions[0],)) for u in org.units if u.sector in ("inst", "skole")]
        prefix = "M"
    weights = []
    for i in range(count):
        start, end = _period_end(year, i, count)
        months = season[start.month - 1:end.month]
        weights.append(sum(months) / len(months) * rng.uniform(0.9, 1.1))
    total = sum(weights)
    invoices = []
    for i, weight in enumerate(weights):
        start, end = _period_end(year, i, count)
        unit, functions = places[i % len(places)] if kind == "fuel" else places[rng.randrange(len(places))]
        lines = plan_lines(mix, round(budget_ore * weight / total), year, rng)
        invoices.append(Invoice(
            number=f"{prefix}{year}{index:02d}{i + 1:04d}", issue_date=_weekday_on_or_before(end),
            supplier=supplier, buyer_key=org.key, buyer_orgnr=org.orgnr, buyer_name=org.name, unit=unit,
            functions=functions, lines=lines, period=(start, end)))
    return invoices


# --- the EHF document ----------------------------------------------------------------------------------
def _money(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    return f"{sign}{kroner}.{rest:02d}"


def _party(orgnr: str, name: str, address: tuple[str, str, str], vat: bool) -> str:
    street, postcode, city = address
    tax = (f"<cac:PartyTaxScheme><cbc:CompanyID>NO{orgnr}MVA</cbc:CompanyID>"
           "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
           "<cac:PartyTaxScheme><cbc:CompanyID>Foretaksregisteret</cbc:CompanyID>"
           "<cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>") if vat else ""
    return (f'<cac:Party><cbc:EndpointID schemeID="0192">{orgnr}</cbc:EndpointID>'
            f"<cac:PartyName><cbc:Name>{escape(name)}</cbc:Name></cac:PartyName>"
            f"<cac:PostalAddress><cbc:StreetName>{escape(street)}</cbc:StreetName>"
            f"<cbc:CityName>{escape(city)}</cbc:CityName><cbc:PostalZone>{postcode}</cbc:PostalZone>"
            "<cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country></cac:PostalAddress>"
            f"{tax}<cac:PartyLegalEntity><cbc:RegistrationName>{escape(name)}</cbc:RegistrationName>"
            f'<cbc:CompanyID schemeID="0192">{orgnr}</cbc:CompanyID></cac:PartyLegalEntity></cac:Party>')


def _tax_category(rate: int) -> str:
    return (f"<cbc:ID>S</cbc:ID><cbc:Percent>{rate}</cbc:Percent>"
            "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>")


def write_invoice(invoice: Invoice) -> bytes:
    """The invoice as an EHF / PEPPOL BIS Billing 3.0 UBL document (UTF-8, deterministic)."""
    supplier = invoice.supplier
    due = invoice.issue_date + dt.timedelta(days=30)
    subtotals = "".join(
        f'<cac:TaxSubtotal><cbc:TaxableAmount currencyID="NOK">{_money(taxable)}</cbc:TaxableAmount>'
        f'<cbc:TaxAmount currencyID="NOK">{_money(vat)}</cbc:TaxAmount>'
        f"<cac:TaxCategory>{_tax_category(rate)}</cac:TaxCategory></cac:TaxSubtotal>"
        for rate, (taxable, vat) in invoice.vat_by_rate().items())
    lines = []
    for number, line in enumerate(invoice.lines, start=1):
        product = line.product
        lines.append(
            f"<cac:InvoiceLine><cbc:ID>{number}</cbc:ID>"
            f'<cbc:InvoicedQuantity unitCode="{product.unit_code}">{line.quantity}</cbc:InvoicedQuantity>'
            f'<cbc:LineExtensionAmount currencyID="NOK">{_money(line.amount_ore)}</cbc:LineExtensionAmount>'
            f"<cac:Item><cbc:Name>{escape(product.name)}</cbc:Name>"
            f"<cac:SellersItemIdentification><cbc:ID>{product.key.upper()}-{product.cpv[-4:]}</cbc:ID>"
            "</cac:SellersItemIdentification>"
            f'<cac:CommodityClassification><cbc:ItemClassificationCode listID="STI">{product.cpv}'
            "</cbc:ItemClassificationCode></cac:CommodityClassification>"
            f"<cac:ClassifiedTaxCategory>{_tax_category(product.vat)}</cac:ClassifiedTaxCategory></cac:Item>"
            f'<cac:Price><cbc:PriceAmount currencyID="NOK">{line.price}</cbc:PriceAmount>'
            f'<cbc:BaseQuantity unitCode="{product.unit_code}">1</cbc:BaseQuantity></cac:Price>'
            "</cac:InvoiceLine>")
    amount, vat = invoice.amount_ore, invoice.vat_ore
    start, end = invoice.period
    buyer_address = ADDRESSES.get(invoice.buyer_key, ('Postboks 1', '2201', 'Kongsvinger'))
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"<cbc:CustomizationID>{CUSTOMIZATION_ID}</cbc:CustomizationID><cbc:ProfileID>{PROFILE_ID}</cbc:ProfileID>"
        f"<cbc:ID>{invoice.number}</cbc:ID><cbc:IssueDate>{invoice.issue_date.isoformat()}</cbc:IssueDate>"
        f"<cbc:DueDate>{due.isoformat()}</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
        "<cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>"
        f"<cbc:BuyerReference>{invoice.unit.code}</cbc:BuyerReference>"
        f"<cac:InvoicePeriod><cbc:StartDate>{start.isoformat()}</cbc:StartDate>"
        f"<cbc:EndDate>{end.isoformat()}</cbc:EndDate></cac:InvoicePeriod>"
        f"<cac:AccountingSupplierParty>{_party(supplier.orgnr, supplier.name, ADDRESSES[supplier.key], True)}"
        "</cac:AccountingSupplierParty>"
        f"<cac:AccountingCustomerParty>"
        f"{_party(invoice.buyer_orgnr, invoice.buyer_name, buyer_address, False)}"
        "</cac:AccountingCustomerParty>"
        f"<cac:Delivery><cbc:ActualDeliveryDate>{end.isoformat()}</cbc:ActualDeliveryDate>"
        f"<cac:DeliveryLocation><cac:Address><cbc:StreetName>{escape(invoice.unit.name)}</cbc:StreetName>"
        "<cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country></cac:Address>"
        "</cac:DeliveryLocation></cac:Delivery>"
        f"<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        f"<cac:PayeeFinancialAccount><cbc:ID>{SUPPLIER_ACCOUNTS[supplier.key]}</cbc:ID></cac:PayeeFinancialAccount>"
        "</cac:PaymentMeans>"
        "<cac:PaymentTerms><cbc:Note>30 dager netto</cbc:Note></cac:PaymentTerms>"
        f'<cac:TaxTotal><cbc:TaxAmount currencyID="NOK">{_money(vat)}</cbc:TaxAmount>{subtotals}</cac:TaxTotal>'
        f'<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="NOK">{_money(amount)}</cbc:LineExtensionAmount>'
        f'<cbc:TaxExclusiveAmount currencyID="NOK">{_money(amount)}</cbc:TaxExclusiveAmount>'
        f'<cbc:TaxInclusiveAmount currencyID="NOK">{_money(amount + vat)}</cbc:TaxInclusiveAmount>'
        f'<cbc:PayableAmount currencyID="NOK">{_money(amount + vat)}</cbc:PayableAmount></cac:LegalMonetaryTotal>'
        f"{''.join(lines)}</Invoice>\n")
    return document.encode("utf-8")
