"""The PostgreSQL run of .ci/run (KLIMAINNKJOP_TESTS_DATABASE_ONLY=1) keeps every test that can reach the database
(tests/conftest.py reaches_the_database) and leaves out only those that cannot tell one database from the other."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.conftest import reaches_the_database

TESTS = Path(__file__).resolve().parent


def item(fixtures=(), marked=False, module="test_values.py"):
    return SimpleNamespace(fixturenames=list(fixtures), module=SimpleNamespace(__file__=str(TESTS / module)),
                           get_closest_marker=lambda name: object() if marked and name == "django_db" else None)


def test_a_test_with_a_database_fixture_or_mark_or_a_shared_fixture_is_kept():
    for fixtures in (["db"], ["tmp_path", "transactional_db"], ["live_server"], ["separate_database"],
                     ["shared_demo"], ["client", "db"]):
        assert reaches_the_database(item(fixtures)), fixtures
    assert reaches_the_database(item(marked=True))


def test_a_test_whose_module_starts_processes_is_kept_and_a_pure_one_is_left_out():
    for module in ("test_cli.py", "test_end_to_end.py", "test_serving.py", "test_auth.py"):  # start the product
        assert reaches_the_database(item(["tmp_path"], module=module)), module
    for module in ("test_values.py", "test_ehf_rule_stylesheets.py", "test_ledger_ingest.py"):
        assert not reaches_the_database(item(["tmp_path"], module=module)), module
