"""KOSTRA rules: which art codes are purchases, and municipality numbers across the 2020 reform."""
from __future__ import annotations

from dataclasses import dataclass

from stdnum.no import orgnr as stdnum_orgnr

# Why an art is not a purchase. Anything not listed here with a reason, in 100-399, is a purchase.
EXCLUDED_RANGES: list[tuple[int, int, str]] = [
    (10, 99, "wages"),            # 010-099 lønn, sosiale utgifter
    (165, 165, "wages"),          # andre opplysningspliktige godtgjørelser (payroll allowances)
    (280, 285, "asset_transfer"),  # grunnerverv, kjøp av eksisterende bygninger: ownership changes, not production
    (290, 290, "internal"),       # internkjøp (older charts of accounts)
    (380, 399, "internal"),       # kjøp fra eget kommunalt foretak
    (400, 499, "transfer"),       # overføringer, incl. 429 merverdiavgift
    (500, 599, "financial"),      # renter, avdrag, utlån, avsetninger, avskrivninger
    (600, 999, "income"),         # salg, refusjoner, tilskudd, skatt, finansinntekter
]


def exclusion_reason(art: str, known_arts: frozenset[str] | None = None) -> str | None:
    """None when the art is a purchase (scope 3 category 1/2), else why it is excluded.

    With `known_arts` (the official code list), codes not on it are `unknown_art`.
    """
    if not art or not art.isdecimal() or (known_arts is not None and art not in known_arts):
        return "unknown_art"
    code = int(art)
    for low, high, reason in EXCLUDED_RANGES:
        if low <= code <= high:
            return reason
    if 100 <= code <= 379:
        return None
    return "unknown_art"


def art_from_account(account: str) -> str | None:
    """Norwegian municipal ledgers often carry the KOSTRA art as the account's first three digits."""
    digits = account.strip()
    if len(digits) >= 3 and digits[:3].isdecimal():
        return digits[:3]
    return None


# Kontoklasse in the KOSTRA file: 0/4 investment, 1/3 operating (drift), 2/5 balance.
INVESTMENT_CLASSES = {"0", "4"}
OPERATING_CLASSES = {"1", "3"}
BALANCE_CLASSES = {"2", "5"}

# Municipality numbers renumbered on 1 January 2020 when Hedmark and Oppland became Innlandet (34).
RENUMBERED_2020: dict[str, str] = {
    "0402": "3401", "0403": "3403", "0412": "3411", "0415": "3412", "0417": "3413",
    "0418": "3414", "0419": "3415", "0420": "3416", "0423": "3417", "0425": "3418",
    "0426": "3419", "0427": "3420", "0428": "3421", "0429": "3422", "0430": "3423",
    "0432": "3424", "0434": "3425", "0436": "3426", "0437": "3427", "0438": "3428",
    "0439": "3429", "0441": "3430",
    "0501": "3405", "0502": "3407", "0511": "3431", "0512": "3432", "0513": "3433",
    "0514": "3434", "0515": "3435", "0516": "3436", "0517": "3437", "0519": "3438",
    "0520": "3439", "0521": "3440", "0522": "3441", "0528": "3442", "0529": "3443",
    "0534": "3446", "0536": "3447", "0538": "3448", "0540": "3449", "0541": "3450",
    "0542": "3451", "0543": "3452", "0544": "3453", "0545": "3454",
}


def current_region_code(code: str) -> str:
    """A 4-digit municipality number as valid today (old 2019 numbers map to their 2020 successors).

    Accepts the 6-digit form of the KOSTRA file (`340100`, last two digits 00 = whole municipality).
    """
    code = code.strip()
    if len(code) == 6 and code.endswith("00"):
        code = code[:4]
    return RENUMBERED_2020.get(code, code)


@dataclass(frozen=True)
class OrgNumber:
    """Norwegian organisation number (Enhetsregisteret): nine digits, the last a MOD11 check digit.

    The one home of the rule; python-stdnum's `stdnum.no.orgnr` does the arithmetic (weights 3,2,7,6,5,4,3,2).
    `is_well_formed` is the shape alone (nine digits), for numbers read from other systems' files, where test and
    example numbers without a valid check digit occur (Skatteetaten's SAF-T example, Brønnøysund test data);
    `is_valid` adds the check digit, for the organisations this installation serves.
    """
    value: str

    @staticmethod
    def is_well_formed(value: str) -> bool:
        return len(value) == 9 and value.isdecimal()

    @staticmethod
    def is_valid(value: str) -> bool:
        return OrgNumber.is_well_formed(value) and stdnum_orgnr.is_valid(value)

    @staticmethod
    def with_check_digit(first8: str) -> str | None:
        """The first eight digits completed with their check digit; None when MOD11 gives 10 (no valid number)."""
        return next((first8 + d for d in "0123456789" if OrgNumber.is_valid(first8 + d)), None)


# KOSTRA art × function → category (method v2): CategoryMapping rows of this scheme, code "art:function:side"
# (function a prefix, '' = any; side '' = either, 'I' = investment lines, 'D' = operating lines)
KOSTRA_FUNCTION_SCHEME = "kostra_function"


def art_function_code(art: str, function: str, investment: str) -> str:
    return f"{art}:{function}:{investment}"


def parse_art_function_code(code: str) -> tuple[str, str, str]:
    """(art, function prefix, side) of a kostra_function mapping's code; a malformed code raises ValueError."""
    parts = code.split(":")
    if len(parts) != 3 or not (len(parts[0]) == 3 and parts[0].isdecimal()) \
            or not (parts[1] == "" or (parts[1].isdecimal() and len(parts[1]) <= 4)) or parts[2] not in ("", "I", "D"):
        raise ValueError("a KOSTRA art × function code is ART:FUNCTION:SIDE, e.g. 375:355: or 230::I "
                         "(art 3 digits, function a prefix of up to 4 digits or empty, side empty, I or D)")
    return parts[0], parts[1], parts[2]
