"""Consent pages: a patient's WhatsApp consents, recorded at the desk, with their history."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.languages import patient_language
from clinics.roles import Perm
from clinics.web import add_domain_error
from compliance.forms import ConsentForm
from compliance.models import ConsentPurpose
from compliance.notices import notice_text
from compliance.registration import WhatsAppConsentForm
from compliance.selectors import consent_history, consent_states
from compliance.services import consent_grant, consent_withdraw
from patients.models import Patient


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    return patient


def _notice(request: HttpRequest, patient: Patient, purpose: str) -> str:
    """The notice as the page shows it (and as the ledger keeps it), in the patient's language."""
    phone = patient.messaging_phone
    return notice_text(
        purpose=purpose,
        clinic=request.clinic,
        phone=phone.as_international if phone else "",
        language=patient.preferred_language,
    )


def _page(request: HttpRequest, patient: Patient, form: ConsentForm, status: int = 200):
    states = consent_states(patient_id=patient.pk)
    purposes = [
        {
            "value": purpose.value,
            "label": purpose.label,
            "latest": states[purpose.value],
            "notice": _notice(request, patient, purpose),
            "blocked": purpose == ConsentPurpose.WHATSAPP_MARKETING and patient.is_minor,
        }
        for purpose in ConsentPurpose
    ]
    context = {
        "patient": patient,
        "purposes": purposes,
        "history": consent_history(patient_id=patient.pk)[:50],
        "form": form,
        "can_record": request.membership.has_perm(Perm.PATIENTS_EDIT),
        "notice_language": patient_language(patient.preferred_language),
    }
    return render(request, "compliance/messaging_consent.html", context, status=status)


@require_perm(Perm.PATIENTS_VIEW)
@require_GET
def messaging_consent(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's WhatsApp consents: current state, the notices, and the history."""
    return _page(request, _patient(patient_id), ConsentForm())


@require_perm(Perm.PATIENTS_EDIT)
@require_POST
def messaging_consent_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record at the desk that the patient agrees or withdraws."""
    patient = _patient(patient_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "grant":
                event = consent_grant(
                    patient=patient,
                    purpose=data["purpose"],
                    method=data["method"],
                    actor=request.user,
                    notice=_notice(request, patient, data["purpose"]),
                )
            else:
                event = consent_withdraw(
                    patient=patient,
                    purpose=data["purpose"],
                    method=data["method"],
                    actor=request.user,
                )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            label = ConsentPurpose(data["purpose"]).label
            if event is None:
                messages.info(
                    request,
                    gettext("Nothing changed: %(purpose)s was already so.") % {"purpose": label},
                )
            else:
                messages.success(
                    request,
                    gettext("Recorded: %(action)s %(purpose)s.")
                    % {"action": event.get_action_display(), "purpose": label},
                )
            return redirect("messaging-consent", request.clinic.slug, patient.pk)
    return _page(request, patient, form, status=400)


@require_perm(Perm.PATIENTS_EDIT)
@require_GET
def registration_consent_notice(request: HttpRequest) -> HttpResponse:
    """The registration form's WhatsApp notice for the language and phone typed so far."""
    form = WhatsAppConsentForm(clinic=request.clinic, patient_data=request.GET)
    return render(request, "compliance/partials/_registration_notice.html", {"step_form": form})
