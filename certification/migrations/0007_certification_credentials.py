"""Certifications get a public, unguessable id for verification pages and credentials.

Three steps so that existing rows each get their own UUID: a default on AddField is evaluated
once, and every row would share it.
"""

import uuid

from django.db import migrations, models


def give_each_certification_its_own_id(apps, schema_editor):
    Certification = apps.get_model("certification", "Certification")
    rows = Certification.objects.filter(public_id__isnull=True).only("pk")
    batch = []
    for certification in rows.iterator(chunk_size=2000):
        certification.public_id = uuid.uuid4()
        batch.append(certification)
        if len(batch) >= 2000:
            Certification.objects.bulk_update(batch, ["public_id"])
            batch = []
    if batch:
        Certification.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0006_certification_lifecycle"),
    ]

    operations = [
        migrations.AddField(
            model_name="certification",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_certification_its_own_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certification",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
