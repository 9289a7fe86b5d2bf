"""Computation of the account: chooses the factor sets, feeds the engine, records the run."""
from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop import access, paths
from klimainnkjop.core.kostra import KOSTRA_FUNCTION_SCHEME, parse_art_function_code
from klimainnkjop.engine import partitions, runner
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.paths import SHIPPED_DATA as DATA
from klimainnkjop.services.training import predictions_for
from klimainnkjop.storage import linestore
from klimainnkjop.selectors.factors import exchange_rates
from klimainnkjop.storage.models import (Category, CategoryMapping, ClassificationRule, ClimateCalculation,
                                         ComputeRun, Factor, FactorSet, ImportBatch, Organisation,
                                         PriceIndex, Publication, Report, Supplier, SupplierFactor)
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.electricity import TYPICAL_PRICE
from klimainnkjop.core.actors import ActorLike

PROVISIONAL_PREFIX = "provisional-"
LOG = logging.getLogger(__name__)


def _published(role: str):
    return FactorSet.objects.filter(role=role, status=FactorSet.STATUS_PUBLISHED).order_by("-id")


def default_factor_set() -> FactorSet:
    """The newest published spend-default set; the provisional one only while nothing better is loaded."""
    sets = list(_published(FactorSet.ROLE_SPEND_DEFAULT))
    preferred = [s for s in sets if not s.name.startswith(PROVISIONAL_PREFIX)] or sets
    if not preferred:
        raise InvalidInput.at("factor set", gettext("none loaded; run `klimainnkjop demo` or load the reference data"))
    return preferred[0]


def resolve_factor_set(name: str | None) -> FactorSet:
    if not name:
        return default_factor_set()
    wanted_name, _, version = name.partition(":")
    found = FactorSet.objects.filter(name=wanted_name)
    if version:
        found = found.filter(version=version)
    factor_set = found.order_by("-id").first()
    if factor_set is None:
        known = ", ".join(f.label for f in FactorSet.objects.all()) or gettext("none")
        raise InvalidInput.at("factor set", gettext("no factor set named %(name)r (known: %(known)s)"), name=name,
                              known=known)
    if factor_set.status != FactorSet.STATUS_PUBLISHED:
        raise InvalidInput.at("factor set", gettext("%(label)s is a draft; publish it before computing with it"),
                              label=factor_set.label)
    return factor_set


def known_arts() -> frozenset[str]:
    with open(DATA / "kostra_arts.csv", encoding="utf-8") as fh:
        return frozenset(row["art"] for row in csv.DictReader(fh, delimiter=";"))


def _ref(factor: Factor) -> str:
    return f"{factor.factor_set.label}#{factor.pk}"


def engine_inputs(spend_set: FactorSet, batches: list[ImportBatch]) -> tuple[runner.EngineInputs, list[FactorSet]]:
    """Everything the engine needs, and the factor sets it will use (chosen spend set first)."""
    years = range(2000, dt.date.today().year + 2)
    art_categories = dict(CategoryMapping.objects.filter(scheme="kostra_art").values_list("code", "category__code"))
    parents = {c.code: (c.parent.code if c.parent else None) for c in Category.objects.select_related("parent")}
    fallback = _published(FactorSet.ROLE_SPEND_FALLBACK).exclude(pk=spend_set.pk).first()
    activity_sets = list(_published(FactorSet.ROLE_ACTIVITY).exclude(pk=spend_set.pk))
    market_set = _published(FactorSet.ROLE_MARKET).first()
    used = [spend_set, *([fallback] if fallback else []), *activity_sets, *([market_set] if market_set else [])]

    spend_rows = []
    for tier, fs in ((1, spend_set), (2, fallback)):
        if fs is None:
            continue
        for f in (Factor.objects.filter(factor_set=fs, basis=Factor.BASIS_SPEND)
                  .select_related("category", "factor_set")):
            spend_rows.append({"category": f.category.code, "value": f.value, "low": f.low, "high": f.high,
                               "price_year": f.price_year, "currency": f.unit, "ref": _ref(f), "quality": f.quality,
                               "tier": tier, "valid_from": f.valid_from_year, "valid_to": f.valid_to_year})
    activity_rows = []
    for priority, fs in enumerate([spend_set, *activity_sets]):
        for f in (Factor.objects.filter(factor_set=fs, basis=Factor.BASIS_ACTIVITY)
                  .select_related("category", "factor_set")):
            activity_rows.append({"category": f.category.code, "unit": f.unit, "value": f.value, "low": f.low,
                                  "high": f.high, "ref": _ref(f), "quality": f.quality, "priority": priority,
                                  "valid_from": f.valid_from_year, "valid_to": f.valid_to_year})
    supplier_rows = [
        {"supplier_orgnr": s.supplier_orgnr, "value": s.value, "low": s.low, "high": s.high,
         "price_year": s.price_year, "currency": s.currency, "ref": f"supplier#{s.pk}", "quality": s.quality,
         "priority": -s.pk, "valid_from": s.valid_from_year, "valid_to": s.valid_to_year}
        for s in SupplierFactor.objects.all()
    ]
    kinds = list(Organisation.objects.values_list("orgnr", "kind"))
    prices = list(PriceIndex.objects.values_list("year", "value"))
    rates = [(year, currency, value) for (year, currency), value in exchange_rates().items()]
    rates += [(y, "NOK", 1.0) for y in years]
    inputs = runner.EngineInputs(
        line_files=[linestore.absolute(b.parquet_path) for b in batches],
        art_classes=runner.art_class_table(art_categories, known_arts()),
        ancestors=runner.ancestor_table(parents),
        spend_factors=runner.expand_years(spend_rows, years, runner.SPEND_SCHEMA),
        activity_factors=runner.expand_years(activity_rows, years, runner.ACTIVITY_SCHEMA),
        supplier_factors=runner.expand_years(supplier_rows, years, runner.SUPPLIER_SCHEMA),
        prices=pa.table({"year": pa.array([p[0] for p in prices], pa.int32()),
                         "cpi": pa.array([p[1] for p in prices], pa.float64())}),
        rates=pa.table({"year": pa.array([r[0] for r in rates], pa.int32()),
                        "currency": pa.array([r[1] for r in rates], pa.string()),
                        "nok_per_unit": pa.array([r[2] for r in rates], pa.float64())}),
        members=pa.table({"orgnr": pa.array(list(Organisation.objects.values_list("orgnr", flat=True)), pa.string())}),
        member_kinds=pa.table({"orgnr": pa.array([o[0] for o in kinds], pa.string()),
                               "kind": pa.array([o[1] for o in kinds], pa.string())}),
        **classification_inputs(),
        predictions=predictions_for(batches),  # the learned text model's (None until trained)
        calculations=calculation_inputs(),
        market_factors=market_inputs(market_set, years),
    )
    return inputs, used


def market_inputs(market_set: FactorSet | None, years: range) -> pa.Table | None:
    """The market-based factors (the newest published set of role `market`: NVE's residual mix for electricity) per
    year by the rule of engine.runner.expand_nearest_earlier, each with the typical price that turns a spend-based
    line's NOK into kWh (core.electricity.TYPICAL_PRICE); None without such a set (then every line's market-based kg
    is its kg)."""
    if market_set is None:
        return None
    rows = [{"category": f.category.code, "unit": f.unit, "value": f.value, "ref": _ref(f),
             "price_nok": TYPICAL_PRICE["nok_per_kwh"], "price_year": TYPICAL_PRICE["year"],
             "valid_from": f.valid_from_year}
            for f in (Factor.objects.filter(factor_set=market_set, basis=Factor.BASIS_ACTIVITY)
                      .select_related("category", "factor_set"))]
    return runner.expand_nearest_earlier(rows, years, runner.MARKET_SCHEMA)


def calculation_inputs() -> pa.Table | None:
    """The active NS 3720 climate calculations of construction projects with a project code (org, project,
    kg_co2e, ref), for engine.pipeline.apply_calculations; None without any."""
    with access.operator():  # a run is of the whole region, whoever asks for it (never a scope's part of it)
        rows = list(ClimateCalculation.objects.filter(active=True).exclude(project__project_code="")
                    .values_list("project__organisation__orgnr", "project__project_code", "kg_co2e", "pk"))
    if not rows:
        return None
    return pa.table({"org": pa.array([r[0] for r in rows], pa.string()),
                     "project": pa.array([r[1] for r in rows], pa.string()),
                     "kg_co2e": pa.array([float(r[2]) for r in rows], pa.float64()),
                     "ref": pa.array([f"ns3720#{r[3]}" for r in rows], pa.string())},
                    schema=runner.CALCULATION_SCHEMA)


def classification_inputs() -> dict[str, pa.Table]:
    """Rules, manual overrides, code mappings and supplier NACE codes as tables the engine joins."""
    active = ClassificationRule.objects.filter(active=True).select_related("category", "organisation")
    overrides = [r for r in active if r.kind == "line"]
    rules = [r for r in active if r.kind != "line"]
    mappings = CategoryMapping.objects.exclude(scheme__in=("kostra_art", KOSTRA_FUNCTION_SCHEME)) \
        .select_related("category")
    art_functions = [(*parse_art_function_code(m.code), m.category.code) for m in
                     CategoryMapping.objects.filter(scheme=KOSTRA_FUNCTION_SCHEME).select_related("category")]
    suppliers = Supplier.objects.exclude(nace="")
    string = pa.string()
    return {
        "overrides": pa.table({
            "org": pa.array([r.organisation.orgnr for r in overrides], string),
            "line_key": pa.array([r.value for r in overrides], string),
            "category": pa.array([r.category.code for r in overrides], string),
            "rule": pa.array([r.label for r in overrides], string)}),
        "rules": pa.table({
            "rule": pa.array([r.label for r in rules], string), "kind": pa.array([r.kind for r in rules], string),
            "value": pa.array([r.value for r in rules], string),
            "org": pa.array([r.organisation.orgnr if r.organisation else "" for r in rules], string),
            "category": pa.array([r.category.code for r in rules], string),
            "priority": pa.array([r.priority for r in rules], pa.int64())}),
        "code_map": pa.table({
            "scheme": pa.array([m.scheme for m in mappings], string),
            "code": pa.array([m.code for m in mappings], string),
            "category": pa.array([m.category.code for m in mappings], string)}),
        "art_functions": pa.table({
            name: pa.array([a[i] for a in art_functions], string)
            for i, name in enumerate(("art", "function", "investment", "category"))}),
        "suppliers": pa.table({
            "orgnr": pa.array([s.orgnr for s in suppliers], string),
            "nace": pa.array([s.nace for s in suppliers], string)}),
    }


@access.operator()  # a run is of the whole region's batches, whoever asks for it (never a scope's part of it)
def do_compute(*, factor_set_name: str | None = None, actor: ActorLike = None) -> ComputeRun:
    """Recompute the whole account. Earlier runs are kept: each run has its own result folder."""
    factor_set = resolve_factor_set(factor_set_name)
    # by organisation, then in import order: the engine writes the line results in this order (runner.run), so
    # each organisation's lines lie together and a read of one skips the others' row groups
    batches = list(ImportBatch.objects.filter(status=ImportBatch.STATUS_DONE).exclude(parquet_path="")
                   .order_by("organisation__orgnr", "pk"))
    inputs, used = engine_inputs(factor_set, batches)
    previous = previous_run()
    with transaction.atomic():
        run = ComputeRun.objects.create(factor_set=factor_set, status=ComputeRun.STATUS_RUNNING, result_dir="",
                                        batch_ids=[b.pk for b in batches], factor_sets=[fs.label for fs in used],
                                        pid=os.getpid(), host=socket.gethostname())
    out_dir = run_dir(run)
    try:
        totals = runner.run(inputs, out_dir, previous=previous, reuse=partitions.incremental_enabled())
    except BaseException as exc:  # also an interrupt: the run must not stay `running`
        mark_run_failed(run, error=f"failed: {type(exc).__name__}: {str(exc)[:500]}", action=Action.FAIL_COMPUTE,
                        actor=actor)
        raise
    with transaction.atomic():
        run.status = ComputeRun.STATUS_DONE
        run.result_dir = linestore.relative(out_dir)
        run.lines_in, run.lines_purchase = totals.lines_in, totals.lines_purchase
        run.spend_ore, run.kg_co2e = totals.spend_ore, totals.kg_co2e
        run.kg_low, run.kg_high = totals.kg_low, totals.kg_high
        run.save()
        record_audit(actor=actor, action=Action.COMPUTE, obj=run, after={
            "factor_sets": run.factor_sets, "batches": len(batches), "lines_in": totals.lines_in,
            "kg_co2e": totals.kg_co2e})
    try:
        do_prune_runs(actor=actor)
    except Exception:  # noqa: BLE001 - the run is done; housekeeping that fails is logged and tried again later
        LOG.exception("pruning old compute runs failed")
    return run


def previous_run() -> tuple[int, Path] | None:
    """The latest finished run's number and folder: a new run records its difference from it (issue 16) and links
    the line results of the partitions (organisation x year) whose inputs did not change (engine.partitions;
    `KLIMAINNKJOP_INCREMENTAL=0` recomputes everything)."""
    last = ComputeRun.objects.filter(status=ComputeRun.STATUS_DONE).exclude(result_dir="").order_by("-id").first()
    if last is None:
        return None
    return last.pk, linestore.absolute(last.result_dir)


def run_dir(run: ComputeRun) -> Path:
    """Where a run's results go; the engine writes them to `run-N.tmp` first and renames the folder when done."""
    return paths.results_dir() / f"run-{run.pk}"


def mark_run_failed(run: ComputeRun, *, error: str, action: str, actor: ActorLike = None) -> bool:
    """A run that will never finish: status failed with the reason, its unfinished result folders removed (no
    reader opens a failed run's folder), and an audit entry. False when the run was not running (any more)."""
    with transaction.atomic():
        locked = ComputeRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ComputeRun.STATUS_RUNNING:
            return False
        locked.status, locked.error = ComputeRun.STATUS_FAILED, error
        locked.save(update_fields=["status", "error"])
        folder = run_dir(locked)
        removed = [linestore.relative(p) for p in (folder.with_name(folder.name + ".tmp"), folder) if p.exists()]
        for path in removed:
            shutil.rmtree(linestore.absolute(path), ignore_errors=True)
        record_audit(actor=actor, action=action, obj=locked,
                     before={"status": ComputeRun.STATUS_RUNNING, "pid": locked.pid, "host": locked.host},
                     after={"status": ComputeRun.STATUS_FAILED, "error": error, "removed": removed})
    run.status, run.error = locked.status, locked.error
    return True


@dataclass
class PruneResult:
    runs: list[int] = field(default_factory=list)
    bytes_freed: int = 0


def _referenced_runs() -> set[int]:
    return set(Report.objects.exclude(run=None).values_list("run_id", flat=True)) | set(
        Publication.objects.exclude(run=None).values_list("run_id", flat=True))


def _folder_size(folder: Path) -> int:
    """The bytes that removing the folder frees: a result file that a later run links (incremental compute,
    engine.partitions: line files per organisation and year, the other results per organisation) stays on disk
    under that run's name and is not counted."""
    if not folder.is_dir():
        return 0
    return sum(stat.st_size for stat in (p.stat() for p in folder.rglob("*") if p.is_file()) if stat.st_nlink <= 1)


def prunable_runs(keep: int) -> list[ComputeRun]:
    """Finished runs beyond the newest `keep` that no report or publication names, oldest first. Failed runs have
    no files (mark_run_failed removed them)."""
    done = ComputeRun.objects.filter(status=ComputeRun.STATUS_DONE).order_by("-id")
    newest = list(done.values_list("pk", flat=True)[:keep])
    return list(done.exclude(pk__in=newest).exclude(pk__in=_referenced_runs()).order_by("id"))


@access.operator()  # runs are region-wide
def do_prune_runs(*, keep: int | None = None, actor: ActorLike = None) -> PruneResult:
    """The keeping policy for results (issue 20): a run's result folder is as large as its account (about 0.9 GB
    at 10M lines), so only the newest KLIMAINNKJOP_KEEP_RUNS finished runs keep theirs, besides every run a report
    or a publication names (its figures must stay traceable to their lines). A pruned run keeps its row (totals,
    factor sets, batches) with status `pruned`; no reader lists it. One audit entry for all runs pruned at once."""
    keep = max(1, keep if keep is not None else settings.KLIMAINNKJOP_KEEP_RUNS)
    result = PruneResult()
    for candidate in prunable_runs(keep):
        with transaction.atomic():
            run = ComputeRun.objects.select_for_update().get(pk=candidate.pk)
            if run.status != ComputeRun.STATUS_DONE or run.reports.exists() or \
                    Publication.objects.filter(run=run).exists():
                continue  # pruned by another process meanwhile, or named by a report or publication made meanwhile
            folder = linestore.absolute(run.result_dir) if run.result_dir else None
            run.status = ComputeRun.STATUS_PRUNED
            run.save(update_fields=["status"])
        if folder is not None:
            result.bytes_freed += _folder_size(folder)
            shutil.rmtree(folder, ignore_errors=True)
        result.runs.append(run.pk)
    if result.runs:
        record_audit(actor=actor, action=Action.PRUNE_COMPUTE_RUNS, object_type="ComputeRun",
                     after={"runs": result.runs, "bytes_freed": result.bytes_freed, "keep": keep})
    return result
