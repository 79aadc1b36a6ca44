"""Start the change history of applicants and applications that existed before it: one
"created" record each with the state they have now (what `manage.py populate_history` does),
marked as such. Reversing deletes only these records."""

from django.db import migrations
from django.utils import timezone

BACKFILL_REASON = "State when change history began"
BATCH = 2000


def _copy(model, historical, now):
    fields = [
        field.attname
        for field in model._meta.fields
        if field.attname in {f.attname for f in historical._meta.fields}
    ]
    rows = []
    for values in model.objects.order_by("pk").values(*fields).iterator(chunk_size=BATCH):
        rows.append(
            historical(
                **values,
                history_date=now,
                history_type="+",
                history_change_reason=BACKFILL_REASON,
            )
        )
        if len(rows) >= BATCH:
            historical.objects.bulk_create(rows)
            rows = []
    historical.objects.bulk_create(rows)


def backfill(apps, schema_editor):
    now = timezone.now()
    for name in ("Applicant", "Application"):
        model = apps.get_model("applicants", name)
        historical = apps.get_model("applicants", "Historical" + name)
        _copy(model, historical, now)


def remove_backfill(apps, schema_editor):
    for name in ("HistoricalApplicant", "HistoricalApplication"):
        apps.get_model("applicants", name).objects.filter(
            history_change_reason=BACKFILL_REASON
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("applicants", "0005_identity_rules_and_history")]

    operations = [migrations.RunPython(backfill, remove_backfill)]
