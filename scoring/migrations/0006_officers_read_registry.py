"""Loan officers may read model versions and the promotion history (the API's "read for
everyone"); promoting stays with credit managers."""

from django.db import migrations

from creditportal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "scoring", section="scoring_registry_read")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0005_one_active_training_job")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
