"""The prescribing checks on the pages: the editor's stop, warning and override, the review
of a template or the repeated last prescription, allergies on the patient page, the owner's
formulary import, and the migration that reads the old free-text allergies."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinics.roles import Role
from patients import services
from patients.models import (
    Drug,
    PatientAllergy,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    Visit,
    VisitStatus,
)
from patients.selectors.prescriptions import prescription_document
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

REASON = "Tolerated it under observation last year"


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def hx_post(client, path, data=None):
    return client.post(path, data or {}, HTTP_HX_REQUEST="true")


def by(member):
    return {"actor": member.user, "actor_membership": member}


@pytest.fixture
def doctor(scoped):
    return DoctorProfileFactory(membership__clinic=scoped).membership


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Kavya Reddy")


@pytest.fixture
def ibuprofen(scoped):
    return Drug.objects.create(
        clinic=scoped,
        generic_name="IBUPROFEN",
        strength="400 mg",
        form="tablet",
        atc_code="M01AE01",
        max_daily_dose_mg=Decimal(2400),
    )


@pytest.fixture
def draft(scoped, doctor, patient):
    return services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)


@pytest.fixture
def allergic(patient, doctor):
    services.patient_allergy_add(
        patient=patient, actor=doctor.user, drug_class="nsaids", reaction="Hives"
    )
    return patient


def _add_form(drug, **extra):
    return {
        "drug_id": drug.pk,
        "dose_amount": "1",
        "frequency": "1-0-1",
        "duration_days": 3,
        **extra,
    }


def test_the_editor_stops_an_allergy_and_asks_for_a_reason(
    scoped, client_for, doctor, draft, allergic, ibuprofen
):
    client = client_for(doctor)
    page = client.get(url(scoped, "visit-detail", draft.pk)).content.decode()
    assert "not every interaction" in page  # what the check covers, said plainly
    assert "Hives" in page  # the allergy is shown on the visit

    stopped = hx_post(client, url(scoped, "visit-item-add", draft.pk), _add_form(ibuprofen))
    body = stopped.content.decode()
    assert "Stop and check" in body and "allergic to NSAIDs" in body
    assert "Reason to prescribe it anyway" in body
    assert "Add anyway, with my reason" in body
    assert not PrescriptionItem.objects.exists()

    added = hx_post(
        client,
        url(scoped, "visit-item-add", draft.pk),
        _add_form(ibuprofen, override_reason=REASON),
    )
    body = added.content.decode()
    assert "Prescribed despite" in body and REASON in body
    assert PrescriptionItem.objects.get().override_reason == REASON


def test_the_dose_change_form_shows_a_new_finding(scoped, client_for, doctor, draft, ibuprofen):
    item = services.prescription_item_add(
        visit=draft, **by(doctor), drug=ibuprofen, frequency="1-0-1", duration_days=3
    )
    client = client_for(doctor)
    response = hx_post(
        client,
        url(scoped, "visit-item-update", draft.pk, item.pk),
        {"dose_amount": "4", "frequency": "1-1-1", "duration_days": 3},
    )
    body = response.content.decode()
    assert "Dose above the maximum: 4800 mg a day of IBUPROFEN" in body
    item.refresh_from_db()
    assert item.dose_amount == 1


def _signed_with(scoped, doctor, patient, drug):
    earlier = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    services.prescription_item_add(
        visit=earlier, **by(doctor), drug=drug, frequency="1-0-1", duration_days=3
    )
    now = timezone.now()
    Visit.objects.filter(pk=earlier.pk).update(status=VisitStatus.SIGNED, signed_at=now)
    Prescription.objects.filter(visit=earlier).update(
        status=PrescriptionStatus.SIGNED, signed_at=now
    )


def test_repeating_the_last_prescription_is_reviewed_on_the_page(
    scoped, client_for, doctor, patient, ibuprofen
):
    _signed_with(scoped, doctor, patient, ibuprofen)
    today = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    services.patient_allergy_add(patient=patient, actor=doctor.user, substance="Ibuprofen")
    client = client_for(doctor)
    page = client.get(url(scoped, "visit-detail", today.pk)).content.decode()
    assert "Repeat the last prescription" in page

    review = hx_post(client, url(scoped, "visit-repeat-last", today.pk)).content.decode()
    assert "nothing was added yet" in review and 'name="reason_1"' in review
    assert not PrescriptionItem.objects.filter(prescription__visit=today).exists()

    done = hx_post(client, url(scoped, "visit-repeat-last", today.pk), {"reason_1": REASON})
    assert "Added 1 medicine from the last prescription." in done.content.decode()
    item = PrescriptionItem.objects.get(prescription__visit=today)
    assert (item.generic_name, item.override_reason) == ("IBUPROFEN", REASON)


def test_a_template_is_reviewed_on_the_page_and_a_line_can_be_left_out(
    scoped, client_for, doctor, draft, allergic, ibuprofen
):
    template = services.prescription_template_save(
        doctor=doctor,
        actor=doctor.user,
        name="Body ache",
        items=[
            {"drug": ibuprofen, "frequency": "1-0-1", "duration_days": 3},
            {
                "generic_name": "Cetirizine",
                "strength": "10 mg",
                "form": "tablet",
                "frequency": "0-0-1",
                "duration_days": 3,
            },
        ],
    )
    client = client_for(doctor)
    apply_url = url(scoped, "visit-template-apply", draft.pk, template.pk)
    review = hx_post(client, apply_url).content.decode()
    assert "Template Body ache: nothing was added yet" in review
    assert "Leave this medicine out" in review
    done = hx_post(client, apply_url, {"leave_1": "1"})
    assert "Added 1 medicine from Body ache." in done.content.decode()
    assert list(PrescriptionItem.objects.values_list("generic_name", flat=True)) == ["CETIRIZINE"]


def test_the_brand_search_shows_the_brand_and_the_form_keeps_it(scoped, client_for, doctor, draft):
    services.formulary_starter_load(clinic=scoped)
    client = client_for(doctor)
    results = client.get(
        url(scoped, "drug-search", draft.pk), {"drug_query": "dolo 6"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "PARACETAMOL</strong> 650 mg (Dolo 650)" in results
    dolo = Drug.objects.get(generic_name="PARACETAMOL", strength="650 mg", form="tablet")
    chosen = client.get(
        url(scoped, "visit-item-form", draft.pk), {"drug_id": dolo.pk, "brand": "Dolo 650"}
    ).content.decode()
    assert 'name="brand_name" value="Dolo 650"' in chosen
    hx_post(
        client,
        url(scoped, "visit-item-add", draft.pk),
        _add_form(dolo, brand_name="Dolo 650"),
    )
    assert PrescriptionItem.objects.get().brand_name == "Dolo 650"
    # Printed: the generic name in capitals, the chosen brand in brackets.
    html = render_to_string("pdf/prescription.html", {"doc": prescription_document(visit=draft)})
    assert '<span class="generic">PARACETAMOL</span> 650 mg (Dolo 650)' in html


# --- the patient page ---------------------------------------------------------------------------


def test_a_nurse_records_an_allergy_on_the_patient_page_and_the_desk_sees_only_an_alert(
    scoped, client_for, patient
):
    nurse = MembershipFactory(clinic=scoped, role=Role.ASSISTANT)
    desk = MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)
    nurse_client = client_for(nurse)
    response = nurse_client.post(
        url(scoped, "patient-allergy-add", patient.pk),
        {"drug_class": "penicillins", "reaction": "Rash", "severity": "moderate"},
    )
    assert response.status_code == 302
    page = nurse_client.get(url(scoped, "patient-detail", patient.pk)).content.decode()
    assert "Penicillins" in page and "Rash" in page and "Moderate" in page

    desk_page = client_for(desk).get(url(scoped, "patient-detail", patient.pk)).content.decode()
    assert "Allergy alert" in desk_page and "Penicillins" not in desk_page
    refused = client_for(desk).post(
        url(scoped, "patient-allergy-add", patient.pk), {"substance": "Latex"}
    )
    assert refused.status_code == 403
    assert PatientAllergy.objects.count() == 1


def test_a_bad_allergy_shows_the_form_again_with_the_message(scoped, client_for, doctor, patient):
    response = client_for(doctor).post(url(scoped, "patient-allergy-add", patient.pk), {})
    assert response.status_code == 400
    assert "Enter what the patient is allergic to" in response.content.decode()


# --- the formulary import -----------------------------------------------------------------------


def _csv(text):
    return SimpleUploadedFile("formulary.csv", text.encode("utf-8"), content_type="text/csv")


def test_the_owner_imports_a_formulary_and_sees_each_bad_row(scoped, client_for, owner, doctor):
    client = client_for(owner)
    header = "generic_name,strength,form,route,atc_code,max_daily_dose_mg,brand_names\n"
    bad = header + "PARACETAMOL,500 mg,tablet,oral,N02BE01,4000,Crocin\nX,1 mg,pill,oral,,,\n"
    response = client.post(url(scoped, "formulary-import"), {"file": _csv(bad)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported." in body and "Line 3: form must be one of" in body
    assert not Drug.objects.exists()

    good = header + "PARACETAMOL,500 mg,tablet,oral,N02BE01,4000,Crocin\n"
    done = client.post(url(scoped, "formulary-import"), {"file": _csv(good)})
    assert done.status_code == 302
    assert Drug.objects.get().atc_code == "N02BE01"
    assert client_for(doctor).get(url(scoped, "formulary-import")).status_code == 403


def test_a_file_that_is_not_utf8_is_refused_with_a_message(scoped, client_for, owner):
    upload = SimpleUploadedFile("f.csv", "générique".encode("latin-1"))
    response = client_for(owner).post(url(scoped, "formulary-import"), {"file": upload})
    assert response.status_code == 400
    assert "not UTF-8 text" in response.content.decode()


# --- the data migration -------------------------------------------------------------------------


def test_the_migration_reads_free_text_allergies_into_entries_and_keeps_the_text(scoped):
    migration = importlib.import_module("patients.migrations.0012_prescribing_safety")
    patient = PatientFactory(clinic=scoped, allergies="Ibuprofen and other NSAIDs, Peanuts")
    PatientFactory(clinic=scoped, allergies="")
    migration.allergies_from_text(apps, None)
    entries = list(
        PatientAllergy.objects.order_by("id").values_list(
            "patient_id", "substance", "drug_class", "note"
        )
    )
    text = "Ibuprofen and other NSAIDs, Peanuts"
    assert entries == [
        (patient.pk, "IBUPROFEN", "", text),
        (patient.pk, "", "nsaids", text),
        (patient.pk, "Peanuts", "", text),
    ]
    patient.refresh_from_db()
    assert patient.allergies == text
