"""A doctor prescribes by typing one line and pressing Enter, in a real browser."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import PrescriptionItem, Visit
from patients.services.prescriptions.formulary import formulary_starter_load
from tests.factories import (
    ClinicFactory,
    DoctorProfileFactory,
    MembershipFactory,
    PatientFactory,
    UserFactory,
)

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="doctor@asha.example", full_name="Anita Rao")
    doctor = MembershipFactory(clinic=clinic, user=user, role=Role.DOCTOR)
    DoctorProfileFactory(membership=doctor)
    with clinic_scope(clinic):
        formulary_starter_load(clinic=clinic)
        patient = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
        return Visit.objects.create(clinic=clinic, patient=patient, doctor=doctor)


def test_one_line_and_enter_adds_the_medicine(page, live_server, draft):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "doctor@asha.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/c/asha/"))
    page.goto(f"{live_server.url}/c/asha/visits/{draft.pk}/")

    line = page.locator("#rx-line")
    line.fill("Dolo 650 1-0-1 5d after food")
    preview = page.locator("#rx-line-preview")
    preview.get_by_text("Press Enter to add it").wait_for()
    read = preview.inner_text()
    assert "1-0-1: Morning and night" in read and "5 days" in read
    assert "PARACETAMOL 650 mg tablet (Dolo 650)" in " ".join(read.split())

    line.press("Enter")
    item = page.locator("ol.rx-items li").first
    item.wait_for()
    text = item.inner_text()
    assert "PARACETAMOL" in text and "(Dolo 650)" in text and "1-0-1" in text
    with clinic_scope(draft.clinic):
        assert PrescriptionItem.objects.get().duration_days == 5
    # The line is ready for the next medicine.
    assert page.locator("#rx-line").input_value() == ""
