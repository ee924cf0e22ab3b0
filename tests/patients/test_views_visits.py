"""The visit pages: starting a visit, each section saved in place, signing, amending, stopping
a medicine, the printed prescription and summary, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients import services
from patients.models import (
    Appointment,
    Diagnosis,
    Drug,
    PrescriptionItem,
    ProcedureDone,
    Visit,
    VisitStatus,
    Vitals,
)
from patients.selectors.prescriptions import prescription_document
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

COMPLAINT = "Fever and sore throat for three days"


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def text(response) -> str:
    return response.content.decode()


def hx_post(client, path, data=None):
    return client.post(path, data or {}, HTTP_HX_REQUEST="true")


def hx_get(client, path, data=None):
    return client.get(path, data or {}, HTTP_HX_REQUEST="true")


def by(member):
    return {"actor": member.user, "actor_membership": member}


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# ---------------------------------------------------------------------------------------------
# Fixtures (every test runs inside the clinic's scope)


@pytest.fixture
def doctor(scoped):
    profile = DoctorProfileFactory(
        membership__clinic=scoped,
        membership__user__full_name="Anita Rao",
        registration_number="KMC-45678",
        medical_council="Karnataka Medical Council",
        qualifications="MBBS, MD (General Medicine)",
    )
    return profile.membership


@pytest.fixture
def other_doctor(scoped):
    return DoctorProfileFactory(
        membership__clinic=scoped, membership__user__full_name="Vikram Shetty"
    ).membership


@pytest.fixture
def assistant(scoped):
    return MembershipFactory(clinic=scoped, role=Role.ASSISTANT)


@pytest.fixture
def patient(scoped):
    return PatientFactory(
        clinic=scoped,
        full_name="Kavya Reddy",
        phone="+919845012345",
        abha_number="91123456789012",
    )


@pytest.fixture
def draft(scoped, doctor, patient):
    return services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)


@pytest.fixture
def paracetamol(scoped):
    return Drug.objects.create(
        clinic=scoped,
        generic_name="PARACETAMOL",
        strength="500 mg",
        form="tablet",
        default_dose=Decimal("1"),
        default_frequency="1-0-1",
        default_duration_days=5,
        default_timing="after_food",
    )


@pytest.fixture
def cetirizine(scoped):
    return Drug.objects.create(
        clinic=scoped, generic_name="CETIRIZINE", strength="10 mg", form="tablet"
    )


def add_item(visit, doctor, drug=None, **values):
    fields = {"frequency": "1-0-1", "duration_days": 5, **values}
    if drug is None:
        fields.setdefault("generic_name", "AMOXICILLIN")
        fields.setdefault("strength", "500 mg")
        fields.setdefault("form", "capsule")
    return services.prescription_item_add(visit=visit, **by(doctor), drug=drug, **fields)


def sign(visit, doctor):
    if not visit.chief_complaints:
        visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
    return services.visit_sign(visit=visit, **by(doctor))


# ---------------------------------------------------------------------------------------------
# Starting a visit


def test_a_doctor_starts_a_visit_for_themself_and_lands_on_it(scoped, client_for, doctor, patient):
    client = client_for(doctor)
    page = client.get(url(scoped, "visit-start", patient.pk))
    assert page.status_code == 200
    assert f'<option value="{doctor.pk}" selected>' in text(page)

    response = client.post(url(scoped, "visit-start", patient.pk), {"mode": "in_person"})

    visit = Visit.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == url(scoped, "visit-detail", visit.pk)
    assert visit.doctor == doctor and visit.status == VisitStatus.DRAFT
    assert [e.target_id for e in events(Actions.VISIT_STARTED)] == [str(visit.pk)]
    assert "Started a visit for Kavya Reddy." in text(client.get(response["Location"]))


def test_an_assistant_starts_a_visit_for_the_chosen_doctor_from_an_appointment(
    scoped, client_for, assistant, doctor, patient
):
    now = timezone.now()
    appointment = Appointment.objects.create(
        clinic=scoped,
        patient=patient,
        doctor=doctor,
        starts_at=now,
        ends_at=now + timedelta(minutes=15),
        status="checked_in",
    )
    client = client_for(assistant)
    form = client.get(url(scoped, "visit-start", patient.pk), {"appointment_id": appointment.pk})
    assert f'<option value="{doctor.pk}" selected>' in text(form)
    assert f'name="appointment_id" value="{appointment.pk}"' in text(form)
    refused = client.post(url(scoped, "visit-start", patient.pk), {"mode": "in_person"})
    assert refused.status_code == 400
    assert "Choose the doctor who will see the patient." in text(refused)
    assert not Visit.objects.exists()

    response = client.post(
        url(scoped, "visit-start", patient.pk),
        {"doctor": doctor.pk, "mode": "in_person", "appointment_id": appointment.pk},
    )

    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.doctor, visit.appointment, visit.created_by) == (
        doctor,
        appointment,
        assistant.user,
    )


def test_starting_a_second_visit_for_one_appointment_is_refused_on_the_form(
    scoped, client_for, doctor, patient
):
    now = timezone.now()
    appointment = Appointment.objects.create(
        clinic=scoped, patient=patient, doctor=doctor, starts_at=now, ends_at=now
    )
    client = client_for(doctor)
    data = {"mode": "in_person", "appointment_id": appointment.pk}
    client.post(url(scoped, "visit-start", patient.pk), data)
    again = client.post(url(scoped, "visit-start", patient.pk), data)
    assert again.status_code == 400
    assert "A visit has already been started for this appointment" in text(again)
    assert "already has a visit being written" in text(again)
    assert Visit.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# The visit page and its sections


def test_the_visits_doctor_sees_every_section_editable(scoped, client_for, doctor, draft):
    page = text(client_for(doctor).get(url(scoped, "visit-detail", draft.pk)))
    for label in (
        "Save notes",
        "Record vitals",
        "Add diagnosis",
        "Add procedure",
        "Add medicine",
        "Sign visit",
    ):
        assert label in page
    assert [e.target_id for e in events(Actions.VISIT_VIEWED)] == [str(draft.pk)]


def test_notes_save_in_place_and_return_their_section(scoped, client_for, doctor, draft):
    follow_up = timezone.localdate() + timedelta(days=7)
    response = hx_post(
        client_for(doctor),
        url(scoped, "visit-notes", draft.pk),
        {
            "chief_complaints": COMPLAINT,
            "examination": "Throat congested",
            "advice": "Warm saline gargles",
            "follow_up_date": follow_up.isoformat(),
            "mode": "in_person",
        },
    )

    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="visit-notes"' in body
    assert "Notes saved." in body and COMPLAINT in body
    visit = reload(draft)
    assert (visit.chief_complaints, visit.examination, visit.follow_up_date) == (
        COMPLAINT,
        "Throat congested",
        follow_up,
    )


def test_a_follow_up_before_the_visit_is_shown_next_to_the_field(scoped, client_for, doctor, draft):
    response = hx_post(
        client_for(doctor),
        url(scoped, "visit-notes", draft.pk),
        {
            "chief_complaints": COMPLAINT,
            "follow_up_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
            "mode": "in_person",
        },
    )
    assert response.status_code == 200
    assert "The follow-up date cannot be before the visit." in text(response)
    assert "Notes saved." not in text(response)
    assert reload(draft).chief_complaints == ""


def test_without_htmx_a_section_posts_and_the_page_reloads(scoped, client_for, doctor, draft):
    client = client_for(doctor)
    response = client.post(
        url(scoped, "visit-notes", draft.pk), {"chief_complaints": COMPLAINT, "mode": "in_person"}
    )
    assert response.status_code == 302
    assert response["Location"] == url(scoped, "visit-detail", draft.pk) + "#visit-notes"
    assert "Notes saved." in text(client.get(response["Location"]))

    bad = client.post(url(scoped, "visit-vitals", draft.pk), {"pulse": "900"})
    assert bad.status_code == 400
    assert "<html" in text(bad) and "Pulse must be from 20 to 250 a minute." in text(bad)


def test_vitals_save_in_place_with_fahrenheit_stored_in_celsius(scoped, client_for, doctor, draft):
    response = hx_post(
        client_for(doctor),
        url(scoped, "visit-vitals", draft.pk),
        {
            "bp_systolic": "128",
            "bp_diastolic": "84",
            "pulse": "92",
            "temperature": "101",
            "temperature_unit": "F",
            "weight_kg": "61.5",
            "height_cm": "160",
        },
    )
    assert response.status_code == 200
    body = text(response)
    assert 'id="visit-vitals"' in body and "Vitals saved." in body
    assert "128/84" in body and "BMI" in body
    vitals = Vitals.objects.get(visit=draft)
    assert (vitals.pulse, vitals.temperature_c, vitals.weight_kg) == (
        92,
        Decimal("38.3"),
        Decimal("61.50"),
    )


def test_bad_vitals_show_each_fields_message_and_save_nothing(scoped, client_for, doctor, draft):
    response = hx_post(
        client_for(doctor),
        url(scoped, "visit-vitals", draft.pk),
        {"pulse": "400", "spo2": "abc", "temperature": "120", "temperature_unit": "F"},
    )
    assert response.status_code == 200
    body = text(response)
    assert "Pulse must be from 20 to 250 a minute." in body
    assert "SpO2 must be a number." in body
    assert "Temperature must be from 86 to 113 °F." in body
    assert body.count("field-error") == 3
    assert not Vitals.objects.exists()


def test_icd10_autocomplete_offers_matching_codes(scoped, client_for, doctor, draft):
    client = client_for(doctor)
    by_words = hx_get(client, url(scoped, "icd10-search"), {"text": "typhoid fev"})
    assert by_words.status_code == 200
    assert 'value="A01.0"' in text(by_words) and "Typhoid fever" in text(by_words)

    by_code = hx_get(client, url(scoped, "icd10-search"), {"icd10_code": "j06"})
    assert 'name="pick_code" value="J06.9"' in text(by_code)

    nothing = hx_get(client, url(scoped, "icd10-search"), {"q": "zzqx"})
    assert "No ICD-10 code matches" in text(nothing)


def test_diagnoses_are_added_from_a_picked_code_and_removed(scoped, client_for, doctor, draft):
    client = client_for(doctor)
    response = hx_post(
        client,
        url(scoped, "visit-diagnosis-add", draft.pk),
        {"text": "", "icd10_code": "", "pick_code": "J06.9"},
    )
    assert response.status_code == 200
    diagnosis = Diagnosis.objects.get(visit=draft)
    assert diagnosis.icd10_code == "J06.9"
    assert "Acute upper respiratory infection" in diagnosis.text
    assert 'id="visit-diagnoses"' in text(response) and "J06.9" in text(response)

    typed = hx_post(
        client,
        url(scoped, "visit-diagnosis-add", draft.pk),
        {"text": "Viral fever", "icd10_code": "", "is_provisional": "on"},
    )
    assert "Added Viral fever." in text(typed) and "Provisional" in text(typed)

    bad = hx_post(client, url(scoped, "visit-diagnosis-add", draft.pk), {"icd10_code": "Q99.99"})
    assert "is not a WHO ICD-10 code" in text(bad)

    removed = hx_post(client, url(scoped, "visit-diagnosis-remove", draft.pk, diagnosis.pk))
    assert removed.status_code == 200
    assert list(Diagnosis.objects.values_list("text", flat=True)) == ["Viral fever"]


def test_procedures_are_added_and_removed_in_place(scoped, client_for, doctor, draft):
    client = client_for(doctor)
    response = hx_post(
        client,
        url(scoped, "visit-procedure-add", draft.pk),
        {"name": "Nebulisation", "notes": "Salbutamol"},
    )
    assert 'id="visit-procedures"' in text(response) and "Added Nebulisation." in text(response)
    procedure = ProcedureDone.objects.get(visit=draft)

    empty = hx_post(client, url(scoped, "visit-procedure-add", draft.pk), {"name": " "})
    assert "Enter the procedure&#x27;s name." in text(empty)

    hx_post(client, url(scoped, "visit-procedure-remove", draft.pk, procedure.pk))
    assert not ProcedureDone.objects.exists()


# ---------------------------------------------------------------------------------------------
# Medicines


def test_drug_autocomplete_lists_the_clinics_drugs(
    scoped, client_for, doctor, draft, paracetamol, cetirizine
):
    response = hx_get(
        client_for(doctor), url(scoped, "drug-search", draft.pk), {"drug_query": "para"}
    )
    assert response.status_code == 200
    body = text(response)
    assert "PARACETAMOL" in body and "CETIRIZINE" not in body
    assert f"{url(scoped, 'visit-item-form', draft.pk)}?drug_id={paracetamol.pk}" in body


def test_choosing_a_drug_fills_the_form_with_its_defaults(
    scoped, client_for, doctor, draft, paracetamol
):
    response = hx_get(
        client_for(doctor),
        url(scoped, "visit-item-form", draft.pk),
        {"drug_id": paracetamol.pk},
    )
    body = text(response)
    assert 'id="rx-add"' in body and "PARACETAMOL" in body
    assert 'value="1-0-1"' in body and 'value="5"' in body
    assert "Morning and night · 10 tablets" in body


def test_frequency_preview_shows_the_label_and_quantity_or_the_parsers_message(
    scoped, client_for, doctor
):
    client = client_for(doctor)
    ok = hx_get(
        client,
        url(scoped, "frequency-preview"),
        {"frequency": "1-0-1", "dose_amount": "1", "duration_days": "5", "drug_form": "tablet"},
    )
    assert ok.status_code == 200
    assert "Morning and night · 10 tablets" in text(ok)

    typo = hx_get(
        client,
        url(scoped, "frequency-preview"),
        {"frequency": "1-O-1", "duration_days": "5", "drug_form": "tablet"},
    )
    assert "has the letter O instead of a zero (did you mean 1-0-1?)" in text(typo)
    assert "preview-error" in text(typo)

    syrup = hx_get(
        client, url(scoped, "frequency-preview"), {"frequency": "TDS", "drug_form": "syrup"}
    )
    assert "Three times a day" in text(syrup) and "·" not in text(syrup)


def test_medicines_are_added_from_the_list_or_typed_in_changed_and_removed(
    scoped, client_for, doctor, draft, paracetamol
):
    client = client_for(doctor)
    from_list = hx_post(
        client,
        url(scoped, "visit-item-add", draft.pk),
        {
            "drug_id": paracetamol.pk,
            "dose_amount": "1",
            "frequency": "1-0-1",
            "duration_days": "5",
            "timing": "after_food",
        },
    )
    assert from_list.status_code == 200
    assert 'id="visit-prescription"' in text(from_list)
    assert "Added PARACETAMOL 500 mg." in text(from_list)
    item = PrescriptionItem.objects.get()
    assert (item.drug, item.quantity, item.frequency) == (paracetamol, Decimal("10"), "1-0-1")

    typed = hx_post(
        client,
        url(scoped, "visit-item-add", draft.pk),
        {
            "generic_name": "azithromycin",
            "strength": "500mg",
            "drug_form": "tablet",
            "route": "oral",
            "dose_amount": "1",
            "frequency": "OD",
            "duration_days": "3",
            "timing": "",
        },
    )
    assert "Added AZITHROMYCIN 500 mg." in text(typed)
    azithromycin = PrescriptionItem.objects.get(generic_name="AZITHROMYCIN")

    changed = hx_post(
        client,
        url(scoped, "visit-item-update", draft.pk, item.pk),
        {"dose_amount": "1", "frequency": "1-1-1", "duration_days": "3", "timing": ""},
    )
    assert "Saved PARACETAMOL." in text(changed)
    assert (reload(item).frequency, reload(item).quantity) == ("1-1-1", Decimal("9"))

    hx_post(client, url(scoped, "visit-item-remove", draft.pk, azithromycin.pk))
    assert list(PrescriptionItem.objects.values_list("generic_name", flat=True)) == ["PARACETAMOL"]


def test_a_bad_frequency_is_shown_next_to_the_field_and_nothing_is_added(
    scoped, client_for, doctor, draft
):
    response = hx_post(
        client_for(doctor),
        url(scoped, "visit-item-add", draft.pk),
        {
            "generic_name": "AMOXICILLIN",
            "drug_form": "capsule",
            "route": "oral",
            "frequency": "1-O-1",
            "duration_days": "5",
        },
    )
    body = text(response)
    assert "has the letter O instead of a zero" in body
    assert 'value="AMOXICILLIN"' in body  # what was typed is kept
    assert not PrescriptionItem.objects.exists()


def test_applying_a_template_adds_its_medicines(
    scoped, client_for, doctor, draft, paracetamol, cetirizine
):
    template = services.prescription_template_save(
        doctor=doctor,
        actor=doctor.user,
        name="Viral fever, adult",
        items=[
            {"drug": paracetamol, "frequency": "1-0-1", "duration_days": 3},
            {"drug": cetirizine, "frequency": "HS", "duration_days": 5},
        ],
    )
    client = client_for(doctor)
    page = text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert "Viral fever, adult" in page

    response = hx_post(client, url(scoped, "visit-template-apply", draft.pk, template.pk))

    assert "Added 2 medicines from Viral fever, adult." in text(response)
    assert sorted(PrescriptionItem.objects.values_list("generic_name", flat=True)) == [
        "CETIRIZINE",
        "PARACETAMOL",
    ]
    again = hx_post(client, url(scoped, "visit-template-apply", draft.pk, template.pk))
    assert "is already on this prescription" in text(again)
    assert PrescriptionItem.objects.count() == 2


def test_the_current_medicines_are_saved_as_a_template(
    scoped, client_for, doctor, draft, paracetamol
):
    add_item(draft, doctor, paracetamol)
    response = hx_post(
        client_for(doctor),
        url(scoped, "visit-template-save", draft.pk),
        {"name": "Fever, adult"},
    )
    assert "Saved the medicines as your template Fever, adult." in text(response)
    template = doctor.prescription_templates.get()
    assert [entry["generic_name"] for entry in template.items] == ["PARACETAMOL"]


# ---------------------------------------------------------------------------------------------
# Signing, amending, stopping


def test_signing_asks_first_then_locks_the_page_and_the_print_loses_its_draft_mark(
    scoped, client_for, doctor, draft, paracetamol
):
    add_item(draft, doctor, paracetamol)
    services.visit_update_notes(visit=draft, **by(doctor), chief_complaints=COMPLAINT)
    client = client_for(doctor)
    assert "DRAFT" in text(client.get(url(scoped, "visit-prescription-print", draft.pk)))

    confirm = client.get(url(scoped, "visit-sign", draft.pk))
    assert confirm.status_code == 200 and "Yes, sign the visit" in text(confirm)
    unconfirmed = client.post(url(scoped, "visit-sign", draft.pk))
    assert unconfirmed.status_code == 200
    assert reload(draft).status == VisitStatus.DRAFT

    signed = client.post(url(scoped, "visit-sign", draft.pk), {"confirm": "on"})

    assert signed.status_code == 302
    assert reload(draft).status == VisitStatus.SIGNED
    page = text(client.get(signed["Location"]))
    assert "Signed." in page
    for editable in ("Save notes", "Add diagnosis", "Add medicine", "Record vitals", "Sign visit"):
        assert editable not in page
    assert "Amend this visit" in page
    refused = hx_post(
        client, url(scoped, "visit-notes", draft.pk), {"chief_complaints": "x", "mode": "in_person"}
    )
    assert "This visit is signed. Amend it to make a correction." in text(refused)
    assert reload(draft).chief_complaints == COMPLAINT
    printed = text(client.get(url(scoped, "visit-prescription-print", draft.pk)))
    assert "DRAFT" not in printed and "Signed by Dr Anita Rao" in printed


def test_signing_without_a_complaint_or_diagnosis_explains_why(scoped, client_for, doctor, draft):
    response = client_for(doctor).post(url(scoped, "visit-sign", draft.pk), {"confirm": "on"})
    assert response.status_code == 400
    assert "Add the chief complaint or a diagnosis before signing the visit." in text(response)
    assert reload(draft).status == VisitStatus.DRAFT


def test_amending_opens_version_2_and_both_versions_are_listed(scoped, client_for, doctor, draft):
    sign(draft, doctor)
    client = client_for(doctor)
    empty = client.post(url(scoped, "visit-amend", draft.pk), {"reason": ""})
    assert empty.status_code == 400
    assert "Say what is being corrected, and why." in text(empty)

    response = client.post(url(scoped, "visit-amend", draft.pk), {"reason": "Wrong follow-up"})

    v2 = Visit.objects.get(amends=draft)
    assert response.status_code == 302
    assert response["Location"] == url(scoped, "visit-detail", v2.pk)
    page = text(client.get(response["Location"]))
    assert v2.version == 2 and "Save notes" in page
    assert "Version 2" in page and "Wrong follow-up" in page
    assert f'href="{url(scoped, "visit-detail", draft.pk)}">Version 1</a>' in page
    assert "signed by Anita Rao" in page

    v1_page = text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert "continue version 2" in v1_page and "Start a correction" not in v1_page

    sign(v2, doctor)
    old = text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert "Superseded" in old and "This version was corrected later." in old
    assert "Amend this visit" not in old


def test_a_medicine_on_a_signed_prescription_is_stopped_with_a_reason(
    scoped, client_for, doctor, other_doctor, draft, paracetamol
):
    item = add_item(draft, doctor, paracetamol)
    sign(draft, doctor)
    client = client_for(other_doctor)  # the patient's next doctor often stops it
    page = text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert "Stop this medicine" in page

    no_reason = hx_post(client, url(scoped, "visit-item-stop", draft.pk, item.pk), {})
    assert "choose why the medicine is stopped" in text(no_reason)
    assert reload(item).stopped_at is None

    response = hx_post(
        client, url(scoped, "visit-item-stop", draft.pk, item.pk), {"reason": "side_effect"}
    )

    assert "Stopped PARACETAMOL from today." in text(response)
    assert reload(item).stopped_at is not None
    assert events(Actions.PRESCRIPTION_ITEM_STOPPED)[0].data["reason"] == "side_effect"
    again = hx_post(client, url(scoped, "visit-item-stop", draft.pk, item.pk), {"reason": "other"})
    assert "This medicine was already stopped." in text(again)


# ---------------------------------------------------------------------------------------------
# Printing


def test_the_printed_prescription_carries_what_the_regulations_ask(
    scoped, client_for, doctor, draft, patient
):
    services.visit_update_notes(
        visit=draft,
        **by(doctor),
        chief_complaints=COMPLAINT,
        investigations_advised="CBC",
        advice="Plenty of fluids",
        follow_up_date=timezone.localdate() + timedelta(days=5),
    )
    services.diagnosis_add(visit=draft, **by(doctor), text="Acute pharyngitis", icd10_code="J02.9")
    add_item(draft, doctor, generic_name="amoxicillin", instructions="Complete the course")
    response = client_for(doctor).get(url(scoped, "visit-prescription-print", draft.pk))

    assert response.status_code == 200
    body = text(response)
    for expected in (
        "Dr Anita Rao",
        "MBBS, MD (General Medicine)",
        "KMC-45678",
        "Karnataka Medical Council",
        "Kavya Reddy",
        patient.patient_number,
        "+91 98450 12345",
        "91-1234-5678-9012",
        "AMOXICILLIN",
        "Morning and night",
        "1-0-1",
        "Complete the course",
        "Acute pharyngitis, unspecified (J02.9)",
        "CBC",
        "Plenty of fluids",
        "@page",
        "size: A4",
    ):
        assert expected in body, expected
    assert "amoxicillin" not in body
    assert "window.print" not in body and "<script" in body  # the screen page's button only


def test_the_pdf_template_itself_has_no_script(scoped, doctor, draft):
    html = render_to_string("pdf/prescription.html", {"doc": prescription_document(visit=draft)})
    assert "<script" not in html and "KMC-45678" in html and "DRAFT" in html


def test_without_a_registration_number_the_prescription_page_says_what_to_do(
    scoped, client_for, patient
):
    doctor = MembershipFactory(clinic=scoped, role=Role.DOCTOR, user__full_name="Ravi Kumar")
    visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    response = client_for(doctor).get(url(scoped, "visit-prescription-print", visit.pk))
    assert response.status_code == 200
    body = text(response)
    assert "The prescription cannot be printed yet" in body
    assert "Dr Ravi Kumar has no medical registration number" in body
    assert url(scoped, "doctor-profile", doctor.pk) in body
    assert "@page" not in body and "Signed by" not in body


def test_the_visit_summary_prints_notes_and_vitals(scoped, client_for, doctor, draft):
    services.visit_update_notes(
        visit=draft, **by(doctor), chief_complaints=COMPLAINT, history="Diabetic for 5 years"
    )
    services.vitals_record(visit=draft, **by(doctor), pulse=88, bp_systolic=130, bp_diastolic=85)
    response = client_for(doctor).get(url(scoped, "visit-summary-print", draft.pk))
    body = text(response)
    assert response.status_code == 200
    for expected in (COMPLAINT, "Diabetic for 5 years", "130/85 mmHg", "88 /min", "DRAFT"):
        assert expected in body, expected


# ---------------------------------------------------------------------------------------------
# Who may do what


def _every_visit_url(clinic, visit, item, diagnosis):
    return [
        ("get", url(clinic, "visit-detail", visit.pk)),
        ("get", url(clinic, "visit-prescription-print", visit.pk)),
        ("get", url(clinic, "visit-summary-print", visit.pk)),
        ("get", url(clinic, "visit-start", visit.patient_id)),
        ("get", url(clinic, "icd10-search") + "?q=fever"),
        ("get", url(clinic, "drug-search", visit.pk) + "?drug_query=p"),
        ("get", url(clinic, "frequency-preview") + "?frequency=BD"),
        ("post", url(clinic, "visit-notes", visit.pk)),
        ("post", url(clinic, "visit-vitals", visit.pk)),
        ("post", url(clinic, "visit-diagnosis-add", visit.pk)),
        ("post", url(clinic, "visit-diagnosis-remove", visit.pk, diagnosis.pk)),
        ("post", url(clinic, "visit-item-add", visit.pk)),
        ("post", url(clinic, "visit-item-stop", visit.pk, item.pk)),
        ("post", url(clinic, "visit-sign", visit.pk)),
        ("post", url(clinic, "visit-amend", visit.pk)),
    ]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_front_desk_and_billing_never_open_a_visit(
    scoped, client_for, doctor, draft, role, paracetamol
):
    item = add_item(draft, doctor, paracetamol)
    diagnosis = services.diagnosis_add(visit=draft, **by(doctor), text="Viral fever")
    client = client_for(MembershipFactory(clinic=scoped, role=role))
    for method, path in _every_visit_url(scoped, draft, item, diagnosis):
        response = getattr(client, method)(
            path, {"mode": "in_person"} if method == "post" else None
        )
        assert response.status_code == 403, (method, path)
    assert COMPLAINT not in str(AuditEvent.objects.values_list("data", flat=True))


def test_an_assistant_records_vitals_and_drafts_notes_but_no_diagnoses_medicines_or_signature(
    scoped, client_for, assistant, doctor, draft, paracetamol
):
    client = client_for(assistant)
    page = client.get(url(scoped, "visit-detail", draft.pk))
    assert page.status_code == 200
    assert "Record vitals" in text(page) and "Save notes" in text(page)
    for editable in ("Add diagnosis", "Add medicine", "Sign visit"):
        assert editable not in text(page)

    vitals = hx_post(client, url(scoped, "visit-vitals", draft.pk), {"pulse": "80"})
    assert "Vitals saved." in text(vitals)
    assert Vitals.objects.get(visit=draft).recorded_by == assistant.user
    notes = hx_post(
        client, url(scoped, "visit-notes", draft.pk), {"chief_complaints": "x", "mode": "in_person"}
    )
    assert "Notes saved." in text(notes)

    for name, data in (
        ("visit-diagnosis-add", {"text": "Fever"}),
        ("visit-procedure-add", {"name": "Dressing"}),
        ("visit-item-add", {"drug_id": paracetamol.pk}),
        ("visit-sign", {"confirm": "on"}),
    ):
        assert hx_post(client, url(scoped, name, draft.pk), data).status_code == 403, name
    assert client.get(url(scoped, "visit-sign", draft.pk)).status_code == 403
    assert reload(draft).chief_complaints == "x"
    assert not Diagnosis.objects.exists() and not PrescriptionItem.objects.exists()
    assert client.get(url(scoped, "visit-prescription-print", draft.pk)).status_code == 200


NOTES_WRITERS = [
    (Role.OWNER, True),
    (Role.DOCTOR, True),
    (Role.ASSISTANT, True),
    (Role.FRONT_DESK, False),
    (Role.BILLING, False),
]


@pytest.mark.parametrize(("role", "may_write"), NOTES_WRITERS)
def test_the_visits_doctor_writes_notes_and_an_assistant_drafts_them(
    scoped, client_for, doctor, patient, role, may_write
):
    """clinical.draft covers "record vitals and draft notes": an assistant drafts a draft
    visit's notes for the doctor to sign; the owner and doctors write their own visits' notes;
    front desk and billing never read or write them."""
    if role in (Role.OWNER, Role.DOCTOR):
        member = DoctorProfileFactory(membership__clinic=scoped, membership__role=role).membership
        visit_doctor = member
    else:
        member = MembershipFactory(clinic=scoped, role=role)
        visit_doctor = doctor
    visit = services.visit_start(
        clinic=scoped, **by(visit_doctor), patient=patient, doctor=visit_doctor
    )
    client = client_for(member)
    page = client.get(url(scoped, "visit-detail", visit.pk))
    response = hx_post(
        client,
        url(scoped, "visit-notes", visit.pk),
        {"chief_complaints": COMPLAINT, "mode": "in_person"},
    )
    if may_write:
        assert page.status_code == 200 and "Save notes" in text(page)
        assert response.status_code == 200 and "Notes saved." in text(response)
        assert reload(visit).chief_complaints == COMPLAINT
        assert events(Actions.VISIT_NOTES_UPDATED)[-1].actor == member.user
    else:
        assert (page.status_code, response.status_code) == (403, 403)
        assert reload(visit).chief_complaints == ""
        assert not events(Actions.VISIT_NOTES_UPDATED)


def test_an_assistant_drafts_notes_only_while_the_visit_is_a_draft(
    scoped, client_for, assistant, doctor, draft
):
    services.visit_update_notes(visit=draft, **by(doctor), chief_complaints=COMPLAINT)
    services.visit_sign(visit=draft, **by(doctor))
    client = client_for(assistant)
    page = text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert COMPLAINT in page and "Save notes" not in page
    refused = hx_post(
        client, url(scoped, "visit-notes", draft.pk), {"chief_complaints": "x", "mode": "in_person"}
    )
    assert "This visit is signed. Amend it to make a correction." in text(refused)
    assert reload(draft).chief_complaints == COMPLAINT


def test_a_doctor_who_is_not_the_visits_doctor_reads_but_does_not_write_or_sign(
    scoped, client_for, doctor, other_doctor, draft, paracetamol
):
    services.visit_update_notes(visit=draft, **by(doctor), chief_complaints=COMPLAINT)
    diagnosis = services.diagnosis_add(visit=draft, **by(doctor), text="Viral fever")
    client = client_for(other_doctor)
    page = text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert COMPLAINT in page and "Viral fever" in page
    assert "This is Dr Anita Rao's visit. You can read it" in page
    for editable in ("Save notes", "Add diagnosis", "Add medicine", "Sign visit"):
        assert editable not in page

    only_theirs = "Only Dr Anita Rao, the doctor of this visit, can change it."
    for name, data in (
        ("visit-notes", {"chief_complaints": "Changed", "mode": "in_person"}),
        ("visit-diagnosis-add", {"text": "Malaria"}),
        ("visit-procedure-add", {"name": "Dressing"}),
        ("visit-item-add", {"drug_id": paracetamol.pk}),
    ):
        response = hx_post(client, url(scoped, name, draft.pk), data)
        assert response.status_code == 200 and only_theirs in text(response), name
    removed = hx_post(client, url(scoped, "visit-diagnosis-remove", draft.pk, diagnosis.pk))
    assert only_theirs in text(removed)
    signed = client.post(url(scoped, "visit-sign", draft.pk), {"confirm": "on"})
    assert "Only Anita Rao, the doctor of this visit, can sign it." in text(signed)

    visit = reload(draft)
    assert (visit.chief_complaints, visit.status) == (COMPLAINT, VisitStatus.DRAFT)
    assert list(Diagnosis.objects.values_list("text", flat=True)) == ["Viral fever"]
    assert not PrescriptionItem.objects.exists() and not ProcedureDone.objects.exists()


def test_another_clinics_visit_is_not_found(scoped, client_for, doctor, other_clinic):
    with clinic_scope(other_clinic):
        their_doctor = DoctorProfileFactory(membership__clinic=other_clinic).membership
        their_patient = PatientFactory(clinic=other_clinic)
        theirs = services.visit_start(
            clinic=other_clinic, **by(their_doctor), patient=their_patient, doctor=their_doctor
        )
    client = client_for(doctor)
    assert client.get(url(scoped, "visit-detail", theirs.pk)).status_code == 404
    assert client.get(url(scoped, "visit-prescription-print", theirs.pk)).status_code == 404


# ---------------------------------------------------------------------------------------------
# Cost


def test_the_visit_page_costs_the_same_queries_for_2_or_10_medicines(
    scoped, client_for, doctor, draft
):
    client = client_for(doctor)
    services.diagnosis_add(visit=draft, **by(doctor), text="Viral fever")
    services.vitals_record(visit=draft, **by(doctor), pulse=80)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(scoped, "visit-detail", draft.pk))
            assert response.status_code == 200
        return len(captured)

    for n in range(2):
        add_item(draft, doctor, generic_name=f"DRUG {n}")
    queries()  # the first page view also remembers the clinic in the session
    few = queries()
    for n in range(2, 10):
        add_item(draft, doctor, generic_name=f"DRUG {n}")
    assert "DRUG 9" in text(client.get(url(scoped, "visit-detail", draft.pk)))
    assert queries() == few


def test_the_visit_date_is_shown_in_the_clinics_format(scoped, client_for, doctor, draft):
    seen = timezone.localtime(draft.created_at, scoped.tzinfo).date()
    page = text(client_for(doctor).get(url(scoped, "visit-detail", draft.pk)))
    assert f"Visit of {seen.day} {seen:%b %Y}" in page


def test_a_code_picked_after_typing_part_of_its_name_stores_the_codes_title(
    scoped, client_for, doctor, draft
):
    client = client_for(doctor)
    response = hx_post(
        client,
        url(scoped, "visit-diagnosis-add", draft.pk),
        {"text": "pharyng", "icd10_code": "", "pick_code": "J02.9", "qualifier": "recurrent"},
    )
    assert "Acute pharyngitis, unspecified" in text(response)
    assert "pharyng (J02.9)" not in text(response)
    diagnosis = Diagnosis.objects.get(visit=draft)
    assert (diagnosis.text, diagnosis.qualifier) == ("Acute pharyngitis, unspecified", "recurrent")


def test_one_save_keeps_the_typed_vitals_with_the_notes(scoped, client_for, doctor, draft):
    """Typing vitals and pressing the notes' save button used to drop the vitals."""
    client = client_for(doctor)
    response = hx_post(
        client,
        url(scoped, "visit-save", draft.pk),
        {
            "chief_complaints": "Fever for 3 days",
            "mode": "in_person",
            "bp_systolic": "124",
            "bp_diastolic": "82",
            "pulse": "88",
            "temperature": "38.2",
            "temperature_unit": "C",
        },
    )
    assert response.status_code == 200
    assert 'id="visit-draft"' in text(response) and "Saved." in text(response)
    draft.refresh_from_db()
    assert draft.chief_complaints == "Fever for 3 days"
    assert (draft.vitals.bp_systolic, draft.vitals.pulse) == (124, 88)
    assert str(draft.vitals.temperature_c) == "38.2"

    # Saving the notes again with the vitals unchanged does not record the vitals again.
    recorded = AuditEvent.objects.filter(action=Actions.VITALS_RECORDED).count()
    hx_post(
        client,
        url(scoped, "visit-save", draft.pk),
        {
            "chief_complaints": "Fever for 4 days",
            "mode": "in_person",
            "bp_systolic": "124",
            "bp_diastolic": "82",
            "pulse": "88",
            "temperature": "38.2",
            "temperature_unit": "C",
        },
    )
    assert AuditEvent.objects.filter(action=Actions.VITALS_RECORDED).count() == recorded
    draft.refresh_from_db()
    assert draft.chief_complaints == "Fever for 4 days"


def test_one_save_saves_nothing_while_a_part_is_wrong(scoped, client_for, doctor, draft):
    client = client_for(doctor)
    response = hx_post(
        client,
        url(scoped, "visit-save", draft.pk),
        {"chief_complaints": "Cough", "mode": "in_person", "pulse": "900"},
    )
    body = text(response)
    assert "Pulse must be from 20 to 250 a minute." in body
    assert "Cough" in body  # what was typed comes back in the box, not lost
    draft.refresh_from_db()
    assert draft.chief_complaints == ""
    assert not Vitals.objects.filter(visit=draft).exists()


def test_a_medicine_is_marked_long_term_in_the_editor_and_unmarked_again(
    scoped, client_for, doctor, draft, paracetamol
):
    """Long-term medicines get a refill reminder on WhatsApp (messaging.services.refills)."""
    client = client_for(doctor)
    added = hx_post(
        client,
        url(scoped, "visit-item-add", draft.pk),
        {
            "drug_id": paracetamol.pk,
            "dose_amount": "1",
            "frequency": "1-0-1",
            "duration_days": "30",
            "long_term": "on",
        },
    )
    assert "Long-term (remind the patient to refill)" in text(added)
    item = PrescriptionItem.objects.get()
    assert item.long_term
    assert f'name="long_term" id="id_item{item.pk}_long_term" checked' in text(added)

    hx_post(
        client,
        url(scoped, "visit-item-update", draft.pk, item.pk),
        {"dose_amount": "1", "frequency": "1-0-1", "duration_days": "30"},
    )
    assert not reload(item).long_term
