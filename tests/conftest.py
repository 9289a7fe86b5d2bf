"""Shared fixtures. Each test gets its own data directory (line store, archive, results)."""
from __future__ import annotations

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
