"""Sign-in: Argon2, the lockout, the TOTP second factor, OpenID Connect against a local stand-in provider,
and the production settings."""
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import authenticate
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory, override_settings
from django.urls import include, path
from django.utils import timezone

from klimainnkjop.auth.backends import INVITATION_SESSION_KEY, OIDCBackend
from klimainnkjop.services import auth
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.users import do_add_user, do_create_invitation, do_set_password
from klimainnkjop.storage.models import AuditEntry, ExternalIdentity, LoginFailure, Membership
from tests.factories import FakeProvider

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "en-lang-og-god-passfrase"
urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls"))]  # the callback URL the backend reverses


def sign_in(username, password, ip="10.0.0.1"):
    request = RequestFactory().post("/logg-inn/", REMOTE_ADDR=ip)
    return authenticate(request, username=username, password=password)


@pytest.fixture
def kari(org):
    user, _, _ = do_add_user(email="kari@kongsvinger.kommune.no", organisation=org, role="finance",
                             password=PASSWORD, actor="test")
    return user


def test_passwords_are_stored_as_argon2_hashes(org, settings):
    from klimainnkjop import settings as product

    settings.PASSWORD_HASHERS = product.PASSWORD_HASHERS  # the product's own, not the tests' fast hasher
    kari, _, _ = do_add_user(email="kari@kongsvinger.kommune.no", organisation=org, role="finance",
                             password=PASSWORD, actor="test")
    kari.refresh_from_db()
    assert kari.password.startswith("argon2$argon2id$")
    assert sign_in("kari@kongsvinger.kommune.no", PASSWORD) == kari


def test_a_weak_password_is_refused_by_the_validators_naming_the_field(kari):
    for weak in ("kort", "123456789012", "password1234", "kari@kongsvinger"):
        with pytest.raises(InvalidInput, match="^password: "):
            do_set_password(user=kari, password=weak, actor="test")


def test_five_failures_lock_the_username_out_from_that_address_for_fifteen_minutes(kari):
    name = "kari@kongsvinger.kommune.no"
    for _ in range(5):
        assert sign_in(name, "feil-passord-igjen") is None
    assert sign_in(name, PASSWORD) is None  # the right password, but locked out
    assert sign_in(name, PASSWORD, ip="10.0.0.2") == kari  # another address is not locked out
    assert AuditEntry.objects.filter(action="lock_out", after__username=name).count() == 1
    LoginFailure.objects.update(created_at=timezone.now() - dt.timedelta(minutes=16))
    assert sign_in(name, PASSWORD) == kari
    assert not LoginFailure.objects.filter(ip="10.0.0.1").exists()  # a success clears the count


def test_failures_spread_over_more_than_the_window_do_not_lock_out(kari):
    now = timezone.now()
    for minutes in (40, 30, 20, 10, 0):
        auth.record_login_failure("kari@kongsvinger.kommune.no", "10.0.0.1", now=now - dt.timedelta(minutes=minutes))
    assert not auth.is_locked_out("kari@kongsvinger.kommune.no", "10.0.0.1", now=now)
    assert sign_in("kari@kongsvinger.kommune.no", PASSWORD) == kari


def test_a_lockout_also_holds_for_a_username_that_does_not_exist(db):
    for _ in range(5):
        assert sign_in("ukjent@example.no", "gjetting-gjetting") is None
    assert auth.is_locked_out("UKJENT@example.no", "10.0.0.1")


def test_a_confirmed_totp_second_factor_accepts_each_valid_code_once(kari):
    secret, uri = auth.do_start_totp_enrolment(user=kari, actor=kari)
    assert uri.startswith("otpauth://totp/") and "kari%40kongsvinger.kommune.no" in uri
    assert not auth.has_second_factor(kari) and not auth.verify_second_factor(kari, pyotp.TOTP(secret).now())
    with pytest.raises(InvalidInput, match="^code: "):
        auth.do_confirm_totp(user=kari, code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    now = timezone.now()
    auth.do_confirm_totp(user=kari, code=pyotp.TOTP(secret).at(now), now=now)
    assert auth.has_second_factor(kari)
    later = now + dt.timedelta(seconds=60)
    code = pyotp.TOTP(secret).at(later)
    assert auth.verify_second_factor(kari, code, now=later)
    assert not auth.verify_second_factor(kari, code, now=later)  # no replay
    assert not auth.verify_second_factor(kari, "12345x", now=later)
    assert auth.verify_second_factor(kari, pyotp.TOTP(secret).at(later + dt.timedelta(seconds=30)),
                                     now=later + dt.timedelta(seconds=40))  # the next step, a little late
    with pytest.raises(InvalidInput, match="in force"):
        auth.do_start_totp_enrolment(user=kari)
    auth.do_disable_totp(user=kari, actor=kari)
    assert not auth.has_second_factor(kari)
    log = json.dumps(list(AuditEntry.objects.values("before", "after")))
    assert secret not in log and {"start_totp", "confirm_totp", "disable_totp"} <= set(
        AuditEntry.objects.values_list("action", flat=True))


def test_wrong_totp_codes_count_towards_a_lockout(kari):
    secret, _ = auth.do_start_totp_enrolment(user=kari)
    now = timezone.now()
    auth.do_confirm_totp(user=kari, code=pyotp.TOTP(secret).at(now), now=now)
    later = now + dt.timedelta(minutes=2)
    good = pyotp.TOTP(secret).at(later)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert not auth.verify_second_factor(kari, wrong, ip="10.0.0.9", now=later)
    assert not auth.verify_second_factor(kari, good, ip="10.0.0.9", now=later)


# --- OpenID Connect against a stand-in provider on the loopback interface ------------------------------------

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
            KLIMAINNKJOP_OIDC_TRUST_EMAIL=False):
        yield fake
    fake.server.shutdown()


def callback(invitation_token=None, nonce="nonce-1"):
    request = RequestFactory().get("/oidc/callback/", {"code": "code-1", "state": "state-1"})
    SessionMiddleware(lambda r: None).process_request(request)
    if invitation_token:
        request.session[INVITATION_SESSION_KEY] = invitation_token
    return OIDCBackend().authenticate(request, nonce=nonce, code_verifier="verifier-1")


def test_an_oidc_sign_in_with_an_invitation_links_the_identity_and_grants_only_the_invited_role(provider, org):
    invitation, token = do_create_invitation(email="per@kongsvinger.kommune.no", organisation=org, role="reader",
                                             actor="test")
    provider.claims = {"sub": "pairwise-abc", "roles": ["region-admin"], "groups": ["admins"]}
    provider.userinfo = {"sub": "pairwise-abc", "email": "someone.else@example.no", "email_verified": True}
    user = callback(invitation_token=token)
    assert user is not None and user.get_username() == "per@kongsvinger.kommune.no"
    assert not user.has_usable_password()
    assert list(Membership.objects.filter(user=user).values_list("role", "organisation__orgnr")) == [
        ("reader", org.orgnr)]
    assert ExternalIdentity.objects.get(user=user).subject == "pairwise-abc"
    assert provider.requests[0] == "/token" and "/jwks" in provider.requests
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert callback() == user  # the next sign-in needs no invitation: issuer + sub
    assert callback(invitation_token=token) is None  # an invitation works once
    assert Membership.objects.filter(user=user).count() == 1


def test_an_oidc_invitation_links_an_existing_account_only_for_someone_who_administers_all_of_it(
        provider, org, other_org):
    """The link's token is the inviter's too: an administrator of another organisation who invites a person of
    Kongsvinger must not link their own identity to that person's account (and take over their roles)."""
    person, _, _ = do_add_user(email="leder@kongsvinger.kommune.no", organisation=org, role="org-admin",
                               actor="test")
    grue_admin, _, _ = do_add_user(email="admin@grue.kommune.no", organisation=other_org, role="org-admin",
                                   password="a-long-test-password", actor="test")
    _, token = do_create_invitation(email=person.email, organisation=other_org, role="reader", actor=grue_admin)
    provider.claims = {"sub": "the-inviters-own-identity"}
    provider.userinfo = {"sub": "the-inviters-own-identity"}
    assert callback(invitation_token=token) is None
    assert not ExternalIdentity.objects.exists()
    assert not Membership.objects.filter(user=person, organisation=other_org).exists()
    with pytest.raises(auth.ExternalSignInRefused, match="has an account here already"):
        auth.do_sign_in_external(claims={"iss": provider.url, "sub": "x"}, issuer=provider.url,
                                 invitation_token=token)

    # Kongsvinger's own administrator may: the person's first sign-in through the identity provider (ID-porten)
    kongsvinger_admin, _, _ = do_add_user(email="admin@kongsvinger.kommune.no", organisation=org, role="org-admin",
                                          password="a-long-test-password", actor="test")
    _, token = do_create_invitation(email=person.email, organisation=org, role="reader", actor=kongsvinger_admin)
    provider.claims = {"sub": "the-persons-identity"}
    provider.userinfo = {"sub": "the-persons-identity"}
    assert callback(invitation_token=token) == person
    assert ExternalIdentity.objects.get().user == person


def test_an_invitation_never_links_an_identity_to_an_account_that_has_a_password(provider, org):
    person, _, _ = do_add_user(email="kari@kongsvinger.kommune.no", organisation=org, role="finance",
                               password="a-long-test-password", actor="test")
    _, token = do_create_invitation(email=person.email, organisation=org, role="reader", actor="test")
    provider.claims = {"sub": "someone"}
    provider.userinfo = {"sub": "someone"}
    assert callback(invitation_token=token) is None
    assert not ExternalIdentity.objects.exists()


def test_an_oidc_identity_without_invitation_or_trusted_email_gets_no_account(provider, org):
    do_add_user(email="ola@kongsvinger.kommune.no", organisation=org, role="reader", actor="test")
    provider.claims = {"sub": "stranger", "email": "ola@kongsvinger.kommune.no", "email_verified": True}
    provider.userinfo = {"sub": "stranger", "email": "ola@kongsvinger.kommune.no", "email_verified": True}
    assert callback() is None  # the provider's e-mail is not trusted unless the operator says so
    assert not ExternalIdentity.objects.exists()


def test_a_trusted_verified_email_links_to_the_person_an_administrator_created(provider, org):
    ola, _, _ = do_add_user(email="ola@kongsvinger.kommune.no", organisation=org, role="reader", actor="test")
    provider.claims = {"sub": "entra-oid-1"}
    with override_settings(KLIMAINNKJOP_OIDC_TRUST_EMAIL=True):
        provider.userinfo = {"sub": "entra-oid-1", "email": "Ola@Kongsvinger.kommune.no", "email_verified": False}
        assert callback() is None  # not verified by the provider
        provider.userinfo["email_verified"] = True
        assert callback() == ola
        provider.claims = {"sub": "entra-oid-2"}  # a second identity claiming the same address
        provider.userinfo = {"sub": "entra-oid-2", "email": "ola@kongsvinger.kommune.no", "email_verified": True}
        assert callback() is None
        provider.claims = {"sub": "entra-oid-3"}  # an address nobody created or invited
        provider.userinfo = {"sub": "entra-oid-3", "email": "ny@kongsvinger.kommune.no", "email_verified": True}
        assert callback() is None
    assert list(ExternalIdentity.objects.values_list("subject", flat=True)) == ["entra-oid-1"]


def test_an_id_token_from_another_issuer_audience_key_or_nonce_is_refused(provider, org):
    invitation, token = do_create_invitation(email="per@kongsvinger.kommune.no", organisation=org, role="reader")
    provider.userinfo = {"sub": "s1"}
    for claims in ({"sub": "s1", "iss": "https://evil.example"}, {"sub": "s1", "aud": "another-client"},
                   {"sub": "s1", "exp": int(time.time()) - 10}):
        provider.claims = claims
        with pytest.raises(SuspiciousOperation):
            callback(invitation_token=token)
    provider.claims = {"sub": "s1"}
    with pytest.raises(SuspiciousOperation):
        callback(invitation_token=token, nonce="another-nonce")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.id_token = lambda key=None, original=provider.id_token: original(key=other_key)
    with pytest.raises(SuspiciousOperation):
        callback(invitation_token=token)
    assert not ExternalIdentity.objects.exists() and not Membership.objects.exists()


def test_userinfo_for_another_subject_is_not_used(provider, org):
    do_add_user(email="ola@kongsvinger.kommune.no", organisation=org, role="reader", actor="test")
    provider.claims = {"sub": "s1"}
    provider.userinfo = {"sub": "s2", "email": "ola@kongsvinger.kommune.no", "email_verified": True}
    with override_settings(KLIMAINNKJOP_OIDC_TRUST_EMAIL=True):
        assert callback() is None


# --- production settings ---------------------------------------------------------------------------------------

def run_settings(tmp_path, code: str, **env):
    environment = {**os.environ, "KLIMAINNKJOP_DATA_DIR": str(tmp_path / "prod"), "DJANGO_SETTINGS_MODULE":
                   "klimainnkjop.settings", **env}
    for name in ("KLIMAINNKJOP_DEBUG", "KLIMAINNKJOP_OIDC_CLIENT_ID"):
        environment.pop(name, None)
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)


def test_the_deploy_check_is_clean_under_production_settings(tmp_path):
    result = run_settings(
        tmp_path, "from django.core.management import call_command; "
                  "call_command('check', deploy=True, fail_level='WARNING')",
        KLIMAINNKJOP_PRODUCTION="1", KLIMAINNKJOP_SECRET_KEY=secrets.token_urlsafe(64),
        KLIMAINNKJOP_ALLOWED_HOSTS="klima.kongsvinger.kommune.no")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout and "WARNING" not in result.stderr + result.stdout


def test_production_sets_secure_cookies_hsts_session_expiry_and_an_enforced_csp(tmp_path):
    result = run_settings(
        tmp_path, "from django.conf import settings as s; import json; print(json.dumps({k: str(getattr(s, k, None)) "
                  "for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
                  "'SECURE_HSTS_SECONDS', 'SESSION_EXPIRE_AT_BROWSER_CLOSE', 'DEBUG', 'CONTENT_SECURITY_POLICY', "
                  "'PASSWORD_HASHERS']}))",
        KLIMAINNKJOP_PRODUCTION="1", KLIMAINNKJOP_SECRET_KEY=secrets.token_urlsafe(64), KLIMAINNKJOP_DEBUG="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == values["SECURE_SSL_REDIRECT"] == "True"
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] == "True" and values["DEBUG"] == "False"
    assert int(values["SECURE_HSTS_SECONDS"]) >= 31536000
    assert "'script-src': [\"'self'\"]" in values["CONTENT_SECURITY_POLICY"]
    assert values["PASSWORD_HASHERS"].startswith("['django.contrib.auth.hashers.Argon2PasswordHasher'")


def test_production_refuses_to_start_with_the_default_or_a_short_secret_key(tmp_path):
    for key in ({}, {"KLIMAINNKJOP_SECRET_KEY": "embedded-default-not-for-production"},
                {"KLIMAINNKJOP_SECRET_KEY": "short"}):
        env = {k: v for k, v in os.environ.items() if k != "KLIMAINNKJOP_SECRET_KEY"}
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True, text=True,
            timeout=120, env={**env, "KLIMAINNKJOP_DATA_DIR": str(tmp_path / "prod"), "KLIMAINNKJOP_PRODUCTION": "1",
                              "DJANGO_SETTINGS_MODULE": "klimainnkjop.settings", **key})
        assert result.returncode != 0 and "KLIMAINNKJOP_SECRET_KEY" in result.stderr


def test_pages_carry_a_content_security_policy(client, db):
    response = client.get("/logg-inn/")
    policy = response.headers.get("Content-Security-Policy-Report-Only", "")  # enforced only in production
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
