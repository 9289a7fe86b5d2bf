from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

from klimainnkjop.selectors.audit import DATA_ACTIONS
from klimainnkjop.storage.models import AuditEntry, Organisation


# Sent once a change of the data the account is computed from (selectors.audit.DATA_ACTIONS) is committed, with the
# entry's action: services/autocompute.py listens (connected by web/apps.py, so every process with Django has it).
data_changed = Signal()


def record_audit(*, actor: Any, action: str, obj: Any = None, object_type: str = "", object_id: str = "",
                 organisation: Organisation | None = None, before: dict | None = None,
                 after: dict | None = None) -> AuditEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = getattr(actor, "username", None) or (actor if isinstance(actor, str) else "system")
    entry = AuditEntry.objects.create(
        actor=user, actor_label=label, organisation=organisation, action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=object_id or (str(getattr(obj, "pk", "")) if obj is not None else ""),
        before=before, after=after,
    )
    if action in DATA_ACTIONS:  # the figures are stale from now on: ask for a compute run once this commits
        transaction.on_commit(lambda: data_changed.send(sender=AuditEntry, action=action))
    return entry

