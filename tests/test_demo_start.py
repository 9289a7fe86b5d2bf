"""The demo on a data directory that has organisations already but no demo (a database of its own: the other
demo tests share one loaded region, tests/conftest.py shared_demo)."""
from __future__ import annotations

import pytest

from klimainnkjop.demo.load import DEMO_PASSWORD, DEMO_USERNAME, do_load_demo
from tests.conftest import DEMO


@pytest.mark.django_db
def test_if_empty_creates_the_demo_user_when_organisations_exist_without_it():
    from django.contrib.auth import get_user_model

    from klimainnkjop.services.organisations import do_create_organisation

    do_create_organisation(orgnr="944117784", name="Kongsvinger kommune", kostra_region="3401", actor="test")
    result = do_load_demo(**DEMO, actor="test", if_empty=True)
    assert get_user_model().objects.filter(username=DEMO_USERNAME).exists()
    assert DEMO_PASSWORD in result.summary()
