"""The patient's WhatsApp consent, recorded at registration (a `patients.registration` step).

The desk shows the notice in the language chosen on the registration form (the fragment is
fetched again when the language or the phone changes) and the form sends back the notice it
showed. The consent is recorded in the same transaction as the patient, with exactly that text:
when it no longer matches what Vaidya would show (the phone or language changed after it was
shown), nothing is registered and the desk sees the new notice to show.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.utils.translation import gettext, gettext_lazy
from rest_framework import serializers

from clinics.actors import Actor
from clinics.api.base import StrictInputSerializer
from clinics.api.fields import declared
from clinics.errors import DomainError, ValidationFailed
from clinics.languages import patient_language
from clinics.models import Clinic
from compliance.forms import DESK_METHODS
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.notices import notice_text
from compliance.services import consent_grant
from patients.models import Patient
from patients.phones import to_e164
from patients.registration import RegistrationStep

NAME = "whatsapp_consent"
NOTICE_SHOWN_ERROR = gettext_lazy("Show the patient the notice before recording their agreement.")


def shown_phone(phone: str, whatsapp_phone: str = "") -> str:
    """The WhatsApp number as the notice names it (+91 98450 12345), from what the desk typed."""
    e164 = to_e164(whatsapp_phone) or to_e164(phone)
    if not e164:
        return ""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def registration_notice(*, clinic: Clinic, language: str, phone: str, whatsapp_phone: str) -> str:
    """The WhatsApp care notice for a patient being registered, in the language chosen."""
    number = shown_phone(phone, whatsapp_phone)
    with_phone = number or gettext("the WhatsApp number you give")
    return notice_text(
        purpose=ConsentPurpose.WHATSAPP_CARE, clinic=clinic, phone=with_phone, language=language
    )


class WhatsAppConsentForm(forms.Form):
    """The consent part of the registration form (prefix `whatsapp_consent`)."""

    agrees = forms.BooleanField(
        required=False, label=gettext_lazy("The patient agrees to WhatsApp messages about care")
    )
    method = forms.ChoiceField(
        label=gettext_lazy("How"),
        choices=DESK_METHODS,
        initial=ConsentMethod.VERBAL,
        required=False,
    )
    notice_shown = forms.BooleanField(
        required=False, label=gettext_lazy("I showed or read the notice above to the patient")
    )
    notice = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, clinic: Clinic, patient_data=None, **kwargs):
        kwargs.setdefault("prefix", NAME)
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        # The registration form's own fields (language, phones) come in the same POST, or in
        # the GET of the notice fragment.
        typed = patient_data if patient_data is not None else (self.data if self.is_bound else {})
        self.shown_language = patient_language(typed.get("preferred_language"))
        self.shown_notice = self.notice_for(typed)
        # A tick given for another notice does not count for this one.
        self.notice_still_shown = bool(
            self.is_bound
            and self.data.get(self.add_prefix("notice_shown"))
            and self.data.get(self.add_prefix("notice")) == self.shown_notice
        )

    def notice_for(self, patient_data: dict[str, Any]) -> str:
        """The notice to show, for the language and phone typed on the registration form."""
        return registration_notice(
            clinic=self.clinic,
            language=patient_data.get("preferred_language") or "",
            phone=patient_data.get("phone") or "",
            whatsapp_phone=patient_data.get("whatsapp_phone") or "",
        )

    def clean(self):
        data = super().clean()
        data["method"] = data.get("method") or ConsentMethod.VERBAL
        if data.get("agrees") and not data.get("notice_shown"):
            self.add_error("notice_shown", NOTICE_SHOWN_ERROR)
        return data

    def is_used(self) -> bool:
        return bool(self.is_bound and self.cleaned_data.get("agrees"))


class WhatsAppConsentInputSerializer(StrictInputSerializer):
    """The patient's WhatsApp consent, recorded with the registration."""

    granted = serializers.BooleanField(
        help_text="True: the patient agrees to WhatsApp messages about their care. False: not "
        "asked now (nothing is recorded)."
    )
    method = serializers.ChoiceField(
        choices=[c for c in ConsentMethod.choices if c[0] != ConsentMethod.WHATSAPP_REPLY],
        default=ConsentMethod.API,
        help_text="How the patient agreed.",
    )
    notice_shown = declared(
        serializers.BooleanField(
            default=False,
            help_text="Must be true when granted: the patient was shown Vaidya's WhatsApp care "
            "notice in their preferred language (the ledger records that text).",
        ),
        rule="Must be true when `granted` is true.",
    )

    def validate(self, attrs):
        if attrs["granted"] and not attrs["notice_shown"]:
            raise serializers.ValidationError({"notice_shown": [str(NOTICE_SHOWN_ERROR)]})
        return attrs


def record_consent(*, patient: Patient, data: dict[str, Any], actor: Actor) -> None:
    """Record the new patient's WhatsApp care consent with the notice shown (in the patient's
    language). From the desk the notice sent back must be the one Vaidya shows for this patient."""
    if not (data.get("agrees") or data.get("granted")):
        return
    phone = patient.messaging_phone
    expected = notice_text(
        purpose=ConsentPurpose.WHATSAPP_CARE,
        clinic=Clinic.objects.get(pk=patient.clinic_id),
        phone=phone.as_international if phone else "",
        language=patient.preferred_language,
    )
    if "notice" in data and data["notice"] != expected:
        raise ValidationFailed(
            {
                "notice": [
                    gettext(
                        "The notice changed with the phone or language: show the patient the "
                        "notice again and tick the box."
                    )
                ]
            }
        )
    event = consent_grant(
        patient=patient,
        purpose=ConsentPurpose.WHATSAPP_CARE,
        method=data.get("method") or ConsentMethod.API,
        actor=actor,
        notice=expected,
    )
    if event is None:  # a new patient has no consent yet
        raise DomainError("The WhatsApp consent was not recorded.", code="consent_not_recorded")


WHATSAPP_CONSENT = RegistrationStep(
    name=NAME,
    form_class=WhatsAppConsentForm,
    template="compliance/partials/_registration_consent.html",
    record=record_consent,
    serializer_class=WhatsAppConsentInputSerializer,
    order=10,
)
