"""Data-rights requests: list, record, read, move along the statuses; a correction request's
proposed changes, and deciding them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from clinics.api.base import idempotent, parsed
from clinics.api.pagination import ClinicCursorPagination
from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.roles import Perm
from compliance.rights import selectors, services
from compliance.rights.api.serializers import (
    CorrectionDecisionInputSerializer,
    CorrectionSerializer,
    RightsRequestCreateInputSerializer,
    RightsRequestListQuerySerializer,
    RightsRequestSerializer,
    RightsRequestStatusInputSerializer,
)
from compliance.rights.models import Channel, CorrectionDecision, CorrectionItem, RightsRequest
from patients.api.views import IDEMPOTENCY_KEY
from patients.models import Guardian, Patient

REQUEST_ID = OpenApiParameter(
    "rights_request_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The request's id."
)
CORRECTION_ID = OpenApiParameter(
    "correction_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The correction's id."
)
RULES = {
    "not_verified": "identity is checked before the work starts",
    "privacy_contact_missing": "the clinic's privacy contact is not set in its settings",
}


def _context(request) -> dict:
    return {"tz": request.clinic.tzinfo}


def _request_or_404(rights_request_id: int) -> RightsRequest:
    rr = RightsRequest.objects.filter(pk=rights_request_id).first()
    if rr is None:
        raise exceptions.NotFound("No such request at this clinic.")
    return rr


class _Pages(ClinicCursorPagination):
    ordering = "-id"


class RightsRequestListView(ClinicAPIView):
    required_perms = {"GET": Perm.RIGHTS_VIEW, "POST": Perm.RIGHTS_RECORD}
    pagination_class = _Pages

    @extend_schema(
        operation_id="rights_requests_list",
        summary="List data-rights requests",
        description=(
            "Newest first, 20 a page; follow `next` for more. `show`: open (default), overdue, "
            "mine (open, owned by the caller), closed or all."
        ),
        parameters=[RightsRequestListQuerySerializer],
        responses={200: RightsRequestSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        query = parsed(RightsRequestListQuerySerializer, request.query_params)
        rows = selectors.rights_requests(
            show=query["show"], membership=request.access.membership
        ).order_by()
        if "patient" in query:
            rows = rows.filter(patient_id=query["patient"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = RightsRequestSerializer(page, many=True, context=_context(request)).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="rights_requests_create",
        summary="Record a data-rights request",
        description=(
            "Records an access, correction, erasure, portability, nomination or grievance "
            "request and gives it the clinic's next reference. The answer is due by the "
            "clinic's target (at most 90 days), or in 72 hours for copies of medical records. "
            "Send an Idempotency-Key to retry safely."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=RightsRequestCreateInputSerializer,
        responses={201: RightsRequestSerializer, **error_responses(400, 415, 422)},
    )
    @idempotent
    def post(self, request):
        data = parsed(RightsRequestCreateInputSerializer, request.data)
        patient = guardian = None
        if "patient" in data:
            patient = Patient.objects.filter(pk=data["patient"]).first()
            if patient is None:
                raise exceptions.ValidationError({"patient": ["No such patient at this clinic."]})
        if "guardian" in data:
            guardian = Guardian.objects.filter(pk=data["guardian"], patient=patient).first()
            if guardian is None:
                raise exceptions.ValidationError({"guardian": ["No such guardian of the patient."]})
        rr = services.rights_request_create(
            clinic=request.clinic,
            actor=request.actor,
            kind=data["kind"],
            patient=patient,
            requester=data["requester"],
            requester_name=data.get("requester_name", ""),
            requester_phone=data.get("requester_phone", ""),
            requester_email=data.get("requester_email", ""),
            guardian=guardian,
            nomination=selectors.patient_nomination(patient.pk) if patient else None,
            details=data.get("details", ""),
            records_copy=data["records_copy"],
            channel=Channel.API,
        )
        body = RightsRequestSerializer(rr, context=_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED)


class RightsRequestDetailView(ClinicAPIView):
    required_perms = {"GET": Perm.RIGHTS_VIEW}

    @extend_schema(
        operation_id="rights_requests_retrieve",
        summary="A data-rights request",
        parameters=[REQUEST_ID],
        responses={200: RightsRequestSerializer, **error_responses(404)},
    )
    def get(self, request, rights_request_id: int):
        rr = _request_or_404(rights_request_id)
        return Response(RightsRequestSerializer(rr, context=_context(request)).data)


class RightsRequestStatusView(ClinicAPIView):
    required_perms = {"POST": Perm.RIGHTS_HANDLE}

    @extend_schema(
        operation_id="rights_requests_status",
        summary="Move a data-rights request to another status",
        description=(
            "Statuses move received -> verifying -> in_progress -> awaiting_approval -> done, "
            "or to refused or withdrawn while open; anything else answers 409. done and "
            "refused answer the requester: send `reply` (and `reason` for refused); the stored "
            "answer names the clinic's privacy contact. An erasure is done only by an owner. "
            "Send an Idempotency-Key to retry safely."
        ),
        parameters=[REQUEST_ID, IDEMPOTENCY_KEY],
        request=RightsRequestStatusInputSerializer,
        responses={
            200: RightsRequestSerializer,
            **error_responses(400, 404, 409, 415, 422, rules=RULES),
        },
    )
    @idempotent
    def post(self, request, rights_request_id: int):
        rr = _request_or_404(rights_request_id)
        data = parsed(RightsRequestStatusInputSerializer, request.data)
        rr = services.rights_request_move(
            request=rr,
            actor=request.actor,
            status=data["status"],
            reply=data.get("reply", ""),
            reason=data.get("reason", ""),
        )
        return Response(RightsRequestSerializer(rr, context=_context(request)).data)


class CorrectionListView(ClinicAPIView):
    required_perms = {"GET": Perm.RIGHTS_VIEW}

    @extend_schema(
        operation_id="rights_requests_corrections_list",
        summary="The changes a correction request proposes",
        description="Every proposed change of the request, oldest first, with its decision.",
        parameters=[REQUEST_ID],
        responses={200: CorrectionSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, rights_request_id: int):
        rr = _request_or_404(rights_request_id)
        items = rr.corrections.order_by("id")[:200]  # a request proposes a handful of changes
        return Response(CorrectionSerializer(items, many=True, context=_context(request)).data)


class CorrectionDecisionView(ClinicAPIView):
    required_perms = {"POST": Perm.RIGHTS_RECORD}

    @extend_schema(
        operation_id="rights_requests_corrections_decide",
        summary="Approve or refuse a proposed correction",
        description=(
            "The same decision as on the rights desk. Approving makes the change through the "
            "record's normal service: clinical fields are approved by clinical roles, contact "
            "and demographic details by the front desk or the owner (403 otherwise), and a "
            "signed visit is never edited: the approval opens a new version of it (its id in "
            "`amendment`) for its doctor to sign. A field that changed since the proposal is "
            "refused as stale, and nothing changes. Refusing needs a `reason`. A decision is "
            "taken by a signed-in staff member, not an API key (403); a correction already "
            "decided, or of a closed request, answers 409. Send an Idempotency-Key to retry "
            "safely."
        ),
        parameters=[REQUEST_ID, CORRECTION_ID, IDEMPOTENCY_KEY],
        request=CorrectionDecisionInputSerializer,
        responses={200: CorrectionSerializer, **error_responses(400, 404, 409, 415, 422)},
    )
    @idempotent
    def post(self, request, rights_request_id: int, correction_id: int):
        rr = _request_or_404(rights_request_id)
        item = CorrectionItem.objects.filter(pk=correction_id, request=rr).first()
        if item is None:
            raise exceptions.NotFound("No such correction on this request.")
        data = parsed(CorrectionDecisionInputSerializer, request.data)
        item = services.correction_decide(
            item=item,
            actor=request.actor,
            approve=data["decision"] == CorrectionDecision.APPROVED,
            reason=data.get("reason", ""),
        )
        return Response(CorrectionSerializer(item, context=_context(request)).data)
