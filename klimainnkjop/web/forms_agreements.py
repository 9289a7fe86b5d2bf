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
        if not suppliers or not all(s.isdecimal() and len(s) == 9 for s in suppliers):
            raise ValidationError(gettext_lazy("Enter one or more organisation numbers of nine digits."))
        return suppliers

    def clean_categories(self):
        return _list(self.cleaned_data["categories"])


class RequirementForm(DesignsystemetForm):
    code = forms.CharField(label=gettext_lazy("Id"), max_length=40, help_text=gettext_lazy("E.g. MAT-07."))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[
        ("qualification", gettext_lazy("Qualification requirement")),
        ("specification", gettext_lazy("Technical specification")),
        ("award", gettext_lazy("Award criterion")), ("clause", gettext_lazy("Contract clause"))])
    categories = forms.CharField(label=gettext_lazy("Categories"), max_length=2000,
                                 help_text=gettext_lazy("Category codes separated by commas, e.g. goods.food."))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    text = forms.CharField(label=gettext_lazy("Requirement text"), widget=forms.Textarea(attrs={"rows": 5}))
    verification = forms.CharField(label=gettext_lazy("How it is verified"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 3}))
    legal_note = forms.CharField(label=gettext_lazy("Legal notes"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    effect = forms.ChoiceField(label=gettext_lazy("Expected effect"), choices=[
        ("none", gettext_lazy("No effect of its own")), ("intensity_cut", gettext_lazy("A cut in the intensity")),
        ("switch", gettext_lazy("A switch to another category's factor"))])
    percent = forms.FloatField(label=gettext_lazy("Cut in the intensity, %"), required=False, min_value=0,
                               max_value=100)
    switch_from = forms.CharField(label=gettext_lazy("Switch from category"), max_length=60, required=False)
    switch_to = forms.CharField(label=gettext_lazy("Switch to category"), max_length=60, required=False)
    share = forms.FloatField(label=gettext_lazy("Share of the spend switched, %"), required=False, min_value=0,
                             max_value=100)
    min_value_nok = forms.IntegerField(label=gettext_lazy("Applies from an estimated value of, NOK"), min_value=0,
                                       initial=0)
    guidance = forms.CharField(label=gettext_lazy("Builds on"), max_length=500, required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=[
        ("active", gettext_lazy("Active")), ("draft", gettext_lazy("Draft")), ("retired", gettext_lazy("Retired"))])

    def clean_categories(self):
        return _list(self.cleaned_data["categories"])

    def effect_value(self) -> dict:
        data = self.cleaned_data
        if data["effect"] == "intensity_cut":
            return {"kind": "intensity_cut", "percent": data.get("percent")}
        if data["effect"] == "switch":
            share = data.get("share")
            return {"kind": "switch", "from": data.get("switch_from"), "to": data.get("switch_to"),
                    "share": share / 100 if share is not None else None}
        return {"kind": "none"}
