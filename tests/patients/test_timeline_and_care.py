"""The patient page's timeline and vitals trends; the drug list and prescription templates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Diagnosis,
    Drug,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    PrescriptionTemplate,
    Visit,
    VisitStatus,
    Vitals,
)
from patients.selectors import care
from patients.selectors.care import TIMELINE_LIMIT
from patients.services import prescription_template_save
from tests.factories import PatientFactory

DIAGNOSIS = "Essential hypertension"
COMPLAINT = "Throbbing headache for three days"
# 12 Jan 2027, 10:00 in Bengaluru.
DAY_ONE = datetime(2027, 1, 12, 4, 30, tzinfo=UTC)


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def events(clinic, action) -> list[AuditEvent]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def doctor(clinic, member_factory):
    return member_factory(clinic, Role.DOCTOR, user__full_name="Anita Rao")


@pytest.fixture
def patient(clinic):
    with clinic_scope(clinic):
        return PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")


def add_visit(
    patient,
    doctor,
    when,
    *,
    vitals=(138, 88, "72.5"),
    signed=True,
    items=2,
    stopped=0,
    version=1,
    amends=None,
):
    """A visit with a diagnosis, notes, vitals and (when signed) a prescription, via the ORM."""
    clinic = patient.clinic
    with clinic_scope(clinic):
        # A correction belongs to the first version's appointment.
        appointment = amends.appointment if amends else None
        if appointment is None:
            appointment = Appointment.objects.create(
                clinic=clinic,
                patient=patient,
                doctor=doctor,
                starts_at=when,
                ends_at=when + timedelta(minutes=15),
                status=AppointmentStatus.COMPLETED,
            )
        visit = Visit.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=doctor,
            appointment=appointment,
            chief_complaints=COMPLAINT,
            status=VisitStatus.SIGNED if signed else VisitStatus.DRAFT,
            signed_at=when if signed else None,
            created_at=when,
            version=version,
            amends=amends,
        )
        Diagnosis.objects.create(clinic=clinic, visit=visit, text=DIAGNOSIS, icd10_code="I10")
        if vitals is not None:
            systolic, diastolic, weight = vitals
            Vitals.objects.create(
                clinic=clinic,
                visit=visit,
                bp_systolic=systolic,
                bp_diastolic=diastolic,
                weight_kg=Decimal(weight) if weight else None,
                pulse=80,
                recorded_at=when,
            )
        if signed and items:
            prescription = Prescription.objects.create(
                clinic=clinic,
                visit=visit,
                patient=patient,
                doctor=doctor,
                status=PrescriptionStatus.SIGNED,
                signed_at=when + timedelta(minutes=5),
            )
            PrescriptionItem.objects.bulk_create(
                PrescriptionItem(
                    clinic=clinic,
                    prescription=prescription,
                    generic_name=f"DRUG {n}",
                    form="tablet",
                    frequency="1-0-1",
                    stopped_at=when + timedelta(days=2) if n < stopped else None,
                    position=n,
                )
                for n in range(items)
            )
    return visit


def page_html(client, clinic, patient) -> str:
    response = client.get(url(clinic, "patient-detail", patient.pk))
    assert response.status_code == 200
    return response.content.decode()


def timeline_html(html: str) -> str:
    return html[html.index('<article id="timeline">') :]


# --- Timeline -----------------------------------------------------------------------------


def test_doctor_sees_appointments_visits_and_prescriptions_on_the_timeline(
    clinic, doctor, patient, client_for
):
    first = add_visit(patient, doctor, DAY_ONE, items=3, stopped=1)
    with clinic_scope(clinic):
        Appointment.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=doctor,
            starts_at=DAY_ONE + timedelta(days=7),
            ends_at=DAY_ONE + timedelta(days=7, minutes=15),
            status=AppointmentStatus.CANCELLED,
            cancelled_at=DAY_ONE + timedelta(days=1),
        )
        Appointment.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=doctor,
            starts_at=DAY_ONE + timedelta(days=14),
            ends_at=DAY_ONE + timedelta(days=14, minutes=15),
            status=AppointmentStatus.NO_SHOW,
        )
        Appointment.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=doctor,
            kind=AppointmentKind.WALK_IN,
            token_number=4,
            starts_at=DAY_ONE + timedelta(days=20),
            ends_at=DAY_ONE + timedelta(days=20),
        )
        Visit.objects.filter(pk=first.pk).update(superseded_at=DAY_ONE + timedelta(days=3))
    add_visit(patient, doctor, DAY_ONE + timedelta(days=3), items=0, version=2, amends=first)

    html = timeline_html(page_html(client_for(doctor), clinic, patient))

    assert "Seen by Dr Anita Rao" in html
    assert "Appointment with Dr Anita Rao cancelled" in html
    assert "Cancelled on 13 Jan 2027" in html
    assert "Did not come to the appointment with Dr Anita Rao" in html
    assert "Walk-in with Dr Anita Rao" in html and "Token 4" in html
    assert f"Visit with Dr Anita Rao: {DIAGNOSIS} (I10)" in html
    assert "Corrected by version 2" in html
    assert f"Corrected visit with Dr Anita Rao (version 2): {DIAGNOSIS}" in html
    assert "Prescription signed by Dr Anita Rao" in html
    assert "3 medicines · 1 stopped" in html
    assert "Replaced by a corrected version" in html
    assert "Registered" in html
    assert "showing the latest" not in html
    # Newest first: the walk-in (day 20) comes before the first visit (day 0).
    assert html.index("Walk-in with") < html.index("Visit with Dr Anita Rao")


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_front_desk_and_billing_see_no_clinical_detail(
    clinic, doctor, patient, client_for, member_factory, role
):
    add_visit(patient, doctor, DAY_ONE)
    add_visit(patient, doctor, DAY_ONE + timedelta(days=30), signed=False)
    member = member_factory(clinic, role)

    html = page_html(client_for(member), clinic, patient)

    assert "Visit with Dr Anita Rao" in html
    assert "Draft, not signed yet" in html
    assert DIAGNOSIS.lower() not in html.lower()
    assert "I10" not in html
    assert COMPLAINT.lower() not in html.lower()
    assert "Prescription signed" not in html
    assert "vitals-trends" not in html
    assert "<svg" not in html
    assert "138 / 88" not in html and "Systolic" not in html  # the blood pressure


def test_timeline_says_when_it_shows_only_the_latest_entries(clinic, doctor, patient, client_for):
    with clinic_scope(clinic):
        Appointment.objects.bulk_create(
            Appointment(
                clinic=clinic,
                patient=patient,
                doctor=doctor,
                starts_at=DAY_ONE + timedelta(hours=n),
                ends_at=DAY_ONE + timedelta(hours=n, minutes=15),
                status=AppointmentStatus.COMPLETED,
            )
            for n in range(TIMELINE_LIMIT + 5)
        )

    html = timeline_html(page_html(client_for(doctor), clinic, patient))

    assert f"showing the latest {TIMELINE_LIMIT}" in html
    assert html.count('<li class="timeline-') == TIMELINE_LIMIT
    assert "Registered" not in html  # the oldest entry is past the limit


def test_patient_page_queries_do_not_grow_with_visits(clinic, doctor, patient, client_for):
    client = client_for(doctor)
    for n in range(3):
        add_visit(patient, doctor, DAY_ONE + timedelta(days=n))
    client.get(url(clinic, "patient-detail", patient.pk))  # warm the session and caches
    with CaptureQueriesContext(connection) as three:
        html_three = page_html(client, clinic, patient)
    # Each visit brings an appointment, a visit and a prescription entry: as many as still fit
    # inside the latest entries shown.
    many = (TIMELINE_LIMIT - 1) // 3
    for n in range(3, many):
        add_visit(patient, doctor, DAY_ONE + timedelta(days=n), stopped=1)
    with CaptureQueriesContext(connection) as more:
        html_more = page_html(client, clinic, patient)

    assert html_three.count("Prescription signed by") == 3
    assert html_more.count("Prescription signed by") == many
    assert len(more.captured_queries) == len(three.captured_queries)


def test_visit_entries_link_to_the_visit_only_for_clinical_roles(
    clinic, doctor, patient, client_for, member_factory
):
    visit = add_visit(patient, doctor, DAY_ONE)
    try:
        visit_url = reverse(
            "visit-detail", kwargs={"clinic_slug": clinic.slug, "visit_id": visit.pk}
        )
    except NoReverseMatch:
        pytest.skip("The visit pages are not mounted yet.")
    front_desk = member_factory(clinic, Role.FRONT_DESK)

    assert f'href="{visit_url}"' in page_html(client_for(doctor), clinic, patient)
    assert f'href="{visit_url}"' not in page_html(client_for(front_desk), clinic, patient)


def test_each_visit_lists_its_own_diagnoses_in_order(clinic, doctor, patient, client_for):
    """The timeline reads visits and diagnoses as two sets of rows and pairs them up itself."""
    first = add_visit(patient, doctor, DAY_ONE, items=0)
    second = add_visit(patient, doctor, DAY_ONE + timedelta(days=5), items=0)
    add_visit(patient, doctor, DAY_ONE + timedelta(days=9), items=0)
    with clinic_scope(clinic):
        Diagnosis.objects.filter(visit__in=[first, second]).delete()
        Diagnosis.objects.create(
            clinic=clinic, visit=first, text="Viral fever", is_provisional=True, position=2
        )
        Diagnosis.objects.create(
            clinic=clinic, visit=first, text="Dehydration", icd10_code="E86", position=1
        )
        Diagnosis.objects.create(clinic=clinic, visit=second, text="Otitis media", position=1)

    html = timeline_html(page_html(client_for(doctor), clinic, patient))

    assert "Visit with Dr Anita Rao: Dehydration (E86), Viral fever (provisional)<" in html
    assert "Visit with Dr Anita Rao: Otitis media<" in html
    assert f"Visit with Dr Anita Rao: {DIAGNOSIS} (I10)<" in html
    # Newest first.
    assert html.index(DIAGNOSIS) < html.index("Otitis media") < html.index("Dehydration")


# --- Vitals trends ------------------------------------------------------------------------


def test_chart_draws_blood_pressure_and_weight_with_a_table(clinic, doctor, patient, client_for):
    add_visit(patient, doctor, DAY_ONE, vitals=(150, 95, "80"))
    add_visit(patient, doctor, DAY_ONE + timedelta(days=30), vitals=(140, 90, "78.5"))
    add_visit(patient, doctor, DAY_ONE + timedelta(days=60), vitals=(128, 84, None))
    add_visit(patient, doctor, DAY_ONE + timedelta(days=90), vitals=None)  # no vitals taken

    html = page_html(client_for(doctor), clinic, patient)

    assert html.count('<svg class="vitals-chart"') == 2  # blood pressure, weight
    bp_chart, weight_chart = re.findall(r'<svg class="vitals-chart".*?</svg>', html, re.S)
    assert bp_chart.count('<circle class="point"') == 6
    assert weight_chart.count('<circle class="point"') == 2
    assert "<polyline" in bp_chart and "mmHg" in bp_chart
    assert "12 Jan 2027" in bp_chart and "13 Mar 2027" in bp_chart  # dates under the axis
    assert "Systolic, 12 Jan 2027: 150 mmHg" in bp_chart
    assert "Weight, 11 Feb 2027: 78.5 kg" in weight_chart
    # The table fallback has every reading.
    table = html[html.index("<table", html.index("vitals-trends")) :]
    assert "150 / 95" in table and "128 / 84" in table and "78.5" in table
    assert "last 3 visits with vitals" in html


def test_chart_scale_puts_higher_readings_higher(clinic, doctor, patient):
    add_visit(patient, doctor, DAY_ONE, vitals=(150, 95, "80"))
    add_visit(patient, doctor, DAY_ONE + timedelta(days=7), vitals=(120, 80, "76"))
    with clinic_scope(clinic):
        chart = care.vitals_chart(patient=patient, membership=doctor)
    bp = chart.panels[0]
    systolic, diastolic = bp.series
    assert systolic.points[0].y < systolic.points[1].y
    assert all(s.y < d.y for s, d in zip(systolic.points, diastolic.points, strict=True))
    assert systolic.points[0].x < systolic.points[1].x
    assert int(bp.y_ticks[0].label) <= 80 and int(bp.y_ticks[-1].label) >= 150


def test_chart_uses_only_the_latest_24_visits_and_one_query(
    clinic, doctor, patient, django_assert_num_queries
):
    for n in range(30):
        add_visit(patient, doctor, DAY_ONE + timedelta(days=n), vitals=(120 + n, 80, "70"))
    with clinic_scope(clinic), django_assert_num_queries(1):
        chart = care.vitals_chart(patient=patient, membership=doctor)
    assert len(chart.rows) == 24
    assert chart.rows[0].blood_pressure == "126 / 80"  # oldest shown: the 7th visit
    assert chart.rows[-1].blood_pressure == "149 / 80"


def test_chart_empty_state_without_vitals(clinic, doctor, patient, client_for):
    add_visit(patient, doctor, DAY_ONE, vitals=None)

    html = page_html(client_for(doctor), clinic, patient)

    assert 'id="vitals-trends"' in html
    assert "No blood pressure or weight recorded yet" in html
    assert "<svg" not in html


def test_corrected_visit_counts_once_on_the_chart(clinic, doctor, patient):
    first = add_visit(patient, doctor, DAY_ONE, vitals=(150, 95, "80"))
    add_visit(patient, doctor, DAY_ONE, vitals=(152, 95, "80"), version=2, amends=first)
    with clinic_scope(clinic):
        chart = care.vitals_chart(patient=patient, membership=doctor)
    assert [r.blood_pressure for r in chart.rows] == ["152 / 95"]


# --- Drug list ----------------------------------------------------------------------------


def drug_post(**overrides) -> dict:
    data = {
        "generic_name": "paracetamol",
        "strength": "500mg",
        "form": "tablet",
        "route": "oral",
        "default_dose": "1",
        "default_frequency": "1-0-1",
        "default_duration_days": "3",
        "default_timing": "after_food",
    }
    data.update(overrides)
    return data


def make_drug(clinic, name, **fields) -> Drug:
    with clinic_scope(clinic):
        return Drug.objects.create(clinic=clinic, generic_name=name, **fields)


def drugs(clinic) -> list[Drug]:
    with clinic_scope(clinic):
        return list(Drug.objects.order_by("id"))


def test_doctor_adds_a_drug(clinic, doctor, client_for):
    client = client_for(doctor)
    assert client.get(url(clinic, "drug-add")).status_code == 200

    response = client.post(url(clinic, "drug-add"), drug_post(is_schedule_x="on"))

    assert response.status_code == 302
    assert response["Location"] == url(clinic, "drug-list")
    (drug,) = drugs(clinic)
    assert (drug.generic_name, drug.strength, drug.default_frequency) == (
        "PARACETAMOL",
        "500 mg",
        "1-0-1",
    )
    assert drug.default_dose == Decimal("1") and drug.is_schedule_x
    assert len(events(clinic, Actions.DRUG_ADDED)) == 1
    listing = client.get(url(clinic, "drug-list")).content.decode()
    assert "PARACETAMOL" in listing and "Schedule X" in listing


def test_duplicate_drug_and_bad_frequency_are_shown_on_the_form(clinic, doctor, client_for):
    client = client_for(doctor)
    client.post(url(clinic, "drug-add"), drug_post())

    duplicate = client.post(url(clinic, "drug-add"), drug_post(generic_name="Paracetamol "))
    bad_frequency = client.post(
        url(clinic, "drug-add"), drug_post(generic_name="ibuprofen", default_frequency="lots")
    )

    assert duplicate.status_code == 200
    assert "is already on the drug list" in duplicate.content.decode()
    assert duplicate.context["form"].errors["generic_name"]
    assert bad_frequency.status_code == 200
    assert bad_frequency.context["form"].errors["default_frequency"]
    assert [d.generic_name for d in drugs(clinic)] == ["PARACETAMOL"]


def test_doctor_edits_a_drug(clinic, doctor, client_for):
    drug = make_drug(clinic, "AMOXICILLIN", strength="250 mg", default_dose=Decimal("1"))
    make_drug(clinic, "AMOXICILLIN", strength="500 mg")
    client = client_for(doctor)
    edit_url = url(clinic, "drug-edit", drug.pk)
    assert 'value="AMOXICILLIN"' in client.get(edit_url).content.decode()

    clash = client.post(edit_url, drug_post(generic_name="amoxicillin", strength="500 mg"))
    saved = client.post(edit_url, drug_post(generic_name="amoxicillin", strength="125mg"))

    assert clash.status_code == 200 and "already on the drug list" in clash.content.decode()
    assert saved.status_code == 302
    assert [d.strength for d in drugs(clinic)] == ["125 mg", "500 mg"]


def test_favourites_come_first_and_search_narrows_the_list(clinic, doctor, client_for):
    amox = make_drug(clinic, "AMOXICILLIN")
    zinc = make_drug(clinic, "ZINC SULPHATE", is_narcotic=False)
    make_drug(clinic, "TRAMADOL", is_narcotic=True)
    client = client_for(doctor)

    response = client.post(url(clinic, "drug-favourite", zinc.pk), {"is_favourite": "1"})

    assert response.status_code == 302
    listing = client.get(url(clinic, "drug-list")).content.decode()
    assert listing.index("ZINC SULPHATE") < listing.index("AMOXICILLIN")
    assert "Narcotic" in listing
    assert len(events(clinic, Actions.DRUG_FAVOURITE_SET)) == 1
    searched = client.get(url(clinic, "drug-list"), {"q": "amox"}).content.decode()
    assert "AMOXICILLIN" in searched and "ZINC SULPHATE" not in searched
    nothing = client.get(url(clinic, "drug-list"), {"q": "xyz"}).content.decode()
    assert "No drugs on the list match" in nothing

    # The star again, with htmx: only the row comes back, and it is no longer a favourite.
    row = client.post(
        url(clinic, "drug-favourite", zinc.pk), {"is_favourite": "0"}, HTTP_HX_REQUEST="true"
    )
    assert row.status_code == 200
    assert "<html" not in row.content.decode()
    assert f'id="drug-{zinc.pk}"' in row.content.decode()
    assert [d.is_favourite for d in drugs(clinic) if d.pk in (amox.pk, zinc.pk)] == [False, False]


def test_search_results_alone_for_htmx(clinic, doctor, client_for):
    make_drug(clinic, "CETIRIZINE")
    response = client_for(doctor).get(
        url(clinic, "drug-list"),
        {"q": "ceti"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="drug-results",
    )
    html = response.content.decode()
    assert "CETIRIZINE" in html and "<html" not in html


def test_deactivated_drug_leaves_the_list(clinic, doctor, client_for):
    drug = make_drug(clinic, "RANITIDINE")
    client = client_for(doctor)

    response = client.post(url(clinic, "drug-deactivate", drug.pk))

    assert response.status_code == 302
    assert drugs(clinic)[0].is_active is False
    assert len(events(clinic, Actions.DRUG_DEACTIVATED)) == 1
    assert f'id="drug-{drug.pk}"' not in client.get(url(clinic, "drug-list")).content.decode()
    shown = client.get(url(clinic, "drug-list"), {"inactive": "on"}).content.decode()
    assert "RANITIDINE" in shown and "Off the list" in shown

    # And back again.
    assert client.post(url(clinic, "drug-reactivate", drug.pk)).status_code == 302
    assert drugs(clinic)[0].is_active is True
    assert len(events(clinic, Actions.DRUG_REACTIVATED)) == 1
    assert f'id="drug-{drug.pk}"' in client.get(url(clinic, "drug-list")).content.decode()


def test_assistant_reads_the_drug_list_but_cannot_change_it(clinic, member_factory, client_for):
    drug = make_drug(clinic, "PARACETAMOL")
    client = client_for(member_factory(clinic, Role.ASSISTANT))

    listing = client.get(url(clinic, "drug-list"))

    assert listing.status_code == 200 and "PARACETAMOL" in listing.content.decode()
    assert "Add a drug" not in listing.content.decode()
    assert client.post(url(clinic, "drug-add"), drug_post()).status_code == 403
    assert client.post(url(clinic, "drug-deactivate", drug.pk)).status_code == 403
    assert drugs(clinic)[0].is_active


def test_billing_cannot_see_or_add_drugs(clinic, member_factory, client_for):
    client = client_for(member_factory(clinic, Role.BILLING))
    assert client.get(url(clinic, "drug-list")).status_code == 403
    assert client.get(url(clinic, "drug-add")).status_code == 403
    assert client.post(url(clinic, "drug-add"), drug_post()).status_code == 403
    assert drugs(clinic) == []


def test_another_clinics_drug_is_not_found(clinic, other_clinic, doctor, client_for):
    theirs = make_drug(other_clinic, "PARACETAMOL")
    client = client_for(doctor)
    assert client.get(url(clinic, "drug-edit", theirs.pk)).status_code == 404
    assert client.post(url(clinic, "drug-deactivate", theirs.pk)).status_code == 404
    assert drugs(other_clinic)[0].is_active


# --- Prescription templates ---------------------------------------------------------------


def save_template(doctor, name):
    with clinic_scope(doctor.clinic):
        return prescription_template_save(
            doctor=doctor,
            actor=doctor.user,
            name=name,
            items=[
                {
                    "generic_name": "paracetamol",
                    "strength": "500 mg",
                    "form": "tablet",
                    "dose_amount": "1",
                    "frequency": "1-0-1",
                    "duration_days": 3,
                    "timing": "after_food",
                },
                {
                    "generic_name": "cetirizine",
                    "form": "tablet",
                    "frequency": "0-0-1",
                    "duration_days": 5,
                },
            ],
        )


def test_doctor_sees_only_their_own_templates(clinic, doctor, member_factory, client_for):
    save_template(doctor, "Viral fever adult")
    colleague = member_factory(clinic, Role.DOCTOR)
    save_template(colleague, "Colleague's cold")

    response = client_for(doctor).get(url(clinic, "template-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Viral fever adult" in html and "Colleague&#x27;s cold" not in html
    assert "PARACETAMOL 500 mg Tablet" in html
    assert "1 tablet, 1-0-1, after food, for 3 days" in html
    assert "CETIRIZINE" in html


def test_doctor_deletes_a_template(clinic, doctor, member_factory, client_for):
    mine = save_template(doctor, "Viral fever adult")
    theirs = save_template(member_factory(clinic, Role.DOCTOR), "Cold")
    client = client_for(doctor)

    refused = client.post(url(clinic, "template-delete", theirs.pk))
    deleted = client.post(url(clinic, "template-delete", mine.pk))

    assert refused.status_code == 404
    assert deleted.status_code == 302
    with clinic_scope(clinic):
        assert list(PrescriptionTemplate.objects.values_list("name", flat=True)) == ["Cold"]
    assert len(events(clinic, Actions.PRESCRIPTION_TEMPLATE_DELETED)) == 1
    assert (
        "no prescription templates yet" in client.get(url(clinic, "template-list")).content.decode()
    )


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.ASSISTANT, Role.BILLING])
def test_staff_who_do_not_prescribe_cannot_see_templates(
    clinic, doctor, member_factory, client_for, role
):
    template = save_template(doctor, "Viral fever adult")
    client = client_for(member_factory(clinic, role))
    assert client.get(url(clinic, "template-list")).status_code == 403
    assert client.post(url(clinic, "template-delete", template.pk)).status_code == 403
    with clinic_scope(clinic):
        assert PrescriptionTemplate.objects.filter(pk=template.pk).exists()


def test_patient_page_offers_the_next_steps_by_role(clinic, member_factory, client_for):
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic)
    page = f"/c/{clinic.slug}/patients/{patient.pk}/"
    doctor_page = client_for(member_factory(clinic, Role.DOCTOR)).get(page).content.decode()
    assert "Start visit" in doctor_page and "Book appointment" in doctor_page
    billing_page = client_for(member_factory(clinic, Role.BILLING)).get(page).content.decode()
    assert "Start visit" not in billing_page and "Book appointment" not in billing_page
    desk_page = client_for(member_factory(clinic, Role.FRONT_DESK)).get(page).content.decode()
    assert "Book appointment" in desk_page and "Start visit" not in desk_page
