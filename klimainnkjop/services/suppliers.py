"""Suppliers: register data from Enhetsregisteret (bulk file or open API), supplier-specific factors, and
framework suppliers' purchase statistics into the line store. Every change leaves an audit entry."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from klimainnkjop.clients.brreg import DELETED, FOUND, BrregClient, BrregError
from klimainnkjop.importers.brreg import Unit, iter_units, unit_from_record
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers.supplier_stats import StatsProfile
from klimainnkjop.services.supplier_stats import STATS_PARQUET_COLUMNS, parse_stats
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.imports import ImportResult, Staged, _stored_files, run_import
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ImportBatch, Organisation, Supplier, SupplierStatsProfile
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike

REGISTER_FIELDS = ("name", "organisation_form", "nace", "nace_description", "nace_secondary", "address",
                   "postal_code", "postal_place", "municipality_number", "register_status")
MAX_ERRORS = 1000
CREATE_CHUNK = 2000


def supplier_dict(s: Supplier) -> dict:
    return {"orgnr": s.orgnr, "name": s.name, "nace": s.nace, "nace_secondary": s.nace_secondary,
            "nace_description": s.nace_description, "organisation_form": s.organisation_form, "address": s.address,
            "postal_code": s.postal_code, "postal_place": s.postal_place,
            "municipality_number": s.municipality_number, "register_status": s.register_status,
            "source": s.source, "fetched_at": s.fetched_at.isoformat() if s.fetched_at else None}


def _apply(supplier: Supplier, new: dict, source: str, fetched_at: dt.datetime, actor: ActorLike) -> bool:
    """Set the register fields that differ; audit the change. True when something changed."""
    before = {k: getattr(supplier, k) for k in REGISTER_FIELDS if getattr(supplier, k) != new[k]}
    if not new.get("name"):  # a deleted unit's 410 answer has no name: keep the one we know
        before.pop("name", None)
    for key in before:
        setattr(supplier, key, new[key])
    supplier.source, supplier.fetched_at = source, fetched_at
    supplier.save()
    if before:
        record_audit(actor=actor, action=Action.UPDATE_SUPPLIER, obj=supplier,
                     before={**before, "orgnr": supplier.orgnr},
                     after={**{k: new[k] for k in before}, "orgnr": supplier.orgnr, "source": source})
    return bool(before)


# ---------------------------------------------------------------- the bulk file


@dataclass
class RegisterImportResult(ImportResult):
    """The register file updates the supplier register (shared reference data), not the line store: no batch, no
    lines; `rows_read` counts the units read. Its JSON is its own (`as_dict`)."""

    updated: int = 0
    unchanged: int = 0
    added: int = 0
    not_known: int = 0

    @property
    def units_read(self) -> int:
        return self.rows_read

    def as_dict(self) -> dict:
        return {"units_read": self.units_read, "updated": self.updated, "unchanged": self.unchanged,
                "added": self.added, "not_known": self.not_known}


def _validated_units(path: Path, file_name: str, wanted: set[str] | None) -> tuple[int, dict[str, Unit]]:
    """Pass over the whole file (streamed): every error, and the units whose number is in `wanted`
    (all numbers when wanted is None: then only the count, the caller streams again)."""
    errors: list[RowError] = []
    more = 0
    read = 0
    found: dict[str, Unit] = {}
    try:
        for _position, unit, row_errors in iter_units(path, file_name):
            if row_errors:
                room = MAX_ERRORS - len(errors)
                errors.extend(row_errors[:max(room, 0)])
                more += max(len(row_errors) - max(room, 0), 0)
                continue
            read += 1
            if wanted is not None and unit.orgnr in wanted:
                found[unit.orgnr] = unit
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        errors.append(RowError(file_name, None, None, reason("cannot read the file: %(error)s", error=exc)))
    if more:
        errors.append(RowError(file_name, None, None, reason("%(count)s more errors not listed", count=more)))
    if errors:
        raise ImportRejected(errors)
    return read, found


def do_import_supplier_register(*, path: str | Path, file_name: str | None = None, include_all: bool = False,
                                actor: ActorLike = None) -> RegisterImportResult:
    """Enhetsregisteret's bulk file (JSON array or CSV, gzip or not) → the suppliers we know (and with
    include_all every other unit as a new supplier). The file is validated whole before anything is written;
    the writes are one transaction. Streams: memory does not grow with the file."""
    path = Path(path)
    name = file_name or path.name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    known = set(Supplier.objects.values_list("orgnr", flat=True))
    read, matched = _validated_units(path, name, known)
    result = RegisterImportResult(rows_read=read, not_known=read - len(matched))
    now = timezone.now()
    with transaction.atomic():
        for supplier in Supplier.objects.filter(orgnr__in=list(matched)):
            if _apply(supplier, matched[supplier.orgnr].fields(), "brreg-file", now, actor):
                result.updated += 1
            else:
                result.unchanged += 1
        if include_all:
            pending: dict[str, Supplier] = {}
            for _position, unit, _errors in iter_units(path, name):
                if unit is None or unit.orgnr in known:
                    continue
                pending[unit.orgnr] = Supplier(orgnr=unit.orgnr, source="brreg-file", fetched_at=now, **unit.fields())
                if len(pending) >= CREATE_CHUNK:
                    result.added += _create(pending, known)
            result.added += _create(pending, known)
            result.not_known = 0
        record_audit(actor=actor, action=Action.IMPORT_SUPPLIER_REGISTER, object_type="Supplier", object_id="*",
                     after={"file": name, "all": include_all, **result.as_dict()})
    return result


def _create(pending: dict[str, Supplier], known: set[str]) -> int:
    """Insert one chunk. The numbers are not added to `known` (a national file would make it a million
    strings): a unit listed twice in the file is inserted once, the second ignored as a conflict."""
    batch = list(pending.values())
    Supplier.objects.bulk_create(batch, batch_size=500, ignore_conflicts=True)
    pending.clear()
    return len(batch)


# ---------------------------------------------------------------- the open API


@dataclass
class RefreshResult:
    looked_up: int = 0
    updated: int = 0
    unchanged: int = 0
    not_found: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def do_refresh_suppliers(*, client: BrregClient | None = None, missing_only: bool = False,
                         orgnrs: Iterable[str] | None = None, actor: ActorLike = None) -> RefreshResult:
    """Look suppliers up in Enhetsregisteret's API (cached) and update their register data. A supplier whose
    lookup fails is reported in `failed` and left as it was; the others are still updated."""
    own_client = client is None
    client = client or BrregClient()
    suppliers = Supplier.objects.order_by("orgnr")
    if missing_only:
        suppliers = suppliers.filter(nace="")
    if orgnrs is not None:
        suppliers = suppliers.filter(orgnr__in=list(orgnrs))
    result = RefreshResult()
    before_requests = client.requests
    try:
        for supplier in suppliers:
            result.looked_up += 1
            try:
                lookup = client.lookup(supplier.orgnr)
            except BrregError as exc:
                result.failed.append(str(exc))
                continue
            if lookup.status == FOUND:
                unit, errors = unit_from_record(lookup.data, "Enhetsregisteret", None)
                if errors:
                    result.failed.append(f"{supplier.orgnr}: " + "; ".join(e.reason for e in errors))
                    continue
                new = unit.fields()
            else:
                new = {k: getattr(supplier, k) for k in REGISTER_FIELDS}
                new["register_status"] = "deleted" if lookup.status == DELETED else "unknown_orgnr"
                (result.deleted if lookup.status == DELETED else result.not_found).append(supplier.orgnr)
            with transaction.atomic():
                changed = _apply(supplier, new, "brreg-api", lookup.fetched_at, actor)
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
    finally:
        result.requests = client.requests - before_requests
        if own_client:
            client.close()
    return result


# ---------------------------------------------------------------- purchase statistics


def read_stats_profile_file(path: Path) -> dict:
    from klimainnkjop.services.profiles import read_profile_file

    return read_profile_file(path)


def do_save_supplier_stats_profile(*, organisation: Organisation, spec: dict, actor: ActorLike = None,
                                   source: str = "profile") -> SupplierStatsProfile:
    try:
        profile = StatsProfile.from_spec(spec, source=source)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    with transaction.atomic():
        existing = SupplierStatsProfile.objects.filter(organisation=organisation, name=profile.name).first()
        before = existing.spec if existing else None
        saved, _ = SupplierStatsProfile.objects.update_or_create(
            organisation=organisation, name=profile.name, defaults={"spec": profile.to_spec()})
        record_audit(actor=actor, action=Action.SAVE_SUPPLIER_STATS_PROFILE, obj=saved, organisation=organisation,
                     before=before, after=saved.spec)
    return saved


def _stats_profile_for(organisation: Organisation, name: str | None) -> SupplierStatsProfile:
    profiles = SupplierStatsProfile.objects.filter(organisation=organisation)
    if name:
        found = profiles.filter(name=name).first()
        if found is None:
            known = ", ".join(p.name for p in profiles) or gettext("none")
            raise InvalidInput.at("profile", gettext("%(orgnr)s has no supplier-statistics profile named %(name)r "
                                                     "(known: %(known)s)"),
                                  orgnr=organisation.orgnr, name=name, known=known)
        return found
    if profiles.count() == 1:
        return profiles.get()
    raise InvalidInput.at("profile", gettext("%(orgnr)s has %(count)s supplier-statistics profiles; name one with "
                                             "--profile"), orgnr=organisation.orgnr, count=profiles.count())


@dataclass
class StatsImportResult(ImportResult):
    rows_other_customer: int = 0


def do_import_supplier_stats(*, organisation: Organisation, data: bytes, file_name: str,
                             profile_name: str | None = None, actor: ActorLike = None) -> StatsImportResult:
    """A supplier's purchase report for one customer → lines of source "supplier_stats" (with quantities in
    canonical units, item names and codes, supplier orgnr and invoice number, so the engine matches them to
    the ledger). Whole file validated first; nothing is written for a refused file; the same file twice, or
    rows already imported from an overlapping report, add nothing."""
    def stage(previous: ImportBatch | None):
        stored = _stats_profile_for(organisation, profile_name)
        profile = StatsProfile.from_spec(stored.spec, source=f"profile {stored.name}")
        return _stage_supplier_stats(organisation, data, file_name, profile, stored.name, linestore.sha256_bytes(data))

    return run_import(organisation=organisation, kind="supplier_stats", file_name=file_name[:500],
                      sha=linestore.sha256_bytes(data), data=data, stage=stage, result=StatsImportResult, actor=actor)


@contextmanager
def _stage_supplier_stats(organisation: Organisation, data: bytes, file_name: str, profile: StatsProfile,
                          profile_name: str, sha: str):
    """The report read in DuckDB (services/supplier_stats.py), anti-joined with the organisation's supplier
    statistics batches; its ingest stays open until the commit has written the fresh lines with one COPY."""
    with parse_stats(data, file_name, profile, organisation.orgnr) as parsed:
        duplicates = parsed.ingest.drop_stored(_stored_files(organisation, kinds=("supplier_stats",)))
        added, amount, _, suppliers = parsed.ingest.fresh_summary()

        def write(path: Path, token: str) -> None:
            parsed.ingest.write_fresh(path, org=organisation.orgnr, batch=token, source="supplier_stats",
                                      columns=STATS_PARQUET_COLUMNS)

        yield Staged(
            rows_read=parsed.rows_read, duplicates=duplicates, written=(added, amount, write),
            profile_name=profile_name, suppliers=suppliers,
            audit={"file": file_name, "sha256": sha, "profile": profile_name, "rows_read": parsed.rows_read,
                   "rows_other_customer": parsed.rows_other_customer, "lines_added": added,
                   "lines_duplicate": duplicates},
            result={"rows_other_customer": parsed.rows_other_customer})

