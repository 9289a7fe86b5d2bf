"""Audit completeness: every service that changes master data or a decision writes who, what, before and
after; deleting an import takes it out of what counts and keeps its files."""
import inspect
import json

import pytest

from pathlib import Path

from klimainnkjop.access import operator, system_scope
from klimainnkjop.selectors.audit import audit_entries, audit_row
from klimainnkjop.selectors.results import totals
from klimainnkjop.services import (api_tokens, auth, classification, compute, factors, imports, invoices,
                                   organisations, profiles, reference, users)
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import AuditEntry, Category, CategoryMapping, FactorSet, ImportBatch, Membership, Unit
from tests.factories import META, VISMA, factor_file, import_ledger, kostra_file, ledger_csv, record

EHF = Path(__file__).resolve().parent / "data" / "ehf" / "Norwegian-example-1.xml"
SAFT = Path(__file__).resolve().parent / "data" / "saft" / "ExampleFile_SAF-T_Financial_888888888_20180228235959.xml"

# The modules whose services change master data (organisations, units, people, factor library, rates,
# profiles, imports) and decisions (compute, publish, delete). A new do_ function here needs a case below.
MODULES = [organisations, users, factors, reference, profiles, imports, compute, auth, classification, invoices]
MODULES += [api_tokens]  # the JSON API's tokens (issue 16 item 8)
NOT_CHANGING_ANYTHING_AUDITABLE = {
    "do_load_reference_data",  # idempotent loader of shipped files; audited by the services it calls
    "do_sign_in_external",  # a sign-in; covered by tests/test_auth.py (link_identity, sign_in_external)
}


def service_names() -> set[str]:
    return {name for module in MODULES for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("do_") and fn.__module__ == module.__name__}


@pytest.fixture
def world(reference, org, other_org):
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat",
                                  "01.03.2024;115000;2020;2100;999999999;Mat AS;20 000,00;Mat"), name="a.csv")
    return org


def newest(action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=action).order_by("-id").first()
    assert entry is not None, f"{action}: no audit entry"
    return entry


def cases(org):
    """name -> (do it, action, whether the change replaces something: then `before` must be there)."""
    state: dict = {}

    def user():
        if "user" not in state:
            state["user"] = users.do_create_user(email="kari@kongsvinger.kommune.no", actor="test")
        return state["user"]

    def draft():
        meta = META.replace("# role: activity", "# role: activity\n# status: draft")
        return factors.do_import_factor_set(data=factor_file("energy.heating_oil;activity;litre;;;2,5;;;NO;;;3;r;",
                                                             meta=meta), file_name="d.csv", actor="test")[0]

    def replaced_draft():
        draft()
        meta = META.replace("# role: activity", "# role: activity\n# status: draft")
        factors.do_import_factor_set(data=factor_file("energy.heating_oil;activity;litre;;;2,6;;;NO;;;3;r;",
                                                      meta=meta), file_name="d2.csv", actor="test")

    def invitation():
        return users.do_create_invitation(email="per@kongsvinger.kommune.no", organisation=org, role="reader",
                                          actor="test")[0]

    def confirmed_totp():
        import pyotp
        if auth.has_second_factor(user()):
            return
        secret, _ = auth.do_start_totp_enrolment(user=user(), actor="test")
        auth.do_confirm_totp(user=user(), code=pyotp.TOTP(secret).now(), actor="test")

    def override_twice():
        key = next(iter(linestore.read_keys([linestore.absolute(b.parquet_path)
                                             for b in ImportBatch.objects.with_scopes_disabled().filter(organisation=org)])))
        classification.do_override_line_categories(organisation=org, line_keys=[key], category_code="goods.food",
                                                   actor="test")
        classification.do_override_line_categories(organisation=org, line_keys=[key],
                                                   category_code="goods.food.rice" if Category.objects.filter(
                                                       code="goods.food.rice").exists() else "goods.food.grain",
                                                   actor="test")

    def keyword_rule():
        return classification.do_add_classification_rule(kind="keyword", value="diesel",
                                                         category_code="energy.fuel.diesel", actor="test")

    unit = Unit.objects.get(organisation=org, code="2100")
    return {
        "do_add_classification_rule": (keyword_rule, "add_classification_rule", False),
        "do_override_line_categories": (override_twice, "override_line_categories", True),
        "do_deactivate_classification_rule": (lambda: classification.do_deactivate_classification_rule(
            rule=keyword_rule(), actor="test"), "deactivate_classification_rule", True),
        "do_import_ehf": (lambda: invoices.do_import_ehf(documents=[(EHF.name, EHF.read_bytes())], organisation=org,
                                                         actor="test"), "import_ehf", False),
        "do_import_saft": (lambda: invoices.do_import_saft(
            data=SAFT.read_bytes(), file_name=SAFT.name, actor="test",
            organisation=organisations.do_create_organisation(orgnr="888888888", name="SAF-T example company",
                                                              kind="iks", actor="test")), "import_saft", False),
        "do_create_organisation": (lambda: organisations.do_create_organisation(
            orgnr="938801363", name="Eidskog kommune", actor="test"), "create_organisation", False),
        "do_update_organisation": (lambda: users.do_update_organisation(
            organisation=org, name="Kongsvinger kommune (ny)", actor="test"), "update_organisation", True),
        "do_ensure_units": (lambda: organisations.do_ensure_units(
            organisation=org, units={"9000": "Ny enhet"}, actor="test"), "create_units", False),
        "do_update_unit": (lambda: users.do_update_unit(unit=unit, parent_code="2000", name="Skole", actor="test"),
                           "update_unit", True),
        "do_create_user": (user, "create_user", False),
        "do_add_user": (lambda: users.do_add_user(email="ola@kongsvinger.kommune.no", organisation=org,
                                                  role="unit-leader", unit_code="2000", actor="test"),
                        "add_membership", False),
        "do_add_membership": (lambda: users.do_add_membership(user=user(), organisation=org, role="auditor",
                                                              actor="test"), "add_membership", False),
        "do_remove_membership": (lambda: users.do_remove_membership(membership=users.do_add_membership(
            user=user(), organisation=org, role="finance", actor="test")[0], actor="test"),
            "remove_membership", True),
        "do_set_password": (lambda: users.do_set_password(user=user(), password="en-lang-og-god-passfrase",
                                                          actor="test"), "set_password", True),
        "do_remove_password": (lambda: users.do_remove_password(user=user(), actor="test"), "remove_password", True),
        "do_set_user_active": (lambda: users.do_set_user_active(user=user(), active=False, actor="test"),
                               "deactivate_user", True),
        "do_create_invitation": (invitation, "create_invitation", False),
        "do_revoke_invitation": (lambda: users.do_revoke_invitation(invitation=invitation(), actor="test"),
                                 "revoke_invitation", True),
        "do_accept_invitation": (lambda: users.do_accept_invitation(invitation=invitation(), user=user()),
                                 "accept_invitation", True),
        "do_import_factor_set": (replaced_draft, "import_factor_set", True),
        "do_publish_factor_set": (lambda: factors.do_publish_factor_set(factor_set=draft(), actor="test"),
                                  "publish_factor_set", True),
        "do_add_category": (lambda: factors.do_add_category(code="goods.test", name_nb="Test", parent_code="goods",
                                                            actor="test"), "add_category", False),
        "do_set_category_mapping": (lambda: factors.do_set_category_mapping(
            scheme="kostra_art", code="115", category_code=Category.objects.exclude(
                pk=CategoryMapping.objects.get(scheme="kostra_art", code="115").category_id).first().code,
            actor="test"), "set_category_mapping", True),
        "do_add_supplier_factor": (lambda: factors.do_add_supplier_factor(
            supplier_orgnr="999999999", value=0.01, price_year=2024, valid_from_year=2024, valid_to_year=2024,
            evidence="klimaregnskap 2024", actor="test"), "add_supplier_factor", False),
        "do_set_exchange_rate": (lambda: reference.do_set_exchange_rate(
            year=2024, currency="EUR", nok_per_unit=11.9, source="test", actor="test"), "set_exchange_rate", True),
        "do_save_profile": (lambda: profiles.do_save_profile(organisation=org, spec=VISMA | {"columns": VISMA["columns"] | {"invoice_no": "Faktura"}},
                                                             actor="test"), "save_profile", True),
        "do_import_ledger": (lambda: import_ledger(org, ledger_csv(
            "02.03.2024;115000;2020;2000;999999999;Mat AS;1 000,00;Mat"), name="b.csv"), "import_ledger", False),
        "do_import_kostra": (lambda: imports.do_import_kostra(data=kostra_file(record(kr=100)), file_name="k.dat",
                                                              organisation=org, actor="test"), "import_kostra", False),
        "do_delete_import_batch": (lambda: imports.do_delete_import_batch(
            batch=ImportBatch.objects.with_scopes_disabled().get(file_name="a.csv"), actor="test"), "delete_import", True),
        "do_compute": (lambda: compute.do_compute(actor="test"), "compute", False),
        "do_prune_runs": (lambda: (compute.do_compute(actor="test"), compute.do_compute(actor="test"),
                                   compute.do_prune_runs(keep=1, actor="test")), "prune_compute_runs", False),
        "do_start_totp_enrolment": (lambda: auth.do_start_totp_enrolment(user=user(), actor="test"), "start_totp",
                                    False),
        "do_confirm_totp": (confirmed_totp, "confirm_totp", True),
        "do_disable_totp": (lambda: (confirmed_totp(), auth.do_disable_totp(user=user(), actor="test")),
                            "disable_totp", True),
        # the JSON API (issue 16 item 8): a batch of ledger lines, and its tokens
        "do_import_ledger_lines": (lambda: imports.do_import_ledger_lines(organisation=org, lines=[
            {"posting_date": "2024-03-02", "amount": "1000", "art": "115", "unit": "2000"}], actor="test"),
            "import_ledger", False),
        "do_create_api_token": (lambda: api_tokens.do_create_api_token(organisation=org, name="ERP", scopes="read",
                                                                       actor="test"), "create_api_token", False),
        "do_revoke_api_token": (lambda: api_tokens.do_revoke_api_token(token=api_tokens.do_create_api_token(
            organisation=org, name="BI", scopes="read", actor="test")[0], actor="test"), "revoke_api_token", True),
    }


def test_every_service_that_changes_master_data_or_a_decision_has_an_audit_case(world):
    covered = set(cases(world)) | NOT_CHANGING_ANYTHING_AUDITABLE
    missing = sorted(service_names() - covered)
    assert not missing, f"services without an audit case in tests/test_audit.py: {missing}"
    assert not sorted(set(cases(world)) - service_names()), "cases name services that no longer exist"


def test_every_such_service_writes_an_audit_entry_with_who_before_and_after(world):
    problems = []
    for name, (do, action, replaces) in cases(world).items():
        before_count = AuditEntry.objects.count()
        with operator():  # the services as the command line calls them (test bodies have no scope otherwise)
            do()
        if AuditEntry.objects.count() == before_count:
            problems.append(f"{name}: wrote no audit entry")
            continue
        entry = newest(action)
        if entry.after is None and action not in {"remove_membership"}:
            problems.append(f"{name}: no after")
        if replaces and entry.before is None:
            problems.append(f"{name}: no before")
        if replaces and entry.before == entry.after:
            problems.append(f"{name}: before equals after")
        if entry.actor_label in ("", None):
            problems.append(f"{name}: no actor")
    assert not problems, problems


def test_no_audit_entry_holds_a_password_a_secret_or_a_token(world):
    for do, _action, _replaces in cases(world).values():
        with operator():
            do()
    _, token = users.do_create_invitation(email="x@kongsvinger.kommune.no", organisation=world, role="reader")
    text = json.dumps([audit_row(e) for e in AuditEntry.objects.all()], default=str)
    user = users.find_user("kari@kongsvinger.kommune.no")
    assert "en-lang-og-god-passfrase" not in text and token not in text and user.password not in text
    assert "secret" not in text.lower()


def test_a_deleted_import_stops_counting_keeps_its_files_and_may_be_imported_again(world):
    compute.do_compute(actor="test")
    assert totals(system_scope())["rows"][0]["spend_nok"] == 30_000.0
    batch = ImportBatch.objects.with_scopes_disabled().get(file_name="a.csv")
    with operator():  # as the command line would
        imports.do_delete_import_batch(batch=batch, actor="test")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.STATUS_DELETED
    assert linestore.absolute(batch.parquet_path).exists()
    assert any(p.is_file() for p in linestore.absolute("").rglob(f"*{batch.file_sha256}*")), "raw file kept"
    entry = newest("delete_import")
    assert entry.before["status"] == "done" and entry.after["status"] == "deleted" and entry.organisation == world
    run = compute.do_compute(actor="test")
    assert batch.pk not in run.batch_ids and totals(system_scope())["rows"] == []
    with operator(), pytest.raises(organisations.InvalidInput, match="deleted already"):
        imports.do_delete_import_batch(batch=batch, actor="test")
    again = import_ledger(world, ledger_csv("01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat",
                                            "01.03.2024;115000;2020;2100;999999999;Mat AS;20 000,00;Mat"),
                          name="a.csv")
    assert not again.already_imported and again.lines_added == 2  # the deleted lines do not block them
    compute.do_compute(actor="test")
    assert totals(system_scope())["rows"][0]["spend_nok"] == 30_000.0


def test_the_audit_log_names_the_organisation_of_people_changes(world):
    users.do_add_user(email="ola@kongsvinger.kommune.no", organisation=world, role="reader", actor="test")
    actions = {e.action for e in audit_entries(system_scope(), world.orgnr)}
    assert {"create_user", "add_membership", "import_ledger"} <= actions
    assert Membership.objects.count() == 1 and FactorSet.objects.exists()
