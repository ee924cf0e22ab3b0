"""Output serializers for the clinic and its staff, and the API's one error shape."""

from __future__ import annotations

from rest_framework import serializers

from clinics.api.fields import E164_OR_EMPTY_PATTERN, declared
from clinics.roles import Role


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers with (see clinics.api.errors)."""

    type = serializers.CharField(
        help_text="The kind of error: invalid_request, validation_error, authentication_error, "
        "permission_error, not_found, method_not_allowed, conflict, unsupported_media_type, ..."
    )
    code = serializers.CharField(
        help_text="A stable machine-readable name, for example parse_error, invalid, "
        "possible_duplicate, not_authenticated, permission_denied, idempotency_key_reused."
    )
    detail = serializers.CharField(help_text="What went wrong, in words you can show a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (nested fields as guardian.phone); empty otherwise.",
    )


class ClinicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField(help_text="The clinic's short name, used in web addresses.")
    address = serializers.CharField()
    city = serializers.CharField()
    pincode = serializers.CharField()
    state_code = serializers.CharField(help_text="GST state code, for example 29 (Karnataka).")
    state_name = serializers.CharField()
    phone = declared(
        serializers.CharField(help_text="E.164, for example +918041234567; empty if none."),
        pattern=E164_OR_EMPTY_PATTERN,
    )
    email = serializers.CharField()
    timezone = serializers.CharField(help_text="IANA time zone, for example Asia/Kolkata.")
    gstin = serializers.CharField()
    require_two_factor = serializers.BooleanField()


class DoctorProfileSerializer(serializers.Serializer):
    qualifications = serializers.CharField()
    medical_council = serializers.CharField()
    registration_number = serializers.CharField()
    specialisation = serializers.CharField()


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField(source="user.full_name")
    email = serializers.CharField(source="user.email")
    role = serializers.ChoiceField(choices=Role.choices)
    is_active = serializers.BooleanField()
    doctor = DoctorProfileSerializer(
        source="doctor_profile",
        allow_null=True,
        read_only=True,
        help_text="The doctor's registration details; null for staff without a doctor profile.",
    )
