"""Portal forms. They check input and report each field's rule; services do the writing."""

from typing import Any

from django import forms

from ml.schema import FieldKind, Scorecard, validate_inputs

from . import validators
from .models import Applicant, Application
from .selectors import officer_list
from .validators import validate_national_id


class ApplicantForm(forms.ModelForm):
    national_id = forms.CharField(
        max_length=32,
        required=False,
        label="National ID",
        validators=[validate_national_id],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Stored encrypted, only ever shown masked.",
    )

    class Meta:
        model = Applicant
        fields = ["full_name", "external_reference", "date_of_birth", "email", "phone"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
        labels = {"external_reference": "External reference"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The model fields' identity rules, on the form fields too: they then report alongside
        # Django's own checks (a NUL byte is named as a rule of "Full name", not anonymously).
        for name in self._meta.fields:
            rules = [
                rule
                for rule in Applicant._meta.get_field(name).validators
                if type(rule).__module__ == validators.__name__
            ]
            self.fields[name].validators.extend(rules)
        if self.instance.pk and self.instance.national_id:
            self.fields[
                "national_id"
            ].help_text = f"On file: {self.instance.national_id_masked}. Leave blank to keep it."


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=officer_list(), label="New owner")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = officer_list()


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["requested_amount", "term_months", "purpose"]
        labels = {"term_months": "Term (months)"}


class ScorecardInputsForm(forms.Form):
    """The scorecard's fields, built from its declaration in ml/.

    Django only collects the raw values here; every rule is checked by the scorecard's own
    validator (`ml.schema.validate_inputs`), the same one the API and bulk scoring use.
    """

    def __init__(self, *args, scorecard: Scorecard, partial: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scorecard = scorecard
        self.partial = partial
        self.cleaned_inputs: dict[str, Any] = {}
        for field in scorecard.fields:
            self.fields[field.name] = _form_field(field)
            # Shown with an asterisk; enforced by the scorecard's validator, not by Django,
            # so that a draft may be saved incomplete.
            self.fields[field.name].scorecard_required = field.required

    def clean(self) -> dict[str, Any]:
        raw = {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
        result = validate_inputs(self.scorecard, raw, partial=self.partial)
        for name, messages in result.errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        self.cleaned_inputs = {k: v for k, v in result.values.items() if v is not None}
        return self.cleaned_data


def _form_field(field) -> forms.Field:
    label = f"{field.label} ({field.unit_text})" if field.unit_text else field.label
    common = {"label": label, "required": False, "help_text": _help_text(field)}
    if field.kind in (FieldKind.NUMERIC, FieldKind.INTEGER):
        attrs = {"step": "1" if field.kind == FieldKind.INTEGER else "any"}
        if field.min_value is not None:
            attrs["min"] = field.min_value
        if field.max_value is not None:
            attrs["max"] = field.max_value
        return forms.CharField(widget=forms.NumberInput(attrs=attrs), **common)
    if field.kind == FieldKind.CATEGORICAL:
        return forms.CharField(widget=forms.Select(choices=[("", "—"), *field.choices]), **common)
    if field.kind == FieldKind.BOOLEAN:
        choices = [("", "—"), ("yes", "Yes"), ("no", "No")]
        return forms.CharField(widget=forms.Select(choices=choices), **common)
    if field.kind == FieldKind.MULTI_CATEGORICAL:
        return forms.Field(widget=forms.CheckboxSelectMultiple(choices=field.choices), **common)
    raise ValueError(f"No form widget for field kind {field.kind!r}")


def _help_text(field) -> str:
    parts = [field.help_text] if field.help_text else []
    if field.protected:
        parts.append("Protected: recorded for fairness monitoring, never used by the model.")
    return " ".join(parts)
