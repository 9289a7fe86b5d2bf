"""Feeds the pipeline from the line store and reference tables, runs it, and writes the results.

The only module that knows which backend runs the expressions (DuckDB here; a Spark session later).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pyarrow as pa

from klimainnkjop import paths
from klimainnkjop.core import kostra, units
from klimainnkjop.engine import classify, partitions, pipeline, resources
from klimainnkjop.engine.partitions import quoted as _quoted
from klimainnkjop.storage.linestore import INVOICE_LINE_SCHEMA

SPEND_SCHEMA = pa.schema([("category", pa.string()), ("year", pa.int32()), ("value", pa.float64()),
                          ("low", pa.float64()), ("high", pa.float64()), ("price_year", pa.int32()),
                          ("currency", pa.string()), ("ref", pa.string()), ("quality", pa.int32()),
                          ("tier", pa.int32())])
ACTIVITY_SCHEMA = pa.schema([("category", pa.string()), ("year", pa.int32()), ("unit", pa.string()),
                             ("value", pa.float64()), ("low", pa.float64()), ("high", pa.float64()),
                             ("ref", pa.string()), ("quality", pa.int32()), ("priority", pa.int32())])
MARKET_SCHEMA = pa.schema([("category", pa.string()), ("year", pa.int32()), ("unit", pa.string()),
                           ("value", pa.float64()), ("ref", pa.string()), ("price_nok", pa.float64()),
                           ("price_year", pa.int32())])
CALCULATION_SCHEMA = pa.schema([("org", pa.string()), ("project", pa.string()), ("kg_co2e", pa.float64()),
                                ("ref", pa.string())])
SUPPLIER_SCHEMA = pa.schema([("supplier_orgnr", pa.string()), ("year", pa.int32()), ("value", pa.float64()),
                             ("low", pa.float64()), ("high", pa.float64()), ("price_year", pa.int32()),
                             ("currency", pa.string()), ("ref", pa.string()), ("quality", pa.int32()),
                             ("priority", pa.int32())])


@dataclass
class EngineInputs:
    line_files: list[Path]
    art_classes: pa.Table
    ancestors: pa.Table
    spend_factors: pa.Table
    prices: pa.Table
    rates: pa.Table
    activity_factors: pa.Table = field(default_factory=ACTIVITY_SCHEMA.empty_table)
    supplier_factors: pa.Table = field(default_factory=SUPPLIER_SCHEMA.empty_table)
    conversions: pa.Table | None = None
    members: pa.Table = field(default_factory=lambda: pa.table({"orgnr": pa.array([], pa.string())}))
    overrides: pa.Table | None = None
    rules: pa.Table | None = None
    predictions: pa.Table | None = None
    code_map: pa.Table | None = None
    suppliers: pa.Table | None = None
    art_functions: pa.Table | None = None
    member_kinds: pa.Table | None = None
    calculations: pa.Table | None = None  # construction projects' climate calculations (pipeline.apply_calculations)
    market_factors: pa.Table | None = None  # market-based electricity (pipeline MARKET-BASED; expand_nearest_earlier)


class DataCheckFailed(Exception):
    """A run's results broke a data check (engine.runner.DATA_CHECKS); the run is not published."""

    def __init__(self, check: str, rule: str, keys: list[tuple]):
        self.check, self.rule, self.keys = check, rule, keys
        shown = "; ".join(", ".join("null" if v is None else str(v) for v in key) for key in keys[:5])
        more = " and more" if len(keys) > 5 else ""
        super().__init__(f"data check {check!r} failed ({rule}): {shown}{more}")


@dataclass
class RunTotals:
    lines_in: int
    lines_purchase: int
    spend_ore: int
    kg_co2e: float
    kg_low: float = 0.0
    kg_high: float = 0.0


def art_class_table(art_categories: dict[str, str], known_arts: frozenset[str] | None = None) -> pa.Table:
    arts = [f"{i:03d}" for i in range(1000)]
    exclusions = [kostra.exclusion_reason(a, known_arts) or "" for a in arts]
    categories = [art_categories.get(a) if e == "" else None for a, e in zip(arts, exclusions)]
    return pa.table({"art": arts, "exclusion": exclusions, "category": pa.array(categories, pa.string())})


def ancestor_table(parents: dict[str, str | None]) -> pa.Table:
    """(category, ancestor, depth) for every category, itself at depth 0."""
    rows: dict[str, list] = {"category": [], "ancestor": [], "depth": []}
    for code in sorted(parents):
        node, depth, seen = code, 0, set()
        while node is not None and node not in seen:
            seen.add(node)
            rows["category"].append(code)
            rows["ancestor"].append(node)
            rows["depth"].append(depth)
            node, depth = parents.get(node), depth + 1
    return pa.table(rows, schema=pa.schema([("category", pa.string()), ("ancestor", pa.string()),
                                            ("depth", pa.int32())]))


def expand_years(rows: list[dict], years: range, schema: pa.Schema) -> pa.Table:
    """Validity intervals [valid_from, valid_to] become explicit year keys (no as-of joins)."""
    out: dict[str, list] = {name: [] for name in schema.names}
    for row in rows:
        for year in years:
            if row["valid_from"] <= year <= row["valid_to"]:
                for name in schema.names:
                    out[name].append(year if name == "year" else row[name])
    return pa.table(out, schema=schema)


def expand_nearest_earlier(rows: list[dict], years: range, schema: pa.Schema) -> pa.Table:
    """The year rule of the market-based figure (pipeline MARKET-BASED), stated once here: a year takes the factor
    published for that year or, failing that, for the nearest earlier year (per category and unit); a year before
    the first published one has none. `rows` carry `valid_from` as their published year (the residual mix is one
    figure per year)."""
    published: dict[tuple, dict[int, dict]] = {}
    for row in rows:
        published.setdefault((row["category"], row["unit"]), {})[row["valid_from"]] = row
    out: dict[str, list] = {name: [] for name in schema.names}
    for by_year in published.values():
        for year in years:
            earlier = [y for y in by_year if y <= year]
            if not earlier:
                continue
            row = by_year[max(earlier)]
            for name in schema.names:
                out[name].append(year if name == "year" else row[name])
    return pa.table(out, schema=schema)


def conversion_table() -> pa.Table:
    names = set(units.CANONICAL)
    rows = units.conversion_rows(names, names)
    return pa.table({"from_unit": [r[0] for r in rows], "to_unit": [r[1] for r in rows],
                     "multiplier": pa.array([r[2] for r in rows], pa.float64())})


def connect() -> ibis.BaseBackend:
    """A DuckDB connection with a memory limit from the machine's size and a folder to spill to (engine.resources):
    a run larger than the limit spills its sorts, joins and aggregates instead of running out of memory."""
    con = ibis.duckdb.connect(**resources.duckdb_config())
    # the footers of the line files are read once per connection, not by every query of a run that reads them
    con.con.execute("SET parquet_metadata_cache = true")
    return con


# The compiled SQL of each plan, per process, by the schemas of its inputs. Building and compiling the ibis
# expressions takes about a second of pure Python per run (more than the whole computation of a small
# account); the inputs are registered under fixed names, so the same schemas give the same SQL.
_PLANS: dict[tuple, tuple[str, list[tuple[str, pa.Table]]]] = {}
# A folder where runner.run's compiled plans are kept across processes (each `klimainnkjop compute`, the test
# suite's workers one after another), under a hash of the plan's key and of the engine's code and ibis's version:
# default `<data dir>/cache/plans`, "off" for none
ENV_PLAN_CACHE = "KLIMAINNKJOP_PLAN_CACHE"
LINE_RESULT_INPUTS = ("art_classes", "ancestors", "spend_factors", "activity_factors", "conversions",
                      "supplier_factors", "prices", "rates", "members")
OPTIONAL_INPUTS = ("overrides", "rules", "predictions", "code_map", "suppliers", "art_functions", "member_kinds",
                   "calculations", "market_factors")


def _plan(con: ibis.BaseBackend, name: str, tables: tuple[str, ...], build, variant: object = None,
          persist: bool = False) -> str:
    """SQL of `build(*tables)`, compiled once per process for the tables' schemas and `variant` (what else the
    plan depends on: pipeline.Present); the plan's own constant tables (ibis memtables) are registered on this
    connection. `persist`: a plan of runner.run's, kept in the plan cache (ENV_PLAN_CACHE) unless it is off (its
    build must depend on nothing but the key and the engine's code)."""
    key = (name, variant, *((t, tuple(partitions.columns(con.con, t))) for t in tables))
    if key not in _PLANS:
        folder = _cached_plan_folder(key) if persist else None
        plan = _read_plan(folder) if folder is not None else None
        if plan is None:
            expr = build(*(con.table(t) for t in tables))
            plan = (con.compile(expr), [(op.name, op.data.to_pyarrow(op.schema))
                                        for op in expr.op().find(ibis.expr.operations.InMemoryTable)])
            if folder is not None:
                _write_plan(folder, plan)
        _PLANS[key] = plan
    sql, constants = _PLANS[key]
    for constant, data in constants:
        con.con.register(constant, data)
    return sql


@functools.cache
def _code_version() -> str:
    """What a plan's SQL depends on besides its key: the engine's code, the line store's schema (runner._complete)
    and the versions of ibis and sqlglot, which write the SQL. Also part of each run's reference hash, so a run of
    other engine code (partitions.py included: what a run takes from the previous one) recomputes every year."""
    import sqlglot

    digest = hashlib.sha256(f"{ibis.__version__} {sqlglot.__version__} {INVOICE_LINE_SCHEMA}".encode())
    for module in (pipeline, classify, partitions, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _cached_plan_folder(key: tuple) -> Path | None:
    """`<cache>/<engine code version>/<hash of the key>`; the first use in a process prunes other versions'."""
    root = plan_cache_root()
    if root is None:
        return None
    version = _code_version()[:16]
    _prune_once(str(root), version)
    return root / version / hashlib.sha256((_code_version() + repr(key)).encode()).hexdigest()[:32]


def plan_cache_root() -> Path | None:
    """The plan cache's folder (ENV_PLAN_CACHE), None when it is off."""
    configured = os.environ.get(ENV_PLAN_CACHE, "").strip()
    if configured.lower() == "off":
        return None
    return Path(configured) if configured else paths.data_dir() / "cache" / "plans"


PLAN_CACHE_IDLE = 3600  # seconds: another version's plans untouched this long are dead weight (old code)


def prune_plan_cache(root: Path, current: str, idle: float = PLAN_CACHE_IDLE) -> list[Path]:
    """Removes the plans of every version of the engine's code but `current` whose folder nothing wrote to for
    `idle` seconds (a plan's key includes the code's hash, so an old version's plans are never read again; a
    process still running old code, another checkout say, writes them again at worst). Returns what it removed."""
    removed = []
    cutoff = time.time() - idle
    for folder in sorted(root.glob("*")) if root.is_dir() else []:
        try:
            if folder.name != current and folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue  # removed meanwhile by another process
    return removed


@functools.cache
def _prune_once(root: str, current: str) -> None:
    prune_plan_cache(Path(root), current)


def _read_plan(folder: Path) -> tuple[str, list[tuple[str, pa.Table]]] | None:
    try:
        meta = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        constants = [(name, pa.ipc.open_file(folder / f"{i}.arrow").read_all())
                     for i, name in enumerate(meta["constants"])]
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None
    return meta["sql"], constants


def _write_plan(folder: Path, plan: tuple[str, list[tuple[str, pa.Table]]]) -> None:
    """Written to a folder of its own first and renamed: a reader sees the whole plan or none (of two processes
    writing the same plan, the first rename stays)."""
    sql, constants = plan
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        for i, (_name, data) in enumerate(constants):
            with pa.ipc.new_file(tmp / f"{i}.arrow", data.schema) as writer:
                writer.write_table(data)
        (tmp / "plan.json").write_text(json.dumps({"sql": sql, "constants": [n for n, _ in constants]}),
                                       encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # written meanwhile by another process
    except OSError:
        pass  # a cache: the plan is used from memory all the same


def _rows(table: pa.Table | None) -> int:
    return 0 if table is None else table.num_rows


def presence(raw, inputs: EngineInputs, sourced: pipeline.Present) -> pipeline.Present:
    """What the inputs hold, for the line results' plan to leave out the stages with nothing to work on
    (pipeline.Present): `sourced` (the sources, which reconciliation needed first) completed from the reference
    tables' row counts and one count over the reconciled lines (the view `reconciled`, with `members` registered)."""
    quantities, suppliers, item_codes, intra, from_members = raw.execute(
        "SELECT count(*) FILTER (WHERE quantity IS NOT NULL),"
        " count(*) FILTER (WHERE coalesce(supplier_orgnr, '') <> ''),"
        " count(*) FILTER (WHERE coalesce(item_class_code, '') <> ''),"
        " count(*) FILTER (WHERE art IN (" + ", ".join(f"'{a}'" for a in pipeline.INTRA_REGION_ARTS) + ")"
        " AND coalesce(supplier_orgnr, '') = ''),"
        " count(*) FILTER (WHERE supplier_orgnr <> org AND supplier_orgnr IN (SELECT orgnr FROM members))"
        " FROM reconciled").fetchall()[0]
    kinds = set(inputs.rules.column("kind").to_pylist()) if _rows(inputs.rules) else set()
    nace = _rows(inputs.code_map) and "nace" in inputs.code_map.column("scheme").to_pylist()
    return dataclasses.replace(
        sourced,
        quantities=bool(quantities and _rows(inputs.activity_factors)),
        supplier_factors=bool(suppliers and _rows(inputs.supplier_factors)),
        fallback=2 in inputs.spend_factors.column("tier").to_pylist(),
        member_suppliers=bool(from_members), intra_candidates=bool(intra and _rows(inputs.member_kinds)),
        item_codes=bool(item_codes), supplier_codes=bool(suppliers and nace and _rows(inputs.suppliers)),
        rule_kinds=tuple(k for k in pipeline.Present().rule_kinds if k in kinds))


def _copy(con: ibis.BaseBackend, sql: str, path: Path) -> None:
    con.con.execute(f"COPY ({sql}) TO {_quoted(path)} (FORMAT 'parquet')")


def _view(con: ibis.BaseBackend, name: str, path: Path | str | list[Path], where: str = "true") -> None:
    """The view `name` of the rows of the files `path` (a path, a glob or a list of paths) where `where` holds (the
    rows are `m` there). Files by name: a file linked from an earlier run may type a column otherwise (a typed null
    of another plan variant), and DuckDB would cast every file to the first one's types."""
    con.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {partitions.parquet(path, by_name=True)}"
                    f" AS m WHERE {where}")


def _write_by_org(con: ibis.BaseBackend, sql: str, folder: Path) -> list[Path]:
    """The rows of `sql` written to `folder` as a set of files per organisation (partitions.BY_ORG; `empty.parquet`
    with the columns when there are no rows, and nothing else is in the folder). Returns the files written."""
    con.con.execute(f"COPY ({sql}) TO {_quoted(folder / '.parts')} "
                    "(FORMAT parquet, PARTITION_BY (org), WRITE_PARTITION_COLUMNS true)")
    written = partitions.collect_orgs(folder / ".parts", folder)
    if not any(folder.iterdir()):
        _copy(con, f"SELECT * FROM ({sql}) WHERE false", folder / partitions.EMPTY)
    return written


# Checks of every run's results, cheap SQL over the written files (views of the rows made now: `stored` = lines/,
# `stored_keys` = its org and line_key with those of the linked lines of the same organisations, `aggregated` =
# aggregates/, `rolled` = summary/, `documents` = matches/): each query returns the
# offending keys (at most 10), none when the check holds. Floats are compared within 1e-6 kg + 1e-9 relative
# (sums taken in another order).
_KG_DIFFERS = "abs({a} - {b}) > 1e-6 + 1e-9 * greatest(abs({a}), abs({b}))"
_PARTS = ("n", "spend", "kg", "market", "low", "high")
DATA_CHECKS: dict[str, tuple[str, str]] = {
    "unique_line_keys": (
        "every (org, line_key) once in lines.parquet",
        "SELECT org, line_key, count(*) AS times FROM stored_keys GROUP BY org, line_key HAVING count(*) > 1 "
        "ORDER BY org, line_key LIMIT 10"),
    "method_per_line": (
        "a covered purchase line has a method, a line with a method is a covered purchase, no kg without one",
        "SELECT org, line_key, exclusion, covered, method FROM stored WHERE exclusion IS NULL OR covered IS NULL "
        "OR (exclusion = '' AND covered AND method IS NULL) "
        "OR (method IS NOT NULL AND (exclusion <> '' OR NOT covered)) "
        "OR (method IS NULL AND (kg_co2e <> 0 OR kg_low <> 0 OR kg_high <> 0)) "
        "ORDER BY org, line_key LIMIT 10"),
    "parts_add_up": (
        "lines, spend, kg (and market-based kg) per org x year x month equal in lines, aggregates and summary",
        "WITH parts AS ("
        " SELECT 'l' AS part, org, year, month, count(*) AS n, sum(amount_ore) AS spend, sum(kg_co2e) AS kg,"
        " sum(kg_co2e_market) AS market, sum(kg_low) AS low, sum(kg_high) AS high FROM stored"
        " GROUP BY org, year, month"
        " UNION ALL SELECT 'a', org, year, month, sum(lines), sum(spend_ore), sum(kg_co2e), sum(kg_co2e_market),"
        " sum(kg_low), sum(kg_high) FROM aggregated GROUP BY org, year, month"
        " UNION ALL SELECT 's', org, year, month, sum(lines), sum(spend_ore), sum(kg_co2e), sum(kg_co2e_market),"
        " sum(kg_low), sum(kg_high) FROM rolled GROUP BY org, year, month),"
        " compared AS (SELECT org, year, month, "
        + ", ".join(f"coalesce(sum({c}) FILTER (WHERE part = '{p}'), 0) AS {p}_{c}" for p in "las" for c in _PARTS)
        + " FROM parts GROUP BY org, year, month)"
        " SELECT org, year, month FROM compared WHERE "
        + " OR ".join([f"l_{c} <> {p}_{c}" for c in ("n", "spend") for p in "as"]
                      + [_KG_DIFFERS.format(a=f"l_{c}", b=f"{p}_{c}") for c in ("kg", "market", "low", "high")
                         for p in "as"])
        + " ORDER BY org, year, month LIMIT 10"),
    "matches_agree_with_lines": (
        "the ledger lines of the matched documents in the matches are the lines excluded as invoice_detail",
        "WITH m AS (SELECT org, unnest(ledger_line_keys) AS line_key FROM documents WHERE status = 'matched'),"
        " s AS (SELECT org, line_key FROM stored WHERE exclusion = 'invoice_detail')"
        " SELECT * FROM ((SELECT org, line_key FROM m EXCEPT SELECT org, line_key FROM s)"
        " UNION ALL (SELECT org, line_key FROM s EXCEPT SELECT org, line_key FROM m))"
        " ORDER BY org, line_key LIMIT 10"),
    "changes_add_up": (
        "changes.parquet: its kg after equals the lines' purchases per org x year x month, and the causes add up to "
        "the change in every cell",
        "WITH after AS (SELECT org, year, month, sum(kg_co2e) AS kg FROM stored WHERE exclusion = '' "
        " GROUP BY org, year, month),"
        " changes AS (SELECT org, year, month, sum(kg_after) AS kg FROM changed GROUP BY org, year, month)"
        " SELECT coalesce(a.org, c.org), coalesce(a.year, c.year), coalesce(a.month, c.month)"
        " FROM after a FULL JOIN changes c ON a.org IS NOT DISTINCT FROM c.org"
        " AND a.year IS NOT DISTINCT FROM c.year AND a.month IS NOT DISTINCT FROM c.month"  # null cells too
        " WHERE " + _KG_DIFFERS.format(a="coalesce(a.kg, 0)", b="coalesce(c.kg, 0)")
        + " UNION ALL SELECT org, year, month FROM changed WHERE "
        + _KG_DIFFERS.format(a="(kg_after - kg_before)",
                             b="(" + " + ".join(f"{c}_kg" for c in pipeline.CHANGE_CAUSES) + ")")
        + " ORDER BY 1, 2, 3 LIMIT 10"),
}


CHECK_VIEWS = {"changes_add_up": "changed"}  # a check of a file that not every set of results has


def check_results(raw) -> None:
    """Raises DataCheckFailed for the first check the results in the views stored/aggregated/rolled break."""
    for name, (rule, sql) in DATA_CHECKS.items():
        needs = CHECK_VIEWS.get(name)
        if needs and not raw.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?",
                                     [needs]).fetchall():
            continue  # results without that file (checked where the runner writes it)
        offending = raw.execute(sql).fetchall()
        if offending:
            raise DataCheckFailed(name, rule, [tuple(row) for row in offending])


UNCERTAINTY_KEYS = ["org", "year", "investment"]
# the columns of the matches: pipeline.invoice_documents without the largest ledger line's dimensions (d_*), which
# only reconciliation reads
MATCH_COLUMNS = ("org", "supplier_orgnr", "invoice_no", "unit", "status", "supplier_name", "invoice_source",
                 "document_type", "issue_date", "invoice_ore", "invoice_lines", "ledger_ore", "ledger_lines",
                 "ledger_posting_date", "ledger_sources", "ledger_line_keys")


def _complete(lines):
    """Batch files written without a column (older files, or sources that do not have it) read it as null; columns
    no file has are added as typed nulls."""
    missing = {f.name: ibis.null(ibis.dtype(f.type)) for f in INVOICE_LINE_SCHEMA if f.name not in lines.columns}
    return lines.mutate(**missing) if missing else lines


def _reconciled(present: pipeline.Present):
    if present.invoices:
        return lambda lines, documents: pipeline.reconcile_sources(_complete(lines), present, documents)
    return lambda lines: pipeline.reconcile_sources(_complete(lines), present)


def _invoice_documents(present: pipeline.Present):
    return lambda lines: pipeline.invoice_documents(_complete(lines), present)


def _purchase_uncertainty(stored):
    return pipeline.uncertain_totals(stored.filter(stored.exclusion == ""), UNCERTAINTY_KEYS)


def _change_columns(source: str) -> str:
    """The columns pipeline.changes reads, typed, from a lines.parquet (so one plan fits every run's file)."""
    columns = ", ".join(f"CAST({c} AS {_SQL_TYPES[t]}) AS {c}" for c, t in pipeline.CHANGE_COLUMNS.items())
    return f"SELECT {columns} FROM {source}"


_SQL_TYPES = {"string": "VARCHAR", "int32": "INTEGER", "boolean": "BOOLEAN", "float64": "DOUBLE"}


def write_changes(raw, con, previous: Path | None, current: str, path: Path, linked: set = frozenset(),
                  folder: Path | None = None, kept: str | None = None) -> None:
    """changes.parquet: this run's difference from the previous run's lines (pipeline.changes; `previous` is that
    run's folder); every line is new when there was no previous run (or its lines are gone): pipeline.all_new of the
    view `aggregated`. `current` holds the lines computed now; the partitions `linked` from the previous run have
    the same lines in both, and their rows are pipeline.unchanged of their aggregates (in
    `folder`/aggregates/, the rows where SQL `kept` holds: partitions.kept_rows)."""
    if previous is None or not partitions.has_lines(previous):
        # every line is new: the changes are the aggregates' cells (`aggregated`, this run's rows)
        changed = _plan(con, 'all_new', ('aggregated',), pipeline.all_new, persist=True)
        _copy(con, f"SELECT * FROM ({changed}) ORDER BY org ASC, year ASC, month ASC", path)
        return
    raw.execute(f"CREATE OR REPLACE VIEW change_after AS {_change_columns(current)}")
    before = partitions.parquet(partitions.lines_source(previous))
    if linked:
        files = partitions.files_except(previous, linked)
        before = partitions.parquet(files) if files \
            else f"(SELECT * FROM {current} WHERE false)"
    raw.execute(f"CREATE OR REPLACE VIEW change_before AS {_change_columns(before)}")
    changed = _plan(con, 'changes', ('change_before', 'change_after'), pipeline.changes, persist=True)
    changed = f"SELECT * FROM ({changed})"
    if linked and folder is not None:
        _view(con, "kept_aggregates", partitions.result_source(folder, "aggregates"),
              kept or partitions.in_parts(linked))
        changed += (" UNION ALL BY NAME SELECT * FROM "
                    f"({_plan(con, 'unchanged', ('kept_aggregates',), pipeline.unchanged, persist=True)})")
    _copy(con, f"SELECT * FROM ({changed}) ORDER BY org ASC, year ASC, month ASC", path)


def _touched_documents(raw, previous: Path, linked: set, line_files: list[Path]) -> str:
    """For a run that links the partitions `linked` from the `previous` run's folder: the table `touched` of the invoice
    documents that a line of the partitions computed now names (the view `line_files`), in this run or the previous one,
    and the view `document_lines` of all their lines, read from the files holding such lines only. Their rows of
    matches are made again; every other document's row is the previous run's. Returns the view's name."""
    previous_lines = partitions.files_except(previous, linked)
    keys = ", ".join(f"coalesce({k}, '') AS {k}" for k in partitions.DOCUMENT)
    raw.execute(f"CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT {keys} FROM line_files"
                + (f" UNION SELECT DISTINCT {keys} FROM {partitions.parquet(previous_lines)}"
                   if previous_lines else ""))
    # a ledger line without an invoice number or supplier is of no document (pipeline.invoice_documents)
    invoices = ", ".join(f"'{s}'" for s in pipeline.INVOICE_SOURCES)
    of_touched = ("(coalesce(invoice_no, '') <> '' AND coalesce(supplier_orgnr, '') <> ''"
                  f" OR source IN ({invoices})) AND EXISTS (SELECT 1 FROM touched AS t"
                  f" WHERE {_same_document('l', 't')})")
    listed = list(dict.fromkeys(map(str, line_files)))
    holding = [row[0] for row in raw.execute(
        f"SELECT DISTINCT filename FROM {partitions.parquet(listed, by_name=True, filename=True)} AS l"
        f" WHERE {of_touched}").fetchall()] if listed else []
    raw.execute("CREATE OR REPLACE TEMP VIEW document_lines AS SELECT * FROM ("
                + partitions.lines_of_files(raw, holding, "all_line_files", "true") + f") AS l WHERE {of_touched}")
    return "document_lines"


def _same_document(a: str, b: str) -> str:
    """SQL: the row `a` is of the invoice document `b` names (b's keys without nulls: partitions.DOCUMENT)."""
    return " AND ".join(f"coalesce({a}.{k}, '') = {b}.{k}" for k in partitions.DOCUMENT)


def _purchase_moments(stored):
    return pipeline.factor_moments(stored.filter(stored.exclusion == ""), pipeline.MOMENT_KEYS)


ACTIVE_SCHEMA = pa.schema([("org", pa.string()), ("year", pa.int32())])


def _compute_lines(con, inputs: EngineInputs, tmp: Path, sourced: pipeline.Present, optional: tuple[str, ...],
                   fingerprint: partitions.Fingerprint, compute: set, linked: set, changed: set,
                   previous: Path | None, elsewhere: list) -> tuple[str, str]:
    """The line results of the partitions `compute` written to `tmp`/lines (a set of files per partition), those
    of `linked` linked from the `previous` run's folder (`changed`: the partitions of either run not linked); the
    view `stored` of the files written now. `elsewhere`: the linked partitions with purchases (the intra-region
    rule counts them). Returns the SQL of the line results (for an empty file's columns) and of the invoice
    documents made now."""
    raw = con.con
    shutil.rmtree(tmp / partitions.LINES, ignore_errors=True)
    (tmp / partitions.LINES).mkdir()
    document_lines = "line_files"
    if not linked:
        raw.execute("CREATE OR REPLACE TEMP VIEW line_files AS SELECT * FROM all_line_files")
    else:
        partitions.link_parts(previous, tmp, linked)
        raw.execute("CREATE OR REPLACE TEMP VIEW line_files AS "
                    + partitions.lines_of_parts(raw, fingerprint, compute, "all_line_files"))
        # an invoice document is of one organisation: only the files of the organisations with a partition computed
        # now or gone hold lines of the documents made again
        orgs = partitions.years_of(changed)
        files = [Path(path) for path, held in fingerprint.files if any(org in orgs for org, _year in held)]
        document_lines = _touched_documents(raw, previous, linked, files)

    # each purchase from its most detailed source (pipeline.reconcile_sources), as a view that the rest of the plan
    # reads: the line files in their order with what was decided joined to them (a table of every reconciled line
    # held a large run's lines in memory). The invoice <-> ledger matching (pipeline.invoice_documents), which
    # reconciliation and the matches both need, is kept as a table (a row per document) when there are invoices
    documents = _plan(con, 'documents', (document_lines,), _invoice_documents(sourced), sourced, persist=True)
    if sourced.invoices:
        raw.execute(f"CREATE OR REPLACE TEMP TABLE invoice_documents AS {documents}")
        documents = "SELECT * FROM invoice_documents"
    reconcile_from = ('line_files', 'invoice_documents') if sourced.invoices else ('line_files',)
    raw.execute("CREATE OR REPLACE TEMP VIEW reconciled AS "
                + _plan(con, 'reconciled', reconcile_from, _reconciled(sourced), sourced, persist=True))
    raw.register("active_elsewhere", pa.table([[k[0] for k in elsewhere], [k[1] for k in elsewhere]],
                                              schema=ACTIVE_SCHEMA))

    def line_results(lines, *rest):
        named = dict(zip(LINE_RESULT_INPUTS + optional + ("active_elsewhere",), rest))
        return pipeline.line_results(lines, *(named[n] for n in LINE_RESULT_INPUTS),
                                     **{n: named[n] for n in optional}, active_elsewhere=named["active_elsewhere"],
                                     reconciled=True, present=present)

    present = presence(raw, inputs, sourced)  # of the lines computed now
    # the line results of the partitions computed, a set of files per partition (COPY ... PARTITION_BY), in the
    # order of the line files: the caller gives them by organisation (services.compute), and reconciliation and
    # line_results keep the order of the lines they are given (left joins with small tables), so each
    # organisation's lines lie together (a sort of every line result took a third of a large run's time and most
    # of its memory: benchmarks/README.md)
    lines_sql = _plan(con, "lines", ("reconciled", *LINE_RESULT_INPUTS, *optional, "active_elsewhere"),
                      line_results, present, persist=True)
    written = []
    if compute:
        raw.execute(f"COPY ({lines_sql}) TO {_quoted(tmp / '.parts')} "
                    "(FORMAT parquet, PARTITION_BY (year, org), WRITE_PARTITION_COLUMNS true)")
        written = partitions.collect_partitions(tmp / ".parts", tmp)
    if not any((tmp / partitions.LINES).iterdir()):  # no lines at all: an empty file keeps the columns
        written = [tmp / partitions.LINES / f"{partitions.NO_YEAR}_0.parquet"]
        _copy(con, f"SELECT * FROM ({lines_sql}) WHERE false", written[0])
    # `stored`: the line results computed now (every partition's without a previous run); the views of the other
    # results hold the same partitions, so the next plans and the data checks read this run's new rows only
    raw.execute("CREATE OR REPLACE VIEW stored AS SELECT * FROM "
                + (partitions.parquet(written) if written else
                   f"{partitions.parquet(partitions.lines_source(tmp))} WHERE false"))
    return lines_sql, documents


def run(inputs: EngineInputs, out_dir: Path, previous: tuple[int, Path] | None = None,
        reuse: bool = True) -> RunTotals:
    """Compute line results and aggregates into out_dir (written to a temporary folder, checked by
    DATA_CHECKS, then renamed; a failed check raises DataCheckFailed and leaves no folder).

    `previous`: the previous run's number and folder; its difference from this run is written to changes.parquet
    (pipeline.changes) and the number to changes.json. With `reuse`, the partitions (organisation x year) whose
    inputs did not change since that run are not recomputed: their line results are linked from it
    (engine.partitions)."""
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    con = connect()
    raw = con.con
    if inputs.line_files:
        # union_by_name: batch files written without a column (older files, or sources that do not have
        # it) read it as null; columns no file has are added as typed nulls
        raw.execute("CREATE VIEW all_line_files AS SELECT * FROM "
                    + partitions.parquet(list(inputs.line_files), by_name=True))
    else:
        raw.register("all_line_files", INVOICE_LINE_SCHEMA.empty_table())
    tables = {name: getattr(inputs, name) for name in LINE_RESULT_INPUTS}
    tables["conversions"] = inputs.conversions or conversion_table()
    # an optional input without rows is left out as if it were not given: its stage has nothing to work on
    optional = tuple(name for name in OPTIONAL_INPUTS if _rows(getattr(inputs, name)))
    for name in optional:
        tables[name] = getattr(inputs, name)
    for name, table in tables.items():
        raw.register(name, table)

    # which partitions (organisation x year) to compute: those whose line files or other inputs changed since the
    # previous run (every one without it); the others' results are taken from it: their line files linked, their
    # rows of the other results copied (engine.partitions)
    before = partitions.read_fingerprint(previous[1]) \
        if previous and reuse and partitions.reusable(previous[1]) else None
    reference = partitions.reference_hash(raw, list(tables), _code_version())
    files, file_sources = partitions.file_parts(raw, inputs.line_files, before)
    sources = {source for path in inputs.line_files for source in file_sources[str(path)]}
    sourced = pipeline.Present(invoices=bool(sources & set(pipeline.INVOICE_SOURCES)), kostra="kostra" in sources)
    fingerprint = partitions.Fingerprint(
        reference=reference, files=files, sources=file_sources,
        links=partitions.merged_links(
            partitions.document_links(raw, "all_line_files", pipeline.INVOICE_SOURCES, inputs.line_files, before)
            if sourced.invoices else [],
            partitions.project_links(raw, "all_line_files", files=inputs.line_files,
                                     known=before if before and before.reference == reference else None)
            if "calculations" in optional else []),
        line_keyed=partitions.line_keyed_hashes(raw, list(tables), "all_line_files"))
    member_kinds = [(o, k) for o, k in zip(inputs.member_kinds.column("orgnr").to_pylist(),
                                           inputs.member_kinds.column("kind").to_pylist())] \
        if "member_kinds" in optional else []
    force: set = set()
    while True:
        compute, linked = partitions.parts_to_compute(fingerprint, before, force)
        if linked and not partitions.intact(previous[1], before, linked):
            compute, linked = partitions.parts_to_compute(fingerprint, None)  # a partition's files gone from that run
        # every partition of this run or the previous one not linked (computed now, or gone)
        changed = (set(before.parts()) | set(fingerprint.parts())) - linked if linked else compute
        elsewhere = [k for k in before.active if k in linked] if linked else []
        lines_sql, documents = _compute_lines(con, inputs, tmp, sourced, optional, fingerprint, compute, linked,
                                              changed, previous[1] if previous else None, elsewhere)
        # the intra-region rule reads other partitions' purchases: a linked partition stays right while its year's
        # sellers (partitions.sellers) are what they were in the previous run; else it is computed again too
        active = set(elsewhere) | {(org, year) for org, year in raw.execute(
            "SELECT DISTINCT org, year FROM stored WHERE exclusion = ''").fetchall()}
        sellers = partitions.sellers(active, member_kinds)
        stale = {k for k in linked if sellers.get(partitions.year_name(k[1]), {})
                 != before.sellers.get(partitions.year_name(k[1]), {})}
        if not stale:
            break
        force |= stale
    fingerprint.recomputed = sorted(compute, key=partitions.key_order)
    fingerprint.reused_from = previous[0] if linked else None
    fingerprint.active = sorted(active, key=partitions.key_order)
    fingerprint.sellers = sellers
    fingerprint.outputs = partitions.outputs(tmp)
    order = "ORDER BY org ASC, year ASC, month ASC"
    # a row of a partition computed now; the previous run's rows kept (every partition is computed or linked, or
    # was in the previous run and is gone or changed)
    fresh = partitions.in_parts(compute) if linked else "true"
    kept = partitions.kept_rows(linked, changed) if linked else None
    # the line keys the uniqueness check reads: the lines computed now and the linked lines of their organisations
    # (a key is unique per organisation over all its years)
    orgs = partitions.years_of(compute)
    beside = [path for key in linked if key[0] in orgs for path in partitions.part_files(tmp, key)]
    raw.execute("CREATE OR REPLACE VIEW stored_keys AS SELECT org, line_key FROM stored"
                + (f" UNION ALL SELECT org, line_key FROM {partitions.parquet(beside)}"
                   if beside else ""))

    # the organisations whose result files (partitions.BY_ORG) are written now: those with a partition computed or
    # gone; every other organisation's files are linked from the previous run
    rewritten = partitions.years_of(changed)

    def by_org(name: str, sql: str, kept_rows: str) -> list[Path]:
        """A result written as files per organisation: the rows of `sql` (made now) and, for an organisation
        written now, the previous run's rows where SQL `kept_rows` holds (read from its files only); the other
        organisations' files linked. Returns the files written now."""
        (tmp / name).mkdir()
        if linked:
            partitions.link_files(partitions.org_files(previous[1], name, rewritten, without=True), tmp / name)
            earlier = partitions.org_files(previous[1], name, rewritten)
            if earlier:  # the previous run's rows first, in their order, then the new ones (no sort of every row);
                # by name: the files (of runs before) may type a column otherwise (_view)
                sql = (f"SELECT * FROM {partitions.parquet(earlier, by_name=True)} AS m"
                       f" WHERE {kept_rows} UNION ALL BY NAME ({sql})")
        return _write_by_org(con, sql, tmp / name)

    def new_rows(name: str, view: str, written: list[Path], where: str) -> None:
        """The view `view` of the rows made now of the result `name` (for the plans and checks that read them)."""
        _view(con, view, written or partitions.result_source(tmp, name), where if written else "false")

    def by_part(name: str, sql: str, view: str | None = None, ordered: str = order) -> None:
        """A result with rows per partition (partitions.BY_PART): this run's rows and the linked partitions' of the
        previous run's files, and `view` of the new rows for the plans and checks that read them."""
        written = by_org(name, f"SELECT * FROM ({sql}) {ordered}", kept)
        if view:
            new_rows(name, view, written, fresh)

    # the invoice <-> ledger matching, the rule reconcile_sources applied (one row per org x supplier x invoice
    # number; `klimainnkjop invoices match` reads it); the previous run's rows of the documents not made again.
    # Not sorted: each organisation's rows are a file of their own and the reader orders what it shows (a sort by
    # organisation of 8.3M documents cost a fifth of the matches' time at 10M lines: benchmarks/README.md)
    matches = f"SELECT {', '.join(MATCH_COLUMNS)} FROM ({documents})"
    written = by_org(partitions.MATCHES, matches, "NOT EXISTS (SELECT 1 FROM touched AS t WHERE "
                     f"{_same_document('m', 't')})" if linked else "true")
    # the rows made now, for the data checks (the table of them where there are invoices, else the files')
    if sourced.invoices:
        raw.execute(f"CREATE OR REPLACE VIEW documents AS SELECT {', '.join(MATCH_COLUMNS)} FROM invoice_documents")
    else:  # the documents made again (their files hold the kept documents of their organisations too)
        new_rows(partitions.MATCHES, "documents", written,
                 f"EXISTS (SELECT 1 FROM touched AS t WHERE {_same_document('m', 't')})" if linked else "true")
    by_part("aggregates", _plan(con, 'aggregates', ('stored',), pipeline.aggregates, persist=True), "aggregated")
    by_part("summary", _plan(con, 'summary', ('aggregated',), pipeline.summary, persist=True), "rolled")
    # method v2: each organisation's purchases per year × operating/investment with a 95 % range from the lines'
    # lognormal spreads (pipeline.uncertain_totals), beside the summed low-high of the aggregates
    by_part("uncertainty", _plan(con, 'uncertainty', ('stored',), _purchase_uncertainty, persist=True),
            ordered="ORDER BY org ASC, year ASC, investment ASC")
    # the same per factor and view keys (org x year x month x unit x category x investment x intra_region): the
    # combined range of any view the pages show, summed again by factor (selectors.results.combined_range)
    by_part("moments", _plan(con, 'moments', ('stored',), _purchase_moments, persist=True))
    # written once the results are: it lists their files (partitions.intact)
    fingerprint.results = partitions.result_files(tmp)
    (tmp / partitions.FINGERPRINT).write_text(fingerprint.to_json(), encoding="utf-8")
    # issue 16: what changed since the previous run, and why
    write_changes(raw, con, previous[1] if previous else None, "stored", tmp / "changes.parquet", linked, tmp, kept)
    _view(con, "changed", tmp / "changes.parquet", fresh)
    (tmp / "changes.json").write_text(json.dumps({"previous_run": previous[0] if previous else None}))

    def run_totals(rolled):
        purchase = rolled.exclusion == ""
        return rolled.aggregate(
            lines_in=rolled.lines.sum(),
            lines_purchase=ibis.ifelse(purchase, rolled.lines, 0).sum(),
            spend_ore=ibis.ifelse(purchase, rolled.spend_ore, 0).sum(),
            kg=rolled.kg_co2e.sum(), kg_low=rolled.kg_low.sum(), kg_high=rolled.kg_high.sum(),
        )

    try:
        check_results(raw)  # of the rows computed now (the linked years' were checked when they were made)
    except DataCheckFailed:
        con.disconnect()
        shutil.rmtree(tmp, ignore_errors=True)  # never published; the error names what was wrong
        raise
    _view(con, "rolled", partitions.result_source(tmp, "summary"))  # every year's, for the run's totals
    summary = raw.sql(_plan(con, "totals", ("rolled",), run_totals, persist=True)).to_arrow_table().to_pylist()[0]
    con.disconnect()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return RunTotals(int(summary["lines_in"] or 0), int(summary["lines_purchase"] or 0),
                     int(summary["spend_ore"] or 0), float(summary["kg"] or 0.0), float(summary["kg_low"] or 0.0),
                     float(summary["kg_high"] or 0.0))
