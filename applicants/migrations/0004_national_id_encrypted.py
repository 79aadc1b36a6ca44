"""National ids encrypted at rest, with a blind index to find them (applicants/encryption.py).

The clear column is copied into a new encrypted one, then dropped, and the new one takes its
name. Reversible: going back decrypts into a clear column again (with the keys still set).
"""

from django.db import migrations, models

import applicants.encryption


def encrypt_existing(apps, schema_editor):
    Applicant = apps.get_model("applicants", "Applicant")
    for pk, clear in Applicant.objects.exclude(national_id="").values_list("pk", "national_id"):
        Applicant.objects.filter(pk=pk).update(
            national_id_encrypted=clear,  # the field encrypts it
            national_id_index=applicants.encryption.blind_index(clear),
        )


def decrypt_back(apps, schema_editor):
    Applicant = apps.get_model("applicants", "Applicant")
    rows = Applicant.objects.exclude(national_id_encrypted="")
    for pk, clear in rows.values_list("pk", "national_id_encrypted"):
        Applicant.objects.filter(pk=pk).update(national_id=clear[:32])


class Migration(migrations.Migration):
    dependencies = [("applicants", "0003_administrators_manage_api_tokens")]

    operations = [
        migrations.AddField(
            model_name="applicant",
            name="national_id_encrypted",
            field=applicants.encryption.EncryptedTextField(blank=True, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="applicant",
            name="national_id_index",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                help_text="HMAC-SHA256 of the normalised national id: exact search without the id.",
                max_length=64,
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back),
        migrations.RemoveField(model_name="applicant", name="national_id"),
        migrations.RenameField(
            model_name="applicant", old_name="national_id_encrypted", new_name="national_id"
        ),
    ]
