"""Reads of the audit log. Region administrators read all of it; an auditor reads their organisation's
entries and those of the shared reference data (factor sets, categories, mappings, rates, compute runs) that
its figures depend on. Nobody else reads it."""
from __future__ import annotations

import datetime as dt
import json

from django.db.models import Q
from django.utils import timezone

from klimainnkjop.access import Scope, scope_for
from klimainnkjop.core import cells
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.storage.models import AuditEntry

# Entries without an organisation that every auditor may read: changes of shared reference data.
SHARED_OBJECT_TYPES = frozenset({"FactorSet", "Category", "CategoryMapping", "ExchangeRate", "PriceIndex",
                                 "SupplierFactor", "ComputeRun", "ReferenceData"})
FIELDS = ["id", "who", "when", "action", "object", "organisation", "before", "after"]


def _scope(scope_or_user) -> Scope:
    return scope_or_user if isinstance(scope_or_user, Scope) else scope_for(scope_or_user)


def audit_entries(scope_or_user, org: str | None = None, *, include_shared: bool = True,
                  since: dt.datetime | None = None, until: dt.datetime | None = None):
    """Audit entries, newest first. Raises access.OutsideScope for an organisation outside the scope and
    PermissionError where the scope may not read the log."""
    scope = _scope(scope_or_user)
    shared = Q(organisation__isnull=True, object_type__in=SHARED_OBJECT_TYPES)
    if org is not None:
        scope.check_audit(org)
        condition = Q(organisation__orgnr=org) | shared if include_shared else Q(organisation__orgnr=org)
        entries = AuditEntry.objects.filter(condition)
    elif scope.audit is None:
        entries = AuditEntry.objects.all()
    elif scope.audit:
        condition = Q(organisation__orgnr__in=scope.audit)
        entries = AuditEntry.objects.filter(condition | shared if include_shared else condition)
    else:
        scope.check_audit(None)  # raises PermissionError
        entries = AuditEntry.objects.none()
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.select_related("organisation", "actor").order_by("-id")


def audit_row(entry: AuditEntry) -> dict:
    """One entry as a flat record: who, when (local time), action, object, organisation, before, after."""
    return {
        "id": entry.pk,
        "who": entry.actor.get_username() if entry.actor_id and entry.actor else entry.actor_label,
        "when": timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
        "action": entry.action,
        "object": f"{entry.object_type}#{entry.object_id}" if entry.object_id else entry.object_type,
        "organisation": entry.organisation.orgnr if entry.organisation_id and entry.organisation else "",
        "before": entry.before,
        "after": entry.after,
    }


def audit_csv(rows: list[dict]) -> str:
    """The audit export as text: `;`-separated with a byte-order mark, as Norwegian Excel opens it; before/after
    as JSON text. One writer for the CLI and the web, the product's export writer (core/cells.py)."""
    return cells.csv_records([{k: (json.dumps(v, ensure_ascii=False, sort_keys=True) if k in ("before", "after")
                                   and v is not None else v) for k, v in row.items()} for row in rows], FIELDS)


# Audit actions of a session, not of the data: they leave every page's content as it was.
SESSION_ACTIONS = tuple(a.value for a in (Action.SIGN_IN, Action.SIGN_IN_EXTERNAL, Action.FAIL_SIGN_IN,
                                          Action.SIGN_OUT))


def last_change() -> str:
    """The last committed change of the data, for cache keys (web.views.cached_content): every state change writes
    an audit entry in the same transaction, so a new entry here means that something a page shows may have changed.
    Sign-ins and sign-outs do not count. Only an id and a time: it tells a reader nothing."""
    last = (AuditEntry.objects.exclude(action__in=SESSION_ACTIONS).order_by("-id")
            .values_list("id", "created_at").first())
    return "" if last is None else f"{last[0]}|{last[1].isoformat()}"


# Audit actions that change what the account computes (lines, their categories, factors, rates, the model, the members
# of the region): after one of them the figures are stale until the next compute run (services/autocompute.py).
DATA_ACTIONS = frozenset(a.value for a in (
    Action.IMPORT_LEDGER, Action.IMPORT_KOSTRA, Action.IMPORT_EHF, Action.IMPORT_SAFT, Action.IMPORT_SUPPLIER_STATS,
    Action.DELETE_IMPORT, Action.REPLACE_IMPORT, Action.OVERRIDE_LINE_CATEGORIES, Action.ADD_CLASSIFICATION_RULE,
    Action.DEACTIVATE_CLASSIFICATION_RULE, Action.SET_CATEGORY_MAPPING, Action.ADD_CATEGORY, Action.IMPORT_FACTOR_SET,
    Action.PUBLISH_FACTOR_SET, Action.ADD_SUPPLIER_FACTOR, Action.SET_EXCHANGE_RATE, Action.TRAIN_TEXT_MODEL,
    Action.LOAD_REFERENCE_DATA, Action.CREATE_ORGANISATION, Action.UPDATE_ORGANISATION, Action.IMPORT_SUPPLIER_REGISTER,
    Action.UPDATE_SUPPLIER,
    Action.ADD_CONSTRUCTION_PROJECT, Action.UPDATE_CONSTRUCTION_PROJECT, Action.IMPORT_CLIMATE_CALCULATION,
))


def last_data_change():
    """When the data the account is computed from last changed (an audit entry of DATA_ACTIONS), or None."""
    return (AuditEntry.objects.filter(action__in=DATA_ACTIONS).order_by("-id")
            .values_list("created_at", flat=True).first())
