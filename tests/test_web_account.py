"""Sign-in in the browser: the password, then the TOTP code; the own account page (enrol, confirm, turn off the
second factor); invitation links with and without OpenID Connect."""
from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import include, path
from django.utils import timezone

from klimainnkjop.auth.backends import INVITATION_SESSION_KEY
from klimainnkjop.services import auth
from klimainnkjop.services.users import do_add_user, do_create_invitation
from klimainnkjop.storage.models import AuditEntry, Membership, TotpDevice

PASSWORD = "en-lang-og-god-passfrase"
EMAIL = "kari@kongsvinger.kommune.no"
urlpatterns = [path("", include("klimainnkjop.web.urls")), path("oidc/", include("mozilla_django_oidc.urls"))]
pytestmark = pytest.mark.django_db


@pytest.fixture
def kari(org):
    user, _, _ = do_add_user(email=EMAIL, organisation=org, role="finance", password=PASSWORD, actor="test")
    return user


@pytest.fixture
def totp(kari):
    """Kari with a confirmed second factor; returns her authenticator (pyotp.TOTP)."""
    secret, _ = auth.do_start_totp_enrolment(user=kari, actor="test")
    app = pyotp.TOTP(secret)
    auth.do_confirm_totp(user=kari, code=app.at(timezone.now() - dt.timedelta(seconds=30)), actor="test")
    return app


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- password, then code ------------------------------------------------------------------------------------

def test_without_a_second_factor_the_password_signs_the_person_in(client, kari):
    response = client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)


def test_with_a_second_factor_the_password_leads_to_the_code_and_only_the_code_signs_in(client, kari, totp):
    response = client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD, "next": "/meg/"})
    assert response.status_code == 302 and response["Location"] == "/logg-inn/totp/"
    assert not signed_in(client)
    assert client.get("/").status_code == 302  # not yet in
    page = client.get("/logg-inn/totp/")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()
    response = client.post("/logg-inn/totp/", {"code": totp.now()})
    assert response.status_code == 302 and response["Location"] == "/meg/"
    assert signed_in(client) and int(client.session["_auth_user_id"]) == kari.pk


def test_a_wrong_code_is_refused_with_a_message_and_does_not_sign_in(client, kari, totp):
    client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD})
    response = client.post("/logg-inn/totp/", {"code": "000000" if totp.now() != "000000" else "111111"})
    assert response.status_code == 400
    assert 'href="#id_code"' in text(response) and 'aria-invalid="true"' in text(response)
    assert not signed_in(client)


def test_repeated_wrong_codes_lock_the_second_factor_with_a_clear_message(client, kari, totp):
    client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD})
    wrong = "000000" if totp.now() != "000000" else "111111"
    statuses = [client.post("/logg-inn/totp/", {"code": wrong}).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 403]
    response = client.post("/logg-inn/totp/", {"code": totp.now()})  # even the right code, while locked
    assert response.status_code == 403 and not signed_in(client)
    with override_settings(LANGUAGE_CODE="en"):
        client.cookies["django_language"] = "en"
        page = text(client.get("/logg-inn/totp/"))
    assert "Too many wrong codes" in page and "Try again in 15 minutes" in page
    assert AuditEntry.objects.filter(action="lock_out", after__username=f"totp:{EMAIL}").count() == 1


def test_the_code_step_without_a_password_step_first_sends_the_person_to_the_login(client, kari, totp):
    response = client.post("/logg-inn/totp/", {"code": totp.now()})
    assert response.status_code == 302 and response["Location"] == "/logg-inn/"
    assert not signed_in(client)


def test_repeated_wrong_passwords_say_plainly_that_the_username_is_locked(client, kari):
    client.cookies["django_language"] = "en"
    for _ in range(5):
        response = client.post("/logg-inn/", {"username": EMAIL, "password": "feil-passord-igjen"})
    assert "Too many failed sign-ins" in text(response)
    response = client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD})
    assert "Too many failed sign-ins" in text(response) and not signed_in(client)


# --- the own account page -----------------------------------------------------------------------------------

def test_a_person_enrols_a_second_factor_on_their_account_page_and_confirms_it(client, kari):
    client.force_login(kari)
    assert client.post("/meg/totp/ny/").status_code == 302
    page = text(client.get("/meg/"))
    device = TotpDevice.objects.get(user=kari)
    uri = re.search(r'<code class="uri">([^<]+)</code>', page).group(1)
    assert uri.replace("&amp;", "&").startswith("otpauth://totp/") and device.secret in uri
    assert " ".join(device.secret[i:i + 4] for i in range(0, len(device.secret), 4)) in page
    wrong = client.post("/meg/totp/bekreft/", {"confirm-code": "12345x"})
    assert wrong.status_code == 400 and not auth.has_second_factor(kari)
    response = client.post("/meg/totp/bekreft/", {"confirm-code": pyotp.TOTP(device.secret).now()})
    assert response.status_code == 302 and auth.has_second_factor(kari)
    assert AuditEntry.objects.filter(action="confirm_totp", actor=kari).exists()
    assert device.secret not in client.get("/meg/").content.decode()  # the key is not shown once in force


def test_turning_the_second_factor_off_takes_a_valid_code(client, kari, totp):
    client.force_login(kari)
    wrong = "000000" if totp.now() != "000000" else "111111"
    assert client.post("/meg/totp/fjern/", {"code": wrong}).status_code == 400
    assert auth.has_second_factor(kari)
    assert client.post("/meg/totp/fjern/", {"code": totp.now()}).status_code == 302
    assert not auth.has_second_factor(kari)
    assert AuditEntry.objects.filter(action="disable_totp", actor=kari).exists()


def test_the_account_page_lists_the_persons_roles(client, kari):
    client.force_login(kari)
    client.cookies["django_language"] = "en"
    page = text(client.get("/meg/"))
    assert "Kongsvinger kommune" in page and "Finance" in page


# --- invitations --------------------------------------------------------------------------------------------

def test_without_oidc_an_invited_person_chooses_a_password_and_gets_the_role(client, org):
    invitation, token = do_create_invitation(email="ny@kongsvinger.kommune.no", organisation=org, role="reader",
                                             actor="test")
    assert client.get(f"/invitasjon/{token}/").status_code == 200
    weak = client.post(f"/invitasjon/{token}/", {"password1": "kort", "password2": "kort"})
    assert weak.status_code == 400 and 'href="#id_password1"' in weak.content.decode()
    response = client.post(f"/invitasjon/{token}/", {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and signed_in(client)
    user = get_user_model().objects.get(username="ny@kongsvinger.kommune.no")
    assert user.check_password(PASSWORD)
    assert Membership.objects.filter(user=user, organisation=org, role="reader").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert AuditEntry.objects.filter(action="accept_invitation", actor=user).exists()
    assert client.get(f"/invitasjon/{token}/").status_code == 404  # used


def test_an_invitation_link_never_changes_the_password_of_a_person_who_has_one(client, kari, org):
    _, token = do_create_invitation(email=EMAIL, organisation=org, role="auditor", actor="test")
    response = client.post(f"/invitasjon/{token}/", {"password1": "et-helt-annet-passord", "password2":
                                                     "et-helt-annet-passord"})
    assert response.status_code == 200 and f"/logg-inn/?next=/invitasjon/{token}/" in response.content.decode()
    kari.refresh_from_db()
    assert kari.check_password(PASSWORD) and not Membership.objects.filter(user=kari, role="auditor").exists()
    client.force_login(kari)
    assert client.post(f"/invitasjon/{token}/").status_code == 302
    assert Membership.objects.filter(user=kari, organisation=org, role="auditor").exists()


@override_settings(ROOT_URLCONF=__name__, KLIMAINNKJOP_OIDC_ENABLED=True)
def test_with_oidc_the_invitation_token_goes_into_the_session_and_the_oidc_sign_in_starts(client, org):
    _, token = do_create_invitation(email="ny@kongsvinger.kommune.no", organisation=org, role="reader",
                                    actor="test")
    response = client.get(f"/invitasjon/{token}/")
    assert response.status_code == 302 and response["Location"] == "/oidc/authenticate/"
    assert client.session[INVITATION_SESSION_KEY] == token


@override_settings(ROOT_URLCONF=__name__, KLIMAINNKJOP_OIDC_ENABLED=True)
def test_with_oidc_the_login_page_offers_the_id_porten_and_entra_id_button(client, db):
    page = text(client.get("/logg-inn/?next=/meg/"))
    assert 'href="/oidc/authenticate/?next=/meg/"' in page and "Logg inn med ID-porten/Entra ID" in page


def test_without_oidc_the_login_page_has_no_oidc_button(client, db):
    assert "/oidc/" not in client.get("/logg-inn/").content.decode()


def test_the_lockout_message_names_the_configured_duration_in_norwegian(client, kari, settings):
    settings.KLIMAINNKJOP_LOCKOUT_MINUTES = 30
    for _ in range(5):
        response = client.post("/logg-inn/", {"username": EMAIL, "password": "feil-passord-igjen"})
    page = text(response)
    assert "sperret en stund" in page and "prøv igjen om 30 minutter" in page


def test_an_invitation_from_another_organisations_administrator_never_hands_over_an_existing_account(
        client, org, other_org):
    """An administrator sees the link they invite with: inviting a person of another organisation who has no
    password yet must not let them choose that person's password (and take over their roles)."""
    victim, _, _ = do_add_user(email="leder@kongsvinger.kommune.no", organisation=org, role="org-admin",
                               actor="test")
    grue_admin, _, _ = do_add_user(email="admin@grue.kommune.no", organisation=other_org, role="org-admin",
                                   password=PASSWORD, actor="test")
    _, token = do_create_invitation(email=victim.email, organisation=other_org, role="reader", actor=grue_admin)
    page = client.get(f"/invitasjon/{token}/")
    assert page.status_code == 200 and f"/logg-inn/?next=/invitasjon/{token}/" in page.content.decode()
    response = client.post(f"/invitasjon/{token}/", {"password1": "et-helt-annet-passord",
                                                     "password2": "et-helt-annet-passord"})
    assert response.status_code == 200 and not signed_in(client)
    victim.refresh_from_db()
    assert not victim.has_usable_password()
    assert not Membership.objects.filter(user=victim, organisation=other_org).exists()


def test_an_administrator_of_every_organisation_of_the_person_may_give_them_their_first_password(
        client, org, other_org):
    person, _, _ = do_add_user(email="ny.leder@kongsvinger.kommune.no", organisation=org, role="purchaser",
                               actor="test")
    kongsvinger_admin, _, _ = do_add_user(email="admin@kongsvinger.kommune.no", organisation=org, role="org-admin",
                                          password=PASSWORD, actor="test")
    _, token = do_create_invitation(email=person.email, organisation=org, role="reader", actor=kongsvinger_admin)
    response = client.post(f"/invitasjon/{token}/", {"password1": "et-helt-annet-passord",
                                                     "password2": "et-helt-annet-passord"})
    assert response.status_code == 302 and signed_in(client)
    person.refresh_from_db()
    assert person.check_password("et-helt-annet-passord")
    assert Membership.objects.filter(user=person, organisation=org, role="reader").exists()
