"""Bokmål by default: the browser's Accept-Language is not asked.

Municipal staff often run English-language browsers but expect the tool in Norwegian, so the language is
bokmål until the person chooses another with the language switch (Django's set_language cookie). Install
before django.middleware.locale.LocaleMiddleware.
"""
from __future__ import annotations

from django.conf import settings


class DefaultLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ScopeMiddleware:
    """Every request runs in a scope (access.activate, django-scopes): the signed-in person's access.scope_for, or on
    the JSON API (/api/) the bearer token's access.scope_for_api_token (api/v1.TokenAuth checks the token again, with
    its rate limit). Queries of organisation-bound models inside are filtered to the scope's organisations, so a view
    that forgot its filter cannot show another organisation's rows; anonymous visitors' scope holds no organisation.
    Install after django.contrib.auth.middleware.AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from klimainnkjop import access

        with access.activate(request_scope(request)):
            return self.get_response(request)


def request_scope(request):
    from klimainnkjop import access

    if request.path_info.startswith("/api/"):
        from klimainnkjop.selectors.api_tokens import token_for_secret

        kind, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token_for_secret(secret.strip()) if kind.lower() == "bearer" else None
        return access.scope_for_api_token(token)
    return access.scope_for(request.user)
