"""Who gets what, for every URL pattern of the project.

EXPECTATIONS has a row per URL pattern (the full route as Django spells it) and request; each row gives the
status per kind of user. A pattern without a row fails the suite, so a new page cannot ship without a rule.
"""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

from klimainnkjop.services.compute import do_compute
from klimainnkjop.storage.models import Membership
from tests.conftest import Shared, shared_state

KONGSVINGER = "944117784"
GRUE = "964950113"
LOGIN = "/logg-inn/"

USER_KINDS = ["anonymous", "region_admin", "reader_own", "reader_other"]
# reader_own reads Kongsvinger (the organisation in the URLs below); reader_other reads Grue only.
# Rows may also say what these get (the administration and audit rows do): an org-admin and an auditor of
# Kongsvinger.
EXTRA_KINDS = ["org_admin_own", "auditor_own"]
ALL_KINDS = USER_KINDS + EXTRA_KINDS
FORBIDDEN = 403

OK, LOGIN_REDIRECT, NOT_FOUND, REDIRECT, NOT_ALLOWED = 200, "login", 404, 302, 405
BAD_REQUEST = 400

# route -> list of (method, path, {user kind: expected}); expected is a status or "login" (302 to the login page)
EXPECTATIONS: dict[str, list[tuple[str, str, dict[str, object]]]] = {
    "": [
        ("get", "/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/?periode=2024T2", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                     "reader_other": OK}),
        ("get", "/?periode=tjuetjuefem", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                          "reader_own": BAD_REQUEST, "reader_other": BAD_REQUEST}),
    ],
    "org/<str:orgnr>/": [
        ("get", f"/org/{KONGSVINGER}/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{GRUE}/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND, "reader_other": OK}),
        ("get", "/org/999999999/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", "/org/not-a-number/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/?periode=2024H1",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/?periode=2024H3",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/linjer/": [  # the drill-down list (scoped like the dashboard; tests/test_web_dashboards.py)
        ("get", f"/org/{KONGSVINGER}/linjer/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?periode=2024Q2&kategori=goods.office&metode=spend&sortering=belop",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?format=csv",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?periode=2024Q5",  # a bad period is a message, not a 500
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/linjer/?metode=magic",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": NOT_FOUND}),
        ("get", "/org/999999999/linjer/", {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND,
                                           "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/enhet/<str:unit>/": [  # a unit dashboard (units exist once imported: test_web_dashboards.py)
        ("get", f"/org/{KONGSVINGER}/enhet/no-such-unit/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND,
          "reader_other": NOT_FOUND}),
    ],
    "faktorer/": [
        ("get", "/faktorer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/faktorer/?q=mat&side=2",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/faktorer/?sett=no-such-set:1",  # a bad choice is a form error, not a 500
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": BAD_REQUEST}),
    ],
    "faktorer/<int:pk>/": [
        # the factor library is shared reference data (its usage list is scoped: tests/test_web_factors.py)
        ("get", "/faktorer/999999999/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", "/faktorer/not-a-number/", {k: NOT_FOUND for k in USER_KINDS}),
    ],
    "metode/": [
        ("get", "/metode/", {k: OK for k in USER_KINDS}),  # public: the method is no secret
    ],
    "sammenligning/": [
        ("get", "/sammenligning/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("get", "/sammenligning/?a=x&b=999999999",
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": BAD_REQUEST,
          "reader_other": BAD_REQUEST}),
    ],
    "logg-inn/": [
        ("get", LOGIN, {"anonymous": OK, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
    ],
    "logg-ut/": [
        ("post", "/logg-ut/", {k: REDIRECT for k in USER_KINDS}),
        ("get", "/logg-ut/", {k: NOT_ALLOWED for k in USER_KINDS}),  # logging out takes a POST form
    ],
    "i18n/setlang/": [
        ("post", "/i18n/setlang/", {k: REDIRECT for k in USER_KINDS}),  # anyone may choose a language
    ],
    # --- administration (views_admin.py): 404 outside the scope, 403 where seen but not administered ----------
    "organisasjoner/": [
        ("get", "/organisasjoner/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
    ],
    "organisasjoner/ny/": [
        ("get", "/organisasjoner/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN,
                                        "reader_other": FORBIDDEN, "org_admin_own": FORBIDDEN,
                                        "auditor_own": FORBIDDEN}),
        ("post", "/organisasjoner/ny/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                         "reader_own": FORBIDDEN, "reader_other": FORBIDDEN,
                                         "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
    ],
    "org/<str:orgnr>/endre/": [
        ("get", f"/org/{KONGSVINGER}/endre/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN,
                                               "reader_other": NOT_FOUND, "org_admin_own": FORBIDDEN,
                                               "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/endre/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                "org_admin_own": FORBIDDEN, "auditor_own": FORBIDDEN}),
        ("get", "/org/999999999/endre/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
    ],
    "org/<str:orgnr>/enheter/": [
        ("get", f"/org/{KONGSVINGER}/enheter/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                 "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                 "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/enheter/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND,
                                          "reader_other": FORBIDDEN, "org_admin_own": NOT_FOUND,
                                          "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/enheter/<int:pk>/endre/": [
        ("get", f"/org/{KONGSVINGER}/enheter/999999/endre/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{GRUE}/enheter/999999/endre/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/personer/": [
        ("get", f"/org/{KONGSVINGER}/personer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                  "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                  "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/personer/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                   "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                   "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/personer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND,
                                           "reader_other": FORBIDDEN, "org_admin_own": NOT_FOUND,
                                           "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/personer/<int:pk>/fjern/": [
        ("post", f"/org/{KONGSVINGER}/personer/999999/fjern/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{KONGSVINGER}/personer/999999/fjern/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),  # a change takes a POST
    ],
    "org/<str:orgnr>/invitasjoner/": [
        ("get", f"/org/{KONGSVINGER}/invitasjoner/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                      "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                      "org_admin_own": OK, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/invitasjoner/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                       "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                       "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{GRUE}/invitasjoner/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                               "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
                                               "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/invitasjoner/<int:pk>/trekk-tilbake/": [
        ("post", f"/org/{KONGSVINGER}/invitasjoner/999999/trekk-tilbake/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("get", f"/org/{KONGSVINGER}/invitasjoner/999999/trekk-tilbake/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "org/<str:orgnr>/importer/": [
        ("get", f"/org/{KONGSVINGER}/importer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK,
                                                  "reader_other": NOT_FOUND, "org_admin_own": OK, "auditor_own": OK}),
        ("get", f"/org/{GRUE}/importer/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND,
                                           "reader_other": OK, "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    "org/<str:orgnr>/importer/<int:pk>/slett/": [
        # can_import: org-admin, finance, purchaser and region-admin (an existing batch: tests/test_web_admin.py)
        ("get", f"/org/{KONGSVINGER}/importer/999999/slett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
        ("post", f"/org/{KONGSVINGER}/importer/999999/slett/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": NOT_FOUND, "auditor_own": FORBIDDEN}),
    ],
    "revisjonslogg/": [
        ("get", "/revisjonslogg/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                    **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?format=csv", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                               **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?format=json", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?format=xml", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                               **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
        ("get", "/revisjonslogg/?handling=no-such-action", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                                            **{k: FORBIDDEN for k in ALL_KINDS[2:]}}),
    ],
    "org/<str:orgnr>/revisjonslogg/": [
        ("get", f"/org/{KONGSVINGER}/revisjonslogg/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                       "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
                                                       "org_admin_own": FORBIDDEN, "auditor_own": OK}),
        ("get", f"/org/{KONGSVINGER}/revisjonslogg/?format=csv",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": FORBIDDEN, "reader_other": NOT_FOUND,
          "org_admin_own": FORBIDDEN, "auditor_own": OK}),
        ("get", f"/org/{GRUE}/revisjonslogg/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK,
                                                "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
                                                "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
        ("get", f"/org/{GRUE}/revisjonslogg/?format=json",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": NOT_FOUND, "reader_other": FORBIDDEN,
          "org_admin_own": NOT_FOUND, "auditor_own": NOT_FOUND}),
    ],
    # --- sign-in second factor, own account, invitations (views_account.py) ------------------------------------
    "logg-inn/totp/": [
        ("get", "/logg-inn/totp/", {k: REDIRECT for k in ALL_KINDS}),  # without a password step first: to login
    ],
    "meg/": [
        ("get", "/meg/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
    ],
    "meg/totp/ny/": [
        ("post", "/meg/totp/ny/", {"anonymous": LOGIN_REDIRECT, **{k: REDIRECT for k in ALL_KINDS[1:]}}),
        ("get", "/meg/totp/ny/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "meg/totp/bekreft/": [
        ("post", "/meg/totp/bekreft/", {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "meg/totp/fjern/": [
        ("post", "/meg/totp/fjern/", {"anonymous": LOGIN_REDIRECT, **{k: BAD_REQUEST for k in ALL_KINDS[1:]}}),
    ],
    "invitasjon/<str:token>/": [
        ("get", "/invitasjon/not-a-token/", {k: NOT_FOUND for k in ALL_KINDS}),
        ("post", "/invitasjon/not-a-token/", {k: NOT_FOUND for k in ALL_KINDS}),
    ],
}

# Reports, publishing and the public page (org-admin and scoped downloads: tests/test_web_public.py)
EXPECTATIONS.update({
    "rapporter/": [
        ("get", "/rapporter/", {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": OK}),
        ("post", "/rapporter/",  # an empty form is a form error
         {"anonymous": LOGIN_REDIRECT, "region_admin": 400, "reader_own": 400, "reader_other": 400}),
    ],
    "rapporter/<int:pk>/last-ned/": [
        ("get", "/rapporter/999999999/last-ned/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "rapporter/status/": [  # the archive list the reports page polls; scoped like the page (test_report_jobs.py)
        ("get", "/rapporter/status/", {"anonymous": LOGIN_REDIRECT, **{k: OK for k in ALL_KINDS[1:]}}),
    ],
    "rapporter/planer/": [  # adding a report schedule: administrators only; an empty form is a form error
        ("post", "/rapporter/planer/", {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST,
                                        "reader_own": FORBIDDEN, "reader_other": FORBIDDEN,
                                        "org_admin_own": BAD_REQUEST, "auditor_own": FORBIDDEN}),
        ("get", "/rapporter/planer/", {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "rapporter/planer/<int:pk>/slett/": [  # removing one (real schedules: tests/test_report_jobs.py)
        ("post", "/rapporter/planer/999999999/slett/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_FOUND for k in ALL_KINDS[1:]}}),
        ("get", "/rapporter/planer/999999999/slett/",
         {"anonymous": LOGIN_REDIRECT, **{k: NOT_ALLOWED for k in ALL_KINDS[1:]}}),
    ],
    "org/<str:orgnr>/publiser/": [
        ("post", f"/org/{KONGSVINGER}/publiser/",  # no year: nothing published
         {"anonymous": LOGIN_REDIRECT, "region_admin": 400, "reader_own": 403, "reader_other": NOT_FOUND}),
        ("get", f"/org/{KONGSVINGER}/publiser/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_ALLOWED, "reader_own": NOT_ALLOWED,
          "reader_other": NOT_ALLOWED}),
    ],
    # the public page shows published figures only; nothing is published here
    "offentlig/": [("get", "/offentlig/", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/data.csv": [("get", "/offentlig/data.csv", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/data.json": [("get", "/offentlig/data.json", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/<str:orgnr>/": [("get", f"/offentlig/{KONGSVINGER}/", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/<str:orgnr>/data.csv": [("get", f"/offentlig/{KONGSVINGER}/data.csv", {k: NOT_FOUND for k in USER_KINDS})],
    "offentlig/<str:orgnr>/data.json": [
        ("get", f"/offentlig/{KONGSVINGER}/data.json", {k: NOT_FOUND for k in USER_KINDS})],
})

# The review queue and the explanation of one line (purchasers and lines: tests/test_web_review.py)
EXPECTATIONS.update({
    "org/<str:orgnr>/gjennomgang/": [
        ("get", f"/org/{KONGSVINGER}/gjennomgang/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": OK, "reader_own": OK, "reader_other": NOT_FOUND}),
        ("post", f"/org/{KONGSVINGER}/gjennomgang/",  # no line chosen: a form error; a reader may not change
         {"anonymous": LOGIN_REDIRECT, "region_admin": BAD_REQUEST, "reader_own": 403, "reader_other": NOT_FOUND}),
        ("get", "/org/999999999/gjennomgang/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
    "org/<str:orgnr>/linje/<str:line_key>/": [
        ("get", f"/org/{KONGSVINGER}/linje/no-such-line/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
        ("get", f"/org/{GRUE}/linje/no-such-line/",
         {"anonymous": LOGIN_REDIRECT, "region_admin": NOT_FOUND, "reader_own": NOT_FOUND, "reader_other": NOT_FOUND}),
    ],
})


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
    from klimainnkjop.services.organisations import do_create_organisation

    with shared_state(request, "permissions") as path:
        org = do_create_organisation(orgnr=KONGSVINGER, name="Kongsvinger kommune", kostra_region="0402",
                                     region_name="Kongsvingerregionen", actor="test")
        other_org = do_create_organisation(orgnr=GRUE, name="Grue kommune", kostra_region="0423",
                                           region_name="Kongsvingerregionen", actor="test")
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
