"""Enhetsregisteret's open API (Brønnøysundregistrene, NLOD licence): one unit by organisation number.

GET {base_url}/enheter/{orgnr} answers 200 with the unit, 404 when the number is not a unit, 410 when the
unit is deleted (the body then holds at most `organisasjonsnummer` and `slettedato`). Answers are cached
as files under DATA_DIR/cache/brreg/ (one JSON file per number, with the time it was fetched) and reused
until they are older than `cache_ttl`; 404 and 410 are cached too, so an unknown number is not asked for
again on every refresh. Network problems, time-outs and unexpected answers raise BrregError with the
number and the cause.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from klimainnkjop import paths
from klimainnkjop.core.kostra import OrgNumber

DEFAULT_BASE_URL = "https://data.brreg.no/enhetsregisteret/api"
ENV_BASE_URL = "KLIMAINNKJOP_BRREG_URL"
ACCEPT = "application/json"
FOUND, NOT_FOUND, DELETED = "found", "not_found", "deleted"


class BrregError(Exception):
    """A lookup that could not be answered (network, time-out, server error, unreadable answer)."""


@dataclass
class Lookup:
    orgnr: str
    status: str                 # found | not_found | deleted
    data: dict | None           # the unit (found), or the 410 body (deleted)
    fetched_at: dt.datetime     # when the register answered (UTC)
    from_cache: bool


class BrregClient:
    def __init__(self, *, base_url: str | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, cache_ttl: dt.timedelta = dt.timedelta(days=30),
                 cache_dir: Path | None = None, now=None):
        self.base_url = (base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")
        self.cache_ttl = cache_ttl
        self._cache_dir = cache_dir
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.requests = 0
        self._http = httpx.Client(transport=transport, timeout=httpx.Timeout(timeout),
                                  headers={"Accept": ACCEPT, "User-Agent": "klimainnkjop"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "BrregClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ cache

    def cache_dir(self) -> Path:
        folder = self._cache_dir or paths.data_dir() / "cache" / "brreg"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _cached(self, orgnr: str) -> Lookup | None:
        file = self.cache_dir() / f"{orgnr}.json"
        try:
            entry = json.loads(file.read_text(encoding="utf-8"))
            fetched = dt.datetime.fromisoformat(entry["fetched_at"])
        except (OSError, ValueError, KeyError):
            return None
        if self._now() - fetched > self.cache_ttl:
            return None
        return Lookup(orgnr, entry["status"], entry.get("data"), fetched, True)

    def _store(self, lookup: Lookup) -> None:
        file = self.cache_dir() / f"{lookup.orgnr}.json"
        tmp = file.with_name(f"{file.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps({"status": lookup.status, "fetched_at": lookup.fetched_at.isoformat(),
                                   "data": lookup.data}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, file)

    # ------------------------------------------------------------ lookups

    def lookup(self, orgnr: str, *, use_cache: bool = True) -> Lookup:
        if not OrgNumber.is_well_formed(orgnr):
            raise BrregError(f"{orgnr!r}: not a 9-digit organisation number")
        if use_cache:
            cached = self._cached(orgnr)
            if cached is not None:
                return cached
        url = f"{self.base_url}/enheter/{orgnr}"
        self.requests += 1
        try:
            response = self._http.get(url)
        except httpx.TimeoutException as exc:
            raise BrregError(f"{orgnr}: Enhetsregisteret did not answer in time "
                             f"({type(exc).__name__} at {url})") from exc
        except httpx.HTTPError as exc:
            raise BrregError(f"{orgnr}: cannot reach Enhetsregisteret at {url} ({exc})") from exc
        now = self._now()
        if response.status_code == 404:
            result = Lookup(orgnr, NOT_FOUND, None, now, False)
        elif response.status_code == 410:
            result = Lookup(orgnr, DELETED, _json_or_none(response), now, False)
        elif response.status_code == 200:
            data = _json_or_none(response)
            if not isinstance(data, dict) or data.get("organisasjonsnummer") != orgnr:
                raise BrregError(f"{orgnr}: Enhetsregisteret's answer is not the unit asked for ({url})")
            result = Lookup(orgnr, FOUND, data, now, False)
        else:
            raise BrregError(f"{orgnr}: Enhetsregisteret answered HTTP {response.status_code} at {url}")
        self._store(result)
        return result


def _json_or_none(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None
