"""Serializers of the compliance API (exports of a patient's data)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from compliance.exports.models import ExportStatus
from patients.api.serializers_schedule import id_field, iso


class ExportCreateInputSerializer(StrictInputSerializer):
    patient_id = id_field("The patient whose data to export.", refers_to="patient")
    request_reference = serializers.CharField(
        required=False,
        max_length=40,
        help_text="The data-rights request this export answers (its reference), if any.",
    )


class DownloadSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The ZIP: a signed link, valid for 15 minutes.")
    expires_at = serializers.DateTimeField()


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    patient_id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    request_reference = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the ZIP is removed (7 days after it was prepared)."
    )
    size = serializers.IntegerField(allow_null=True, help_text="The ZIP's size in bytes.")
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Records per kind of data in the ZIP."
    )
    download = DownloadSerializer(
        allow_null=True, help_text="Only when ready: the link, issued for this answer."
    )

    def to_representation(self, export) -> dict[str, Any]:
        tz = self.context["tz"]
        link = self.context.get("link")
        return {
            "id": export.pk,
            "patient_id": export.patient_id,
            "status": export.status,
            "request_reference": export.request_reference,
            "created_at": iso(export.created_at, tz),
            "ready_at": iso(export.ready_at, tz),
            "expires_at": iso(export.expires_at, tz),
            "size": export.size,
            "counts": export.counts or {},
            "download": (
                {"url": link[0], "expires_at": iso(link[1], tz)} if link is not None else None
            ),
        }
