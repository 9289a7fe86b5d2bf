from __future__ import annotations


from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.core import kostra
from klimainnkjop.core.cells import db_text, without_nul
from klimainnkjop.storage.models import Organisation, Region, Unit
from klimainnkjop.services.audit import record_audit
from klimainnkjop.core.kostra import OrgNumber


from klimainnkjop.core.errors import InvalidInput  # noqa: E402,F401 - raised here, imported from here by callers
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike


def _org_dict(org: Organisation) -> dict:
    return {"orgnr": org.orgnr, "name": org.name, "kind": org.kind, "kostra_region": org.kostra_region or None}


def do_create_organisation(*, orgnr: str, name: str, kind: str = "kommune", kostra_region: str = "",
                           region_name: str | None = None, actor: ActorLike = None) -> Organisation:
    orgnr = orgnr.replace(" ", "")
    if not OrgNumber.is_well_formed(orgnr):
        raise InvalidInput.at("orgnr", gettext("%(orgnr)r is not a 9-digit organisation number"), orgnr=orgnr)
    if not OrgNumber.is_valid(orgnr):
        raise InvalidInput.at("orgnr", gettext(
            "%(orgnr)r is not an organisation number: the check digit (MOD11) is wrong"), orgnr=orgnr)
    if kind not in {Organisation.KIND_KOMMUNE, Organisation.KIND_IKS}:
        raise InvalidInput.at("kind", gettext("%(kind)r must be kommune or iks"), kind=kind)
    if not name.strip():
        raise InvalidInput.at("name", gettext("must not be empty"))
    region_code = ""
    if kostra_region:
        code = kostra_region.strip()
        if not (code.isdecimal() and len(code) in (4, 6)):
            raise InvalidInput.at("kostra-region", gettext("%(municipality)r is not a 4-digit municipality number"),
                                  municipality=kostra_region)
        region_code = kostra.current_region_code(code)
    with transaction.atomic():
        if Organisation.objects.filter(orgnr=orgnr).exists():
            raise InvalidInput.at("orgnr", gettext("an organisation with orgnr %(orgnr)s exists already"), orgnr=orgnr)
        region = None
        if region_name:
            region, _ = Region.objects.get_or_create(name=region_name)
        org = Organisation.objects.create(orgnr=orgnr, name=name.strip(), kind=kind, kostra_region=region_code,
                                          region=region)
        record_audit(actor=actor, action=Action.CREATE_ORGANISATION, obj=org, organisation=org, after=_org_dict(org))
    return org


def do_ensure_units(*, organisation: Organisation, units: dict[str, str], actor: ActorLike = None) -> int:
    """Create units (ansvar codes) seen in an import; names fill in where empty. Returns how many were new."""
    existing = {u.code: u for u in Unit.objects.filter(organisation=organisation)}
    limit = Unit._meta.get_field("name").max_length
    units = {without_nul(code): db_text(name, limit) for code, name in units.items()}
    new = [Unit(organisation=organisation, code=code, name=name) for code, name in units.items()
           if code and code not in existing]
    Unit.objects.bulk_create(new)
    for code, name in units.items():
        unit = existing.get(code)
        if unit is not None and name and not unit.name:
            unit.name = name
            unit.save(update_fields=["name"])
    if new:
        record_audit(actor=actor, action=Action.CREATE_UNITS, object_type="Unit", object_id=str(len(new)),
                     organisation=organisation, after={"codes": sorted(u.code for u in new)[:200]})
    return len(new)


def organisation_dict(org: Organisation) -> dict:
    return _org_dict(org)
