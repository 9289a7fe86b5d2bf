from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

from klimainnkjop.core.actors import ActorLike, as_actor
from klimainnkjop.core.audit_actions import KNOWN
from klimainnkjop.selectors.audit import DATA_ACTIONS
from klimainnkjop.storage.models import AuditEntry, Organisation

logger = logging.getLogger(__name__)

# Sent once a change of the data the account is computed from (selectors.audit.DATA_ACTIONS) is committed, with the
# entry's action: services/autocompute.py listens (connected by web/apps.py, so every process with Django has it).
data_changed = Signal()


class UnknownAuditAction(ValueError):
    """An audit action that is not in core/audit_actions.Action (add it there)."""


def record_audit(*, actor: ActorLike, action: str, obj: Any = None, object_type: str = "", object_id: str = "",
                 organisation: Organisation | None = None, before: dict | None = None,
                 after: dict | None = None) -> AuditEntry:
    """One audit entry: `actor` (an Actor, a user, a system actor's name or None: core/actors.as_actor) did
    `action` (a member of core/audit_actions.Action) to `obj` (or object_type + object_id)."""
    action = str(action)
    if action not in KNOWN:
        if getattr(settings, "KLIMAINNKJOP_STRICT_AUDIT_ACTIONS", False):
            raise UnknownAuditAction(f"audit action {action!r} is not in core/audit_actions.Action; add it there")
        logger.warning("audit action %r is not in core/audit_actions.Action", action)
    who = as_actor(actor)
    object_id = object_id or (str(getattr(obj, "pk", "")) if obj is not None else "")
    limit = AuditEntry._meta.get_field("object_id").max_length
    if len(object_id) > limit:  # a dropped file's path, say (kept whole in `after`); PostgreSQL refuses longer
        object_id = object_id[:limit - 1] + "…"
    entry = AuditEntry.objects.create(
        actor=who.user, actor_label=who.label, organisation=organisation, action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=object_id, before=before, after=after,
    )
    if action in DATA_ACTIONS:  # the figures are stale from now on: ask for a compute run once this commits
        transaction.on_commit(lambda: data_changed.send(sender=AuditEntry, action=action))
    return entry
