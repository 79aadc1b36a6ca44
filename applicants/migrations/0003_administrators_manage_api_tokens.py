"""Administrators manage (and revoke) every user's REST API token in the Django admin."""

from django.db import migrations

from creditportal.roles import grant_administrator_all


def grant(apps, schema_editor):
    grant_administrator_all(apps, ("authtoken",))


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0002_roles"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
