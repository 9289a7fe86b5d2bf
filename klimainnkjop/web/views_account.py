"""Sign-in with the TOTP second factor, the person's own account page, and invitation links.

Sign-in: the password first (Django's LoginView with the lockout backend). A person with a confirmed second
factor is not signed in yet: the session remembers who passed the password step (for TOTP_PENDING_SECONDS)
and `logg-inn/totp/` asks for the code (services.auth.verify_second_factor, which counts failures towards a
lockout of its own). Only then is the person signed in (a new session key).

An invitation link `invitasjon/<token>/`: with OpenID Connect on, the token goes into the session and the
OIDC sign-in starts (the backend takes the token from the session and accepts the invitation). Without OIDC,
the invited person chooses a password on the page (when they have none yet) and the invitation is accepted;
a person who has a password already signs in first and then accepts it.
"""
from __future__ import annotations

import time

import pyotp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from klimainnkjop.auth.backends import INVITATION_SESSION_KEY, client_ip
from klimainnkjop.services import auth as auth_service
from klimainnkjop.services import users as user_services
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.selectors import people as people_selectors
from klimainnkjop.web.forms import SetPasswordForm, SignInForm, TotpCodeForm, role_label
from klimainnkjop.core.actors import INVITATION

TOTP_PENDING_KEY = "klimainnkjop_totp_pending"
TOTP_PENDING_SECONDS = 300



def _posted(request):
    """The submitted data on a POST (bound even when empty: an empty form is an error), else None."""
    return request.POST if request.method == "POST" else None

def oidc_enabled() -> bool:
    return bool(getattr(settings, "KLIMAINNKJOP_OIDC_ENABLED", False))


# --- sign-in ------------------------------------------------------------------------------------------------

class SignInView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc_enabled()
        return context

    def form_valid(self, form):
        user = form.get_user()
        if not auth_service.has_second_factor(user):
            return super().form_valid(form)
        self.request.session[TOTP_PENDING_KEY] = {
            "user": user.pk, "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
            "next": self.get_success_url(), "since": time.time()}
        return redirect("login_totp")


def _pending_user(request):
    pending = request.session.get(TOTP_PENDING_KEY)
    if not pending or time.time() - pending.get("since", 0) > TOTP_PENDING_SECONDS:
        request.session.pop(TOTP_PENDING_KEY, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


def _totp_locked(user, ip: str) -> bool:
    return auth_service.is_locked_out(f"totp:{user.get_username()}", ip)


def _failed_code(request, user) -> None:
    """A refused code is a failed sign-in like a wrong password (audit log: klimainnkjop/auth/signals.py)."""
    user_login_failed.send(sender=__name__, request=request,
                           credentials={"username": user.get_username(), "second_factor": "totp"})


@never_cache
@require_http_methods(["GET", "POST"])
def login_totp(request):
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Sign in with your password first."))
        return redirect("login")
    ip = client_ip(request)
    form = TotpCodeForm(_posted(request))
    locked = _totp_locked(user, ip)
    status = 200
    if request.method == "POST" and not locked and form.is_valid():
        if auth_service.verify_second_factor(user, form.cleaned_data["code"], ip=ip):
            request.session.pop(TOTP_PENDING_KEY, None)
            login(request, user, backend=pending["backend"])
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
                target = reverse(settings.LOGIN_REDIRECT_URL)
            return HttpResponseRedirect(target)
        _failed_code(request, user)
        locked = _totp_locked(user, ip)
        if not locked:
            form.add_error("code", _("The code is wrong or used already. Enter the code the app shows now."))
            form.style()
    elif request.method == "POST" and locked:
        _failed_code(request, user)
    if request.method == "POST" and (locked or form.errors):
        status = 403 if locked else 400
    return render(request, "web/account_totp_login.html", {"form": form, "locked": locked,
                  "lockout_minutes": settings.KLIMAINNKJOP_LOCKOUT_MINUTES}, status=status)


# --- the person's own account -------------------------------------------------------------------------------

def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _account_context(request) -> dict:
    user = request.user
    device = people_selectors.own_totp_device(user)
    memberships = people_selectors.own_memberships(user)
    context = {
        "memberships": [{"m": m, "role": role_label(m.role)} for m in memberships],
        "totp_on": device is not None and device.confirmed_at is not None,
        "totp_pending": device is not None and device.confirmed_at is None,
        "form": TotpCodeForm(), "confirm_form": TotpCodeForm(prefix="confirm"),
    }
    if context["totp_pending"]:
        context["secret"] = _grouped(device.secret)
        context["otpauth_uri"] = pyotp.TOTP(device.secret).provisioning_uri(
            name=user.get_username(), issuer_name=auth_service.TOTP_ISSUER)
    return context


@never_cache
@login_required
def account(request):
    return render(request, "web/account_page.html", _account_context(request))


def _account_with_error(request, form_name: str, form, status: int = 400):
    """The account page again, with the bound form (and its errors) in place of the empty one."""
    return render(request, "web/account_page.html", _account_context(request) | {form_name: form}, status=status)


@login_required
@require_POST
def totp_start(request):
    try:
        auth_service.do_start_totp_enrolment(user=request.user, actor=request.user)
    except InvalidInput:
        messages.error(request, _("A second factor is on already. Turn it off before you set up a new one."))
    return redirect("account")


@login_required
@require_POST
def totp_confirm(request):
    form = TotpCodeForm(request.POST, prefix="confirm")
    if form.is_valid():
        try:
            auth_service.do_confirm_totp(user=request.user, code=form.cleaned_data["code"], actor=request.user)
        except InvalidInput:
            form.add_error("code", _("The code does not match. Check that the phone's clock is right and enter the "
                                     "code the app shows now."))
            form.style()
        else:
            messages.success(request, _("The second factor is on. You will be asked for a code when you sign in."))
            return redirect("account")
    return _account_with_error(request, "confirm_form", form)


@login_required
@require_POST
def totp_disable(request):
    """Turning the second factor off takes a valid code: a session left open is not enough."""
    form = TotpCodeForm(request.POST)
    if form.is_valid():
        if not auth_service.has_second_factor(request.user):
            auth_service.do_disable_totp(user=request.user, actor=request.user)  # an unconfirmed enrolment
            return redirect("account")
        if auth_service.verify_second_factor(request.user, form.cleaned_data["code"], ip=client_ip(request)):
            auth_service.do_disable_totp(user=request.user, actor=request.user)
            messages.success(request, _("The second factor is off."))
            return redirect("account")
        form.add_error("code", _("The code is wrong or used already. Enter the code the app shows now."))
        form.style()
    return _account_with_error(request, "form", form)


# --- invitation links ---------------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    found = user_services.open_invitations().select_related("organisation", "unit").filter(
        token_sha256=user_services.token_hash(token)).first()
    if found is None:
        raise Http404
    if oidc_enabled():
        request.session[INVITATION_SESSION_KEY] = token
        return redirect("oidc_authentication_init")
    person = user_services.find_user(found.email)
    context = {"invitation": found, "role": role_label(found.role), "person": person}
    if person is not None and not user_services.hands_over(found, person):
        # a password exists, or the inviter does not administer every organisation of the person's: the person
        # signs in and accepts; the link alone never changes another's password (access.may_hand_over)
        if not (request.user.is_authenticated and request.user.pk == person.pk):
            context["sign_in_href"] = f"{reverse('login')}?next={request.path}"
            return render(request, "web/account_invitation.html", context)
        if request.method == "POST":
            return _accept(request, found, person)
        return render(request, "web/account_invitation.html", context | {"accept": True})
    form = SetPasswordForm(_posted(request), user=person or get_user_model()(username=found.email,
                                                                                 email=found.email))
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password1"]
        try:
            if person is None:
                person = user_services.do_create_user(email=found.email, password=password,
                                                      organisation=found.organisation, actor=INVITATION)
            else:
                user_services.do_set_password(user=person, password=password, actor=INVITATION)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            return _accept(request, found, person, sign_in=True)
    return render(request, "web/account_invitation.html", context | {"form": form},
                  status=400 if form.is_bound and form.errors else 200)


def _accept(request, found, person, *, sign_in: bool = False):
    try:
        user_services.do_accept_invitation(invitation=found, user=person, actor=person)
    except InvalidInput:
        raise Http404
    if sign_in and not auth_service.has_second_factor(person):
        login(request, person, backend="klimainnkjop.auth.backends.LockoutModelBackend")
    messages.success(request, _("Welcome. You now have the role %(role)s in %(org)s.") % {
        "role": role_label(found.role), "org": found.organisation.name})
    return redirect("region" if request.user.is_authenticated else "login")
