"""The reports page: who may open it, the period chooser, the CSV files, the charts, and a
query count that does not grow with the clinic's history."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.charts import BarChart, Series, bar_chart_svg, nice_ceiling
from clinics.registry import report_sources
from clinics.reports import Preset, ReportPeriod, ReportQuery, csv_cell, preset_period
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import AppointmentStatus
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.report_data import (
    END,
    PERIOD,
    START,
    appointment,
    at,
    seed_history,
    seed_other_clinic,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(clinic, other_clinic):
    seed_other_clinic(other_clinic)
    return seed_history(clinic)


def url(name="reports"):
    return reverse(name, args=["asha"])


def csv_of(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- who may see it ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 200),
        (Role.DOCTOR, 200),
        (Role.ASSISTANT, 403),
        (Role.FRONT_DESK, 403),
        (Role.BILLING, 403),
    ],
)
def test_reports_are_for_owners_and_doctors(clinic, member_factory, client_for, role, status):
    client = client_for(member_factory(clinic, role))
    assert client.get(url()).status_code == status
    assert client.get(url("report-csv"), {"section": "patients-seen"}).status_code == status
    menu = client.get(reverse("dashboard", args=["asha"])).content.decode()
    assert (f'href="{url()}"' in menu) == (status == 200)


def test_owner_sees_every_doctor_and_may_narrow_to_one(history, owner, client_for):
    client = client_for(owner)
    page = client.get(url(), PERIOD).content.decode()
    assert "Dr Anita Rao" in page and "Dr Bharat Shah" in page
    narrowed = client.get(url(), {**PERIOD, "doctor": history.doctor_b.pk})
    assert narrowed.status_code == 200
    assert narrowed.context["query"].doctor_id == history.doctor_b.pk


def test_a_doctor_sees_the_clinic_and_their_own_row_but_not_a_colleagues(history, client_for):
    client = client_for(history.doctor_a)
    response = client.get(url(), PERIOD)
    table = next(s for s in response.context["sections"] if s["section"].slug == "patients-doctors")
    assert [row[0] for row in table["section"].rows] == ["Dr Anita Rao", "Whole clinic"]
    colleague = client.get(url(), {**PERIOD, "doctor": history.doctor_b.pk})
    assert colleague.status_code == 400
    assert "Select a valid choice" in colleague.content.decode()
    own = client.get(url(), {**PERIOD, "doctor": history.doctor_a.pk})
    assert own.status_code == 200


def test_another_clinics_data_is_never_counted(history, client_for, owner):
    rows = csv_of(client_for(owner).get(url("report-csv"), {**PERIOD, "section": "patients-seen"}))
    assert rows == [["date", "seen"], ["2026-03-01", "3"], ["2026-03-02", "1"], ["2026-03-03", "2"]]


# --- the period -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "custom", "date_from": "2026-03-05", "date_to": "2026-03-01"}, "before"),
        ({"period": "custom", "date_from": "2024-01-01", "date_to": "2026-03-01"}, "two years"),
        ({"period": "custom", "date_from": "1800-01-01", "date_to": "1800-01-02"}, "Give a date"),
        ({"period": "custom", "date_from": "2026-13-45", "date_to": "2026-03-01"}, "valid date"),
        ({"period": "custom", "date_from": "9999-12-31", "date_to": "9999-12-31"}, "Give a date"),
        ({"period": "custom"}, "both dates"),
        ({"period": "next_century"}, "Select a valid choice"),
        ({"period": "today", "doctor": "abc"}, "Select a valid choice"),
    ],
)
def test_a_bad_period_is_a_form_error_never_a_crash(owner, client_for, params, message):
    client = client_for(owner)
    response = client.get(url(), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert client.get(url("report-csv"), {**params, "section": "patients-seen"}).status_code == 400


def test_two_years_is_the_longest_period(owner, client_for):
    client = client_for(owner)
    ok = client.get(url(), {"period": "custom", "date_from": "2024-03-01", "date_to": "2026-02-28"})
    assert ok.status_code == 200


def test_dates_alone_mean_a_custom_period_and_no_choice_means_the_last_week(owner, client_for):
    client = client_for(owner)
    response = client.get(url(), {"date_from": "2026-03-01", "date_to": "2026-03-03"})
    assert response.context["query"].period == ReportPeriod(date(2026, 3, 1), date(2026, 3, 3))
    default = client.get(url()).context["query"].period
    assert default.days == 7


@pytest.mark.parametrize(
    ("preset", "today", "start", "end"),
    [
        (Preset.TODAY, date(2027, 1, 15), date(2027, 1, 15), date(2027, 1, 15)),
        (Preset.LAST_7_DAYS, date(2027, 1, 3), date(2026, 12, 28), date(2027, 1, 3)),
        (Preset.THIS_MONTH, date(2027, 1, 15), date(2027, 1, 1), date(2027, 1, 15)),
        (Preset.LAST_MONTH, date(2027, 1, 15), date(2026, 12, 1), date(2026, 12, 31)),
        (Preset.LAST_MONTH, date(2028, 3, 31), date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_presets(preset, today, start, end):
    assert preset_period(preset, today) == ReportPeriod(start, end)


# --- CSV --------------------------------------------------------------------------------------
def test_each_section_downloads_as_csv(history, owner, client_for):
    client = client_for(owner)
    response = client.get(url("report-csv"), {**PERIOD, "section": "patients-doctors"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="patients-doctors-2026-03-01-2026-03-03.csv"'
    )
    rows = csv_of(response)
    assert rows[0] == [
        "Doctor",
        "Seen",
        "New",
        "Follow-up",
        "No-shows",
        "Cancelled",
        "Average wait",
        "Median wait",
    ]
    assert rows[-1] == ["Whole clinic", "6", "3", "3", "1", "1", "17 min", "12 min"]
    page = client.get(url(), PERIOD).content.decode()
    for slug in ("patients-seen", "patients-doctors", "patients-waiting", "messaging-reminders"):
        assert f"section={slug}" in page
    missing = client.get(url("report-csv"), {**PERIOD, "section": "nothing"})
    assert missing.status_code == 404


def test_a_name_a_spreadsheet_would_run_is_neutralised(clinic, owner, client_for):
    with clinic_scope(clinic):
        evil = UserFactory(full_name='=HYPERLINK("http://x")')
        doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR, user=evil)
        appointment(
            clinic, PatientFactory(clinic=clinic), doctor, at(1, 10), AppointmentStatus.COMPLETED
        )
    rows = csv_of(
        client_for(owner).get(url("report-csv"), {**PERIOD, "section": "patients-doctors"})
    )
    assert rows[1][0] == '\'=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+91", "'+91"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Dr Rao", "Dr Rao"),
        (-5, -5),
        (date(2026, 3, 1), "2026-03-01"),
        (None, ""),
    ],
)
def test_csv_cells(value, cell):
    assert csv_cell(value) == cell


# --- charts -----------------------------------------------------------------------------------
def test_charts_are_inline_svg_with_a_title_a_description_and_a_table(history, owner, client_for):
    page = client_for(owner).get(url(), PERIOD).content.decode()
    assert '<svg class="bar-chart"' in page
    assert 'role="img"' in page and '<title id="chart-patients-seen-title">' in page
    assert '<desc id="chart-patients-seen-desc">' in page
    assert "<script" not in page.split("<main")[1]  # no chart library
    assert '<th scope="row">1 Mar</th><td>3</td>' in page


def test_bar_heights_follow_the_values():
    shapes = bar_chart_svg(
        BarChart(title="t", desc="d", labels=["a", "b"], series=[Series("Seen", [5, 10])])
    )
    full = shapes.baseline - 12  # the plot's height: the top of the scale is 10
    assert [b.height for b in shapes.bars] == [pytest.approx(full / 2), pytest.approx(full)]
    assert shapes.ticks[-1].label == "10"
    assert nice_ceiling(0) == 1 and nice_ceiling(7) == 10 and nice_ceiling(230) == 250


# --- queries ----------------------------------------------------------------------------------
def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(), params).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_the_data(history, owner, client_for):
    client = client_for(owner)
    params = {"period": "custom", "date_from": "2026-01-01", "date_to": "2026-12-31"}
    client.get(url(), params)  # the first request of a session does more (its settings)
    before = _queries(client, params)
    clinic = history.clinic
    with clinic_scope(clinic):
        for i in range(40):
            appointment(
                clinic,
                history.patients[i % 5],
                history.doctor_a if i % 2 else history.doctor_b,
                at(1, 8) + timedelta(days=i * 7, minutes=i),
                AppointmentStatus.COMPLETED,
                checked_in_at=at(1, 8) + timedelta(days=i * 7),
                started_at=at(1, 8) + timedelta(days=i * 7, minutes=i),
            )
    assert _queries(client, params) == before
    # session, user, membership, doctors, three for patients, one for reminders, the banner,
    # and the reports' transaction (a savepoint here, SET LOCAL jit on PostgreSQL)
    assert before <= 12


def test_a_csv_file_runs_only_the_source_it_comes_from(history, owner, client_for):
    client = client_for(owner)
    client.get(url(), PERIOD)
    page = _queries(client, PERIOD)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url("report-csv"), {**PERIOD, "section": "messaging-reminders"})
    assert response.status_code == 200
    assert len(captured) <= page - 3  # not the patients' three queries
    assert not any("patients_appointment" in q["sql"] for q in captured)


def test_every_section_is_declared_by_its_source(history):
    query = ReportQuery(clinic=history.clinic, period=ReportPeriod(START, END))
    with clinic_scope(history.clinic):
        for source in report_sources:
            assert [s.slug for s in source.load(query=query)] == list(source.slugs)
