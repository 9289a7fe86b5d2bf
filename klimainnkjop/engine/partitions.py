"""Incremental compute: a run's line results are one set of files per year, and a run recomputes only the years
whose inputs changed since the previous run, linking the other years' files from it (issue 20 item 4).

A year is the partition because the method ties a year's lines together and nothing else: KOSTRA lines step aside
per organisation and year, an invoice matches ledger lines of its organisation, the intra-region sellers are
counted per year; every other rule prices a line by itself. Two things tie years together, and such years are
recomputed together (`links`): an invoice document whose lines lie in two years (an invoice of December booked in
January), and a construction project with a climate calculation, whose kg are shared over its lines of every year
by their spend. Lines without a year (`NO_YEAR`) are computed in every run and take the years they are tied to
with them.

What a year's results depend on, its fingerprint:
- the line files holding lines of that year (a batch file never changes: a new import is a new file, a deleted
  batch a missing one), and
- the rows of the inputs keyed by line (`LINE_KEYED`: classification overrides and the text model's predictions)
  that name a line of that year, and
- everything else the engine reads, the same for every year (`reference`): the factor tables, classification
  rules, mappings, members, calculations, market factors, the unit conversions and the engine's own code. Any
  change there recomputes every year.

`fingerprint.json` in each run's folder records these, the years each line file holds (so a later run reads the
year column of new files only), the links, and what the run recomputed and reused.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

LINES = "lines"  # a run's line results: lines/<year>_<n>.parquet (lines/none_<n>.parquet: lines without a year)
LEGACY_LINES = "lines.parquet"  # a run made before the results were split by year
FINGERPRINT = "fingerprint.json"
ENV_INCREMENTAL = "KLIMAINNKJOP_INCREMENTAL"  # "0": recompute every year (default: reuse what did not change)
NO_YEAR = "none"
# inputs whose rows each name one line (org, line_key): a change there is a change of that line's year only (a new
# batch brings the text model's predictions of its lines; an override reclassifies one line)
LINE_KEYED = ("overrides", "predictions")


def lines_source(folder: Path) -> str:
    """What read_parquet reads for a run's line results: the per-year files of `lines/`, or an older run's single
    lines.parquet."""
    if (folder / LINES).is_dir():
        return str(folder / LINES / "*.parquet")
    return str(folder / LEGACY_LINES)


def has_lines(folder: Path) -> bool:
    """Whether a run's folder still holds its line results (either layout)."""
    return (folder / LINES).is_dir() or (folder / LEGACY_LINES).exists()


def result_source(folder: Path, name: str) -> str:
    """The files of a run's result `name` ("lines", "aggregates", ...) for read_parquet: the line results are a
    file per year, the others one file each."""
    return lines_source(folder) if name == LINES else str(folder / f"{name}.parquet")


def columns(raw, source: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the columns of a table, view or read_parquet(...) on `raw` (DuckDB's DESCRIBE: a
    fraction of a millisecond, where ibis's schema of the same table took ~10 ms parsing every type)."""
    return [(c, t) for c, t, *_ in raw.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def quoted(path) -> str:
    """A path (or any text) as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def incremental_enabled() -> bool:
    return os.environ.get(ENV_INCREMENTAL, "1").strip() != "0"


@dataclass
class Fingerprint:
    reference: str
    files: list[tuple[str, list]]     # (line file, the years it holds; None: lines without a year), as given
    links: list[list] = field(default_factory=list)  # sets of years an invoice document spans
    line_keyed: dict = field(default_factory=dict)  # year -> a hash of the LINE_KEYED rows naming its lines
    recomputed: list = field(default_factory=list)
    reused_from: int | None = None
    outputs: dict = field(default_factory=dict)  # year name -> the names of its line files in the run's lines/

    def years(self) -> dict:
        """year -> a hash of the line files holding it."""
        holding: dict = {}
        for path, years in self.files:
            for year in years:
                holding.setdefault(year, []).append(path)
        return {year: hashlib.sha256(("\n".join(sorted(paths)) + "|" + self.line_keyed.get(year_name(year), ""))
                                     .encode()).hexdigest() for year, paths in holding.items()}

    def to_json(self) -> str:
        return json.dumps({"reference": self.reference, "files": self.files, "links": self.links,
                           "line_keyed": self.line_keyed,
                           "years": {str(k): v for k, v in self.years().items()}, "recomputed": self.recomputed,
                           "reused_from": self.reused_from, "outputs": self.outputs}, indent=1, sort_keys=True)


def read_fingerprint(folder: Path | None) -> Fingerprint | None:
    if folder is None or not (folder / LINES).is_dir():  # an older run's single lines.parquet has no fingerprint
        return None
    try:
        data = json.loads((folder / FINGERPRINT).read_text(encoding="utf-8"))
        return Fingerprint(reference=data["reference"], files=[(str(p), list(y)) for p, y in data["files"]],
                           links=[list(link) for link in data.get("links", [])],
                           line_keyed=dict(data.get("line_keyed", {})), outputs=dict(data.get("outputs", {})))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _row_hash(alias: str) -> str:
    """SQL: the row count and the XOR of the rows' MD5s, a digest independent of row order."""
    return f"count(*), bit_xor(md5_number(CAST({alias} AS VARCHAR)))"


def reference_hash(raw, names: list[str], code_version: str) -> str:
    """A hash of every input table registered on `raw` under `names` but the lines and LINE_KEYED, independent
    of row order: each table's name, column types, row count and the XOR of its rows' MD5s."""
    digest = hashlib.sha256(code_version.encode())
    for name in sorted(set(names) - set(LINE_KEYED)):
        count, rows = raw.execute(f"SELECT {_row_hash('t')} FROM {name} AS t").fetchall()[0]
        digest.update(f"{name} {columns(raw, name)} {count} {rows}\n".encode())
    return digest.hexdigest()


def line_keyed_hashes(raw, names: list[str], lines: str) -> dict[str, str]:
    """year -> a hash of the rows of the LINE_KEYED inputs among `names` that name a line of that year (the lines
    of `lines`); rows naming no line change nothing."""
    found: dict[str, list[str]] = {}
    for name in sorted(set(names) & set(LINE_KEYED)):
        for year, count, rows in raw.execute(
                f"SELECT l.year, {_row_hash('k')} FROM {name} AS k"
                f" JOIN (SELECT DISTINCT org, line_key, year FROM {lines}) AS l"
                " ON k.org = l.org AND k.line_key = l.line_key GROUP BY l.year").fetchall():
            found.setdefault(year_name(year), []).append(f"{name} {count} {rows}")
    return {year: hashlib.sha256("\n".join(parts).encode()).hexdigest() for year, parts in found.items()}


def file_years(raw, files: list[Path], known: Fingerprint | None) -> list[tuple[str, list]]:
    """(file, the years it holds) for each line file as given (a file given twice counts twice): from the previous
    run's fingerprint where it knows the file, else one read of the new files' year column."""
    years = dict(known.files) if known else {}
    new = sorted({str(p) for p in files} - set(years))
    for path in new:
        years[path] = []
    if new:
        listed = ", ".join(quoted(p) for p in new)
        for path, year in raw.execute(f"SELECT DISTINCT filename, year FROM read_parquet([{listed}], filename = true)"
                                      " ORDER BY ALL").fetchall():
            years[path].append(year)
    return [(str(p), years[str(p)]) for p in files]


DOCUMENT = ("org", "supplier_orgnr", "invoice_no")  # an invoice document's key (engine.pipeline.DOC)


def document_links(raw, source: str, invoice_sources: tuple[str, ...], files: list[Path] | None = None,
                   known: Fingerprint | None = None) -> list[list]:
    """The sets of years an invoice document (org x supplier x invoice number) has lines in, where more than one and
    an invoice source names it: only then can its lines of one year change another year's (a document of ledger
    lines alone matches nothing; one that gains or loses its invoice is a link of this run or of the previous).

    With the previous run's fingerprint (`known`), its links are kept and only the documents with a line in a file
    it did not know (of `files`) are looked at: a link arises from lines, and lines come in new files (a link of a
    removed batch stays, which at worst recomputes two years together)."""
    invoices = ", ".join(f"'{s}'" for s in invoice_sources)
    complete = "coalesce(invoice_no, '') <> '' AND coalesce(supplier_orgnr, '') <> ''"
    lines = f"(SELECT org, supplier_orgnr, invoice_no, year, source FROM {source} WHERE {complete})"
    kept: list[list] = []
    if known is not None and files is not None:
        seen = {path for path, _years in known.files}
        new = sorted({str(p) for p in files} - seen)
        read = "read_parquet([" + ", ".join(quoted(p) for p in new) + "], union_by_name = true)"
        if not new or set(DOCUMENT) <= {c for c, _t in columns(raw, read)}:
            kept = known.links
            if not new:
                return merged_links(kept)
            lines = f"(SELECT * FROM {lines} SEMI JOIN (SELECT DISTINCT {', '.join(DOCUMENT)} FROM {read}" \
                    f" WHERE {complete}) USING ({', '.join(DOCUMENT)}))"
    # lines without a year are a year of their own here (None, last): computed in every run, they take with them
    # every year a document ties to them
    rows = raw.execute(
        f"SELECT DISTINCT list_sort(list(DISTINCT year), 'ASC', 'NULLS LAST') FROM {lines}"
        f" GROUP BY org, supplier_orgnr, invoice_no HAVING count(DISTINCT year) + max((year IS NULL)::INTEGER) > 1"
        f" AND bool_or(source IN ({invoices}))").fetchall()
    return merged_links(kept, [row[0] for row in rows])


def project_links(raw, source: str, calculations: str = "calculations") -> list[list]:
    """The sets of years a construction project with a climate calculation (the table `calculations`: org, project)
    has lines in, where more than one: the calculation's kg are shared over the project's lines of every year by
    their spend (pipeline.apply_calculations), so a line of one year changes the others' kg. Every line naming the
    project counts (whether it is an investment purchase is decided later; a few years too many are recomputed at
    worst)."""
    if not {"org", "project", "year"} <= {c for c, _t in columns(raw, source)}:
        return []
    rows = raw.execute(
        f"SELECT DISTINCT list_sort(list(DISTINCT l.year), 'ASC', 'NULLS LAST') FROM {source} AS l"
        f" SEMI JOIN {calculations} AS c ON l.org = c.org AND l.project = c.project"
        " GROUP BY l.org, l.project HAVING count(DISTINCT l.year) + max((l.year IS NULL)::INTEGER) > 1").fetchall()
    return [list(row[0]) for row in rows]


def merged_links(*groups: list[list]) -> list[list]:
    """The links of `groups` once each, in order."""
    return [list(link) for link in sorted({tuple(link) for group in groups for link in group}, key=_link_order)]


def _link_order(link: tuple) -> list:
    return [(year is None, year or 0) for year in link]


def years_to_compute(current: Fingerprint, previous: Fingerprint | None) -> tuple[set, set]:
    """(years to compute, years to link from the previous run). Everything is computed without a usable previous
    run or when the reference changed; else the years whose files changed, with every year an invoice document ties
    to them (this run's links and the previous run's, which cover removed lines)."""
    years = set(current.years())
    if previous is None or previous.reference != current.reference:
        return years, set()
    before, now = previous.years(), current.years()
    changed = {y for y in set(before) | set(now) if before.get(y) != now.get(y)} | {None}
    links = [set(link) for link in current.links + previous.links]
    grew = True
    while grew:
        grew = False
        for link in links:
            if link & changed and not link <= changed:
                changed |= link
                grew = True
    return years & changed, years - changed


def lines_of_years(raw, current: Fingerprint, years: set, every_line: str) -> str:
    """SQL of the lines of `years` with the columns and types of `every_line` (the view of all line files): only the
    files holding them are read (the fingerprint lists each file's years), a column those files lack is a typed
    null, and the plain IN list lets DuckDB prune row groups too."""
    files = list(dict.fromkeys(path for path, held in current.files if set(held) & years))
    return lines_of_files(raw, files, every_line, in_years(years))


def lines_of_files(raw, files: list, every_line: str, where: str) -> str:
    """SQL of the lines of `files` that `where` holds for, with the columns and types of `every_line` (the view of
    all line files; a column those files lack is a typed null)."""
    if not files:
        return f"SELECT * FROM {every_line} WHERE false"
    source = "read_parquet([" + ", ".join(quoted(p) for p in files) + "], union_by_name = true)"
    present = {c for c, _t in columns(raw, source)}
    select = ", ".join(f'CAST({_ident(c) if c in present else "NULL"} AS {t}) AS {_ident(c)}'
                       for c, t in columns(raw, every_line))
    return f"SELECT {select} FROM {source} WHERE {where}"


def in_years(years) -> str:
    """SQL: a row's year is one of `years` (None: the rows without a year); false for no years."""
    named = ", ".join(str(int(y)) for y in sorted(y for y in years if y is not None))
    wanted = ([f"year IN ({named})"] if named else []) + (["year IS NULL"] if None in years else [])
    return "(" + " OR ".join(wanted) + ")" if wanted else "false"


# A run's results besides the lines with a row per year (their keys begin with org, year): a year linked from the
# previous run takes its rows of these from that run's files too (runner.run)
BY_YEAR = ("aggregates", "summary", "uncertainty", "moments")
MATCHES = "matches"


def reusable(folder: Path) -> bool:
    """Whether a previous run's folder holds every result a later run takes rows from: its line files by year, the
    BY_YEAR results and the matches."""
    return (folder / LINES).is_dir() and all((folder / f"{n}.parquet").exists() for n in (*BY_YEAR, MATCHES))


def files_except(folder: Path, years: set) -> list[Path]:
    """A run's line files of every year but `years`."""
    skip = {year_name(y) for y in years}
    return [p for p in sorted((folder / LINES).glob("*.parquet")) if p.name.rsplit("_", 1)[0] not in skip]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def year_name(year) -> str:
    return NO_YEAR if year is None else str(int(year))


def year_files(folder: Path, year) -> list[Path]:
    return sorted((folder / LINES).glob(f"{year_name(year)}_*.parquet"))


def outputs(folder: Path) -> dict[str, list[str]]:
    """year name -> the names of a run's line files of that year (recorded in its fingerprint)."""
    found: dict[str, list[str]] = {}
    for path in sorted((folder / LINES).glob("*.parquet")):
        found.setdefault(path.name.rsplit("_", 1)[0], []).append(path.name)
    return found


def intact(previous: Path, known: Fingerprint, years: set) -> bool:
    """Whether the previous run's folder still holds every line file of `years` its fingerprint lists (a run made
    before the list was kept: at least one file of each year)."""
    for year in years:
        names = known.outputs.get(year_name(year))
        if not (all((previous / LINES / name).exists() for name in names) if names else year_files(previous, year)):
            return False
    return True


def link_years(previous: Path, out: Path, years: set) -> None:
    """The previous run's files of `years`, linked into this run's lines/ (hard links: no copy; a copy where the
    file system has none). Pruning the previous run later removes its names, not these."""
    for year in years:
        for path in year_files(previous, year):
            target = out / LINES / path.name
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)


def collect_partitions(parts: Path, out: Path) -> list[Path]:
    """DuckDB's PARTITION_BY (year) output (`year=<y>/data_<n>.parquet`) renamed to lines/<y>_<n>.parquet: flat
    file names, so that no reader takes the folders for hive partitions with a year of another type. Returns the
    files."""
    target, written = out / LINES, []
    for folder in sorted(parts.glob("year=*")):
        value = folder.name.split("=", 1)[1]
        name = NO_YEAR if value in ("NULL", "__HIVE_DEFAULT_PARTITION__") else str(int(value))
        for index, path in enumerate(sorted(folder.glob("*.parquet"))):
            written.append(path.rename(target / f"{name}_{index}.parquet"))
    shutil.rmtree(parts)
    return written


RESULTS = ("lines", "aggregates", "summary", "moments", "uncertainty", "matches")


def results_differ(a: Path, b: Path, names: tuple[str, ...] = RESULTS) -> str | None:
    """The first difference between two runs' results `names` (what differs, in words), or None when every result
    holds the same rows: rows matched by their columns that are not floats, floats equal within 1e-9 relative (1e-6
    absolute; the same sums taken in another order differ in the last digits). The changes ("changes") compare
    only between runs made after the same previous run."""
    import duckdb

    con = duckdb.connect()
    try:
        for name in names:
            sides = []
            for folder in (a, b):
                source = f"read_parquet({quoted(result_source(folder, name))})"
                described = columns(con, source)
                floats = [i for i, (_c, t) in enumerate(described) if t in ("DOUBLE", "FLOAT")]
                rows = con.execute(f"SELECT * FROM {source}").fetchall()
                sides.append(sorted(rows, key=lambda r: repr([v for i, v in enumerate(r) if i not in floats])))
            if len(sides[0]) != len(sides[1]):
                return f"{name}: {len(sides[0]):,} rows against {len(sides[1]):,}"
            for left, right in zip(*sides):
                for i, (x, y) in enumerate(zip(left, right)):
                    same = math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6) if i in floats and None not in (x, y) \
                        else x == y
                    if not same:
                        return f"{name}: {described[i][0]} {x!r} against {y!r} in {left!r}"
        return None
    finally:
        con.close()
