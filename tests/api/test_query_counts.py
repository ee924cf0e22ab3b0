"""Query counts of the benchmarked endpoints, pinned (with an API key).

Each test warms the key first: its last-used time is written at most once every five minutes,
so a busy integrator's request does not pay for it. The clinic already has patients, so its
patient counter exists, as it does at any clinic in use.

pytest runs each test inside a transaction, so every `transaction.atomic` below it issues a
SAVEPOINT and a RELEASE SAVEPOINT; they are counted by django_assert_max_num_queries.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import LIST_URL, detail_url
from tests.factories import GuardianFactory

VALID = {
    "full_name": "Lakshmi Iyer",
    "sex": "F",
    "phone": "98450 12345",
    "date_of_birth": "1980-01-01",
}


@pytest.fixture
def warm_api(api, make_patient):
    make_patient()
    assert api.get(LIST_URL).status_code == 200
    return api


def _data_statements(queries) -> list[str]:
    """The statements that read or write rows (not SAVEPOINT / RELEASE SAVEPOINT)."""
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"].upper()]


def test_list_is_at_most_4_queries_for_5_or_50_patients(
    warm_api, make_patient, django_assert_max_num_queries
):
    for _ in range(4):
        make_patient(whatsapp_phone="+919845000000")
    with django_assert_max_num_queries(4) as few:
        assert len(warm_api.get(LIST_URL).json()["results"]) == 5
    for _ in range(45):
        make_patient()
    with CaptureQueriesContext(connection) as many:
        assert len(warm_api.get(LIST_URL, {"page_size": 50}).json()["results"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)
    with CaptureQueriesContext(connection) as searched:
        assert warm_api.get(LIST_URL, {"q": "98450 00000"}).status_code == 200
    assert len(searched.captured_queries) == len(few.captured_queries)


def test_detail_is_3_queries_plus_the_audit_insert(
    warm_api, make_patient, django_assert_max_num_queries
):
    mother = make_patient()
    child = make_patient(date_of_birth="2018-01-01")
    for guardian in (mother, make_patient()):
        GuardianFactory(patient=child, clinic=child.clinic, guardian_patient=guardian, name="")
    with django_assert_max_num_queries(4) as ctx:
        body = warm_api.get(detail_url(child.pk)).json()
    assert len(body["guardians"]) == 2
    assert sum("INSERT" in q["sql"] for q in ctx.captured_queries) == 1  # the audit event


def test_detail_of_a_patient_without_guardians_does_not_look_for_them_twice(
    warm_api, make_patient, django_assert_max_num_queries
):
    adult = make_patient()
    # The API key and the patient (with whether they have guardians), and the audit event.
    with django_assert_max_num_queries(3):
        body = warm_api.get(detail_url(adult.pk)).json()
    assert body["guardians"] == []


def test_create_is_at_most_8_queries(warm_api, django_assert_max_num_queries):
    # API key, duplicate check, counter, patient, audit event (+ the service's savepoint).
    with django_assert_max_num_queries(8):
        assert warm_api.post(LIST_URL, VALID, format="json").status_code == 201


def test_create_with_an_idempotency_key_reads_and_writes_at_most_8_times(warm_api):
    # API key, the key's record, whether the clinic is read-only (`clinics.guards`: its latest
    # subscription), duplicate check, counter, patient, audit event, the record. Around them:
    # the idempotency transaction's savepoint and the service's own (2 each here; in production
    # the outer one is the request's transaction and only the service's remains).
    with CaptureQueriesContext(connection) as ctx:
        response = warm_api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert response.status_code == 201
    assert len(_data_statements(ctx.captured_queries)) <= 8
    assert len(ctx.captured_queries) <= 12
    with CaptureQueriesContext(connection) as replay:
        again = warm_api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert again["Idempotent-Replayed"] == "true"
    # The API key, whether the clinic is read-only, and the record.
    assert len(_data_statements(replay.captured_queries)) == 3


def test_a_keys_last_use_is_written_at_most_every_five_minutes(api):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from clinics.models import ApiKey
    from clinics.tenancy import scopes_disabled

    def last_used():
        with scopes_disabled():
            return ApiKey.objects.get(pk=api.api_key.pk).last_used_at

    assert last_used() is None
    with CaptureQueriesContext(connection) as first:
        assert api.get(LIST_URL).status_code == 200
    seen = last_used()
    assert seen is not None
    assert any(q["sql"].startswith("UPDATE") for q in first.captured_queries)

    with CaptureQueriesContext(connection) as soon:
        assert api.get(LIST_URL).status_code == 200
    assert not any(q["sql"].startswith("UPDATE") for q in soon.captured_queries)
    assert last_used() == seen

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert api.get(LIST_URL).status_code == 200
        assert last_used() > seen
