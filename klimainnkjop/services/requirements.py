"""The requirement library: the shipped starter library (data/requirements.json) and administrators' changes.

Each change is a new version (RequirementVersion keeps every version's content) with an audit entry. The
expected effect is what the measures' calculation uses:
  {"kind": "switch", "from": CATEGORY, "to": CATEGORY, "share": 0..1}  a share of the spend moves to another
                                                                       category's factor
  {"kind": "intensity_cut", "percent": 0..100}                         the category's intensity falls by p %
  {"kind": "none"}                                                     no effect of its own (reporting, sanctions)
"""
from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.paths import SHIPPED_DATA
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import Category, Requirement, RequirementVersion
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor

LIBRARY_FILE = SHIPPED_DATA / "requirements.json"
KINDS = [k for k, _ in Requirement.KINDS]
CONTENT = ("kind", "categories", "title", "text", "verification", "legal_note", "expected_effect", "min_value_nok",
           "guidance", "status")


def requirement_dict(item: Requirement) -> dict:
    return {"id": item.code, "kind": item.kind, "categories": list(item.categories), "title": item.title,
            "text": item.text, "verification": item.verification, "legal_note": item.legal_note,
            "expected_effect": dict(item.expected_effect), "min_value_nok": item.min_value_nok,
            "guidance": item.guidance, "version": item.version, "status": item.status}


def check_effect(effect: Any, categories: set[str] | None = None) -> dict:
    """The effect as stored, or InvalidInput saying what is wrong with it."""
    if not isinstance(effect, dict) or effect.get("kind") not in ("switch", "intensity_cut", "none"):
        raise InvalidInput.at("expected_effect", gettext("an object with kind switch, intensity_cut or none"))
    known = categories if categories is not None else set(Category.objects.values_list("code", flat=True))
    if effect["kind"] == "switch":
        share = effect.get("share")
        if effect.get("from") not in known or effect.get("to") not in known:
            raise InvalidInput.at("expected_effect", gettext(
                "'from' and 'to' must be categories, not %(source)r and %(target)r"), source=effect.get("from"),
                target=effect.get("to"))
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise InvalidInput.at("expected_effect", gettext("'share' must be a number above 0 and at most 1"))
        return {"kind": "switch", "from": effect["from"], "to": effect["to"], "share": float(share)}
    if effect["kind"] == "intensity_cut":
        percent = effect.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 < percent <= 100:
            raise InvalidInput.at("expected_effect", gettext("'percent' must be a number above 0 and at most 100"))
        return {"kind": "intensity_cut", "percent": float(percent)}
    return {"kind": "none"}


def _clean(values: dict, known: set[str]) -> dict:
    kind = values.get("kind")
    if kind not in KINDS:
        raise InvalidInput.at("kind", gettext("%(kind)r is not one of %(kinds)s"), kind=kind, kinds=", ".join(KINDS))
    categories = list(values.get("categories") or [])
    unknown = [c for c in categories if c not in known]
    if not categories or unknown:
        if unknown:
            raise InvalidInput.at("categories", gettext("one or more known categories; unknown: %(unknown)s"),
                                  unknown=unknown)
        raise InvalidInput.at("categories", gettext("one or more known categories"))
    title, text = str(values.get("title") or "").strip(), str(values.get("text") or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput.at("title", gettext("must be 1 to 200 characters"))
    if not text:
        raise InvalidInput.at("text", gettext("must not be empty"))
    status = values.get("status") or Requirement.STATUS_ACTIVE
    if status not in Requirement.STATUSES:
        raise InvalidInput.at("status", gettext("%(status)r is not one of %(statuses)s"), status=status,
                              statuses=", ".join(Requirement.STATUSES))
    min_value = values.get("min_value_nok") or 0
    if isinstance(min_value, bool) or not isinstance(min_value, int) or min_value < 0:
        raise InvalidInput.at("min_value_nok", gettext("a whole number of kroner, 0 or more"))
    return {"kind": kind, "categories": categories, "title": title, "text": text,
            "verification": str(values.get("verification") or "").strip(),
            "legal_note": str(values.get("legal_note") or "").strip(),
            "expected_effect": check_effect(values.get("expected_effect") or {"kind": "none"}, known),
            "min_value_nok": min_value, "guidance": str(values.get("guidance") or "").strip()[:500],
            "status": status}


def do_save_requirement(*, code: str, values: dict, actor: ActorLike = None, shipped: bool = False) -> Requirement:
    """Create a requirement or change it (a new version, the old one kept); nothing is saved when nothing
    changes."""
    code = code.strip()
    if not code or len(code) > 40:
        raise InvalidInput.at("id", gettext("must be 1 to 40 characters"))
    known = set(Category.objects.values_list("code", flat=True))
    content = _clean(values, known)
    with transaction.atomic():
        item = Requirement.objects.select_for_update().filter(code=code).first()
        before = requirement_dict(item) if item else None
        if item is not None and all(getattr(item, k) == v for k, v in content.items()):
            return item
        if item is None:
            item = Requirement(code=code, shipped=shipped, version=1)
        else:
            item.version += 1
        for key, value in content.items():
            setattr(item, key, value)
        item.save()
        user = as_actor(actor).user
        RequirementVersion.objects.create(requirement=item, version=item.version, content=requirement_dict(item),
                                          changed_by=user)
        record_audit(actor=actor, action=Action.CREATE_REQUIREMENT if before is None else Action.CHANGE_REQUIREMENT,
                     obj=item, before=before, after=requirement_dict(item))
    return item


def do_load_requirement_library(*, actor: ActorLike = None) -> int:
    """The shipped starter library: adds the requirements not yet in the library (an administrator's later
    changes are kept). Returns how many were added."""
    entries = json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))
    present = set(Requirement.objects.filter(code__in=[e["code"] for e in entries]).values_list("code", flat=True))
    added = 0
    for entry in entries:
        if entry["code"] in present:
            continue
        do_save_requirement(code=entry["code"], values={k: entry.get(k) for k in CONTENT}, actor=actor, shipped=True)
        added += 1
    return added
