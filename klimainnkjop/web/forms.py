from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form with Designsystemet input styling."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            form_field.widget.attrs["class"] = "ds-input"
            if self.errors:
                form_field.widget.attrs["aria-invalid"] = "true"
                form_field.widget.attrs["aria-describedby"] = "login-errors"


# --- administration and account forms (views_admin.py, views_account.py) -------------------------------------

from django import forms  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.translation import gettext, gettext_lazy, ngettext  # noqa: E402

from klimainnkjop.selectors import organisations as org_selectors  # noqa: E402
from klimainnkjop.core.errors import InvalidInput, NoResults  # noqa: E402
from klimainnkjop.core.kostra import OrgNumber  # noqa: E402

ROLE_LABELS = {
    "region-admin": gettext_lazy("Region administrator"),
    "org-admin": gettext_lazy("Organisation administrator"),
    "purchaser": gettext_lazy("Purchaser"),
    "finance": gettext_lazy("Finance"),
    "unit-leader": gettext_lazy("Unit leader"),
    "reader": gettext_lazy("Reader"),
    "auditor": gettext_lazy("Auditor"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def error_text(error: Exception | str) -> str:
    """What a page shows of a service's refusal: an InvalidInput's text without its field's name, "nothing has
    been computed yet" in the person's language (the CLI's message names its command), else the message as it
    is."""
    if isinstance(error, NoResults) and error.nothing_computed:
        return gettext("Nothing has been computed yet.")
    return error.text if isinstance(error, InvalidInput) else str(error)


class DesignsystemetForm(forms.Form):
    """Designsystemet classes; aria-invalid and aria-describedby pointing at the field's error or help text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    def style(self):
        for name, field in self.fields.items():
            widget = field.widget
            if not isinstance(widget, (forms.CheckboxInput, forms.HiddenInput)):
                widget.attrs["class"] = "ds-input"
            described = []
            if field.help_text:
                described.append(f"{name}-help")
            if self._errors and name in self._errors:  # (self.errors would validate before choices are set)
                widget.attrs["aria-invalid"] = "true"
                described.append(f"{name}-error")
            if described:
                widget.attrs["aria-describedby"] = " ".join(described)
            else:
                widget.attrs.pop("aria-describedby", None)

    def full_clean(self):
        super().full_clean()
        self.style()

    def add_service_error(self, error: Exception | str, fields: dict[str, str] | None = None) -> None:
        """An InvalidInput from a service ('field: text') as an error of that field, else of the form (without
        the field's name, which is the service's own and English). `fields` maps a service's name of an input
        (a CLI option, say) to the form's field where they differ."""
        names = {"kostra-region": "kostra_region", **(fields or {})}
        field = names.get(error.field, error.field) if isinstance(error, InvalidInput) else None
        self.add_error(field if field in self.fields else None, error_text(error))
        self.style()


class OrganisationForm(DesignsystemetForm):
    orgnr = forms.CharField(label=gettext_lazy("Organisation number"), max_length=11,
                            help_text=gettext_lazy("Nine digits, e.g. 944117784."))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[
        (org_selectors.KIND_KOMMUNE, gettext_lazy("Municipality")),
        (org_selectors.KIND_IKS, gettext_lazy("Inter-municipal company (IKS)"))])
    kostra_region = forms.CharField(label=gettext_lazy("KOSTRA municipality number"), max_length=6, required=False,
                                    help_text=gettext_lazy("Four digits; leave empty for an IKS."))
    region_name = forms.CharField(label=gettext_lazy("Region"), max_length=200, required=False)

    def clean_orgnr(self):
        orgnr = self.cleaned_data["orgnr"].replace(" ", "")
        if not OrgNumber.is_valid(orgnr):
            raise ValidationError(gettext_lazy(
                "Enter a valid organisation number: nine digits, the last a check digit."))
        if org_selectors.orgnr_taken(orgnr):
            raise ValidationError(gettext_lazy("An organisation with this number exists already."))
        return orgnr


class OrganisationEditForm(DesignsystemetForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = OrganisationForm.base_fields["kind"]


class UnitForm(DesignsystemetForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)  # spaces only would wipe the name
    parent = forms.ChoiceField(label=gettext_lazy("Part of (parent unit)"), required=False)

    def __init__(self, *args, units=(), unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", gettext_lazy("None (top level)"))] + [
            (u.code, f"{u.code} {u.name}".strip()) for u in units if unit is None or u.pk != unit.pk]
        self.style()


class _RoleFields(DesignsystemetForm):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    unit = forms.ChoiceField(label=gettext_lazy("Unit (for a unit leader only)"), required=False,
                             help_text=gettext_lazy("A unit leader sees this unit and the units below it."))

    def __init__(self, *args, units=(), roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, ROLE_LABELS[r]) for r in roles]
        self.fields["unit"].choices = [("", gettext_lazy("No unit"))] + [
            (u.code, f"{u.code} {u.name}".strip()) for u in units]
        self.style()

    def clean(self):
        data = super().clean()
        role, unit = data.get("role"), data.get("unit")
        if role == "unit-leader" and not unit:
            self.add_error("unit", gettext_lazy("Choose the unit of the unit leader."))
        elif role and role != "unit-leader" and unit:
            self.add_error("unit", gettext_lazy("Only a unit leader is limited to a unit; leave the unit empty."))
        return data


class MembershipForm(_RoleFields):
    pass


class InvitationForm(_RoleFields):
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=60, initial=14)


class AuditFilterForm(DesignsystemetForm):
    handling = forms.ChoiceField(label=gettext_lazy("Action"), required=False)

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        from klimainnkjop.web.labels import audit_action_label

        choices = sorted(((a, audit_action_label(a)) for a in actions), key=lambda c: c[1])
        self.fields["handling"].choices = [("", gettext_lazy("All actions"))] + choices
        self.fields["handling"].error_messages["invalid_choice"] = gettext_lazy(
            "There is no action %(value)s in this log. Choose one from the list.")
        self.style()


class TotpCodeForm(DesignsystemetForm):
    code = forms.CharField(label=gettext_lazy("Code from the authenticator app"), max_length=10,
                           help_text=gettext_lazy("Six digits."),
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class SetPasswordForm(DesignsystemetForm):
    password1 = forms.CharField(label=gettext_lazy("New password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=gettext_lazy("At least 12 characters, not a common password, not only "
                                                       "digits and not like your e-mail address."))
    password2 = forms.CharField(label=gettext_lazy("Repeat the password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", gettext_lazy("The two passwords differ."))
        elif one:
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(one, user=self.user)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class SignInForm(LoginForm):
    """The login form, saying plainly when the username is locked out from this address."""

    def clean(self):
        from django.contrib.auth.signals import user_login_failed

        from klimainnkjop.auth.backends import client_ip
        from klimainnkjop.services import auth as auth_service

        username = self.cleaned_data.get("username")
        ip = client_ip(self.request)
        minutes = settings.KLIMAINNKJOP_LOCKOUT_MINUTES
        locked = ValidationError(ngettext("Too many failed sign-ins. This username is locked for a while from your "
                                          "address; try again in %(minutes)d minute.",
                                          "Too many failed sign-ins. This username is locked for a while from your "
                                          "address; try again in %(minutes)d minutes.", minutes)
                                 % {"minutes": minutes}, code="locked_out")
        if username and auth_service.is_locked_out(username, ip):
            # refused before authenticate(): still a failed sign-in for the audit log (klimainnkjop/auth/signals.py)
            user_login_failed.send(sender=__name__, credentials={"username": username}, request=self.request)
            raise locked
        try:
            return super().clean()
        except ValidationError:
            if username and auth_service.is_locked_out(username, ip):
                raise locked
            raise
