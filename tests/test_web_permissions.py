"""Who gets what, for every URL pattern of the project.

EXPECTATIONS (tests/factories.py, as tests/test_web_factors.py reads it too) has a row per URL pattern (the full route as Django spells it) and request; each row gives the
status per kind of user. A pattern without a row fails the suite, so a new page cannot ship without a rule.
"""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.models import Membership
from tests.conftest import Shared, shared_state
from tests.factories import ALL_KINDS, EXPECTATIONS, LOGIN, LOGIN_REDIRECT, USER_KINDS, make_grue, make_kongsvinger


def all_routes(patterns=None, prefix: str = "") -> list[str]:
    patterns = get_resolver().url_patterns if patterns is None else patterns
    routes: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            routes += all_routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            routes.append(prefix + str(p.pattern))
    return routes


def without_rule(routes: list[str]) -> list[str]:
    return sorted(set(routes) - set(EXPECTATIONS))


def test_every_url_pattern_of_the_project_has_a_row_in_the_permission_table():
    routes = all_routes()
    missing = without_rule(routes)
    stale = sorted(set(EXPECTATIONS) - set(routes))
    assert not missing, f"URL patterns without a permission rule in EXPECTATIONS: {missing}"
    assert not stale, f"EXPECTATIONS names patterns that no longer exist: {stale}"
    for route, rows in EXPECTATIONS.items():
        for _method, _path, expected in rows:
            assert set(USER_KINDS) <= set(expected) <= set(ALL_KINDS), route


def test_a_new_page_without_a_rule_would_fail_the_permission_table_check():
    assert "" in all_routes() and "i18n/setlang/" in all_routes()  # nested includes are walked
    assert without_rule(all_routes() + ["new-page/<int:pk>/"]) == ["new-page/<int:pk>/"]


@pytest.fixture(scope="module")
def shared_people(request):
    """Two organisations, an (empty) computed account, so the pages render their full layout, and a person of
    each kind: made once for the module (tests/conftest.py shared_state); each case's changes are undone."""

    with shared_state(request, "permissions") as path:
        org, other_org = make_kongsvinger(), make_grue()
        do_compute(actor="test")
        users = get_user_model().objects

        def person(name, organisation, role):
            user = users.create_user(username=name, password="a-long-test-password")
            Membership.objects.create(user=user, organisation=organisation, role=role)
            return user

        yield Shared(path, {
            "anonymous": None,
            "region_admin": person("admin", org, "region-admin"),
            "reader_own": person("kongsvinger-reader", org, "reader"),
            "reader_other": person("grue-reader", other_org, "reader"),
            "org_admin_own": person("kongsvinger-admin", org, "org-admin"),
            "auditor_own": person("kongsvinger-auditor", org, "auditor"),
        })


CASES = [(route, method, path, kind, expected)
         for route, rows in EXPECTATIONS.items() for method, path, table in rows for kind, expected in table.items()]


@pytest.mark.django_db
@pytest.mark.parametrize("route,method,path,kind,expected", CASES,
                         ids=[f"{c[1]} {c[2]} as {c[3]}" for c in CASES])
def test_each_kind_of_user_gets_the_status_the_permission_table_says(shared_people, client, route, method, path,
                                                                       kind, expected):
    people = shared_people.value
    if people[kind] is not None:
        client.force_login(people[kind])
    data = {"language": "en", "next": "/"} if route == "i18n/setlang/" else {}
    response = getattr(client, method)(path, data)
    if expected == LOGIN_REDIRECT:
        assert response.status_code == 302, (path, kind, response.status_code)
        assert response["Location"].startswith(LOGIN + "?next="), response["Location"]
    else:
        assert response.status_code == expected, (path, kind, response.status_code)
