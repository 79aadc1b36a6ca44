"""Grant the roles the scoring app's permissions."""

from django.db import migrations

from creditportal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "scoring")


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
        ("applicants", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
