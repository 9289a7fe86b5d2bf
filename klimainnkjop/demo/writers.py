"""File layouts of the demo: two ERP-like ledger exports and the KOSTRA fixed-width file.

- visma: CSV, ';', Windows-1252, CRLF, dd.mm.yyyy, Norwegian numbers ('-1 234,50'), 6-digit accounts
  whose first three digits are the KOSTRA art.
- agresso-csv: CSV, ',', UTF-8 with BOM, LF, ISO dates, '1234.50', its own account plan and an explicit
  Art column; Regnskap says Driftsregnskap / Investeringsregnskap (translated by the profile).
- agresso-xlsx: the same columns as a spreadsheet (sheet 'Hovedbok') with real date and number cells.

All writers are deterministic: no timestamps (the XLSX zip entries carry a fixed date).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from xml.sax.saxutils import escape as xml_escape

from klimainnkjop.demo import region as R

VISMA_HEADER = ["Bilagsnr", "Linje", "Bilagsdato", "Konto", "Ansvar", "Ansvarsnavn", "Funksjon", "Prosjekt",
                "Kontoklasse", "Lev.orgnr", "Leverandør", "Tekst", "Fakturanr", "Beløp", "MVA"]
AGRESSO_HEADER = ["Periode", "Bilagsdato", "Bilagsnr", "Sekvensnr", "Konto", "Art", "Ansvar", "Ansvar (T)",
                  "Tjeneste", "Prosjekt", "Regnskap", "Leverandør", "Leverandørnavn", "Org.nr", "Fakturanr",
                  "Beskrivelse", "Valuta", "Beløp", "Mva-beløp"]
FIXED_ZIP_TIME = (2021, 1, 1, 0, 0, 0)


def norwegian_amount(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    return f"{sign}{kroner:,}".replace(",", " ") + f",{rest:02d}"


def plain_amount(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    return f"{sign}{kroner}.{rest:02d}"


def agresso_account(art: str) -> str:
    """Agresso-style local chart of accounts: the account does not carry the art (the Art column does)."""
    return f"{4000 + int(art) * 3 + (7 if int(art) >= 400 else 0):04d}"


def spaced_orgnr(orgnr: str) -> str:
    return f"{orgnr[:3]} {orgnr[3:6]} {orgnr[6:]}" if orgnr else ""


def visma_rows(lines) -> list[list[str]]:
    rows = [VISMA_HEADER]
    for ln in lines:
        rows.append([
            ln.voucher, str(ln.line_no), ln.date.strftime("%d.%m.%Y"), f"{ln.art}{'100' if ln.investment else '000'}",
            ln.unit.code, ln.unit.name, ln.function, ln.project, "0" if ln.investment else "1",
            ln.supplier.orgnr if ln.supplier else "", ln.supplier.name if ln.supplier else "", ln.text, ln.invoice,
            norwegian_amount(ln.amount_ore), norwegian_amount(ln.vat_ore),
        ])
    return rows


def agresso_values(ln) -> list:
    return [
        f"{ln.date.year}{ln.date.month:02d}", ln.date, ln.voucher, ln.line_no, agresso_account(ln.art), ln.art,
        ln.unit.code, ln.unit.name, ln.function, ln.project,
        "Investeringsregnskap" if ln.investment else "Driftsregnskap",
        f"L{int(ln.supplier.orgnr) % 100000:05d}" if ln.supplier else "", ln.supplier.name if ln.supplier else "",
        spaced_orgnr(ln.supplier.orgnr) if ln.supplier else "", ln.invoice, ln.text, "NOK", ln.amount_ore, ln.vat_ore,
    ]


def write_ledger(layout: str, lines) -> bytes:
    if layout == "visma":
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(visma_rows(lines))
        return buffer.getvalue().encode("cp1252")
    if layout == "agresso-csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=",", lineterminator="\n")
        writer.writerow(AGRESSO_HEADER)
        for ln in lines:
            values = agresso_values(ln)
            values[1] = ln.date.isoformat()
            values[-2:] = [plain_amount(ln.amount_ore), plain_amount(ln.vat_ore)]
            writer.writerow([str(v) for v in values])
        return buffer.getvalue().encode("utf-8-sig")
    if layout == "agresso-xlsx":
        return _xlsx(lines)
    raise ValueError(f"unknown layout {layout!r}")


def _xlsx(lines) -> bytes:
    rows = [AGRESSO_HEADER]
    for ln in lines:
        values = agresso_values(ln)
        values[-2:] = [ln.amount_ore / 100, ln.vat_ore / 100]
        rows.append(values)
    return xlsx_bytes("Hovedbok", rows)


# A minimal SpreadsheetML writer: inline strings, numbers and dates (style 1 = dd.mm.yyyy). Written by
# hand rather than with openpyxl because it is ten times faster and has no timestamps to pin.
_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd.mm.yyyy"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>'),
}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="1"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}" s="2"><v>{value!r}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{xml_escape(str(value))}</t></is></c>'


def xlsx_bytes(sheet_name: str, rows: list[list]) -> bytes:
    columns = [_column(i) for i in range(max(len(r) for r in rows))]
    body = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{columns[i]}{number}", v) for i, v in enumerate(row))
        body.append(f'<row r="{number}">{cells}</row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{"".join(body)}</sheetData></worksheet>')
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'<sheets><sheet name="{xml_escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    parts = {**_XLSX_STATIC, "xl/workbook.xml": workbook, "xl/worksheets/sheet1.xml": sheet}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, text.encode("utf-8"))
    return out.getvalue()


# --- KOSTRA --------------------------------------------------------------------------------------------
def _kommune_function_weights(org: R.Org, art: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    if art == "375":
        for key, (_, share) in R.IKS_SERVICES.items():
            functions = R.IKS_FUNCTION[key]
            for f in functions:
                weights[f] = weights.get(f, 0.0) + share / len(functions)
        return weights
    sectors = R.KOMMUNE_SECTORS.get(art)
    units = [u for u in org.units if sectors is None or u.sector in sectors]
    for unit in units:
        sector_total = sum(u.weight for u in org.units if u.sector == unit.sector)
        unit_share = (sectors[unit.sector] if sectors else 1.0) * unit.weight / sector_total
        for f in unit.functions:
            weights[f] = weights.get(f, 0.0) + unit_share / len(unit.functions)
    return weights


INVESTMENT_FUNCTIONS = {"230": {"222": 0.5, "261": 0.3, "340": 0.2}, "200": {"120": 0.6, "202": 0.4},
                        "250": {"222": 0.6, "261": 0.4}, "270": {"222": 0.6, "340": 0.4}}
OTHER_2019 = {  # drift, in 1000 NOK before scaling (approximate orders of magnitude)
    ("429", "120"): 29_000, ("729", "120"): -29_000, ("800", "840"): -610_000, ("870", "800"): -455_000,
    ("500", "870"): 19_000, ("510", "870"): 38_000, ("600", "253"): -23_000, ("600", "201"): -12_000,
}


def _split(total: float, weights: dict[str, float]) -> dict[str, int]:
    """Integer parts of `total` by weight, largest remainder, preserving the rounded total."""
    whole = round(total)
    wsum = sum(weights.values())
    raw = {k: total * w / wsum for k, w in weights.items()}
    parts = {k: int(v) for k, v in raw.items()}  # truncates toward zero
    left = whole - sum(parts.values())
    order = sorted(raw, key=lambda k: (-abs(raw[k] - parts[k]), k))
    step = 1 if left >= 0 else -1
    for k in order[:abs(left)]:
        parts[k] += step
    return parts


def kostra_record(skjema: str, year: int, region: str, orgnr: str, klasse: str, function: str, art: str,
                  amount_k: int) -> str:
    record = f"{skjema:2}{year:4d} {region:6}{orgnr:9}{'':9}{klasse}{function:<4}{art:3}{amount_k:9d}"
    assert len(record) == 48, record
    return record


def write_kostra_2019(org: R.Org, factor: float, rng: random.Random) -> bytes:
    """Kongsvinger's 2019 accounts (the calibration figures, scaled by `factor`) in the KOSTRA layout,
    with the municipality number of 2019 (0402), so the import exercises the 2020 renumbering."""
    region, year, orgnr = "040200", 2019, org.orgnr
    records: list[str] = []

    def add(klasse: str, art: str, total_k: float, weights: dict[str, float]) -> None:
        for function, amount in sorted(_split(total_k, weights).items()):
            if amount:
                records.append(kostra_record("0A", year, region, orgnr, klasse, function, art, amount))

    for art, amount in {**R.OPERATING_100_299, **R.OPERATING_300_379}.items():
        add("1", art, amount * factor, _kommune_function_weights(org, art))
    wage_weights = _kommune_function_weights(org, "010")
    for art, share in R.WAGE_SPLIT.items():
        add("1", art, R.WAGES_010_099 * share * factor, wage_weights)
    for (art, function), amount in OTHER_2019.items():
        add("1", art, amount * factor * rng.uniform(0.95, 1.05), {function: 1.0})
    for art, amount in R.INVESTMENT_100_299.items():
        add("0", art, amount * factor, INVESTMENT_FUNCTIONS[art])
    add("0", "910", -sum(R.INVESTMENT_100_299.values()) * 0.7 * factor, {"870": 1.0})
    # A few balance records (form 0B), which the importer skips.
    for chapter, sector, amount in (("10", "000", 41_000), ("13", "550", 12_500), ("45", "000", -850_000)):
        records.append(kostra_record("0B", year, region, orgnr, "2", chapter, sector, round(amount * factor)))
    return ("\r\n".join(records) + "\r\n").encode("ascii")
