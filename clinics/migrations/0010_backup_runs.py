# Backup runs: installation-wide, so no clinic key (see clinics/backups/models.py).

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0009_privacy_contact"),
    ]

    operations = [
        migrations.CreateModel(
            name="BackupRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="running",
                        max_length=10,
                    ),
                ),
                ("trigger", models.CharField(default="command", max_length=20)),
                ("destination", models.CharField(blank=True, max_length=500)),
                ("archive", models.CharField(blank=True, max_length=200)),
                ("size", models.PositiveBigIntegerField(blank=True, null=True)),
                ("problem", models.CharField(blank=True, max_length=500)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["status", "-started_at"], name="backuprun_status_idx")
                ],
            },
        ),
    ]
