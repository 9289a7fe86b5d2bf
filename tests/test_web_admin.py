"""The administration pages: organisations, units, people and roles, invitations, deleting an import, and the
audit log with its CSV and JSON export. Every change is a POST through a service that writes an audit entry."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model

from klimainnkjop.access import system_scope
from klimainnkjop.selectors.audit import FIELDS, audit_csv, audit_entries, audit_row
from klimainnkjop.services.organisations import do_ensure_units
from klimainnkjop.services.users import do_add_user, do_create_invitation
from klimainnkjop.storage.models import AuditEntry, ImportBatch, Invitation, Membership, Organisation, Unit
from tests.conftest import run_cli
from tests.factories import import_ledger, ledger_csv, parse, squash

KONGSVINGER = "944117784"
GRUE = "964950113"
pytestmark = pytest.mark.django_db


@pytest.fixture
def person(org, other_org):
    def make(email, role, organisation=None, unit=None):
        user, _, _ = do_add_user(email=email, organisation=organisation or org, role=role, unit_code=unit,
                                 actor="test")
        return user
    return make


@pytest.fixture
def region_admin(person):
    return person("region@example.no", "region-admin")


@pytest.fixture
def org_admin(person):
    return person("admin@kongsvinger.kommune.no", "org-admin")


@pytest.fixture
def units(org):
    do_ensure_units(organisation=org, units={"1000": "Sentraladministrasjon", "2000": "Oppvekst",
                                             "2100": "Skole"}, actor="test")
    return {u.code: u for u in Unit.objects.filter(organisation=org)}


def newest(action):
    return AuditEntry.objects.filter(action=action).order_by("-id").first()


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- organisations ------------------------------------------------------------------------------------------

def test_a_region_administrator_adds_an_organisation_and_the_audit_log_names_them(client, region_admin):
    client.force_login(region_admin)
    response = client.post("/organisasjoner/ny/", {"orgnr": "940 155 223", "name": "Nord-Odal kommune",
                                                   "kind": "kommune", "kostra_region": "0418", "region_name": ""})
    assert response.status_code == 302
    org = Organisation.objects.get(orgnr="940155223")
    entry = newest("create_organisation")
    assert entry.actor == region_admin and entry.organisation == org and entry.after["name"] == "Nord-Odal kommune"
    assert "Nord-Odal kommune" in client.get("/organisasjoner/").content.decode()


def test_a_bad_organisation_number_is_shown_in_an_error_summary_linking_to_the_field(client, region_admin):
    client.force_login(region_admin)
    response = client.post("/organisasjoner/ny/", {"orgnr": "12345", "name": "X", "kind": "kommune"})
    assert response.status_code == 400
    text = page_text(response)
    assert 'class="ds-error-summary' in text and 'href="#id_orgnr"' in text
    assert 'aria-invalid="true"' in text and 'aria-describedby="orgnr-help orgnr-error"' in text
    assert not AuditEntry.objects.filter(action="create_organisation", actor=region_admin).exists()


def test_a_region_administrator_renames_an_organisation_through_the_service(client, region_admin, org):
    client.force_login(region_admin)
    response = client.post(f"/org/{KONGSVINGER}/endre/", {"name": "Kongsvinger kommune (ny)", "kind": "kommune"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Kongsvinger kommune (ny)"
    entry = newest("update_organisation")
    assert entry.actor == region_admin and entry.before["name"] == "Kongsvinger kommune"


def test_the_administration_page_offers_each_person_only_the_pages_they_may_open(client, org_admin, person):
    client.force_login(org_admin)
    text = client.get("/organisasjoner/").content.decode()
    assert f"/org/{KONGSVINGER}/personer/" in text and f"/org/{KONGSVINGER}/revisjonslogg/" not in text
    assert "/organisasjoner/ny/" not in text and f"/org/{GRUE}/" not in text
    client.force_login(person("revisor@kongsvinger.kommune.no", "auditor"))
    text = client.get("/organisasjoner/").content.decode()
    assert f"/org/{KONGSVINGER}/revisjonslogg/" in text and f"/org/{KONGSVINGER}/personer/" not in text


# --- units --------------------------------------------------------------------------------------------------

def test_an_organisation_administrator_renames_a_unit_and_places_it_under_another(client, org_admin, units):
    client.force_login(org_admin)
    school = units["2100"]
    response = client.post(f"/org/{KONGSVINGER}/enheter/{school.pk}/endre/", {"name": "Grunnskole", "parent": "2000"})
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.name == "Grunnskole" and school.parent == units["2000"]
    blank = client.post(f"/org/{KONGSVINGER}/enheter/{school.pk}/endre/", {"name": "   ", "parent": "2000"})
    assert blank.status_code == 400  # a name of spaces only wiped the name
    school.refresh_from_db()
    assert school.name == "Grunnskole"
    entry = newest("update_unit")
    assert entry.actor == org_admin and entry.before["parent"] is None and entry.after["parent"] == "2000"
    text = page_text(client.get(f"/org/{KONGSVINGER}/enheter/"))
    assert '<th scope="row" class="unit-depth-1">2100</th>' in text  # shown below its parent
    assert text.index(">2000<") < text.index(">2100<")


def test_a_unit_cannot_be_placed_below_itself(client, org_admin, units):
    client.force_login(org_admin)
    client.post(f"/org/{KONGSVINGER}/enheter/{units['2100'].pk}/endre/", {"name": "Skole", "parent": "2000"})
    response = client.post(f"/org/{KONGSVINGER}/enheter/{units['2000'].pk}/endre/", {"name": "Oppvekst",
                                                                                     "parent": "2100"})
    assert response.status_code == 400 and "ds-error-summary" in response.content.decode()
    assert Unit.objects.get(pk=units["2000"].pk).parent is None


def test_a_unit_of_another_organisation_cannot_be_changed_through_this_organisations_url(client, org_admin,
                                                                                        other_org, units):
    do_ensure_units(organisation=other_org, units={"9000": "Grue-enhet"}, actor="test")
    grue_unit = Unit.objects.get(organisation=other_org, code="9000")
    client.force_login(org_admin)
    assert client.post(f"/org/{KONGSVINGER}/enheter/{grue_unit.pk}/endre/", {"name": "x"}).status_code == 404
    assert client.post(f"/org/{GRUE}/enheter/{grue_unit.pk}/endre/", {"name": "x"}).status_code == 404
    assert Unit.objects.get(pk=grue_unit.pk).name == "Grue-enhet"


# --- people and roles ---------------------------------------------------------------------------------------

def test_an_organisation_administrator_adds_a_person_by_email_with_a_role(client, org_admin, org):
    client.force_login(org_admin)
    response = client.post(f"/org/{KONGSVINGER}/personer/", {"email": "Ola@Kongsvinger.Kommune.no", "role": "reader"})
    assert response.status_code == 302
    user = get_user_model().objects.get(username="ola@kongsvinger.kommune.no")
    assert Membership.objects.filter(user=user, organisation=org, role="reader").exists()
    assert newest("create_user").actor == org_admin
    assert newest("add_membership").actor == org_admin and newest("add_membership").organisation == org
    assert "ola@kongsvinger.kommune.no" in client.get(f"/org/{KONGSVINGER}/personer/").content.decode()


def test_a_unit_leader_needs_a_unit_and_gets_the_chosen_one(client, org_admin, units):
    client.force_login(org_admin)
    response = client.post(f"/org/{KONGSVINGER}/personer/", {"email": "leder@kongsvinger.kommune.no",
                                                              "role": "unit-leader"})
    assert response.status_code == 400 and 'href="#id_unit"' in response.content.decode()
    response = client.post(f"/org/{KONGSVINGER}/personer/", {"email": "leder@kongsvinger.kommune.no",
                                                              "role": "unit-leader", "unit": "2000"})
    assert response.status_code == 302
    assert Membership.objects.get(user__username="leder@kongsvinger.kommune.no").unit == units["2000"]


def test_an_organisation_administrator_cannot_hand_out_the_region_administrator_role(client, org_admin):
    client.force_login(org_admin)
    response = client.post(f"/org/{KONGSVINGER}/personer/", {"email": "x@kongsvinger.kommune.no",
                                                              "role": "region-admin"})
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="x@kongsvinger.kommune.no").exists()


def test_removing_a_role_is_a_post_and_is_written_to_the_audit_log(client, org_admin, person, org):
    reader = person("leser@kongsvinger.kommune.no", "reader")
    membership = Membership.objects.get(user=reader)
    client.force_login(org_admin)
    assert client.get(f"/org/{KONGSVINGER}/personer/{membership.pk}/fjern/").status_code == 405
    assert client.post(f"/org/{KONGSVINGER}/personer/{membership.pk}/fjern/").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    entry = newest("remove_membership")
    assert entry.actor == org_admin and entry.before["user"] == "leser@kongsvinger.kommune.no"


def test_a_role_in_another_organisation_cannot_be_removed_by_url(client, org_admin, person, other_org):
    grue_reader = person("leser@grue.kommune.no", "reader", organisation=other_org)
    membership = Membership.objects.get(user=grue_reader)
    client.force_login(org_admin)
    assert client.post(f"/org/{KONGSVINGER}/personer/{membership.pk}/fjern/").status_code == 404
    assert client.post(f"/org/{GRUE}/personer/{membership.pk}/fjern/").status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- invitations --------------------------------------------------------------------------------------------

def test_an_invitation_link_is_shown_once_and_opens_the_invitation_page(client, org_admin, org):
    client.force_login(org_admin)
    response = client.post(f"/org/{KONGSVINGER}/invitasjoner/", {"email": "ny@kongsvinger.kommune.no",
                                                                  "role": "finance", "days": "7"})
    assert response.status_code == 200
    link = re.search(r'value="(http://testserver/invitasjon/[^"]+/)"', response.content.decode()).group(1)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get(email="ny@kongsvinger.kommune.no")
    assert invitation.token_sha256 != token and token not in json.dumps(newest("create_invitation").after)
    assert newest("create_invitation").actor == org_admin
    assert token not in client.get(f"/org/{KONGSVINGER}/invitasjoner/").content.decode()  # never shown again
    client.logout()
    assert client.get(link).status_code == 200


def test_a_revoked_invitation_link_no_longer_works(client, org_admin, org):
    invitation, token = do_create_invitation(email="ny@kongsvinger.kommune.no", organisation=org, role="reader",
                                             actor="test")
    client.force_login(org_admin)
    assert client.post(f"/org/{KONGSVINGER}/invitasjoner/{invitation.pk}/trekk-tilbake/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None and newest("revoke_invitation").actor == org_admin
    client.logout()
    assert client.get(f"/invitasjon/{token}/").status_code == 404


def test_an_invitation_of_another_organisation_cannot_be_revoked_by_url(client, org_admin, other_org):
    invitation, _ = do_create_invitation(email="ny@grue.kommune.no", organisation=other_org, role="reader",
                                         actor="test")
    client.force_login(org_admin)
    assert client.post(f"/org/{KONGSVINGER}/invitasjoner/{invitation.pk}/trekk-tilbake/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


# --- deleting an import -------------------------------------------------------------------------------------

@pytest.fixture
def batch(reference, org):
    import_ledger(org, ledger_csv("01.03.2024;115000;2020;2000;999999999;Mat AS;10 000,00;Mat"), name="a.csv")
    return ImportBatch.objects.with_scopes_disabled().get(file_name="a.csv")


def test_finance_deletes_an_import_after_a_confirmation_page(client, person, batch):
    finance = person("okonomi@kongsvinger.kommune.no", "finance")
    client.force_login(finance)
    confirmation = client.get(f"/org/{KONGSVINGER}/importer/{batch.pk}/slett/")
    assert confirmation.status_code == 200 and "a.csv" in confirmation.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.STATUS_DONE  # the GET changed nothing
    assert client.post(f"/org/{KONGSVINGER}/importer/{batch.pk}/slett/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.STATUS_DELETED
    entry = newest("delete_import")
    assert entry.actor == finance and entry.before["status"] == "done" and entry.after["status"] == "deleted"


@pytest.mark.parametrize("role,unit", [("reader", None), ("unit-leader", "2000"), ("auditor", None)])
def test_a_reader_unit_leader_or_auditor_cannot_delete_an_import(client, person, batch, role, unit):
    client.force_login(person(f"{role}@kongsvinger.kommune.no", role, unit=unit))
    if unit is None:  # a role over the whole organisation may see the list and each import
        assert client.get(f"/org/{KONGSVINGER}/importer/").status_code == 200
        assert "/slett/" not in client.get(f"/org/{KONGSVINGER}/importer/").content.decode()
        assert client.get(f"/org/{KONGSVINGER}/importer/{batch.pk}/").status_code == 200
    else:  # the files, their line counts and amounts are the whole organisation's, not the leader's units'
        assert client.get(f"/org/{KONGSVINGER}/importer/").status_code == 403
        assert client.get(f"/org/{KONGSVINGER}/importer/{batch.pk}/").status_code == 403
    assert client.get(f"/org/{KONGSVINGER}/importer/{batch.pk}/slett/").status_code == 403
    assert client.post(f"/org/{KONGSVINGER}/importer/{batch.pk}/slett/").status_code == 403
    batch.refresh_from_db()
    assert batch.status == ImportBatch.STATUS_DONE and not AuditEntry.objects.filter(action="delete_import").exists()


def test_an_import_of_another_organisation_cannot_be_deleted_by_url(client, person, batch, other_org):
    grue_finance = person("okonomi@grue.kommune.no", "finance", organisation=other_org)
    client.force_login(grue_finance)
    assert client.post(f"/org/{KONGSVINGER}/importer/{batch.pk}/slett/").status_code == 404
    assert client.post(f"/org/{GRUE}/importer/{batch.pk}/slett/").status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportBatch.STATUS_DONE


# --- the audit log ------------------------------------------------------------------------------------------

@pytest.fixture
def logged(org, other_org, person):
    """Entries of both organisations, written by the services."""
    person("a@kongsvinger.kommune.no", "reader")
    person("b@grue.kommune.no", "reader", organisation=other_org)
    return person("revisor@kongsvinger.kommune.no", "auditor")


def test_an_auditor_reads_their_organisations_log_but_not_another_organisations(client, logged):
    client.force_login(logged)
    text = client.get(f"/org/{KONGSVINGER}/revisjonslogg/").content.decode()
    assert "a@kongsvinger.kommune.no" in text and "b@grue.kommune.no" not in text
    assert client.get(f"/org/{GRUE}/revisjonslogg/").status_code == 404
    assert client.get(f"/org/{GRUE}/revisjonslogg/?format=csv").status_code == 404
    assert client.get("/revisjonslogg/").status_code == 403
    assert client.get("/revisjonslogg/?format=json").status_code == 403


def test_a_reader_cannot_open_any_audit_log_by_url(client, person, logged):
    client.force_login(person("leser@kongsvinger.kommune.no", "reader"))
    assert client.get(f"/org/{KONGSVINGER}/revisjonslogg/").status_code == 403
    assert client.get(f"/org/{KONGSVINGER}/revisjonslogg/?format=json").status_code == 403
    assert client.get(f"/org/{GRUE}/revisjonslogg/?format=json").status_code == 404


def test_the_csv_export_has_a_bom_semicolons_and_the_same_rows_as_the_cli(client, logged, org):
    client.force_login(logged)
    response = client.get(f"/org/{KONGSVINGER}/revisjonslogg/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="revisjonslogg-944117784.csv"' in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert text == audit_csv([audit_row(e) for e in audit_entries(system_scope(), KONGSVINGER)])
    assert text == run_cli("audit", "export", "--org", KONGSVINGER, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert list(rows[0]) == FIELDS
    assert {r["organisation"] for r in rows} <= {KONGSVINGER, ""}
    added = next(r for r in rows if r["action"] == "add_membership" and "a@kongsvinger" in r["after"])
    assert json.loads(added["after"])["role"] == "reader" and added["who"] == "test"


def test_the_json_export_lists_every_entry_as_the_audit_row_function_gives_it(client, region_admin, logged):
    client.force_login(region_admin)
    response = client.get("/revisjonslogg/?format=json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data == [audit_row(e) for e in audit_entries(system_scope())]
    assert {"944117784", "964950113"} <= {row["organisation"] for row in data}


def test_the_log_is_filtered_by_action_and_the_export_follows_the_filter(client, region_admin, logged):
    client.force_login(region_admin)
    text = client.get("/revisjonslogg/?handling=create_user").content.decode()
    assert "<td>Bruker opprettet</td>" in text and "<td>Medlemskap lagt til</td>" not in text
    assert "create_user" not in squash(parse(text).text())  # the code is the filter's value, not its text
    data = json.loads(client.get("/revisjonslogg/?handling=create_user&format=json").content)
    assert data and {row["action"] for row in data} == {"create_user"}
    assert client.get("/revisjonslogg/?handling=no-such-action").status_code == 400


def test_the_log_is_paginated_fifty_entries_a_page(client, region_admin, org):
    for i in range(60):
        AuditEntry.objects.create(actor_label="test", organisation=org, action="test_entry", object_type="X",
                                  object_id=str(i))
    client.force_login(region_admin)
    first = page_text(client.get("/revisjonslogg/"))
    assert first.count("<tr>") == 51  # a header row and fifty entries
    assert 'rel="next"' in first and "?side=2" in first
    second = page_text(client.get("/revisjonslogg/?side=2"))
    assert 'rel="prev"' in second and second.count("<tr>") >= 2


# --- refusals in Norwegian -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_person_without_an_administrator_role_gets_a_norwegian_no_access_page(client, person, org):
    client.force_login(person("leser@kongsvinger.kommune.no", "reader"))
    response = client.get(f"/org/{org.orgnr}/personer/")
    assert response.status_code == 403
    text = page_text(response)
    assert "Ingen tilgang" in text and 'role="alert"' in text and 'lang="nb"' in text


@pytest.mark.django_db
def test_an_unknown_address_gets_a_norwegian_not_found_page(client, region_admin):
    client.force_login(region_admin)
    response = client.get("/finnes-ikke/")
    assert response.status_code == 404
    assert "Fant ikke siden" in page_text(response)
