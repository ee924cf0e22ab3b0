"""Rights requests in the API. Input serializers are strict and only parse; the services
decide. Times go out in the clinic's time zone (`context["tz"]`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from clinics.api.fields import PHONE_INPUT_PATTERN, PHONE_RULE, TEXT_PATTERN, declared
from clinics.api.pagination import PagedQuerySerializer
from compliance.rights.models import (
    Channel,
    CorrectionDecision,
    CorrectionTarget,
    Requester,
    RightsKind,
    RightsStatus,
    Verification,
)
from compliance.rights.selectors import FILTERS
from patients.api.serializers_schedule import id_field, iso


class RightsRequestSerializer(serializers.Serializer):
    """A data-rights request. `patient` is null for a grievance from someone who is not a
    patient, or a WhatsApp sender not linked to a patient yet."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="DR-2026-0001: unique in the clinic.")
    kind = serializers.ChoiceField(choices=RightsKind.choices)
    status = serializers.ChoiceField(choices=RightsStatus.choices)
    patient = serializers.IntegerField(allow_null=True, help_text="The patient's id.")
    requester = serializers.ChoiceField(choices=Requester.choices)
    nomination = serializers.IntegerField(allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    records_copy = serializers.BooleanField(help_text="Copies of medical records: due in 72 hours.")
    verification = serializers.ChoiceField(choices=Verification.choices, allow_blank=True)
    owner = serializers.IntegerField(allow_null=True, help_text="A staff member's id.")
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    refusal_reason = serializers.CharField(allow_blank=True)
    reply = serializers.CharField(
        allow_blank=True, help_text="The answer given, naming the clinic's privacy contact."
    )
    job_kind = serializers.CharField(allow_blank=True)
    job_id = serializers.CharField(allow_blank=True)

    def to_representation(self, rr) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": rr.pk,
            "reference": rr.reference,
            "kind": rr.kind,
            "status": rr.status,
            "patient": rr.patient_id,
            "requester": rr.requester,
            "nomination": rr.nomination_id,
            "channel": rr.channel,
            "records_copy": rr.records_copy,
            "verification": rr.verification,
            "owner": rr.owner_id,
            "received_at": iso(rr.received_at, tz),
            "due_at": iso(rr.due_at, tz),
            "closed_at": iso(rr.closed_at, tz),
            "overdue": rr.is_overdue,
            "refusal_reason": rr.refusal_reason,
            "reply": rr.reply,
            "job_kind": rr.job_kind,
            "job_id": rr.job_id,
        }


class RightsRequestListQuerySerializer(PagedQuerySerializer):
    show = serializers.ChoiceField(choices=list(FILTERS), required=False, default="open")
    patient = id_field("Only this patient's requests.", required=False)


def _text(
    max_length: int, help_text: str, *, pattern: str = TEXT_PATTERN, rule: str = ""
) -> serializers.CharField:
    field = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length, help_text=help_text
    )
    return declared(field, pattern=pattern, rule=rule)


PATIENT_RULE = (
    "Must be the id of an existing patient of the caller's clinic; needed for every kind but "
    "a grievance."
)


class RightsRequestCreateInputSerializer(StrictInputSerializer):
    """A data-rights request recorded on a patient's behalf (or a non-patient's grievance)."""

    kind = serializers.ChoiceField(choices=RightsKind.choices)
    patient = declared(
        id_field(
            "The patient the request is about (leave out only for a grievance from someone "
            "who is not a patient).",
            required=False,
        ),
        rule=PATIENT_RULE,
    )
    requester = declared(
        serializers.ChoiceField(
            choices=Requester.choices, required=False, default=Requester.PATIENT
        ),
        rule="guardian needs `guardian`; nominee needs the patient's current nominee; other "
        "is only for a grievance, with `requester_name`.",
    )
    requester_name = _text(
        200,
        "Who asks, when they are not a patient (a grievance).",
        rule="Needed (not blank) when `requester` is other.",
    )
    requester_phone = _text(
        30, "Their phone, in any usual format.", pattern=PHONE_INPUT_PATTERN, rule=PHONE_RULE
    )
    requester_email = _text(
        254,
        "Their email address (someone who is not a patient).",
        rule="A valid email address. When `requester` is other, give a phone or an email.",
    )
    guardian = declared(
        id_field("The guardian who asks.", required=False),
        rule="Must be the id of a guardian of the patient; needed when `requester` is guardian.",
    )
    details = _text(4000, "What was asked, in the requester's words.")
    records_copy = serializers.BooleanField(
        required=False, default=False, help_text="They want copies of their medical records."
    )


class RightsRequestStatusInputSerializer(StrictInputSerializer):
    """The status to move a request to, with the answer when it is done or refused."""

    status = serializers.ChoiceField(choices=RightsStatus.choices)
    reply = _text(
        4000,
        "The answer; the clinic's privacy contact and the reference are added to it.",
        rule="Needed (not blank) when `status` is done or refused.",
    )
    reason = _text(
        4000,
        "Why it is refused.",
        rule="Needed (not blank) when `status` is refused.",
    )


class CorrectionSerializer(serializers.Serializer):
    """One change a correction request proposes, and its decision. `visit` is set for a visit's
    field; `amendment` is the new version of a signed visit that holds an approved change (for
    its doctor to sign), null otherwise."""

    id = serializers.IntegerField()
    request = serializers.IntegerField(help_text="The rights request's id.")
    target = serializers.ChoiceField(choices=CorrectionTarget.choices)
    visit = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(help_text="The field to change.")
    old_value = serializers.CharField(allow_blank=True, help_text="What the record said.")
    new_value = serializers.CharField(allow_blank=True, help_text="What it should say.")
    decision = serializers.ChoiceField(choices=CorrectionDecision.choices)
    reason = serializers.CharField(allow_blank=True, help_text="Why it was refused.")
    decided_by = serializers.IntegerField(allow_null=True, help_text="A staff member's id.")
    decided_at = serializers.DateTimeField(allow_null=True)
    amendment = serializers.IntegerField(allow_null=True, help_text="A visit's id.")

    def to_representation(self, item) -> dict[str, Any]:
        return {
            "id": item.pk,
            "request": item.request_id,
            "target": item.target,
            "visit": item.visit_id,
            "field": item.field,
            "old_value": item.old_value,
            "new_value": item.new_value,
            "decision": item.decision,
            "reason": item.reason,
            "decided_by": item.decided_by_id,
            "decided_at": iso(item.decided_at, self.context["tz"]),
            "amendment": item.amendment_id,
        }


class CorrectionDecisionInputSerializer(StrictInputSerializer):
    """Approve (make the change) or refuse (with a reason) one proposed correction."""

    decision = serializers.ChoiceField(
        choices=[CorrectionDecision.APPROVED, CorrectionDecision.REFUSED],
        help_text="approved or refused.",
    )
    reason = _text(
        4000,
        "Why the correction is refused (kept on the request and shown to the requester).",
        rule="Needed (not blank) when `decision` is refused.",
    )
