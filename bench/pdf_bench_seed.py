"""The PDF benchmark's clinic (`bench/pdf_bench.py`): a letterhead with a logo, a doctor with a
signature image, and signed visits whose prescriptions carry 6 medicines, two diagnoses, vitals
and advice, for patients with Devanagari, Kannada and Latin names.
"""

from __future__ import annotations

import io
import time

# Names as clinics in India register them: Devanagari, Kannada and Latin script.
NAMES = [
    "सुनीता शर्मा",
    "राजेश कुमार वर्मा",
    "ಅನಿಲ್ ಕುಮಾರ್",
    "Lakshmi Narayanan",
    "प्रिया देशपांडे",
    "Mohammed Irfan Shaikh",
]
MEDICINES = [
    dict(
        generic_name="Amoxicillin + Clavulanic acid",
        strength="625 mg",
        form="tablet",
        frequency="1-0-1",
        duration_days=5,
        timing="after_food",
    ),
    dict(
        generic_name="Paracetamol",
        strength="650 mg",
        form="tablet",
        frequency="1-1-1",
        duration_days=3,
        timing="after_food",
        instructions="Only if temperature is above 100 °F",
    ),
    dict(
        generic_name="Cetirizine",
        strength="10 mg",
        form="tablet",
        frequency="0-0-1",
        duration_days=5,
    ),
    dict(
        generic_name="Pantoprazole",
        strength="40 mg",
        form="tablet",
        frequency="1-0-0",
        duration_days=5,
        timing="empty_stomach",
    ),
    dict(
        generic_name="Ambroxol + Guaifenesin",
        strength="30 mg / 50 mg per 5 ml",
        form="syrup",
        frequency="1-1-1",
        duration_days=5,
        instructions="10 ml each time",
    ),
    dict(
        generic_name="Vitamin C",
        strength="500 mg",
        form="tablet",
        frequency="1-0-0",
        duration_days=10,
        timing="after_food",
    ),
]


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse([4, 4, size[0] - 4, size[1] - 4], outline=colour, width=6)
    draw.line([10, size[1] // 2, size[0] - 10, size[1] // 3], fill=colour, width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


BENCH_SLUG = "pdf"


def seed(visits: int) -> list[int]:
    """The clinic, its doctor and `visits` signed visits; returns their prescription ids.

    Rendering is not enqueued while seeding: the benchmark decides when documents render.
    """
    import django

    django.setup()
    from datetime import date, timedelta

    from django.core.files.base import ContentFile
    from django.db import transaction
    from django.utils import timezone

    from clinics.models import User
    from clinics.roles import Role
    from clinics.services import clinic_create, clinic_update, doctor_profile_update, membership_add
    from clinics.tenancy import clinic_scope
    from patients import services
    from patients.models import Document, DocumentKind, Patient, normalise_name
    from patients.services import documents as document_services

    document_services.enqueue_render = lambda document_id: None  # seeded, rendered later

    owner = User.objects.create_user(
        "pdf-owner@example.in", "bench-password-2026", full_name="Dr. Meera Iyer"
    )
    clinic = clinic_create(
        name="Sanjeevani Family Clinic",
        slug=BENCH_SLUG,
        state_code="29",
        owner=owner,
        address="No. 14, 2nd Main Road, Malleshwaram, Bengaluru 560003",
        city="Bengaluru",
        pincode="560003",
        phone="+918041234567",
        email="care@sanjeevani.example.in",
        letterhead_tagline="Caring for families since 1998",
        timings="Mon-Sat 9:30 am - 1:30 pm, 5:30 pm - 8:30 pm",
        registration_details="KPME Reg. No. BLU00123ALLOPATHY",
    )
    with clinic_scope(clinic):
        clinic = clinic_update(
            clinic=clinic, actor=owner, logo=ContentFile(_png((240, 120), (15, 81, 50)), "l.png")
        )
        user = User.objects.create_user(
            "pdf-doctor@example.in", "bench-password-2026", full_name="Anita Rao"
        )
        doctor = membership_add(clinic=clinic, actor=owner, user=user, role=Role.DOCTOR)
        doctor_profile_update(
            membership=doctor,
            actor=owner,
            qualifications="MBBS, MD (General Medicine)",
            medical_council="Karnataka Medical Council",
            registration_number="KMC-45678",
            specialisation="Family physician",
            signature=ContentFile(_png((300, 90), (20, 20, 120)), "s.png"),
        )
        Patient.objects.bulk_create(
            Patient(
                clinic=clinic,
                number=n,
                full_name=NAMES[(n - 1) % len(NAMES)],
                search_name=normalise_name(NAMES[(n - 1) % len(NAMES)]),
                date_of_birth=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                sex="FM"[n % 2],
                phone=f"+9198450{n:05d}",
                abha_number=f"9112345{n:07d}",
                address="House 21, 5th Cross, Rajajinagar, Bengaluru",
            )
            for n in range(1, visits + 1)
        )
        patients = list(Patient.objects.order_by("number"))
        actor = {"actor": user, "actor_membership": doctor}
        started = time.perf_counter()
        ids = []
        for patient in patients:
            with transaction.atomic():
                visit = services.visit_start(clinic=clinic, **actor, patient=patient, doctor=doctor)
                visit = services.visit_update_notes(
                    visit=visit,
                    **actor,
                    chief_complaints="Fever with chills for 3 days, sore throat, dry cough.",
                    examination="Throat congested, tonsils enlarged; chest clear.",
                    investigations_advised="CBC, CRP if fever persists beyond 3 days.",
                    advice="Warm saline gargles 3 times a day. Plenty of fluids. Rest.",
                    follow_up_date=timezone.localdate() + timedelta(days=5),
                )
                services.vitals_record(
                    visit=visit,
                    **actor,
                    bp_systolic=124,
                    bp_diastolic=82,
                    pulse=96,
                    temperature_c="38.4",
                    spo2=97,
                    weight_kg="64.5",
                )
                services.diagnosis_add(visit=visit, **actor, text="Acute tonsillitis")
                services.diagnosis_add(visit=visit, **actor, text="Acute pharyngitis")
                for medicine in MEDICINES:
                    services.prescription_item_add(visit=visit, **actor, **medicine)
                services.visit_sign(visit=visit, **actor)
            ids.append(Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION).pk)
        print(f"seeded {len(ids)} signed visits in {time.perf_counter() - started:.1f} s")
    return ids
