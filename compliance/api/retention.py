"""Retention API: how long the caller's clinic keeps each class of records (read; an owner's
key may lengthen one period, never below its floor)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from clinics.api.base import StrictInputSerializer, parsed
from clinics.api.fields import declared
from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.roles import Perm
from compliance.retention import (
    MAX_DAYS,
    policy_classes,
    retention_policy,
    retention_policy_set,
)


class RetentionClassSerializer(serializers.Serializer):
    record_class = serializers.CharField(help_text="The class's key, e.g. message_body.")
    label = serializers.CharField()
    days = serializers.IntegerField(help_text="How many days the clinic keeps these records.")
    default_days = serializers.IntegerField()
    floor_days = serializers.IntegerField(help_text="The shortest period the law allows.")
    counts_from = serializers.CharField(help_text="When the period starts.")
    basis = serializers.CharField(help_text="The rule the period rests on.")


def _row(row) -> dict:
    rc = row.record_class
    return {
        "record_class": rc.key,
        "label": rc.label,
        "days": row.days,
        "default_days": rc.default_days,
        "floor_days": rc.floor_days,
        "counts_from": rc.counts_from,
        "basis": rc.basis,
    }


class RetentionPolicyInputSerializer(StrictInputSerializer):
    record_class = serializers.ChoiceField(
        choices=[(c.key, c.label) for c in policy_classes()],
        help_text="The class of records (see GET /api/v1/retention-policy/).",
    )
    days = declared(
        serializers.IntegerField(min_value=0, max_value=MAX_DAYS),
        rule="At least the class's `floor_days` (GET /api/v1/retention-policy/).",
    )


class RetentionPolicyView(ClinicAPIView):
    required_perms = {"GET": Perm.RETENTION_VIEW, "PUT": Perm.RETENTION_MANAGE}

    @extend_schema(
        operation_id="retention_policy_retrieve",
        summary="The clinic's retention policy",
        description=(
            "One entry per class of records: how many days the clinic keeps it, the default, the "
            "floor an owner cannot go below, when the period starts and its legal basis. Records "
            "under a legal hold are kept whatever the period."
        ),
        responses={200: RetentionClassSerializer(many=True), **error_responses()},
    )
    def get(self, request):
        rows = retention_policy(clinic_id=request.clinic.pk)
        return Response(RetentionClassSerializer([_row(r) for r in rows], many=True).data)

    @extend_schema(
        operation_id="retention_policy_set",
        summary="Change one retention period",
        description=(
            "Sets how many days the clinic keeps one class of records. A period below the "
            "class's floor is refused (400, the message names the floor and its basis)."
        ),
        request=RetentionPolicyInputSerializer,
        responses={200: RetentionClassSerializer(many=True), **error_responses(400, 415)},
    )
    def put(self, request):
        data = parsed(RetentionPolicyInputSerializer, request.data)
        retention_policy_set(
            clinic_id=request.clinic.pk,
            record_class=data["record_class"],
            days=data["days"],
            actor=request.actor,
        )
        return self.get(request)
