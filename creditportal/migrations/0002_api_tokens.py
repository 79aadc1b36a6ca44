"""API tokens become django-rest-knox's (creditportal.ApiToken): hashed, expiring, one per
client. Also the permissions version the API's authentication reads (creditportal/api/auth.py).

Existing tokens are deleted, not converted: DRF's tokens were stored in clear, and keeping
their value as a digest would keep tokens that never expire and that anyone who read the
table could still use. Every API client must log in again (POST /api/v1/auth/token/) after
this migration; docs/api.md says so. Reversing it does not bring them back.

Administrators get every permission on the new model (they had those of DRF's tokens,
applicants/0003): they see and revoke anyone's token in the Django admin.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from creditportal.roles import ADMINISTRATOR


def forward(apps, schema_editor):
    apps.get_model("authtoken", "Token").objects.all().delete()
    apps.get_model("creditportal", "PermissionsVersion").objects.get_or_create(pk=1)
    _grant_administrators(apps)


def _grant_administrators(apps):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("creditportal")
    app_config.models_module = True  # permissions are normally created after migrate
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    administrator.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="creditportal", content_type__model="apitoken"
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("creditportal", "0001_worker_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="PermissionsVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("digest", models.CharField(max_length=128, primary_key=True, serialize=False)),
                ("token_key", models.CharField(db_index=True, max_length=25)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("expiry", models.DateTimeField(blank=True, null=True)),
                (
                    "client",
                    models.CharField(
                        help_text="What the token is for, as its owner named it (e.g. a script).",
                        max_length=100,
                    ),
                ),
                (
                    "second_factor",
                    models.BooleanField(
                        default=False,
                        help_text="Issued after the user gave a two-factor code. A token issued "
                        "without one stops working when the user's role comes to require "
                        "two-factor authentication.",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="auth_token_set",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "ordering": ["-created"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "client"), name="one_api_token_per_client"
                    )
                ],
            },
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
