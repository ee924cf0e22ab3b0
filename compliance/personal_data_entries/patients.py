"""The patients app's models in the personal-data registry (`compliance` registers them in its
`ready()`: `patients` sits below `compliance` and cannot import the registry).

Clinical records (the patient's identity on the record, visits and what hangs off them,
prescriptions, allergies, documents, certificates) are RETAINed on an erasure request: the
medical-records rules keep them, and the retention purge erases the whole record when the
clinical-record period has run out since the last visit. Contact details that are not part of the
clinical record are anonymised on request. See compliance/personal_data.py for the checklist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q

from compliance.personal_data import (
    ANONYMISE,
    CLINICAL,
    CONSENT_RECORD,
    DELETE,
    NOBODY,
    PATIENT,
    RETAIN,
    STAFF,
    STAFF_ACCOUNT,
    PersonalData,
)


def storage_processor() -> str:
    """Who holds stored files for the clinic: the object-storage host, or this server's disk."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    host = urlsplit(getattr(settings, "S3_ENDPOINT_URL", "") or "").hostname
    return f"Object storage ({host})" if host else "Object storage (the clinic's file store)"


def _anonymise_contact(rows: Any) -> int:
    return rows.update(
        phone="",
        whatsapp_phone="",
        email="",
        address="",
        city="",
        pincode="",
        emergency_contact_name="",
        emergency_contact_relation="",
        emergency_contact_phone="",
    )


def _document_files(row: Any) -> list[Any]:
    return [row.file] if row.file else []


def _consent_files(row: Any) -> list[Any]:
    return [row.signature] if row.signature else []


_CLINIC = "the clinical record the clinic must keep (medical-records rules)"

ENTRIES = (
    PersonalData(
        name="patients.patient",
        order=100,
        model="patients.Patient",
        subject=PATIENT,
        description="Who the patient is: name, date of birth, sex, ABHA, allergies, conditions",
        purpose=_CLINIC,
        fields=(
            "full_name",
            "search_name",
            "date_of_birth",
            "sex",
            "preferred_language",
            "blood_group",
            "allergies",
            "chronic_conditions",
            "abha_number",
            "abha_address",
        ),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="id",
        extra={"not_personal": {"discreet_messages": "a messaging preference (a choice)"}},
    ),
    PersonalData(
        name="patients.patient_contact",
        order=101,
        model="patients.Patient",
        subject=PATIENT,
        description="How to reach the patient: phones, email, address, emergency contact",
        purpose="appointments, reminders and reaching the patient or their family",
        fields=(
            "phone",
            "whatsapp_phone",
            "email",
            "address",
            "city",
            "pincode",
            "state_code",
            "emergency_contact_name",
            "emergency_contact_relation",
            "emergency_contact_phone",
        ),
        retention=CLINICAL,
        erasure=ANONYMISE,
        patient_path="id",
        anonymise=_anonymise_contact,
        extra={"holds_data": ~Q(phone="", whatsapp_phone="", email="", address="")},
    ),
    PersonalData(
        name="patients.guardian",
        order=110,
        model="patients.Guardian",
        subject=PATIENT,
        description="Guardians who act and consent for the patient",
        purpose="consent for a minor or a patient who cannot consent; part of the record",
        fields=("name", "relation", "phone"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="patients.allergy",
        order=120,
        model="patients.PatientAllergy",
        subject=PATIENT,
        description="Recorded allergies and reactions",
        purpose=_CLINIC,
        fields=("substance", "drug_class", "reaction", "severity", "note"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="patients.appointment",
        order=130,
        model="patients.Appointment",
        subject=PATIENT,
        description="Appointments: when, with whom, the reason and notes",
        purpose=_CLINIC,
        fields=("starts_at", "reason", "notes", "cancel_reason", "override_reason"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="patients.visit",
        order=140,
        model="patients.Visit",
        subject=PATIENT,
        description="Visit notes: complaints, history, findings, investigations and advice",
        purpose=_CLINIC,
        fields=(
            "chief_complaints",
            "history",
            "examination",
            "investigations_advised",
            "advice",
            "follow_up_date",
            "amendment_reason",
        ),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="patients.vitals",
        order=150,
        model="patients.Vitals",
        subject=PATIENT,
        description="Vitals measured at visits",
        purpose=_CLINIC,
        fields=(
            "bp_systolic",
            "bp_diastolic",
            "pulse",
            "temperature_c",
            "spo2",
            "respiratory_rate",
            "weight_kg",
            "height_cm",
        ),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="visit__patient",
    ),
    PersonalData(
        name="patients.diagnosis",
        order=160,
        model="patients.Diagnosis",
        subject=PATIENT,
        description="Diagnoses made at visits",
        purpose=_CLINIC,
        fields=("text", "icd10_code", "qualifier"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="visit__patient",
    ),
    PersonalData(
        name="patients.procedure",
        order=170,
        model="patients.ProcedureDone",
        subject=PATIENT,
        description="Procedures done at visits",
        purpose=_CLINIC,
        fields=("name", "notes"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="visit__patient",
    ),
    PersonalData(
        name="patients.prescription",
        order=180,
        model="patients.Prescription",
        subject=PATIENT,
        description="Prescriptions and their notes",
        purpose=_CLINIC,
        fields=("notes",),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="patients.prescription_item",
        order=181,
        model="patients.PrescriptionItem",
        subject=PATIENT,
        description="Medicines prescribed: drug, dose, schedule and instructions",
        purpose=_CLINIC,
        fields=(
            "generic_name",
            "brand_name",
            "strength",
            "form",
            "route",
            "dose_amount",
            "dose_unit",
            "frequency",
            "schedule",
            "duration_days",
            "timing",
            "instructions",
            "starts_on",
            "override_reason",
            "override_findings",
        ),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="prescription__patient",
    ),
    PersonalData(
        name="patients.document",
        order=190,
        model="patients.Document",
        subject=PATIENT,
        description="Documents: reports, scans, prescriptions and certificates as files",
        purpose=_CLINIC,
        fields=("title", "file", "original_name"),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
        files=_document_files,
        processors=(storage_processor(),),
        extra={"not_personal": {"problem": "a processing error text", "verify_token": "a key"}},
    ),
    PersonalData(
        name="patients.certificate",
        order=200,
        model="patients.MedicalCertificate",
        subject=PATIENT,
        description="Medical and fitness certificates",
        purpose=_CLINIC,
        fields=(
            "condition",
            "remarks",
            "purpose",
            "identification_mark",
            "patient_address",
            "effective_from",
            "effective_to",
            "correction_reason",
            "revoked_reason",
        ),
        retention=CLINICAL,
        erasure=RETAIN,
        patient_path="patient",
        extra={"not_personal": {"doctor_registration_number": "the doctor's public register"}},
    ),
    PersonalData(
        name="patients.signed_consent",
        order=210,
        model="patients.SignedConsent",
        subject=PATIENT,
        description="Signed consent forms, who signed and their signature",
        purpose="evidence of consent to a procedure (DPDP Act s.6(10))",
        fields=("details", "signer_name", "signer_relation", "signature", "withdrawn_reason"),
        retention=CONSENT_RECORD,
        erasure=RETAIN,
        patient_path="patient",
        files=_consent_files,
        processors=(storage_processor(),),
        extra={"not_personal": {"signature_sha256": "a checksum of the signature file"}},
    ),
    PersonalData(
        name="patients.doctor_leave",
        order=300,
        model="patients.DoctorLeave",
        subject=STAFF,
        description="A doctor's leave and its reason",
        purpose="the clinic's schedule",
        fields=("starts_at", "ends_at", "reason"),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="doctor__user",
    ),
    # --- about nobody --------------------------------------------------------------------------
    PersonalData(
        name="patients.working_hours",
        order=900,
        model="patients.WorkingHours",
        subject=NOBODY,
        description="A doctor's published consulting hours (the clinic's timetable).",
    ),
    PersonalData(
        name="patients.doctor_room",
        order=901,
        model="patients.DoctorRoom",
        subject=NOBODY,
        description="Which room a doctor sits in (the clinic's layout).",
    ),
    PersonalData(
        name="patients.display_link",
        order=902,
        model="patients.DisplayLink",
        subject=NOBODY,
        description="A waiting-room screen's link: a label and a token digest.",
    ),
    PersonalData(
        name="patients.consent_template",
        order=903,
        model="patients.ConsentTemplate",
        subject=NOBODY,
        description="The clinic's consent form names.",
    ),
    PersonalData(
        name="patients.consent_template_version",
        order=904,
        model="patients.ConsentTemplateVersion",
        subject=NOBODY,
        description="The clinic's consent form texts (the same for every patient).",
    ),
    PersonalData(
        name="patients.drug",
        order=905,
        model="patients.Drug",
        subject=NOBODY,
        description="The clinic's formulary.",
    ),
    PersonalData(
        name="patients.drug_brand",
        order=906,
        model="patients.DrugBrand",
        subject=NOBODY,
        description="Brand names in the clinic's formulary.",
    ),
    PersonalData(
        name="patients.prescription_template",
        order=907,
        model="patients.PrescriptionTemplate",
        subject=NOBODY,
        description="A doctor's reusable prescription sets (drugs and doses, no patient).",
    ),
)
