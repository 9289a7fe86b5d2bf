"""The agreement form (views_agreements.py)."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from klimainnkjop.web.forms import DesignsystemetForm


def _list(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", ",").replace("/", ",").replace("\n", ",").split(",") if p.strip()]


class AgreementForm(DesignsystemetForm):
    number = forms.CharField(label=gettext_lazy("Agreement number"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    suppliers = forms.CharField(label=gettext_lazy("Suppliers' organisation numbers"), max_length=2000,
                                help_text=gettext_lazy("Nine digits each, separated by commas."))
    categories = forms.CharField(label=gettext_lazy("Categories"), max_length=2000, required=False,
                                 help_text=gettext_lazy("Category codes separated by commas, e.g. goods.food."))
    participants = forms.MultipleChoiceField(label=gettext_lazy("Participants"), required=False,
                                             widget=forms.CheckboxSelectMultiple,
                                             help_text=gettext_lazy("None chosen: every organisation of the region."))
    owner = forms.ChoiceField(label=gettext_lazy("Owner"))
    contact = forms.CharField(label=gettext_lazy("Contact person"), max_length=200, required=False)
    start = forms.DateField(label=gettext_lazy("Start"), help_text=gettext_lazy("Day.month.year, e.g. 01.01.2026."))
    end = forms.DateField(label=gettext_lazy("Current end"),
                          help_text=gettext_lazy("The next option date while options are left."))
    options_used = forms.IntegerField(label=gettext_lazy("Options used"), min_value=0, max_value=20, initial=0)
    options_left = forms.IntegerField(label=gettext_lazy("Options left"), min_value=0, max_value=20, initial=0)
    option_months = forms.IntegerField(label=gettext_lazy("Months per option"), min_value=1, max_value=120,
                                       initial=12)
    estimated_yearly_nok = forms.IntegerField(label=gettext_lazy("Estimated yearly value, NOK"), min_value=0,
                                              max_value=10 ** 12, initial=0)
    note = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, organisations=(), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].choices = [(o.orgnr, o.name) for o in organisations]
        self.fields["owner"].choices = [(o.orgnr, o.name) for o in owners]
        self.style()

    def clean_suppliers(self):
        suppliers = [s.replace(" ", "") for s in _list(self.cleaned_data["suppliers"])]
        if not suppliers or not all(s.isdigit() and len(s) == 9 for s in suppliers):
            raise ValidationError(gettext_lazy("Enter one or more organisation numbers of nine digits."))
        return suppliers

    def clean_categories(self):
        return _list(self.cleaned_data["categories"])
