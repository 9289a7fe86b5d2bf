"""Parsing of the values found in Norwegian ledger exports: amounts, dates, codes.

Every parser raises ValueError with a short Norwegian-neutral English reason; the importer adds
file, row and column.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_EVEN

from klimainnkjop.core.errors import quoted, reason
from klimainnkjop.core.kostra import OrgNumber

# No amount or quantity in a purchase is near these; larger ones are a broken or hostile file (and would
# overflow the line store's 64-bit øre).
MAX_AMOUNT = Decimal(10) ** 13        # 10 000 billion, in the file's currency
MAX_QUANTITY = Decimal(10) ** 15
MAX_NUMBER_CHARS = 100

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_amount_ore(text: str) -> int:
    """'-1 234,50' / '1.234,50' / '1,234.50' / '(1234.50)' / '1234.5-' -> integer øre (hundredths)."""
    number = parse_number(text)
    if abs(number) >= MAX_AMOUNT:
        raise ValueError(reason("amount out of range: %(value)s", value=quoted(text)))
    return int((number * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_quantity(text: str) -> float | None:
    """A physical quantity written like an amount ('1 234,567'); empty means none."""
    if not text.strip():
        return None
    number = parse_number(text)
    if abs(number) >= MAX_QUANTITY:
        raise ValueError(reason("quantity out of range: %(value)s", value=quoted(text)))
    return float(number)


_GROUPED = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{3})+")  # digits grouped by threes with ',' or '.'


def parse_number(text: str) -> Decimal:
    """A number as Norwegian and English exports write it, exactly, as a Decimal."""
    raw = text.strip()
    if not raw:
        raise ValueError(reason("empty amount"))
    if len(raw) > MAX_NUMBER_CHARS:
        raise ValueError(reason("not a number: %(value)s", value=quoted(text)))
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1]
    if raw.endswith("-"):
        negative, raw = True, raw[:-1]
    raw = raw.replace("\u2212", "-")  # unicode minus
    for symbol in ("kr", "NOK", "£", "€", "$"):
        raw = raw.replace(symbol, "")
    raw = _SPACES.sub("", raw)
    if raw.startswith("-"):
        negative, raw = not negative, raw[1:]
    elif raw.startswith("+"):
        raw = raw[1:]
    if not raw or not re.fullmatch(r"[0-9.,]+", raw):
        raise ValueError(reason("not a number: %(value)s", value=quoted(text)))
    last_comma, last_dot = raw.rfind(","), raw.rfind(".")
    if last_comma >= 0 and last_dot >= 0:
        decimal_sep = "," if last_comma > last_dot else "."
    elif last_comma >= 0:
        # '1,234' with exactly three digits after one comma and more before is ambiguous; Norwegian
        # exports use the comma as decimal separator, so we read it as such.
        decimal_sep = "," if raw.count(",") == 1 else ""
    elif last_dot >= 0:
        decimal_sep = "." if raw.count(".") == 1 else ""
    else:
        decimal_sep = ""
    # thousands separators only between groups of three: '12,345,67' is no number (it was read as 1 234 567)
    integer = raw.rsplit(decimal_sep, 1)[0] if decimal_sep else raw
    if ("," in integer or "." in integer) and not _GROUPED.fullmatch(integer):
        raise ValueError(reason("not a number: %(value)s", value=quoted(text)))
    thousands = {",", "."} - {decimal_sep}
    for sep in thousands:
        raw = raw.replace(sep, "")
    if decimal_sep:
        raw = raw.replace(decimal_sep, ".")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # e.g. '1.2.3' read with '.' as decimal separator after the rules above
        raise ValueError(reason("not a number: %(value)s", value=quoted(text))) from exc
    return -value if negative else value


_DATE_FORMATS = (
    "%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%d/%m/%y", "%Y%m%d", "%d-%m-%Y",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d-%b-%y", "%d-%b-%Y", "%d %b %Y",
)


def parse_date(text: str, fmt: str | None = None) -> dt.date:
    raw = text.strip()
    if not raw:
        raise ValueError(reason("empty date"))
    formats = (fmt,) if fmt else _DATE_FORMATS
    for candidate in formats:
        try:
            return dt.datetime.strptime(raw, candidate).date()
        except ValueError:
            continue
    if fmt:
        raise ValueError(reason("not a date: %(value)s (expected format %(format)s)", value=quoted(text), format=fmt))
    raise ValueError(reason("not a date: %(value)s", value=quoted(text)))


def parse_orgnr(text: str) -> str:
    """'NO 944 117 784 MVA' -> '944117784'; empty stays empty."""
    raw = re.sub(r"[\s.]", "", text.strip().upper())
    raw = raw.removeprefix("NO").removesuffix("MVA")
    if not raw:
        return ""
    if not OrgNumber.is_well_formed(raw):
        raise ValueError(reason("not a 9-digit organisation number: %(value)s", value=quoted(text)))
    return raw


def parse_art(text: str) -> str:
    raw = text.strip()
    if not raw:
        return ""
    if not raw.isdecimal() or len(raw) > 3:
        raise ValueError(reason("not a KOSTRA art code: %(value)s", value=quoted(text)))
    return raw.zfill(3)


def parse_currency(text: str) -> str:
    raw = text.strip().upper() or "NOK"
    if not re.fullmatch(r"[A-Z]{3}", raw):
        raise ValueError(reason("not an ISO 4217 currency code: %(value)s", value=quoted(text)))
    return raw


def parse_kontoklasse(text: str) -> bool:
    """True for investment. Accepts KOSTRA codes (0/4 investment, 1/3 drift) and words."""
    raw = text.strip().lower()
    if raw in {"0", "4", "i", "inv", "investering", "investment", "true", "ja"}:
        return True
    if raw in {"", "1", "3", "d", "drift", "operating", "false", "nei"}:
        return False
    raise ValueError(reason("not a kontoklasse (0/4 investment, 1/3 drift): %(value)s", value=quoted(text)))
