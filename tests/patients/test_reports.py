"""The patients figures on the reports page, worked out by hand (tests/patients/report_data.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinics.reports import ReportPeriod, ReportQuery, section_csv
from clinics.tenancy import clinic_scope
from patients.models import AppointmentStatus
from patients.reports import Waits, patient_reports
from tests.patients.report_data import END, START, appointment, seed_history, seed_other_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(clinic, other_clinic):
    seed_other_clinic(other_clinic)
    return seed_history(clinic)


def sections(history, **kwargs):
    names = {history.doctor_a.pk: "Dr Anita Rao", history.doctor_b.pk: "Dr Bharat Shah"}
    query = ReportQuery(
        clinic=history.clinic,
        period=kwargs.pop("period", ReportPeriod(START, END)),
        doctor_names=names,
        **kwargs,
    )
    with clinic_scope(history.clinic):
        return {s.slug: s for s in patient_reports(query=query)}


def figures(section):
    return {f.label: f.value for f in section.figures}


def test_patients_seen_per_day_in_the_clinics_own_days(history):
    seen = sections(history)["patients-seen"]
    assert seen.rows == [["1 Mar", 3], ["2 Mar", 1], ["3 Mar", 2]]
    assert figures(seen)["Seen"] == "6"
    assert figures(seen)["Busiest day"] == "1 Mar 2026 (3)"
    assert section_csv(seen) == "date,seen\r\n2026-03-01,3\r\n2026-03-02,1\r\n2026-03-03,2\r\n"


def test_new_and_follow_up(history):
    new = sections(history)["patients-new-follow-up"]
    assert figures(new) == {"New": "3", "Follow-up": "3", "New share": "50.0 %"}
    assert new.csv_rows == [
        [date(2026, 3, 1), 2, 1],
        [date(2026, 3, 2), 0, 1],
        [date(2026, 3, 3), 1, 1],
    ]


def test_no_shows_and_cancellations_with_their_rates(history):
    attendance = sections(history)["patients-attendance"]
    assert figures(attendance) == {
        "Booked appointments": "6",
        "Walk-ins": "1",
        "No-shows": "1 (16.7 %)",
        "Cancelled": "1 (14.3 %)",
    }
    assert section_csv(attendance).splitlines() == [
        "date,booked,walk_ins,no_shows,cancelled",
        "2026-03-01,3,1,1,0",
        "2026-03-02,2,0,0,1",
        "2026-03-03,1,0,0,0",
    ]


def test_waits_from_check_in_to_call_in(history):
    waiting = sections(history)["patients-waiting"]
    assert figures(waiting) == {
        "Average wait": "17 min",
        "Median wait": "12 min",
        "Consultations timed": "4 of 6 seen",
    }
    assert waiting.rows[:4] == [
        ["0-10 min", 1],
        ["10-20 min", 1],
        ["20-30 min", 1],
        ["30-45 min", 1],
    ]


def test_per_doctor_table_with_the_whole_clinic(history):
    doctors = sections(history)["patients-doctors"]
    assert doctors.rows == [
        ["Dr Anita Rao", 3, 1, 2, 0, 0, "25 min", "20 min"],
        ["Dr Bharat Shah", 3, 2, 1, 1, 1, "9 min", "6 min"],
        ["Whole clinic", 6, 3, 3, 1, 1, "17 min", "12 min"],
    ]
    assert doctors.chart is not None


def test_narrowed_to_one_doctor(history):
    result = sections(history, doctor_id=history.doctor_b.pk)
    assert result["patients-seen"].rows == [["1 Mar", 1], ["2 Mar", 0], ["3 Mar", 2]]
    assert result["patients-doctors"].rows[0] == ["Dr Bharat Shah", 3, 2, 1, 1, 1, "9 min", "6 min"]


def test_a_doctor_who_may_not_compare_sees_only_their_own_row(history):
    doctors = sections(history, visible_doctor_ids=frozenset({history.doctor_a.pk}))[
        "patients-doctors"
    ]
    assert [row[0] for row in doctors.rows] == ["Dr Anita Rao", "Whole clinic"]
    assert doctors.rows[-1][1] == 6  # the clinic's totals stay visible
    assert "Only owners" in doctors.note


def test_a_day_at_the_edge_of_the_period_follows_the_clinics_time_zone(history):
    # a8 is at 00:10 on 4 March in Kolkata (18:40 on 3 March in UTC): the 4th, not the 3rd.
    only_4th = sections(history, period=ReportPeriod(date(2026, 3, 4), date(2026, 3, 4)))
    assert only_4th["patients-seen"].rows == [["4 Mar", 1]]
    only_3rd = sections(history, period=ReportPeriod(END, END))
    assert only_3rd["patients-seen"].rows == [["3 Mar", 2]]


def test_an_empty_period_shows_zeros_and_no_wait(history):
    empty = sections(history, period=ReportPeriod(date(2025, 1, 1), date(2025, 1, 2)))
    assert empty["patients-seen"].rows == [["1 Jan", 0], ["2 Jan", 0]]
    assert figures(empty["patients-waiting"])["Average wait"] == "-"
    assert empty["patients-waiting"].chart is None
    assert figures(empty["patients-attendance"])["No-shows"] == "0 (-)"


def test_a_long_period_is_charted_by_month_and_exported_by_day(history):
    year = sections(history, period=ReportPeriod(date(2026, 1, 1), date(2026, 12, 31)))
    seen = year["patients-seen"]
    assert seen.headers[0] == "Month"
    assert len(seen.rows) == 12
    assert seen.rows[1] == ["Feb 2026", 1] and seen.rows[2] == ["Mar 2026", 7]
    assert len(seen.csv_rows) == 365


def test_median_of_an_even_count_is_the_lower_middle_minute():
    waits = Waits()
    for minute in (3, 9, 15, 40):
        waits.add(minute, 1, minute * 60 + 30)
    assert waits.median == 9 * 60
    assert waits.average == pytest.approx((3 + 9 + 15 + 40) * 60 / 4 + 30)


def test_days_across_a_clock_change_follow_the_clinics_zone(clinic):
    # Clocks in London went forward on 29 March 2026: a period across it cannot use one offset.
    clinic.timezone = "Europe/London"
    clinic.save(update_fields=["timezone"])
    london = ZoneInfo("Europe/London")
    history = seed_history(clinic)
    with clinic_scope(clinic):
        appointment(
            clinic,
            history.patients[0],
            history.doctor_a,
            datetime(2026, 3, 30, 0, 30, tzinfo=london),  # 23:30 on the 29th in UTC
            AppointmentStatus.COMPLETED,
        )
    across = ReportQuery(clinic=clinic, period=ReportPeriod(date(2026, 3, 28), date(2026, 3, 30)))
    assert across.fixed_offset is None
    assert sections(history, period=across.period)["patients-seen"].rows == [
        ["28 Mar", 0],
        ["29 Mar", 0],
        ["30 Mar", 1],
    ]
    before = ReportQuery(clinic=clinic, period=ReportPeriod(START, END))
    assert before.fixed_offset == timedelta(0)
