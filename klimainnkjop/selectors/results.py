"""Reads of computed results (the aggregates Parquet of the latest compute run), always scoped."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import ibis
from django.core.cache import cache
from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.engine import reader
from klimainnkjop.engine.pipeline import SUMMARY_KEYS
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ComputeRun

# CLI/API key -> aggregate column
BY_KEYS = {
    "org": "org", "year": "year", "category": "category", "art": "art", "unit": "unit",
    "supplier": "supplier_orgnr", "investment": "investment", "month": "month", "method": "method",
    "quality": "quality", "source": "source",
}


SUMMARY_COLUMNS = set(SUMMARY_KEYS)


from klimainnkjop.core.errors import NoResults  # noqa: E402,F401 - imported from here by callers


@dataclass
class Run:
    run: ComputeRun

    @property
    def factor_set_label(self) -> str:
        fs = self.run.factor_set
        return f"{fs.name} {fs.version}"


def latest_run() -> Run | None:
    run = ComputeRun.objects.filter(status="done").select_related("factor_set").order_by("-id").first()
    return Run(run) if run else None


@dataclass(frozen=True)
class ComputeStatus:
    """What the pages say about the figures' freshness: when the latest run was made, whether one is computing or
    queued now, and whether the data changed after the latest run started (then its figures are stale)."""
    last_run_at: object  # datetime | None
    running: bool
    queued: bool
    stale: bool


AUTO_COMPUTE_TASK = "klimainnkjop.services.autocompute.compute_job"


def compute_status() -> ComputeStatus:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from klimainnkjop.selectors.audit import last_data_change

    done = ComputeRun.objects.filter(status="done").order_by("-id").values_list("created_at", flat=True).first()
    started = ComputeRun.objects.exclude(status="failed").order_by("-id").values_list("created_at", flat=True).first()
    changed = last_data_change()
    jobs = DBTaskResult.objects.filter(task_path=AUTO_COMPUTE_TASK)
    return ComputeStatus(
        last_run_at=done, running=ComputeRun.objects.filter(status="running").exists()
        or jobs.filter(status=TaskResultStatus.RUNNING).exists(),
        queued=jobs.filter(status=TaskResultStatus.READY).exists(),
        stale=changed is not None and (started is None or changed > started))


def run_key(run: Run) -> str:
    """Identifies a run's results for caches: its id, folder and when its files were written. A run's results
    never change, so a value cached under this key never goes stale (a new run has a new key)."""
    folder = linestore.absolute(run.run.result_dir)
    try:
        written = folder.stat().st_mtime_ns
    except OSError:
        written = 0
    return hashlib.sha256(f"{run.run.pk}|{folder}|{written}".encode()).hexdigest()[:24]


def scope_key(scope: Scope) -> str:
    """Identifies what a scope may see (its organisations and, for unit leaders, units): two scopes with the
    same key see the same results. Part of every cache key of scoped figures."""
    orgs = None if scope.orgnrs is None else sorted(scope.orgnrs)
    units = None if scope.units is None else sorted((o, sorted(u)) for o, u in scope.units.items())
    return hashlib.sha256(repr((orgs, units)).encode()).hexdigest()[:24]


CACHE_SECONDS = 24 * 3600


def cached(kind: str, scope: Scope, run: Run, args: tuple, compute):
    """A scoped read cached per (compute run, scope, arguments) in Django's cache. A run's results never
    change, so the value cannot go stale; the scope's key keeps one viewer's figures and lines from another's.
    The caller checks the scope (Scope.check) before asking."""
    key = "read:" + hashlib.sha256(repr((kind, run_key(run), scope_key(scope), args)).encode()).hexdigest()
    return cache.get_or_set(key, compute, CACHE_SECONDS)


_table = reader.result_table  # a result file as an ibis table (the engine opens the backend)
_lines_table = reader.lines_table  # a run's line results (files per organisation and year: engine.partitions)


def scoped(table: ibis.Table, scope: Scope) -> ibis.Table:
    """Rows of engine results limited to what the scope may see: its organisations, and for unit
    leaders their units. Every read of results passes here."""
    if not scope.everything:
        table = table.filter(_.org.isin(list(scope.orgnrs or [""])))
    if scope.units:
        allowed = None
        for orgnr, units in scope.units.items():
            cond = (_.org == orgnr) & _.unit.isin(list(units) or [""])
            allowed = cond if allowed is None else allowed | cond
        table = table.filter(~_.org.isin(list(scope.units)) | allowed)
    return table


def _aggregates(run: Run, scope: Scope, org: str | None, year: int | None,
                columns: set[str] | None = None) -> ibis.Table:
    """The run's results, filtered to the scope. Reads the small summary table when it has every column
    needed (and no unit limit applies), else the full aggregates."""
    folder = linestore.absolute(run.run.result_dir)
    use_summary = (columns is not None and columns <= SUMMARY_COLUMNS and not scope.units
                   and reader.has_result(folder, "summary"))
    table = _table(reader.result_source(folder, "summary" if use_summary else "aggregates", org))
    if "kg_co2e_market" not in table.columns:  # a run made before the market-based figure: none to report
        table = table.mutate(kg_co2e_market=ibis.null("float64"))
    if org is not None:
        scope.check(org)
        table = table.filter(_.org == org)
    table = scoped(table, scope)
    if year is not None:
        table = table.filter(_.year == year)
    return table


def _narrowed(table: ibis.Table, months: list[int] | None, units: list[str] | None) -> ibis.Table:
    """Optional filters of the dashboards: months of a period (0 = KOSTRA annual lines), a unit subtree."""
    if months is not None:
        table = table.filter(_.month.isin(list(months) or [-1]))
    if units is not None:
        table = table.filter(_.unit.isin(list(units) or [""]))
    return table


def totals(scope: Scope, *, org: str | None = None, year: int | None = None, by: list[str] | None = None,
           include_excluded: bool = False, consolidated: bool | None = None, months: list[int] | None = None,
           units: list[str] | None = None, run: Run | None = None) -> dict:
    """Spend, kg CO2e (with its range) and line counts of purchases, grouped by the given keys.

    Consolidated (the default without `org`): purchases between organisations of the region are left
    out, since the selling organisation's own purchases are in the account already. `months` limits to
    those months (a period; month 0 holds KOSTRA annual lines), `units` to those unit codes.
    """
    by = by or []
    unknown = [k for k in by if k not in BY_KEYS]
    if unknown:
        raise ValueError(f"--by: unknown key(s) {', '.join(unknown)}; choose among {', '.join(BY_KEYS)}")
    run = run or latest_run()
    if run is None:
        raise NoResults()
    columns = [BY_KEYS[k] for k in by]
    needed = set(columns) | {"exclusion", "intra_region", "covered", "month"}
    needed |= {"unit"} if units is not None else set()
    table = _narrowed(_aggregates(run, scope, org, year, needed), months, units)
    if not include_excluded:
        table = table.filter(_.exclusion == "")
    if consolidated if consolidated is not None else org is None:
        table = table.filter(~_.intra_region)
    metrics = dict(spend_ore=_.spend_ore.sum(), kg_co2e=_.kg_co2e.sum(), kg_co2e_market=_.kg_co2e_market.sum(),
                   kg_low=_.kg_low.sum(), kg_high=_.kg_high.sum(), lines=_.lines.sum(),
                   covered_spend_ore=ibis.ifelse(_.covered, _.spend_ore, 0).sum())
    grouped = table.group_by(columns).aggregate(**metrics) if columns else table.aggregate(**metrics)
    if columns:
        grouped = grouped.order_by(columns)
    rows = []
    for record in grouped.to_pyarrow().to_pylist():
        if not columns and not record["lines"]:
            continue
        row = {key: record[BY_KEYS[key]] for key in by}
        row.update(_figures(record))
        rows.append(row)
    return {"factor_set": run.factor_set_label, "factor_sets": run.run.factor_sets, "run": run.run.pk,
            "consolidated": bool(consolidated if consolidated is not None else org is None), "rows": rows}


def _figures(record: dict) -> dict:
    return dict(
        spend_nok=round((record["spend_ore"] or 0) / 100, 2),
        kg_co2e=float(record["kg_co2e"] or 0.0),
        # market-based (electricity at the residual mix, pipeline MARKET-BASED); None for a run made before it
        kg_co2e_market=None if record.get("kg_co2e_market") is None else float(record["kg_co2e_market"]),
        kg_co2e_low=float(record["kg_low"] or 0.0),
        kg_co2e_high=float(record["kg_high"] or 0.0),
        lines=int(record["lines"] or 0),
        covered_spend_nok=round((record["covered_spend_ore"] or 0) / 100, 2),
    )


def period_totals(scope: Scope, *, year: int, org: str | None = None, months: list[int] | None = None,
                  units: list[str] | None = None, run: Run | None = None) -> dict:
    """A dashboard's figures in one grouped read, with the same filters and sums as `totals` and
    `excluded_spend` would give in five reads:

    - `per_year`: purchases per year × investment (every month);
    - `period`: purchases of `year` in `months` (None: the whole year) per org × category × method ×
      quality × investment;
    - `period` rows carry `last_month`, the last month of the year with purchases in the row (0: KOSTRA only);
    - `previous`: purchases of the same months a year before, per month × investment;
    - `kostra`: purchases of `year` in month 0 (KOSTRA annual lines) per investment, when `months` is given;
    - `excluded`: what was left out of the period, per reason (intra-region purchases included, as in
      `excluded_spend`).

    Consolidated (purchases between organisations of the region left out) without `org`, as `totals`."""
    run = run or latest_run()
    if run is None:
        raise NoResults()
    needed = {"org", "year", "month", "category", "investment", "method", "quality", "exclusion", "intra_region",
              "covered"} | ({"unit"} if units is not None else set())
    table = _narrowed(_aggregates(run, scope, org, None, needed), None, units)
    purchase = _.exclusion == ""
    if org is None:
        table = table.filter(~_.intra_region | ~purchase)
    in_months = _.month.isin(list(months) or [-1]) if months is not None else ibis.literal(True)
    current = (_.year == year) & in_months
    table = table.filter(purchase | current)
    bucket = ibis.cases((current, "period"), ((_.year == year - 1) & in_months, "previous"),
                        ((_.year == year) & (_.month == 0), "kostra"), else_="other")
    table = table.mutate(bucket=bucket)
    detail = table.bucket == "period"
    table = table.mutate(**{f"g_{c}": ibis.ifelse(detail, table[c], ibis.null(table[c].type()))
                            for c in ("org", "category", "method", "quality")},
                         g_month=ibis.ifelse(table.bucket == "previous", table.month, ibis.null("int32")))
    keys = ["year", "bucket", "g_org", "g_category", "g_method", "g_quality", "g_month", "investment", "exclusion"]
    grouped = table.group_by(keys).aggregate(
        spend_ore=_.spend_ore.sum(), kg_co2e=_.kg_co2e.sum(), kg_co2e_market=_.kg_co2e_market.sum(),
        kg_low=_.kg_low.sum(), kg_high=_.kg_high.sum(),
        lines=_.lines.sum(), covered_spend_ore=ibis.ifelse(_.covered, _.spend_ore, 0).sum(),
        last_month=_.month.max())
    out: dict = {"factor_set": run.factor_set_label, "factor_sets": run.run.factor_sets, "run": run.run.pk,
                 "per_year": [], "period": [], "previous": [], "kostra": [], "excluded": []}
    excluded: dict[str, list[int]] = {}
    for record in grouped.to_pyarrow().to_pylist():
        if record["exclusion"]:
            if record["bucket"] == "period":
                sums = excluded.setdefault(record["exclusion"], [0, 0])
                sums[0] += record["spend_ore"] or 0
                sums[1] += record["lines"] or 0
            continue
        figures = _figures(record)
        out["per_year"].append({"year": record["year"], "investment": record["investment"], **figures})
        if record["bucket"] == "period":
            out["period"].append({"year": record["year"], "org": record["g_org"], "category": record["g_category"],
                                  "method": record["g_method"], "quality": record["g_quality"],
                                  "investment": record["investment"], "last_month": record["last_month"],
                                  **figures})
        elif record["bucket"] == "previous":
            out["previous"].append({"investment": record["investment"], "month": record["g_month"], **figures})
        elif record["bucket"] == "kostra" and months is not None:
            out["kostra"].append({"investment": record["investment"], **figures})
    out["excluded"] = [{"exclusion": reason, "spend_nok": round(spend / 100, 2), "lines": int(lines)}
                       for reason, (spend, lines) in sorted(excluded.items())]
    return out


def excluded_spend(scope: Scope, *, org: str | None = None, year: int | None = None,
                   months: list[int] | None = None, units: list[str] | None = None,
                   run: Run | None = None) -> list[dict]:
    """What was left out of the account, and why (wages, transfers, financial items, income, internal)."""
    run = run or latest_run()
    if run is None:
        return []
    needed = {"exclusion", "month"} | ({"unit"} if units is not None else set())
    table = _narrowed(_aggregates(run, scope, org, year, needed), months, units).filter(_.exclusion != "")
    grouped = (table.group_by("exclusion").aggregate(spend_ore=_.spend_ore.sum(), lines=_.lines.sum())
               .order_by("exclusion"))
    return [{"exclusion": r["exclusion"], "spend_nok": round(r["spend_ore"] / 100, 2), "lines": int(r["lines"])}
            for r in grouped.to_pyarrow().to_pylist()]


def runs():
    return ComputeRun.objects.filter(status="done").select_related("factor_set").order_by("-id")


def compare_runs(scope: Scope, *, base: ComputeRun, other: ComputeRun, org: str | None = None,
                 year: int | None = None) -> list[dict]:
    """kg CO2e per category in two runs (e.g. two factor sets) and the difference, largest change first."""
    def per_category(run: ComputeRun) -> dict:
        table = _aggregates(Run(run), scope, org, year, {"category", "exclusion", "intra_region"})
        table = table.filter(_.exclusion == "")
        if org is None:
            table = table.filter(~_.intra_region)
        grouped = table.group_by("category").aggregate(kg=_.kg_co2e.sum(), spend=_.spend_ore.sum())
        return {r["category"]: r for r in grouped.to_pyarrow().to_pylist()}

    a, b = per_category(base), per_category(other)
    rows = []
    for category in sorted(set(a) | set(b), key=lambda c: c or ""):
        kg_a = float(a.get(category, {}).get("kg") or 0.0)
        kg_b = float(b.get(category, {}).get("kg") or 0.0)
        rows.append({"category": category, "kg_base": kg_a, "kg_other": kg_b, "kg_diff": kg_b - kg_a,
                     "spend_nok": round(((a.get(category) or b.get(category) or {}).get("spend") or 0) / 100, 2)})
    rows.sort(key=lambda r: -abs(r["kg_diff"]))
    return rows


# --- the combined 95 % range of a view (method v2) --------------------------------------------------------------

RANGE_KEYS = {"org": "org", "year": "year", "category": "category", "investment": "investment", "unit": "unit",
              "month": "month"}


def combined_range(scope: Scope, *, org: str | None = None, year: int | None = None, months: list[int] | None = None,
                   units: list[str] | None = None, by: list[str] | None = None, consolidated: bool | None = None,
                   run: Run | None = None) -> dict | None:
    """The 95 % range of purchases' kg CO2e from the lines' lognormal spreads, combined with the stated correlation
    (lines of one factor fully correlated, different factors independent; engine.pipeline.uncertain_totals), per
    `by` (default: one total, key ()). From the run's moments (moments/), summed again by factor for the view: an
    organisation or the consolidated region, a year and its months, units. {key tuple: (kg_p025, kg_p975)}; None
    when the run has no such file (made before it existed). Cached per run and scope."""
    from klimainnkjop.engine import pipeline

    by = by or []
    run = run or latest_run()
    if run is None:
        return None
    folder = linestore.absolute(run.run.result_dir)
    if not reader.has_result(folder, "moments"):
        return None
    if org is not None:
        scope.check(org)
    path = reader.result_source(folder, "moments", org)
    consolidate = consolidated if consolidated is not None else org is None
    args = (org, year, None if months is None else tuple(months), None if units is None else tuple(units),
            tuple(by), consolidate)

    def compute() -> dict:
        table = scoped(_table(path), scope)
        if org is not None:
            table = table.filter(_.org == org)
        if year is not None:
            table = table.filter(_.year == year)
        table = _narrowed(table, months, units)
        if consolidate:
            table = table.filter(~_.intra_region)
        columns = [RANGE_KEYS[k] for k in by]
        ranged = pipeline.combine_moments(table, columns).to_pyarrow().to_pylist()
        return {tuple(r[c] for c in columns): (float(r["kg_p025"] or 0.0), float(r["kg_p975"] or 0.0))
                for r in ranged}

    return cached("combined-range", scope, run, args, compute)
