"""Requests per API token and minute, counted in Django's cache (shared by every server process: files in the data
directory, or Redis). A fixed window of 60 s; over the limit the API answers 429 with Retry-After."""
from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW = 60


def limit() -> int:
    return int(getattr(settings, "KLIMAINNKJOP_API_RATE_PER_MINUTE", 120))


def hit(key: str, now: float | None = None) -> int | None:
    """Counts a request of the token with this key; None while within the limit, else the seconds until the next
    window (Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    name = f"api-rate:{key}:{window}"
    cache.add(name, 0, WINDOW * 2)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, WINDOW * 2)
        count = 1
    if count <= limit():
        return None
    return max(1, int((window + 1) * WINDOW - now + 0.999))
