"""Exports of a patient's data in the API: ask for one, follow its status, download the ZIP.

Needs `patient_data.export` (owners and doctors). The status answer of a ready export carries a
download link signed for 15 minutes (each one written to the audit trail); the link is the
download: an expired one answers 410, another clinic's 404, both in the error shape.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.roles import Perm
from clinics.storage import stored_file_response
from compliance.api.serializers import ExportCreateInputSerializer, ExportSerializer
from compliance.exports.models import DataExport, ExportStatus, ExportSubject
from compliance.exports.services import (
    ExportLinkExpired,
    ExportLinkInvalid,
    export_for_link,
    export_link,
    export_request,
)
from patients.models import Patient

EXPORT_ID = OpenApiParameter(
    "export_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The export's id."
)
TOKEN = OpenApiParameter(
    "token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The signed link's token."
)


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


def _answer(request, export: DataExport, *, code: int = 200) -> Response:
    link = None
    if export.status == ExportStatus.READY:
        token, until = export_link(
            export=export, actor=request.actor, actor_membership=request.access.membership
        )
        link = (request.build_absolute_uri(f"/api/v1/exports/download/{token}/"), until)
    context = {"tz": request.clinic.tzinfo, "link": link}
    return Response(ExportSerializer(export, context=context).data, status=code)


class ExportListView(ClinicAPIView):
    required_perms = {"POST": Perm.PATIENT_DATA_EXPORT}

    @extend_schema(
        operation_id="exports_create",
        summary="Export a patient's data",
        description=(
            "Prepares, in the background, a ZIP of everything the clinic holds about the "
            "patient: a readable PDF summary (what is held, why, for how long, who else "
            "received it), JSON of every kind of record, an HL7 FHIR R4 Bundle and the "
            "documents. Answers 202 with the export; follow its status. Owners and doctors."
        ),
        request=ExportCreateInputSerializer,
        responses={
            202: OpenApiResponse(ExportSerializer, description="Being prepared."),
            **error_responses(400),
        },
    )
    def post(self, request):
        serializer = ExportCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        patient = Patient.objects.filter(pk=data["patient_id"]).first()
        if patient is None:
            raise exceptions.ValidationError({"patient_id": ["No such patient at this clinic."]})
        export = export_request(
            clinic=request.clinic,
            actor=request.actor,
            actor_membership=request.access.membership,
            patient=patient,
            request_reference=data.get("request_reference"),
        )
        return _answer(request, export, code=status.HTTP_202_ACCEPTED)


class ExportDetailView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENT_DATA_EXPORT}

    @extend_schema(
        operation_id="exports_retrieve",
        summary="An export's status",
        description=(
            "preparing, ready (with `download`: a link valid for 15 minutes, issued for this "
            "answer and written to the audit trail), failed, or expired (removed 7 days after "
            "it was prepared)."
        ),
        parameters=[EXPORT_ID],
        responses={200: ExportSerializer, **error_responses(404)},
    )
    def get(self, request, export_id: int):
        export = DataExport.objects.filter(pk=export_id, subject=ExportSubject.PATIENT).first()
        if export is None:
            raise exceptions.NotFound("No such export at this clinic.")
        return _answer(request, export)


class ExportDownloadView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENT_DATA_EXPORT}

    @extend_schema(
        operation_id="exports_download",
        summary="Download an export's ZIP",
        description=(
            "The link from the export's status. 410 once it is past its 15 minutes or the "
            "export was removed; 404 for a link that is not this clinic's."
        ),
        parameters=[TOKEN],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP."),
            **error_responses(404, 410),
        },
    )
    def get(self, request, token: str):
        try:
            export = export_for_link(token=token[:2000], clinic_id=request.clinic.pk)
        except ExportLinkExpired as exc:
            raise Gone(exc.message) from exc
        except ExportLinkInvalid as exc:
            raise exceptions.NotFound(exc.message) from exc
        if export.subject != ExportSubject.PATIENT:
            raise exceptions.NotFound("This download link is not valid.")
        return stored_file_response(
            export.file.name,
            content_type="application/zip",
            disposition=f'attachment; filename="patient-data-{export.pk}.zip"',
        )
