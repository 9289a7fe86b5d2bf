"""The fixed-width KOSTRA accounts file municipalities submit to SSB.

Layout (SSB kostra-kontrollprogram, file_description_Regnskap.yaml): 48 characters per record:
skjema 1-2, aargang 3-6, kvartal 7, region 8-13, orgnr 14-22, foretaksnr 23-31, kontoklasse 32,
funksjon/kapittel 33-36, art/sektor 37-39, beløp 40-48 (1000 NOK, expenses positive).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from klimainnkjop.core import kostra
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, quoted
from klimainnkjop.importers.tabular import decode

FIELDS = [  # name, start (1-based), size
    ("skjema", 1, 2), ("aargang", 3, 4), ("kvartal", 7, 1), ("region", 8, 6), ("orgnr", 14, 9),
    ("foretaksnr", 23, 9), ("kontoklasse", 32, 1), ("funksjon", 33, 4), ("art", 37, 3), ("belop", 40, 9),
]
RECORD_LENGTH = 48
ACCOUNT_FORMS = {"0A", "0C", "0I", "0K", "0M", "0P", "0F"}  # bevilgningsregnskap (not balance)
BALANCE_FORMS = {"0B", "0D", "0J", "0L", "0N", "0Q", "0G"}


@dataclass
class KostraRecord:
    row_no: int
    skjema: str
    year: int
    region: str        # 4-digit municipality number as valid today
    orgnr: str
    investment: bool
    function: str
    art: str
    amount_ore: int


@dataclass
class KostraFile:
    file_name: str
    rows_read: int
    records: list[KostraRecord]
    regions: set[str]
    years: set[int]


def parse_kostra(data: bytes, file_name: str) -> KostraFile:
    text = decode(data, file_name)
    errors: list[RowError] = []
    records: list[KostraRecord] = []
    rows_read = 0
    for row_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rows_read += 1
        record = parse_line(file_name, row_no, line, errors)
        if record is not None:
            records.append(record)
    if not rows_read:
        errors.append(RowError(file_name, None, None, reason("the file is empty")))
    if errors:
        raise ImportRejected(errors)
    return KostraFile(file_name, rows_read, records, {r.region for r in records}, {r.year for r in records})


def parse_line(file_name: str, row_no: int, line: str, errors: list[RowError]) -> KostraRecord | None:
    """One non-blank record line; None with its errors appended when it is refused."""
    if len(line.rstrip("\r")) < RECORD_LENGTH:
        errors.append(RowError(file_name, row_no, None,
                               reason("record is %(length)s characters, the KOSTRA layout needs %(expected)s",
                                      length=len(line), expected=RECORD_LENGTH)))
        return None
    raw = {name: line[start - 1: start - 1 + size] for name, start, size in FIELDS}
    return _parse_record(file_name, row_no, raw, errors)


def max_year() -> int:
    """The latest year a record may have (next year's budget)."""
    return dt.date.today().year + 1


def _parse_record(file_name: str, row_no: int, raw: dict[str, str], errors: list[RowError]) -> KostraRecord | None:
    before = len(errors)
    skjema = raw["skjema"].strip()
    if skjema not in ACCOUNT_FORMS | BALANCE_FORMS:
        errors.append(RowError(file_name, row_no, "skjema", reason("unknown form %(value)s", value=quoted(skjema))))
    year_text = raw["aargang"].strip()
    if not (year_text.isascii() and year_text.isdecimal() and 1990 <= int(year_text) <= max_year()):
        errors.append(RowError(file_name, row_no, "aargang", reason("not a year: %(value)s", value=quoted(year_text))))
    region = raw["region"].strip()
    if not (region.isascii() and region.isdecimal() and len(region) == 6):
        errors.append(RowError(file_name, row_no, "region",
                               reason("not a 6-digit region number: %(value)s", value=quoted(region))))
    klasse = raw["kontoklasse"]
    if klasse not in kostra.INVESTMENT_CLASSES | kostra.OPERATING_CLASSES | kostra.BALANCE_CLASSES:
        errors.append(RowError(file_name, row_no, "kontoklasse",
                               reason("unknown kontoklasse %(value)s", value=quoted(klasse))))
    function = raw["funksjon"].strip()
    art = raw["art"].strip()
    if not (art.isascii() and art.isdecimal()):
        errors.append(RowError(file_name, row_no, "art",
                               reason("not an art code: %(value)s", value=quoted(raw["art"]))))
    amount_text = raw["belop"].strip().replace(" ", "")
    try:
        amount_k = int(amount_text)
    except ValueError:
        errors.append(RowError(file_name, row_no, "belop",
                               reason("not an integer amount in 1000 NOK: %(value)s", value=quoted(raw["belop"]))))
        amount_k = 0
    if len(errors) > before:
        return None
    return KostraRecord(
        row_no=row_no, skjema=skjema, year=int(year_text), region=kostra.current_region_code(region),
        orgnr=raw["orgnr"].strip(), investment=klasse in kostra.INVESTMENT_CLASSES, function=function,
        art=art.zfill(3), amount_ore=amount_k * 1000 * 100,
    )


def is_balance(record: KostraRecord) -> bool:
    return record.skjema in BALANCE_FORMS
