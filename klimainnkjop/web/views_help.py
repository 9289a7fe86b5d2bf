"""The user guide (issue 18 item 6): the main tasks, step by step, for anyone (the method page is public too).

The guide is running text; it is written once per language as a template of its own (help/nb.html, help/en.html)
instead of a hundred msgids, and the active language picks it."""
from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import get_language

GUIDES = {"nb": "web/help/nb.html", "en": "web/help/en.html"}


def guide(request):
    language = (get_language() or "nb").split("-")[0]
    template = GUIDES.get(language, GUIDES["nb"] if language in ("no", "nn") else GUIDES["en"])
    return render(request, template, {})
