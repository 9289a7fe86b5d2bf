"""Administration: organisations, units, people and memberships, invitations, import batches, the audit log.

Every decision is an access.py predicate. For an organisation outside the person's scope (or one that does not
exist) the answer is 404, so a URL does not reveal which organisations exist; for one the person may see but not
administer, 403. Every change is a POST through a service, which writes the audit entry.
"""
from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from klimainnkjop import access
from klimainnkjop.selectors import audit as audit_selectors
from klimainnkjop.selectors import dashboard
from klimainnkjop.selectors import organisations as org_selectors
from klimainnkjop.selectors import people as people_selectors
from klimainnkjop.services import imports as import_services
from klimainnkjop.services import organisations as org_services
from klimainnkjop.services import users as user_services
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.web import labels
from klimainnkjop.web.forms import (AuditFilterForm, InvitationForm, MembershipForm, OrganisationEditForm,
                                    OrganisationForm, UnitForm, role_label)

AUDIT_PAGE_SIZE = 50



def _posted(request):
    """The submitted data on a POST (bound even when empty: an empty form is an error), else None."""
    return request.POST if request.method == "POST" else None

def _organisation(request, orgnr: str, allowed):
    """The organisation, if the person may see it (else 404) and `allowed(user, orgnr)` (else 403)."""
    if not access.can_view(request.user, orgnr):
        raise Http404
    try:
        org = org_selectors.organisation(access.scope_for(request.user), orgnr)
    except (access.OutsideScope, org_selectors.NotFound):
        raise Http404
    if not allowed(request.user, orgnr):
        raise PermissionDenied
    return org


def _roles_for(user, orgnr: str) -> list[str]:
    """Roles the person may hand out: region-admin only by a region administrator."""
    roles = list(people_selectors.ROLES)
    return roles if access.can_administer_region(user) else [r for r in roles if r != "region-admin"]


def _org_links(user, org) -> list[dict]:
    orgnr = org.orgnr
    links = []
    if access.can_administer(user, orgnr):
        links += [(_("Units"), "admin_units"), (_("People and roles"), "admin_people"),
                  (_("Invitations"), "admin_invitations")]
    links.append((_("Imported files"), "admin_imports"))
    if access.can_import(user, orgnr):
        links.append((_("Upload a file"), "upload"))
    if access.can_view_audit(user, orgnr):
        links.append((_("Audit log"), "org_audit"))
    if access.can_manage_api_tokens(user, orgnr):
        links.append((_("API tokens"), "admin_api_tokens"))
    if access.can_administer_region(user):
        links.append((_("Edit"), "admin_organisation_edit"))
    return [{"label": label, "href": reverse(name, args=[orgnr])} for label, name in links]


# --- organisations ------------------------------------------------------------------------------------------

@login_required
def organisations(request):
    """Every organisation in the person's scope, with the administration pages they may open."""
    scope = access.scope_for(request.user)
    rows = [{"org": org, "links": _org_links(request.user, org)} for org in org_selectors.organisations(scope)]
    context = {"rows": rows, "can_add": access.can_administer_region(request.user),
               "can_read_region_audit": access.can_view_audit(request.user, None)}
    return render(request, "web/admin_organisations.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_new(request):
    if not access.can_administer_region(request.user):
        raise PermissionDenied
    form = OrganisationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = org_services.do_create_organisation(
                orgnr=data["orgnr"], name=data["name"], kind=data["kind"], kostra_region=data["kostra_region"],
                region_name=data["region_name"] or None, actor=request.user)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Organisation %(name)s added.") % {"name": org.name})
            return redirect("admin_organisations")
    return render(request, "web/admin_organisation_form.html", {"form": form, "org": None},
                  status=400 if form.is_bound and form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request, orgnr):
    org = _organisation(request, orgnr, lambda user, _orgnr: access.can_administer_region(user))
    form = OrganisationEditForm(_posted(request), initial={"name": org.name, "kind": org.kind})
    if request.method == "POST" and form.is_valid():
        try:
            user_services.do_update_organisation(organisation=org, name=form.cleaned_data["name"],
                                                 kind=form.cleaned_data["kind"], actor=request.user)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Organisation %(name)s saved.") % {"name": org.name})
            return redirect("admin_organisations")
    return render(request, "web/admin_organisation_form.html", {"form": form, "org": org},
                  status=400 if form.is_bound and form.errors else 200)


# --- units --------------------------------------------------------------------------------------------------

def _unit_tree(request, org) -> list[dict]:
    """Units in hierarchy order (depth-first by code), each with its depth."""
    units = people_selectors.units(access.scope_for(request.user), org.orgnr)
    children: dict[int | None, list] = {}
    known = {u.pk for u in units}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in known else None, []).append(u)
    rows: list[dict] = []

    def walk(parent_id, depth):
        for u in children.get(parent_id, []):
            rows.append({"unit": u, "depth": depth, "indent": min(depth, 8)})
            walk(u.pk, depth + 1)

    walk(None, 0)
    return rows


@login_required
def units(request, orgnr):
    org = _organisation(request, orgnr, access.can_administer)
    return render(request, "web/admin_units.html", {"org": org, "rows": _unit_tree(request, org)})


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request, orgnr, pk):
    org = _organisation(request, orgnr, access.can_administer)
    unit = people_selectors.unit(access.scope_for(request.user), org.orgnr, pk)
    all_units = people_selectors.units(access.scope_for(request.user), org.orgnr)
    form = UnitForm(_posted(request), units=all_units, unit=unit,
                    initial={"name": unit.name, "parent": unit.parent.code if unit.parent_id else ""})
    if request.method == "POST" and form.is_valid():
        parent = form.cleaned_data["parent"]
        try:
            user_services.do_update_unit(unit=unit, name=form.cleaned_data["name"], parent_code=parent or None,
                                         clear_parent=not parent, actor=request.user)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Unit %(code)s saved.") % {"code": unit.code})
            return redirect("admin_units", orgnr=org.orgnr)
    return render(request, "web/admin_unit_form.html", {"org": org, "unit": unit, "form": form},
                  status=400 if form.is_bound and form.errors else 200)


# --- people and memberships ---------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def people(request, orgnr):
    org = _organisation(request, orgnr, access.can_administer)
    org_units = people_selectors.units(access.scope_for(request.user), org.orgnr)
    form = MembershipForm(_posted(request), units=org_units, roles=_roles_for(request.user, org.orgnr))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, _membership, created = user_services.do_add_user(
                email=data["email"], organisation=org, role=data["role"], unit_code=data["unit"] or None,
                actor=request.user)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(email)s now has the role %(role)s.") % {
                "email": user.get_username(), "role": role_label(data["role"])})
            return redirect("admin_people", orgnr=org.orgnr)
    rows = [{"m": m, "role": role_label(m.role), "has_password": m.user.has_usable_password()}
            for m in people_selectors.memberships(access.scope_for(request.user), org.orgnr)]
    return render(request, "web/admin_people.html", {"org": org, "rows": rows, "form": form},
                  status=400 if form.is_bound and form.errors else 200)


@login_required
@require_POST
def membership_remove(request, orgnr, pk):
    org = _organisation(request, orgnr, access.can_administer)
    membership = people_selectors.membership(access.scope_for(request.user), org.orgnr, pk)
    if membership.role == "region-admin" and not access.can_administer_region(request.user):
        raise PermissionDenied
    email, role = membership.user.get_username(), role_label(membership.role)
    user_services.do_remove_membership(membership=membership, actor=request.user)
    messages.success(request, _("The role %(role)s of %(email)s is removed.") % {"role": role, "email": email})
    return redirect("admin_people", orgnr=org.orgnr)


# --- invitations --------------------------------------------------------------------------------------------

def _invitation_status(inv, now) -> str:
    if inv.accepted_at:
        return _("Accepted")
    if inv.revoked_at:
        return _("Revoked")
    if inv.expires_at <= now:
        return _("Expired")
    return _("Open")


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request, orgnr):
    org = _organisation(request, orgnr, access.can_administer)
    org_units = people_selectors.units(access.scope_for(request.user), org.orgnr)
    form = InvitationForm(_posted(request), units=org_units, roles=_roles_for(request.user, org.orgnr))
    link = ""
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, token = user_services.do_create_invitation(
                email=data["email"], organisation=org, role=data["role"], unit_code=data["unit"] or None,
                days=data["days"], actor=request.user)
        except InvalidInput as exc:
            form.add_service_error(exc)
        else:
            # shown in this response only: the token is stored hashed and cannot be shown again
            link = request.build_absolute_uri(reverse("invitation", args=[token]))
            form = InvitationForm(units=org_units, roles=_roles_for(request.user, org.orgnr))
    now = timezone.now()
    rows = [{"inv": inv, "role": role_label(inv.role), "status": _invitation_status(inv, now),
             "open": not inv.accepted_at and not inv.revoked_at and inv.expires_at > now}
            for inv in people_selectors.invitations(access.scope_for(request.user), org.orgnr)]
    context = {"org": org, "rows": rows, "form": form, "link": link, "created": created}
    return render(request, "web/admin_invitations.html", context,
                  status=400 if form.is_bound and form.errors else 200)


@login_required
@require_POST
def invitation_revoke(request, orgnr, pk):
    org = _organisation(request, orgnr, access.can_administer)
    invitation = people_selectors.invitation(access.scope_for(request.user), org.orgnr, pk)
    if invitation.accepted_at or invitation.revoked_at:
        messages.info(request, _("The invitation to %(email)s was used or revoked already.") % {
            "email": invitation.email})
    else:
        user_services.do_revoke_invitation(invitation=invitation, actor=request.user)
        messages.success(request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email})
    return redirect("admin_invitations", orgnr=org.orgnr)


# --- import batches -----------------------------------------------------------------------------------------

@login_required
def imports(request, orgnr):
    org = _organisation(request, orgnr, access.can_view_imports)
    batches = list(org_selectors.import_batches(access.scope_for(request.user), org.orgnr))
    context = {"org": org, "batches": batches, "can_delete": access.can_import(request.user, org.orgnr),
               "deleted": people_selectors.STATUS_DELETED}
    return render(request, "web/admin_imports.html", context)


@login_required
def import_detail(request, orgnr, pk):
    """One import: what it added and the rules its documents failed without being refused (EHF findings)."""
    org = _organisation(request, orgnr, access.can_view_imports)
    batch = people_selectors.import_batch(access.scope_for(request.user), org.orgnr, pk)
    return render(request, "web/admin_import.html", {"org": org, "batch": batch, "findings": batch.findings,
                                                      "deleted": people_selectors.STATUS_DELETED})


@login_required
@require_http_methods(["GET", "POST"])
def import_delete(request, orgnr, pk):
    org = _organisation(request, orgnr, access.can_import)
    batch = people_selectors.import_batch(access.scope_for(request.user), org.orgnr, pk)
    if batch.status == people_selectors.STATUS_DELETED:
        messages.info(request, _("The import %(file)s is deleted already.") % {"file": batch.file_name})
        return redirect("admin_imports", orgnr=org.orgnr)
    if request.method == "POST":
        import_services.do_delete_import_batch(batch=batch, actor=request.user)
        messages.success(request, _("The import %(file)s is deleted. Its lines leave the account at the next "
                                    "computation.") % {"file": batch.file_name})
        return redirect("admin_imports", orgnr=org.orgnr)
    return render(request, "web/admin_import_delete.html", {"org": org, "batch": batch})


# --- the audit log ------------------------------------------------------------------------------------------

def _audit_response(request, entries, *, org):
    actions = sorted(set(entries.order_by().values_list("action", flat=True).distinct()))
    form = AuditFilterForm(request.GET or None, actions=actions)
    action = ""
    if form.is_bound:
        if not form.is_valid():
            return render(request, "web/audit.html", {"org": org, "form": form, "page": None, "rows": []},
                          status=400)
        action = form.cleaned_data["handling"]
    if action:
        entries = entries.filter(action=action)
    export = request.GET.get("format", "")
    if export:
        if export not in ("csv", "json"):
            return HttpResponse(_("Unknown format; choose csv or json."), status=400,
                                content_type="text/plain; charset=utf-8")
        rows = [audit_selectors.audit_row(e) for e in entries]
        name = f"revisjonslogg-{org.orgnr if org else 'region'}"
        if export == "json":
            response = HttpResponse(json.dumps(rows, ensure_ascii=False, indent=2),
                                    content_type="application/json; charset=utf-8")
        else:
            response = HttpResponse(audit_selectors.audit_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.{export}"'
        return response
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("side"))
    rows = [audit_selectors.audit_row(e) for e in page]
    names = dashboard.category_names(access.system_scope(), get_language() or "nb")  # shared reference data
    for row in rows:  # before/after as a readable list of fields, codes by their labels (web/labels.py)
        row["action_label"] = labels.audit_action_label(row["action"])
        row["changes"] = labels.changes(row["before"], row["after"], names)
        row["when_text"] = formats.date_format(dt.datetime.fromisoformat(row["when"]), "SHORT_DATETIME_FORMAT")

    def href(**extra):
        params = {k: v for k, v in {"handling": action, **extra}.items() if v}
        return f"{request.path}?{urlencode(params)}" if params else request.path

    context = {
        "org": org, "form": form, "page": page, "rows": rows, "action": action,
        "csv_href": href(format="csv"), "json_href": href(format="json"),
        "previous_href": href(side=page.previous_page_number()) if page.has_previous() else "",
        "next_href": href(side=page.next_page_number()) if page.has_next() else "",
    }
    return render(request, "web/audit.html", context)


@login_required
def audit_region(request):
    if not access.can_view_audit(request.user, None):
        raise PermissionDenied
    entries = audit_selectors.audit_entries(access.scope_for(request.user))
    return _audit_response(request, entries, org=None)


@login_required
def audit_organisation(request, orgnr):
    org = _organisation(request, orgnr, access.can_view_audit)
    try:
        entries = audit_selectors.audit_entries(access.scope_for(request.user), org.orgnr)
    except access.OutsideScope:
        raise Http404
    except PermissionError:
        raise PermissionDenied
    return _audit_response(request, entries, org=org)
