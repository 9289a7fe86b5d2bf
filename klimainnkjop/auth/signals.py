"""The one place where sign-ins, sign-outs and failed sign-ins become audit entries: receivers of Django's
user_logged_in, user_logged_out and user_login_failed signals (connected by StorageConfig.ready).

- Password sign-in (with or without the TOTP step), OpenID Connect sign-in and the invitation's sign-in all go
  through django.contrib.auth.login, which sends user_logged_in; logout sends user_logged_out.
- authenticate() sends user_login_failed when no backend accepts the credentials, also when the lockout refuses
  them; a wrong TOTP code sends it from the sign-in's second step (web/views_account.py) with the username only;
  an OpenID Connect callback whose identity maps to no person sends it from authenticate() too.
Only the username and the client's address are kept; Django passes the credentials with the password masked, and
nothing else of them is read here.
"""
from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from klimainnkjop.auth.backends import OIDC_REFUSAL_ATTRIBUTE, client_ip
from klimainnkjop.services import auth as auth_service

OIDC_CREDENTIALS = {"nonce", "code_verifier"}  # what mozilla-django-oidc's callback passes to authenticate()


def sign_in_method(user) -> str:
    backend = getattr(user, "backend", "") or ""
    if backend.endswith("OIDCBackend"):
        return "oidc"
    return "password+totp" if auth_service.has_second_factor(user) else "password"


@receiver(user_logged_in, dispatch_uid="klimainnkjop.audit.sign_in")
def audit_sign_in(sender, request, user, **kwargs) -> None:
    auth_service.record_sign_in(user=user, ip=client_ip(request), method=sign_in_method(user))


@receiver(user_logged_out, dispatch_uid="klimainnkjop.audit.sign_out")
def audit_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None and user.is_authenticated:
        auth_service.record_sign_out(user=user, ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="klimainnkjop.audit.sign_in_failed")
def audit_sign_in_failure(sender, credentials, request=None, **kwargs) -> None:
    credentials = credentials or {}
    if credentials.get("second_factor") == "totp":
        method = "password+totp"
    elif OIDC_CREDENTIALS & set(credentials):
        method = "oidc"
    else:
        method = "password"
    username = credentials.get("username")
    auth_service.record_sign_in_failure(username=username if isinstance(username, str) else "",
                                        ip=client_ip(request), method=method,
                                        detail=getattr(request, OIDC_REFUSAL_ATTRIBUTE, None))
