from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from klimainnkjop.importers.ledger import Profile
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage.models import MappingProfile, Organisation
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike


def read_profile_file(path: Path) -> dict:
    """The JSON of a profile file, or InvalidInput naming the file (and line and column) for anything else."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{path}: not a profile: the JSON is nested too deeply") from exc
    return spec


def do_save_profile(*, organisation: Organisation, spec: dict, actor: ActorLike = None,
                    source: str = "profile") -> MappingProfile:
    try:
        profile = Profile.from_spec(spec, source=source)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    with transaction.atomic():
        existing = MappingProfile.objects.filter(organisation=organisation, name=profile.name).first()
        before = existing.spec if existing else None
        saved, _ = MappingProfile.objects.update_or_create(
            organisation=organisation, name=profile.name, defaults={"spec": profile.to_spec()})
        record_audit(actor=actor, action=Action.SAVE_PROFILE, obj=saved, organisation=organisation, before=before,
                     after=saved.spec)
    return saved
