from django import forms

from .models import Recommendation


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Recommendation.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when your decision differs from the model's recommendation.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class OutcomeForm(forms.Form):
    outcome_class = forms.ChoiceField(label="What happened")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, scorecard, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome_class"].choices = [
            (value, scorecard.class_labels.get(value, value)) for value in scorecard.classes
        ]
