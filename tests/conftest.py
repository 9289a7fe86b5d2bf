"""Shared fixtures. Each test gets its own data directory (line store, archive, results).

What is expensive is made once per session and reused (tests/README section "Speed" in the project README):
the reference data is loaded into each test database once, before the first test, and every test's
transaction is rolled back over it; passwords are hashed with a fast hasher (the Argon2 setting keeps its own
test); the CLI runs in this process (`run_cli`) unless the process boundary is what a test is about.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from klimainnkjop.paths import ENV_VAR

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The engine's compiled plans kept across the session's processes and runs (engine.runner.ENV_PLAN_CACHE): each
# variant of a plan takes ibis about half a second to build and compile, once per process without this; the
# folder's entries are keyed by a hash of the engine's code, so a changed engine compiles afresh
os.environ.setdefault("KLIMAINNKJOP_PLAN_CACHE", str(Path(tempfile.gettempdir()) / f"klimainnkjop-plans-{os.getuid()}"))


@contextlib.contextmanager
def data_dir_at(path):
    """KLIMAINNKJOP_DATA_DIR set to path for the duration (for session and module fixtures)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, str(path))
        yield path


# The fixtures through which a test reaches the database (pytest-django refuses it to any other test)
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences",
                     "django_db_serialized_rollback", "separate_database"}


def reaches_the_database(item) -> bool:
    """Whether a test can reach the database: through a database fixture (or the django_db mark), a shared module
    fixture (`shared_*`, made inside the database), or a process it starts (its module uses subprocess)."""
    names = set(getattr(item, "fixturenames", ()))
    if names & DATABASE_FIXTURES or any(n.startswith("shared_") for n in names) \
            or item.get_closest_marker("django_db") is not None:
        return True
    source = getattr(getattr(item, "module", None), "__file__", None)
    return source is None or _starts_processes(source)


@functools.cache
def _starts_processes(source: str) -> bool:
    """Whether a test module starts processes (read once per module, not once per test)."""
    return "subprocess" in Path(source).read_text(encoding="utf-8")


def pytest_collection_modifyitems(config, items):
    """KLIMAINNKJOP_TESTS_DATABASE_ONLY=1 (.ci/run's second run, on PostgreSQL): only the tests that can reach the
    database. The others cannot tell one database from the other, and the first run (SQLite) ran them."""
    if os.environ.get("KLIMAINNKJOP_TESTS_DATABASE_ONLY") != "1":
        return
    kept = [item for item in items if reaches_the_database(item)]
    chosen = set(map(id, kept))
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in chosen])
    items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Fixtures build their data as the operator, without a scope (the setup of a yielding fixture up to its yield;
    its teardown says for itself); the tests themselves do not: a query of an organisation-bound model in a test body
    needs a scope, as in the product (README: Design, scoped by default)."""
    from django_scopes import scopes_disabled

    with scopes_disabled():
        yield


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Argon2 costs about 0.1-0.4 s per hash; the tests hash hundreds of passwords. tests/test_auth.py checks
    that the product's own setting is Argon2id."""
    from django.conf import settings
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=FAST_HASHERS + list(settings.PASSWORD_HASHERS)):
        yield


@pytest.fixture(autouse=True)
def english_outside_requests():
    """A service speaks the language of the face that asks (core/errors.InvalidInput): a test that calls it directly
    speaks English, as the CLI does; a request through the test client runs in the language its middleware picks,
    bokmål by default, as the web does (and leaves the thread in it: English is put back when it finishes)."""
    from django.core.signals import request_finished
    from django.utils import translation

    def back_to_english(**_kwargs):
        translation.activate("en")

    request_finished.connect(back_to_english, dispatch_uid="tests-english-outside-requests")
    try:
        with translation.override("en"):
            yield
    finally:
        request_finished.disconnect(dispatch_uid="tests-english-outside-requests")


@pytest.fixture(scope="session", autouse=True)
def train_each_example_set_once():
    """Training the text model is deterministic (TF-IDF + logistic regression with lbfgs) and takes about 3 s of CPU;
    the tests retrain on the same shipped labelled set many times. The fitted model is reused for the same examples
    (text, category, weight) within a process; other examples (a correction added) train anew."""
    from klimainnkjop.ml import textmodel

    real, fitted = textmodel.train, {}

    def train(examples):
        key = tuple((e.text, e.category, e.weight) for e in examples)
        if key not in fitted:
            fitted[key] = real(examples)
        return fitted[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(textmodel, "train", train)
        yield


@pytest.fixture(scope="session")
def reference_data_dir(tmp_path_factory):
    """The data directory the session's reference data was loaded with (its archive of the shipped files)."""
    return tmp_path_factory.mktemp("reference") / "var"


def _load_reference(reference_data_dir):
    from klimainnkjop.services.reference import do_load_reference_data

    from django_scopes import scopes_disabled

    with data_dir_at(reference_data_dir), scopes_disabled():
        do_load_reference_data(actor="test")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, reference_data_dir):
    """The reference data (categories, mappings, factor sets, prices, rates) is loaded once into each test
    database; tests run in a transaction that is rolled back, so it stays as shipped. Automatic computing is off
    for the session (a committed change would queue a compute run, services/autocompute.py); tests/test_autocompute.py
    turns it on."""
    from django.conf import settings

    settings.KLIMAINNKJOP_AUTO_COMPUTE = False
    with django_db_blocker.unblock():
        _load_reference(reference_data_dir)


@pytest.fixture(autouse=True)
def _reference_data_after_a_flush(request, django_db_blocker, reference_data_dir):
    """A transactional test (live_server, transaction=True) empties the database when it ends; the reference
    data is loaded again for the tests after it."""
    yield
    marker = request.node.get_closest_marker("django_db")
    flushed = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction"))
    if flushed:
        from klimainnkjop.storage.models import FactorSet

        with django_db_blocker.unblock():
            if not FactorSet.objects.exists():
                _load_reference(reference_data_dir)


@dataclass
class Shared:
    """What a module-scoped fixture named `shared_*` made once for the tests of its module, and the data
    directory that its files are in (the tests that use it get that directory as theirs)."""
    data_dir: Path
    value: Any


@contextlib.contextmanager
def shared_state(request, name: str):
    """For a module-scoped `shared_*` fixture: yields a fresh data directory (with the reference data's archived
    files) inside a database transaction that is rolled back when the module's tests are done. Each test runs
    in a savepoint within it (pytest-django's db fixture), so what one test changes in the database is undone
    before the next; files it writes stay, so such tests only read or write what is theirs."""
    from django.db import transaction

    from klimainnkjop.storage.models import FactorSet

    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    reference_dir = request.getfixturevalue("reference_data_dir")
    with blocker.unblock():
        if not FactorSet.objects.exists():  # a transactional test before this module emptied the database
            _load_reference(reference_dir)
    path = request.getfixturevalue("tmp_path_factory").mktemp(name) / "var"
    shutil.copytree(reference_dir / "archive", path / "archive")
    with blocker.unblock(), data_dir_at(path), transaction.atomic():
        yield path
        transaction.set_rollback(True)


DEMO = {"scale": 0.005, "seed": 7, "today": dt.date(2026, 11, 15)}  # the demo region most tests read


@dataclass
class Snapshot:
    """What a load wrote: the full rows of every table it changed (by model), a copy of its data directory, and
    the rows of the tables it read but left alone (the reference data its rows point to)."""
    rows: dict[type, list[tuple]]
    files: Path
    value: Any
    unchanged: dict[type, list[tuple]]


_SNAPSHOTS: dict[tuple[str, str], Snapshot] = {}  # per process: (database vendor, name) → what the load wrote


def _models():
    from django.apps import apps

    return [m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy and m._meta.managed]


def _rows(model) -> list[tuple]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return list(model._base_manager.order_by("pk").values_list(*fields))


def table_contents() -> dict[type, list[tuple]]:
    """Every row of every table, by model: what a snapshot must give back exactly (tests/test_snapshots.py)."""
    return {model: _rows(model) for model in _models()}


def _signature(model) -> tuple:
    from django.db.models import Count, Max, Min

    found = model._base_manager.aggregate(n=Count("pk"), low=Min("pk"), high=Max("pk"))
    return found["n"], found["low"], found["high"]


def _signature_of(model, rows: list[tuple]) -> tuple:
    at = [f.attname for f in model._meta.concrete_fields].index(model._meta.pk.attname)
    keys = [row[at] for row in rows]
    return len(keys), min(keys, default=None), max(keys, default=None)


def _restore(snapshot: Snapshot, path: Path) -> None:
    """Puts back what the load wrote, inside the module's transaction: each table it changed emptied and filled
    with the rows it had after the load (foreign keys are checked at commit, which never comes), the sequences
    moved past them, and its files copied into the module's data directory."""
    from django.db import connection

    tables = dict(snapshot.rows)
    for model, rows in snapshot.unchanged.items():
        # A transactional test flushes the database and the reference data is loaded again with new keys
        # (PostgreSQL's sequences go on): the snapshot's rows point to the old keys, so those tables come back too.
        if _signature(model) != _signature_of(model, rows):
            tables[model] = rows
    for model, rows in tables.items():
        model._base_manager.all()._raw_delete(connection.alias)
        fields = model._meta.concrete_fields
        stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
        try:
            for field in stamped:  # keep the load's own timestamps
                field.auto_now = field.auto_now_add = False
            model._base_manager.bulk_create(
                [model(**dict(zip([f.attname for f in fields], row, strict=True))) for row in rows], batch_size=500)
        finally:
            for field, now, now_add in saved:
                field.auto_now, field.auto_now_add = now, now_add
    _move_sequences_past(list(tables))
    shutil.copytree(snapshot.files, path, dirs_exist_ok=True)


def _move_sequences_past(models: list) -> None:
    """Each model's key sequence past its rows, never back. PostgreSQL's setval is not undone by a rollback: moved
    to the restored rows' highest key, a sequence would stay there after the module's rollback and hand out keys
    below rows committed before it (reordering "the newest" by key, or taking a key in use). SQLite needs
    nothing: an AUTOINCREMENT key's counter (sqlite_sequence) follows the keys inserted, and rolls back with the
    transaction."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            table, key = model._meta.db_table, model._meta.pk.column
            cursor.execute(
                f"SELECT setval(s, greatest((SELECT coalesce(max({connection.ops.quote_name(key)}), 0) FROM "
                f"{connection.ops.quote_name(table)}), coalesce(pg_sequence_last_value(s), 0), 1)) "
                "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS s) q WHERE s IS NOT NULL",
                [connection.ops.quote_name(table), key])


def load_once(name: str, path: Path, load) -> Any:
    """Runs load() (which writes to the database and the data directory `path`) the first time in a process and
    snapshots what it wrote; later calls (other modules' shared fixtures, each in its own rolled-back transaction
    and data directory) restore the snapshot instead of loading again: the demo region took about a minute to
    generate, import and compute, restoring it takes seconds. The load must not depend on the data directory's
    path (paths in the database are relative to it)."""
    from django.db import connection

    key = (connection.vendor, name)
    if key in _SNAPSHOTS:
        _restore(_SNAPSHOTS[key], path)
        return _SNAPSHOTS[key].value
    before = table_contents()
    value = load()
    after = table_contents()
    changed = {model: rows for model, rows in after.items() if rows != before[model]}
    unchanged = {model: rows for model, rows in after.items() if model not in changed and rows}
    files = Path(tempfile.mkdtemp(prefix=f"{name}-snapshot-", dir=path.parent.parent)) / "var"
    shutil.copytree(path, files)
    _SNAPSHOTS[key] = Snapshot(changed, files, value, unchanged)
    return value


@pytest.fixture(scope="module")
def shared_demo(request):
    """The demo region (DEMO) generated, imported and computed once per process (load_once): (LoadResult,
    progress messages). The tests that use it read it, or load it again inside their own savepoint."""
    from klimainnkjop.demo.load import do_load_demo

    def load():
        messages: list[str] = []
        result = do_load_demo(**DEMO, actor="test", progress=messages.append)
        return result, messages

    with shared_state(request, "demo") as path:
        yield Shared(path, load_once("demo", path, load))


@pytest.fixture(autouse=True)
def data_dir(request, tmp_path, monkeypatch):
    """The test's data directory: its own, or the one of the shared_* module fixture it uses."""
    shared = sorted(name for name in request.fixturenames if name.startswith("shared_"))
    path = request.getfixturevalue(shared[0]).data_dir if shared else tmp_path / "var"
    monkeypatch.setenv(ENV_VAR, str(path))
    return path


@pytest.fixture
def reference(db, data_dir, reference_data_dir):
    """The shipped reference data (loaded once per session), with its archived files in this test's data
    directory; returns the default spend factor set."""
    from klimainnkjop.services.compute import default_factor_set
    from klimainnkjop.storage.models import FactorSet

    if not FactorSet.objects.exists():
        _load_reference(reference_data_dir)
    shutil.copytree(reference_data_dir / "archive", data_dir / "archive", dirs_exist_ok=True)
    return default_factor_set()


@pytest.fixture
def org(db):
    from tests.factories import make_kongsvinger

    return make_kongsvinger()


@pytest.fixture
def other_org(db):
    from tests.factories import make_grue

    return make_grue()


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, stdin: str | None = None) -> CliResult:
    """`klimainnkjop ARGS` in this process, in the test's database transaction and data directory, with its
    output captured (as subprocess.run would give it). Tests about the process itself start a real one."""
    from klimainnkjop.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_stdin, saved_data_dir = sys.stdin, os.environ.get(ENV_VAR)
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse's own usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:  # --data-dir sets the environment variable for the process; the test's own comes back
        sys.stdin = saved_stdin
        if saved_data_dir is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = saved_data_dir
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def separate_database(monkeypatch):
    """On PostgreSQL, a test that starts the CLI as another process gives it a database of its own."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield
        return
    import uuid

    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"klimainnkjop_cli_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("DATABASE_URL", f"{base}/{name}")
    yield f"{base}/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def immediate_jobs(settings):
    """Background jobs (django-tasks) run inline, in the test's transaction; tests/test_report_jobs.py switches
    to the database queue where it tests the worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # a change of the data queues a compute once committed (services/autocompute.py): off where a test commits
    # (live-server tests), on in tests/test_autocompute.py
    settings.KLIMAINNKJOP_AUTO_COMPUTE = False


@pytest.fixture
def region_data(reference, org, other_org):
    """Two organisations with the web tests' ledgers (tests/factories.py KONGSVINGER_CSV, GRUE_CSV), computed."""
    from klimainnkjop.services.compute import do_compute
    from tests.factories import GRUE_CSV, KONGSVINGER_CSV, WEB_PROFILE, import_ledger

    import_ledger(org, KONGSVINGER_CSV, "kongsvinger-2024.csv", profile=WEB_PROFILE)
    import_ledger(other_org, GRUE_CSV, "grue-2024.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    return org, other_org


@pytest.fixture
def admin_client(client, org):
    """A client signed in as a region administrator of `org` (in place of pytest-django's superuser client)."""
    from tests.factories import make_user

    client.force_login(make_user("regionadmin", org, "region-admin"))
    return client


def load_accounts(org, other_org) -> None:
    """The reports' region (factories.REPORTS_*): two ledgers and a KOSTRA year of Kongsvinger, computed."""
    from klimainnkjop.services.compute import do_compute
    from klimainnkjop.services.imports import do_import_kostra
    from tests.factories import REPORTS_GRUE_CSV, REPORTS_KONGSVINGER_CSV, WEB_PROFILE, import_ledger, kostra_file, record

    import_ledger(org, REPORTS_KONGSVINGER_CSV, "kongsvinger.csv", profile=WEB_PROFILE)
    import_ledger(other_org, REPORTS_GRUE_CSV, "grue.csv", profile=WEB_PROFILE)
    # 2023: only KOSTRA annual figures (month 0) for Kongsvinger
    do_import_kostra(data=kostra_file(record(year=2023, art="115", kr=14582), record(year=2023, art="190", kr=3106)),
                     file_name="kostra-2023.dat", organisation=org, actor="test")
    do_compute(actor="test")


@pytest.fixture
def accounts(reference, org, other_org):
    """The reports' region, made for the test (load_accounts); tests/shared_accounts.py shares it in a module."""
    load_accounts(org, other_org)


@pytest.fixture(scope="module")
def shared_accounts(request):
    """The reports' region (load_accounts, with the `org` and `other_org` fixtures' organisations) made once per
    process (load_once) for a module that imports tests/shared_accounts.py's fixtures."""
    with shared_state(request, "accounts") as path:
        from tests.factories import make_grue, make_kongsvinger

        yield Shared(path, load_once("accounts", path, lambda: load_accounts(make_kongsvinger(), make_grue())))


@pytest.fixture
def report_people(accounts):
    """A person of each kind in the reports' region: region and organisation administrators, a reader, Grue's
    administrator and a unit leader of Kongsvinger's unit 1100."""
    from django.contrib.auth import get_user_model

    from klimainnkjop.storage.models import Membership, Organisation, Unit
    from tests.factories import GRUE, KONGSVINGER

    users = get_user_model().objects
    kongsvinger = Organisation.objects.get(orgnr=KONGSVINGER)
    grue = Organisation.objects.get(orgnr=GRUE)

    def person(name, organisation, role, unit=None):
        user = users.create_user(username=name, password="a-long-test-password")
        Membership.objects.create(user=user, organisation=organisation, role=role, unit=unit)
        return user

    return {"region_admin": person("admin", kongsvinger, "region-admin"),
            "org_admin": person("k-admin", kongsvinger, "org-admin"),
            "reader": person("k-reader", kongsvinger, "reader"),
            "grue_admin": person("g-admin", grue, "org-admin"),
            "unit_leader": person("k-1100", kongsvinger, "unit-leader",
                                  Unit.objects.get(organisation=kongsvinger, code="1100"))}


@pytest.fixture(autouse=True)
def strict_audit_actions(settings):
    """An audit entry with an action that is not in core/audit_actions.Action fails the test (issue 17 item 3)."""
    settings.KLIMAINNKJOP_STRICT_AUDIT_ACTIONS = True
