"""The patients list: search, archived patients, htmx results, paging and query counts."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.factories import PatientFactory

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "patient-results"}


def list_url(clinic, **params):
    url = reverse("patient-list", args=[clinic.slug])
    if params:
        url += "?" + urlencode(params)
    return url


@pytest.fixture
def front_desk(clinic, member_factory):
    return member_factory(clinic, Role.FRONT_DESK)


@pytest.fixture
def lakshmi_and_ravi(clinic):
    with clinic_scope(clinic):
        lakshmi = PatientFactory(
            clinic=clinic, full_name="Lakshmi Iyer", phone="+919845012345", city="Mysuru"
        )
        ravi = PatientFactory(
            clinic=clinic, full_name="Ravi Shankar", phone="+919845054321", city="Hubballi"
        )
    return lakshmi, ravi


def test_list_shows_patients_with_number_name_phone_and_city(
    clinic, front_desk, client_for, lakshmi_and_ravi
):
    response = client_for(front_desk).get(list_url(clinic))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("P-000001", "Lakshmi Iyer", "+91 98450 12345", "Mysuru", "P-000002", "Female"):
        assert text in page
    assert "Register patient" in page


def test_archived_patients_are_hidden_unless_asked_for(
    clinic, front_desk, client_for, lakshmi_and_ravi
):
    lakshmi, _ = lakshmi_and_ravi
    with clinic_scope(clinic):
        lakshmi.archived_at = timezone.now()
        lakshmi.save()
    client = client_for(front_desk)

    page = client.get(list_url(clinic)).content.decode()
    assert "Ravi Shankar" in page
    assert "Lakshmi Iyer" not in page

    page = client.get(list_url(clinic, archived="on")).content.decode()
    assert "Lakshmi Iyer" in page
    assert "Archived" in page


@pytest.mark.parametrize(
    "query", ["laksh", "IYER", "98450 12345", "+91-98450-12345", "098450-12345", "P-000001"]
)
def test_search_finds_by_partial_name_phone_in_any_format_or_number(
    clinic, front_desk, client_for, lakshmi_and_ravi, query
):
    page = client_for(front_desk).get(list_url(clinic, q=query)).content.decode()
    assert "Lakshmi Iyer" in page
    assert "Ravi Shankar" not in page


def test_search_with_no_match_says_so(clinic, front_desk, client_for, lakshmi_and_ravi):
    page = client_for(front_desk).get(list_url(clinic, q="Zubair")).content.decode()
    assert "No patients match" in page
    assert "Lakshmi Iyer" not in page


def test_htmx_search_returns_only_the_results(clinic, front_desk, client_for, lakshmi_and_ravi):
    response = client_for(front_desk).get(list_url(clinic, q="ravi"), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ravi Shankar" in body
    assert "Lakshmi Iyer" not in body
    assert "<html" not in body
    assert 'type="search"' not in body
    assert "HX-Request" in response["Vary"]


def test_without_htmx_the_same_search_is_a_full_page(
    clinic, front_desk, client_for, lakshmi_and_ravi
):
    body = client_for(front_desk).get(list_url(clinic, q="ravi")).content.decode()
    assert "<html" in body
    assert 'type="search"' in body
    assert 'value="ravi"' in body
    assert "Ravi Shankar" in body


def test_list_pages_25_patients_at_a_time(clinic, front_desk, client_for):
    with clinic_scope(clinic):
        PatientFactory.create_batch(30, clinic=clinic)
    client = client_for(front_desk)

    first = client.get(list_url(clinic)).content.decode()
    assert "Page 1 · patients 1&ndash;25" in first
    assert "P-000030" in first and "P-000006" in first
    assert "P-000005" not in first
    assert "Next &rarr;" in first and "Previous" not in first

    second = client.get(list_url(clinic, page=2)).content.decode()
    assert "P-000005" in second and "P-000001" in second
    assert "P-000006" not in second
    assert "Page 2 · patients 26&ndash;30" in second
    assert "Next &rarr;" not in second and "&larr; Previous" in second

    # A page past the end, or nonsense, shows the first page rather than an error.
    for page in (9, "x", -3):
        beyond = client.get(list_url(clinic, page=page))
        assert beyond.status_code == 200
        assert "P-000030" in beyond.content.decode()


def test_list_never_counts_all_patients(clinic, front_desk, client_for):
    with clinic_scope(clinic):
        PatientFactory.create_batch(3, clinic=clinic)
    client = client_for(front_desk)
    with CaptureQueriesContext(connection) as queries:
        client.get(list_url(clinic))
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def _list_queries(client, clinic) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(list_url(clinic))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_patients(clinic, front_desk, client_for):
    client = client_for(front_desk)
    with clinic_scope(clinic):
        PatientFactory.create_batch(5, clinic=clinic)
    _list_queries(client, clinic)  # the first page view also remembers the clinic
    with_five = _list_queries(client, clinic)
    with clinic_scope(clinic):
        PatientFactory.create_batch(45, clinic=clinic)
    with_fifty = _list_queries(client, clinic)
    assert with_fifty == with_five


def test_billing_sees_the_list_without_the_register_button(
    clinic, member_factory, client_for, lakshmi_and_ravi
):
    response = client_for(member_factory(clinic, Role.BILLING)).get(list_url(clinic))
    assert response.status_code == 200
    assert "Lakshmi Iyer" in response.content.decode()
    assert "Register patient" not in response.content.decode()


def test_list_shows_only_this_clinics_patients(
    clinic, other_clinic, front_desk, client_for, lakshmi_and_ravi
):
    with clinic_scope(other_clinic):
        PatientFactory(clinic=other_clinic, full_name="Someone Elsewhere")
    page = client_for(front_desk).get(list_url(clinic)).content.decode()
    assert "Lakshmi Iyer" in page
    assert "Someone Elsewhere" not in page
