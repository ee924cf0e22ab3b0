"""A personal-data registry for the export and erasure tests: the patients app's records, the
consent ledger, WhatsApp conversations, messages and reminders, and exports, registered the
way the owning apps register them. The tests swap it in for the real registry, so they show
the engine acting on whatever is registered."""

from __future__ import annotations

from compliance.exports.fhir import ref
from compliance.personal_data import (
    CLINICAL,
    CONSENT_RECORD,
    DELETE,
    EXPORT,
    MESSAGE_BODY,
    PATIENT,
    RETAIN,
    PersonalData,
)


def _communication(message) -> dict:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "subject": ref(message.clinic_id, "Patient", message.patient_id),
        "sent": message.created_at.isoformat(),
        "payload": [{"contentString": message.body}] if message.body else None,
    }


def _kind(name, order, model, fields, path, retention=CLINICAL, erasure=RETAIN, **more):
    return PersonalData(
        name=name,
        order=order,
        model=model,
        subject=PATIENT,
        description=more.pop("description", name),
        purpose="To provide and record the patient's care.",
        fields=fields,
        retention=retention,
        erasure=erasure,
        patient_path=path,
        **more,
    )


KINDS = [
    _kind(
        "patients.patient",
        10,
        "patients.Patient",
        ("full_name", "search_name", "phone", "whatsapp_phone", "email", "address", "abha_number"),
        "id",
        description="Registration details",
    ),
    _kind("patients.guardian", 12, "patients.Guardian", ("name", "phone"), "patient"),
    _kind(
        "patients.appointment",
        15,
        "patients.Appointment",
        ("reason", "notes"),
        "patient",
        erasure=DELETE,
    ),
    _kind(
        "patients.visit",
        20,
        "patients.Visit",
        ("chief_complaints", "history", "advice"),
        "patient",
        description="Visit notes",
    ),
    _kind("patients.vitals", 21, "patients.Vitals", ("pulse",), "visit__patient"),
    _kind("patients.diagnosis", 22, "patients.Diagnosis", ("text", "icd10_code"), "visit__patient"),
    _kind("patients.procedure", 23, "patients.ProcedureDone", ("name", "notes"), "visit__patient"),
    _kind("patients.prescription", 24, "patients.Prescription", ("notes",), "patient"),
    _kind(
        "patients.prescription_item",
        25,
        "patients.PrescriptionItem",
        ("generic_name", "frequency", "instructions"),
        "prescription__patient",
    ),
    _kind(
        "patients.document",
        30,
        "patients.Document",
        ("title", "file", "original_name"),
        "patient",
        files=lambda row: [row.file],
    ),
    _kind(
        "compliance.consent",
        40,
        "compliance.ConsentEvent",
        ("notice_text", "phone"),
        "patient",
        retention=CONSENT_RECORD,
    ),
    _kind(
        "messaging.conversation",
        50,
        "messaging.Conversation",
        ("wa_id",),
        "patient",
        retention=MESSAGE_BODY,
        erasure=DELETE,
    ),
    _kind(
        "messaging.message",
        51,
        "messaging.Message",
        ("body", "parameters"),
        "patient",
        retention=MESSAGE_BODY,
        erasure=DELETE,
        age_field="created_at",
        fhir=_communication,
        processors=("Meta (WhatsApp Cloud API)",),
    ),
    _kind(
        "messaging.reminder",
        52,
        "messaging.Reminder",
        ("context",),
        "patient",
        retention=MESSAGE_BODY,
        erasure=DELETE,
        age_field="due_at",
    ),
    _kind(
        "compliance.export",
        60,
        "compliance.DataExport",
        ("file",),
        "patient",
        retention=EXPORT,
        erasure=DELETE,
        age_field="created_at",
        files=lambda row: [row.file],
    ),
]
