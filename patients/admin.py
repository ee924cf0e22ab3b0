"""Django admin for patients and guardians: read-only, superusers only (see clinics/admin/).

Patients' details are changed by clinic staff in the clinic's pages, where every change is
checked and audited. Here a superuser can look records up across clinics, and archive or
restore them through the same services the clinic uses.
"""

from __future__ import annotations

import re

from django.contrib import admin

from clinics.admin import ReadOnlyAdmin
from patients.models import Guardian, Patient
from patients.services import patient_archive, patient_restore

_PATIENT_NUMBER_RE = re.compile(r"^\s*p\s*-?\s*0*(\d{1,9})\s*$", re.IGNORECASE)


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    readonly_what = "patients' details"
    list_display = (
        "patient_number",
        "full_name",
        "clinic",
        "sex",
        "age",
        "phone",
        "is_archived",
        "created_at",
    )
    list_filter = ("sex", ("archived_at", admin.EmptyFieldListFilter))
    list_select_related = ("clinic",)
    search_fields = ("full_name", "phone", "whatsapp_phone", "=clinic__slug")
    raw_id_fields = ("clinic", "created_by")
    fields = (
        "clinic",
        "patient_number",
        "full_name",
        "date_of_birth",
        "dob_estimated",
        "sex",
        "phone",
        "whatsapp_phone",
        "email",
        "address",
        "city",
        "pincode",
        "state_code",
        "blood_group",
        "allergies",
        "chronic_conditions",
        "abha_number",
        "abha_address",
        "emergency_contact_name",
        "emergency_contact_relation",
        "emergency_contact_phone",
        "archived_at",
        "created_at",
        "updated_at",
        "created_by",
    )
    actions = ("archive", "restore")

    @admin.display(description="patient no.", ordering="number")
    def patient_number(self, obj: Patient) -> str:
        return obj.patient_number

    @admin.display(description="age")
    def age(self, obj: Patient) -> int:
        return obj.age

    @admin.display(boolean=True, description="archived", ordering="archived_at")
    def is_archived(self, obj: Patient) -> bool:
        return obj.is_archived

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = _PATIENT_NUMBER_RE.match(search_term or "")
        if number:  # "P-000123" or "123" also finds that patient number
            results = results | queryset.filter(number=int(number.group(1)))
        return results, may_have_duplicates

    @admin.action(description="Archive the selected patients (hide them from lists)")
    def archive(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda p: patient_archive(patient=p, actor=request.user),
            "Archived",
        )

    @admin.action(description="Restore the selected archived patients")
    def restore(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda p: patient_restore(patient=p, actor=request.user),
            "Restored",
        )


@admin.register(Guardian)
class GuardianAdmin(ReadOnlyAdmin):
    readonly_what = "guardians"
    list_display = ("patient", "guardian_name", "relation", "clinic", "created_at")
    list_filter = ("relation",)
    list_select_related = ("patient", "guardian_patient", "clinic")
    search_fields = ("patient__full_name", "name", "guardian_patient__full_name", "=clinic__slug")
    raw_id_fields = ("clinic", "patient", "guardian_patient")
    fields = ("clinic", "patient", "guardian_patient", "name", "relation", "phone", "created_at")

    @admin.display(description="guardian")
    def guardian_name(self, obj: Guardian) -> str:
        return obj.display_name
