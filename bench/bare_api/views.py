"""The patient list and search, a record, and registering a patient."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination

from bare_api.models import Clinic, Patient


class PatientListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "id",
            "number",
            "full_name",
            "sex",
            "date_of_birth",
            "dob_estimated",
            "phone",
            "whatsapp_phone",
            "city",
            "archived_at",
        ]


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        exclude = ["clinic", "search_name"]
        read_only_fields = ["number", "archived_at", "created_at", "updated_at"]


class Page(CursorPagination):
    page_size = 20
    ordering = "-number"


class PatientList(generics.ListCreateAPIView):
    pagination_class = Page

    def get_serializer_class(self):
        return PatientSerializer if self.request.method == "POST" else PatientListSerializer

    def get_queryset(self):
        qs = Patient.objects.filter(clinic_id=self.request.user.clinic_id, archived_at=None)
        query = self.request.query_params.get("q", "").strip().lower()
        if query:
            qs = qs.filter(search_name__contains=query)
        return qs.only(*PatientListSerializer.Meta.fields)

    @transaction.atomic
    def perform_create(self, serializer):
        clinic_id = self.request.user.clinic_id
        Clinic.objects.filter(pk=clinic_id).update(next_number=F("next_number") + 1)
        number = Clinic.objects.values_list("next_number", flat=True).get(pk=clinic_id)
        name = serializer.validated_data["full_name"]
        serializer.save(clinic_id=clinic_id, number=number, search_name=name.lower())


class PatientDetail(generics.RetrieveAPIView):
    serializer_class = PatientSerializer

    def get_object(self):
        return get_object_or_404(
            Patient, clinic_id=self.request.user.clinic_id, pk=self.kwargs["pk"]
        )
