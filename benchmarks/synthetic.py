"""Deterministic synthetic spend lines in the line store schema (storage.linestore.LINE_SCHEMA).

Vectorised with numpy/pyarrow; written as one Parquet batch file per chunk (~1M lines) so memory stays
bounded whatever the total size.

Shape (per chunk, same distributions everywhere):
  13 organisations of uneven size, 40 units each, years 2021-2026, 12 months, ~3,000 suppliers (a unit buys
  each art from its own dozen suppliers, Zipf-like),
  KOSTRA arts weighted: ~55 % purchase arts 100-375 (nearly all mapped to a category), ~17 % wages 010-099,
  ~25 % transfers/financial/income 400-990, a few internal/asset arts and unknown arts.
  ~2 % of the ledger purchase lines carry a quantity in a physical unit (electricity in kWh or MWh, district
  heating in kWh, heating oil in litre or m3, food in kg, building materials in tonne or kg, equipment in pieces:
  some have an activity factor, some convert to the factor's unit, some have no factor in their unit), and ~1 %
  of the ledger purchase lines are bought from one of the 13 organisations themselves (intra-region; about
  1 in 13 of those from the buying organisation itself, which is not intra-region).
  ~1.5 % of the lines come from KOSTRA files (month 0, no unit/supplier). The last organisation has no
  ledger for 2021-2022, so its KOSTRA lines of those years count; every other KOSTRA line steps aside
  because a ledger exists for that organisation and year.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from klimainnkjop.core.kostra import OrgNumber
from klimainnkjop.storage.linestore import LINE_SCHEMA

DATA = Path(__file__).resolve().parent.parent / "klimainnkjop" / "data"

N_ORGS = 13
UNITS_PER_ORG = 40
N_SUPPLIERS = 3000
SUPPLIERS_PER_UNIT_ART = 12
YEARS = np.arange(2021, 2027, dtype=np.int32)
KOSTRA_SHARE = 0.015
NO_LEDGER_YEARS = (2021, 2022)   # for the last organisation
QUANTITY_SHARE = 0.02            # of the ledger purchase lines
INTRA_SHARE = 0.01               # of the ledger purchase lines: the supplier is one of the organisations
# art -> [(unit, NOK excl. VAT per unit, weight)]: a line with a quantity gets one of these arts
QUANTITY_ARTS = {
    "180": [("kWh", 1.1, 0.7), ("MWh", 1100.0, 0.3)],      # electricity: activity factor per kWh
    "181": [("kWh", 0.9, 1.0)],                            # district heating
    "182": [("litre", 14.0, 0.8), ("m3", 14000.0, 0.2)],   # heating oil: factor per litre
    "115": [("kg", 95.0, 1.0)],                            # food: factors only for sub-categories -> spend
    "250": [("tonne", 6000.0, 0.6), ("kg", 6.0, 0.4)],     # building materials: factor per tonne
    "200": [("piece", 2500.0, 1.0)],                       # equipment: no activity factor -> spend
}
QUANTITY_ART_WEIGHTS = {"180": 0.3, "181": 0.1, "182": 0.2, "115": 0.2, "250": 0.15, "200": 0.05}

FUNCTIONS = ["100", "110", "120", "121", "130", "170", "201", "202", "211", "213", "215", "221", "222", "223",
             "231", "232", "233", "234", "241", "242", "243", "244", "251", "252", "253", "254", "256", "261",
             "265", "273", "275", "276", "281", "283", "285", "301", "302", "303", "315", "320", "325", "329",
             "330", "332", "335", "338", "339", "340", "345", "350", "353", "354", "355", "360", "365", "370",
             "373", "375", "377", "380", "381", "383", "385", "386", "390", "392", "393"]
DESCRIPTIONS = ["Kontorrekvisita", "Lærebøker", "Medisinsk forbruksmateriell", "Matvarer kjøkken", "Rengjøringsmidler",
                "Mobilabonnement", "Annonse avis", "Kurs og konferanse", "Flyreise", "Hotellopphold", "Strøm",
                "Fjernvarme", "Fyringsolje", "Forsikring bygg", "Husleie", "Lisens programvare", "Datamaskiner",
                "Hjelpemidler", "Tjenestebil leasing", "Leie av maskiner", "Rehabilitering skole", "Vedlikehold heis",
                "Byggevarer", "Renhold", "Konsulenttjenester", "Kjøp fra IKS", "Fastlønn", "Vikarlønn",
                "Pensjon KLP", "Arbeidsgiveravgift", "Merverdiavgift", "Tilskudd lag og foreninger",
                "Renteutgifter", "Avdrag", "Salgsinntekter", "Refusjon fra staten", "Brukerbetaling", "Husleieinntekt",
                "Overføring fra fylket", "Diverse"]


def _arts() -> tuple[list[str], np.ndarray]:
    """Arts and their weights (a realistic spread, not a measured one)."""
    with open(DATA / "kostra_arts.csv", encoding="utf-8") as fh:
        known = [r["art"] for r in csv.DictReader(fh, delimiter=";")]
    with open(DATA / "art_categories.csv", encoding="utf-8") as fh:
        mapped = {r["art"] for r in csv.DictReader(fh, delimiter=";")}
    arts, weights = [], []
    for art in known:
        code = int(art)
        if art in mapped:
            w = 55.0 / len(mapped)
            if art in {"270", "300", "350", "375", "230", "240", "180", "190"}:
                w *= 2.5            # the big spend arts
        elif code < 100 or code == 165:
            w = 17.0 / 13
        elif code >= 400:
            w = 25.0 / 80
        else:                       # 280, 285, 380
            w = 0.4
        arts.append(art)
        weights.append(w)
    arts += ["199", "098", "x12", ""]    # not on the official list or malformed: unknown_art
    weights += [0.05, 0.05, 0.02, 0.02]
    w = np.array(weights)
    return arts, w / w.sum()


def _hex_keys(rng: np.random.Generator, n: int) -> pa.Array:
    """n random 32-hex-character keys (like the sha256 prefix the importers store), without Python loops."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    lut = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((n, 32), dtype=np.uint8)
    out[:, 0::2] = lut[raw >> 4]
    out[:, 1::2] = lut[raw & 15]
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()))


def _take(pool: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(pool, pa.string()).take(pa.array(idx))


def _ints_as_str(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _orgnrs(rng: np.random.Generator, count: int, first: int) -> list[str]:
    out: list[str] = []
    n = first
    while len(out) < count:
        made = OrgNumber.with_check_digit(f"{n:08d}")
        if made:
            out.append(made)
        n += int(rng.integers(1, 5000))
    return out


class Generator:
    def __init__(self, seed: int = 20240601):
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.orgs = _orgnrs(rng, N_ORGS, 93870000)   # 9-digit, valid check digit
        w = 1.0 / np.arange(1, N_ORGS + 1) ** 0.7      # a big city and smaller municipalities / IKS
        self.org_weights = w / w.sum()
        self.units = [f"{1000 + 25 * i}" for i in range(UNITS_PER_ORG)]
        # supplier pool: N_SUPPLIERS companies, "" (no supplier), then the organisations themselves
        self.suppliers = _orgnrs(rng, N_SUPPLIERS, 81000000) + [""] + self.orgs
        self.supplier_names = ([f"Leverandør {i:04d} AS" for i in range(N_SUPPLIERS)] + [""]
                               + [f"Organisasjon {i:02d}" for i in range(N_ORGS)])
        s = 1.0 / np.arange(1, SUPPLIERS_PER_UNIT_ART + 1) ** 1.2
        self.rank_weights = s / s.sum()
        self.arts, self.art_weights = _arts()
        art_codes = np.array([int(a) if a.isdigit() else -1 for a in self.arts])
        self.art_is_wage = (art_codes >= 0) & (art_codes < 100)
        self.art_is_purchase_range = (art_codes >= 100) & (art_codes < 400)
        with open(DATA / "art_categories.csv", encoding="utf-8") as fh:
            mapped = {r["art"] for r in csv.DictReader(fh, delimiter=";")}
        self.art_is_mapped = np.array([a in mapped for a in self.arts])
        self.qty_arts = np.array([self.arts.index(a) for a in QUANTITY_ART_WEIGHTS])
        w = np.array(list(QUANTITY_ART_WEIGHTS.values()))
        self.qty_art_weights = w / w.sum()
        self.qty_units = sorted({u for opts in QUANTITY_ARTS.values() for u, _, _ in opts})
        self.projects = [""] * 8 + [f"P{4000 + i}" for i in range(30)]

    def chunk(self, index: int, n: int) -> pa.Table:
        rng = np.random.default_rng([self.seed, index])
        n_kostra = int(round(n * KOSTRA_SHARE))
        is_kostra = np.zeros(n, dtype=bool)
        is_kostra[n - n_kostra:] = True

        org = rng.choice(N_ORGS, size=n, p=self.org_weights)
        year = YEARS[rng.integers(0, len(YEARS), size=n)]
        # the last organisation kept no ledger for 2021-2022: its ledger lines move to later years
        late = (~is_kostra) & (org == N_ORGS - 1) & np.isin(year, NO_LEDGER_YEARS)
        year = np.where(late, year + 2, year).astype(np.int32)
        month = rng.integers(1, 13, size=n).astype(np.int32)
        day = rng.integers(0, 28, size=n)
        month = np.where(is_kostra, 0, month).astype(np.int32)
        first_of_month = (year.astype("int64") - 1970) * 12 + np.maximum(month, 1) - 1
        posting = first_of_month.astype("datetime64[M]").astype("datetime64[D]")
        posting = np.where(is_kostra, (year.astype("int64") - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]")
                           - np.timedelta64(1, "D"), posting + day.astype("timedelta64[D]"))

        art_idx = rng.choice(len(self.arts), size=n, p=self.art_weights)
        # ~2 % of the ledger purchase lines have a quantity: they are bought under an art with physical units
        has_qty = (~is_kostra) & self.art_is_mapped[art_idx] & (rng.random(n) < QUANTITY_SHARE)
        art_idx = np.where(has_qty, self.qty_arts[rng.choice(len(self.qty_arts), size=n, p=self.qty_art_weights)],
                           art_idx)
        unit_idx = rng.integers(0, UNITS_PER_ORG, size=n)
        # a unit buys each art from its own handful of suppliers, the first of them taking most of the spend
        rank = rng.choice(SUPPLIERS_PER_UNIT_ART, size=n, p=self.rank_weights)
        sup_idx = (org * 131 + unit_idx * 977 + art_idx * 7919 + rank * 104729) % N_SUPPLIERS
        no_supplier = self.art_is_wage[art_idx] | is_kostra | (rng.random(n) < 0.04)
        sup_idx = np.where(no_supplier, N_SUPPLIERS, sup_idx)
        # ~1 % of the ledger purchase lines are bought from an organisation of the region (maybe itself)
        intra = (~is_kostra) & self.art_is_mapped[art_idx] & (rng.random(n) < INTRA_SHARE)
        sup_idx = np.where(intra, N_SUPPLIERS + 1 + rng.integers(0, N_ORGS, size=n), sup_idx)

        # amounts: lognormal, median ~3,000 NOK, a long tail; ~3 % credit notes
        amount = np.round(np.exp(rng.normal(np.log(300_000), 1.6, size=n))).astype(np.int64)
        amount = np.where(rng.random(n) < 0.03, -amount // 3, amount)
        amount = np.where(is_kostra, amount * 200, amount)           # a KOSTRA line is a year's sum
        vat = np.where(self.art_is_purchase_range[art_idx] & (rng.random(n) < 0.7), amount // 4, 0).astype(np.int64)
        eur = (~is_kostra) & (rng.random(n) < 0.01)
        currency = np.where(eur, 1, 0)
        orig = np.where(eur, np.round(amount / 11.0).astype(np.int64), amount)
        investment = rng.random(n) < np.where(is_kostra, 0.3, 0.08)
        # quantity = spend / unit price (with ±30 % noise); credit notes have a negative quantity
        pick = rng.random(n)
        unit_code = np.full(n, -1, dtype=np.int64)
        price = np.ones(n)
        for art, options in QUANTITY_ARTS.items():
            on_art = has_qty & (art_idx == self.arts.index(art))
            edge = 0.0
            for unit_name, unit_price, weight in options:
                chosen = on_art & (pick >= edge) & (pick < edge + weight)
                unit_code = np.where(chosen, self.qty_units.index(unit_name), unit_code)
                price = np.where(chosen, unit_price, price)
                edge += weight
        noise = rng.uniform(0.7, 1.3, size=n)
        quantity = np.round(amount / 100.0 / price * noise, 3)
        quantity_arr = pa.array(quantity, pa.float64(), mask=~has_qty)
        quantity_unit = pa.array([None] + self.qty_units, pa.string()).take(pa.array(unit_code + 1))

        row_no = (np.arange(n, dtype=np.int32) % 250_000) + 2
        voucher = index * 10_000_000 + np.arange(n) // 3
        line_id = (np.arange(n) % 3) + 1
        empty = _take([""], np.zeros(n, dtype=np.int8))
        account_suffix = _take([f"{i:02d}" for i in range(10)], rng.integers(0, 10, size=n))
        art = _take(self.arts, art_idx)
        account = pc.if_else(pa.array(is_kostra), empty, pc.binary_join_element_wise(art, account_suffix, "0", ""))
        kostra_mask = pa.array(is_kostra)
        columns = {
            "line_key": _hex_keys(rng, n),
            "org": _take(self.orgs, org),
            "batch": _take([f"{self.seed:08x}{index:024x}"], np.zeros(n, dtype=np.int8)),
            "source": _take(["ledger", "kostra"], is_kostra.astype(np.int8)),
            "row_no": pa.array(row_no),
            "posting_date": pa.array(posting.astype("datetime64[D]"), pa.date32()),
            "year": pa.array(year),
            "month": pa.array(month),
            "account": account,
            "art": art,
            "function": _take(FUNCTIONS, rng.integers(0, len(FUNCTIONS), size=n)),
            "unit": pc.if_else(kostra_mask, empty, _take(self.units, unit_idx)),
            "project": pc.if_else(kostra_mask, empty, _take(self.projects, rng.integers(0, len(self.projects), size=n))),
            "supplier_orgnr": _take(self.suppliers, sup_idx),
            "supplier_name": _take(self.supplier_names, sup_idx),
            "amount_ore": pa.array(amount),
            "vat_ore": pa.array(vat),
            "currency": _take(["NOK", "EUR"], currency),
            "amount_orig_minor": pa.array(orig),
            "description": _take(DESCRIPTIONS, rng.integers(0, len(DESCRIPTIONS), size=n)),
            "invoice_no": pc.if_else(kostra_mask, empty, _ints_as_str(rng.integers(100_000, 9_999_999, size=n))),
            "voucher": pc.if_else(kostra_mask, empty, _ints_as_str(voucher)),
            "line_id": pc.if_else(kostra_mask, empty, _ints_as_str(line_id)),
            "investment": pa.array(investment),
            "quantity": quantity_arr,
            "quantity_unit": quantity_unit,
        }
        for field in LINE_SCHEMA:   # columns added to the schema later: null (no quantity etc.)
            if field.name not in columns:
                columns[field.name] = pa.nulls(n, field.type)
        return pa.Table.from_pydict(columns, schema=LINE_SCHEMA)

    def write(self, folder: Path, total: int, chunk_size: int = 1_000_000) -> list[Path]:
        """Write `total` lines as ceil(total / chunk_size) batch files; returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        index = 0
        remaining = total
        while remaining > 0:
            n = min(chunk_size, remaining)
            # an import batch holds one organisation's lines in posting order: each file sorted so, as the line
            # store's files are (the engine writes its results in the order of its input files)
            table = self.chunk(index, n).sort_by([("org", "ascending"), ("year", "ascending"), ("month", "ascending")])
            path = folder / f"batch-{index:03d}.parquet"
            pq.write_table(table, path, compression="zstd")
            files.append(path)
            remaining -= n
            index += 1
            del table
        return files
