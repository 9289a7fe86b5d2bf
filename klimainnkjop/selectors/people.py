"""Reads for the administration pages: an organisation's units, people (memberships) and invitations.

The caller has decided access (access.can_administer) for the organisation; these only read it."""
from __future__ import annotations

from django.shortcuts import get_object_or_404

from klimainnkjop.storage.models import ImportBatch, Invitation, Membership, Organisation, TotpDevice, Unit


def own_memberships(user) -> list[Membership]:
    """The person's own roles, for their account page (by organisation name, then role)."""
    return list(Membership.objects.filter(user=user).select_related("organisation", "unit")
                .order_by("organisation__name", "role"))


def own_totp_device(user) -> TotpDevice | None:
    """The person's own second factor (confirmed or not), if any."""
    return TotpDevice.objects.filter(user=user).first()


def units(org: Organisation) -> list[Unit]:
    """The organisation's units by code, with their parents."""
    return list(Unit.objects.filter(organisation=org).select_related("parent").order_by("code"))


def unit(org: Organisation, pk: int) -> Unit:
    return get_object_or_404(Unit, organisation=org, pk=pk)


def memberships(org: Organisation) -> list[Membership]:
    return list(Membership.objects.filter(organisation=org).select_related("user", "unit")
                .order_by("user__username", "role"))


def membership(org: Organisation, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "unit"), organisation=org, pk=pk)


def invitations(org: Organisation) -> list[Invitation]:
    """Newest first."""
    return list(Invitation.objects.filter(organisation=org).select_related("unit").order_by("-id"))


def invitation(org: Organisation, pk: int) -> Invitation:
    return get_object_or_404(Invitation, organisation=org, pk=pk)


def import_batch(org: Organisation, pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch, organisation=org, pk=pk)
