"""Medicine reminders against quiet hours, for every frequency the parser knows: a reminder
lists each medicine once, at the time the dose is due (issue 19, item 2)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from messaging.models import Reminder, ReminderStatus
from messaging.services.dispatch import reminders_dispatch
from messaging.services.medicine_doses import DoseTable
from patients import services
from patients.dosing import parse_frequency, to_json
from patients.models import Prescription, PrescriptionItem
from tests.messaging.care_setup import (
    AMOXICILLIN,
    by,
    make_doctor,
    make_reminder_templates,
    sign_visit,
)
from tests.messaging.conftest import PATIENT, make_patient
from tests.patients.test_dosing_quiet import FREQUENCIES, LONG_QUIET, QUIET

IST = zoneinfo.ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def english():
    """The dose table writes in the active language (the patient's, when planning)."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize("quiet", [QUIET, LONG_QUIET], ids=["21:30-07:30", "20:00-08:00"])
@pytest.mark.parametrize("text", FREQUENCIES)
def test_a_reminder_lists_each_medicine_once_at_the_time_it_is_due(text, quiet):
    frequency = parse_frequency(text)
    table = DoseTable(
        prescription_id=1,
        tz=IST,
        quiet=quiet,
        now=dt.datetime(2027, 1, 3, tzinfo=dt.UTC),
        visit_day=dt.date(2027, 1, 4),
    )
    dose_amount = Decimal(1)
    for pk, name in ((1, "paracetamol"), (2, "cetirizine")):
        item = PrescriptionItem(
            pk=pk,
            generic_name=name.upper(),
            strength="500 mg",
            form="tablet",
            dose_amount=dose_amount,
            schedule=to_json(frequency),
            duration_days=7,
            starts_on=dt.date(2027, 1, 4),
        )
        table.add(item)
    own_times = {f"{t.hour % 12 or 12}:{t:%M} {t:%p}" for t in (d.time for d in frequency.doses)}
    for due, context in table.contexts().items():
        ids = [line["id"] for line in context["items"]]
        assert len(ids) == len(set(ids)), (text, due, context)
        # The time the patient reads is the dose's own time, never the quiet-hours edge.
        assert context["dose_time"] in own_times, (text, context["dose_time"])


# --- the prescription, over the simulator, and the doctor's view before signing ---------
PARACETAMOL_Q4H = {
    "generic_name": "paracetamol",
    "strength": "500 mg",
    "form": "tablet",
    "frequency": "Q4H",
    "duration_days": 3,
}
CETIRIZINE_HS = {
    "generic_name": "cetirizine",
    "strength": "10 mg",
    "form": "tablet",
    "frequency": "HS",
    "duration_days": 3,
}


def test_the_quiet_hours_reminder_lists_paracetamol_once_at_its_own_time(
    scoped, wa_account, patient, sim
):
    doctor = make_doctor(scoped)
    make_reminder_templates(scoped, sim=sim)
    visit = sign_visit(doctor, patient, items=[PARACETAMOL_Q4H, CETIRIZINE_HS, AMOXICILLIN])
    prescription = Prescription.objects.get(visit=visit)
    rows = list(
        Reminder.objects.filter(source=f"prescription:{prescription.pk}").order_by("due_at")
    )
    tz = scoped.tzinfo
    for row in rows:
        ids = [i["id"] for i in row.context["items"]]
        assert len(ids) == len(set(ids))
        # Nothing is reminded between 21:30 and 07:30, and paracetamol never at 21:30.
        local = row.due_at.astimezone(tz).time()
        assert not (local > dt.time(21, 30) or local < dt.time(7, 30))
    evening = next(r for r in rows if r.due_at.astimezone(tz).time() == dt.time(21, 30))
    reminders_dispatch(now=evening.due_at)
    evening.refresh_from_db()
    assert evening.status == ReminderStatus.SENT
    body = next(m["body"] for m in sim.received(PATIENT) if "CETIRIZINE" in m["body"])
    assert "PARACETAMOL" not in body
    assert body.count("CETIRIZINE 10 mg - 1 tablet") == 1 and "(10:00 PM)" in body
    # Paracetamol is reminded at 10:00, 14:00 and 18:00 only, each time once.
    paracetamol = [
        r.due_at.astimezone(tz).hour
        for r in rows
        if any(i["text"].startswith("PARACETAMOL") for i in r.context["items"])
    ]
    assert set(paracetamol) == {10, 14, 18}


def test_the_doctor_sees_the_reminder_plan_before_signing(scoped, client_for):
    doctor = make_doctor(scoped)
    patient = make_patient(scoped)
    visit = services.visit_start(
        clinic=scoped, **by(doctor), patient=patient, doctor=doctor, appointment=None
    )
    for item in (PARACETAMOL_Q4H, AMOXICILLIN, CETIRIZINE_HS):
        services.prescription_item_add(visit=visit, **by(doctor), **item)
    web = client_for(doctor)
    for name in ("visit-sign", "visit-detail"):
        page = web.get(reverse(name, args=[scoped.slug, visit.pk])).content.decode()
        assert (
            "WhatsApp reminders: 3 of 6 daily doses will be reminded; 22:00, 02:00 and 06:00 "
            "fall in quiet hours and cannot be moved without coming closer than 4 hours to "
            "another dose, so they are not reminded." in page
        )
        assert "the 22:00 dose is reminded at 21:30 (quiet hours)" in page
        assert page.count("WhatsApp reminders:") == 2  # amoxicillin 1-1-1 is not affected
