"""Shared fixtures. Each test gets its own data directory (line store, archive, results)."""
from __future__ import annotations

import os

import pytest

from klimainnkjop.paths import ENV_VAR


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "var"
    monkeypatch.setenv(ENV_VAR, str(path))
    return path


@pytest.fixture
def reference(db):
    from klimainnkjop.services.reference import do_load_reference_data

    return do_load_reference_data(actor="test")


@pytest.fixture
def org(db):
    from klimainnkjop.services.organisations import do_create_organisation

    return do_create_organisation(orgnr="944117784", name="Kongsvinger kommune", kostra_region="0402",
                                  region_name="Kongsvingerregionen", actor="test")


@pytest.fixture
def other_org(db):
    from klimainnkjop.services.organisations import do_create_organisation

    return do_create_organisation(orgnr="964950113", name="Grue kommune", kostra_region="0423",
                                  region_name="Kongsvingerregionen", actor="test")


@pytest.fixture
def separate_database(monkeypatch):
    """On PostgreSQL, each CLI test gets a database of its own (the CLI is another process)."""
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
    yield
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def immediate_jobs(settings):
    """Background jobs (django-tasks) run inline, in the test's transaction; tests/test_report_jobs.py switches
    to the database queue where it tests the worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
