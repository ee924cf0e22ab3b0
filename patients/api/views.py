"""Patients API: list and search, register, read, change, archive, guardians."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import CharField, ExpressionWrapper, F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from clinics.api.base import idempotent
from clinics.api.fields import TEXT_PATTERN
from clinics.api.pagination import ClinicCursorPagination
from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.errors import ValidationFailed
from clinics.roles import Perm
from patients.api.serializers import (
    LIST_COLUMNS,
    LIST_TEXT_COLUMNS,
    GuardianInputSerializer,
    GuardianSerializer,
    PatientCreateInputSerializer,
    PatientListItemSerializer,
    PatientSerializer,
    PatientUpdateInputSerializer,
)
from patients.registration import registration_steps
from patients.selectors import patient_list, patient_or_404, patient_with_guardians
from patients.selectors.allergies import patient_allergies
from patients.services import (
    GuardianInput,
    guardian_add,
    patient_archive,
    patient_create,
    patient_record_view,
    patient_restore,
    patient_update,
)

PATIENT_ID = OpenApiParameter(
    "patient_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The patient's id."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[\x21-\x7e]{1,255}$",
    description=(
        "Any unique string of up to 255 visible characters (a UUID works). A retry with the same "
        "key and body gets the first answer again, with the header `Idempotent-Replayed: true`, "
        "and nothing is created twice; the same key with a different body gets 422."
    ),
)
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
MAX_QUERY = 200
ARCHIVED_RULE = "the patient is archived: restore the record first"

# The service names guardian inputs with a prefix; the API nests them under `guardian`.
_GUARDIAN_FIELDS = {
    "guardian_patient": "guardian_patient_id",
    "guardian_relation": "relation",
    "guardian_name": "name",
    "guardian_phone": "phone",
}


@contextmanager
def _fields_renamed(mapping: dict[str, str]) -> Iterator[None]:
    """Report a service's field errors under the names the API's input uses."""
    try:
        yield
    except ValidationFailed as exc:
        errors = {mapping.get(name, name): messages for name, messages in exc.errors.items()}
        raise ValidationFailed(errors, exc.message) from exc


def _guardian_input(data: dict | None) -> GuardianInput | None:
    if not data:
        return None
    return GuardianInput(
        relation=data["relation"],
        guardian_patient_id=data.get("guardian_patient_id"),
        name=data.get("name") or "",
        phone=data.get("phone") or "",
    )


class PatientCursorPagination(ClinicCursorPagination):
    page_size_query_description = "Patients per page, 1 to 100 (default 20); more gives 100."
    ordering = "-number"


class PatientListView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENTS_VIEW, "POST": Perm.PATIENTS_EDIT}
    pagination_class = PatientCursorPagination

    @extend_schema(
        operation_id="patients_list",
        summary="List and search patients",
        description=(
            "Newest patients first, 20 a page; follow `next` for more. `q` finds a patient by "
            "number (P-000123), by phone in any format (98450 12345, +91-98450-12345) or by "
            "part of the name."
        ),
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                pattern=TEXT_PATTERN,
                description="Patient number, phone number or part of the name (the first "
                f"{MAX_QUERY} characters are used).",
            ),
            OpenApiParameter(
                "include_archived",
                OpenApiTypes.BOOL,
                description="Also list archived patients (default false).",
            ),
        ],
        responses={200: PatientListItemSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        params = request.query_params
        archived = params.get("include_archived", "").strip().lower()
        if archived not in _TRUE | _FALSE:
            raise exceptions.ValidationError({"include_archived": ["Use true or false."]})
        query = params.get("q", "")[:MAX_QUERY]
        if "\x00" in query:
            # PostgreSQL cannot compare text holding NUL: refused like any DRF text field.
            raise exceptions.ValidationError({"q": ["Null characters are not allowed."]})
        rows = patient_list(query=query, include_archived=archived in _TRUE).values(
            *LIST_COLUMNS,
            **{
                alias: ExpressionWrapper(F(column), output_field=CharField())
                for alias, column in LIST_TEXT_COLUMNS.items()
            },
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PatientListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="patients_create",
        summary="Register a patient",
        description=(
            "Gives the patient the clinic's next number. When a patient with the same phone and "
            "a similar name exists, answers 409 (code possible_duplicate); send again with "
            "`confirm_duplicate: true` if this is a different person. Send an Idempotency-Key "
            'to retry safely. With `whatsapp_consent: {"granted": true, "method": '
            '"verbal", "notice_shown": true}` the patient\'s WhatsApp care consent is '
            "recorded in the same step, with Vaidya's notice in the patient's preferred language "
            "(if it cannot be recorded, the patient is not registered either)."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=PatientCreateInputSerializer,
        responses={201: PatientSerializer, **error_responses(400, 409, 415, 422)},
    )
    @idempotent
    def post(self, request):
        serializer = PatientCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        guardian = _guardian_input(data.pop("guardian", None))
        registration = {
            step.name: data.pop(step.name) for step in registration_steps if step.name in data
        }
        mapping = {k: f"guardian.{v}" for k, v in _GUARDIAN_FIELDS.items()}
        with _fields_renamed(mapping):
            patient = patient_create(
                clinic=request.clinic,
                actor=request.actor,
                age_years=data.pop("age_years", None),
                guardian=guardian,
                confirm_duplicate=data.pop("confirm_duplicate", False),
                registration=registration,
                **data,
            )
        # A new patient has exactly the guardian sent, if any: no need to ask the database.
        guardians = list(patient.guardians.select_related("guardian_patient")) if guardian else []
        body = PatientSerializer(patient, context=_out(request, guardians=guardians)).data
        return Response(body, status=status.HTTP_201_CREATED)


def _out(request, patient=None, **context) -> dict:
    """The patient serializer's context: clinical fields only for callers who may read them,
    with the structured allergies (read only when the patient has some)."""
    clinical = Perm.CLINICAL_VIEW in request.perms
    if clinical and patient is not None and getattr(patient, "has_allergy_entries", False):
        context["allergy_entries"] = patient_allergies(patient.pk)
    return {**context, "clinical": clinical}


class PatientDetailView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENTS_VIEW, "PATCH": Perm.PATIENTS_EDIT}

    @extend_schema(
        operation_id="patients_retrieve",
        summary="A patient's record",
        description="Also for archived patients. Each read is written to the audit trail.",
        parameters=[PATIENT_ID],
        responses={200: PatientSerializer, **error_responses(404)},
    )
    def get(self, request, patient_id: int):
        patient = patient_or_404(patient_id, read=patient_with_guardians)
        patient_record_view(patient=patient, actor=request.actor)
        return Response(PatientSerializer(patient, context=_out(request, patient)).data)

    @extend_schema(
        operation_id="patients_partial_update",
        summary="Change a patient's details",
        description=(
            "Send only the fields that change. Guardians are managed under "
            "/patients/{patient_id}/guardians/. An archived patient must be restored first."
        ),
        parameters=[PATIENT_ID],
        request=PatientUpdateInputSerializer,
        responses={
            200: PatientSerializer,
            **error_responses(400, 404, 415, rules={"archived": ARCHIVED_RULE}),
        },
    )
    def patch(self, request, patient_id: int):
        patient = patient_or_404(patient_id, read=patient_with_guardians)
        serializer = PatientUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # A new date of birth (or age) that makes the patient a minor needs a guardian on record:
        # say so on the field that was sent, as this input has no `guardian`.
        sent = "date_of_birth" if "date_of_birth" in data else "age_years"
        with _fields_renamed({"guardian": sent}):
            updated = patient_update(
                patient=patient, actor=request.actor, age_years=data.pop("age_years", None), **data
            )
        guardians = list(patient.guardians.all())
        updated.has_allergy_entries = getattr(patient, "has_allergy_entries", False)
        context = _out(request, patient, guardians=guardians)
        return Response(PatientSerializer(updated, context=context).data)


class _ArchiveStateView(ClinicAPIView):
    required_perms = {"POST": Perm.PATIENTS_ARCHIVE}
    service = None

    def post(self, request, patient_id: int):
        patient = patient_or_404(patient_id, read=patient_with_guardians)
        changed = type(self).service(patient=patient, actor=request.actor)
        guardians = list(patient.guardians.all())
        changed.has_allergy_entries = getattr(patient, "has_allergy_entries", False)
        context = _out(request, patient, guardians=guardians)
        return Response(PatientSerializer(changed, context=context).data)


class PatientArchiveView(_ArchiveStateView):
    service = patient_archive

    @extend_schema(
        operation_id="patients_archive",
        summary="Archive a patient",
        description=(
            "Hides the patient from the list and search; nothing is deleted. Archiving an "
            "archived patient changes nothing."
        ),
        parameters=[PATIENT_ID],
        request=None,
        responses={200: PatientSerializer, **error_responses(404)},
    )
    def post(self, request, patient_id: int):
        return super().post(request, patient_id)


class PatientRestoreView(_ArchiveStateView):
    service = patient_restore

    @extend_schema(
        operation_id="patients_restore",
        summary="Restore an archived patient",
        description="Brings the patient back into the list and search.",
        parameters=[PATIENT_ID],
        request=None,
        responses={200: PatientSerializer, **error_responses(404)},
    )
    def post(self, request, patient_id: int):
        return super().post(request, patient_id)


class GuardianListView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENTS_VIEW, "POST": Perm.PATIENTS_EDIT}

    @extend_schema(
        operation_id="patients_guardians_list",
        summary="A patient's guardians",
        parameters=[PATIENT_ID],
        responses={200: GuardianSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, patient_id: int):
        patient = patient_or_404(patient_id, read=patient_with_guardians)
        return Response(GuardianSerializer(patient.guardians.all(), many=True).data)

    @extend_schema(
        operation_id="patients_guardians_create",
        summary="Add a guardian",
        description=(
            "Link an adult patient of the clinic (`guardian_patient_id`), or a contact with "
            "`name` and `phone`. Send an Idempotency-Key to retry safely."
        ),
        parameters=[PATIENT_ID, IDEMPOTENCY_KEY],
        request=GuardianInputSerializer,
        responses={
            201: OpenApiResponse(GuardianSerializer, description="The guardian was added."),
            **error_responses(400, 404, 415, 422),
        },
    )
    @idempotent
    def post(self, request, patient_id: int):
        patient = patient_or_404(patient_id, read=patient_with_guardians)
        serializer = GuardianInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _fields_renamed(_GUARDIAN_FIELDS):
            guardian = guardian_add(
                patient=patient,
                actor=request.actor,
                guardian=_guardian_input(serializer.validated_data),
            )
        return Response(GuardianSerializer(guardian).data, status=status.HTTP_201_CREATED)
