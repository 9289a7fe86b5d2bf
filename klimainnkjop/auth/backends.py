"""Authentication backends (listed in settings.AUTHENTICATION_BACKENDS)."""
from __future__ import annotations

import logging
import time

import jwt

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, SuspiciousOperation

from klimainnkjop.services import auth as auth_service

LOG = logging.getLogger(__name__)
INVITATION_SESSION_KEY = "klimainnkjop_invitation_token"
OIDC_REFUSAL_ATTRIBUTE = "klimainnkjop_oidc_refusal"  # set on the request when an identity maps to no person


def client_ip(request) -> str:
    """The client's address. Behind a proxy, REMOTE_ADDR is the address the trusted proxy appended to
    X-Forwarded-For (klimainnkjop.web.server.ForwardedFor, for KLIMAINNKJOP_TRUSTED_PROXY only); the header is not
    read here, since a client can forge it."""
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "") or ""


class LockoutModelBackend(ModelBackend):
    """Django's username/password backend, refusing a username from an address after repeated failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        ip = client_ip(request)
        if auth_service.is_locked_out(username, ip):
            LOG.warning("sign-in refused: %s from %s is locked out", username, ip or "-")
            raise PermissionDenied("locked out")  # stops the other backends too
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            auth_service.record_login_failure(username, ip)
        else:
            auth_service.clear_login_failures(username, ip)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


try:
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend
except ImportError:  # pragma: no cover - a dependency; kept importable for tools that only read settings
    OIDCAuthenticationBackend = object  # type: ignore[misc,assignment]


class OIDCBackend(OIDCAuthenticationBackend):
    """OpenID Connect (Entra ID, ID-porten) through mozilla-django-oidc's code flow with PKCE and nonce.

    mozilla-django-oidc checks the signature (JWKS), the algorithm and the nonce; here the issuer, audience and
    expiry are checked too, and the person is found by klimainnkjop.services.auth.do_sign_in_external (issuer
    + sub; invitations only), never created from claims alone.
    """

    def get_payload_data(self, token, key):
        try:
            return super().get_payload_data(token, key)
        except jwt.InvalidTokenError as exc:  # e.g. expired: a refusal (400), not a server error
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        issuer = settings.KLIMAINNKJOP_OIDC_ISSUER
        if payload.get("iss") != issuer:
            raise SuspiciousOperation("ID token from another issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        if not isinstance(payload.get("exp"), (int, float)) or payload["exp"] < time.time():
            raise SuspiciousOperation("ID token expired")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = dict(payload)
        if getattr(settings, "OIDC_OP_USER_ENDPOINT", None):
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") == payload.get("sub"):  # OIDC Core 5.3.2: else the userinfo must not be used
                claims.update({k: v for k, v in userinfo.items() if k not in {"iss", "sub", "aud"}})
        token = self.request.session.pop(INVITATION_SESSION_KEY, None) if self.request is not None else None
        try:
            return auth_service.do_sign_in_external(
                claims=claims, issuer=settings.KLIMAINNKJOP_OIDC_ISSUER, invitation_token=token,
                trust_email=settings.KLIMAINNKJOP_OIDC_TRUST_EMAIL)
        except auth_service.ExternalSignInRefused as exc:
            LOG.warning("OIDC sign-in refused: %s", exc)
            if self.request is not None:  # for the failed sign-in's audit entry (klimainnkjop/auth/signals.py)
                setattr(self.request, OIDC_REFUSAL_ATTRIBUTE, {"subject": str(claims.get("sub") or "")[:200],
                                                               "reason": str(exc)[:200]})
            return None

    def filter_users_by_claims(self, claims):  # never by e-mail alone: see do_sign_in_external
        return self.UserModel.objects.none()

    def create_user(self, claims):  # never from claims alone
        return None
