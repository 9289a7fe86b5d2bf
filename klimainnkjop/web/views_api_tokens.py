"""The organisation's API tokens (issue 16 item 8): its administrators (access.can_manage_api_tokens: org-admin and
region admins) make a token, shown once, and revoke tokens; others who see the organisation get 403, those who do not,
404. Thin: services/api_tokens.py does the work."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from klimainnkjop import access
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.selectors import api_tokens as token_selectors
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.services import api_tokens as token_services
from klimainnkjop.web.forms import DesignsystemetForm


def _organisation(request, orgnr: str):
    if not access.can_view(request.user, orgnr):
        raise Http404
    try:
        org = org_selectors.organisation(access.scope_for(request.user), orgnr)
    except (access.OutsideScope, org_selectors.NotFound):
        raise Http404
    if not access.can_manage_api_tokens(request.user, orgnr):
        raise PermissionDenied
    return org


class ApiTokenForm(DesignsystemetForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("Who or what uses the token, e.g. the ERP's nightly export."))
    read = forms.BooleanField(label=gettext_lazy("May read totals, KPIs and lines"), required=False, initial=True)
    import_files = forms.BooleanField(label=gettext_lazy("May import files and lines"), required=False)
    expires = forms.DateField(label=gettext_lazy("Valid until"), required=False,
                              help_text=gettext_lazy("Empty: until revoked."),
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if not data.get("read") and not data.get("import_files"):
            raise forms.ValidationError(_("Choose what the token may do: read, import or both."))
        return data


def _status(token, now) -> str:
    if token.revoked_at:
        return _("Revoked")
    if token.expires_at and token.expires_at <= now:
        return _("Expired")
    return pgettext("API token", "Active")


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request, orgnr):
    org = _organisation(request, orgnr)
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    secret, created = "", None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scopes = [s for s, on in (("read", data["read"]), ("import", data["import_files"])) if on]
        expires = timezone.make_aware(dt.datetime.combine(data["expires"], dt.time())) if data["expires"] else None
        try:
            created, secret = token_services.do_create_api_token(organisation=org, name=data["name"], scopes=scopes,
                                                                 expires_at=expires, actor=request.user)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            form = ApiTokenForm()
    now = timezone.now()
    rows = [{"token": t, "status": _status(t, now), "active": access.api_token_usable(t, now)}
            for t in token_selectors.tokens(access.scope_for(request.user), org.orgnr)]
    context = {"org": org, "rows": rows, "form": form, "secret": secret, "created": created}
    return render(request, "web/admin_api_tokens.html", context,
                  status=400 if form.is_bound and form.errors else 200)


@login_required
@require_POST
def api_token_revoke(request, orgnr, pk):
    org = _organisation(request, orgnr)
    try:
        token = token_selectors.token(access.scope_for(request.user), pk, orgnr=org.orgnr)
    except LookupError:
        raise Http404
    if token.revoked_at:
        messages.info(request, _("The token %(name)s was revoked already.") % {"name": token.name})
    else:
        token_services.do_revoke_api_token(token=token, actor=request.user)
        messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("admin_api_tokens", orgnr=org.orgnr)
