"""Incremental compute: a run's line results are one set of files per organisation and year (a partition), and a
run recomputes only the partitions whose inputs changed since the previous run, linking the other partitions' files
from it (issue 20 item 4).

An organisation's year is the partition because the method ties such lines together and little else: KOSTRA lines
step aside per organisation and year, an invoice matches ledger lines of its organisation; every other rule prices a
line by itself. What ties partitions together:
- an invoice document whose lines lie in two years (an invoice of December booked in January), and a construction
  project with a climate calculation, whose kg are shared over its lines of every year by their spend: such
  partitions of one organisation are recomputed together (`links`);
- the intra-region rule (engine.pipeline._sellers_in_the_total), which looks at the other members of the region:
  a purchase on art 350/375 without a supplier is between members when another member of the selling kind has
  purchases in that year. What a partition takes from the others is, per kind, the number of members with
  purchases that year capped at 2 (`sellers`: 0, 1 or more), recorded in the fingerprint; the partitions computed
  now count the members with purchases in the linked partitions (`active`) beside their own, and when a year's
  `sellers` differ from the previous run's, its linked partitions are computed again too (runner.run).
Lines without a year (`NO_YEAR`) are computed in every run and take the partitions they are tied to with them.

What a partition's results depend on, its fingerprint:
- the line files holding lines of that organisation and year (a batch file never changes: a new import is a new
  file, a deleted batch a missing one), and
- the rows of the inputs keyed by line (`LINE_KEYED`: classification overrides and the text model's predictions)
  that name one of its lines, and
- everything else the engine reads, the same for every partition (`reference`): the factor tables,
  classification rules, mappings, members, calculations, market factors, the unit conversions and the engine's
  own code. Any change there recomputes every partition.

`fingerprint.json` in each run's folder records these, the partitions each line file holds (so a later run reads
the org and year columns of new files only), the links, the partitions with purchases, and what the run recomputed
and reused.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LINES = "lines"  # a run's line results: lines/<year>_<org>_<n>.parquet (part_name; year "none": without a year)
LEGACY_LINES = "lines.parquet"  # a run made before the results were split by year
FINGERPRINT = "fingerprint.json"
ENV_INCREMENTAL = "KLIMAINNKJOP_INCREMENTAL"  # "0": recompute every year (default: reuse what did not change)
NO_YEAR = "none"
# inputs whose rows each name one line (org, line_key): a change there is a change of that line's year only (a new
# batch brings the text model's predictions of its lines; an override reclassifies one line)
LINE_KEYED = ("overrides", "predictions")


def lines_source(folder: Path, org: str | None = None) -> list[str] | str:
    """What read_parquet reads for a run's line results: the files of `lines/` (a set per organisation and year),
    or an older run's single lines.parquet. `org`: only that organisation's files where the run has any (a read of
    one organisation opens its own files, not every organisation's); else every file, which the caller filters."""
    if (folder / LINES).is_dir():  # <year>_<org>_<n>.parquet: no `_` in a year or an org token
        return _files_of(folder / LINES, None if org is None else f"*_{org_token(org)}_*.parquet")
    return str(folder / LEGACY_LINES)


def _files_of(directory: Path, org_pattern: str | None) -> list[str]:
    """A result's files in `directory`: those of `org_pattern` (one organisation's) where there are any, else every
    file (the caller filters). Listed here, not given to DuckDB as a glob: DuckDB would read glob characters of the
    data directory's own path (`[`, `*`, `?`) as patterns too, and find nothing or another folder's files."""
    if org_pattern is not None:
        own = sorted(str(p) for p in directory.glob(org_pattern))
        if own:
            return own
    return sorted(str(p) for p in directory.glob("*.parquet"))


def has_lines(folder: Path) -> bool:
    """Whether a run's folder still holds its line results (either layout)."""
    return (folder / LINES).is_dir() or (folder / LEGACY_LINES).exists()


def result_source(folder: Path, name: str, org: str | None = None) -> list[str] | str:
    """The files of a run's result `name` ("lines", "aggregates", ...) for read_parquet: the line results are a set
    of files per organisation and year, the results BY_ORG a set per organisation (`<name>/<org token>_<n>.parquet`,
    or `<name>/empty.parquet` for a result without rows), the changes one file; a run made before the split has
    `<name>.parquet`. `org`: only that organisation's files where the run has any (else every file, which the
    caller filters)."""
    if name == LINES:
        return lines_source(folder, org)
    if (folder / name).is_dir():
        return _files_of(folder / name, None if org is None else f"{org_token(org)}_*.parquet")
    return str(folder / f"{name}.parquet")


def has_result(folder: Path, name: str) -> bool:
    """Whether a run's folder holds the result `name` (in either layout: result_source)."""
    return (folder / name).is_dir() or (folder / f"{name}.parquet").exists()


def parquet(files, by_name: bool = False, filename: bool = False) -> str:
    """SQL that reads the Parquet `files` (a path or a list of paths, never a glob): `read_parquet` with hive
    partitioning off, so that a folder named `key=value` in the data directory's path never becomes a column (DuckDB
    detects it by default). `by_name`: the files' columns matched by name, a column a file lacks null and a type
    widened over the files (else every file is cast to the first one's types); `filename`: each row's file too."""
    paths = literal(files)
    listed = "[" + ", ".join(map(quoted, paths)) + "]" if isinstance(paths, list) else quoted(paths)
    options = ["hive_partitioning = false"] + ["union_by_name = true"] * by_name + ["filename = true"] * filename
    return f"read_parquet({listed}, {', '.join(options)})"


def read(con, files):
    """DuckDB's relation of the Parquet `files` (a path or a list of paths, never a glob) on `con`, as `parquet`
    reads them in SQL: the paths literal, hive partitioning off, the columns matched by name."""
    return con.read_parquet(literal(files), hive_partitioning=False, union_by_name=True)


def columns(raw, source: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the columns of a table, view or read_parquet(...) on `raw` (DuckDB's DESCRIBE: a
    fraction of a millisecond, where ibis's schema of the same table took ~10 ms parsing every type)."""
    return [(c, t) for c, t, *_ in raw.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def literal(path):
    """A file's path (or a list of them, as a list) as DuckDB's readers take it literally. They read `[`, `*` and
    `?` anywhere in a path as a glob (the results of a data directory /srv/data[1]/ were read from /srv/data1/, and
    /srv/data*/ read every sibling), so each is written as a class of one character; other paths are unchanged."""
    if isinstance(path, (list, tuple)):
        return [literal(p) for p in path]
    return "".join(f"[{c}]" if c in "[*?" else c for c in str(path))


def quoted(path) -> str:
    """A path (or any text) as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def incremental_enabled() -> bool:
    return os.environ.get(ENV_INCREMENTAL, "1").strip() != "0"


Key = tuple  # a partition: (org, year); year None for the lines without a year


def part_name(key: Key) -> str:
    """A partition's name in file names and the fingerprint: `<year>_<org token>`."""
    org, year = key
    return f"{year_name(year)}_{org_token(org)}"


def org_token(org: str | None) -> str:
    """An organisation in file names: an organisation number as it is (any other text of letters and digits too),
    else a hash of it (a token has no `_` and no character a file name or a glob would read otherwise)."""
    if org and re.fullmatch(r"[0-9A-Za-z]+", org):
        return org
    return "x" + hashlib.sha256(("\0" if org is None else org).encode()).hexdigest()[:16]


def key_order(key: Key) -> tuple:
    """Partitions in order: by year (without a year last), then organisation."""
    org, year = key
    return (year is None, year or 0, org or "")


def _keys(rows: Iterable) -> list[Key]:
    return [(org, year) for org, year in rows]


@dataclass
class Fingerprint:
    reference: str
    files: list[tuple[str, list[Key]]]  # (line file, the partitions it holds), as given
    links: list[list[Key]] = field(default_factory=list)  # sets of partitions tied together (document_links ...)
    line_keyed: dict = field(default_factory=dict)  # part name -> a hash of the LINE_KEYED rows naming its lines
    recomputed: list = field(default_factory=list)
    reused_from: int | None = None
    outputs: dict = field(default_factory=dict)  # part name -> the names of its line files in the run's lines/
    active: list[Key] = field(default_factory=list)  # the partitions with purchases (exclusion '')
    sources: dict = field(default_factory=dict)  # line file -> the sources of its lines
    sellers: dict = field(default_factory=dict)  # year name -> {member kind: members with purchases, at most 2}
    results: dict = field(default_factory=dict)  # result name (BY_ORG) -> the names of its files in the run's folder

    def parts(self) -> dict:
        """partition -> a hash of the line files holding it (and of its LINE_KEYED rows)."""
        holding: dict = {}
        for path, keys in self.files:
            for key in keys:
                holding.setdefault(key, []).append(path)
        return {key: hashlib.sha256(("\n".join(sorted(paths)) + "|" + self.line_keyed.get(part_name(key), ""))
                                    .encode()).hexdigest() for key, paths in holding.items()}

    def to_json(self) -> str:
        return json.dumps({"reference": self.reference, "files": self.files, "links": self.links,
                           "line_keyed": self.line_keyed,
                           "parts": {part_name(k): v for k, v in sorted(self.parts().items(),
                                                                        key=lambda kv: key_order(kv[0]))},
                           "recomputed": self.recomputed, "reused_from": self.reused_from, "outputs": self.outputs,
                           "active": self.active, "sellers": self.sellers, "sources": self.sources,
                           "results": self.results},
                          indent=1, sort_keys=True)


def read_fingerprint(folder: Path | None) -> Fingerprint | None:
    if folder is None or not (folder / LINES).is_dir():  # an older run's single lines.parquet has no fingerprint
        return None
    try:
        data = json.loads((folder / FINGERPRINT).read_text(encoding="utf-8"))
        return Fingerprint(reference=data["reference"], files=[(str(p), _keys(k)) for p, k in data["files"]],
                           links=[_keys(link) for link in data.get("links", [])],
                           line_keyed=dict(data.get("line_keyed", {})), outputs=dict(data.get("outputs", {})),
                           # required: without them a linked partition's purchases would count as none
                           active=_keys(data["active"]), sellers=dict(data["sellers"]),
                           sources=dict(data.get("sources", {})), results=dict(data.get("results", {})))
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
    """part name -> a hash of the rows of the LINE_KEYED inputs among `names` that name a line of that partition
    (the lines of `lines`); rows naming no line change nothing."""
    found: dict[str, list[str]] = {}
    for name in sorted(set(names) & set(LINE_KEYED)):
        for org, year, count, rows in raw.execute(
                f"SELECT l.org, l.year, {_row_hash('k')} FROM {name} AS k"
                f" JOIN (SELECT DISTINCT org, line_key, year FROM {lines}) AS l"
                " ON k.org = l.org AND k.line_key = l.line_key GROUP BY l.org, l.year").fetchall():
            found.setdefault(part_name((org, year)), []).append(f"{name} {count} {rows}")
    return {part: hashlib.sha256("\n".join(hashes).encode()).hexdigest() for part, hashes in found.items()}


def file_parts(raw, files: list[Path], known: Fingerprint | None
               ) -> tuple[list[tuple[str, list[Key]]], dict[str, list[str]]]:
    """(file, the partitions it holds) for each line file as given (a file given twice counts twice), and each
    file's sources: from the previous run's fingerprint where it knows the file, else one read of the new files'
    org, year and source columns."""
    held = dict(known.files) if known else {}
    sources = {p: s for p, s in known.sources.items() if p in held} if known else {}
    new = sorted({str(p) for p in files} - set(sources))
    for path in new:
        held[path], sources[path] = [], []
    if new:
        for path, org, year, source in raw.execute(
                f"SELECT DISTINCT filename, org, year, source FROM {parquet(new, filename=True)}"
                " ORDER BY filename, year NULLS LAST, org, source").fetchall():
            if (org, year) not in held[path]:
                held[path].append((org, year))
            if source not in sources[path]:
                sources[path].append(source)
    return [(str(p), held[str(p)]) for p in files], {str(p): sorted(sources[str(p)]) for p in files}


DOCUMENT = ("org", "supplier_orgnr", "invoice_no")  # an invoice document's key (engine.pipeline.DOC)


def document_links(raw, source: str, invoice_sources: tuple[str, ...], files: list[Path] | None = None,
                   known: Fingerprint | None = None) -> list[list[Key]]:
    """The sets of partitions (its organisation's years) an invoice document (org x supplier x invoice number) has
    lines in, where more than one and an invoice source names it: only then can its lines of one year change
    another year's (a document of ledger lines alone matches nothing; one that gains or loses its invoice is a link
    of this run or of the previous).

    With the previous run's fingerprint (`known`), its links are kept and only the documents with a line in a file
    it did not know (of `files`) are looked at: a link arises from lines, and lines come in new files (a link of a
    removed batch stays, which at worst recomputes two years together)."""
    invoices = ", ".join(f"'{s}'" for s in invoice_sources)
    complete = "coalesce(invoice_no, '') <> '' AND coalesce(supplier_orgnr, '') <> ''"
    lines = f"(SELECT org, supplier_orgnr, invoice_no, year, source FROM {source} WHERE {complete})"
    kept: list[list] = []
    found = _new_files(raw, files, known, DOCUMENT)
    if found is not None:
        kept, (new, read) = known.links, found
        if not new:
            return merged_links(kept)
        lines = f"(SELECT * FROM {lines} SEMI JOIN (SELECT DISTINCT {', '.join(DOCUMENT)} FROM {read}" \
                f" WHERE {complete}) USING ({', '.join(DOCUMENT)}))"
    # lines without a year are a year of their own here (None, last): computed in every run, they take with them
    # every year a document ties to them
    rows = raw.execute(
        f"SELECT DISTINCT org, list_sort(list(DISTINCT year), 'ASC', 'NULLS LAST') FROM {lines}"
        f" GROUP BY org, supplier_orgnr, invoice_no HAVING count(DISTINCT year) + max((year IS NULL)::INTEGER) > 1"
        f" AND bool_or(source IN ({invoices}))").fetchall()
    return merged_links(kept, _links(rows))


def _new_files(raw, files: list[Path] | None, known: Fingerprint | None, needed: tuple[str, ...]
               ) -> tuple[list[str], str] | None:
    """The line files of `files` that the previous run's fingerprint `known` does not list, and the read_parquet
    SQL of them; None without such a fingerprint or when a new file lacks a column of `needed` (look at every
    line then)."""
    if known is None or files is None:
        return None
    seen = {path for path, _keys in known.files}
    new = sorted({str(p) for p in files} - seen)
    read = parquet(new, by_name=True)
    if new and not set(needed) <= {c for c, _t in columns(raw, read)}:
        return None
    return new, read


def _links(rows: list[tuple]) -> list[list[Key]]:
    """(org, [years]) rows as links of partitions."""
    return [[(org, year) for year in years] for org, years in rows]


def project_links(raw, source: str, calculations: str = "calculations", files: list[Path] | None = None,
                  known: Fingerprint | None = None) -> list[list[Key]]:
    """The sets of partitions (its organisation's years) a construction project with a climate calculation (the
    table `calculations`: org, project) has lines in, where more than one: the calculation's kg are shared over the
    project's lines of every year by their spend (pipeline.apply_calculations), so a line of one year changes the
    others' kg. Every line naming the project counts (whether it is an investment purchase is decided later; a few
    years too many are recomputed at worst).

    With the previous run's fingerprint (`known`, of a run with the same reference: the same calculations), its
    links are kept and only the projects with a line in a file it did not know (of `files`) are looked at."""
    if not {"org", "project", "year"} <= {c for c, _t in columns(raw, source)}:
        return []
    lines = f"(SELECT org, project, year FROM {source})"
    kept: list[list] = []
    found = _new_files(raw, files, known, ("org", "project"))
    if found is not None:
        kept, (new, read) = known.links, found
        projects = raw.execute(f"SELECT DISTINCT n.org, n.project FROM {read} AS n SEMI JOIN {calculations} AS c"
                               " ON n.org = c.org AND n.project = c.project").fetchall() if new else []
        if not projects:  # no line of a new file names a project with a calculation
            return merged_links(kept)
        lines = f"(SELECT * FROM {lines} SEMI JOIN (SELECT DISTINCT org, project FROM {read}) USING (org, project))"
    rows = raw.execute(
        f"SELECT DISTINCT l.org, list_sort(list(DISTINCT l.year), 'ASC', 'NULLS LAST') FROM {lines} AS l"
        f" SEMI JOIN {calculations} AS c ON l.org = c.org AND l.project = c.project"
        " GROUP BY l.org, l.project HAVING count(DISTINCT l.year) + max((l.year IS NULL)::INTEGER) > 1").fetchall()
    return merged_links(kept, _links(rows))


def merged_links(*groups: list[list[Key]]) -> list[list[Key]]:
    """The links of `groups` once each, in order (each link's partitions in order)."""
    links = {tuple(sorted((tuple(k) for k in link), key=key_order)) for group in groups for link in group}
    return [list(link) for link in sorted(links, key=lambda link: [key_order(k) for k in link])]


def parts_to_compute(current: Fingerprint, previous: Fingerprint | None,
                     force: Iterable[Key] = ()) -> tuple[set, set]:
    """(partitions to compute, partitions to link from the previous run). Everything is computed without a usable
    previous run or when the reference changed; else the partitions whose files changed, those without a year,
    `force` (runner.run: a year whose sellers changed), with every partition a link ties to them (this run's links
    and the previous run's, which cover removed lines)."""
    keys = set(current.parts())
    if previous is None or previous.reference != current.reference:
        return keys, set()
    before, now = previous.parts(), current.parts()
    changed = {k for k in set(before) | set(now) if before.get(k) != now.get(k) or k[1] is None} | set(force)
    links = [set(link) for link in current.links + previous.links]
    grew = True
    while grew:
        grew = False
        for link in links:
            if link & changed and not link <= changed:
                changed |= link
                grew = True
    return keys & changed, keys - changed


def lines_of_parts(raw, current: Fingerprint, keys: set, every_line: str) -> str:
    """SQL of the lines of the partitions `keys` with the columns and types of `every_line` (the view of all line
    files): only the files holding them are read (the fingerprint lists each file's partitions), a column those
    files lack is a typed null."""
    files = list(dict.fromkeys(path for path, held in current.files if set(held) & keys))
    return lines_of_files(raw, files, every_line, in_parts(keys))


def lines_of_files(raw, files: list, every_line: str, where: str) -> str:
    """SQL of the lines of `files` that `where` holds for, with the columns and types of `every_line` (the view of
    all line files; a column those files lack is a typed null)."""
    if not files:
        return f"SELECT * FROM {every_line} WHERE false"
    source = parquet(files, by_name=True)
    present = {c for c, _t in columns(raw, source)}
    select = ", ".join(f'CAST({_ident(c) if c in present else "NULL"} AS {t}) AS {_ident(c)}'
                       for c, t in columns(raw, every_line))
    return f"SELECT {select} FROM {source} WHERE {where}"


def years_of(keys) -> dict:
    """organisation -> the years of the partitions `keys` of it."""
    years: dict = {}
    for org, year in keys:
        years.setdefault(org, set()).add(year)
    return years


def in_parts(keys) -> str:
    """SQL: a row (with columns org and year) is of one of the partitions `keys`; never null (false for none)."""
    years_of_org = years_of(keys)
    clauses = []
    for org in sorted(years_of_org, key=lambda o: o or ""):
        years = years_of_org[org]
        named = ", ".join(str(int(y)) for y in sorted(y for y in years if y is not None))
        wanted = ([f"year IN ({named})"] if named else []) + (["year IS NULL"] if None in years else [])
        same_org = "org IS NULL" if org is None else f"org = {quoted(org)}"
        clauses.append(f"({same_org} AND ({' OR '.join(wanted)}))")
    return f"coalesce({' OR '.join(clauses)}, false)" if clauses else "false"


def kept_rows(linked: set, changed: set) -> str:
    """SQL: a row of the previous run's results that this run keeps, of a partition `linked` (every partition of
    the previous run is linked or `changed`: the shorter list is written out)."""
    return in_parts(linked) if len(linked) <= len(changed) else f"NOT {in_parts(changed)}"


def sellers(active: Iterable[Key], member_kinds: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """year name -> {kind: the members of that kind with purchases that year, counted up to 2}: all that the
    intra-region rule takes from other partitions (pipeline._sellers_in_the_total: a buyer of the kind needs another
    such member, 2; any other buyer one)."""
    kinds: dict = {}
    for org, kind in member_kinds:
        kinds.setdefault(org, set()).add(kind)
    counted: dict = {}
    for org, year in set(active):
        for kind in kinds.get(org, ()):
            counted.setdefault(year_name(year), {}).setdefault(kind, set()).add(org)
    return {year: {kind: min(len(orgs), 2) for kind, orgs in sorted(by_kind.items())}
            for year, by_kind in sorted(counted.items())}


# A run's results besides the lines with rows per partition (their keys begin with org, year): a partition linked
# from the previous run takes its rows of these from that run's files too (runner.run)
BY_PART = ("aggregates", "summary", "uncertainty", "moments")
MATCHES = "matches"
# The results written as a set of files per organisation (`<name>/<org token>_<n>.parquet`): an organisation none of
# whose partitions is computed again has its files linked from the previous run, the others' are written anew (the
# previous run's rows of their linked partitions, then the new rows), so a run rewrites only what changed
BY_ORG = (*BY_PART, MATCHES)
EMPTY = "empty.parquet"  # a result without rows: no organisation's file, the columns kept (no `_`: no org's glob)


def reusable(folder: Path) -> bool:
    """Whether a previous run's folder holds every result a later run takes rows from: its line files by year and
    the results BY_ORG, in the layout of files per organisation."""
    return (folder / LINES).is_dir() and all((folder / n).is_dir() for n in BY_ORG)


def result_files(folder: Path) -> dict[str, list[str]]:
    """result name (BY_ORG) -> the names of a run's files of it (recorded in its fingerprint)."""
    return {name: sorted(p.name for p in (folder / name).glob("*.parquet")) for name in BY_ORG}


def org_files(folder: Path, name: str, orgs: Iterable | None = None, without: bool = False) -> list[Path]:
    """A run's files of the result `name` (BY_ORG) of the organisations `orgs` (`without`: of every organisation
    but those; None: every organisation's)."""
    tokens = None if orgs is None else {org_token(o) for o in orgs}
    return [p for p in sorted((folder / name).glob("*_*.parquet"))
            if tokens is None or (p.name.rsplit("_", 1)[0] in tokens) != without]


def link_files(paths: Iterable[Path], target: Path) -> None:
    """Files of a previous run linked into `target` under their names (hard links: no copy; a copy where the file
    system has none). Pruning the previous run later removes its names, not these."""
    for path in paths:
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copyfile(path, target / path.name)


def files_except(folder: Path, keys: set) -> list[Path]:
    """A run's line files of every partition but `keys`."""
    skip = {part_name(k) for k in keys}
    return [p for p in sorted((folder / LINES).glob("*.parquet")) if p.name.rsplit("_", 1)[0] not in skip]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def year_name(year) -> str:
    return NO_YEAR if year is None else str(int(year))


def part_files(folder: Path, key: Key) -> list[Path]:
    return sorted((folder / LINES).glob(f"{part_name(key)}_*.parquet"))


def outputs(folder: Path) -> dict[str, list[str]]:
    """part name -> the names of a run's line files of that partition (recorded in its fingerprint)."""
    found: dict[str, list[str]] = {}
    for path in sorted((folder / LINES).glob("*.parquet")):
        found.setdefault(path.name.rsplit("_", 1)[0], []).append(path.name)
    return found


def intact(previous: Path, known: Fingerprint, keys: set) -> bool:
    """Whether the previous run's folder still holds every line file of the partitions `keys` its fingerprint
    lists, and every file of its results BY_ORG (a linked organisation's file gone would lose its rows silently;
    a fingerprint without the list is of other code, whose runs are not linked from anyway)."""
    if set(known.results) != set(BY_ORG) or not all(
            (previous / name / file).exists() for name in BY_ORG for file in known.results[name]):
        return False
    for key in keys:
        names = known.outputs.get(part_name(key))
        if not names or not all((previous / LINES / name).exists() for name in names):
            return False
    return True


def link_parts(previous: Path, out: Path, keys: set) -> None:
    """The previous run's files of the partitions `keys`, linked into this run's lines/."""
    link_files((path for key in keys for path in part_files(previous, key)), out / LINES)


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # DuckDB's folder name for a null partition value


def _hive_value(folder: Path) -> str | None:
    """The value of a folder `<column>=<value>` of DuckDB's PARTITION_BY output (URL-quoted; null as HIVE_NULL,
    which is compared before unquoting: DuckDB writes the text `__HIVE_DEFAULT_PARTITION__` quoted, `%5F_HIVE...`)."""
    value = folder.name.split("=", 1)[1]
    return None if value == HIVE_NULL else urllib.parse.unquote(value)


def collect_partitions(parts: Path, out: Path) -> list[Path]:
    """DuckDB's PARTITION_BY (year, org) output (`year=<y>/org=<o>/data_<n>.parquet`, the values URL-quoted)
    renamed to lines/<part name>_<n>.parquet: flat file names, so that no reader takes the folders for hive
    partitions. Returns the files."""
    target, written = out / LINES, []
    for folder in sorted(parts.glob("year=*/org=*")):
        year = _hive_value(folder.parent)
        key = (_hive_value(folder), None if year in (None, "NULL") else int(year))
        written += _renamed(folder, target, part_name(key))
    shutil.rmtree(parts)
    return written


def _renamed(folder: Path, target: Path, stem: str) -> list[Path]:
    """The Parquet files of one folder of DuckDB's PARTITION_BY output moved to `target`/<stem>_<n>.parquet."""
    return [path.rename(target / f"{stem}_{index}.parquet")
            for index, path in enumerate(sorted(folder.glob("*.parquet")))]


def collect_orgs(parts: Path, target: Path) -> list[Path]:
    """DuckDB's PARTITION_BY (org) output renamed to `target`/<org token>_<n>.parquet (a result BY_ORG). Returns
    the files."""
    written = []
    for folder in sorted(parts.glob("org=*")):
        written += _renamed(folder, target, org_token(_hive_value(folder)))
    shutil.rmtree(parts, ignore_errors=True)
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
                source = parquet(result_source(folder, name), by_name=True)
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
