"""Forms of the scoring pages: decisions, reasons, outcomes; uploads, retraining, settings."""

from django import forms

from creditportal.filters import MAX_ID
from ml.scorecards import SCORECARDS

from .models import Recommendation, ScorecardJobSettings, TrainingDataset
from .services.training import SETTINGS_FIELDS


class DecisionForm(forms.Form):
    # The prediction the officer is looking at: deciding on it after a newer score was taken
    # is refused, so a decision is never attached to a score nobody read.
    prediction = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
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


# --- background jobs ------------------------------------------------------------------------


def scorecard_choices() -> list[tuple[str, str]]:
    return [(key, f"{scorecard.label} ({key})") for key, scorecard in SCORECARDS.items()]


class BatchUploadForm(forms.Form):
    scorecard = forms.ChoiceField(choices=scorecard_choices)
    file = forms.FileField(
        label="CSV of applicants",
        help_text="One applicant per row, with the scorecard's columns (the public file layout "
        "is accepted as is). Other columns, such as an id, are copied to the result.",
    )


class TrainingUploadForm(forms.Form):
    scorecard = forms.ChoiceField(choices=scorecard_choices)
    file = forms.FileField(
        label="Labelled CSV",
        help_text="The scorecard's columns and its target; the public file layout is accepted.",
    )


class ScorecardDraftUploadForm(forms.Form):
    file = forms.FileField(
        label="Labelled CSV of past loans",
        help_text="One loan or customer per row, your own column names, and a column saying "
        "how each one turned out (for example repaid or defaulted).",
    )


class OutcomesExportForm(forms.Form):
    scorecard = forms.ChoiceField(choices=scorecard_choices)


class TrainingJobForm(forms.Form):
    scorecard = forms.ChoiceField(choices=scorecard_choices)
    dataset = forms.ModelChoiceField(
        queryset=TrainingDataset.objects.filter(status=TrainingDataset.Status.READY),
        required=False,
        empty_label="The scorecard's configured extract (or its demo sample)",
    )
    search = forms.BooleanField(
        required=False,
        label="Search hyperparameters",
        help_text="Grouped cross-validation over a parameter grid: better, and much slower.",
    )


class ScorecardJobSettingsForm(forms.ModelForm):
    class Meta:
        model = ScorecardJobSettings
        fields = list(SETTINGS_FIELDS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["retrain_dataset"].queryset = TrainingDataset.objects.filter(
            scorecard=self.instance.scorecard, status=TrainingDataset.Status.READY
        )
