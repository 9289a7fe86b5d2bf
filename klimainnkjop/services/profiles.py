from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext

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
        raise InvalidInput.at(str(path), gettext("cannot read the file (%(reason)s)"), reason=exc.strerror) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput.at(str(path), gettext("not UTF-8 text (byte %(byte)s: %(reason)s)"), byte=exc.start,
                              reason=exc.reason) from exc
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput.at(str(path), gettext("line %(line)s, column %(column)s: not valid JSON (%(reason)s)"),
                              line=exc.lineno, column=exc.colno, reason=exc.msg) from exc
    except RecursionError as exc:
        raise InvalidInput.at(str(path), gettext("not a profile: the JSON is nested too deeply")) from exc
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
