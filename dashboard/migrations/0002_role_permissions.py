"""Grant the roles the dashboard's permissions (credit managers see it; officers do not)."""

from django.db import migrations

from creditportal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "dashboard")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("applicants", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
