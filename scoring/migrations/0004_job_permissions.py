"""Grant the roles the permissions of the background-job models."""

from django.db import migrations

from creditportal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "scoring", section="scoring_jobs")


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0003_jobs"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
