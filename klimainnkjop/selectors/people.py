"""Reads for the administration pages: an organisation's units, people (memberships) and invitations.

Each takes an access.Scope and the organisation number (outside the scope: OutsideScope). Whether the person may
administer what they read is decided by the caller with access.can_administer."""
from __future__ import annotations

from django.shortcuts import get_object_or_404

from klimainnkjop.access import Scope, in_scope
from klimainnkjop.selectors.organisations import import_batches
from klimainnkjop.storage.models import ImportBatch, Invitation, Membership, TotpDevice, Unit


def own_memberships(user) -> list[Membership]:
    """The person's own roles, for their account page (by organisation name, then role)."""
    return list(Membership.objects.filter(user=user).select_related("organisation", "unit")
                .order_by("organisation__name", "role"))


def own_totp_device(user) -> TotpDevice | None:
    """The person's own second factor (confirmed or not), if any."""
    return TotpDevice.objects.filter(user=user).first()


ROLES = [code for code, _label in Membership.ROLES]  # every role, in the order of the model
STATUS_DELETED = ImportBatch.STATUS_DELETED


def role_of(scope: Scope, orgnr: str, user, role: str, unit_code: str | None) -> Membership | None:
    """The person's membership with this role in the organisation (for a unit, of that unit), if any."""
    scope.check(orgnr)
    found = Membership.objects.filter(user=user, organisation__orgnr=orgnr, role=role)
    found = found.filter(unit__code=unit_code) if unit_code else found.filter(unit__isnull=True)
    return found.first()


def all_memberships(scope: Scope, orgnr: str | None = None):
    """Every membership the scope sees (of one organisation, or all), by organisation, person and role."""
    rows = Membership.objects.select_related("user", "organisation", "unit").order_by(
        "organisation__orgnr", "user__username", "role")
    if orgnr is not None:
        scope.check(orgnr)
        return rows.filter(organisation__orgnr=orgnr)
    return rows if scope.everything else rows.filter(organisation__orgnr__in=scope.orgnrs or [])


def units(scope: Scope, orgnr: str) -> list[Unit]:
    """The organisation's units by code, with their parents."""
    scope.check(orgnr)
    return list(Unit.objects.filter(organisation__orgnr=orgnr).select_related("parent").order_by("code"))


def unit(scope: Scope, orgnr: str, pk: int) -> Unit:
    scope.check(orgnr)
    return get_object_or_404(Unit, organisation__orgnr=orgnr, pk=pk)


def memberships(scope: Scope, orgnr: str) -> list[Membership]:
    scope.check(orgnr)
    return list(Membership.objects.filter(organisation__orgnr=orgnr).select_related("user", "unit")
                .order_by("user__username", "role"))


def membership(scope: Scope, orgnr: str, pk: int) -> Membership:
    scope.check(orgnr)
    return get_object_or_404(Membership.objects.select_related("user", "unit"), organisation__orgnr=orgnr, pk=pk)


def invitations(scope: Scope, orgnr: str) -> list[Invitation]:
    """Newest first."""
    scope.check(orgnr)
    return list(Invitation.objects.filter(organisation__orgnr=orgnr).select_related("unit").order_by("-id"))


def invitation(scope: Scope, orgnr: str, pk: int) -> Invitation:
    scope.check(orgnr)
    return get_object_or_404(Invitation, organisation__orgnr=orgnr, pk=pk)


@in_scope
def import_batch(scope: Scope, orgnr: str, pk: int) -> ImportBatch:
    """One of the organisation's imports, as organisations.import_batches lists them (not for a scope of some of
    its units)."""
    return get_object_or_404(import_batches(scope, orgnr), pk=pk)
