"""The clinics app's models in the personal-data registry (`compliance` registers them in its
`ready()`: `clinics` sits below `compliance` and cannot import the registry).

Staff data: the account (name and email), memberships, the doctor's profile and signature,
two-factor devices and backup codes, invitations. The audit trail holds ids, action names and field
names only (tests/compliance/test_audit_values.py), so it is registered for the staff member's name
and address on each event and never needs to change on a patient's erasure. Stored API answers
(idempotency records) may repeat a patient's details and are found by the patient's identifiers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from compliance.personal_data import (
    ANONYMISE,
    AUDIT_LOG,
    DELETE,
    NOBODY,
    ONE_TIME_CODE,
    PATIENT,
    RETAIN,
    STAFF,
    STAFF_ACCOUNT,
    PersonalData,
)


def _anonymise_user(rows: Any) -> int:
    from django.contrib.auth.hashers import make_password  # noqa: PLC0415

    changed = 0
    for user in rows.only("id"):
        rows.model.objects.filter(pk=user.pk).update(
            email=f"erased-{user.pk}@invalid.vaidya",
            password=make_password(None),
            is_active=False,
        )
        changed += 1
    return changed


def _doctor_files(row: Any) -> list[Any]:
    return [row.signature] if row.signature else []


def patient_markers(patient_id: int) -> re.Pattern[str]:
    """What would show a stored answer is about this patient: their id in a patients path or a
    patient field, their name, phones or email (as JSON would spell them)."""
    from patients.models import Patient  # noqa: PLC0415

    markers = [
        rf'"patient(_id)?": {patient_id}\b',
        rf"/patients/{patient_id}/",
        rf'/patients/"?, "id": {patient_id}\b',
    ]
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is not None:
        for value in (patient.full_name, patient.phone, patient.whatsapp_phone, patient.email):
            if value:
                markers.append(re.escape(json.dumps(str(value))[1:-1]))
    return re.compile("|".join(markers))


def idempotency_rows(patient_id: int) -> Any:
    """Stored API answers that mention the patient (the clinic's records of the last day)."""
    from clinics.models import IdempotencyRecord  # noqa: PLC0415

    pattern = patient_markers(patient_id)
    ids = [
        pk
        for pk, path, body in IdempotencyRecord.objects.values_list("pk", "path", "response_body")
        if pattern.search(path) or pattern.search(json.dumps({"path": path, **_as_dict(body)}))
    ]
    return IdempotencyRecord.objects.filter(pk__in=ids)


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {"body": body}


ENTRIES = (
    PersonalData(
        name="clinics.user",
        order=500,
        model="clinics.User",
        subject=STAFF,
        description="A staff member's account: name and email",
        purpose="signing in and naming who wrote each record",
        fields=("full_name", "email"),
        retention=STAFF_ACCOUNT,
        erasure=ANONYMISE,
        staff_path="id",
        anonymise=_anonymise_user,
        extra={
            "kept": {"full_name": "stays as the author's name on the clinical records"},
            "not_personal": {"password": "a hash"},
        },
    ),
    PersonalData(
        name="clinics.membership",
        order=510,
        model="clinics.Membership",
        subject=STAFF,
        description="Which clinics a staff member works at, with which role",
        purpose="access control; the clinical records name the membership that wrote them",
        fields=("role", "created_at", "deactivated_at"),
        retention=STAFF_ACCOUNT,
        erasure=RETAIN,
        staff_path="user",
    ),
    PersonalData(
        name="clinics.doctor_profile",
        order=520,
        model="clinics.DoctorProfile",
        subject=STAFF,
        description="A doctor's qualifications, registration and signature",
        purpose="printed on prescriptions and certificates",
        fields=(
            "qualifications",
            "medical_council",
            "registration_number",
            "specialisation",
            "signature",
        ),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="membership__user",
        files=_doctor_files,
    ),
    PersonalData(
        name="clinics.authenticator_app",
        order=530,
        model="clinics.AuthenticatorApp",
        subject=STAFF,
        description="Two-factor authenticator apps (encrypted seed)",
        purpose="signing in securely",
        fields=("name", "secret"),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="user",
    ),
    PersonalData(
        name="clinics.backup_codes",
        order=531,
        model="clinics.BackupCodes",
        subject=STAFF,
        description="The set of two-factor backup codes",
        purpose="signing in when the phone is lost",
        fields=("name",),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="user",
    ),
    PersonalData(
        name="clinics.backup_code",
        order=532,
        model="clinics.BackupCode",
        subject=STAFF,
        description="Two-factor backup codes (hashes only)",
        purpose="signing in when the phone is lost",
        fields=("digest",),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="device__user",
    ),
    PersonalData(
        name="clinics.invitation",
        order=540,
        model="clinics.Invitation",
        subject=STAFF,
        description="Invitations to join a clinic: the invited email address",
        purpose="inviting staff",
        fields=("email",),
        retention=STAFF_ACCOUNT,
        erasure=DELETE,
        staff_path="accepted_by",
        age_field="expires_at",
    ),
    PersonalData(
        name="clinics.audit_event",
        order=550,
        model="clinics.AuditEvent",
        subject=STAFF,
        description="The audit trail: who did what, when, from where (ids and field names only)",
        purpose="security and accountability (DPDP Rules 2025, rule 8(3))",
        fields=("actor_label", "ip", "user_agent"),
        retention=AUDIT_LOG,
        erasure=RETAIN,
        staff_path="actor",
        extra={
            "not_personal": {
                "data": "ids, action and field names only (tests/compliance/test_audit_values.py)",
            }
        },
    ),
    PersonalData(
        name="clinics.idempotency_record",
        order=560,
        model="clinics.IdempotencyRecord",
        subject=PATIENT,
        description="API answers remembered for a day so a retried request gets the same answer",
        purpose="safe retries of API calls",
        fields=("response_body", "path"),
        retention=ONE_TIME_CODE,
        erasure=DELETE,
        rows=idempotency_rows,
        age_field="created_at",
    ),
    # --- about nobody --------------------------------------------------------------------------
    PersonalData(
        name="clinics.clinic",
        order=950,
        model="clinics.Clinic",
        subject=NOBODY,
        description="The clinic's own business details (address, phone, email, logo).",
    ),
    PersonalData(
        name="clinics.api_key",
        order=951,
        model="clinics.ApiKey",
        subject=NOBODY,
        description="API keys: a label, a prefix and a digest.",
    ),
    PersonalData(
        name="clinics.clinic_counter",
        order=952,
        model="clinics.ClinicCounter",
        subject=NOBODY,
        description="Number sequences (patient and bill numbers).",
    ),
    PersonalData(
        name="clinics.audit_chain_head",
        order=953,
        model="clinics.AuditChainHead",
        subject=NOBODY,
        description="The audit chain's last sequence number and hash.",
    ),
)
