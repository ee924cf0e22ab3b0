"""The compliance app's own models in the personal-data registry."""

from __future__ import annotations

from compliance.personal_data import (
    CONSENT_RECORD,
    DELETE,
    ONE_TIME_CODE,
    PATIENT,
    RETAIN,
    PersonalData,
)

ENTRIES = (
    PersonalData(
        name="compliance.consent_event",
        order=400,
        model="compliance.ConsentEvent",
        subject=PATIENT,
        description="Consents given and withdrawn, with the notice shown and the number used",
        purpose="evidence of the consent the clinic relied on (DPDP Act s.6(10))",
        fields=("purpose", "action", "method", "notice_text", "phone", "occurred_at"),
        retention=CONSENT_RECORD,
        erasure=RETAIN,
        patient_path="patient",
    ),
    PersonalData(
        name="compliance.verification_code",
        order=410,
        model="compliance.VerificationCode",
        subject=PATIENT,
        description="One-time codes sent to verify the patient (hashes only)",
        purpose="checking who is asking",
        fields=("digest",),
        retention=ONE_TIME_CODE,
        erasure=DELETE,
        patient_path="patient",
        age_field="created_at",
        extra={"not_personal": {"subject": "what the code unlocks, a fixed word"}},
    ),
)
