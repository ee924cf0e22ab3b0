"""The data-rights pages in Hindi: an owner who picked हिन्दी reads the rights desk, a request,
the patient's requests, retention, the patient's data and an erasure's dry run in Hindi, with
no English sentence left over (English stays the default)."""

from __future__ import annotations

import pytest
from django.conf import settings

from compliance.erasure.models import Erasure
from compliance.models import RightsKind
from compliance.rights.services import rights_request_create

pytestmark = pytest.mark.django_db


def hindi(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hi"
    return client


def english_left(page: str, sentences) -> list[str]:
    return [sentence for sentence in sentences if sentence in page]


@pytest.fixture
def request_(scoped, owner, recent_patient):
    return rights_request_create(
        clinic=scoped, actor=owner.user, kind=RightsKind.CORRECTION, patient=recent_patient
    )


def test_the_rights_desk_and_a_request_in_hindi(scoped, owner, client_for, request_):
    client = client_for(owner)
    base = f"/c/{scoped.slug}/compliance/rights/"
    assert "Data requests" in client.get(base).content.decode()  # English by default

    client = hindi(client)
    desk = client.get(base).content.decode()
    assert '<html lang="hi">' in desk
    assert "डेटा अनुरोध" in desk and "ज़िम्मेदार व्यक्ति" in desk and "सुधार" in desk
    assert "<th>अंतिम तारीख़</th>" in desk and "बकाया" not in desk  # a date, not money owed
    assert english_left(desk, ["Data requests", "Patients' requests", "Overdue", "Owner"]) == []
    assert 'href="?show=overdue">समय निकल चुका' in desk  # the filter keeps its English key

    detail = client.get(f"{base}{request_.pk}/").content.decode()
    assert "पहचान की जाँच दर्ज करें" in detail and "स्थिति बदलें" in detail
    assert "पहचान कैसे जाँची गई" in detail and "ID के आख़िरी 4 अक्षर" in detail
    assert (
        english_left(
            detail,
            [
                "Handle the request",
                "Record the identity check",
                "How identity was checked",
                "Send a one-time code",
                "Propose the correction",
                "Change the status",
                "Timeline",
            ],
        )
        == []
    )

    response = client.post(f"{base}{request_.pk}/status/", {"status": "nonsense"})
    assert response.status_code == 400
    assert "Select a valid choice" not in response.content.decode()
    # The service's refusal comes in the staff member's language too.
    response = client.post(f"{base}{request_.pk}/verify/", {"method": "in_person_id"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "दिखाए गए ID का प्रकार चुनें।" in page and "Choose the kind of ID shown." not in page


def test_the_patient_s_requests_retention_data_and_erasure_in_hindi(
    scoped, owner, client_for, recent_patient
):
    client = hindi(client_for(owner))
    rights = client.get(
        f"/c/{scoped.slug}/compliance/patients/{recent_patient.pk}/rights/"
    ).content.decode()
    assert "अनुरोध दर्ज करें" in rights and "नॉमिनी का नाम" in rights
    assert english_left(rights, ["Record a request", "Nominee's name", "What the patient"]) == []

    retention = client.get(f"/c/{scoped.slug}/compliance/retention/").content.decode()
    assert "रिकॉर्ड कितने समय तक रखे जाते हैं" in retention and "लीगल होल्ड" in retention
    assert "क्लिनिकल रिकॉर्ड" in retention and "बिल, रसीदें और भुगतान" in retention
    assert (
        english_left(
            retention,
            ["How long records are kept", "Legal holds", "Set the hold", "Clinical records"],
        )
        == []
    )

    data = client.get(
        f"/c/{scoped.slug}/compliance/patients/{recent_patient.pk}/data/"
    ).content.decode()
    assert "प्रति तैयार करें" in data and "देखें कि मिटाने से क्या होगा" in data
    assert english_left(data, ["Prepare a copy", "See what an erasure would do"]) == []

    client.post(f"/c/{scoped.slug}/compliance/patients/{recent_patient.pk}/erasure/")
    erasure = Erasure.objects.get()
    dry_run = client.get(f"/c/{scoped.slug}/compliance/erasures/{erasure.pk}/").content.decode()
    assert "अभी मिटाएँ" in dry_run and "इसे पलटा नहीं जा सकता" in dry_run
    assert english_left(dry_run, ["Erase now", "This cannot be undone", "Must be kept"]) == []
