"""The clinic and its staff, for integrators. Also the base class of every clinic API view."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.api.base import ClinicScopedAPIMixin
from clinics.api.schema import ClinicAutoSchema, error_responses
from clinics.api.serializers import ClinicSerializer, MembershipSerializer
from clinics.models import Clinic
from clinics.roles import Perm
from clinics.selectors import staff_list


class ClinicAPIView(ClinicScopedAPIMixin, APIView):
    """A view of one clinic's data: `ClinicPermission` finds the clinic and checks
    `required_perms[method]`, then the handler runs inside the clinic's scope."""

    schema = ClinicAutoSchema()


class ClinicView(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENTS_VIEW}

    @extend_schema(
        operation_id="clinic_retrieve",
        summary="The caller's clinic",
        description="The clinic the API key belongs to (or the X-Clinic of a session caller).",
        responses={200: ClinicSerializer, **error_responses()},
    )
    def get(self, request):
        # The request carries only the clinic columns every call needs: read the whole row.
        clinic = Clinic.objects.get(pk=request.clinic.pk)
        return Response(ClinicSerializer(clinic).data)


class StaffListView(ClinicAPIView):
    required_perms = {"GET": Perm.STAFF_VIEW}

    @extend_schema(
        operation_id="staff_list",
        summary="List staff",
        description="Everyone with a membership at the clinic, active first, then by name.",
        responses={200: MembershipSerializer(many=True), **error_responses()},
    )
    def get(self, request):
        return Response(MembershipSerializer(staff_list(), many=True).data)


class StaffDetailView(ClinicAPIView):
    required_perms = {"GET": Perm.STAFF_VIEW}

    @extend_schema(
        operation_id="staff_retrieve",
        summary="One staff member",
        responses={200: MembershipSerializer, **error_responses(404)},
    )
    def get(self, request, membership_id: int):
        membership = staff_list().filter(pk=membership_id).first()
        if membership is None:
            raise exceptions.NotFound("No such staff member at this clinic.")
        return Response(MembershipSerializer(membership).data)
