"""People and the structure they work in: users, memberships, invitations, organisation and unit details.

Every write records an audit entry with before and after; a password or a token is never in one.
A person's username is their e-mail address, lower-cased.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from klimainnkjop import access
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput, organisation_dict
from klimainnkjop.storage.models import Invitation, Membership, Organisation, Unit
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor

ROLES = [code for code, _ in Membership.ROLES]
INVITATION_DAYS = 14


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput.at("email", gettext("%(email)r is not an e-mail address"), email=email) from exc
    return email


def _user_dict(user) -> dict:
    return {"username": user.get_username(), "email": user.email, "is_active": user.is_active,
            "has_password": user.has_usable_password()}


def _membership_dict(m: Membership) -> dict:
    return {"user": m.user.get_username(), "organisation": m.organisation.orgnr, "role": m.role,
            "unit": m.unit.code if m.unit_id else None}


def _check_role(role: str, organisation: Organisation, unit_code: str | None) -> Unit | None:
    if role not in ROLES:
        raise InvalidInput.at("role", gettext("%(role)r must be one of %(roles)s"), role=role, roles=", ".join(ROLES))
    if role == "unit-leader" and not unit_code:
        raise InvalidInput.at("unit", gettext("a unit-leader needs --unit, a unit (ansvar) code of the organisation"))
    if unit_code and role != "unit-leader":
        raise InvalidInput.at("unit", gettext("only a unit-leader is limited to a unit, not a %(role)s"), role=role)
    if not unit_code:
        return None
    unit = Unit.objects.filter(organisation=organisation, code=unit_code).first()
    if unit is None:
        raise InvalidInput.at("unit", gettext("%(orgnr)s has no unit %(unit)r"), orgnr=organisation.orgnr,
                              unit=unit_code)
    return unit


def check_password(password: str, user=None) -> None:
    """Django's password validators; InvalidInput naming the field."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("password: " + " ".join(exc.messages)) from exc


def find_user(email: str):
    return get_user_model().objects.filter(username=normalise_email(email)).first()


def do_create_user(*, email: str, password: str | None = None, organisation: Organisation | None = None,
                   actor: ActorLike = None):
    """A person. Without a password, the password is unusable: they sign in through OIDC or get one later."""
    email = normalise_email(email)
    users = get_user_model().objects
    with transaction.atomic():
        if users.filter(username=email).exists():
            raise InvalidInput.at("email", gettext("a user %(email)s exists already"), email=email)
        user = users.model(username=email, email=email)
        if password is not None:
            check_password(password, user)
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        record_audit(actor=actor, action=Action.CREATE_USER, obj=user, object_type="User", organisation=organisation,
                     after=_user_dict(user))
    return user


def do_add_membership(*, user, organisation: Organisation, role: str, unit_code: str | None = None,
                      actor: ActorLike = None) -> tuple[Membership, bool]:
    """Returns (membership, created). The same role again is a no-op."""
    unit = _check_role(role, organisation, unit_code)
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role,
                                                               unit=unit)
        if created:
            record_audit(actor=actor, action=Action.ADD_MEMBERSHIP, obj=membership, organisation=organisation,
                         after=_membership_dict(membership))
    return membership, created


def do_remove_membership(*, membership: Membership, actor: ActorLike = None) -> None:
    with transaction.atomic():
        before = _membership_dict(membership)
        pk, organisation = membership.pk, membership.organisation
        membership.delete()
        record_audit(actor=actor, action=Action.REMOVE_MEMBERSHIP, object_type="Membership", object_id=str(pk),
                     organisation=organisation, before=before, after=None)


def do_add_user(*, email: str, organisation: Organisation, role: str, unit_code: str | None = None,
                password: str | None = None, actor: ActorLike = None) -> tuple[Any, Membership, bool]:
    """`user add`: the person (created when new) with one more role. Returns (user, membership, user_created).

    Everything is checked before anything is written; a password for an existing user is refused (use
    do_set_password), so `user add` never silently changes someone's password.
    """
    email = normalise_email(email)
    _check_role(role, organisation, unit_code)
    with transaction.atomic():
        user = find_user(email)
        created = user is None
        if created:
            user = do_create_user(email=email, password=password, organisation=organisation, actor=actor)
        elif password is not None:
            raise InvalidInput.at("password", gettext(
                "%(email)s exists already; change a password with `user set-password`"), email=email)
        membership, _ = do_add_membership(user=user, organisation=organisation, role=role, unit_code=unit_code,
                                          actor=actor)
    return user, membership, created


def do_set_password(*, user, password: str, actor: ActorLike = None):
    check_password(password, user)
    with transaction.atomic():
        before = {"has_password": user.has_usable_password()}
        user.set_password(password)
        user.save(update_fields=["password"])
        record_audit(actor=actor, action=Action.SET_PASSWORD, obj=user, object_type="User", before=before,
                     after={"has_password": True})
    return user


def do_remove_password(*, user, actor: ActorLike = None):
    """Sign-in by password no longer possible (OIDC only)."""
    with transaction.atomic():
        before = {"has_password": user.has_usable_password()}
        user.set_unusable_password()
        user.save(update_fields=["password"])
        record_audit(actor=actor, action=Action.REMOVE_PASSWORD, obj=user, object_type="User", before=before,
                     after={"has_password": False})
    return user


def do_set_user_active(*, user, active: bool, actor: ActorLike = None):
    with transaction.atomic():
        before = _user_dict(user)
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_audit(actor=actor, action=Action.ACTIVATE_USER if active else Action.DEACTIVATE_USER, obj=user,
                     object_type="User", before=before, after=_user_dict(user))
    return user


# --- invitations: the only way an external sign-in gets a role ------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_dict(inv: Invitation) -> dict:
    return {"email": inv.email, "organisation": inv.organisation.orgnr, "role": inv.role,
            "unit": inv.unit.code if inv.unit_id else None, "expires_at": inv.expires_at.isoformat(),
            "accepted_at": inv.accepted_at.isoformat() if inv.accepted_at else None,
            "revoked_at": inv.revoked_at.isoformat() if inv.revoked_at else None}


def do_create_invitation(*, email: str, organisation: Organisation, role: str, unit_code: str | None = None,
                         days: int = INVITATION_DAYS, actor: ActorLike = None) -> tuple[Invitation, str]:
    """Returns (invitation, token). The token goes into the link sent to the person and is stored only hashed."""
    email = normalise_email(email)
    unit = _check_role(role, organisation, unit_code)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email, organisation=organisation, role=role, unit=unit, token_sha256=token_hash(token),
            created_by=as_actor(actor).user,
            expires_at=timezone.now() + dt.timedelta(days=days))
        record_audit(actor=actor, action=Action.CREATE_INVITATION, obj=invitation, organisation=organisation,
                     after=_invitation_dict(invitation))
    return invitation, token


def do_revoke_invitation(*, invitation: Invitation, actor: ActorLike = None) -> Invitation:
    with transaction.atomic():
        before = _invitation_dict(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_audit(actor=actor, action=Action.REVOKE_INVITATION, obj=invitation, organisation=invitation.organisation,
                     before=before, after=_invitation_dict(invitation))
    return invitation


def open_invitations():
    now = timezone.now()
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


def hands_over(invitation: Invitation, person) -> bool:
    """Whether the invitation's link may give its holder the existing account `person` (a first password, a
    sign-in identity linked): access.may_hand_over for the person who made it. Otherwise the person signs in as
    themselves and accepts."""
    return access.may_hand_over(invitation.created_by, person)


def do_accept_invitation(*, invitation: Invitation, user, actor: ActorLike = None) -> Membership:
    """The invited person (signed in) takes up the invitation: the membership it names is added."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not open_invitations().filter(pk=invitation.pk).exists():
            raise InvalidInput.at("invitation", gettext("expired, revoked or used already"))
        before = _invitation_dict(invitation)
        membership, _ = do_add_membership(user=user, organisation=invitation.organisation, role=invitation.role,
                                          unit_code=invitation.unit.code if invitation.unit_id else None,
                                          actor=actor or user)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record_audit(actor=actor or user, action=Action.ACCEPT_INVITATION, obj=invitation,
                     organisation=invitation.organisation, before=before,
                     after=_invitation_dict(invitation) | {"user": user.get_username()})
    return membership


# --- organisation and unit details (what the admin pages change) ---------------------------------------------

def do_update_organisation(*, organisation: Organisation, name: str | None = None, kind: str | None = None,
                           actor: ActorLike = None) -> Organisation:
    if name is not None and not name.strip():
        raise InvalidInput.at("name", gettext("must not be empty"))
    if kind is not None and kind not in {Organisation.KIND_KOMMUNE, Organisation.KIND_IKS}:
        raise InvalidInput.at("kind", gettext("%(kind)r must be kommune or iks"), kind=kind)
    with transaction.atomic():
        before = organisation_dict(organisation)
        if name is not None:
            organisation.name = name.strip()
        if kind is not None:
            organisation.kind = kind
        organisation.save()
        record_audit(actor=actor, action=Action.UPDATE_ORGANISATION, obj=organisation, organisation=organisation,
                     before=before, after=organisation_dict(organisation))
    return organisation


def _unit_dict(unit: Unit) -> dict:
    return {"organisation": unit.organisation.orgnr, "code": unit.code, "name": unit.name,
            "parent": unit.parent.code if unit.parent_id else None}


def do_update_unit(*, unit: Unit, name: str | None = None, parent_code: str | None = None,
                   clear_parent: bool = False, actor: ActorLike = None) -> Unit:
    """Rename a unit or place it under another unit of the same organisation (the hierarchy unit leaders see)."""
    parent = None
    if parent_code:
        parent = Unit.objects.filter(organisation=unit.organisation, code=parent_code).first()
        if parent is None:
            raise InvalidInput.at("parent", gettext("%(orgnr)s has no unit %(unit)r"), orgnr=unit.organisation.orgnr,
                                   unit=parent_code)
        ancestor = parent
        while ancestor is not None:
            if ancestor.pk == unit.pk:
                raise InvalidInput.at("parent", gettext("%(parent)s is %(unit)s or below it; units form a tree"),
                                      parent=parent_code, unit=unit.code)
            ancestor = ancestor.parent
    with transaction.atomic():
        before = _unit_dict(unit)
        if name is not None:
            unit.name = name.strip()
        if parent is not None:
            unit.parent = parent
        elif clear_parent:
            unit.parent = None
        unit.save()
        record_audit(actor=actor, action=Action.UPDATE_UNIT, obj=unit, organisation=unit.organisation, before=before,
                     after=_unit_dict(unit))
    return unit
