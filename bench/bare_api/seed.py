"""Create the bare app's tables and seed one clinic with N patients (once); print a token.

cd bench && ../.venv/bin/python -m bare_api.seed 100000
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import sys
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_api.settings")
django.setup()

# The models and Django's commands can be imported only once Django is set up.
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from faker import Faker  # noqa: E402

from bare_api.models import ApiKey, Clinic, Patient  # noqa: E402


def main(n_patients: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    call_command("migrate", run_syncdb=True, verbosity=0)
    clinic, _ = Clinic.objects.get_or_create(pk=1, defaults={"name": "Bare Clinic"})
    have = Patient.objects.count()
    if have < n_patients:
        fake = Faker("en_IN")
        fake.seed_instance(2026)
        rng = random.Random(2026)
        batch = []
        for i in range(have, n_patients):
            name = fake.name()
            batch.append(
                Patient(
                    clinic=clinic,
                    number=i + 1,
                    full_name=name,
                    search_name=name.lower(),
                    date_of_birth=date(rng.randint(1940, 2007), rng.randint(1, 12), 15),
                    sex=rng.choice("FM"),
                    phone=f"+9198{i:08d}",
                    city=rng.choice(["Bengaluru", "Mysuru", "Hubballi", "Mangaluru"]),
                )
            )
            if len(batch) == 5000:
                Patient.objects.bulk_create(batch)
                batch = []
        Patient.objects.bulk_create(batch)
        Clinic.objects.filter(pk=clinic.pk).update(next_number=n_patients)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    token = "bare_" + secrets.token_urlsafe(32)
    ApiKey.objects.create(clinic=clinic, digest=hashlib.sha256(token.encode()).hexdigest())
    ids = list(Patient.objects.filter(number__lte=n_patients).values_list("id", flat=True))
    print(json.dumps({"token": token, "ids": ids}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
