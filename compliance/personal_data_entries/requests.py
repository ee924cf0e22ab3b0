"""Data-rights requests, corrections and nominations in the personal-data registry.

A request and what happened to it are the clinic's evidence that it answered (the rights-record
retention class): an erasure request leaves them. A nominee's name and phone are removed on
erasure; the nomination's relation and dates stay with the requests that relied on it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from compliance.personal_data import ANONYMISE, PATIENT, RETAIN, RIGHTS_RECORD, PersonalData

_EVIDENCE = (
    "evidence that the clinic answered the patient's data-rights request (DPDP Act ss.11-14)"
)


def _anonymise_nominee(rows: Any) -> int:
    return rows.update(name="", phone="")


ENTRIES = (
    PersonalData(
        name="compliance.rights_request",
        order=450,
        model="compliance.RightsRequest",
        subject=PATIENT,
        description="The patient's data-rights requests and grievances, with the replies",
        purpose=_EVIDENCE,
        fields=(
            "requester_name",
            "requester_phone",
            "requester_email",
            "details",
            "refusal_reason",
            "reply",
        ),
        retention=RIGHTS_RECORD,
        erasure=RETAIN,
        patient_path="patient",
        age_field="closed_at",
    ),
    PersonalData(
        name="compliance.rights_request_event",
        order=451,
        model="compliance.RightsRequestEvent",
        subject=PATIENT,
        description="What happened to each request, and when",
        purpose=_EVIDENCE,
        fields=("note",),
        retention=RIGHTS_RECORD,
        erasure=RETAIN,
        patient_path="request__patient",
        age_field="at",
    ),
    PersonalData(
        name="compliance.correction_item",
        order=452,
        model="compliance.CorrectionItem",
        subject=PATIENT,
        description="Corrections the patient asked for: old and proposed values, the decision",
        purpose=_EVIDENCE,
        fields=("old_value", "new_value", "reason"),
        retention=RIGHTS_RECORD,
        erasure=RETAIN,
        patient_path="request__patient",
        age_field="decided_at",
    ),
    PersonalData(
        name="compliance.nomination",
        order=453,
        model="compliance.Nomination",
        subject=PATIENT,
        description="The person the patient nominated to act for them (name, relation, phone)",
        purpose="letting the nominee exercise the patient's rights (DPDP Act s.14)",
        fields=("name", "relation", "phone"),
        retention=RIGHTS_RECORD,
        erasure=ANONYMISE,
        anonymise=_anonymise_nominee,
        patient_path="patient",
        age_field="revoked_at",
        # The purge anonymises only nominations that still name someone (a re-run changes nothing).
        extra={"holds_data": ~Q(name="", phone="")},
    ),
    PersonalData(
        name="compliance.nomination_evidence",
        order=454,
        model="compliance.NominationEvidence",
        subject=PATIENT,
        description="The evidence checked when a nominee acted for the patient",
        purpose=_EVIDENCE,
        fields=("note",),
        retention=RIGHTS_RECORD,
        erasure=RETAIN,
        patient_path="nomination__patient",
        age_field="checked_at",
    ),
)
