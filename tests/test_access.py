"""Data isolation: who reaches which figures, imports and audit entries through the selectors."""
import pytest
from django.contrib.auth.models import AnonymousUser

from klimainnkjop import access
from klimainnkjop.access import OutsideScope, scope_for, system_scope
from klimainnkjop.selectors import dashboard, results
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors.audit import audit_entries
from klimainnkjop.services.compute import do_compute
from klimainnkjop.services.users import do_add_user, do_update_unit
from klimainnkjop.storage.models import Unit
from tests.factories import import_ledger, ledger_csv

KONGSVINGER, GRUE = "944117784", "964950113"


@pytest.fixture
def region(reference, org, other_org):
    """Kongsvinger: units 2000 (with sub-unit 2100) and 3000; Grue: a unit with the same code 2100."""
    import_ledger(org, ledger_csv(
        "01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat",
        "01.03.2024;115000;2020;2100;999999999;Mat AS;20 000,00;Mat",
        "01.03.2024;115000;2020;3000;999999999;Mat AS;40 000,00;Mat",
    ), name="kongsvinger.csv")
    import_ledger(other_org, ledger_csv("01.03.2024;115000;2020;2100;999999999;Mat AS;80 000,00;Mat"),
                  name="grue.csv")
    do_update_unit(unit=Unit.objects.get(organisation=org, code="2100"), parent_code="2000", actor="test")
    do_compute(actor="test")
    return org, other_org


def person(email, organisation, role, unit=None):
    user, _, _ = do_add_user(email=email, organisation=organisation, role=role, unit_code=unit, actor="test")
    return user


def spend_by_unit(scope, **kwargs):
    return {r["unit"]: r["spend_nok"] for r in results.totals(scope, by=["unit"], **kwargs)["rows"]}


def test_a_unit_leader_sees_the_figures_of_their_unit_and_its_sub_units_only(region):
    org, _ = region
    leader = person("leder@kongsvinger.kommune.no", org, "unit-leader", unit="2000")
    scope = scope_for(leader)
    assert spend_by_unit(scope) == {"2000": 10_000.0, "2100": 20_000.0}
    assert spend_by_unit(scope, org=KONGSVINGER) == {"2000": 10_000.0, "2100": 20_000.0}
    assert {f.key: f.spend_nok for f in dashboard.per_unit(scope, KONGSVINGER, year=2024)} == {
        "2000": 10_000.0, "2100": 20_000.0}
    overview = dashboard.overview(scope, org=KONGSVINGER, year=2024)
    assert overview.total.spend_nok == 30_000.0
    assert dashboard.overview(scope).total.spend_nok == 30_000.0  # the region view holds no more either
    assert results.excluded_spend(scope, org=KONGSVINGER, year=2024) == []


def test_a_unit_leader_cannot_reach_another_organisations_totals_imports_or_audit_entries(region):
    org, _ = region
    scope = scope_for(person("leder@kongsvinger.kommune.no", org, "unit-leader", unit="2000"))
    for read in (lambda: results.totals(scope, org=GRUE), lambda: results.excluded_spend(scope, org=GRUE),
                 lambda: dashboard.overview(scope, org=GRUE), lambda: dashboard.per_unit(scope, GRUE, year=2024),
                 lambda: dashboard.top_suppliers(scope, GRUE, year=2024),
                 lambda: org_selectors.organisation(scope, GRUE), lambda: org_selectors.import_batches(scope, GRUE),
                 lambda: audit_entries(scope, GRUE)):
        with pytest.raises(OutsideScope):
            read()
    assert GRUE not in spend_by_unit(scope) and 80_000.0 not in spend_by_unit(scope).values()
    with pytest.raises(PermissionError):  # not even their own organisation's log: that is for auditors
        audit_entries(scope, KONGSVINGER)
    with pytest.raises(PermissionError):
        audit_entries(scope)


def test_a_reader_of_one_organisation_sees_all_its_units_and_nothing_of_the_other(region):
    org, _ = region
    scope = scope_for(person("leser@kongsvinger.kommune.no", org, "reader"))
    assert spend_by_unit(scope) == {"2000": 10_000.0, "2100": 20_000.0, "3000": 40_000.0}
    with pytest.raises(OutsideScope):
        results.totals(scope, org=GRUE)


def test_an_auditor_reads_everything_of_their_organisation_and_its_audit_log_only(region):
    org, other = region
    auditor = person("revisor@kongsvinger.kommune.no", org, "auditor")
    person("leser@grue.kommune.no", other, "reader")  # an entry of Grue's in the log
    scope = scope_for(auditor)
    assert spend_by_unit(scope, org=KONGSVINGER) == {"2000": 10_000.0, "2100": 20_000.0, "3000": 40_000.0}
    entries = list(audit_entries(auditor))
    assert entries and list(audit_entries(auditor, KONGSVINGER)) == entries
    assert {e.organisation.orgnr for e in entries if e.organisation} == {KONGSVINGER}
    assert {"import_ledger", "update_unit", "add_membership"} <= {e.action for e in entries}
    assert {e.object_type for e in entries if e.organisation is None} <= {
        "FactorSet", "ComputeRun", "ReferenceData"}  # shared reference data, no person of another organisation
    assert not any("grue" in str(e.after) for e in entries)
    with pytest.raises(OutsideScope):
        audit_entries(auditor, GRUE)


def test_a_region_admin_and_the_system_read_every_audit_entry(region):
    org, other = region
    admin = person("admin@region.no", org, "region-admin")
    person("leser@grue.kommune.no", other, "reader")
    every = set(audit_entries(system_scope()).values_list("pk", flat=True))
    assert set(audit_entries(admin).values_list("pk", flat=True)) == every
    assert {e.organisation.orgnr for e in audit_entries(admin, GRUE) if e.organisation} == {GRUE}


def test_people_without_an_auditor_or_region_role_read_no_audit_entries(region):
    org, _ = region
    for role in ("org-admin", "purchaser", "finance", "reader"):
        user = person(f"{role}@kongsvinger.kommune.no", org, role)
        with pytest.raises(PermissionError):
            audit_entries(user, KONGSVINGER)
    with pytest.raises(PermissionError):
        audit_entries(AnonymousUser())


def test_the_predicates_answer_per_role_and_organisation(region):
    org, other = region
    people = {role: person(f"{role}@kongsvinger.kommune.no", org, role, unit="2000" if role == "unit-leader"
                           else None)
              for role in ("region-admin", "org-admin", "purchaser", "finance", "unit-leader", "reader", "auditor")}
    table = {
        #                (view own, view other, administer own, import own, audit own, audit region)
        "region-admin": (True, True, True, True, True, True),
        "org-admin": (True, False, True, True, False, False),
        "purchaser": (True, False, False, True, False, False),
        "finance": (True, False, False, True, False, False),
        "unit-leader": (True, False, False, False, False, False),
        "reader": (True, False, False, False, False, False),
        "auditor": (True, False, False, False, True, False),
    }
    for role, expected in table.items():
        user = people[role]
        got = (access.can_view(user, KONGSVINGER), access.can_view(user, GRUE),
               access.can_administer(user, KONGSVINGER), access.can_import(user, KONGSVINGER),
               access.can_view_audit(user, KONGSVINGER), access.can_view_audit(user))
        assert got == expected, role
        assert not access.can_administer(user, GRUE) or role == "region-admin"
    assert access.can_administer_region(people["region-admin"]) and not access.can_administer_region(
        people["org-admin"])
    people["reader"].is_active = False
    assert not access.can_view(people["reader"], KONGSVINGER)
