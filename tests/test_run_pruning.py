"""The keeping policy for compute runs' results (issue 20, item 4): a run's result folder is as large as its
account, so only the newest KLIMAINNKJOP_KEEP_RUNS finished runs keep theirs, besides every run a report or a
publication names; a pruned run keeps its row and is listed nowhere; audited; after each compute and by
`maintenance clean`."""
from __future__ import annotations

import json

import pytest

from klimainnkjop import paths
from klimainnkjop.cli import main
from klimainnkjop.services.compute import do_compute, do_prune_runs
from klimainnkjop.services.maintenance import do_clean_leftovers
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import AuditEntry, ComputeRun, FactorSet, Publication, Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def factor_set(db):
    return FactorSet.objects.create(name="test-spend", version="1", publisher="test", licence="CC BY 4.0",
                                    attribution="test", role=FactorSet.ROLE_SPEND_DEFAULT)


def finished_run(factor_set, size: int = 1000) -> ComputeRun:
    run = ComputeRun.objects.create(factor_set=factor_set, status=ComputeRun.STATUS_DONE, kg_co2e=12.5,
                                    lines_in=3, result_dir="")
    folder = paths.results_dir() / f"run-{run.pk}"
    folder.mkdir(parents=True)
    (folder / "lines.parquet").write_bytes(b"x" * size)
    run.result_dir = linestore.relative(folder)
    run.save(update_fields=["result_dir"])
    return run


def folder(run: ComputeRun):
    return linestore.absolute(run.result_dir)


def test_only_the_newest_runs_keep_their_files_and_a_pruned_run_keeps_its_row(factor_set):
    runs = [finished_run(factor_set, size=100 * (i + 1)) for i in range(4)]
    result = do_prune_runs(keep=2, actor="test")
    assert result.runs == [runs[0].pk, runs[1].pk]
    assert result.bytes_freed == 100 + 200
    for run in runs[:2]:
        run.refresh_from_db()
        assert run.status == ComputeRun.STATUS_PRUNED and run.kg_co2e == 12.5 and run.lines_in == 3
        assert not folder(run).exists()
    for run in runs[2:]:
        run.refresh_from_db()
        assert run.status == ComputeRun.STATUS_DONE and folder(run).is_dir()
    entry = AuditEntry.objects.get(action="prune_compute_runs")
    assert entry.after == {"runs": [runs[0].pk, runs[1].pk], "bytes_freed": 300, "keep": 2}
    assert do_prune_runs(keep=2, actor="test").runs == [], "pruning again finds nothing"
    assert AuditEntry.objects.filter(action="prune_compute_runs").count() == 1


def test_a_file_a_newer_run_links_is_not_counted_as_freed_and_stays_readable(factor_set):
    """Incremental compute links an unchanged year's line file from the previous run: pruning that run removes its
    name only, so the bytes are not freed and the newer run still reads them."""
    old, *newer = [finished_run(factor_set, size=100) for _ in range(3)]
    (folder(old) / "2024_0.parquet").write_bytes(b"y" * 5000)
    (folder(newer[-1]) / "2024_0.parquet").hardlink_to(folder(old) / "2024_0.parquet")
    result = do_prune_runs(keep=2, actor="test")
    assert result.runs == [old.pk] and result.bytes_freed == 100
    assert (folder(newer[-1]) / "2024_0.parquet").read_bytes() == b"y" * 5000


def test_a_run_a_report_or_a_publication_names_keeps_its_files_however_old(factor_set, org):
    reported, published, plain, newest = (finished_run(factor_set) for _ in range(4))
    Report.objects.create(organisation=org, period="2025", format="pdf", run=reported, status="done")
    Publication.objects.create(organisation=org, year=2025, run=published)
    assert do_prune_runs(keep=1, actor="test").runs == [plain.pk]
    for run in (reported, published, newest):
        run.refresh_from_db()
        assert run.status == ComputeRun.STATUS_DONE and folder(run).is_dir()


def test_failed_and_running_runs_are_not_counted_or_touched(factor_set):
    old = finished_run(factor_set)
    failed = ComputeRun.objects.create(factor_set=factor_set, status=ComputeRun.STATUS_FAILED, result_dir="")
    running = ComputeRun.objects.create(factor_set=factor_set, status=ComputeRun.STATUS_RUNNING, result_dir="")
    assert do_prune_runs(keep=1, actor="test").runs == [], "the one finished run is the newest"
    newer = finished_run(factor_set)
    assert do_prune_runs(keep=1, actor="test").runs == [old.pk]
    for run, status in ((failed, "failed"), (running, "running"), (newer, "done")):
        run.refresh_from_db()
        assert run.status == status


def test_a_pruned_run_is_not_listed_for_comparison_or_read_as_the_latest(factor_set):
    from klimainnkjop.selectors import results

    old, newest = finished_run(factor_set), finished_run(factor_set)
    do_prune_runs(keep=1, actor="test")
    assert [r.pk for r in results.runs()] == [newest.pk]
    assert old.pk not in [r.pk for r in results.runs()]


def test_a_compute_prunes_the_runs_beyond_the_policy(reference, settings):
    settings.KLIMAINNKJOP_KEEP_RUNS = 1
    first = do_compute(actor="test")
    assert folder(first).is_dir()
    second = do_compute(actor="test")
    first.refresh_from_db()
    assert first.status == ComputeRun.STATUS_PRUNED and not folder(first).exists()
    assert folder(second).is_dir()
    assert AuditEntry.objects.get(action="prune_compute_runs").after["runs"] == [first.pk]


def test_maintenance_clean_prunes_and_says_so(factor_set, settings, capsys):
    settings.KLIMAINNKJOP_KEEP_RUNS = 1
    old, _newest = finished_run(factor_set), finished_run(factor_set)
    assert do_clean_leftovers(actor="test").runs_pruned == [old.pk]
    third = finished_run(factor_set)
    assert main(["maintenance", "clean", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs_pruned"] == [_newest.pk]
    finished_run(factor_set)
    assert main(["maintenance", "clean"]) == 0
    assert f"compute run {third.pk}: old, its result files removed" in capsys.readouterr().out
