"""Sign-in: the lockout after repeated failures, the TOTP second factor, and mapping an OpenID Connect
identity to a person. The Django authentication backends that use these live in klimainnkjop.auth.

Rules:
- A password sign-in is refused for LOCKOUT_MINUTES once MAX_FAILURES failures of one username from one
  address fall within WINDOW_MINUTES (the refusal itself is not counted, so it ends on time).
- A TOTP code is accepted once (no replay) and within one 30-second step either side.
- An OIDC identity is issuer + `sub`. It is linked to a person only (a) by an administrator's invitation link
  (a secret token) or (b) by an e-mail address the provider vouches for (email_verified, and only where the
  operator trusts the provider's e-mail: KLIMAINNKJOP_OIDC_TRUST_EMAIL=1) that matches a person an
  administrator created or invited. Roles come only from invitations and administrators, never from claims.
"""
from __future__ import annotations

import datetime as dt
import logging

import pyotp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.services.users import (
    do_accept_invitation,
    do_create_user,
    hands_over,
    open_invitations,
    token_hash,
)
from klimainnkjop.storage.models import ExternalIdentity, LoginFailure, TotpDevice
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ANONYMOUS, OIDC, SYSTEM, ActorLike

LOG = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_MINUTES = 15
LOCKOUT_MINUTES = 15
TOTP_ISSUER = "Klimainnkjøp"


def _limits() -> tuple[int, dt.timedelta, dt.timedelta]:
    return (getattr(settings, "KLIMAINNKJOP_LOCKOUT_FAILURES", MAX_FAILURES),
            dt.timedelta(minutes=getattr(settings, "KLIMAINNKJOP_LOCKOUT_WINDOW_MINUTES", WINDOW_MINUTES)),
            dt.timedelta(minutes=getattr(settings, "KLIMAINNKJOP_LOCKOUT_MINUTES", LOCKOUT_MINUTES)))


# --- lockout -------------------------------------------------------------------------------------------------

def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def locked_until(username: str, ip: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lockout of this username from this address ends, or None when it is not locked out."""
    now = now or timezone.now()
    limit, window, lockout = _limits()
    recent = list(LoginFailure.objects.filter(username=_key(username), ip=ip or "",
                                              created_at__gt=now - window - lockout)
                  .order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(recent) < limit:
        return None
    newest, oldest = recent[0], recent[-1]
    if newest - oldest > window:
        return None
    until = newest + lockout
    return until if until > now else None


def is_locked_out(username: str, ip: str, *, now: dt.datetime | None = None) -> bool:
    return locked_until(username, ip, now=now) is not None


def record_login_failure(username: str, ip: str, *, now: dt.datetime | None = None) -> bool:
    """Count one failure; returns True when it starts a lockout (which is then written to the audit log)."""
    now = now or timezone.now()
    LoginFailure.objects.create(username=_key(username), ip=ip or "", created_at=now)
    until = locked_until(username, ip, now=now)
    if until is None:
        return False
    user = get_user_model().objects.filter(username=_key(username)).first()
    record_audit(actor=SYSTEM, action=Action.LOCK_OUT, object_type="User",
                 object_id=str(user.pk) if user else "", after={"username": _key(username), "ip": ip or "",
                                                                 "until": until.isoformat()})
    return True


def clear_login_failures(username: str, ip: str) -> None:
    LoginFailure.objects.filter(username=_key(username), ip=ip or "").delete()


def forget_old_failures(*, now: dt.datetime | None = None) -> int:
    """Housekeeping: failures older than any window that could still count."""
    now = now or timezone.now()
    _, window, lockout = _limits()
    deleted, _ = LoginFailure.objects.filter(created_at__lt=now - window - lockout).delete()
    return deleted


# --- the sign-in trail: every sign-in, sign-out and failed sign-in is an audit entry ---------------------------
# Written from Django's user_logged_in / user_logged_out / user_login_failed signals (klimainnkjop/auth/signals.py).
# They hold the username and the client's address, never a password, code or token.

SIGN_IN_METHODS = ("password", "password+totp", "oidc")


def _home_organisation(user):
    """The person's organisation when they belong to exactly one (so that its auditors see the entry)."""
    if user is None:
        return None
    from klimainnkjop.storage.models import Organisation

    orgs = list(Organisation.objects.filter(memberships__user=user).distinct()[:2])
    return orgs[0] if len(orgs) == 1 else None


def record_sign_in(*, user, ip: str, method: str) -> None:
    record_audit(actor=user, action=Action.SIGN_IN, object_type="User", object_id=str(user.pk),
                 organisation=_home_organisation(user),
                 after={"username": user.get_username(), "ip": ip or "", "method": method})


def record_sign_out(*, user, ip: str) -> None:
    record_audit(actor=user, action=Action.SIGN_OUT, object_type="User", object_id=str(user.pk),
                 organisation=_home_organisation(user), after={"username": user.get_username(), "ip": ip or ""})


def record_sign_in_failure(*, username: str, ip: str, method: str, detail: dict | None = None) -> None:
    """A refused sign-in: wrong password or code, unknown username, locked out, or an OpenID Connect identity that
    maps to no person (detail: its subject and why). The username as typed (trimmed, at most 150 characters), never
    what was typed as password."""
    key = _key(username)
    user = get_user_model().objects.filter(username=key).first() if key else None
    lockout_key = f"totp:{key}" if method == "password+totp" else key
    record_audit(actor=ANONYMOUS, action=Action.FAIL_SIGN_IN, object_type="User",
                 object_id=str(user.pk) if user else "", organisation=_home_organisation(user),
                 after={"username": key, "ip": ip or "", "method": method,
                        "locked_out": bool(key) and is_locked_out(lockout_key, ip), **(detail or {})})


# --- TOTP second factor --------------------------------------------------------------------------------------

def has_second_factor(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def do_start_totp_enrolment(*, user, actor: ActorLike = None) -> tuple[str, str]:
    """A new secret, not yet in force. Returns (secret, otpauth URI for the QR code). Refused while a confirmed
    second factor exists (disable it first)."""
    if has_second_factor(user):
        raise InvalidInput.at("totp", gettext("a second factor is in force already; disable it before enrolling a "
                                              "new one"))
    secret = pyotp.random_base32()
    with transaction.atomic():
        TotpDevice.objects.update_or_create(user=user, defaults={"secret": secret, "confirmed_at": None,
                                                                 "last_used_step": 0})
        record_audit(actor=actor or user, action=Action.START_TOTP, object_type="User", object_id=str(user.pk),
                     before=None, after={"user": user.get_username(), "confirmed": False})
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)
    return secret, uri


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdecimal() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        moment = now + dt.timedelta(seconds=offset * totp.interval)
        if pyotp.utils.strings_equal(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def do_confirm_totp(*, user, code: str, actor: ActorLike = None, now: dt.datetime | None = None) -> TotpDevice:
    """The enrolment counts once the person shows a valid code from their authenticator app."""
    now = now or timezone.now()
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            raise InvalidInput.at("totp", gettext("no enrolment started"))
        if device.confirmed_at is not None:
            raise InvalidInput.at("totp", gettext("confirmed already"))
        step = _matching_step(device.secret, code, now)
        if step is None:
            raise InvalidInput.at("code", gettext("not a valid code of the authenticator app; check the phone's clock"))
        device.confirmed_at = now
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        record_audit(actor=actor or user, action=Action.CONFIRM_TOTP, object_type="User", object_id=str(user.pk),
                     before={"confirmed": False}, after={"user": user.get_username(), "confirmed": True})
    return device


def do_disable_totp(*, user, actor: ActorLike = None) -> None:
    with transaction.atomic():
        device = TotpDevice.objects.filter(user=user).first()
        if device is None:
            return
        before = {"user": user.get_username(), "confirmed": device.confirmed_at is not None}
        device.delete()
        record_audit(actor=actor or user, action=Action.DISABLE_TOTP, object_type="User", object_id=str(user.pk),
                     before=before, after={"user": user.get_username(), "confirmed": False})


def verify_second_factor(user, code: str, *, ip: str = "", now: dt.datetime | None = None) -> bool:
    """True for a valid, not yet used code of the person's confirmed second factor; False otherwise (also when
    the person has none: ask has_second_factor first). Failures count towards a lockout like passwords do."""
    now = now or timezone.now()
    key = f"totp:{user.get_username()}"
    if is_locked_out(key, ip, now=now):
        return False
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        step = _matching_step(device.secret, code, now) if device is not None else None
        if device is None or step is None or step <= device.last_used_step:
            ok = False
        else:
            device.last_used_step = step
            device.save(update_fields=["last_used_step"])
            ok = True
    if ok:
        clear_login_failures(key, ip)
    else:
        record_login_failure(key, ip, now=now)
    return ok


# --- OpenID Connect: claims -> person ------------------------------------------------------------------------

class ExternalSignInRefused(PermissionError):
    """The provider's identity is valid but maps to no person here (no invitation, nothing trusted)."""


def _verified_email(claims: dict, trust_email: bool) -> str | None:
    if not trust_email:
        return None
    verified = claims.get("email_verified")
    if verified is True or (isinstance(verified, str) and verified.lower() == "true"):
        email = (claims.get("email") or "").strip().lower()
        return email or None
    return None


def _link(user, issuer: str, subject: str) -> ExternalIdentity:
    try:
        with transaction.atomic():
            identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject,
                                                       last_login_at=timezone.now())
    except IntegrityError as exc:  # linked concurrently
        raise ExternalSignInRefused("this identity is linked already") from exc
    record_audit(actor=user, action=Action.LINK_IDENTITY, obj=identity, object_type="ExternalIdentity",
                 after={"user": user.get_username(), "issuer": issuer, "subject": subject})
    return identity


def do_sign_in_external(*, claims: dict, issuer: str, invitation_token: str | None = None,
                        trust_email: bool = False):
    """The person for verified ID-token claims (the caller checked signature, audience, expiry and nonce).

    Returns the user, or raises ExternalSignInRefused. Never creates a membership except by accepting an
    open invitation that an administrator made.
    """
    if claims.get("iss") != issuer:
        raise ExternalSignInRefused(f"issuer {claims.get('iss')!r} is not the configured {issuer!r}")
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ExternalSignInRefused("the ID token has no sub")
    users = get_user_model().objects
    invitation = None
    if invitation_token:
        invitation = open_invitations().filter(token_sha256=token_hash(invitation_token)).first()
        if invitation is None:
            raise ExternalSignInRefused("the invitation link is expired, revoked or used already")
    email = _verified_email(claims, trust_email)

    with transaction.atomic():
        identity = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        if identity is not None:
            user = identity.user
            identity.last_login_at = timezone.now()
            identity.save(update_fields=["last_login_at"])
        else:
            user = None
            if invitation is not None:
                user = users.filter(username=invitation.email).first()
                if user is not None and not hands_over(invitation, user):
                    # the link's token is the inviter's too: an existing account is linked only where the inviter
                    # administers all of it (access.may_hand_over); else the person signs in as before and accepts
                    raise ExternalSignInRefused("the invitation names a person who has an account here already; "
                                                "sign in as that person to accept it")
                user = user or do_create_user(email=invitation.email, organisation=invitation.organisation,
                                              actor=OIDC)
            elif email is not None:
                user = users.filter(username=email).first()
                if user is None and open_invitations().filter(email=email).exists():
                    user = do_create_user(email=email, actor=OIDC)
            if user is None:
                raise ExternalSignInRefused("no person here for this identity; ask an administrator for an "
                                            "invitation")
            if not user.is_active:
                raise ExternalSignInRefused("the person is deactivated")
            if ExternalIdentity.objects.filter(user=user, issuer=issuer).exists():
                # one identity per person and provider: a second would let another account take this one over
                raise ExternalSignInRefused("the person is linked to another identity at this provider")
            _link(user, issuer, subject)
        if not user.is_active:
            raise ExternalSignInRefused("the person is deactivated")
        pending = [invitation] if invitation is not None else []
        if email is not None and email == user.get_username():
            pending += [i for i in open_invitations().filter(email=email)
                        if invitation is None or i.pk != invitation.pk]
        for inv in pending:
            do_accept_invitation(invitation=inv, user=user, actor=user)
        record_audit(actor=user, action=Action.SIGN_IN_EXTERNAL, object_type="User", object_id=str(user.pk),
                     after={"issuer": issuer, "subject": subject, "invitations": len(pending)})
    return user
