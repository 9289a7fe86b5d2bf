"""The sign-in trail (issue 19, part 6): every sign-in, sign-out and failed sign-in (password, TOTP code, OpenID
Connect) is an audit entry with the person or the username tried and the address, never a password, code or
token; TOTP secrets are encrypted at rest, still verify codes, and the migration encrypts existing ones."""
from __future__ import annotations

import datetime as dt
import json
import time
from types import SimpleNamespace

import pyotp
import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory, override_settings
from django.urls import include, path
from django.utils import timezone

from klimainnkjop.services import auth
from klimainnkjop.services.users import do_add_user, do_create_invitation
from klimainnkjop.storage import encryption
from klimainnkjop.storage.models import AuditEntry, TotpDevice
from tests.factories import FakeProvider

PASSWORD = "en-lang-og-god-passfrase"
EMAIL = "kari@kongsvinger.kommune.no"
IP = "10.1.2.3"
urlpatterns = [path("", include("klimainnkjop.web.urls")), path("oidc/", include("mozilla_django_oidc.urls"))]
pytestmark = pytest.mark.django_db
MIGRATION = ("klimainnkjop", "0010_encrypted_totp_secret_and_run_process")


@pytest.fixture
def kari(org):
    user, _, _ = do_add_user(email=EMAIL, organisation=org, role="finance", password=PASSWORD, actor="test")
    return user


@pytest.fixture
def totp(kari):
    secret, _ = auth.do_start_totp_enrolment(user=kari, actor="test")
    app = pyotp.TOTP(secret)
    auth.do_confirm_totp(user=kari, code=app.at(timezone.now() - dt.timedelta(seconds=30)), actor="test")
    return app


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def as_text(entry: AuditEntry) -> str:
    return json.dumps([entry.actor_label, entry.object_id, entry.before, entry.after], default=str)


def raw_secret(device: TotpDevice) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {TotpDevice._meta.db_table} WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


# --- password sign-in, sign-out, failure ----------------------------------------------------------------------

def test_a_password_sign_in_is_an_audit_entry_naming_the_person_the_address_and_the_method(client, kari, org):
    assert client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR=IP).status_code == 302
    [entry] = entries("sign_in")
    assert entry.actor == kari and entry.object_id == str(kari.pk) and entry.organisation == org
    assert entry.after == {"username": EMAIL, "ip": IP, "method": "password"}
    assert PASSWORD not in as_text(entry)


def test_signing_out_is_an_audit_entry_of_the_person(client, kari):
    client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR=IP)
    assert client.post("/logg-ut/", REMOTE_ADDR=IP).status_code == 302
    [entry] = entries("sign_out")
    assert entry.actor == kari and entry.after == {"username": EMAIL, "ip": IP}


def test_one_wrong_password_leaves_a_trace_with_the_username_and_address_but_not_the_password(client, kari):
    wrong = "feil-passord-nummer-en"
    response = client.post("/logg-inn/", {"username": f"  {EMAIL.upper()} ", "password": wrong}, REMOTE_ADDR=IP)
    assert response.status_code == 200 and not entries("sign_in")
    [entry] = entries("fail_sign_in")
    assert entry.actor is None and entry.actor_label == "anonymous"
    assert entry.after == {"username": EMAIL, "ip": IP, "method": "password", "locked_out": False}
    assert entry.object_id == str(kari.pk)
    assert wrong not in as_text(entry) and PASSWORD not in as_text(entry)


def test_a_guess_at_a_username_that_does_not_exist_is_recorded_too_and_the_lockout_is_marked(client, db):
    for attempt in range(6):
        client.post("/logg-inn/", {"username": "ukjent@example.no", "password": f"gjett-{attempt}-passord"},
                    REMOTE_ADDR=IP)
    failures = entries("fail_sign_in")
    assert len(failures) == 6 and {e.after["username"] for e in failures} == {"ukjent@example.no"}
    assert [e.after["locked_out"] for e in failures] == [False] * 4 + [True, True]
    assert all(e.object_id == "" and "gjett" not in as_text(e) for e in failures)


def test_a_megabyte_username_is_cut_in_the_entry(db):
    request = RequestFactory().post("/logg-inn/", REMOTE_ADDR=IP)
    assert authenticate(request, username="x" * 1_000_000, password="noe-annet-enn-passord") is None
    [entry] = entries("fail_sign_in")
    assert entry.after["username"] == "x" * 150


# --- the TOTP step ---------------------------------------------------------------------------------------------

def test_a_wrong_totp_code_is_a_failed_sign_in_and_the_right_one_a_sign_in_with_both_factors(client, kari, totp):
    client.post("/logg-inn/", {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR=IP)
    assert not entries("sign_in")  # the password alone does not sign in
    good = totp.now()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    assert client.post("/logg-inn/totp/", {"code": wrong}, REMOTE_ADDR=IP).status_code == 400
    [failure] = entries("fail_sign_in")
    assert failure.after == {"username": EMAIL, "ip": IP, "method": "password+totp", "locked_out": False}
    assert wrong not in as_text(failure)
    assert client.post("/logg-inn/totp/", {"code": good}, REMOTE_ADDR=IP).status_code == 302
    [entry] = entries("sign_in")
    assert entry.actor == kari and entry.after["method"] == "password+totp" and good not in as_text(entry)


# --- OpenID Connect ------------------------------------------------------------------------------------------

@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake = FakeProvider()
    fake.thread.start()
    with override_settings(
            ROOT_URLCONF=__name__, OIDC_RP_CLIENT_ID="klimainnkjop", OIDC_RP_CLIENT_SECRET="hemmelig",
            OIDC_OP_AUTHORIZATION_ENDPOINT=f"{fake.url}/authorize", OIDC_OP_TOKEN_ENDPOINT=f"{fake.url}/token",
            OIDC_OP_JWKS_ENDPOINT=f"{fake.url}/jwks", OIDC_OP_USER_ENDPOINT=f"{fake.url}/userinfo",
            OIDC_RP_SIGN_ALGO="RS256", OIDC_TIMEOUT=5, KLIMAINNKJOP_OIDC_ISSUER=fake.url,
            KLIMAINNKJOP_OIDC_TRUST_EMAIL=False, AUTHENTICATION_BACKENDS=[
                "klimainnkjop.auth.backends.LockoutModelBackend", "klimainnkjop.auth.backends.OIDCBackend"]):
        yield fake
    fake.server.shutdown()


def oidc_callback(client, invitation_token=None):
    """The provider's redirect back to the callback, with the state the sign-in's start put in the session."""
    session = client.session
    session["oidc_states"] = {"state-1": {"code_verifier": "verifier-1", "nonce": "nonce-1",
                                          "added_on": time.time()}}
    if invitation_token:
        session["klimainnkjop_invitation_token"] = invitation_token
    session.save()
    return client.get("/oidc/callback/", {"code": "code-1", "state": "state-1"}, REMOTE_ADDR=IP)


def test_an_oidc_sign_in_is_an_audit_entry_with_the_method_oidc(client, provider, org):
    _, token = do_create_invitation(email="per@kongsvinger.kommune.no", organisation=org, role="reader",
                                    actor="test")
    provider.claims = provider.userinfo = {"sub": "pairwise-abc"}
    assert oidc_callback(client, invitation_token=token).status_code == 302
    assert "_auth_user_id" in client.session
    [entry] = entries("sign_in")
    assert entry.actor.get_username() == "per@kongsvinger.kommune.no"
    assert entry.after == {"username": "per@kongsvinger.kommune.no", "ip": IP, "method": "oidc"}
    assert token not in json.dumps([as_text(e) for e in AuditEntry.objects.all()])


def test_an_oidc_identity_that_maps_to_no_person_is_a_failed_sign_in_with_its_subject(client, provider, org):
    provider.claims = provider.userinfo = {"sub": "stranger-1"}
    response = oidc_callback(client)
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    [entry] = entries("fail_sign_in")
    assert entry.after["method"] == "oidc" and entry.after["ip"] == IP and entry.after["subject"] == "stranger-1"
    assert "invitation" in entry.after["reason"]
    assert "verifier-1" not in as_text(entry) and "nonce-1" not in as_text(entry)


# --- TOTP secrets at rest --------------------------------------------------------------------------------------

def test_the_stored_totp_secret_is_not_the_plaintext_and_still_verifies_codes(kari):
    secret, _ = auth.do_start_totp_enrolment(user=kari, actor="test")
    device = TotpDevice.objects.get(user=kari)
    stored = raw_secret(device)
    assert secret not in stored and stored.startswith(encryption.TOKEN_PREFIX)
    assert device.secret == secret
    app = pyotp.TOTP(secret)
    now = timezone.now()
    auth.do_confirm_totp(user=kari, code=app.at(now - dt.timedelta(seconds=30)), actor="test", now=now)
    assert auth.verify_second_factor(kari, app.at(now), ip=IP, now=now)


def test_a_field_key_from_the_environment_is_used_and_another_key_cannot_read_the_secret(kari):
    key, other = encryption.Fernet.generate_key().decode(), encryption.Fernet.generate_key().decode()
    with override_settings(KLIMAINNKJOP_FIELD_KEY=key):
        secret, _ = auth.do_start_totp_enrolment(user=kari, actor="test")
        stored = raw_secret(TotpDevice.objects.get(user=kari))
        assert encryption.Fernet(key.encode()).decrypt(stored.encode()).decode() == secret
    with override_settings(KLIMAINNKJOP_FIELD_KEY=other), pytest.raises(ImproperlyConfigured, match="FIELD_KEY"):
        TotpDevice.objects.get(user=kari)
    with override_settings(KLIMAINNKJOP_FIELD_KEY=f"{other},{key}"):  # rotation: the old key still decrypts
        assert TotpDevice.objects.get(user=kari).secret == secret


def test_a_malformed_field_key_is_refused_without_echoing_it():
    with pytest.raises(ValueError, match="key 2 is not a Fernet key") as refused:
        encryption.parse_keys(f"{encryption.Fernet.generate_key().decode()},hemmelig-men-for-kort")
    assert "hemmelig" not in str(refused.value)


def test_the_migration_encrypts_an_existing_plaintext_secret_and_its_reverse_decrypts_it(kari):
    secret, _ = auth.do_start_totp_enrolment(user=kari, actor="test")
    device = TotpDevice.objects.get(user=kari)
    with connection.cursor() as cursor:  # as a secret was stored before the migration
        cursor.execute(f"UPDATE {TotpDevice._meta.db_table} SET secret = %s WHERE id = %s", [secret, device.pk])
    module = __import__(f"klimainnkjop.storage.migrations.{MIGRATION[1]}", fromlist=["encrypt_secrets"])
    apps = MigrationExecutor(connection).loader.project_state(MIGRATION).apps
    editor = SimpleNamespace(connection=connection)  # what the migration's functions use of a schema editor
    module.encrypt_secrets(apps, editor)
    stored = raw_secret(device)
    assert stored != secret and encryption.decrypt(stored) == secret
    assert TotpDevice.objects.get(pk=device.pk).secret == secret
    module.encrypt_secrets(apps, editor)  # twice changes nothing
    assert raw_secret(device) == stored
    module.decrypt_secrets(apps, editor)
    assert raw_secret(device) == secret
