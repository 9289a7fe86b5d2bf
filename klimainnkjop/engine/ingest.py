"""Vectorised imports: a ledger file's cells read and parsed by DuckDB, keys hashed, duplicates anti-joined
against the organisation's line files and the batch written with one COPY to Parquet.

The importers (importers/ledger.py, importers/tabular.py) stay the reference: every value this module parses
in SQL is one whose reading there is certain (plain dates, plain amounts, nine-digit orgnrs, ...); a row with
any other value is handed back to the caller (`Ingest.odd_rows`), which parses it with the importer's own code,
error messages included, and hands the lines back (`Ingest.add_lines`). The CSV reader is DuckDB's only when the
file is one Python's csv module reads the same way (`csv_is_plain`); otherwise the caller reads the cells with
the importer's reader and loads them here (`Ingest.load_rows`).

KOSTRA files (`KostraIngest`, used by services/kostra_ingest.py) the same way: the lines in as one Arrow buffer,
the fixed-width fields cut and checked in SQL, the rows of any other shape handed back to importers/kostra.py.
"""
from __future__ import annotations

import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from klimainnkjop.engine import partitions, resources

# Python's str.strip() removes exactly these characters.
WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_NULL = "\x01\x02klimainnkjop-null\x02\x01"  # never in a decoded file we read with DuckDB (checked: no NUL/control)
CSV_FIELD_LIMIT = 131072  # Python's csv.field_size_limit() default

# Date formats whose reading by time.strptime is certain for strings of this shape (digit groups as given):
# regular expression (groups day, month, year as named) and whether the year has two digits.
_DATE_SHAPES = {
    "%Y-%m-%d": (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", ("y", "m", "d"), False),
    "%d.%m.%Y": (r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$", ("d", "m", "y"), False),
    "%d.%m.%y": (r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2})$", ("d", "m", "y"), True),
    "%d/%m/%Y": (r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$", ("d", "m", "y"), False),
    "%d/%m/%y": (r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{2})$", ("d", "m", "y"), True),
    "%Y%m%d": (r"^([0-9]{4})([0-9]{2})([0-9]{2})$", ("y", "m", "d"), False),
    "%d-%m-%Y": (r"^([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})$", ("d", "m", "y"), False),
}
# The importer's default list of formats (core.values._DATE_FORMATS) starts with these, in this order; the shapes
# are disjoint, so the first format Python's loop accepts is the one whose shape matches.
DEFAULT_DATE_SHAPES = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%d/%m/%y", "%Y%m%d", "%d-%m-%Y")

LINE_COLUMNS = (
    ("row_no", "INTEGER"), ("posting_date", "DATE"), ("account", "VARCHAR"), ("art", "VARCHAR"),
    ("function", "VARCHAR"), ("unit", "VARCHAR"), ("unit_name", "VARCHAR"), ("project", "VARCHAR"),
    ("supplier_orgnr", "VARCHAR"), ("supplier_name", "VARCHAR"), ("amount_minor", "BIGINT"),
    ("vat_minor", "BIGINT"), ("currency", "VARCHAR"), ("description", "VARCHAR"), ("invoice_no", "VARCHAR"),
    ("voucher", "VARCHAR"), ("line_id", "VARCHAR"), ("investment", "BOOLEAN"), ("quantity", "DOUBLE"),
    ("quantity_unit", "VARCHAR"), ("basis", "VARCHAR"),
)
LINE_ARROW_SCHEMA = pa.schema([(n, {"INTEGER": pa.int32(), "DATE": pa.date32(), "VARCHAR": pa.string(),
                                    "BIGINT": pa.int64(), "BOOLEAN": pa.bool_(), "DOUBLE": pa.float64()}[t])
                               for n, t in LINE_COLUMNS])


def _strip(column: str) -> str:
    """Python's str.strip() of a text column: the column itself when its first and last characters are printable
    ASCII other than space (most cells), else trimmed of every whitespace character."""
    return (f"(CASE WHEN ord({column}) BETWEEN 33 AND 126 AND ord(right({column}, 1)) BETWEEN 33 AND 126 "
            f"THEN {column} ELSE trim({column}, {_lit(WHITESPACE)}) END)")


def _lit(text: str) -> str:
    """A string literal of any text (NUL as chr(0))."""
    return "(" + " || chr(0) || ".join("'" + part.replace("'", "''") + "'" for part in text.split("\x00")) + ")"


@dataclass
class LedgerFields:
    """What the SQL needs of a ledger profile: field -> column index, the date format, value translations."""

    positions: dict[str, int]
    date_format: str | None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    currency: str = "NOK"
    amount_includes_vat: bool = False


def csv_is_plain(data: bytes, delimiter: str) -> str | None:
    """Why DuckDB's CSV reader might not read `data` (ASCII-compatible bytes) record for record and cell for cell
    as Python's csv module does, or None when it reads it the same way: every record one physical line (no blank
    lines between records, no line break but \\n or \\r\\n), no NUL. Quotes are checked by `Ingest.quotes_plain`."""
    if b"\x00" in data or b"\x01" in data:
        return "NUL or control character"
    crs = data.count(b"\r")
    if crs and crs != data.count(b"\r\n"):
        return "a line break that is a lone CR"
    end = _body_end(data)
    # every \r is before a \n: with as many \r as \n every line break is \r\n, and \n\n cannot occur
    if (crs != data.count(b"\n") and data.find(b"\n\n", 0, end) >= 0) or \
            (crs and data.find(b"\n\r\n", 0, end) >= 0):
        return "blank lines"
    if len(delimiter) != 1 or delimiter in "\r\n\"" or ord(delimiter) > 127:
        return "delimiter"
    return None


def _body_end(data: bytes) -> int:
    """len(data.rstrip(b"\\r\\n")), without the copy."""
    end = len(data)
    while end and data[end - 1] in (10, 13):
        end -= 1
    return end


def line_count(data: bytes) -> int:
    """Physical lines of `data`, trailing line breaks ignored."""
    end = _body_end(data)
    return data.count(b"\n", 0, end) + 1 if end else 0


_DB: duckdb.DuckDBPyConnection | None = None
_DB_LOCK = threading.Lock()


def _database() -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB database for imports (connecting costs more than a small file's parse)."""
    global _DB
    with _DB_LOCK:
        if _DB is None:
            _DB = duckdb.connect(config=resources.duckdb_config())
        return _DB


def parsed_into(ingest: "Ingest", parse, *args):
    """parse(ingest, *args): a parse whose result keeps the ingest open (a HoldsIngest), closed at once when the
    parse fails (a refused file, an interrupt)."""
    try:
        return parse(ingest, *args)
    except BaseException:
        ingest.close()
        raise


class HoldsIngest:
    """A parse result that keeps its Ingest (`self.ingest`, whose tables hold the parsed lines) open until it is
    closed or its `with` block ends: the services' ReadLedger, ReadKostra, ReadStats and ReadSaft."""

    def close(self) -> None:
        self.ingest.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Ingest:
    """One import's DuckDB connection, in memory (spilling to a temporary folder)."""

    # SQL of a ledger line's key before the key held the posting year (voucher and line id, numbered per file), by
    # which drop_stored still finds such lines stored (None: the kind's keys did not change)
    LEGACY_KEY: str | None = ("substr(sha256('id|' || voucher || '|' || line_id || '|' || "
                              "row_number() OVER (PARTITION BY voucher, line_id ORDER BY row_no)), 1, 32)")

    def __init__(self) -> None:
        self.con = _database().cursor()  # a connection of its own to the process's in-memory database
        self.schema = f"ingest_{uuid.uuid4().hex}"
        self.con.execute(f"CREATE SCHEMA {self.schema}")
        self.con.execute(f"SET schema = '{self.schema}'")
        self.ncols = 0
        self.has_odd = False

    def close(self) -> None:
        try:
            self.con.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        finally:
            self.con.close()

    def __enter__(self) -> "Ingest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ cells in
    def quotes_plain(self, path: Path, delimiter: str, encoding: str) -> bool:
        """Every line whose text has a quote is made of fields that are either quoted whole (with "" inside) or
        free of quotes: then DuckDB's and Python's readers agree on them."""
        d = re.escape(delimiter)
        fld = f'(?:"(?:[^"]|"")*"|[^"{d}\\n]*)'
        pattern = f"^{fld}(?:{d}{fld})*\\r?$"
        sql = ("SELECT count(*) FROM read_csv(?, columns={'l': 'VARCHAR'}, header=false, delim='\\x01', quote='',"
               " escape='', auto_detect=false, encoding=?, strict_mode=false, nullstr=?, hive_partitioning=false) "
               "WHERE contains(l, '\"') AND NOT regexp_full_match(l, ?)")
        try:
            (bad,) = self.con.execute(sql, [partitions.literal(path), encoding, _NULL, pattern]).fetchall()[0]
        except duckdb.Error:
            return False
        return bad == 0

    def load_csv(self, path: Path, *, ncols: int, delimiter: str, encoding: str, skip: int,
                 lines_after_skip: int) -> bool:
        """The file's records after `skip` lines as text columns c0..c{ncols-1} (missing cells null) with their
        row number; False when DuckDB cannot read it as Python's csv module would (the caller reads it then)."""
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
        sql = (f"CREATE OR REPLACE TABLE cells_raw AS SELECT * FROM read_csv(?, columns={columns}, header=false, "
               f"delim=?, quote='\"', escape='\"', auto_detect=false, null_padding=true, nullstr=?, skip=?, "
               f"encoding=?, strict_mode=true, max_line_size=?, hive_partitioning=false)")
        try:
            self.con.execute(sql, [partitions.literal(path), delimiter, _NULL, skip, encoding,
                                   2 * CSV_FIELD_LIMIT + 1024])
            (count, longest) = self.con.execute(
                "SELECT count(*), max(greatest(" + ", ".join(f"coalesce(strlen(c{i}), 0)" for i in range(ncols))
                + ")) FROM cells_raw").fetchall()[0]
        except duckdb.Error:
            return False
        if count != lines_after_skip or (longest or 0) > CSV_FIELD_LIMIT // 4:
            # a field Python might refuse (its limit counts characters, this bytes) is read by Python
            return False
        self.ncols = ncols
        # rowid is the record's place in the file (kept by DELETE): the row number as the importer counts it
        self.con.execute(f"CREATE OR REPLACE VIEW cells AS SELECT (rowid + {skip + 1})::INTEGER AS row_no, * "
                         "FROM cells_raw")
        self._drop_blank_rows()
        return True

    def load_rows(self, rows: list[tuple[int, list[str]]], ncols: int) -> None:
        """Cells read by the importer's reader (row number, cells); rows shorter than `ncols` padded with null."""
        ncols = max([ncols, *(len(c) for _, c in rows)]) if rows else ncols
        arrays = {"row_no": pa.array([r for r, _ in rows], pa.int32())}
        for i in range(ncols):
            arrays[f"c{i}"] = pa.array([c[i] if i < len(c) else None for _, c in rows], pa.string())
        table = pa.table(arrays)
        self.con.register("rows_in", table)
        self.con.execute("CREATE OR REPLACE TABLE cells_raw AS SELECT * FROM rows_in")
        self.con.unregister("rows_in")
        self.con.execute("CREATE OR REPLACE VIEW cells AS SELECT * FROM cells_raw")
        self.ncols = ncols
        self._drop_blank_rows()

    def _drop_blank_rows(self) -> None:
        """Rows whose every cell is blank are no rows (as the importer's reader skips them)."""
        # One concatenation, not a condition per column: a hostile file of thousands of columns made a condition
        # DuckDB took minutes to plan. Every cell is blank exactly when their concatenation is only whitespace
        # (concat skips NULLs); most rows are told at once by their first cell.
        if not self.ncols:
            self.con.execute("DELETE FROM cells_raw")
            return
        cells = ", ".join(f"c{i}" for i in range(self.ncols))
        self.con.execute(f"DELETE FROM cells_raw WHERE (c0 IS NULL OR NOT ord(c0) BETWEEN 33 AND 126) AND "
                         f"coalesce(trim(concat({cells}), {_lit(WHITESPACE)}), '') = ''")

    def rows_read(self) -> int:
        return self.con.execute("SELECT count(*) FROM cells").fetchall()[0][0]

    # ------------------------------------------------------------------ parse
    def parse_ledger(self, spec: LedgerFields) -> int:
        """Table `lines` (keyed by `assign_keys`): every row of the common shapes, read by cheap expressions
        (`_common_ledger_lines`); the other rows are read by the general SQL (view `fast`) where their values are
        certain, and are `odd_rows()` otherwise. Returns the number of odd rows."""
        self._common_ledger_lines(spec)
        return self._general_ledger_rows(spec, "SELECT row_no FROM lines WHERE NOT common")

    def _common_ledger_lines(self, spec: LedgerFields) -> None:
        """Table `lines`: every row, `common` when each of its values has a shape of `_COMMON_*` (or needs no
        reading) and no cell needs Python's strip(), with its line, key (as the first repetition of its basis) and
        NOK amounts; column `basis` is null (the basis is `_LEDGER_BASIS` of the line, not stored). The common shapes
        are a subset of those the general SQL reads, with the same values."""
        pos = spec.positions
        tested = {f for f in pos if f not in _SHAPED_FIELDS or spec.values.get(f)}  # a mapped value: strip first
        selects = [f"{_mapped(f'c{pos[f]}', spec.values.get(f))} AS r_{f}" for f in pos]
        plain = " AND ".join([f"c{max(pos.values())} IS NOT NULL"]
                             + [_unstripped(f"c{pos[f]}") for f in sorted(tested)])
        base = f"SELECT row_no, {', '.join(selects)}, {plain} AS plain FROM cells"

        def r(fld: str) -> str:
            return f"r_{fld}" if fld in pos else "''"

        date = _common_date(r("posting_date"), spec.date_format)
        amount = _common_amount(r("amount"))
        vat = f"(CASE WHEN r_vat = '' THEN 0 ELSE {_common_amount('r_vat')} END)" if "vat" in pos else "0"
        simple = _simple_ledger_fields(pos, spec.currency)
        account = r("account")
        if "art" in pos:
            art_given = ("(CASE WHEN r_art = '' THEN '' WHEN regexp_full_match(r_art, '[0-9]{1,3}') "
                         "THEN lpad(r_art, 3, '0') END)")
        else:
            art_given = "''"
        # importers.ledger: the art given, else art_from_account (the account's first three characters, when digits)
        from_account = (f"(CASE WHEN regexp_matches({account}, '^[0-9]{{3}}') THEN left({account}, 3) "
                        f"WHEN {account} = '' OR regexp_matches({account}, '^[0-9]{{0,2}}[!-/:-~]') OR "
                        f"regexp_full_match({account}, '[0-9]{{1,2}}') THEN '' END)")
        art = (f"(CASE WHEN {art_given} IS NULL THEN NULL WHEN {art_given} <> '' THEN {art_given} "
               f"ELSE {from_account} END)")
        if "supplier_orgnr" in pos:
            orgnr = ("(CASE WHEN r_supplier_orgnr = '' OR regexp_full_match(r_supplier_orgnr, '[0-9]{9}') "
                     "THEN r_supplier_orgnr END)")
        else:
            orgnr = "''"
        amount_final = f"({amount} - {vat})" if spec.amount_includes_vat else amount
        text = {f: r(f) for f in ("function", "unit", "unit_name", "project", "supplier_name", "description",
                                  "invoice_no", "voucher", "line_id")}
        parsed = f"""
            SELECT row_no, {date} AS posting_date, {account} AS account, {art} AS art,
                   {text['function']} AS function, {text['unit']} AS unit, {text['unit_name']} AS unit_name,
                   {text['project']} AS project, {orgnr} AS supplier_orgnr,
                   {text['supplier_name']} AS supplier_name, {amount_final}::BIGINT AS amount_minor,
                   {vat}::BIGINT AS vat_minor, {simple['currency']} AS currency, {text['description']} AS description,
                   {text['invoice_no']} AS invoice_no, {text['voucher']} AS voucher, {text['line_id']} AS line_id,
                   {simple['investment']} AS investment, NULL::DOUBLE AS quantity, '' AS quantity_unit,
                   coalesce(plain AND {simple['ok']}, false) AS plain
            FROM ({base})"""
        common = ("plain AND posting_date IS NOT NULL AND art IS NOT NULL AND supplier_orgnr IS NOT NULL AND "
                  "amount_minor IS NOT NULL AND vat_minor IS NOT NULL")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE lines AS
            SELECT * EXCLUDE (plain, common), CASE WHEN common THEN {_line_key(_LEDGER_BASIS, '1')} END AS line_key,
                   {_NOK_AMOUNTS}, NULL::VARCHAR AS basis, common
            FROM (SELECT *, coalesce({common}, false) AS common FROM ({parsed}))""")

    def _general_ledger_rows(self, spec: LedgerFields, rows: str) -> int:
        """Table `rawf` of the rows `rows` (a query of row numbers), `fast` when the general SQL is certain of
        their values (view `fast_keyed`: their lines with key basis). Returns the number of the others."""
        pos = spec.positions
        selects = [f"{_mapped(_strip(f'c{pos[f]}'), spec.values.get(f))} AS r_{f}" for f in pos]
        selects.append(f"c{max(pos.values())} IS NULL AS short" if pos else "false AS short")
        base = "SELECT row_no, " + ", ".join(selects) + f" FROM cells SEMI JOIN ({rows}) USING (row_no)"

        def r(fld: str) -> str:
            return f"r_{fld}" if fld in pos else "''"

        stages: list[list[str]] = []

        def add(more: list[list[str]]) -> None:
            for i, stage in enumerate(more):
                if i < len(stages):
                    stages[i] = stages[i] + stage
                else:
                    stages.append(list(stage))

        date_stages, date_sql, date_ok = _date_stages(r("posting_date"), spec.date_format, "pd")
        add(date_stages)
        amount_stages, amount_sql, amount_ok = _amount_stages(r("amount"), "am")
        add(amount_stages)
        if "vat" in pos:
            vat_stages, vat_num, vat_num_ok = _amount_stages("r_vat", "va")
            add(vat_stages)
            vat_sql, vat_ok = f"(CASE WHEN r_vat = '' THEN 0 ELSE {vat_num} END)", f"(r_vat = '' OR {vat_num_ok})"
        else:
            vat_sql, vat_ok = "0", "true"
        simple = _simple_ledger_fields(pos, spec.currency)
        account = r("account")
        if "art" in pos:
            art_given = "(CASE WHEN r_art = '' THEN '' ELSE lpad(r_art, 3, '0') END)"
            art_ok = "regexp_full_match(r_art, '[0-9]{0,3}')"
        else:
            art_given, art_ok = "''", "true"
        acc = _strip(account)
        art_sql = (f"(CASE WHEN {art_given} <> '' THEN {art_given} "
                   f"WHEN regexp_matches({acc}, '^[0-9]{{3}}') THEN substr({acc}, 1, 3) ELSE '' END)")
        # art_from_account's isdecimal() counts other scripts' digits too: those accounts are read by the importer
        art_ok = (f"({art_ok} AND ({art_given} <> '' OR {account} = '' OR regexp_matches({acc}, '^[0-9]{{3}}') "
                  f"OR length({acc}) < 3 OR regexp_matches(substr({acc}, 1, 3), '[\\x00-\\x2f\\x3a-\\x7f]')))")
        if "supplier_orgnr" in pos:
            org_clean = ("regexp_replace(regexp_replace(regexp_replace(upper(r_supplier_orgnr), '[ .]', '', 'g'), "
                         "'^NO', ''), 'MVA$', '')")
            orgnr_sql = f"(CASE WHEN r_supplier_orgnr = '' THEN '' ELSE {org_clean} END)"
            orgnr_ok = (f"(r_supplier_orgnr = '' OR (regexp_full_match(r_supplier_orgnr, '[0-9A-Za-z .]*') "
                        f"AND regexp_full_match({org_clean}, '[0-9]{{9}}')))")
        else:
            orgnr_sql, orgnr_ok = "''", "true"
        ok = " AND ".join(["NOT short", date_ok, amount_ok, vat_ok, art_ok, orgnr_ok, simple["ok"]])
        self.con.execute("CREATE OR REPLACE TABLE rawf AS " + _staged(base, stages + [[
            f"coalesce({ok}, false) AS fast"]]))
        amount_final = f"({amount_sql} - {vat_sql})" if spec.amount_includes_vat else amount_sql
        text = {f: r(f) for f in ("function", "unit", "unit_name", "project", "supplier_name", "description",
                                  "invoice_no", "voucher", "line_id")}
        self.con.execute(f"""
            CREATE OR REPLACE VIEW fast AS
            SELECT row_no, {date_sql} AS posting_date, {account} AS account, {art_sql} AS art,
                   {text['function']} AS function, {text['unit']} AS unit, {text['unit_name']} AS unit_name,
                   {text['project']} AS project, {orgnr_sql} AS supplier_orgnr,
                   {text['supplier_name']} AS supplier_name, {amount_final}::BIGINT AS amount_minor,
                   {vat_sql}::BIGINT AS vat_minor, {simple['currency']} AS currency,
                   {text['description']} AS description, {text['invoice_no']} AS invoice_no,
                   {text['voucher']} AS voucher, {text['line_id']} AS line_id, {simple['investment']} AS investment,
                   NULL::DOUBLE AS quantity, '' AS quantity_unit
            FROM rawf WHERE fast""")
        self.con.execute(f"CREATE OR REPLACE VIEW fast_keyed AS SELECT *, {_LEDGER_BASIS} AS basis FROM fast")
        return self.con.execute("SELECT count(*) FROM rawf WHERE NOT fast").fetchall()[0][0]

    def odd_rows(self, batch: int = 10000) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of the rows `parse_ledger` left to the importer, in file order; a row's cells end
        where the file's record ended."""
        cols = ", ".join(f"c{i}" for i in range(self.ncols))
        cursor = self.con
        cursor.execute(f"SELECT c.row_no, {cols} FROM cells c JOIN rawf USING (row_no) WHERE NOT rawf.fast "
                       "ORDER BY c.row_no")
        while True:
            chunk = cursor.fetchmany(batch)
            if not chunk:
                break
            for row in chunk:
                cells = list(row[1:])
                while cells and cells[-1] is None:
                    cells.pop()
                yield row[0], [c if c is not None else "" for c in cells]

    def add_lines(self, table: pa.Table) -> None:
        """Lines the importer parsed (LINE_ARROW_SCHEMA, `basis` its key basis) join the fast ones."""
        self.con.register("odd_in", table)
        self.con.execute("CREATE OR REPLACE TABLE odd AS SELECT * FROM odd_in")
        self.con.unregister("odd_in")
        self.has_odd = True

    def assign_keys(self) -> int:
        """Table `lines`: every line (the common rows', the general SQL's and the importer's) with its natural
        key, the n-th repetition of a basis numbered n (in file order) as the importer does, and its NOK amounts
        where it is in NOK. Returns the number of lines."""
        odd = "UNION ALL SELECT * FROM odd" if self.has_odd else ""
        self.con.execute("DELETE FROM lines WHERE NOT common")
        self.con.execute(f"""
            INSERT INTO lines BY NAME
            SELECT *, {_line_key('basis', '1')} AS line_key, {_NOK_AMOUNTS}, true AS common
            FROM (SELECT * FROM fast_keyed {odd})""")
        # Every line was keyed as the first repetition of its basis, so the lines of one basis share a key (and its
        # hash): among the lines whose key's hash repeats (few or none) the later repetitions of a basis are keyed
        # again. The basis is the importer's for its lines (stored), else the SQL's of the line.
        self.con.execute(f"""
            UPDATE lines SET line_key = r.line_key
            FROM (SELECT row_no, {_line_key('basis', 'n')} AS line_key
                  FROM (SELECT row_no, basis, row_number() OVER (PARTITION BY basis ORDER BY row_no) AS n
                        FROM (SELECT row_no, coalesce(basis, {_LEDGER_BASIS}) AS basis FROM lines
                              WHERE hash(line_key) IN (SELECT h FROM (SELECT hash(line_key) AS h FROM lines)
                                                       GROUP BY h HAVING count(*) > 1)))
                  WHERE n > 1) r
            WHERE lines.row_no = r.row_no""")
        self.con.execute("ALTER TABLE lines DROP COLUMN basis")
        self.con.execute("ALTER TABLE lines DROP COLUMN common")
        return self.con.execute("SELECT count(*) FROM lines").fetchall()[0][0]

    # ------------------------------------------------------------------ after the parse
    def foreign_lines(self) -> list[tuple]:
        """(row_no, year, currency, amount_minor, vat_minor) of the lines not in NOK, in file order."""
        return self.con.execute("SELECT row_no, year(posting_date), currency, amount_minor, vat_minor FROM lines "
                                "WHERE currency <> 'NOK' ORDER BY row_no").fetchall()

    def set_nok(self, converted: pa.Table | None) -> None:
        """NOK amounts: the line's own for NOK lines (`assign_keys` set them), `converted` (row_no, amount_ore,
        vat_ore) for the rest."""
        if converted is None or not converted.num_rows:
            return
        self.con.register("nok_in", converted)
        self.con.execute("""
            UPDATE lines SET amount_ore = n.amount_ore, vat_ore = n.vat_ore
            FROM nok_in n WHERE lines.row_no = n.row_no AND lines.currency <> 'NOK'""")
        self.con.unregister("nok_in")

    def spend_by_art(self, seen_column: str) -> list[tuple[str, str, int, int]]:
        """(art, the value the art was read from, lines, sum of absolute NOK øre) over every line."""
        return self.con.execute(f"SELECT art, {seen_column}, count(*), sum(abs(amount_ore))::HUGEINT FROM lines "
                                f"GROUP BY ALL").fetchall()

    def drop_stored(self, files: list[Path]) -> int:
        """View `fresh`: the lines whose key is in none of `files` (the organisation's stored batches), without
        copying them (table `stored_keys` holds the keys found stored, few or none). Returns the number of
        duplicates."""
        existing = partitions.literal([f for f in files if f.exists()])
        if existing:
            # a line with a line id is stored too under the key it had before the key held the posting year
            # (LEGACY_KEY): the same voucher, line id and year are the same line
            by_legacy_key = f"""
                UNION
                SELECT l.line_key FROM (SELECT line_key, year(posting_date) AS year, {self.LEGACY_KEY} AS legacy_key
                                        FROM lines WHERE line_id <> '') AS l
                SEMI JOIN stored AS s ON s.line_key = l.legacy_key AND s.year = l.year""" if self.LEGACY_KEY else ""
            self.con.execute(f"""
                CREATE OR REPLACE TABLE stored_keys AS
                WITH stored AS (SELECT line_key, year FROM read_parquet(?, hive_partitioning = false))
                SELECT DISTINCT line_key FROM lines SEMI JOIN stored USING (line_key) {by_legacy_key}""",
                             [existing])
        else:
            self.con.execute("CREATE OR REPLACE TABLE stored_keys (line_key VARCHAR)")
        self.con.execute("CREATE OR REPLACE VIEW fresh AS SELECT * FROM lines ANTI JOIN stored_keys USING (line_key)")
        total, fresh = self.con.execute(
            "SELECT (SELECT count(*) FROM lines), (SELECT count(*) FROM fresh)").fetchall()[0]
        return total - fresh

    def fresh_summary(self) -> tuple[int, int, dict[str, str], dict[str, str]]:
        """(lines, sum of NOK øre, unit -> name, supplier orgnr -> name) of the fresh lines: for a code seen on
        several lines the name of the last, in the order of first appearance (as a dict filled line by line)."""
        count, total = self.con.execute(
            "SELECT count(*), coalesce(sum(amount_ore), 0)::HUGEINT FROM fresh").fetchall()[0]
        units = self.con.execute("SELECT unit, arg_max(unit_name, row_no) FROM fresh WHERE unit <> '' GROUP BY unit "
                                 "ORDER BY min(row_no)").fetchall()
        suppliers = self.con.execute("SELECT supplier_orgnr, arg_max(supplier_name, row_no) FROM fresh "
                                     "WHERE supplier_orgnr <> '' GROUP BY supplier_orgnr ORDER BY min(row_no)"
                                     ).fetchall()
        return int(count), int(total), dict(units), dict(suppliers)

    def write_fresh(self, path: Path, *, org: str, batch: str, source: str, columns: list[tuple[str, str]],
                    annual: bool = False, order: str = "row_no") -> None:
        """The fresh lines in file order (`order`) to a Parquet file at `path` (zstd at level 1: files about as small
        as at zstd's default level 3, written in less time: benchmarks/README.md section 6), with `columns` (name,
        Parquet type as DuckDB names it) of the line store's schema. `annual`: month 0 (a year's figures, as
        KOSTRA's)."""
        constants = {"org": _lit(org), "batch": _lit(batch), "source": _lit(source),
                     "year": "year(posting_date)", "month": "0" if annual else "month(posting_date)",
                     "amount_orig_minor": "amount_minor"}
        select = ", ".join(f"CAST({constants.get(n, n)} AS {t}) AS {n}" for n, t in columns)
        self.con.execute(f"COPY (SELECT {select} FROM fresh ORDER BY {order}) TO {_lit(str(path))} "
                         "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)")

    def fetch_lines(self, limit: int | None = None) -> list[dict]:
        """The parsed lines in file order as dicts (for previews and tests)."""
        sql = "SELECT * FROM lines ORDER BY row_no" + (f" LIMIT {int(limit)}" if limit is not None else "")
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


# ---------------------------------------------------------------------------- the ledger's common shapes
# The fields the common shapes read with a shape test (none with whitespace first or last); every other field's cell
# is taken as it is only when Python's strip() would leave it so (`_unstripped`).
_SHAPED_FIELDS = ("posting_date", "amount", "vat", "currency", "art", "supplier_orgnr", "kontoklasse", "quantity")
# An amount whose reading by core.values.parse_amount_ore is plain: an optional minus, up to 13 digits (or groups of
# three after a space), at most one separator (',' or '.', then the decimal one) before one or two decimals; or
# groups of three after a '.' and a decimal comma ('1.234,56': with a comma, the comma is the decimal separator).
_COMMON_AMOUNT = (r"-?(?:[0-9]{1,13}|[0-9]{1,3}(?: [0-9]{3}){1,3})(?:[.,][0-9]{1,2})?"
                  r"|-?[0-9]{1,3}(?:\.[0-9]{3}){1,3},[0-9]{1,2}")
# Dates of the formats with a four-digit year, written with two-digit day and month and a year from 1000 (so that
# str(date) is the text SQL gives the key); time.strptime and DuckDB's try_strptime read them alike.
_COMMON_DATES = {
    "%Y-%m-%d": r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}", "%d.%m.%Y": r"[0-9]{2}\.[0-9]{2}\.[1-9][0-9]{3}",
    "%d/%m/%Y": r"[0-9]{2}/[0-9]{2}/[1-9][0-9]{3}", "%Y%m%d": r"[1-9][0-9]{7}",
    "%d-%m-%Y": r"[0-9]{2}-[0-9]{2}-[1-9][0-9]{3}",
}
_WHITESPACE_CODES = ", ".join(str(ord(c)) for c in WHITESPACE)
# importers.ledger.line_basis, of a line's columns
_LEDGER_BASIS = """(CASE WHEN line_id <> '' THEN 'id|' || voucher || '|' || line_id || '|'
                                             || coalesce(year(posting_date)::VARCHAR, '')
    ELSE concat_ws('|', posting_date::VARCHAR, account, art, function, unit, project, supplier_orgnr,
                   amount_minor::VARCHAR, vat_minor::VARCHAR, currency, description, invoice_no, voucher,
                   CASE WHEN investment THEN 'True' ELSE 'False' END, 'None', '') END)"""
# the NOK amounts of the lines in NOK (set_nok converts the others')
_NOK_AMOUNTS = ("CASE WHEN currency = 'NOK' THEN amount_minor END AS amount_ore, "
                "CASE WHEN currency = 'NOK' THEN vat_minor END AS vat_ore")


def _line_key(basis: str, repetition: str) -> str:
    """The importer's key of the `repetition`-th line of a key basis."""
    return f"substr(sha256({basis} || '|' || {repetition}), 1, 32)"


def _mapped(column: str, mapping: dict[str, str] | None) -> str:
    """A text column translated by a profile's value mapping."""
    if not mapping:
        return column
    cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
    return f"(CASE {column} {cases} ELSE {column} END)"


def _unstripped(column: str) -> str:
    """Python's str.strip() leaves the text column as it is: neither its first nor its last character (code points,
    as `[-1]` counts them; `ord('')` is -1) is whitespace."""
    return f"(ord({column}) NOT IN ({_WHITESPACE_CODES}) AND ord({column}[-1]) NOT IN ({_WHITESPACE_CODES}))"


def _common_amount(text: str) -> str:
    """core.values.parse_amount_ore of a text of `_COMMON_AMOUNT`'s shape, else NULL."""
    digits = (f"(CASE WHEN contains({text}, ',') THEN replace(replace(replace({text}, ' ', ''), '.', ''), ',', '.') "
              f"ELSE replace({text}, ' ', '') END)")
    return (f"(CASE WHEN regexp_full_match({text}, '(?:{_COMMON_AMOUNT})') THEN "
            f"(TRY_CAST({digits} AS DECIMAL(15, 2)) * 100)::BIGINT END)")


def _common_date(text: str, fmt: str | None) -> str:
    """core.values.parse_date(text, fmt) of a text of a shape of `_COMMON_DATES`, else NULL. With no format the
    importer tries its default formats in order; the shapes are disjoint, so the one that matches is the one read."""
    formats = [f for f in ((fmt,) if fmt else DEFAULT_DATE_SHAPES) if f in _COMMON_DATES]
    if not formats:
        return "NULL::DATE"
    cases = " ".join(f"WHEN regexp_full_match({text}, {_lit(_COMMON_DATES[f])}) THEN try_strptime({text}, "
                     f"{_lit(f)})::DATE" for f in formats)
    return f"(CASE {cases} END)"


def _simple_ledger_fields(pos: dict[str, int], currency: str) -> dict[str, str]:
    """The ledger's fields that take one expression (on the columns r_<field>, the stripped text): the currency,
    investment (from kontoklasse) and 'ok' (the currency, kontoklasse, unit and quantity certain)."""
    if "currency" in pos:
        currency_sql = "(CASE WHEN r_currency = '' THEN 'NOK' ELSE upper(r_currency) END)"
        currency_ok = "regexp_full_match(r_currency, '[A-Za-z]{3}|')"
    else:
        currency_sql, currency_ok = _lit(currency), "true"
    if "kontoklasse" in pos:
        inv = "('0', '4', 'i', 'inv', 'investering', 'investment', 'true', 'ja')"
        drift = "('', '1', '3', 'd', 'drift', 'operating', 'false', 'nei')"
        inv_sql = f"(lower(r_kontoklasse) IN {inv})"
        inv_ok = (f"(regexp_full_match(r_kontoklasse, '[A-Za-z0-9]*') AND "
                  f"(lower(r_kontoklasse) IN {inv} OR lower(r_kontoklasse) IN {drift}))")
    else:
        inv_sql, inv_ok = "false", "true"
    unit_ok = "length(r_unit) <= 40" if "unit" in pos else "true"
    quantity_ok = "r_quantity = ''" if "quantity" in pos else "true"
    return {"currency": currency_sql, "investment": inv_sql,
            "ok": f"({currency_ok} AND {inv_ok} AND {unit_ok} AND {quantity_ok})"}


def _date_stages(text: str, fmt: str | None, p: str) -> tuple[list[list[str]], str, str]:
    """(stages of columns, date column, 'its reading is certain' column) for the importer's parse_date(text, fmt)
    on the column `text`; columns named with prefix `p`."""
    shapes = (fmt,) if fmt else DEFAULT_DATE_SHAPES
    if any(s not in _DATE_SHAPES for s in shapes):
        return [[f"NULL::DATE AS {p}_date", f"false AS {p}_ok"]], f"{p}_date", f"{p}_ok"
    which = " ".join(f"WHEN regexp_full_match({text}, {_lit(_DATE_SHAPES[s][0])}) THEN {i}"
                     for i, s in enumerate(shapes))
    parts = []
    for name in ("y", "m", "d"):
        cases = " ".join(f"WHEN {i} THEN regexp_extract({text}, {_lit(_DATE_SHAPES[s][0])}, "
                         f"{_DATE_SHAPES[s][1].index(name) + 1})" for i, s in enumerate(shapes))
        parts.append(f"(CASE {p}_shape {cases} END) AS {p}_{name}")
    two_digit = [i for i, s in enumerate(shapes) if _DATE_SHAPES[s][2]]
    year = f"TRY_CAST({p}_y AS INTEGER)"
    if two_digit:
        year = (f"(CASE WHEN {p}_shape IN ({', '.join(map(str, two_digit))}) THEN "
                f"(CASE WHEN {year} <= 68 THEN {year} + 2000 ELSE {year} + 1900 END) ELSE {year} END)")
    stages = [
        [f"(CASE {which} END) AS {p}_shape"],
        parts,
        [f"{year} AS {p}_year"],
        [f"try_strptime({p}_year::VARCHAR || '-' || lpad({p}_m, 2, '0') || '-' || lpad({p}_d, 2, '0'), "
         f"'%Y-%m-%d')::DATE AS {p}_date"],
        [f"coalesce({p}_shape IS NOT NULL AND {p}_year >= 1000 AND {p}_date IS NOT NULL, false) AS {p}_ok"],
    ]  # str(date) has four digits of year from 1000 on, as the key's text in SQL
    return stages, f"{p}_date", f"{p}_ok"


# core.values._GROUPED of the digits before the decimal separator (`ip`): no separator, or groups of three
_GROUPED_SQL = "(NOT regexp_matches({ip}, '[.,]') OR regexp_full_match({ip}, '[0-9]{{1,3}}(?:[.,][0-9]{{3}})+'))"


def _amount_stages(text: str, p: str) -> tuple[list[list[str]], str, str]:
    """(stages of columns, øre column, 'its reading is certain' column) for core.values.parse_amount_ore(text):
    an optional sign, digits with ',' and '.' read as the importer reads them, spaces and apostrophes between."""
    stages = [
        [f"replace(replace(replace(replace({text}, ' ', ''), '\u00a0', ''), '\u202f', ''), '''', '') AS {p}_n"],
        [f"strpos(reverse({p}_n), ',') AS {p}_lc", f"strpos(reverse({p}_n), '.') AS {p}_ld",
         f"(length({text}) <= 100 AND regexp_full_match({p}_n, '[+-]?[0-9]+(?:[.,][0-9]+)*')) AS {p}_ok0"],
        [f"(CASE WHEN {p}_lc = 0 AND {p}_ld = 0 THEN '' WHEN {p}_ld = 0 OR ({p}_lc > 0 AND {p}_lc < {p}_ld) "
         f"THEN ',' ELSE '.' END) AS {p}_last"],
        [f"(CASE {p}_last WHEN ',' THEN {p}_lc WHEN '.' THEN {p}_ld ELSE 0 END) AS {p}_lp",
         f"(CASE {p}_last WHEN ',' THEN {p}_ld > 0 WHEN '.' THEN {p}_lc > 0 ELSE false END) AS {p}_other",
         f"(CASE WHEN {p}_last = '' THEN 0 ELSE length({p}_n) - length(replace({p}_n, {p}_last, '')) END) "
         f"AS {p}_cl"],
        [f"(CASE WHEN {p}_cl = 1 THEN {p}_lp ELSE 0 END) AS {p}_dp"],  # the decimal separator, from the end
        [f"ltrim(replace(replace(replace(replace(CASE WHEN {p}_dp = 0 THEN {p}_n ELSE left({p}_n, length({p}_n) - "
         f"{p}_dp) END, ',', ''), '.', ''), '-', ''), '+', ''), '0') AS {p}_int",
         f"(CASE WHEN {p}_dp = 0 THEN '' ELSE right({p}_n, {p}_dp - 1) END) AS {p}_frac",
         # the digits before the decimal separator, whose separators must group by threes (core.values._GROUPED)
         f"ltrim(CASE WHEN {p}_dp = 0 THEN {p}_n ELSE left({p}_n, length({p}_n) - {p}_dp) END, '+-') AS {p}_ip"],
        [f"(coalesce(TRY_CAST(nullif(CASE WHEN length({p}_int) <= 13 THEN {p}_int END, '') AS BIGINT), 0) * 100 "
         f"+ coalesce(TRY_CAST(rpad(substr({p}_frac, 1, 2), 2, '0') AS BIGINT), 0)) AS {p}_cents",
         f"rtrim(substr({p}_frac, 3), '0') AS {p}_rest",
         f"coalesce({p}_ok0 AND NOT ({p}_other AND {p}_cl > 1) AND length({p}_int) <= 13 AND "
         f"{_GROUPED_SQL.format(ip=f'{p}_ip')}, false) AS {p}_ok"],
        [f"((CASE WHEN starts_with({p}_n, '-') THEN -1 ELSE 1 END) * ({p}_cents + CASE WHEN {p}_rest = '' THEN 0 "
         f"WHEN {p}_rest > '5' THEN 1 WHEN {p}_rest = '5' THEN {p}_cents % 2 ELSE 0 END)) AS {p}_ore"],
    ]
    return stages, f"{p}_ore", f"{p}_ok"


def _staged(base: str, stages: list[list[str]]) -> str:
    sql = base
    for stage in stages:
        sql = f"SELECT *, {', '.join(stage)} FROM ({sql})"
    return sql


def stream_to_utf8(data: bytes, encoding: str, target: Path, chunk: int = 1 << 22) -> bool:
    """`data` decoded as `encoding` and written to `target` as UTF-8, a chunk at a time; False when it does not
    decode."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(target, "wb") as out:
            for start in range(0, len(data), chunk):
                out.write(decoder.decode(data[start:start + chunk], final=False).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except (UnicodeDecodeError, UnicodeEncodeError, LookupError):
        return False
    return True


def file_size(path: Path) -> int:
    return os.path.getsize(path)


# ---------------------------------------------------------------------------------------------------- KOSTRA


@dataclass
class KostraLayout:
    """What the SQL needs of the KOSTRA importer's layout (importers/kostra.py): fields (name, start, size),
    the record length, the known forms, the account classes and the latest year accepted."""

    fields: list[tuple[str, int, int]]
    record_length: int
    forms: set[str]
    balance_forms: set[str]
    classes: set[str]
    investment_classes: set[str]
    max_year: int


def _in(values: set[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in sorted(values)) + ")"


class KostraIngest(Ingest):
    LEGACY_KEY = None  # KOSTRA's keys never held voucher and line id

    """A KOSTRA file's records parsed in SQL; the rows whose reading is not certain are the importer's."""

    def load_lines(self, utf8: bytes) -> int:
        """The lines of `utf8` (UTF-8 text whose only line break is \\n), numbered from 1 as `str.splitlines`
        numbers them (no empty line after a final line break), into table `klines` without copying them through
        Python objects: the offsets of the Arrow string array are the positions of the line breaks. Returns the
        number of lines."""
        import numpy as np

        buffer = np.frombuffer(utf8, dtype=np.uint8)
        breaks = np.flatnonzero(buffer == 10)
        starts = np.concatenate(([0], breaks + 1))
        if starts[-1] == len(utf8):
            starts = starts[:-1]  # a final line break ends the last line
        ends = np.concatenate((breaks, [len(utf8)]))[:len(starts)]
        count = len(starts)
        # line i is utf8[starts[i]:ends[i]]; as one data buffer with the breaks removed
        keep = np.ones(len(buffer), dtype=bool)
        keep[breaks] = False
        data = buffer[keep].tobytes()
        lengths = ends - starts
        offsets = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        lines = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
        table = pa.table({"row_no": pa.array(np.arange(1, count + 1, dtype=np.int32)), "l": lines})
        self.con.register("lines_in", table)
        self.con.execute("CREATE OR REPLACE TABLE klines AS SELECT row_no, l::VARCHAR AS l FROM lines_in")
        self.con.unregister("lines_in")
        return count

    def parse_kostra(self, layout: KostraLayout) -> int:
        """Table `kparsed`: every line, `fast` when each of its fields has a shape whose reading by the importer is
        certain (digits where it wants digits, printable ASCII and spaces elsewhere, so that Python's strip() is a
        trim of spaces); the other lines (blank, short, odd or wrong) are the importer's: `odd_kostra_rows`.
        Returns the number of fast rows."""
        raw = {name: f"substr(l, {start}, {size})" for name, start, size in layout.fields}
        ok = " AND ".join([
            f"length(l) >= {layout.record_length}",
            f"{raw['skjema']} IN {_in(layout.forms)}",
            f"regexp_full_match({raw['aargang']}, '[0-9]{{4}}')",
            f"TRY_CAST({raw['aargang']} AS INTEGER) BETWEEN 1990 AND {layout.max_year}",
            f"regexp_full_match({raw['region']}, '[0-9]{{6}}')",
            f"regexp_full_match({raw['orgnr']}, '[\x20-\x7e]*')",
            f"{raw['kontoklasse']} IN {_in(layout.classes)}",
            f"regexp_full_match({raw['funksjon']}, '[\x20-\x7e]*')",
            f"regexp_full_match({raw['art']}, ' *[0-9]+ *')",
            f"regexp_full_match({raw['belop']}, ' *(?:[+-] *)?[0-9][0-9 ]*')",
        ])
        self.con.execute(f"CREATE OR REPLACE TABLE kparsed AS SELECT row_no, l, coalesce({ok}, false) AS fast "
                         "FROM klines")
        return self.con.execute("SELECT count(*) FROM kparsed WHERE fast").fetchall()[0][0]

    def odd_kostra_rows(self) -> list[tuple[int, str]]:
        """(row number, line) of the rows `parse_kostra` left to the importer, in file order."""
        return self.con.execute("SELECT row_no, l FROM kparsed WHERE NOT fast ORDER BY row_no").fetchall()

    def raw_regions(self, layout: KostraLayout) -> list[str]:
        """The region field's values on the fast rows."""
        start, size = next((start, size) for name, start, size in layout.fields if name == "region")
        return [r for (r,) in self.con.execute(
            f"SELECT DISTINCT substr(l, {start}, {size}) FROM kparsed WHERE fast").fetchall()]

    def kostra_records(self, layout: KostraLayout, regions: dict[str, str], odd: pa.Table | None) -> None:
        """Table `krecords` (row_no, skjema, year, region, orgnr, investment, function, art, amount_ore): the fast
        rows with `regions` (raw → current code) and the importer's records of the odd rows (`odd`, same columns)."""
        raw = {name: f"substr(l, {start}, {size})" for name, start, size in layout.fields}
        mapping = pa.table({"region_raw": pa.array(list(regions), pa.string()),
                            "region": pa.array(list(regions.values()), pa.string())})
        self.con.register("regions_in", mapping)
        odd_sql = ""
        if odd is not None and odd.num_rows:
            self.con.register("kodd_in", odd)
            odd_sql = "UNION ALL SELECT row_no, skjema, year, region, orgnr, investment, function, art, amount_ore " \
                      "FROM kodd_in"
        art = f"trim({raw['art']}, ' ')"
        self.con.execute(f"""
            CREATE OR REPLACE TABLE krecords AS
            SELECT p.row_no, p.skjema, p.year, r.region, p.orgnr, p.investment, p.function, p.art, p.amount_ore
            FROM (SELECT row_no, {raw['skjema']} AS skjema, TRY_CAST({raw['aargang']} AS INTEGER) AS year,
                         {raw['region']} AS region_raw, trim({raw['orgnr']}, ' ') AS orgnr,
                         {raw['kontoklasse']} IN {_in(layout.investment_classes)} AS investment,
                         trim({raw['funksjon']}, ' ') AS function,
                         lpad({art}, greatest(3, length({art}))::INTEGER, '0') AS art,
                         TRY_CAST(replace({raw['belop']}, ' ', '') AS BIGINT) * 100000 AS amount_ore
                  FROM kparsed WHERE fast) p
            JOIN regions_in r USING (region_raw) {odd_sql}""")
        self.con.unregister("regions_in")
        if odd_sql:
            self.con.unregister("kodd_in")

    def kostra_others(self, region: str, orgnr: str) -> list[tuple[int, str, str]]:
        """(first row, 'region' or 'orgnr', value) of each KOSTRA region other than `region` (unless it is empty)
        and each orgnr other than `orgnr` (but one of zeros and spaces), in the order a loop over the records
        meets them (row, then region before orgnr)."""
        return self.con.execute("""
            SELECT row_no, kind, value FROM (
                SELECT min(row_no) AS row_no, 'region' AS kind, region AS value, 0 AS k FROM krecords
                WHERE ? <> '' AND region <> '' AND region <> ? GROUP BY region
                UNION ALL
                SELECT min(row_no), 'orgnr', orgnr, 1 FROM krecords
                WHERE trim(orgnr, '0 ') <> '' AND orgnr <> ? GROUP BY orgnr)
            ORDER BY row_no, k""", [region, region, orgnr]).fetchall()

    def kostra_summary(self) -> tuple[set[str], set[int], set[str]]:
        """(regions, years, orgnrs) of every record."""
        regions, years, orgnrs = self.con.execute(
            "SELECT list(DISTINCT region), list(DISTINCT year), list(DISTINCT orgnr) FROM krecords").fetchall()[0]
        return set(regions or []), set(years or []), set(orgnrs or [])

    def kostra_lines(self, balance_forms: set[str]) -> int:
        """Table `lines` for the line store: the records that are neither balance nor zero, keyed as
        services.imports keys them (the n-th record of a basis numbered n in file order). Returns their number."""
        self.con.execute(f"""
            CREATE OR REPLACE TABLE lines AS
            SELECT row_no, make_date(year, 12, 31) AS posting_date, '' AS account, art, function, '' AS unit,
                   '' AS unit_name, '' AS project, '' AS supplier_orgnr, '' AS supplier_name,
                   amount_ore AS amount_minor, 0::BIGINT AS vat_minor, 'NOK' AS currency,
                   'KOSTRA ' || skjema || CASE WHEN investment THEN ' investering' ELSE ' drift' END AS description,
                   '' AS invoice_no, '' AS voucher, '' AS line_id, investment, NULL::DOUBLE AS quantity,
                   '' AS quantity_unit, amount_ore, 0::BIGINT AS vat_ore,
                   substr(sha256(basis || '|' || row_number() OVER (PARTITION BY basis ORDER BY row_no)), 1, 32)
                     AS line_key
            FROM (SELECT *, 'kostra|' || year || '|' || skjema || '|' || investment::INTEGER || '|' || function
                            || '|' || art AS basis
                  FROM krecords WHERE skjema NOT IN {_in(balance_forms)} AND amount_ore <> 0)""")
        return self.con.execute("SELECT count(*) FROM lines").fetchall()[0][0]


# ---------------------------------------------------------------------------------------- supplier statistics

# A line of a supplier's purchase report as services/suppliers.py hands the importer's lines in (`basis`: the text
# its key hashes before the occurrence number, importers.supplier_stats.line_basis); the SQL's lines have the same.
STATS_COLUMNS = (
    ("row_no", "INTEGER"), ("posting_date", "DATE"), ("supplier_orgnr", "VARCHAR"), ("supplier_name", "VARCHAR"),
    ("product_name", "VARCHAR"), ("product_no", "VARCHAR"), ("item_class_scheme", "VARCHAR"),
    ("item_class_code", "VARCHAR"), ("quantity", "DOUBLE"), ("quantity_unit", "VARCHAR"), ("unit_text", "VARCHAR"),
    ("amount_ore", "BIGINT"), ("invoice_no", "VARCHAR"), ("line_id", "VARCHAR"), ("basis", "VARCHAR"),
)
STATS_ARROW_SCHEMA = pa.schema([(n, {"INTEGER": pa.int32(), "DATE": pa.date32(), "VARCHAR": pa.string(),
                                     "BIGINT": pa.int64(), "DOUBLE": pa.float64()}[t]) for n, t in STATS_COLUMNS])

# importers.supplier_stats._MONTH: (shape, year, month) of the months a period may be written as
_MONTH_SHAPES = (
    ("[0-9]{4}-[0-9]{1,2}", "substr({t}, 1, 4)", "substr({t}, 6)"),
    ("[0-9]{1,2}[./][0-9]{4}", "right({t}, 4)", "regexp_extract({t}, '^[0-9]+')"),
    ("[0-9]{6}", "substr({t}, 1, 4)", "substr({t}, 5, 2)"),
    ("[0-9]{4}[Mm][0-9]{1,2}", "substr({t}, 1, 4)", "substr({t}, 6)"),
)


@dataclass
class StatsFields:
    """What the SQL needs of a supplier-statistics profile (importers.supplier_stats.StatsProfile) and import."""

    positions: dict[str, int]
    date_format: str | None
    values: dict[str, dict[str, str]]
    customer_orgnr: str
    supplier_orgnr: str  # the profile's fixed supplier ('' when none)
    supplier_name: str
    item_class_scheme: str  # the profile's scheme for codes without one ('' when none)
    schemes: dict[str, str]  # a scheme as written (lower case) -> as stored


def _raw_field(spec_positions: dict[str, int], values: dict[str, dict[str, str]], fld: str) -> str:
    """The importer's raw(fld): the cell stripped, then translated by the profile's values; '' when not mapped."""
    if fld not in spec_positions:
        return "''"
    text = _strip(f"c{spec_positions[fld]}")
    mapping = values.get(fld)
    if mapping:
        cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
        text = f"(CASE {text} {cases} ELSE {text} END)"
    return text


def _orgnr(column: str) -> tuple[str, str]:
    """(value, 'its reading is certain') of core.values.parse_orgnr on a non-empty text column."""
    clean = (f"regexp_replace(regexp_replace(regexp_replace(upper({column}), '[ .]', '', 'g'), '^NO', ''), "
             "'MVA$', '')")
    return clean, f"(regexp_full_match({column}, '[0-9A-Za-z .]*') AND regexp_full_match({clean}, '[0-9]{{9}}'))"


def _merge(stages: list[list[str]], more: list[list[str]]) -> None:
    for i, stage in enumerate(more):
        if i < len(stages):
            stages[i] = stages[i] + stage
        else:
            stages.append(list(stage))


class StatsIngest(Ingest):
    LEGACY_KEY = None  # supplier statistics' keys are their own (importers.supplier_stats.line_basis)

    """A supplier's purchase report parsed in SQL (services/suppliers.py); the rows whose reading is not certain
    are the importer's (importers.supplier_stats.parse_row), as for the ledger."""

    def unit_texts(self, spec: StatsFields) -> list[str]:
        """The quantity units as the rows write them (stripped and translated), each once."""
        if "quantity_unit" not in spec.positions:
            return []
        raw = _raw_field(spec.positions, spec.values, "quantity_unit")
        return [u for (u,) in self.con.execute(f"SELECT DISTINCT {raw} AS u FROM cells WHERE u <> ''").fetchall()]

    def parse_stats(self, spec: StatsFields, units: dict[str, tuple[float, str]]) -> int:
        """Table `rawf`: every row, `fast` when the SQL's reading of it is certain (a line of the customer's, or a
        row of another customer's: `other`); view `fast_keyed`: the fast lines as STATS_COLUMNS. `units`: a unit
        as written -> (the multiplier, the canonical unit) of core.units.normalize, for the units it knows.
        Returns the number of rows left to the importer (`odd_rows`)."""
        pos = spec.positions
        mapping = pa.table({"u": pa.array(list(units), pa.string()),
                            "m": pa.array([m for m, _ in units.values()], pa.float64()),
                            "canon": pa.array([c for _, c in units.values()], pa.string())})
        selects = [f"{_raw_field(pos, spec.values, f)} AS r_{f}" for f in pos]
        selects.append(f"c{max(pos.values())} IS NULL AS short")
        unit_raw = _raw_field(pos, spec.values, "quantity_unit")
        base = (f"SELECT c.row_no, {', '.join(selects)}, un.m AS unit_m, un.canon AS unit_canon FROM cells c "
                f"LEFT JOIN units_in un ON un.u = {unit_raw}")

        def r(fld: str) -> str:
            return f"r_{fld}" if fld in pos else "''"

        stages: list[list[str]] = []
        # period: a month first (as importers.supplier_stats.parse_period), else a date
        shape = " ".join(f"WHEN regexp_full_match(r_period, {_lit(s)}) THEN {i}" for i, (s, _, _) in
                         enumerate(_MONTH_SHAPES))
        year = " ".join(f"WHEN {i} THEN {y.format(t='r_period')}" for i, (_, y, _) in enumerate(_MONTH_SHAPES))
        month = " ".join(f"WHEN {i} THEN {m.format(t='r_period')}" for i, (_, _, m) in enumerate(_MONTH_SHAPES))
        _merge(stages, [[f"(CASE {shape} END) AS pm_shape"],
                        [f"TRY_CAST((CASE pm_shape {year} END) AS INTEGER) AS pm_y",
                         f"TRY_CAST((CASE pm_shape {month} END) AS INTEGER) AS pm_m"],
                        ["(CASE WHEN pm_m BETWEEN 1 AND 12 AND pm_y >= 1000 THEN make_date(pm_y, pm_m, 1) END) "
                         "AS pm_date"]])
        date_stages, date_sql, date_ok = _date_stages("r_period", spec.date_format, "pd")
        _merge(stages, date_stages)
        period_sql = f"(CASE WHEN pm_shape IS NOT NULL THEN pm_date ELSE {date_sql} END)"
        period_ok = f"(CASE WHEN pm_shape IS NOT NULL THEN pm_date IS NOT NULL ELSE {date_ok} END)"
        amount_stages, amount_sql, amount_ok = _amount_stages("r_amount", "am")
        _merge(stages, amount_stages)
        if "quantity" in pos:
            # core.values.parse_quantity: the number read as an amount is, exactly, then as a float
            q_stages, _, _ = _amount_stages("r_quantity", "qt")
            _merge(stages, q_stages[:-1] + [[
                "(CASE WHEN r_quantity = '' THEN NULL ELSE (CASE WHEN starts_with(qt_n, '-') THEN -1.0 ELSE 1.0 "
                "END) * TRY_CAST((CASE WHEN qt_int = '' THEN '0' ELSE qt_int END) || '.' || "
                "(CASE WHEN qt_frac = '' THEN '0' ELSE qt_frac END) AS DOUBLE) END) AS qt_val"]])
            quantity_sql = "(qt_val * unit_m)"  # units.normalize: quantity * multiplier (1.0 for a canonical unit)
            quantity_ok = ("(r_quantity = '' OR (coalesce(qt_ok0 AND NOT (qt_other AND qt_cl > 1) AND "
                           f"length(qt_int) <= 15 AND {_GROUPED_SQL.format(ip='qt_ip')}, false) AND "
                           "qt_val IS NOT NULL AND NOT (qt_val = 0 AND starts_with(qt_n, '-')) AND "
                           "r_quantity_unit <> '' AND unit_m IS NOT NULL))"
                           if "quantity_unit" in pos else "(r_quantity = '')")
            quantity_unit_sql = "(CASE WHEN r_quantity = '' THEN '' ELSE unit_canon END)"
        else:
            quantity_sql, quantity_ok, quantity_unit_sql = "NULL::DOUBLE", "true", "''"
        if "customer_orgnr" in pos:
            clean, certain = _orgnr("r_customer_orgnr")
            customer_sql = f"(CASE WHEN r_customer_orgnr = '' THEN '' ELSE {clean} END)"
            customer_ok = f"(r_customer_orgnr = '' OR {certain})"
        else:
            customer_sql, customer_ok = "''", "true"
        fixed = _lit(spec.supplier_orgnr)
        if "supplier_orgnr" in pos:
            clean, certain = _orgnr("r_supplier_orgnr")
            supplier_sql = f"(CASE WHEN r_supplier_orgnr = '' THEN {fixed} ELSE {clean} END)"
            supplier_ok = f"(CASE WHEN r_supplier_orgnr = '' THEN {fixed} <> '' ELSE {certain} END)"
        else:
            supplier_sql, supplier_ok = fixed, f"({fixed} <> '')"
        code_raw = f"replace({r('item_class_code')}, ' ', '')"
        if "item_class_scheme" in pos:
            known = ", ".join(_lit(k) for k in sorted(spec.schemes))
            scheme_ok = (f"(regexp_full_match(r_item_class_scheme, '[A-Za-z]*') AND (r_item_class_scheme = '' OR "
                         f"lower(r_item_class_scheme) IN ({known})))")
            cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in spec.schemes.items())
            given = f"(CASE lower(r_item_class_scheme) {cases} ELSE '' END)"
            written = "r_item_class_scheme <> ''"
        else:
            scheme_ok, given, written = "true", "''", "false"
        profile_scheme = _lit(spec.item_class_scheme)
        scheme_ok = f"({scheme_ok} AND ({written} OR {code_raw} = '' OR {profile_scheme} <> ''))"
        _merge(stages, [[
            f"{customer_sql} AS customer", f"{code_raw} AS code_raw",
            f"(CASE WHEN {written} THEN {given} WHEN {code_raw} <> '' THEN {profile_scheme} ELSE '' END) AS scheme"]])
        other = (f"(NOT short AND {customer_ok} AND customer <> '' AND customer <> {_lit(spec.customer_orgnr)})")
        ok = " AND ".join(["NOT short", customer_ok, period_ok, amount_ok, supplier_ok, quantity_ok, scheme_ok])
        self.con.register("units_in", mapping)
        self.con.execute("CREATE OR REPLACE TABLE rawf AS " + _staged(base, stages + [[
            f"coalesce({other}, false) AS other"], [f"(other OR coalesce({ok}, false)) AS fast"]]))
        self.con.unregister("units_in")
        name = f"(CASE WHEN {r('supplier_name')} = '' THEN {_lit(spec.supplier_name)} ELSE {r('supplier_name')} END)"
        self.con.execute(f"""
            CREATE OR REPLACE VIEW fast AS
            SELECT row_no, {period_sql} AS posting_date, {supplier_sql} AS supplier_orgnr, {name} AS supplier_name,
                   {r('product_name')} AS product_name, {r('product_no')} AS product_no, code, scheme,
                   {quantity_sql} AS quantity, {quantity_unit_sql} AS quantity_unit,
                   {r('quantity_unit')} AS unit_text, {amount_sql}::BIGINT AS amount_ore,
                   {r('invoice_no')} AS invoice_no, {r('line_id')} AS line_id
            FROM (SELECT *, CASE WHEN scheme = 'cpv' AND code_raw <> '' THEN split_part(code_raw, '-', 1)
                                 ELSE code_raw END AS code
                  FROM rawf WHERE fast AND NOT other)""")
        self.con.execute("""
            CREATE OR REPLACE VIEW fast_keyed AS
            SELECT row_no, posting_date, supplier_orgnr, supplier_name, product_name, product_no,
                   CASE WHEN code <> '' THEN scheme ELSE '' END AS item_class_scheme, code AS item_class_code,
                   quantity, quantity_unit, unit_text, amount_ore, invoice_no, line_id,
                   CASE WHEN line_id <> '' THEN 'stats|id|' || supplier_orgnr || '|' || line_id
                        ELSE 'stats|' || concat_ws('|', supplier_orgnr, posting_date::VARCHAR, invoice_no, product_no,
                                                   product_name, CASE WHEN code <> '' THEN scheme ELSE '' END, code,
                                                   coalesce(quantity::VARCHAR, 'None'), quantity_unit,
                                                   amount_ore::VARCHAR)
                   END AS basis
            FROM fast""")
        return self.con.execute("SELECT count(*) FROM rawf WHERE NOT fast").fetchall()[0][0]

    def other_customers(self) -> list[tuple[str, int, int]]:
        """(customer orgnr, rows, first row) of the fast rows of other customers."""
        return self.con.execute("SELECT customer, count(*), min(row_no) FROM rawf WHERE other GROUP BY customer"
                                ).fetchall()

    def stats_lines(self) -> int:
        """Table `lines`: every line (the fast ones and the importer's, `add_lines`) keyed as the importer keys
        them, with the line store's columns. Returns their number."""
        odd = "UNION ALL SELECT * FROM odd" if self.has_odd else ""
        self.con.execute(f"""
            CREATE OR REPLACE TABLE lines AS
            SELECT * EXCLUDE (basis, product_name, product_no, unit_text),
                   substr(sha256(basis || '|' || row_number() OVER (PARTITION BY basis ORDER BY row_no)), 1, 32)
                     AS line_key,
                   '' AS account, '' AS art, '' AS function, '' AS unit, '' AS unit_name, '' AS project,
                   amount_ore AS amount_minor, 0::BIGINT AS vat_ore, 'NOK' AS currency, product_name AS description,
                   '' AS voucher,
                   false AS investment, 'supplier_report' AS document_type, invoice_no AS document_id,
                   product_name AS item_name, '' AS item_description, product_no AS seller_item_id,
                   unit_text AS unit_code
            FROM (SELECT * FROM fast_keyed {odd})""")
        return self.con.execute("SELECT count(*) FROM lines").fetchall()[0][0]


# ---------------------------------------------------------------------------------------------------- SAF-T

# An amount the SQL reads (as importers.saft._ore reads it: Decimal, to øre half up): plain decimal digits, at most
# 13 before the point (the importer's range) and 12 after (well within Decimal's 28 digits, so exact).
_SAFT_AMOUNT = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"


class SaftIngest(Ingest):
    # a SAF-T line's key before it held the posting year: TransactionID + RecordID (which restart in a new year's
    # file of many systems, as vouchers do)
    LEGACY_KEY = "substr(sha256('saft|' || voucher || '|' || line_id), 1, 32)"

    """A SAF-T file's lines, collected as columns by importers.saft.read_columns, checked, converted and keyed in
    SQL; the values the SQL does not read (dates and amounts of another shape) are read by the importer's own
    functions, once per distinct text."""

    def load_saft(self, transactions: pa.Table, lines: pa.Table, amounts: pa.Table, suppliers: pa.Table) -> None:
        for name, table in (("s_tx_in", transactions), ("s_lines_in", lines), ("s_amounts_in", amounts),
                            ("s_suppliers", suppliers)):
            self.con.register(f"{name}_arrow", table)
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
            self.con.unregister(f"{name}_arrow")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE s_tx AS
            SELECT tx_no, row, {_strip('tx_id')} AS tx_id,
                   {_strip("coalesce(nullif(gl_date, ''), nullif(tx_date, ''), '')")} AS date_text
            FROM s_tx_in""")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE s_amounts AS
            SELECT pos, ord, sign, vat, strict, text, t, t = '' AND NOT strict AS zero,
                   regexp_full_match(t, '{_SAFT_AMOUNT}') AND length(ltrim(i, '0')) <= 13 AND length(f) <= 12 AS plain,
                   i, f
            FROM (SELECT *, regexp_replace(split_part(t, '.', 1), '^[+-]', '') AS i, split_part(t, '.', 2) AS f
                  FROM (SELECT *, {_strip('text')} AS t FROM s_amounts_in))""")

    def odd_dates(self) -> list[str]:
        """The posting-date texts (stripped) the SQL does not read: not YYYY-MM-DD, or of year 0000."""
        return [t for (t,) in self.con.execute(
            f"SELECT DISTINCT date_text FROM s_tx WHERE NOT regexp_full_match(date_text, '{_ISO_DATE}') "
            "OR starts_with(date_text, '0000')").fetchall()]

    def odd_amounts(self) -> list[str]:
        """The amount texts (as written) the SQL does not read."""
        return [t for (t,) in self.con.execute(
            "SELECT DISTINCT text FROM s_amounts WHERE NOT zero AND NOT plain").fetchall()]

    def accounts(self) -> list[str]:
        return [a for (a,) in self.con.execute(
            f"SELECT DISTINCT {_strip('account')} FROM s_lines_in").fetchall()]

    def check_saft(self, dates: pa.Table, amounts: pa.Table, arts: pa.Table) -> list[tuple]:
        """Tables of the lines (`s_lines`: only those of transactions with a date, with amount, VAT and their first
        error) from the importer's readings of the odd texts: `dates` (text, date), `amounts` (text, ore, message),
        `arts` (account, art). Returns the errors in document order: (kind, row, date text or message) with kind
        'date', 'RecordID', 'AccountID' or 'Amount'."""
        for name, table in (("s_odd_dates", dates), ("s_odd_amounts", amounts), ("s_arts", arts)):
            self.con.register(f"{name}_arrow", table)
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
            self.con.unregister(f"{name}_arrow")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE s_dated AS
            SELECT t.*, CASE WHEN regexp_full_match(date_text, '{_ISO_DATE}') AND NOT starts_with(date_text, '0000')
                             THEN TRY_CAST(date_text AS DATE) ELSE o.date END AS posting_date
            FROM s_tx t LEFT JOIN s_odd_dates o ON o.text = t.date_text""")
        self.con.execute("""
            CREATE OR REPLACE TABLE s_amount_lines AS
            SELECT pos, sum(sign * ore) FILTER (WHERE NOT vat) AS amount_ore,
                   sum(sign * ore) FILTER (WHERE vat) AS vat_ore,
                   arg_min(message, ord) FILTER (WHERE message IS NOT NULL) AS message
            FROM (SELECT a.pos, a.ord, a.sign, a.vat,
                         CASE WHEN a.zero THEN 0
                              WHEN a.plain THEN (CASE WHEN starts_with(a.t, '-') THEN -1 ELSE 1 END)
                                   * (coalesce(TRY_CAST(nullif(ltrim(a.i, '0'), '') AS BIGINT), 0) * 100
                                      + TRY_CAST(rpad(substr(a.f, 1, 2), 2, '0') AS BIGINT)
                                      + CASE WHEN substr(a.f, 3, 1) >= '5' THEN 1 ELSE 0 END)
                              ELSE o.ore END AS ore,
                         CASE WHEN a.zero OR a.plain THEN NULL ELSE o.message END AS message
                  FROM s_amounts a LEFT JOIN s_odd_amounts o ON o.text = a.text)
            GROUP BY pos""")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE s_lines AS
            SELECT l.pos, l.tx_no, l.row, {_strip('l.record_id')} AS record_id, {_strip('l.account')} AS account,
                   {_strip('l.supplier_id')} AS supplier_id, {_strip('l.description')} AS description,
                   {_strip("coalesce(nullif(l.reference, ''), nullif(l.source_document, ''), '')")} AS invoice_no,
                   coalesce(a.amount_ore, 0)::BIGINT AS amount_ore, coalesce(a.vat_ore, 0)::BIGINT AS vat_ore,
                   a.message
            FROM s_lines_in l JOIN s_dated t USING (tx_no) LEFT JOIN s_amount_lines a USING (pos)
            WHERE t.posting_date IS NOT NULL""")
        return self.con.execute("""
            SELECT kind, row, text FROM (
                SELECT tx_no, 0 AS pos, 'date' AS kind, row, date_text AS text FROM s_dated
                WHERE posting_date IS NULL
                UNION ALL
                SELECT tx_no, pos, CASE WHEN record_id = '' THEN 'RecordID' WHEN account = '' THEN 'AccountID'
                                        ELSE 'Amount' END, row,
                       CASE WHEN record_id = '' OR account = '' THEN 'missing' ELSE message END
                FROM s_lines WHERE record_id = '' OR account = '' OR message IS NOT NULL)
            ORDER BY tx_no, pos""").fetchall()

    def saft_lines(self) -> tuple[int, int]:
        """Table `lines`: the lines with the line store's columns and their key (TransactionID + RecordID), the
        supplier the line's or its transaction's one named supplier. Returns (lines, distinct keys)."""
        self.con.execute("""
            CREATE OR REPLACE TABLE lines AS
            WITH named AS (
                SELECT tx_no, CASE WHEN count(DISTINCT supplier_id) FILTER (WHERE supplier_id <> '') = 1
                                   THEN max(supplier_id) FILTER (WHERE supplier_id <> '') ELSE '' END AS tx_supplier
                FROM s_lines GROUP BY tx_no)
            SELECT l.pos, l.row AS row_no, t.posting_date, l.account, coalesce(r.art, '') AS art, '' AS function,
                   '' AS unit, '' AS unit_name, '' AS project, coalesce(s.orgnr, '') AS supplier_orgnr,
                   coalesce(s.name, '') AS supplier_name, l.amount_ore, l.amount_ore AS amount_minor, l.vat_ore,
                   'NOK' AS currency, l.description, l.invoice_no, t.tx_id AS voucher, l.record_id AS line_id,
                   false AS investment, NULL::DOUBLE AS quantity, '' AS quantity_unit,
                   substr(sha256('saft|' || t.tx_id || '|' || l.record_id || '|' || year(t.posting_date)::VARCHAR),
                          1, 32) AS line_key
            FROM s_lines l JOIN s_dated t USING (tx_no) JOIN named n USING (tx_no)
                 LEFT JOIN s_arts r ON r.account = l.account
                 LEFT JOIN s_suppliers s
                   ON s.supplier_id = CASE WHEN l.supplier_id <> '' THEN l.supplier_id ELSE n.tx_supplier END""")
        return self.con.execute("SELECT count(*), count(DISTINCT line_key) FROM lines").fetchall()[0]
