"""On PostgreSQL the database itself refuses two overlapping active bookings of one doctor.

The booking service already serialises bookings per doctor under a row lock; this exclusion
constraint is the last line: even a write that bypassed the service cannot double-book.
Walk-ins take no slot and cancelled or missed appointments free theirs, so they are excluded.
"""

from django.db import migrations

from clinics.db import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_clinic_day")]

    operations = [
        PostgresOnlySQL(
            "CREATE EXTENSION IF NOT EXISTS btree_gist;", reverse_sql=migrations.RunSQL.noop
        ),
        PostgresOnlySQL(
            "ALTER TABLE patients_appointment ADD CONSTRAINT appointment_no_double_booking "
            "EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (kind = 'booked' AND status IN "
            "('booked', 'checked_in', 'in_consultation', 'completed'));",
            reverse_sql="ALTER TABLE patients_appointment "
            "DROP CONSTRAINT IF EXISTS appointment_no_double_booking;",
        ),
    ]
