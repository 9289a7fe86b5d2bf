"""The JSON API speaks English, as the CLI does: its own messages are English, and a service's refusal
(core/errors.InvalidInput, made through gettext) comes out in the same language instead of the site's bokmål."""
from __future__ import annotations

from django.utils import translation

API_PREFIX = "/api/"


class EnglishApiMiddleware:
    """Install after django.middleware.locale.LocaleMiddleware (which picks the pages' language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        with translation.override("en"):
            response = self.get_response(request)
        response.headers["Content-Language"] = "en"  # (LocaleMiddleware only sets it where it is not set)
        return response
