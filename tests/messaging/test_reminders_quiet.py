"""Medicine reminders against quiet hours, for every frequency the parser knows: a reminder
lists each medicine once, at the time the dose is due (issue 19, item 2)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from messaging.services.medicine_doses import DoseTable
from patients.dosing import parse_frequency, to_json
from patients.models import PrescriptionItem
from tests.patients.test_dosing_quiet import FREQUENCIES, LONG_QUIET, QUIET

IST = zoneinfo.ZoneInfo("Asia/Kolkata")


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
