"""Leftovers after a kill (issue 19, part 7): a compute run whose process is gone is marked failed and its
unfinished folder removed; files of imports that never committed are removed; a run still alive, a fresh file
and every committed file are left alone; all of it audited; `klimainnkjop maintenance clean` and `serve` do it."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import uuid
from pathlib import Path

import psutil
import pytest
from django.utils import timezone

from klimainnkjop import paths
from klimainnkjop.cli import main
from klimainnkjop.engine import runner
from klimainnkjop.services import compute
from klimainnkjop.services.maintenance import ORPHAN_AFTER, RUN_UNCHECKABLE_AFTER, do_clean_leftovers
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import AuditEntry, ComputeRun, ExchangeRate, FactorSet, ImportBatch
from tests.factories import do_delete_import_batch, do_import_ehf, import_ledger, ledger_csv

EHF = Path(__file__).resolve().parent / "data" / "ehf"
pytestmark = pytest.mark.django_db


@pytest.fixture
def factor_set(db):
    return FactorSet.objects.create(name="test-spend", version="1", publisher="test", licence="CC BY 4.0",
                                    attribution="test", role=FactorSet.ROLE_SPEND_DEFAULT)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])  # a process that has ended (and been reaped): the pid of a killed run
    process.wait()
    return process.pid


def running_run(factor_set, *, pid, host=None, age=dt.timedelta(0)) -> ComputeRun:
    run = ComputeRun.objects.create(factor_set=factor_set, status=ComputeRun.STATUS_RUNNING, result_dir="",
                                    pid=pid, host=socket.gethostname() if host is None else host)
    ComputeRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - age)
    run.refresh_from_db()
    tmp = paths.results_dir() / f"run-{run.pk}.tmp"
    tmp.mkdir()
    (tmp / "lines.unsorted.parquet").write_bytes(b"half written")
    return run


def age(path: Path, by: dt.timedelta = ORPHAN_AFTER + dt.timedelta(minutes=1)) -> Path:
    when = (timezone.now() - by).timestamp()
    os.utime(path, (when, when))
    return path


def write(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def status(run: ComputeRun) -> str:
    run.refresh_from_db()
    return run.status


# --- compute runs ---------------------------------------------------------------------------------------------

def test_a_run_whose_process_is_gone_is_marked_failed_its_tmp_folder_removed_and_audited(factor_set):
    run = running_run(factor_set, pid=dead_pid())
    result = do_clean_leftovers(actor="test")
    assert result.runs_failed == [run.pk]
    run.refresh_from_db()
    assert run.status == ComputeRun.STATUS_FAILED and "interrupted" in run.error and str(run.pid) in run.error
    assert not (paths.results_dir() / f"run-{run.pk}.tmp").exists()
    entry = AuditEntry.objects.get(action="interrupt_compute")
    assert entry.object_id == str(run.pk) and entry.actor_label == "test"
    assert entry.before["status"] == "running" and entry.after["status"] == "failed"
    assert entry.after["removed"] == [f"results/run-{run.pk}.tmp"]
    assert not do_clean_leftovers(actor="test")  # once


def test_a_run_whose_process_is_alive_is_left_running_with_its_folder(factor_set):
    run = running_run(factor_set, pid=os.getpid())  # this test's process, which started before the run
    assert do_clean_leftovers(actor="test").runs_failed == []
    assert status(run) == ComputeRun.STATUS_RUNNING and (paths.results_dir() / f"run-{run.pk}.tmp").exists()
    assert not AuditEntry.objects.filter(action="interrupt_compute").exists()


def test_a_pid_given_to_a_newer_process_does_not_keep_a_run_alive(factor_set):
    started = dt.datetime.fromtimestamp(psutil.Process(os.getpid()).create_time(), tz=dt.timezone.utc)
    run = running_run(factor_set, pid=os.getpid())
    ComputeRun.objects.filter(pk=run.pk).update(created_at=started - dt.timedelta(hours=1))
    assert do_clean_leftovers(actor="test").runs_failed == [run.pk]


def test_a_run_that_cannot_be_checked_fails_only_after_the_stated_limit(factor_set):
    young_elsewhere = running_run(factor_set, pid=4242, host="another-machine", age=dt.timedelta(hours=1))
    old_elsewhere = running_run(factor_set, pid=4242, host="another-machine",
                                age=RUN_UNCHECKABLE_AFTER + dt.timedelta(minutes=1))
    old_without_pid = running_run(factor_set, pid=None, host="", age=RUN_UNCHECKABLE_AFTER + dt.timedelta(minutes=1))
    assert sorted(do_clean_leftovers(actor="test").runs_failed) == sorted([old_elsewhere.pk, old_without_pid.pk])
    assert status(young_elsewhere) == ComputeRun.STATUS_RUNNING
    assert "no process recorded" in ComputeRun.objects.get(pk=old_without_pid.pk).error


def test_a_compute_that_raises_is_marked_failed_at_once_and_leaves_no_tmp_folder(factor_set, monkeypatch):
    def broken(inputs, out_dir, previous=None, reuse=True):
        write(out_dir.with_name(out_dir.name + ".tmp") / "lines.parquet")
        raise MemoryError("out of memory")

    monkeypatch.setattr(runner, "run", broken)
    with pytest.raises(MemoryError):
        compute.do_compute(actor="test")
    run = ComputeRun.objects.get()
    assert run.status == ComputeRun.STATUS_FAILED and "MemoryError" in run.error
    assert run.pid == os.getpid() and run.host == socket.gethostname()
    assert not list(paths.results_dir().iterdir())
    assert AuditEntry.objects.filter(action="fail_compute", object_id=str(run.pk)).exists()


def test_a_stray_tmp_folder_of_a_finished_run_is_removed_once_old(factor_set):
    run = ComputeRun.objects.create(factor_set=factor_set, status=ComputeRun.STATUS_DONE, result_dir="results/run-x")
    stray = write(paths.results_dir() / f"run-{run.pk}.tmp" / "summary.parquet").parent
    assert do_clean_leftovers(actor="test").files_removed == []  # fresh
    age(stray)
    assert do_clean_leftovers(actor="test").files_removed == [f"results/run-{run.pk}.tmp"]


# --- files of imports that never committed --------------------------------------------------------------------

def test_orphan_parquet_and_archive_files_of_killed_imports_are_removed_and_committed_and_fresh_ones_kept(org):
    committed = import_ledger(org, ledger_csv("01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat")).batch
    committed_parquet = age(linestore.absolute(committed.parquet_path))
    committed_raw = age(paths.archive_dir() / committed.file_sha256[:2] / committed.file_sha256)
    folder = paths.lines_dir() / org.orgnr
    killed_tmp = age(write(folder / f"{uuid.uuid4().hex}.parquet.tmp"))  # killed while writing
    killed_parquet = age(write(folder / f"{uuid.uuid4().hex}.parquet"))  # killed between rename and commit
    killed_sha = linestore.sha256_bytes(b"a file whose import was killed")
    killed_raw = age(linestore.archive_raw(b"a file whose import was killed", killed_sha))
    killed_raw_tmp = age(write(paths.archive_dir() / "ab" / f"{'ab' * 32}.{uuid.uuid4().hex}.tmp"))
    fresh_tmp = write(folder / f"{uuid.uuid4().hex}.parquet.tmp")  # an import under way
    fresh_raw = linestore.archive_raw(b"an import under way", linestore.sha256_bytes(b"an import under way"))
    other = age(write(paths.archive_dir() / "README"))  # not a name the product writes: not touched

    result = do_clean_leftovers(actor="test")

    removed = {killed_tmp, killed_parquet, killed_raw, killed_raw_tmp}
    assert sorted(result.files_removed) == sorted(linestore.relative(p) for p in removed)
    assert not any(p.exists() for p in removed)
    assert all(p.exists() for p in (committed_parquet, committed_raw, fresh_tmp, fresh_raw, other))
    entry = AuditEntry.objects.get(action="remove_leftovers")
    assert sorted(entry.after["files"]) == sorted(result.files_removed) and entry.after["count"] == 4
    assert do_clean_leftovers(actor="test").files_removed == []


def test_the_files_of_a_deleted_import_and_of_a_replaced_draft_factor_set_stay(org):
    batch = import_ledger(org, ledger_csv("01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat")).batch
    do_delete_import_batch(batch=batch, actor="test")
    kept = [age(linestore.absolute(batch.parquet_path)),
            age(paths.archive_dir() / batch.file_sha256[:2] / batch.file_sha256)]
    replaced_sha = linestore.sha256_bytes(b"a draft set replaced since")
    kept.append(age(linestore.archive_raw(b"a draft set replaced since", replaced_sha)))
    AuditEntry.objects.create(actor_label="test", action="import_factor_set", after={"sha256": replaced_sha})
    assert do_clean_leftovers(actor="test").files_removed == []
    assert all(p.exists() for p in kept)


def test_the_archived_documents_of_an_ehf_batch_are_listed_on_it_and_kept(org):
    ExchangeRate.objects.update_or_create(year=2017, currency="EUR", defaults={"nok_per_unit": 9.33, "source": "test"})
    documents = [(name, (EHF / name).read_bytes()) for name in ("base-example.xml", "Norwegian-example-1.xml")]
    result = do_import_ehf(documents=documents, organisation=org, actor="test")
    [batch] = result.batches
    shas = sorted(linestore.sha256_bytes(data) for _, data in documents)
    assert batch.raw_sha256s == shas and batch.file_sha256 not in shas  # the batch's own sha names no file
    files = [age(paths.archive_dir() / sha[:2] / sha) for sha in shas]
    assert do_clean_leftovers(actor="test").files_removed == []
    assert all(p.exists() for p in files)


def test_archived_files_older_than_an_ehf_batch_that_does_not_list_its_documents_are_kept(org):
    legacy = ImportBatch.objects.with_scopes_disabled().create(organisation=org, kind="ehf", token=uuid.uuid4().hex, file_name="2 docs",
                                        file_sha256="f" * 64, rows_read=2)  # made before raw_sha256s existed
    ImportBatch.objects.with_scopes_disabled().filter(pk=legacy.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    maybe_its_document = age(linestore.archive_raw(b"<Invoice/>", linestore.sha256_bytes(b"<Invoice/>")),
                             dt.timedelta(hours=2))
    later_orphan = age(linestore.archive_raw(b"killed", linestore.sha256_bytes(b"killed")), dt.timedelta(minutes=30))
    assert do_clean_leftovers(actor="test").files_removed == [linestore.relative(later_orphan)]
    assert maybe_its_document.exists()


# --- the faces ------------------------------------------------------------------------------------------------

def test_maintenance_clean_on_the_command_line_reports_what_it_cleaned(factor_set, capsys):
    run = running_run(factor_set, pid=dead_pid())
    orphan = age(write(paths.lines_dir() / "944117784" / f"{uuid.uuid4().hex}.parquet.tmp"))
    assert main(["maintenance", "clean", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {"runs_failed": [run.pk], "files_removed": [linestore.relative(orphan)], "runs_pruned": []}
    assert AuditEntry.objects.filter(action="remove_leftovers", actor_label="cli").exists()
    assert main(["maintenance", "clean"]) == 0
    assert capsys.readouterr().out.strip() == "nothing to clean"


def test_serve_cleans_leftovers_before_it_starts_serving(factor_set, monkeypatch, capsys):
    import signal

    from klimainnkjop.web import server

    run = running_run(factor_set, pid=dead_pid())
    served = []
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # serve's SIGTERM handler: not in the test process
    monkeypatch.setattr(server, "serve", lambda **kwargs: served.append(status(run)))  # what serve runs (gunicorn)
    assert main(["serve", "--no-worker"]) == 0
    assert served == [ComputeRun.STATUS_FAILED]
    assert "compute run(s) interrupted" in capsys.readouterr().err
