"""Visits and prescriptions in the API: a patient's visits, one visit's record, opening a draft
visit with everything on it, and a patient's prescriptions.

Clinical content is for roles with clinical.view (prescriptions.view for prescriptions); the
front desk and billing never see it. Opening a visit needs a person: the services act as a
signed-in member of staff, and an API key is not one (see `PersonOnlyMixin`).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from clinics.api.base import idempotent
from clinics.api.pagination import ClinicCursorPagination
from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.models import ApiKey
from clinics.roles import Perm
from clinics.selectors import staff_list
from patients.api.schedule import fields_renamed
from patients.api.serializers_visits import (
    PrescriptionSerializer,
    VisitSerializer,
    VisitSummarySerializer,
)
from patients.api.serializers_visits_input import PatientQuerySerializer, VisitCreateInputSerializer
from patients.api.views import IDEMPOTENCY_KEY
from patients.models import Appointment, Drug, Patient, Visit
from patients.selectors import patient_or_404
from patients.selectors.visits import patient_prescriptions, patient_visits, visit_record
from patients.services.visits import visit_draft_create, visit_record_view

PERSON_NEEDED = (
    "Opening a visit needs a signed-in doctor or assistant: the record says who wrote it, and "
    "an API key is not a person. Use Vaidya's web app, or the API with the web session and "
    "the X-Clinic header."
)
VISIT_ID = OpenApiParameter(
    "visit_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The visit's id."
)


class NewestFirstCursorPagination(ClinicCursorPagination):
    """Newest first by creation time, 20 a page; follow `next` for older rows."""

    ordering = ("-created_at", "-id")
    position_is = "time"


class PersonOnlyMixin:
    """Methods in `person_only_methods` are refused to API keys (403), after the role check.

    The services behind them act as a member of staff (`actor_membership`), and a key is not
    one; acting as some doctor on a key's behalf would put words in their record.
    """

    person_only_methods: frozenset[str] = frozenset()

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method in self.person_only_methods and isinstance(request.actor, ApiKey):
            raise exceptions.PermissionDenied(PERSON_NEEDED)


def _patient_of_query(request) -> Patient:
    serializer = PatientQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return patient_or_404(serializer.validated_data["patient"])


def _paginated(view, request, rows, serializer_class):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    context = {"tz": request.clinic.tzinfo}
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


def _references(data: dict, membership) -> dict:
    """The objects the input names by id, or 400 naming every id that is not the clinic's."""
    problems: dict[str, list[str]] = {}
    found: dict = {}
    found["patient"] = Patient.objects.filter(pk=data["patient_id"]).first()
    if found["patient"] is None:
        problems["patient_id"] = ["No such patient at this clinic."]
    if "doctor_id" in data:
        found["doctor"] = staff_list().filter(pk=data["doctor_id"]).first()
        if found["doctor"] is None:
            problems["doctor_id"] = ["No such doctor at this clinic."]
    else:
        found["doctor"] = membership
    found["appointment"] = None
    if data.get("appointment_id"):
        found["appointment"] = Appointment.objects.filter(pk=data["appointment_id"]).first()
        if found["appointment"] is None:
            problems["appointment_id"] = ["No such appointment at this clinic."]
    items = data.get("items", [])
    wanted = {item["drug_id"] for item in items if item.get("drug_id")}
    drugs = Drug.objects.in_bulk(wanted) if wanted else {}
    found["items"] = []
    for i, item in enumerate(items):
        item = dict(item)
        drug_id = item.pop("drug_id", None)
        if drug_id:
            if drug_id not in drugs:
                problems[f"items.{i}.drug_id"] = ["Choose a drug from this clinic's list."]
            item["drug"] = drugs.get(drug_id)
        found["items"].append(item)
    if problems:
        raise exceptions.ValidationError(problems)
    return found


class VisitListView(PersonOnlyMixin, ClinicAPIView):
    required_perms = {"GET": Perm.CLINICAL_VIEW, "POST": Perm.CLINICAL_DRAFT}
    person_only_methods = frozenset({"POST"})
    pagination_class = NewestFirstCursorPagination

    @extend_schema(
        operation_id="visits_list",
        summary="A patient's visits",
        description=(
            "Newest first, 20 a page (follow `next`), every version of a corrected visit "
            "included, with the diagnoses. Needs clinical.view: the front desk and billing "
            "roles get 403."
        ),
        parameters=[PatientQuerySerializer],
        responses={200: VisitSummarySerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        patient = _patient_of_query(request)
        return _paginated(self, request, patient_visits(patient=patient), VisitSummarySerializer)

    @extend_schema(
        operation_id="visits_create",
        summary="Open a draft visit",
        description=(
            "**Needs a signed-in member of staff** (the web session with the X-Clinic header): "
            "the record says who wrote what, and an API key is not a person, so keys get 403. "
            "Opens a draft visit of the patient with a doctor, with any of its notes, vitals, "
            "diagnoses, procedures and medicines, all or nothing: when anything is wrong the "
            "answer is 400 with every problem under its path (`vitals.pulse`, "
            "`diagnoses.0.icd10_code`, `items.1.frequency`) and nothing is saved. An assistant "
            "may open a draft with vitals and notes for the doctor to sign; diagnoses, "
            "procedures and medicines need the visit's doctor (403 otherwise), and a doctor "
            "writes notes only in their own visit. Send an Idempotency-Key to retry safely."
        ),
        parameters=[IDEMPOTENCY_KEY],
        auth=[{"session": []}],  # API keys are refused: see PersonOnlyMixin
        request=VisitCreateInputSerializer,
        responses={
            201: OpenApiResponse(VisitSerializer, description="The draft visit, as saved."),
            **error_responses(400, 415, 422),
        },
    )
    @idempotent
    def post(self, request):
        serializer = VisitCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        found = _references(data, request.membership)
        with fields_renamed():
            visit = visit_draft_create(
                clinic=request.clinic,
                actor=request.actor,
                actor_membership=request.membership,
                patient=found["patient"],
                doctor=found["doctor"],
                appointment=found["appointment"],
                mode=data["mode"],
                notes=data.get("notes"),
                vitals=data.get("vitals"),
                diagnoses=data.get("diagnoses", []),
                procedures=data.get("procedures", []),
                items=found["items"],
            )
        body = VisitSerializer(
            visit_record(visit_id=visit.pk), context={"tz": request.clinic.tzinfo}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class VisitDetailView(ClinicAPIView):
    required_perms = {"GET": Perm.CLINICAL_VIEW}

    @extend_schema(
        operation_id="visits_retrieve",
        summary="A visit's record",
        description=(
            "The notes, vitals (with BMI), diagnoses, procedures and the prescription with "
            "each medicine's frequency code, its plain-English label, its structured schedule "
            "and the quantity to dispense. Each read is written to the audit trail."
        ),
        parameters=[VISIT_ID],
        responses={200: VisitSerializer, **error_responses(404)},
    )
    def get(self, request, visit_id: int):
        try:
            visit = visit_record(visit_id=visit_id)
        except Visit.DoesNotExist:
            raise exceptions.NotFound("No such visit at this clinic.") from None
        visit_record_view(visit=visit, actor=request.actor)
        return Response(VisitSerializer(visit, context={"tz": request.clinic.tzinfo}).data)


class PrescriptionListView(ClinicAPIView):
    required_perms = {"GET": Perm.PRESCRIPTIONS_VIEW}
    pagination_class = NewestFirstCursorPagination

    @extend_schema(
        operation_id="prescriptions_list",
        summary="A patient's prescriptions",
        description=(
            "Newest first, 20 a page (follow `next`): one per visit version, drafts included "
            "(`status`), each with its medicines. A corrected visit's earlier prescription has "
            "`is_current` false. Needs prescriptions.view."
        ),
        parameters=[PatientQuerySerializer],
        responses={200: PrescriptionSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        patient = _patient_of_query(request)
        rows = patient_prescriptions(patient=patient)
        return _paginated(self, request, rows, PrescriptionSerializer)
