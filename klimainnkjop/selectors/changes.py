"""What changed between two compute runs, and why (issue 16 item 4).

Each run records its difference from the previous run in `changes.parquet` (engine.pipeline.changes: per org ×
year × month × unit × category × investment × intra_region, the kg before and after and the change split by cause:
new lines, removed lines, reclassified lines, method changes, new factors, other). Two runs that are not neighbours
(the comparison page) are compared on read with the same expression over their two lines.parquet files. Reads are
scoped and cached per run pair and scope like the dashboards'; consolidated (purchases between members left out)
without an organisation, as totals are.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import ibis
from django.conf import settings
from ibis import _

from klimainnkjop.access import Scope
from klimainnkjop.engine import pipeline, reader
from klimainnkjop.selectors import results
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import ComputeRun

CAUSES = pipeline.CHANGE_CAUSES
# CLI/API key -> column of changes.parquet
BY_KEYS = {"org": "org", "year": "year", "month": "month", "unit": "unit", "category": "category",
           "investment": "investment"}
DEFAULT_NOTICE_SHARE = 0.05


def notice_share() -> float:
    """The share a total must move between two runs before the dashboards say so (setting
    KLIMAINNKJOP_CHANGE_NOTICE_SHARE, default 5 %)."""
    return float(getattr(settings, "KLIMAINNKJOP_CHANGE_NOTICE_SHARE", DEFAULT_NOTICE_SHARE))


def previous_run_of(run: ComputeRun) -> ComputeRun | None:
    """The run a run's changes.parquet is relative to (changes.json), or for older runs the finished run before it."""
    folder = linestore.absolute(run.result_dir)
    try:
        number = json.loads((folder / "changes.json").read_text()).get("previous_run")
    except (OSError, ValueError):
        number = -1
    if number is None:
        return None
    query = ComputeRun.objects.filter(status=ComputeRun.STATUS_DONE).select_related("factor_set")
    if number != -1:
        return query.filter(pk=number).first()
    return query.filter(pk__lt=run.pk).order_by("-id").first()


def _changes_table(base: ComputeRun | None, run: ComputeRun) -> ibis.Table:
    folder = linestore.absolute(run.result_dir)
    stored = folder / "changes.parquet"
    recorded = previous_run_of(run)
    if stored.exists() and (base is None or (recorded is not None and recorded.pk == base.pk)):
        return reader.result_table(stored)
    after = reader.lines_table(folder)
    if base is None:
        return pipeline.changes(after.filter(ibis.literal(False)), after)
    return pipeline.changes(reader.lines_table(linestore.absolute(base.result_dir)), after)


@dataclass
class Changes:
    run: int
    base: int | None
    rows: list[dict] = field(default_factory=list)
    total: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"run": self.run, "previous_run": self.base, "causes": list(CAUSES), "total": self.total,
                "rows": self.rows}


def _figures(record: dict) -> dict:
    before, after = float(record["kg_before"] or 0.0), float(record["kg_after"] or 0.0)
    out = {"kg_before": before, "kg_after": after, "change_kg": after - before}
    for cause in CAUSES:
        out[f"{cause}_kg"] = float(record[f"{cause}_kg"] or 0.0)
    for cause in CAUSES:
        out[f"{cause}_lines"] = int(record[f"{cause}_lines"] or 0)
    return out


def run_changes(scope: Scope, *, run: ComputeRun | None = None, base: ComputeRun | None = None,
                org: str | None = None, year: int | None = None, months: list[int] | None = None,
                units: list[str] | None = None, by: list[str] | None = None,
                consolidated: bool | None = None) -> Changes | None:
    """The change in kg CO2e from `base` (default: the run before `run`) to `run` (default: the latest), per `by`
    (default org × category), each row split by cause; the causes add up to the change in every row. None when
    nothing is computed yet."""
    by = ["org", "category"] if by is None else by
    unknown = [k for k in by if k not in BY_KEYS]
    if unknown:
        raise ValueError(f"--by: unknown key(s) {', '.join(unknown)}; choose among {', '.join(BY_KEYS)}")
    if org is not None:
        scope.check(org)
    latest = results.latest_run()
    run = run or (latest.run if latest else None)
    if run is None:
        return None
    base = base if base is not None else previous_run_of(run)
    consolidate = consolidated if consolidated is not None else org is None
    args = (base.pk if base else None, org, year, None if months is None else tuple(months),
            None if units is None else tuple(units), tuple(by), consolidate)

    def compute() -> Changes:
        table = results.scoped(_changes_table(base, run), scope)
        if org is not None:
            table = table.filter(_.org == org)
        if year is not None:
            table = table.filter(_.year == year)
        if months is not None:
            table = table.filter(_.month.isin(list(months) or [-1]))
        if units is not None:
            table = table.filter(_.unit.isin(list(units) or [""]))
        if consolidate:
            table = table.filter(~_.intra_region)
        columns = [BY_KEYS[k] for k in by]
        sums = {"kg_before": _.kg_before.sum(), "kg_after": _.kg_after.sum()}
        sums.update({f"{c}_kg": _[f"{c}_kg"].sum() for c in CAUSES})
        sums.update({f"{c}_lines": _[f"{c}_lines"].sum() for c in CAUSES})
        grouped = table.group_by(columns).aggregate(**sums) if columns else table.aggregate(**sums)
        rows = []
        total = _figures({name: 0 for name in sums})
        # sum(...) over no rows is null: _figures reads it as 0
        for record in grouped.to_pyarrow().to_pylist():
            figures = _figures(record)
            if columns:
                rows.append({key: record[BY_KEYS[key]] for key in by} | figures)
            for name, value in figures.items():
                total[name] += value
        rows.sort(key=lambda r: (-abs(r["change_kg"]), *(str(r[k]) for k in by)))
        return Changes(run=run.pk, base=base.pk if base else None, rows=rows, total=total)

    return results.cached("changes", scope, results.Run(run), args, compute)


def main_causes(figures: dict, limit: int = 2) -> list[tuple[str, float]]:
    """The causes that moved the figures most, largest first (at most `limit`, none that is 0)."""
    parts = sorted(((c, figures[f"{c}_kg"]) for c in CAUSES), key=lambda p: -abs(p[1]))
    return [(c, kg) for c, kg in parts[:limit] if abs(kg) >= 0.5]


@dataclass
class Notice:
    run: int
    base: int
    kg_before: float
    kg_after: float
    share: float            # the change as a share of kg_before
    threshold: float
    causes: list[tuple[str, float]]

    @property
    def change_kg(self) -> float:
        return self.kg_after - self.kg_before


def change_notice(scope: Scope, *, org: str | None = None, year: int, months: list[int] | None = None,
                  units: list[str] | None = None, run: results.Run | None = None,
                  threshold: float | None = None) -> Notice | None:
    """A notice for a dashboard when its total (the organisation's or unit's, or the region's consolidated) for the
    period moved by more than `threshold` (default notice_share()) since the previous run; None otherwise, or when
    there is no previous run or the total was zero before."""
    run = run or results.latest_run()
    if run is None:
        return None
    threshold = notice_share() if threshold is None else threshold
    changes = run_changes(scope, run=run.run, org=org, year=year, months=months, units=units, by=[])
    if changes is None or changes.base is None:
        return None
    total = changes.total
    before = total["kg_before"]
    if not before or abs(total["change_kg"]) <= threshold * abs(before):
        return None
    return Notice(run=changes.run, base=changes.base, kg_before=before, kg_after=total["kg_after"],
                  share=total["change_kg"] / abs(before), threshold=threshold, causes=main_causes(total))


def finished_run(number: int) -> ComputeRun:
    """A finished run by its number; LookupError naming it otherwise."""
    run = ComputeRun.objects.filter(pk=number, status=ComputeRun.STATUS_DONE).select_related("factor_set").first()
    if run is None:
        raise LookupError(f"no finished computation with number {number}")
    return run
