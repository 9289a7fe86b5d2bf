"""Reads of API tokens (issue 16 item 8): an organisation's tokens for its administrators' page and the CLI, and the
token a request's secret names (the API's authentication; no scope yet, since the token is what gives one)."""
from __future__ import annotations

import hashlib

from klimainnkjop.access import Scope, in_scope
from klimainnkjop.storage.models import ApiToken


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def token_for_secret(secret: str) -> ApiToken | None:
    """The token whose secret this is (revoked and expired ones too: access.api_token_usable decides), or None."""
    if not secret or len(secret) > 200:
        return None
    # before any scope: the secret is what tells whose scope the request has (web/middleware.request_scope)
    return (ApiToken.objects.with_scopes_disabled().select_related("organisation")
            .filter(secret_sha256=secret_hash(secret)).first())


@in_scope
def tokens(scope: Scope, orgnr: str | None = None) -> list[ApiToken]:
    """The tokens of one organisation (orgnr None: of every organisation in the scope), newest first."""
    query = ApiToken.objects.select_related("organisation", "created_by")
    if orgnr is not None:
        scope.check(orgnr)
        query = query.filter(organisation__orgnr=orgnr)
    elif not scope.everything:
        query = query.filter(organisation__orgnr__in=scope.orgnrs or [])
    return list(query.order_by("organisation__orgnr", "-created_at", "-id"))


@in_scope
def token(scope: Scope, pk: int, orgnr: str | None = None) -> ApiToken:
    """One token in the scope (of the organisation, if named); LookupError if there is none."""
    query = ApiToken.objects.select_related("organisation")
    if orgnr is not None:
        scope.check(orgnr)
        query = query.filter(organisation__orgnr=orgnr)
    found = query.filter(pk=pk).first()
    if found is None or not scope.allows(found.organisation.orgnr):
        raise LookupError(f"no API token {pk}" + (f" of {orgnr}" if orgnr else ""))
    return found
