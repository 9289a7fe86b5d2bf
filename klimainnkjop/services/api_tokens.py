"""API tokens (issue 16 item 8): made for one organisation with scopes (read, import), the secret shown once and
only its SHA-256 kept; revoked with an audit row. A token's use sets last_used_at (at most once a minute per token,
no audit row: the imports a token makes are audited by their own services, with the token as the actor)."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors.api_tokens import secret_hash
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import ApiToken, Organisation

PREFIX = "kik_"  # every secret starts so, to be recognised in a log or a leaked file
USED_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often


def _facts(token: ApiToken) -> dict:
    return {"name": token.name, "scopes": list(token.scopes), "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


def parse_scopes(text: str | list[str]) -> list[str]:
    """'read,import' (or a list) -> the scopes in their canonical order; InvalidInput naming an unknown one."""
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s and s.strip()]
    unknown = [s for s in items if s not in ApiToken.SCOPES]
    if unknown or not items:
        raise InvalidInput.at("scope", gettext("%(scopes)s; choose read, import or both (read,import)"),
                              scopes=", ".join(unknown) or gettext("none given"))
    return [s for s in ApiToken.SCOPES if s in items]


def do_create_api_token(*, organisation: Organisation, name: str, scopes: str | list[str],
                        expires_at: dt.datetime | None = None, actor: Any = None) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only the secret's SHA-256 is stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput.at("name", gettext("give the token a name of 1 to 100 characters (who or what uses it)"))
    wanted = parse_scopes(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput.at("expires", gettext("the date has passed"))
    secret = PREFIX + secrets.token_urlsafe(32)
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        token = ApiToken.objects.create(organisation=organisation, name=name, scopes=wanted, prefix=secret[:12],
                                        secret_sha256=secret_hash(secret), created_by=user, expires_at=expires_at)
        record_audit(actor=actor, action=Action.CREATE_API_TOKEN, obj=token, organisation=organisation,
                     after=_facts(token))
    return token, secret


def do_revoke_api_token(*, token: ApiToken, actor: Any = None) -> ApiToken:
    """Revokes the token at once (a second revoke changes nothing and writes nothing)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("organisation").get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        before = _facts(token)
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit(actor=actor, action=Action.REVOKE_API_TOKEN, obj=token, organisation=token.organisation,
                     before=before, after=_facts(token))
    return token


def note_api_token_used(token: ApiToken, now: dt.datetime | None = None) -> None:
    """Sets last_used_at (at most once a USED_EVERY per token; no audit row, a GET is not a change)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_actor(token: ApiToken) -> str:
    """The actor an import through the API is recorded with in the audit log."""
    return f"api-token:{token.pk}:{token.name}"[:150]
