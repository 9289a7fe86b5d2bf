"""Derive klimainnkjop/data/exchange_rates.csv: annual average NOK per unit of the common invoice currencies for
every year the product supports (those of price_index.csv: 2010 to the last year with data).

Inputs (kept in the repository, byte for byte as published):
  klimainnkjop/data/raw/ecb-euro-reference-rates/eurofxref-hist.csv   ECB daily reference rates (X per EUR)
  klimainnkjop/data/raw/rates/norges-bank-annual.csv                  Norges Bank's own annual averages, where
                                                                      the project has them (they win)
Method: for each day, NOK per X = (NOK per EUR) / (X per EUR); the year's rate is the mean over the days on
which both are quoted, to 6 significant digits (EUR: the mean of NOK per EUR). A year with data for only part
of it (the last one) says so in its source. Norges Bank's own annual average replaces the ECB-derived one
where it is in norges-bank-annual.csv (the two differ by a few thousandths: different fixing times).
A year or currency without data has no row: the import of an invoice in it stays a clear error.

Usage: python scripts/derive_exchange_rates.py [--check]
"""
from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "klimainnkjop" / "data"
ECB = DATA / "raw" / "ecb-euro-reference-rates" / "eurofxref-hist.csv"
NORGES_BANK = DATA / "raw" / "rates" / "norges-bank-annual.csv"
SHIPPED = DATA / "exchange_rates.csv"
CURRENCIES = ["EUR", "USD", "SEK", "DKK", "GBP", "CHF", "PLN", "JPY"]
FIRST_YEAR = 2010  # the first year of price_index.csv: a line of an earlier year cannot be priced anyway


def ecb_annual() -> dict[tuple[int, str], tuple[float, str]]:
    sums: dict[tuple[int, str], list] = {}
    last: dict[int, str] = {}
    with open(ECB, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            year = int(row["Date"][:4])
            if year < FIRST_YEAR or row["NOK"] in ("", "N/A"):
                continue
            last[year] = max(last.get(year, ""), row["Date"])
            nok = float(row["NOK"])
            for currency in CURRENCIES:
                per_eur = 1.0 if currency == "EUR" else row.get(currency, "N/A")
                if per_eur in ("", "N/A"):
                    continue
                entry = sums.setdefault((year, currency), [0.0, 0])
                entry[0] += nok / float(per_eur)
                entry[1] += 1
    out = {}
    for (year, currency), (total, days) in sums.items():
        partial = "" if last[year][5:] >= "12-28" else f", part of the year (to {last[year]})"
        out[(year, currency)] = (float(f"{total / days:.6g}"),
                                 f"ECB euro reference rates, annual average of {days} daily cross rates "
                                 f"(NOK per EUR / {currency} per EUR){partial}" if currency != "EUR" else
                                 f"ECB euro reference rates, annual average of {days} daily rates{partial}")
    return out


def build_rows() -> list[tuple[int, str, float, str]]:
    rates = ecb_annual()
    with open(NORGES_BANK, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            rates[(int(row["year"]), row["currency"])] = (float(row["nok_per_unit"]), row["source"])
    return [(year, currency, *rates[(year, currency)]) for year, currency in sorted(rates)]


def main(out: Path | None = None) -> Path:
    out = out or SHIPPED
    with open(out, "w", encoding="utf-8", newline="") as fh:
        fh.write("year;currency;nok_per_unit;source\n")
        for year, currency, value, source in build_rows():
            fh.write(f"{year};{currency};{value:.6g};{source}\n")
    return out


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            same = main(Path(tmp) / "exchange_rates.csv").read_bytes() == SHIPPED.read_bytes()
        print(f"{SHIPPED}: {'up to date' if same else 'DIFFERS from its derivation'}")
        sys.exit(0 if same else 1)
    print(main())
