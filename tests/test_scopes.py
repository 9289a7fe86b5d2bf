"""Scoped by default (issue 17 item 4): an organisation-bound model refuses a query outside a scope, and inside one a
query that forgot its filter sees only the scope's organisations; the predicates of access.py take actors; of the
system actors only the operator's may walk a procurement case."""
from __future__ import annotations

import functools

import pytest
from django_scopes import ScopeError

from klimainnkjop import access
from klimainnkjop.core.actors import ANONYMOUS, API, CLI, DEMO, SCHEDULER, WORKER, Actor
from klimainnkjop.storage import models
from tests.factories import make_user

SCOPED = ["PackageAdoption", "ClimateBudget", "ProcurementCase", "CaseEvent", "Upload", "ConstructionProject",
          "ClimateCalculation", "ClimateCalculationRow", "ApiToken", "ImportBatch", "MappingProfile",
          "SupplierStatsProfile"]


@pytest.fixture
def tokens(org, other_org):
    """An API token of each organisation (built as the operator, like every fixture's data); the secrets."""
    from klimainnkjop.services.api_tokens import do_create_api_token

    _, kongsvinger = do_create_api_token(organisation=org, name="kongsvinger-bi", scopes=["read"], actor=CLI)
    _, grue = do_create_api_token(organisation=other_org, name="grue-bi", scopes=["read"], actor=CLI)
    return org, other_org, kongsvinger, grue


@pytest.mark.django_db
@pytest.mark.parametrize("name", SCOPED)
def test_a_query_of_an_organisation_bound_model_outside_any_scope_raises_a_scope_error(name):
    manager = getattr(models, name).objects
    with pytest.raises(ScopeError):
        manager.count()
    with pytest.raises(ScopeError):
        list(manager.filter(pk=1))
    assert list(manager.none()) == []  # the one query that needs no scope


# what django-scopes' own DisabledQuerySet lets through unfiltered (storage/models.RefusingQuerySet refuses them)
OUTSIDE_A_SCOPE = {
    "exists": lambda manager, org: manager.exists(),
    "count": lambda manager, org: manager.count(),
    "create": lambda manager, org: manager.create(organisation=org),
    "bulk_create": lambda manager, org: manager.bulk_create([manager.model()]),
    "get_or_create": lambda manager, org: manager.get_or_create(organisation=org),
    "update_or_create": lambda manager, org: manager.update_or_create(organisation=org),
    "update": lambda manager, org: manager.update(),
    "delete": lambda manager, org: manager.get_queryset().delete(),
    "in_bulk": lambda manager, org: manager.in_bulk([1]),
    "exclude-then-exists": lambda manager, org: manager.exclude(pk=0).exists(),
    "select_related-then-exists": lambda manager, org: manager.select_related().exists(),
    "distinct-then-count": lambda manager, org: manager.distinct().count(),
    "values_list": lambda manager, org: list(manager.values_list("pk", flat=True)),
    "iterator": lambda manager, org: list(manager.get_queryset().iterator()),
}


@pytest.mark.django_db
@pytest.mark.parametrize("call", OUTSIDE_A_SCOPE.values(), ids=OUTSIDE_A_SCOPE.keys())
@pytest.mark.parametrize("name", SCOPED)
def test_no_query_method_of_a_scoped_model_escapes_the_check_outside_a_scope(name, call, org):
    model = getattr(models, name)
    with access.operator():
        before = model.objects.count()
    with pytest.raises(ScopeError):
        call(model.objects, org)
    with access.operator():
        assert model.objects.count() == before  # nothing was written on the way to the error


@pytest.mark.django_db
def test_the_related_managers_of_an_organisation_refuse_outside_a_scope_too(org):
    for related in (org.batches, org.profiles, org.supplier_stats_profiles, org.api_tokens, org.uploads):
        for call in (related.exists, related.count, functools.partial(related.create, name="x"), related.all):
            with pytest.raises(ScopeError):
                call()


@pytest.mark.django_db
def test_the_empty_query_and_another_database_alias_need_no_scope():
    assert list(models.ImportBatch.objects.none()) == []
    assert list(models.ImportBatch.objects.using("default").none()) == []


@pytest.mark.django_db
def test_every_model_bound_to_an_organisation_is_scoped_but_the_named_exceptions():
    """A new organisation-bound model is scoped, or named here with its reason."""
    unscoped = {
        "Unit", "Membership", "Invitation",  # read to decide the scope itself, and by an invitation's anonymous visitor
        "AuditEntry",  # also the region's entries without an organisation (sign-ins); read through Scope.check_audit
        "ClassificationRule", "Report", "ReportSchedule", "Publication", "Target", "ApprovalRule", "Agreement",
        "MeasureStatusChange",  # each also has region-wide rows (no organisation) that an organisation's people see
    }
    bound = {m.__name__ for m in vars(models).values() if isinstance(m, type) and issubclass(m, models.models.Model)
             and m.__module__ == models.__name__ and not m._meta.abstract
             and any(f.many_to_one and f.related_model is models.Organisation for f in m._meta.get_fields())}
    bound |= {"CaseEvent", "ClimateCalculation", "ClimateCalculationRow"}  # bound through their case or project

    def scoped(name):
        try:
            getattr(models, name).objects.count()
        except ScopeError:
            return True
        return False

    assert {name for name in bound if scoped(name)} == set(SCOPED)
    assert bound - set(SCOPED) == unscoped


@pytest.mark.django_db
def test_inside_a_scope_a_query_that_forgot_its_filter_sees_only_the_scopes_organisations(tokens):
    org, other_org, _, _ = tokens
    with access.activate(access.Scope(orgnrs=frozenset({org.orgnr}))):
        assert [t.name for t in models.ApiToken.objects.all()] == ["kongsvinger-bi"]
        assert not models.ApiToken.objects.filter(organisation=other_org).exists()
        assert list(org.api_tokens.all()) and not list(other_org.api_tokens.all())  # related managers too
    with access.activate(access.Scope(orgnrs=frozenset())):
        assert models.ApiToken.objects.count() == 0
    with access.activate(access.system_scope()):
        assert models.ApiToken.objects.count() == 2
    with access.operator():
        assert models.ApiToken.objects.count() == 2


@pytest.fixture
def imported(org, other_org):
    """A ledger, its mapping profile and a supplier-statistics profile of each organisation (built as the operator)."""
    from klimainnkjop.services.suppliers import do_save_supplier_stats_profile
    from tests.factories import import_ledger, ledger_csv

    for organisation, row in ((org, "01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat"),
                              (other_org, "02.03.2024;115000;2020;2000;999999999;Mat AS;20 000,00;Mat")):
        assert import_ledger(organisation, ledger_csv(row)).lines_added == 1
        do_save_supplier_stats_profile(organisation=organisation, actor=CLI, spec={
            "name": f"asko-{organisation.orgnr}", "columns": {"period": "Dato", "supplier_orgnr": "Leverandør",
                                                              "product_name": "Vare", "amount": "Beløp"}})
    return org, other_org


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ImportBatch", "MappingProfile", "SupplierStatsProfile"])
def test_inside_a_scope_the_import_paths_rows_of_another_organisation_are_out_of_sight(imported, name):
    org, other_org = imported
    manager = getattr(models, name).objects
    with access.activate(access.Scope(orgnrs=frozenset({org.orgnr}))):
        assert {row.organisation_id for row in manager.all()} == {org.pk}
        assert not manager.filter(organisation=other_org).exists()
    with access.activate(access.Scope(orgnrs=frozenset({other_org.orgnr}))):
        assert {row.organisation_id for row in manager.all()} == {other_org.pk}
    with access.operator():
        assert {row.organisation_id for row in manager.all()} == {org.pk, other_org.pk}


@pytest.mark.django_db
def test_an_import_in_a_persons_scope_finds_its_own_organisations_profile_and_earlier_file_only(imported):
    """A face calls the import services in its request's scope: the organisation's own profile and earlier batch are
    found, another organisation's are not (the same file imported there is no duplicate here)."""
    from klimainnkjop.services.imports import do_import_ledger
    from tests.factories import VISMA, ledger_csv

    org, other_org = imported
    grue_file = ledger_csv("02.03.2024;115000;2020;2000;999999999;Mat AS;20 000,00;Mat").encode()
    with access.activate(access.Scope(orgnrs=frozenset({org.orgnr}))):
        result = do_import_ledger(organisation=org, data=grue_file, file_name="grue.csv", profile_name=VISMA["name"],
                                  actor=CLI)
        assert (result.already_imported, result.lines_added) == (False, 1)
        again = do_import_ledger(organisation=org, data=grue_file, file_name="grue.csv", profile_name=VISMA["name"],
                                 actor=CLI)
        assert again.already_imported and again.batch == result.batch
    with access.operator():
        assert models.ImportBatch.objects.filter(organisation=other_org).count() == 1


@pytest.mark.django_db
def test_streamed_rows_are_produced_in_the_scope_of_their_making_and_leave_none_behind(tokens):
    org, _, _, _ = tokens
    seen_between = []

    def names():
        for token in models.ApiToken.objects.order_by("name"):
            yield token.name

    with access.activate(access.Scope(orgnrs=frozenset({org.orgnr}))):
        rows = access.streamed(names())
    for name in rows:  # iterated after the scope was left, as a server iterates a streaming response
        seen_between.append((name, access.get_scope()))
    assert seen_between == [("kongsvinger-bi", {})]
    with pytest.raises(ScopeError):
        list(names())  # the same rows outside any scope


@pytest.mark.django_db
@pytest.mark.urls("tests.scoped_urls")
def test_a_streaming_response_produces_its_rows_in_the_requests_scope_after_the_view_returned(client, tokens):
    org, other_org, _, _ = tokens
    client.force_login(make_user("k-reader", org, "reader"))
    response = client.get("/test-streamed-forgotten-filter/")
    assert response.streaming
    assert b"".join(response.streaming_content).decode() == f"tokens:\n{org.orgnr}/kongsvinger-bi\n"

    client.force_login(make_user("regionadmin", org, "region-admin"))
    body = b"".join(client.get("/test-streamed-forgotten-filter/").streaming_content).decode()
    assert body == f"tokens:\n{other_org.orgnr}/grue-bi\n{org.orgnr}/kongsvinger-bi\n"


@pytest.mark.django_db
def test_a_selector_reads_in_the_scope_it_is_given_whoever_calls_it(tokens):
    from klimainnkjop.selectors import api_tokens as token_selectors

    org, other_org, _, _ = tokens
    kongsvinger_only = access.Scope(orgnrs=frozenset({org.orgnr}))
    assert [t.name for t in token_selectors.tokens(kongsvinger_only)] == ["kongsvinger-bi"]
    with access.operator():  # a wider scope around it does not widen what the selector was given
        assert [t.name for t in token_selectors.tokens(kongsvinger_only)] == ["kongsvinger-bi"]
    with pytest.raises(access.OutsideScope):
        token_selectors.tokens(kongsvinger_only, other_org.orgnr)


@pytest.mark.django_db
@pytest.mark.urls("tests.scoped_urls")
def test_a_web_request_of_one_organisation_cannot_read_anothers_rows_through_a_view_that_forgot_its_filter(
        client, tokens):
    org, other_org, _, _ = tokens
    client.force_login(make_user("k-reader", org, "reader"))
    assert client.get("/test-forgotten-filter/").json() == {"tokens": [f"{org.orgnr}/kongsvinger-bi"]}

    client.force_login(make_user("g-admin", other_org, "org-admin"))
    assert client.get("/test-forgotten-filter/").json() == {"tokens": [f"{other_org.orgnr}/grue-bi"]}

    client.force_login(make_user("regionadmin", org, "region-admin"))
    assert len(client.get("/test-forgotten-filter/").json()["tokens"]) == 2

    client.logout()
    assert client.get("/test-forgotten-filter/").json() == {"tokens": []}


@pytest.mark.django_db
@pytest.mark.urls("tests.scoped_urls")
def test_an_api_request_runs_in_its_tokens_scope_and_without_a_token_in_none(client, tokens):
    org, other_org, _, secret = tokens
    answer = client.get("/api/test-forgotten-filter/", headers={"Authorization": f"Bearer {secret}"})
    assert answer.json() == {"tokens": [f"{other_org.orgnr}/grue-bi"]}
    assert client.get("/api/test-forgotten-filter/", headers={"Authorization": "Bearer kik_wrong"}).json() == {
        "tokens": []}
    client.force_login(make_user("regionadmin", org, "region-admin"))  # a session does not count on the API
    assert client.get("/api/test-forgotten-filter/").json() == {"tokens": []}


@pytest.mark.django_db
def test_the_command_line_acts_as_the_operator_without_a_scope(tokens):
    from tests.conftest import run_cli

    result = run_cli("api", "token", "list")
    assert result.returncode == 0, result.stderr
    assert "kongsvinger-bi" in result.stdout and "grue-bi" in result.stdout


# --- the predicates take actors ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_scope_and_predicates_of_a_person_are_the_same_for_the_user_and_for_the_actor(org, other_org):
    user = make_user("k-admin", org, "org-admin")
    actor = Actor.person(user)
    assert access.scope_for(actor) == access.scope_for(user)
    assert access.scope_for(actor).orgnrs == frozenset({org.orgnr})
    for predicate in (access.can_import, access.can_administer, access.can_view, access.can_work_on_cases):
        assert predicate(actor, org.orgnr) is True
        assert predicate(actor, other_org.orgnr) is False
    assert access.case_organisations(actor) == {org.orgnr}


@pytest.mark.django_db
def test_the_operators_system_actors_see_everything_and_everyone_else_who_is_no_person_sees_nothing(org):
    for operator in (CLI, SCHEDULER, WORKER, DEMO, "cli"):
        assert access.scope_for(operator).everything
    for nobody in (None, "", "test", API, ANONYMOUS, Actor.system("invitation")):
        scope = access.scope_for(nobody)
        assert scope.orgnrs == frozenset() and not scope.allows(org.orgnr)


@pytest.mark.django_db
def test_a_system_actor_gets_no_persons_permission_from_the_predicates(org):
    for actor in (CLI, API, ANONYMOUS, None, "cli"):
        assert access.can_import(actor, org.orgnr) is False
        assert access.is_region_admin(actor) is False
        assert access.roles_of(actor, org.orgnr) == set()


# --- who may walk a procurement case --------------------------------------------------------------------------

@pytest.fixture
def screened_case(reference, org):
    from klimainnkjop.services import cases

    case = cases.do_open_case(organisation=org, title="Kontorrekvisita 2027", category="goods.office",
                              estimated_value_nok=500_000, actor=CLI)
    return cases.do_screen_case(case=case, actor=CLI)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [None, "", "test", API, ANONYMOUS, Actor.system("invitation")],
                         ids=["none", "empty", "unknown-name", "api", "anonymous", "invitation"])
def test_a_system_actor_other_than_the_operators_may_not_take_a_step_of_a_case(screened_case, actor):
    from klimainnkjop.services import cases

    with access.operator(), pytest.raises(PermissionError):
        cases.do_propose_ambition(case=screened_case, ambition="advanced", actor=actor)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [CLI, SCHEDULER, WORKER, DEMO, "cli"], ids=["cli", "scheduler", "worker", "demo",
                                                                            "cli-name"])
def test_the_operators_system_actors_may_take_a_step_of_a_case(screened_case, actor):
    from klimainnkjop.services import cases

    with access.operator():
        case = cases.do_propose_ambition(case=screened_case, ambition="advanced", actor=actor)
    assert case.state == "screened" and case.ambition_proposed == "advanced"


@pytest.mark.django_db
def test_a_person_without_the_role_may_not_take_a_step_of_a_case_and_one_with_it_may(screened_case, org, other_org):
    from klimainnkjop.services import cases

    outsider = make_user("g-purchaser", other_org, "purchaser")
    reader = make_user("k-reader", org, "reader")
    purchaser = make_user("k-purchaser", org, "purchaser")
    with access.operator():
        for person in (outsider, reader, Actor.person(reader)):
            with pytest.raises(PermissionError):
                cases.do_propose_ambition(case=screened_case, ambition="advanced", actor=person)
        case = cases.do_propose_ambition(case=screened_case, ambition="advanced", actor=Actor.person(purchaser))
    assert case.ambition_proposed == "advanced"
