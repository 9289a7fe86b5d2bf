"""TOTP secrets encrypted at rest (existing ones are encrypted here; the reverse decrypts them); the process
that computes a run (pid, host) so that a run left `running` by a killed process can be recognised; the raw files
of an EHF batch, so that an archived file no batch refers to can be recognised (services/maintenance.py)."""

from django.db import migrations, models

import klimainnkjop.storage.encryption
from klimainnkjop.storage.encryption import decrypt, encrypt, is_encrypted


def _rewrite(apps, schema_editor, change) -> None:
    # Raw SQL: the model's field would decrypt on reading, which a plaintext value cannot survive.
    connection = schema_editor.connection
    table = connection.ops.quote_name(apps.get_model("klimainnkjop", "TotpDevice")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table}")
        rows = cursor.fetchall()
        for pk, value in rows:
            new = change(value)
            if new != value:
                cursor.execute(f"UPDATE {table} SET secret = %s WHERE id = %s", [new, pk])


def encrypt_secrets(apps, schema_editor) -> None:
    _rewrite(apps, schema_editor, lambda value: value if is_encrypted(value) else encrypt(value))


def decrypt_secrets(apps, schema_editor) -> None:
    _rewrite(apps, schema_editor, lambda value: decrypt(value) if is_encrypted(value) else value)


class Migration(migrations.Migration):

    dependencies = [
        ('klimainnkjop', '0009_report_schedules'),
    ]

    operations = [
        migrations.AlterField(
            model_name='totpdevice',
            name='secret',
            field=klimainnkjop.storage.encryption.EncryptedCharField(help_text='base32, encrypted at rest (storage/encryption.py)', max_length=255),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        migrations.AddField(
            model_name='computerun',
            name='pid',
            field=models.IntegerField(blank=True, help_text='the process that computes (computed) it', null=True),
        ),
        migrations.AddField(
            model_name='computerun',
            name='host',
            field=models.CharField(blank=True, default='', help_text='machine of that process', max_length=255),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='raw_sha256s',
            field=models.JSONField(blank=True, default=list, help_text='the archived raw files when they are not just file_sha256: the documents of an EHF batch (sorted)'),
        ),
        migrations.AddField(
            model_name='computerun',
            name='error',
            field=models.TextField(blank=True, default=''),
        ),
    ]
