from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form with Designsystemet input styling."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, form_field in self.fields.items():
            form_field.widget.attrs["class"] = "ds-input"
            if self.errors:
                form_field.widget.attrs["aria-invalid"] = "true"
                form_field.widget.attrs["aria-describedby"] = "login-errors"
