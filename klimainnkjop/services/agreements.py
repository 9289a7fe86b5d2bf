"""The agreement register: import of an agreement list, saving one agreement, saved column profiles.

Every write is a do_* with an audit entry. An import validates the whole file (formats in
importers/agreements.py; organisations and categories here, with the same file, row and column), then writes
in one transaction: agreements are matched on their number, so importing an updated list updates them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.core.errors import ImportRejected, InvalidInput, RowError, quoted, reason
from klimainnkjop.core.kostra import OrgNumber
from klimainnkjop.importers.agreements import AgreementProfile as ProfileSpec
from klimainnkjop.importers.agreements import AgreementRow, parse_agreements
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import Agreement, AgreementProfile, Category, Organisation
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike


def agreement_dict(agreement: Agreement) -> dict:
    return {"number": agreement.number, "name": agreement.name, "suppliers": list(agreement.suppliers),
            "categories": list(agreement.categories),
            "participants": sorted(agreement.participants.values_list("orgnr", flat=True)),
            "owner": agreement.owner.orgnr if agreement.owner_id else None, "contact": agreement.contact,
            "start": agreement.start.isoformat(), "end": agreement.end.isoformat(),
            "options_used": agreement.options_used, "options_left": agreement.options_left,
            "option_months": agreement.option_months,
            "estimated_yearly_nok": round(agreement.estimated_yearly_ore / 100, 2), "note": agreement.note}


@dataclass
class AgreementImport:
    file_name: str
    rows_read: int
    created: int
    updated: int
    unchanged: int


def do_import_agreements(*, data: bytes, file_name: str, profile_name: str | None = None,
                         actor: ActorLike = None) -> AgreementImport:
    """Validate the whole list, then create or update its agreements (matched on number) in one transaction."""
    profile = _profile(profile_name)
    parsed = parse_agreements(data, file_name, profile)
    organisations = {o.orgnr: o for o in Organisation.objects.all()}
    categories = set(Category.objects.values_list("code", flat=True))
    errors: list[RowError] = []
    columns = profile.columns
    for row in parsed.rows:
        unknown = [o for o in row.participants if o not in organisations]
        if unknown:
            errors.append(RowError(file_name, row.row_no, columns.get("participants"), reason(
                "not an organisation of the region: %(orgnrs)s", orgnrs=", ".join(unknown[:10]))))
        if row.owner and row.owner not in organisations:
            errors.append(RowError(file_name, row.row_no, columns.get("owner"), reason(
                "not an organisation of the region: %(orgnrs)s", orgnrs=row.owner)))
        bad = [c for c in row.categories if c not in categories]
        if bad:
            errors.append(RowError(file_name, row.row_no, columns.get("categories"), reason(
                "unknown category %(codes)s (see `klimainnkjop categories list`)",
                codes=", ".join(quoted(c, 40) for c in bad[:10]))))
    if errors:
        raise ImportRejected(errors)
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {a.number: a for a in Agreement.objects.filter(number__in=[r.number for r in parsed.rows])}
        for row in parsed.rows:
            agreement = existing.get(row.number)
            before = agreement_dict(agreement) if agreement else None
            agreement = _apply(agreement or Agreement(number=row.number), row, organisations)
            after = agreement_dict(agreement)
            if before == after:
                unchanged += 1
                continue
            created += before is None
            updated += before is not None
            record_audit(actor=actor, action=Action.IMPORT_AGREEMENT if before is None else Action.UPDATE_AGREEMENT,
                         obj=agreement, organisation=agreement.owner, before=before,
                         after={**after, "file": file_name})
    return AgreementImport(file_name, len(parsed.rows), created, updated, unchanged)


def _apply(agreement: Agreement, row: AgreementRow, organisations: dict[str, Organisation]) -> Agreement:
    agreement.name, agreement.suppliers, agreement.categories = row.name, row.suppliers, row.categories
    agreement.owner = organisations.get(row.owner) if row.owner else None
    agreement.contact, agreement.start, agreement.end = row.contact, row.start, row.end
    agreement.options_used, agreement.options_left = row.options_used, row.options_left
    agreement.option_months, agreement.estimated_yearly_ore, agreement.note = (
        row.option_months, row.estimated_yearly_ore, row.note)
    agreement.save()
    agreement.participants.set([organisations[o] for o in row.participants])
    return agreement


def _profile(name: str | None) -> ProfileSpec:
    if not name:
        return ProfileSpec.default()
    saved = AgreementProfile.objects.filter(name=name).first()
    if saved is None:
        known = ", ".join(AgreementProfile.objects.values_list("name", flat=True)) or "none"
        raise InvalidInput.at("--profile", gettext("no agreement profile named %(name)s (saved: %(known)s); "
                                                   "save one with `klimainnkjop agreements profile import FILE`"),
                              name=quoted(name), known=known)
    return ProfileSpec.from_spec(saved.spec, source=f"profile {name}")


def do_save_agreement_profile(*, spec: dict, actor: ActorLike = None, source: str = "profile") -> AgreementProfile:
    try:
        profile = ProfileSpec.from_spec(spec, source=source)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    with transaction.atomic():
        existing = AgreementProfile.objects.filter(name=profile.name).first()
        before = existing.spec if existing else None
        saved, _ = AgreementProfile.objects.update_or_create(name=profile.name, defaults={"spec": profile.to_spec()})
        record_audit(actor=actor, action=Action.SAVE_AGREEMENT_PROFILE, obj=saved, before=before, after=saved.spec)
    return saved


def do_save_agreement(*, number: str, name: str, suppliers: list[str], start: dt.date, end: dt.date,
                      categories: list[str] | None = None, participants: list[str] | None = None,
                      owner: str = "", contact: str = "", options_used: int = 0, options_left: int = 0,
                      option_months: int = 12, estimated_yearly_ore: int = 0, note: str = "",
                      actor: ActorLike = None) -> Agreement:
    """Create or change one agreement (the web form, the demo); InvalidInput naming the field for bad values."""
    number, name = number.strip(), name.strip()
    if not number or len(number) > 40:
        raise InvalidInput.at("number", gettext("must be 1 to 40 characters"))
    if not name or len(name) > 200:
        raise InvalidInput.at("name", gettext("must be 1 to 200 characters"))
    suppliers = [s.replace(" ", "") for s in suppliers if s.strip()]
    if not suppliers or not all(OrgNumber.is_well_formed(s) for s in suppliers):
        raise InvalidInput.at("suppliers", gettext("one or more 9-digit organisation numbers, not %(suppliers)r"),
                              suppliers=suppliers)
    if end < start:
        raise InvalidInput.at("end", gettext("%(end)s is before the start %(start)s"), end=end, start=start)
    if min(options_used, options_left) < 0 or option_months < 1 or estimated_yearly_ore < 0:
        raise InvalidInput.at(None, gettext("options and the estimated value must not be negative"))
    categories = list(categories or [])
    unknown = sorted(set(categories) - set(Category.objects.filter(code__in=categories).values_list("code", flat=True)))
    if unknown:
        raise InvalidInput.at("categories", gettext("unknown category %(codes)s"), codes=", ".join(unknown))
    organisations = {o.orgnr: o for o in Organisation.objects.filter(orgnr__in=[*(participants or []), owner])}
    missing = [o for o in [*(participants or []), *([owner] if owner else [])] if o not in organisations]
    if missing:
        raise InvalidInput.at("participants", gettext("not an organisation of the region: %(orgnrs)s"),
                              orgnrs=", ".join(missing))
    row = AgreementRow(row_no=0, number=number, name=name, suppliers=list(dict.fromkeys(suppliers)), start=start,
                       end=end, categories=categories, participants=list(dict.fromkeys(participants or [])),
                       owner=owner, contact=contact.strip()[:200], options_used=options_used,
                       options_left=options_left, option_months=option_months,
                       estimated_yearly_ore=estimated_yearly_ore, note=note)
    with transaction.atomic():
        agreement = Agreement.objects.filter(number=number).first()
        before = agreement_dict(agreement) if agreement else None
        agreement = _apply(agreement or Agreement(number=number), row, organisations)
        record_audit(actor=actor, action=Action.CREATE_AGREEMENT if before is None else Action.UPDATE_AGREEMENT,
                     obj=agreement, organisation=agreement.owner, before=before, after=agreement_dict(agreement))
    return agreement


def do_delete_agreement(*, agreement: Agreement, actor: ActorLike = None) -> None:
    with transaction.atomic():
        before = agreement_dict(agreement)
        owner, pk = agreement.owner, agreement.pk
        agreement.delete()
        record_audit(actor=actor, action=Action.DELETE_AGREEMENT, object_type="Agreement", object_id=str(pk),
                     organisation=owner, before=before)
