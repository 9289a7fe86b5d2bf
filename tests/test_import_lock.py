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


def test_every_import_service_takes_the_organisations_lock():
    """Each entry point that reads stored keys and writes a batch does so under organisation_lock."""
    import inspect

    from klimainnkjop.services import imports, invoices, suppliers

    for function in (imports.do_import_ledger, imports.do_import_kostra, invoices.do_import_ehf,
                     invoices.do_import_saft, suppliers.do_import_supplier_stats):
        assert "organisation_lock(" in inspect.getsource(function), function.__name__
