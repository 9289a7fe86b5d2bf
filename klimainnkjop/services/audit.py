from __future__ import annotations

from typing import Any

from klimainnkjop.storage.models import AuditEntry, Organisation


def record_audit(*, actor: Any, action: str, obj: Any = None, object_type: str = "", object_id: str = "",
                 organisation: Organisation | None = None, before: dict | None = None,
                 after: dict | None = None) -> AuditEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = getattr(actor, "username", None) or (actor if isinstance(actor, str) else "system")
    return AuditEntry.objects.create(
        actor=user, actor_label=label, organisation=organisation, action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=object_id or (str(getattr(obj, "pk", "")) if obj is not None else ""),
        before=before, after=after,
    )
