"""National ids encrypted at rest, with a blind index to find them (applicants/encryption.py).

The clear column is copied into a new encrypted one, then dropped, and the new one takes its
name. Reversible: going back decrypts into a clear column again (with the keys still set).
"""

from django.db import migrations, models

import applicants.encryption

BATCH = 2000  # rows read (a server-side cursor on PostgreSQL) and written per statement


def encrypt_existing(apps, schema_editor):
    Applicant = apps.get_model("applicants", "Applicant")
    rows = Applicant.objects.exclude(national_id="").only("pk", "national_id").order_by("pk")
    batch = []
    for applicant in rows.iterator(chunk_size=BATCH):
        applicant.national_id_encrypted = applicant.national_id  # the field encrypts it
        applicant.national_id_index = applicants.encryption.blind_index(applicant.national_id)
        batch.append(applicant)
        if len(batch) == BATCH:
            Applicant.objects.bulk_update(batch, ["national_id_encrypted", "national_id_index"])
            batch = []
    Applicant.objects.bulk_update(batch, ["national_id_encrypted", "national_id_index"])


def decrypt_back(apps, schema_editor):
    Applicant = apps.get_model("applicants", "Applicant")
    rows = Applicant.objects.exclude(national_id_encrypted="").only("pk", "national_id_encrypted")
    batch = []
    for applicant in rows.order_by("pk").iterator(chunk_size=BATCH):
        applicant.national_id = applicant.national_id_encrypted[:32]
        batch.append(applicant)
        if len(batch) == BATCH:
            Applicant.objects.bulk_update(batch, ["national_id"])
            batch = []
    Applicant.objects.bulk_update(batch, ["national_id"])


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
