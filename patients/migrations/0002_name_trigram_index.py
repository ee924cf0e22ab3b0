"""Partial, case-insensitive name search stays fast on PostgreSQL with a trigram index."""

from django.db import migrations

from clinics.db import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [
        PostgresOnlySQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
            reverse_sql=migrations.RunSQL.noop,
        ),
        PostgresOnlySQL(
            "CREATE INDEX IF NOT EXISTS patient_search_name_trgm ON patients_patient "
            "USING gin (search_name gin_trgm_ops);",
            reverse_sql="DROP INDEX IF EXISTS patient_search_name_trgm;",
        ),
    ]
