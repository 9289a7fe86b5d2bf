"""The reports' region shared by a module's tests (tests/conftest.py shared_accounts): a module that imports these
fixtures gets `accounts`, `org` and `other_org` from one load per process instead of one per test, each test in its
own savepoint. Only for modules whose tests read the account or write what is their own (report files are named
by their row's number, which a rolled-back test may hand to the next: such tests check their own file)."""
from __future__ import annotations

import pytest


@pytest.fixture
def accounts(shared_accounts, reference):
    return None


@pytest.fixture
def org(shared_accounts, db):
    from klimainnkjop.storage.models import Organisation

    return Organisation.objects.get(orgnr="944117784")


@pytest.fixture
def other_org(shared_accounts, db):
    from klimainnkjop.storage.models import Organisation

    return Organisation.objects.get(orgnr="964950113")
