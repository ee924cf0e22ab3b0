"""Erasure pages (owner only): the dry run with its confirmation, and the certificate."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.storage import stored_file_response
from compliance.erasure.models import Erasure, ErasureStatus
from compliance.erasure.services import erasure_confirm, erasure_plan
from patients.models import Patient


def _erasure(erasure_id: int) -> Erasure:
    erasure = Erasure.objects.filter(pk=erasure_id).first()
    if erasure is None:
        raise Http404("No such erasure")
    return erasure


@require_POST
@require_perm(Perm.RIGHTS_APPROVE_ERASURE)
def erasure_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Write the dry run and show it."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    erasure = erasure_plan(
        clinic=request.clinic,
        patient=patient,
        actor=request.user,
        actor_membership=request.membership,
    )
    return redirect(reverse("erasure-detail", args=[request.clinic.slug, erasure.pk]))


@require_GET
@require_perm(Perm.RIGHTS_APPROVE_ERASURE)
def erasure_detail(request: HttpRequest, erasure_id: int) -> HttpResponse:
    erasure = _erasure(erasure_id)
    context = {
        "erasure": erasure,
        "planned": erasure.status == ErasureStatus.PLANNED,
        "erase": [e for e in erasure.plan if e["action"] != "keep"],
        "keep": [e for e in erasure.plan if e["action"] == "keep"],
    }
    return render(request, "compliance/erasure/detail.html", context)


@require_POST
@require_perm(Perm.RIGHTS_APPROVE_ERASURE)
def erasure_confirm_view(request: HttpRequest, erasure_id: int) -> HttpResponse:
    erasure = _erasure(erasure_id)
    try:
        erasure_confirm(erasure=erasure, actor=request.user, actor_membership=request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The patient's data was erased. The certificate is below."))
    return redirect(reverse("erasure-detail", args=[request.clinic.slug, erasure.pk]))


@require_GET
@require_perm(Perm.RIGHTS_APPROVE_ERASURE)
def erasure_certificate(request: HttpRequest, erasure_id: int) -> HttpResponse:
    erasure = _erasure(erasure_id)
    if not erasure.certificate:
        raise Http404("No certificate yet")
    return stored_file_response(
        erasure.certificate.name,
        content_type="application/pdf",
        disposition=f'inline; filename="erasure-{erasure.reference}.pdf"',
    )
