"""Imports: validate the whole file, then write the Parquet batch, then commit one short transaction."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.core.cells import db_text
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers.kostra import BALANCE_FORMS
from klimainnkjop.importers.ledger import Profile
from klimainnkjop.services.kostra_ingest import ReadKostra
from klimainnkjop.services.kostra_ingest import parse_kostra as parse_kostra_file
from klimainnkjop.services.ledgers import parse_ledger
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput, do_create_organisation, do_ensure_units
from klimainnkjop.storage import linestore
from klimainnkjop.storage.locks import organisation_lock
from klimainnkjop.storage.models import ImportBatch, MappingProfile, Organisation, Supplier
from klimainnkjop.core import kostra
from klimainnkjop.core.kostra import OrgNumber
from klimainnkjop.core.audit_actions import Action, IMPORT_ACTIONS
from klimainnkjop.core.actors import ActorLike, as_actor


# The line store's columns as DuckDB writes them for a ledger batch (types of linestore.LINE_SCHEMA).
_DUCKDB_TYPES = {"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "date32[day]": "DATE",
                 "bool": "BOOLEAN", "double": "DOUBLE"}
PARQUET_COLUMNS = [(f.name, _DUCKDB_TYPES[str(f.type)]) for f in linestore.LINE_SCHEMA]

# An import where more than this share of the spend cannot be categorised (its KOSTRA art is missing or not a
# KOSTRA art, so the engine leaves it out as `unknown_art`) finishes with a warning instead of a silent zero.
UNCATEGORISED_WARNING_SHARE = 0.20


@dataclass
class ImportResult:
    """What every import service returns (the five that store lines: ledger, KOSTRA, EHF, SAF-T, supplier statistics;
    and the supplier register's), a subclass where an import has more to say. `as_dict` is the JSON the command
    line prints (`--format json`) and the upload page keeps; a subclass with its own documented JSON overrides it."""

    batch: ImportBatch | None = None
    already_imported: bool = False
    rows_read: int = 0
    lines_added: int = 0
    lines_duplicate: int = 0
    # keyword-only, so that subclasses' own fields (StatsImportResult.rows_other_customer) stay positional
    warnings: list[str] = field(default_factory=list, kw_only=True)
    replaced: ImportBatch | None = field(default=None, kw_only=True)  # the earlier batch this import replaced
    previous_profile: str = field(default="", kw_only=True)  # already imported: the earlier batch's profile

    def as_dict(self) -> dict:
        return {
            "batch": self.batch.pk if self.batch else None,
            "organisation": self.batch.organisation.orgnr if self.batch else None,
            "already_imported": self.already_imported, "rows_read": self.rows_read,
            "lines_added": self.lines_added, "lines_duplicate": self.lines_duplicate,
            "warnings": self.warnings, "replaced": self.replaced.pk if self.replaced else None,
        }


@dataclass
class Staged:
    """A file parsed and deduplicated against the organisation's stored lines, ready to commit: what an import
    service's `stage` step yields to `run_import`. The lines are `columns` (of `schema`), or, for the ledger's
    DuckDB ingest, `written` = (lines, sum of amount_ore, a function writing them to a path with a batch token)."""

    rows_read: int
    duplicates: int
    columns: dict[str, list] | None = None
    written: tuple[int, int, Callable[[Path, str], None]] | None = None
    schema: pa.Schema | None = None  # None: linestore.LINE_SCHEMA
    profile_name: str = ""
    units: dict[str, str] = field(default_factory=dict)
    suppliers: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # kept with the batch and in its audit entry
    findings: list[dict] = field(default_factory=list)  # EHF: failed rules kept with the batch
    raw_files: list[tuple[bytes, str]] | None = None  # (bytes, sha256) archived one by one; None: the file itself
    audit: dict | None = None  # the audit entry's facts, where an import records others than the default
    result: dict = field(default_factory=dict)  # fields of the service's ImportResult subclass


def run_import(*, organisation: Organisation, kind: str, file_name: str, sha: str, stage, data: bytes | None = None,
               replace: bool = False, result: type[ImportResult] = ImportResult, already: dict | None = None,
               actor: ActorLike = None) -> ImportResult:
    """The one skeleton of the imports that store lines: lock → hash → existing → parse and dedupe → commit.

    Under the organisation's lock, a batch of this kind with the same SHA-256 (`sha`, computed by the caller: a
    file's, or for EHF the hash of its documents') is found: without `replace`, nothing is added and the result says
    so (`already`: the subclass's fields for that case). Otherwise `stage(previous)`, a context manager, parses what
    is left to parse and deduplicates against the stored lines (which only the lock keeps still), yielding a Staged;
    the lines are written as one Parquet file and the ImportBatch committed in one short transaction, in which a
    replaced earlier batch steps aside. `result` is the service's ImportResult subclass, filled with Staged.result."""
    with organisation_lock(organisation.orgnr):
        previous = _existing(organisation, kind, sha)
        if previous is not None and not replace:
            return result(previous, True, previous.rows_read, 0, 0, previous_profile=previous.profile_name,
                          **(already or {}))
        with stage(previous) as staged:
            commit = dict(organisation=organisation, kind=kind, data=data, file_name=file_name, sha=sha,
                          staged=staged, actor=actor)
            if previous is None:
                replaced, batch = None, _commit_batch(**commit)
            else:
                with transaction.atomic():  # the earlier batch steps aside in the transaction in which the new counts
                    replaced = _replace_batch(previous, profile_name=staged.profile_name, actor=actor)
                    batch = _commit_batch(**commit)
    return result(batch, False, staged.rows_read, batch.lines_added, staged.duplicates,
                  **{"warnings": list(staged.warnings), "replaced": replaced, **staged.result})


def uncategorised_warning(file_name: str, arts: list[str], amounts: list[int], profile: Profile | None = None,
                          share: float = UNCATEGORISED_WARNING_SHARE, seen: list[str] | None = None) -> str | None:
    """The warning for a file where more than `share` of the spend (absolute amounts) has no KOSTRA art the
    account knows, naming the columns that would help; None below the share. `seen`: per line, the value the
    art was read from (shown as examples)."""
    seen = seen or arts
    groups: dict[tuple[str, str], list[int]] = {}
    for art, value, amount in zip(arts, seen, amounts):
        group = groups.setdefault((art, value), [0, 0])
        group[0] += 1
        group[1] += abs(amount)
    return uncategorised_warning_of_groups(file_name, [(a, v, n, s) for (a, v), (n, s) in groups.items()],
                                           profile, share)


def uncategorised_warning_of_groups(file_name: str, groups: list[tuple[str, str, int, int]],
                                    profile: Profile | None = None,
                                    share: float = UNCATEGORISED_WARNING_SHARE) -> str | None:
    """uncategorised_warning of lines grouped as (art, the value it was read from, lines, sum of |amount|)."""
    known = kostra_codes()
    total = sum(s for _, _, _, s in groups)
    unknown = [(value, n, s) for art, value, n, s in groups if kostra.exclusion_reason(art, known) == "unknown_art"]
    lost = sum(s for _, _, s in unknown)
    if not total or lost <= share * total:
        return None
    examples = ", ".join(repr(v) for v in sorted({v for v, _, _ in unknown if v})[:5]) or "none"
    mapped = ""
    if profile is not None:
        columns = profile.columns
        mapped = (f" The profile reads the art from column {columns['art']!r}" if columns.get("art") else
                  f" The profile reads the art from the first three digits of column {columns['account']!r}"
                  if columns.get("account") else " The profile maps no art column")
        mapped += f" (values seen: {examples})."
    nok = format(round(lost / 100), ",").replace(",", " ")
    lines = sum(n for _, _, n, _ in groups)
    return (f"{file_name}: warning: {lost / total:.0%} of the spend ({sum(n for _, n, _ in unknown)} of {lines} lines, "
            f"NOK {nok}) has no KOSTRA art the account knows and counts as nothing "
            f"(more than {share:.0%}).{mapped} Columns that would help: 'art' (the KOSTRA art, 3 digits 100-375 for "
            f"purchases) or 'account' (an account whose first three digits are the art), and 'function' (the KOSTRA "
            f"function); 'supplier_orgnr' and 'description' let classification rules place the lines. Correct the "
            f"profile and import the file again with --replace.")


def kostra_codes() -> frozenset[str]:
    from klimainnkjop.services.compute import known_arts

    return known_arts()


def _profile_for(organisation: Organisation, name: str | None) -> MappingProfile:
    profiles = MappingProfile.objects.filter(organisation=organisation)
    if name:
        found = profiles.filter(name=name).first()
        if found is None:
            known = ", ".join(p.name for p in profiles) or gettext("none")
            raise InvalidInput.at("profile", gettext("%(orgnr)s has no profile named %(name)r (known: %(known)s)"),
                                  orgnr=organisation.orgnr, name=name, known=known)
        return found
    count = profiles.count()
    if count == 1:
        return profiles.get()
    raise InvalidInput.at("profile", gettext("%(orgnr)s has %(count)s profiles; name one with --profile"),
                          orgnr=organisation.orgnr, count=count)


def _existing(organisation: Organisation, kind: str, sha: str) -> ImportBatch | None:
    return ImportBatch.objects.filter(organisation=organisation, kind=kind, file_sha256=sha).exclude(
        status=ImportBatch.STATUS_DELETED).first()


def _stored_files(organisation: Organisation, kinds: tuple[str, ...] | None = None):
    """The Parquet files of the organisation's counting batches; with kinds, only those of these kinds (the natural
    keys of EHF, supplier statistics and SAF-T lines start with their source, so they can only meet their own)."""
    batches = ImportBatch.objects.filter(organisation=organisation, status=ImportBatch.STATUS_DONE)
    if kinds is not None:
        batches = batches.filter(kind__in=kinds)
    return [linestore.absolute(p) for p in batches.exclude(parquet_path="").values_list("parquet_path", flat=True)]


def _convert_currency(foreign: list[tuple], file_name: str, profile_columns: dict[str, str]) -> pa.Table:
    """NOK øre (amount and VAT) of the lines not in NOK, (row_no, year, currency, amount_minor, vat_minor) in file
    order, with the annual average rate of the posting year; ImportRejected naming the first line of each year and
    currency without a rate."""
    from klimainnkjop.selectors.factors import exchange_rates

    rates = exchange_rates() if foreign else {}
    errors: list[RowError] = []
    missing: set[tuple[int, str]] = set()
    out: dict[str, list] = {"row_no": [], "amount_ore": [], "vat_ore": []}
    for row_no, year, currency, amount_minor, vat_minor in foreign:
        rate = rates.get((year, currency))
        if rate is None:
            if (year, currency) not in missing:
                missing.add((year, currency))
                errors.append(RowError(
                    file_name, row_no, profile_columns.get("currency") or profile_columns.get("amount"), reason(
                        "no exchange rate %(currency)s→NOK for %(year)s; add it on /administrasjon/valutakurser/ or "
                        "with `klimainnkjop rate set %(year)s %(currency)s NOK_PER_UNIT` or import in NOK",
                        currency=currency, year=year)))
            continue
        amount = round(amount_minor * rate)
        out["row_no"].append(row_no)
        out["amount_ore"].append(amount)
        out["vat_ore"].append(round(vat_minor * amount / amount_minor) if amount_minor else 0)
    if errors:
        raise ImportRejected(errors)
    return pa.table(out, schema=pa.schema([("row_no", pa.int32()), ("amount_ore", pa.int64()),
                                           ("vat_ore", pa.int64())]))


def do_import_ledger(*, organisation: Organisation, data: bytes, file_name: str, profile_name: str | None = None,
                     replace: bool = False, actor: ActorLike = None) -> ImportResult:
    """With `replace`, a file imported before (the same bytes, e.g. with another profile) is read again and its
    new batch replaces the earlier one (status deleted, an audit row `replace_import`); without it, nothing is
    added and the result names the profile the earlier batch was read with."""
    def stage(previous: ImportBatch | None):
        stored = _profile_for(organisation, profile_name)
        profile = Profile.from_spec(stored.spec, source=f"profile {stored.name}")
        return _stage_ledger(organisation, data, file_name, profile, stored.name, previous)

    return run_import(organisation=organisation, kind="ledger", file_name=file_name, sha=linestore.sha256_bytes(data),
                      data=data, stage=stage, replace=replace, actor=actor)


@contextmanager
def _stage_ledger(organisation: Organisation, data: bytes, file_name: str, profile: Profile, profile_name: str,
                  previous: ImportBatch | None):
    """The ledger's parse and dedupe once its profile is known (a stored profile's, or the API's fixed one for a
    JSON batch): DuckDB's ingest stays open until the commit has written its fresh lines."""
    with parse_ledger(data, file_name, profile) as parsed:
        ingest = parsed.ingest
        ingest.set_nok(_convert_currency(ingest.foreign_lines(), file_name, profile.columns))
        warning = uncategorised_warning_of_groups(
            file_name, ingest.spend_by_art("art" if profile.columns.get("art") else "account"), profile)
        stored_files = _stored_files(organisation)
        if previous is not None and previous.parquet_path:  # the lines of the batch being replaced are not duplicates
            stored_files = [f for f in stored_files if f != linestore.absolute(previous.parquet_path)]
        duplicates = ingest.drop_stored(stored_files)
        added, amount, units, suppliers = ingest.fresh_summary()

        def write(path: Path, token: str) -> None:
            ingest.write_fresh(path, org=organisation.orgnr, batch=token, source="ledger", columns=PARQUET_COLUMNS)

        yield Staged(rows_read=parsed.rows_read, duplicates=duplicates, written=(added, amount, write),
                     profile_name=profile_name, units=units, suppliers=suppliers,
                     warnings=[warning] if warning else [])


@contextmanager
def staged(value: Staged):
    """A Staged ready at once (an import whose lines are plain columns), as run_import's `stage` takes it."""
    yield value


def _replace_batch(previous: ImportBatch, *, profile_name: str, actor: ActorLike) -> ImportBatch:
    batch = ImportBatch.objects.select_for_update().select_related("organisation").get(pk=previous.pk)
    before = _batch_dict(batch)
    batch.status = ImportBatch.STATUS_DELETED
    batch.save(update_fields=["status"])
    record_audit(actor=actor, action=Action.REPLACE_IMPORT, obj=batch, organisation=batch.organisation, before=before,
                 after={**_batch_dict(batch), "replaced_by_profile": profile_name})
    return batch


def _commit_batch(*, organisation: Organisation, kind: str, data: bytes | None, file_name: str, sha: str,
                  staged: Staged, actor: ActorLike) -> ImportBatch:
    """Archive the raw file(s), write the staged lines as one Parquet file, then create the ImportBatch that makes
    it count, with its units, suppliers and audit entry, in one short transaction."""
    if staged.raw_files is None:
        linestore.archive_raw(data, sha)
    else:
        for raw, raw_sha in staged.raw_files:
            linestore.archive_raw(raw, raw_sha)
    token = linestore.new_token()
    columns = staged.columns
    if columns is not None:
        added, amount = len(columns["line_key"]), sum(columns["amount_ore"])
        columns["batch"] = [token] * added
    else:
        added, amount, write = staged.written
    path = ""
    if added and columns is not None:
        schema = {} if staged.schema is None else {"schema": staged.schema}
        path = linestore.relative(linestore.write_batch(organisation.orgnr, columns, token, **schema))
    elif added:
        path = linestore.relative(linestore.write_batch_file(organisation.orgnr, token, lambda p: write(p, token)))
    warnings = staged.warnings
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            organisation=organisation, kind=kind, token=token, file_name=file_name[:500], file_sha256=sha,
            raw_sha256s=[raw_sha for _, raw_sha in staged.raw_files or []], profile_name=staged.profile_name,
            status=ImportBatch.STATUS_DONE if added else ImportBatch.STATUS_EMPTY, rows_read=staged.rows_read,
            lines_added=added, lines_duplicate=staged.duplicates, amount_ore=amount,
            parquet_path=path, findings=staged.findings, created_by=as_actor(actor).user,
            errors=[{"warning": w} for w in warnings],  # kept for the organisation's pages
        )
        do_ensure_units(organisation=organisation, units=staged.units, actor=actor)
        _ensure_suppliers(staged.suppliers)
        facts = staged.audit if staged.audit is not None else {
            "file": file_name, "sha256": sha, "rows_read": staged.rows_read, "lines_added": added,
            "lines_duplicate": staged.duplicates, **({"warnings": warnings} if warnings else {})}
        record_audit(actor=actor, action=IMPORT_ACTIONS[kind], obj=batch, organisation=organisation, after=facts)
    return batch


def _ensure_suppliers(suppliers: dict[str, str]) -> None:
    known = set(Supplier.objects.filter(orgnr__in=list(suppliers)).values_list("orgnr", flat=True))
    limit = Supplier._meta.get_field("name").max_length  # the lines keep the whole name
    Supplier.objects.bulk_create([Supplier(orgnr=o, name=db_text(n or o, limit)) for o, n in suppliers.items()
                                  if o not in known])


def do_import_kostra(*, data: bytes, file_name: str, organisation: Organisation | None = None,
                     actor: ActorLike = None, parsed: ReadKostra | None = None) -> ImportResult:
    """A whole municipality's year from its KOSTRA file. Balance records are skipped. The records are read in
    DuckDB (services/kostra_ingest.py), keyed, anti-joined with the stored lines and written with one COPY.
    `parsed`: the file read already (its caller closes it)."""
    if parsed is None:
        with parse_kostra_file(data, file_name) as read:
            return do_import_kostra(data=data, file_name=file_name, organisation=organisation, actor=actor,
                                    parsed=read)
    if organisation is None:
        if len(parsed.regions) != 1:
            raise InvalidInput.at(file_name, gettext("the file holds regions %(regions)s; name one organisation with "
                                                     "--org"), regions=", ".join(sorted(parsed.regions)))
        region = next(iter(parsed.regions))
        organisation = Organisation.objects.filter(kostra_region=region).first()
        if organisation is None:
            orgnrs = {o for o in parsed.orgnrs if OrgNumber.is_well_formed(o)}
            if len(orgnrs) != 1:
                raise InvalidInput.at(file_name, gettext(
                    "no organisation has KOSTRA region %(region)s, and the file names no single orgnr to create one "
                    "with; add it with `klimainnkjop org add` first"), region=region)
            organisation = do_create_organisation(orgnr=orgnrs.pop(), name=f"Kommune {region}",
                                                  kostra_region=region, actor=actor)
    return run_import(organisation=organisation, kind="kostra", file_name=file_name, sha=linestore.sha256_bytes(data),
                      data=data, stage=lambda previous: staged(_stage_kostra(organisation, parsed, file_name)),
                      actor=actor)


def _stage_kostra(organisation: Organisation, parsed: ReadKostra, file_name: str) -> Staged:
    ingest = parsed.ingest
    # A KOSTRA file replaces nothing: its lines are keyed by year, class, function and art (the n-th record of the
    # same basis numbered n), so the same year's file imported again (even re-exported) does not double count.
    ingest.kostra_lines(BALANCE_FORMS)
    warning = uncategorised_warning_of_groups(file_name, ingest.spend_by_art("art"))
    duplicates = ingest.drop_stored(_stored_files(organisation))
    added, amount, _, _ = ingest.fresh_summary()

    def write(path: Path, token: str) -> None:
        ingest.write_fresh(path, org=organisation.orgnr, batch=token, source="kostra", columns=PARQUET_COLUMNS,
                           annual=True)

    return Staged(rows_read=parsed.rows_read, duplicates=duplicates, written=(added, amount, write),
                  warnings=[warning] if warning else [])


def _batch_dict(batch: ImportBatch) -> dict:
    return {"organisation": batch.organisation.orgnr, "kind": batch.kind, "file": batch.file_name,
            "sha256": batch.file_sha256, "status": batch.status, "rows_read": batch.rows_read,
            "lines_added": batch.lines_added, "amount_ore": batch.amount_ore, "parquet_path": batch.parquet_path}


def do_delete_import_batch(*, batch: ImportBatch, actor: ActorLike = None) -> ImportBatch:
    """Take an import out of what counts: the next compute leaves its lines out, and the same file may be
    imported again. The row, its Parquet file and the raw file stay (the audit trail points at them)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("organisation").get(pk=batch.pk)
        if batch.status == ImportBatch.STATUS_DELETED:
            raise InvalidInput.at("batch", gettext("import %(id)s (%(file)s) is deleted already"), id=batch.pk,
                                  file=batch.file_name)
        before = _batch_dict(batch)
        batch.status = ImportBatch.STATUS_DELETED
        batch.save(update_fields=["status"])
        record_audit(actor=actor, action=Action.DELETE_IMPORT, obj=batch, organisation=batch.organisation,
                     before=before, after=_batch_dict(batch))
    return batch


# ---------------------------------------------------------------- a batch of ledger lines as JSON (the API)

LINES_FILE = "lines"  # the name a JSON batch's errors give as the file; their row is the line's position (from 1)
LINES_PROFILE = "api-lines"  # the profile name a JSON batch's ImportBatch records
MAX_LINES = 100_000


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def do_import_ledger_lines(*, organisation: Organisation, lines: list[dict], actor: ActorLike = None) -> ImportResult:
    """A batch of ledger lines (dicts of ledger FIELDS, dates as YYYY-MM-DD, amounts in NOK or `currency` with a
    decimal point or comma) imported as one ledger file: the whole batch is validated first and stored all or
    nothing (ImportRejected naming the file "lines", the line's position from 1 as its row and the field as its
    column). The same batch again adds nothing (its bytes' SHA-256, as for a file)."""
    import csv
    import io

    from klimainnkjop.importers.ledger import FIELDS

    if not lines:
        raise InvalidInput.at("lines", gettext("the batch has no lines"))
    if len(lines) > MAX_LINES:
        raise InvalidInput.at("lines", gettext("at most %(most)s lines in one batch, not %(count)s"), most=MAX_LINES,
                              count=len(lines))
    unknown = sorted({k for line in lines for k in line if k not in FIELDS})
    if unknown:
        raise InvalidInput.at("lines", gettext("unknown field(s) %(fields)s"), fields=", ".join(unknown))
    errors = [RowError(LINES_FILE, no, name, reason("a value may not hold control characters (NUL, line breaks)"))
              for no, line in enumerate(lines, start=1) for name, value in line.items()
              if any(ord(c) < 32 and c != "\t" for c in _cell(value))]
    if errors:
        raise ImportRejected(errors)
    used = [f for f in FIELDS
            if f in ("posting_date", "amount") or any(line.get(f) not in (None, "") for line in lines)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(used)
    for line in lines:
        writer.writerow([_cell(line.get(f)) for f in used])
    data = out.getvalue().encode("utf-8")
    profile = Profile(name=LINES_PROFILE, columns={f: f for f in used}, encoding="utf-8", delimiter=";",
                      date_format="%Y-%m-%d")
    try:
        return run_import(organisation=organisation, kind="ledger", file_name=LINES_FILE,
                          sha=linestore.sha256_bytes(data), data=data, actor=actor,
                          stage=lambda previous: _stage_ledger(organisation, data, LINES_FILE, profile, LINES_PROFILE,
                                                               previous))
    except ImportRejected as exc:  # the CSV's row 2 is the batch's first line
        raise ImportRejected([RowError(e.file, e.row - 1 if e.row else e.row, e.column, e.reason)
                              for e in exc.errors]) from None
