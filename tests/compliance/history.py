"""A patient with years of history, for the export and erasure tests and bench/rights_bench.py:
visits with vitals, diagnoses, a procedure and a prescription, WhatsApp messages, documents with
stored files, guardians and consent. Every text carries markers the erasure scan looks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from clinics.storage import object_key, storage
from compliance.models import ConsentAction, ConsentEvent, ConsentMethod, ConsentPurpose
from messaging.models import (
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    Reminder,
    WhatsAppAccount,
)
from patients.models import (
    Diagnosis,
    Document,
    Guardian,
    Patient,
    Prescription,
    PrescriptionItem,
    ProcedureDone,
    Visit,
    Vitals,
)
from patients.models.documents import DocumentKind, DocumentStatus


@dataclass(frozen=True)
class Planted:
    name: str = "Zebulon Quixotewala"
    phone: str = "+919812398123"
    whatsapp: str = "+919845098450"
    email: str = "zebulon.quixote@example.in"
    abha: str = "91778899001122"  # stored as its 14 digits
    address: str = "42 Lotus Lane, Quixville"
    note: str = "plantednote-xyzzy"
    message: str = "plantedmessage-plugh"
    guardian: str = "Yasmin Quixotewala"

    def values(self) -> list[str]:
        return [
            self.name,
            self.phone,
            self.whatsapp,
            self.email,
            self.abha,
            self.address,
            self.note,
            self.message,
            self.guardian,
        ]


PLANTED = Planted()


def make_patient(clinic, *, number: int = 901, dob: date = date(1980, 3, 4)) -> Patient:
    return Patient.objects.create(
        clinic=clinic,
        number=number,
        full_name=PLANTED.name,
        search_name=PLANTED.name.lower(),
        date_of_birth=dob,
        sex="M",
        phone=PLANTED.phone,
        whatsapp_phone=PLANTED.whatsapp,
        email=PLANTED.email,
        address=PLANTED.address,
        abha_number=PLANTED.abha,
    )


def make_history(
    clinic, patient, doctor, *, visits=5, messages=20, documents=2, years=10, start=None, wa_id=None
) -> None:
    """`visits` visits spread over `years` (the last one `start` or now), `messages` WhatsApp
    messages, `documents` stored documents, a guardian and a WhatsApp consent."""
    now = start or timezone.now()
    step = timedelta(days=max(1, int(years * 365 / max(visits, 1))))
    Guardian.objects.create(
        clinic=clinic,
        patient=patient,
        name=PLANTED.guardian,
        relation="spouse",
        phone="+919800077700",
    )
    visit_rows = Visit.objects.bulk_create(
        [
            Visit(
                clinic=clinic,
                patient=patient,
                doctor=doctor,
                status="signed",
                chief_complaints=f"Fever for 3 days {PLANTED.note}",
                history="No travel",
                advice="Rest and fluids",
                created_at=now - step * i,
                signed_at=now - step * i,
            )
            for i in range(visits)
        ]
    )
    Vitals.objects.bulk_create(
        [
            Vitals(
                clinic=clinic,
                visit=v,
                bp_systolic=120,
                bp_diastolic=80,
                pulse=72,
                temperature_c=Decimal("37.2"),
                weight_kg=Decimal("70.5"),
                recorded_at=v.created_at,
            )
            for v in visit_rows
        ]
    )
    Diagnosis.objects.bulk_create(
        [
            Diagnosis(clinic=clinic, visit=v, text="Viral fever", icd10_code="B34.9")
            for v in visit_rows
        ]
    )
    ProcedureDone.objects.bulk_create(
        [ProcedureDone(clinic=clinic, visit=v, name="Nebulisation") for v in visit_rows[::10]]
    )
    prescriptions = Prescription.objects.bulk_create(
        [
            Prescription(
                clinic=clinic,
                visit=v,
                patient=patient,
                doctor=doctor,
                status="signed",
                signed_at=v.created_at,
            )
            for v in visit_rows
        ]
    )
    PrescriptionItem.objects.bulk_create(
        [
            PrescriptionItem(
                clinic=clinic,
                prescription=p,
                generic_name="PARACETAMOL",
                strength="500 mg",
                form="tablet",
                dose_amount=Decimal("1"),
                dose_unit="tablet",
                frequency="1-0-1",
                duration_days=5,
                instructions="after food",
            )
            for p in prescriptions
        ]
    )
    for i in range(documents):
        name = storage().save(
            object_key(clinic_id=clinic.pk, kind="lab_report", extension="pdf"),
            ContentFile(f"%PDF-1.4 lab report of {PLANTED.name} {i}".encode()),
        )
        Document.objects.create(
            clinic=clinic,
            patient=patient,
            kind=DocumentKind.LAB_REPORT,
            title=f"CBC {i}",
            status=DocumentStatus.READY,
            file=name,
            content_type="application/pdf",
            size=40,
            original_name=f"{PLANTED.name} cbc.pdf",
        )
    ConsentEvent.objects.create(
        clinic=clinic,
        patient=patient,
        purpose=ConsentPurpose.WHATSAPP_CARE,
        action=ConsentAction.GRANTED,
        method=ConsentMethod.VERBAL,
        notice_text="Care messages on WhatsApp",
        phone=PLANTED.whatsapp,
        occurred_at=now,
    )
    account = WhatsAppAccount.objects.filter(
        clinic=clinic
    ).first() or WhatsAppAccount.objects.create(
        clinic=clinic,
        phone_number_id=f"10987654{clinic.pk:07d}",
        business_account_id="2098",
        display_number="+91 80 4000 9999",
        access_token="t",
        app_secret="s",
        verify_token="v",
    )
    conversation = Conversation.objects.create(
        clinic=clinic,
        account=account,
        patient=patient,
        wa_id=wa_id or PLANTED.whatsapp.lstrip("+"),
        last_message_at=now,
    )
    Message.objects.bulk_create(
        [
            Message(
                clinic=clinic,
                conversation=conversation,
                patient=patient,
                direction=Direction.INBOUND if i % 2 else Direction.OUTBOUND,
                kind=MessageKind.TEXT,
                body=f"Message {i} {PLANTED.message}",
                status=MessageStatus.RECEIVED if i % 2 else MessageStatus.DELIVERED,
                created_at=now - timedelta(minutes=i * 50),
            )
            for i in range(messages)
        ]
    )
    Reminder.objects.create(
        clinic=clinic,
        patient=patient,
        kind="appointment_reminder",
        source="appointment:1",
        due_at=timezone.now() + timedelta(days=1),
    )
