"""The test suite's snapshots (tests/conftest.py load_once): a module fixture that restores what an expensive load
wrote instead of loading again must give back exactly the same rows and files."""
from pathlib import Path

import pytest
from django.db import transaction

from tests.conftest import load_once, table_contents
from tests.factories import KONGSVINGER_CSV, WEB_PROFILE, import_ledger


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_computed_organisation() -> int:
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.organisations import do_create_organisation

    org = do_create_organisation(orgnr="944117784", name="Kongsvinger kommune", kostra_region="0402",
                                 region_name="Kongsvingerregionen", actor="test")
    import_ledger(org, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
    return do_compute(actor="test").pk


def test_a_restored_snapshot_gives_back_every_row_and_file_the_load_wrote(reference, data_dir, tmp_path):
    with transaction.atomic():
        run_id = load_once("snapshot-probe", data_dir, _one_computed_organisation)
        after, written = table_contents(), _files(data_dir)
        transaction.set_rollback(True)
    assert table_contents() != after, "the load's rows were rolled back"
    assert any(name.startswith("results") or "run" in name for name in written), sorted(written)[:20]

    restored = tmp_path / "restored"
    assert load_once("snapshot-probe", restored, lambda: pytest.fail("loaded a second time")) == run_id
    assert table_contents() == after
    assert _files(restored) == written


def test_a_new_row_after_a_restore_gets_a_fresh_key(reference, data_dir, tmp_path):
    """The sequences are moved past the restored rows (PostgreSQL would otherwise hand out a taken key)."""
    from klimainnkjop.services.organisations import do_create_organisation

    def load():
        return do_create_organisation(orgnr="944117784", name="Kongsvinger kommune", kostra_region="0402",
                                      region_name="Kongsvingerregionen", actor="test").pk

    with transaction.atomic():
        first = load_once("snapshot-keys", data_dir, load)
        transaction.set_rollback(True)
    assert load_once("snapshot-keys", tmp_path / "again", lambda: pytest.fail("loaded a second time")) == first
    second = do_create_organisation(orgnr="964947082", name="Grue kommune", kostra_region="0402",
                                    region_name="Kongsvingerregionen", actor="test").pk
    assert second > first


def test_a_restore_never_moves_a_key_sequence_back_below_rows_outside_the_modules_transaction(
        reference, data_dir, tmp_path):
    """A module's transaction is rolled back, but PostgreSQL's sequences are not: a restore that set a sequence to
    its own rows' highest key left it below rows made before the module (a test's new rows then came before them,
    or took their keys)."""
    from klimainnkjop.services.organisations import do_create_organisation

    def create(orgnr: str):
        return do_create_organisation(orgnr=orgnr, name=f"Kommune {orgnr}", kostra_region="0402",
                                      region_name="Kongsvingerregionen", actor="test")

    with transaction.atomic():
        load_once("snapshot-forward", data_dir, lambda: create("944117784").pk)
        transaction.set_rollback(True)
    earlier = create("964947082")  # a row from before the module, as the reference data's are
    with transaction.atomic():  # the module: its restore, rolled back at its end
        load_once("snapshot-forward", tmp_path / "again", lambda: pytest.fail("loaded a second time"))
        transaction.set_rollback(True)
    assert create("974760673").pk > earlier.pk


def test_a_restore_after_the_reference_data_was_loaded_again_gives_back_the_keys_its_rows_point_to(
        reference, data_dir, tmp_path, reference_data_dir):
    """A transactional test empties the database and the reference data is loaded again with new keys; a
    snapshot taken before points to the old ones (a compute run to its factor sets), so those tables come back
    with it and every foreign key holds."""
    from django.core.management import call_command
    from django.db import connection

    from klimainnkjop.storage.models import FactorSet
    from tests.conftest import _load_reference

    with transaction.atomic():
        load_once("snapshot-reloaded", data_dir, _one_computed_organisation)
        after = table_contents()
        transaction.set_rollback(True)
    old_keys = set(FactorSet.objects.values_list("pk", flat=True))
    connection.check_constraints()  # PostgreSQL: fires the deferred checks pending, which TRUNCATE refuses to leave
    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)  # as a transactional test
    _load_reference(reference_data_dir)
    assert not old_keys & set(FactorSet.objects.values_list("pk", flat=True)), "the reload gave new keys"

    load_once("snapshot-reloaded", tmp_path / "again", lambda: pytest.fail("loaded a second time"))
    assert table_contents() == after
    connection.check_constraints()
