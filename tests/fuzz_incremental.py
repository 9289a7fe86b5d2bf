"""Random sequences of runs, each made incrementally and in full after the same previous run, and compared (results
and changes): a search for cases where the incremental compute (engine.partitions) differs from a full one. Not a
test of the suite (too slow to run on every change); run it by hand after a change to what a run reuses:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python tests/fuzz_incremental.py --seeds 1-20 --steps 8

Each seed: a few batch files of random sources (ledger, SAF-T, EHF with and without document_type, KOSTRA), years
(lines without a year included), organisations (members of a region or not), arts of purchases between members,
invoice numbers (null, empty, two numbers), projects of a climate calculation and suppliers (null, empty); each step adds or removes a batch, may add or remove an override, and the
next step's previous run is this step's incremental run, its full run or an earlier run. Prints the seed and step of
the first difference (or of a run one way fails and the other does not) and exits 1.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from klimainnkjop.engine import partitions, runner  # noqa: E402
from tests.test_incremental_compute import ORG, OTHER, SUPPLIER, THIRD, inputs, write_lines  # noqa: E402

YEARS = [2022, 2023, 2024, None]
# organisations drawn for a batch's lines: the region's members (ORG twice as likely) and, with --odd, numbers of odd
# characters (none, empty, a path and quotes, DuckDB's folder name of a null partition), which file names take as a hash
ORGS = [ORG, ORG, OTHER, THIRD]
ODD = [None, "", "a/b_c'd", partitions.HIVE_NULL]


def layout_differs(folder: Path) -> str | None:
    """A run's results BY_ORG laid out as files per organisation: each file holds only rows of the organisation its
    name gives, `empty.parquet` only where there is no other file, and the fingerprint lists the files."""
    import duckdb

    con = duckdb.connect()
    listed = partitions.read_fingerprint(folder).results
    for name in partitions.BY_ORG:
        files = sorted(p.name for p in (folder / name).iterdir())
        if listed.get(name) != files:
            return f"{folder.name} {name}: files {files}, the fingerprint lists {listed.get(name)}"
        if partitions.EMPTY in files and len(files) > 1:
            return f"{folder.name} {name}: {partitions.EMPTY} beside {files}"
        for file in files:
            orgs = {partitions.org_token(o) for (o,) in con.execute(
                f"SELECT DISTINCT org FROM read_parquet({partitions.quoted(folder / name / file)})").fetchall()}
            if file != partitions.EMPTY and orgs != {file.rsplit('_', 1)[0]}:
                return f"{folder.name} {name}/{file}: rows of {orgs}"
    return None
CALCULATIONS = pa.table({"org": [ORG], "project": ["P1"], "kg_co2e": [1_000.0], "ref": ["calc"]})
# the region's members by kind (the intra-region rule: a purchase on art 350 without a supplier is between members
# when another municipality buys that year; on 375 when a joint company does)
REGION = {"art_classes": runner.art_class_table({"115": "goods.food", "270": "services.other", "350": "services.other",
                                                 "375": "services.other"}),
          "members": pa.table({"orgnr": [ORG, OTHER, THIRD]}),
          "member_kinds": pa.table({"orgnr": [ORG, OTHER, THIRD], "kind": ["kommune", "kommune", "iks"]})}


def one_seed(seed: int, steps: int, root: Path, orgs: list = ORGS, damage: bool = False) -> str | None:
    rng = random.Random(seed)
    keys: list[tuple] = []
    overrides: list[tuple] = []
    count = 0

    def batch() -> Path:
        nonlocal count
        count += 1
        source = rng.choice(["ledger", "ledger", "ehf", "kostra", "saft"])
        year, rows = rng.choice(YEARS), []
        for i in range(rng.randint(1, 3)):
            y = year if rng.random() < 0.6 else rng.choice(YEARS)
            y = 2023 if source == "kostra" and y is None else y
            invoice = rng.choice([[], ["F1"], ["F2"], [None], [""]]) if source != "kostra" else []
            rows.append((rng.choice(orgs), f"k{count}_{i}", "" if source == "ehf" else
                         rng.choice(["115", "270", "350", "375"]), rng.choice([10_000, 20_000, 30_000]), y,
                         None if y is None else rng.randint(1, 12), *invoice))
        extra = {"investment": True, "project": "P1"} if source != "kostra" and rng.random() < 0.3 else {}
        if rng.random() < 0.2:
            extra["supplier_orgnr"] = rng.choice([None, "", SUPPLIER])
        path = write_lines(root / f"b{count}.parquet", rows, source=source, **extra)
        keys.extend((r[0], r[1]) for r in rows)
        if source == "ehf" and rng.random() < 0.5:
            table = pq.read_table(path)
            pq.write_table(table.append_column("document_type", pa.array(["invoice"] * table.num_rows)), path)
        return path

    calculations = rng.random() < 0.5
    region = rng.random() < 0.6

    def engine_inputs(files):
        given = inputs(*files)
        if calculations:
            given = dataclasses.replace(given, calculations=CALCULATIONS)
        if region:
            given = dataclasses.replace(given, **REGION)
        if overrides:
            given = dataclasses.replace(given, overrides=pa.table({
                "org": [o[0] for o in overrides], "line_key": [o[1] for o in overrides],
                "category": [o[2] for o in overrides], "rule": [f"line#{o[1]}" for o in overrides]}))
        return given

    files = [batch() for _ in range(rng.randint(1, 3))]
    previous = root / "run-0"
    try:
        runner.run(engine_inputs(files), previous)
    except runner.DataCheckFailed:
        return None  # random lines a check refuses: no first run to start from
    runs = [previous]
    for step in range(1, steps + 1):
        choice = rng.random()
        if choice < 0.5 or not files:
            files.append(batch())
        elif choice < 0.8:
            files.remove(rng.choice(files))
        else:
            files.append(batch())
            files.remove(rng.choice(files))
        if rng.random() < 0.3 and keys:
            overrides.append((*rng.choice(keys), rng.choice(["goods.food", "services.other"])))
        if rng.random() < 0.2 and overrides:
            overrides.pop(rng.randrange(len(overrides)))
        if damage and rng.random() < 0.2:  # a file of the previous run's results removed by hand
            present = [p for name in partitions.BY_ORG for p in sorted((previous / name).glob("*_*.parquet"))]
            if present:
                rng.choice(present).unlink()
        made, errors = [root / f"run-{step}", root / f"full-{step}"], []
        for out, reuse in zip(made, (True, False)):
            try:
                runner.run(engine_inputs(files), out, previous=(step - 1, previous), reuse=reuse)
                errors.append(None)
            except Exception as exc:  # noqa: BLE001 - what matters is whether both ways fail alike
                errors.append(f"{type(exc).__name__}: {exc}")
        if errors[0] != errors[1]:
            return f"seed {seed} step {step}: incremental {errors[0]!r}, full {errors[1]!r}"
        if errors[0]:
            return None  # both fail alike (a data check on random lines): nothing to compare
        differs = partitions.results_differ(*made, partitions.RESULTS + ("changes",)) or layout_differs(made[0]) \
            or layout_differs(made[1])
        if differs:
            return f"seed {seed} step {step}: {differs}"
        runs.append(made[0])
        previous = made[0] if rng.random() < 0.7 else made[1] if rng.random() < 0.5 else rng.choice(runs)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1-10", help="a range, first-last")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--odd", action="store_true", help="organisations of odd characters too (ODD)")
    parser.add_argument("--damage", action="store_true", help="remove a file of the previous run's results at times")
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    for seed in range(int(first), int(last or first) + 1):
        root = Path(tempfile.mkdtemp(prefix=f"fuzz-{seed}-"))
        try:
            found = one_seed(seed, args.steps, root, ORGS + ODD if args.odd else ORGS, args.damage)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(found or f"seed {seed}: same", flush=True)
        if found:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
