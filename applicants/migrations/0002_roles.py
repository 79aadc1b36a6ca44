"""Create the three roles as groups, with their permissions.

Permissions are normally created after all migrations have run (post_migrate); on a fresh
database they do not exist yet here, so they are created first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from creditportal.roles import (
    ADMINISTRATOR,
    CREDIT_MANAGER,
    LOAN_OFFICER,
    MANAGER_PERMISSIONS,
    OFFICER_PERMISSIONS,
)


def _ensure_permissions(apps) -> None:
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _permissions(apps, dotted_names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for dotted in dotted_names:
        app_label, codename = dotted.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def create_roles(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    officer, _ = Group.objects.get_or_create(name=LOAN_OFFICER)
    officer.permissions.set(_permissions(apps, OFFICER_PERMISSIONS))
    manager, _ = Group.objects.get_or_create(name=CREDIT_MANAGER)
    manager.permissions.set(_permissions(apps, MANAGER_PERMISSIONS))
    administrator, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    administrator.permissions.set(Permission.objects.all())


def delete_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[LOAN_OFFICER, CREDIT_MANAGER, ADMINISTRATOR]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
