"""Imports of one organisation are serialised, so two at the same moment cannot both miss each other's lines."""
from __future__ import annotations

import threading

import pytest

from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.storage import linestore, locks
from klimainnkjop.storage.locks import organisation_lock
from tests.factories import import_ledger, ledger_csv

def in_thread(work):
    """Runs work in a thread that closes its own database connection at the end (a connection left open keeps
    the PostgreSQL test database from being dropped when the run ends)."""
    from django.db import connection

    def run():
        try:
            work()
        finally:
            connection.close()

    return threading.Thread(target=run)


ROW = "2024-03-01;11500;120;1200;974760673;Leverandør AS;1000,00;Kontormøbler {voucher}"


def test_a_second_holder_waits_until_the_first_releases_the_lock(db):
    order: list[str] = []
    first_holds = threading.Event()
    release = threading.Event()

    def first():
        with organisation_lock("964950113"):
            order.append("first in")
            first_holds.set()
            release.wait(10)
            order.append("first out")

    def second():
        first_holds.wait(10)
        with organisation_lock("964950113"):
            order.append("second in")

    threads = [in_thread(first), in_thread(second)]
    for t in threads:
        t.start()
    first_holds.wait(10)
    threading.Event().wait(0.3)  # the second thread is now waiting for the lock
    assert order == ["first in"]
    release.set()
    for t in threads:
        t.join(10)
    assert order == ["first in", "first out", "second in"]


def test_another_organisations_lock_does_not_wait(db):
    with organisation_lock("964950113"):
        entered = threading.Event()
        def other():
            with organisation_lock("864951142"):
                entered.set()

        worker = in_thread(other)
        worker.start()
        assert entered.wait(5)
        worker.join(5)


def test_the_lock_is_reentrant_in_one_thread(db):
    with organisation_lock("964950113"):
        with organisation_lock("964950113"):
            assert locks.is_held("964950113")
        assert locks.is_held("964950113")
    assert not locks.is_held("964950113")


def test_a_ledger_import_reads_the_stored_keys_and_writes_its_batch_while_holding_the_lock(org, monkeypatch):
    from klimainnkjop.engine.ingest import Ingest

    seen: list[bool] = []
    # the stored keys are read by the vectorised import's anti-join (issue 20), the batch written by one COPY
    drop_stored, write_batch = Ingest.drop_stored, linestore.write_batch_file
    monkeypatch.setattr(Ingest, "drop_stored",
                        lambda self, files: seen.append(locks.is_held(org.orgnr)) or drop_stored(self, files))
    monkeypatch.setattr(linestore, "write_batch_file",
                        lambda *a, **k: seen.append(locks.is_held(org.orgnr)) or write_batch(*a, **k))
    result = import_ledger(org, ledger_csv(ROW.format(voucher="V1")))
    assert result.lines_added == 1
    assert seen == [True, True]
    assert not locks.is_held(org.orgnr)


def test_a_failed_import_releases_the_lock(org):
    with pytest.raises(ImportRejected):
        import_ledger(org, "not;a;ledger\n1;2;3\n")
    assert not locks.is_held(org.orgnr)
    assert import_ledger(org, ledger_csv(ROW.format(voucher="V2"))).lines_added == 1


def test_every_import_service_runs_through_the_one_skeleton_that_takes_the_organisations_lock():
    """Each entry point that reads stored keys and writes a batch does so through services.imports.run_import
    (EHF per organisation, in _import_for_org)."""
    import inspect

    from klimainnkjop.services import imports, invoices, suppliers

    for function in (imports.do_import_ledger, imports.do_import_ledger_lines, imports.do_import_kostra,
                     invoices._import_for_org, invoices.do_import_saft, suppliers.do_import_supplier_stats):
        assert "run_import(" in inspect.getsource(function), function.__name__
    assert "_import_for_org(" in inspect.getsource(invoices.do_import_ehf)


def test_the_skeleton_looks_for_the_same_file_and_stages_and_commits_under_the_lock(org):
    from contextlib import contextmanager

    from klimainnkjop.access import operator
    from klimainnkjop.services.imports import Staged, run_import

    seen: list[bool] = []

    @contextmanager
    def stage(previous):
        seen.append(previous is None and locks.is_held(org.orgnr))
        yield Staged(rows_read=1, duplicates=0, columns={f.name: [] for f in linestore.LINE_SCHEMA})
        seen.append(locks.is_held(org.orgnr))

    data = b"an empty KOSTRA file"
    with operator():  # as the command line would
        first = run_import(organisation=org, kind="kostra", file_name="k.dat", sha=linestore.sha256_bytes(data),
                           data=data, stage=stage, actor="test")
        again = run_import(organisation=org, kind="kostra", file_name="k.dat", sha=linestore.sha256_bytes(data),
                           data=data, stage=stage, actor="test")
    assert seen == [True, True] and not locks.is_held(org.orgnr)
    assert (first.already_imported, first.lines_added, first.batch.status) == (False, 0, "empty")
    assert (again.already_imported, again.batch) == (True, first.batch)
