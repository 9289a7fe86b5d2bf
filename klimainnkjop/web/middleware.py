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
