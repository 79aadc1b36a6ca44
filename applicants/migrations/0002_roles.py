"""Create the three roles as groups and grant them the applicants app's permissions."""

from django.db import migrations

from creditportal.roles import ROLES, grant_administrator_all, grant_role_permissions


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, "applicants")
    grant_administrator_all(apps, ("auth", "axes"))


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
