"""GET /api/v1/patients/: newest first, search, cursor pages, archived patients, query counts."""

from __future__ import annotations

import base64
from datetime import date

from django.utils import timezone

from patients.api.serializers import PatientListItemSerializer
from tests.api.conftest import LIST_URL, assert_error


def _all_pages(client, url):
    rows, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        url, pages = body["next"], pages + 1
    return rows, pages


def test_list_shows_newest_first_with_the_documented_fields(api, make_patient):
    older = make_patient(full_name="Lakshmi Iyer", phone="+919845012345", city="Mysuru")
    newer = make_patient(
        full_name="Arjun Rao", date_of_birth=date(2016, 3, 1), whatsapp_phone="+919845099999"
    )
    body = api.get(LIST_URL).json()
    assert set(body) == {"next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    row = body["results"][1]
    assert set(row) == set(PatientListItemSerializer().fields)
    assert row["number"] == "P-000001"
    assert row["phone"] == "+919845012345"
    assert row["whatsapp_phone"] == ""
    assert row["city"] == "Mysuru"
    assert row["date_of_birth"] == "1985-06-15"
    assert row["archived"] is False
    assert row["is_minor"] is False
    child = body["results"][0]
    assert child["number"] == "P-000002"
    assert child["is_minor"] is True
    assert child["whatsapp_phone"] == "+919845099999"
    today = timezone.localdate()
    assert child["age"] == today.year - 2016 - ((today.month, today.day) < (3, 1))


def test_search_by_name_phone_in_any_format_and_patient_number(api, make_patient):
    lakshmi = make_patient(full_name="Lakshmi Iyer", phone="+919845012345")
    ravi = make_patient(full_name="Ravi Shankar", phone="+919845054321")
    make_patient(full_name="Meena Kumari")

    def found(q):
        response = api.get(LIST_URL, {"q": q})
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert found("lakshmi") == [lakshmi.pk]
    assert found("SHANKAR") == [ravi.pk]
    assert found("98450 12345") == [lakshmi.pk]
    assert found("+91-98450-54321") == [ravi.pk]
    assert found("098450 12345") == [lakshmi.pk]
    assert found("P-000002") == [ravi.pk]
    assert found("p1") == [lakshmi.pk]
    assert found("nobody like this") == []


def test_cursor_pages_walk_every_patient_once(api, make_patient):
    created = [make_patient().pk for _ in range(45)]
    rows, pages = _all_pages(api, LIST_URL)
    ids = [row["id"] for row in rows]
    assert pages == 3
    assert len(ids) == len(set(ids)) == 45
    assert ids == sorted(created, reverse=True)


def test_page_size_is_chosen_by_the_caller_up_to_100(api, make_patient):
    for _ in range(7):
        make_patient()
    rows, pages = _all_pages(api, f"{LIST_URL}?page_size=3")
    assert (len(rows), pages) == (7, 3)
    first = api.get(LIST_URL, {"page_size": 3}).json()
    assert first["previous"] is None and "page_size=3" in first["next"]
    second = api.get(first["next"]).json()
    assert [r["id"] for r in api.get(second["previous"]).json()["results"]] == [
        r["id"] for r in first["results"]
    ]
    assert len(api.get(LIST_URL, {"page_size": 1000}).json()["results"]) == 7


def test_a_patient_registered_while_paging_does_not_shift_the_pages(api, make_patient):
    for _ in range(4):
        make_patient()
    first = api.get(LIST_URL, {"page_size": 2}).json()
    make_patient()
    second = api.get(first["next"]).json()
    seen = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(seen)) == 4


def test_a_tampered_cursor_is_404_not_a_crash(api, make_patient):
    make_patient()
    bad = base64.b64encode(b"o=0&r=0&p=1 OR 1=1").decode()
    assert_error(api.get(LIST_URL, {"cursor": bad}), 404, "not_found")


def test_archived_patients_are_hidden_unless_asked_for(api, make_patient):
    kept = make_patient(full_name="Kept Patient")
    gone = make_patient(full_name="Gone Patient")
    assert api.post(f"/api/v1/patients/{gone.pk}/archive/").status_code == 200

    ids = [r["id"] for r in api.get(LIST_URL).json()["results"]]
    assert ids == [kept.pk]
    assert api.get(LIST_URL, {"q": "gone"}).json()["results"] == []
    everyone = api.get(LIST_URL, {"include_archived": "true"}).json()["results"]
    assert {r["id"]: r["archived"] for r in everyone} == {kept.pk: False, gone.pk: True}
    body = assert_error(api.get(LIST_URL, {"include_archived": "maybe"}), 400, "invalid")
    assert "include_archived" in body["fields"]


def test_another_clinics_patients_are_not_listed(api, make_patient, other_clinic):
    make_patient(other_clinic, full_name="Elsewhere Patient")
    assert api.get(LIST_URL).json()["results"] == []
    assert api.get(LIST_URL, {"q": "Elsewhere"}).json()["results"] == []
