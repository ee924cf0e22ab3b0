"""Medical certificates (IMC 2002 reg. 1.3.3): numbered in sequence per year, issued at the
server's time, never back-dated, corrected by a new certificate and revoked with a reason, all
kept in the register; the printed PDF, the register's CSV export, and who may do what."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clinics.audit import Actions
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients import services
from patients.models import (
    CertificateKind,
    CertificateStatus,
    Document,
    DocumentStatus,
    MedicalCertificate,
    Visit,
)
from patients.services.certificates import (
    certificate_correct,
    certificate_issue,
    certificate_register_export,
    certificate_revoke,
)
from patients.tasks import render_document
from tests.factories import ClinicFactory, DoctorProfileFactory, PatientFactory
from tests.patients.conftest import by

# 10:30 am in Bengaluru on a Monday.
NOW = datetime(2026, 3, 9, 5, 0, tzinfo=UTC)
TODAY = date(2026, 3, 9)
MARK = "Mole on the left cheek"


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def pdf_text(document: Document) -> str:
    document = Document.objects.get(pk=document.pk)  # as the worker left it
    assert document.status == DocumentStatus.READY, document.problem
    with document.file.open("rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def page_text(response) -> str:
    return response.content.decode()


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def sick_note(**overrides):
    values = {
        "kind": CertificateKind.SICKNESS,
        "effective_from": TODAY,
        "effective_to": TODAY + timedelta(days=2),
        "condition": "Acute viral fever",
        "identification_mark": MARK,
    }
    values.update(overrides)
    return values


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def issue(doctor, patient, django_capture_on_commit_callbacks):
    """issue(**fields) -> a certificate for `patient` by `doctor`, its PDF rendered."""

    def make(member=None, who=None, **overrides):
        with django_capture_on_commit_callbacks(execute=True):
            return certificate_issue(
                patient=who or patient, **sick_note(**overrides), **by(member or doctor)
            )

    return make


@pytest.fixture
def other_doctor(scoped):
    return DoctorProfileFactory(
        membership__clinic=scoped,
        membership__user__full_name="Vikram Shetty",
        registration_number="KMC-11111",
    ).membership


def visit_on(doctor, patient, day: date) -> Visit:
    """A visit of `patient` whose examination took place on `day` (clinic time)."""
    visit = Visit.objects.create(clinic=doctor.clinic, patient=patient, doctor=doctor)
    at = datetime(day.year, day.month, day.day, 11, 0, tzinfo=doctor.clinic.tzinfo)
    Visit.objects.filter(pk=visit.pk).update(created_at=at)
    return reload(visit)


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.errors


# ---------------------------------------------------------------------------------------------
# Numbering and the issue time


def test_numbers_run_in_sequence_and_start_again_in_a_new_year(scoped, issue):
    # 10:30 pm on 31 December in Bengaluru...
    with time_machine.travel(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        first = issue(effective_from=date(2026, 12, 31), effective_to=date(2027, 1, 2))
        second = issue(effective_from=date(2026, 12, 31), effective_to=date(2027, 1, 2))
    # ...and half past midnight on 1 January there, while it is still 2026 in UTC.
    with time_machine.travel(datetime(2026, 12, 31, 19, 0, tzinfo=UTC), tick=False):
        new_year = issue(effective_from=date(2027, 1, 1), effective_to=date(2027, 1, 3))
        next_one = issue(effective_from=date(2027, 1, 1), effective_to=date(2027, 1, 3))
    assert [c.number for c in (first, second, new_year, next_one)] == [
        "MC/2026/00001",
        "MC/2026/00002",
        "MC/2027/00001",
        "MC/2027/00002",
    ]


def test_a_refused_certificate_takes_no_number(scoped, clock, issue):
    with pytest.raises(ValidationFailed):
        issue(effective_from=TODAY - timedelta(days=1))
    assert issue().number == "MC/2026/00001"


def test_the_issue_time_is_the_servers_even_if_the_form_posts_one(
    scoped, clock, doctor, patient, client_for, django_capture_on_commit_callbacks
):
    client = client_for(doctor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(scoped, "certificate-new", patient.pk),
            {
                "kind": "sickness",
                "effective_from": TODAY.isoformat(),
                "effective_to": (TODAY + timedelta(days=2)).isoformat(),
                "condition": "Acute viral fever",
                "identification_mark": MARK,
                "issued_at": "2025-01-01T09:00",
                "year": "2025",
                "serial": "77",
            },
        )
    certificate = MedicalCertificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(scoped, "certificate-detail", certificate.pk)
    assert certificate.issued_at == NOW
    assert certificate.number == "MC/2026/00001"
    page = page_text(client.get(response["Location"]))
    assert "Certificate MC/2026/00001 issued." in page
    assert "9 Mar 2026, 10:30 am" in page


def test_issuing_writes_one_audit_event(scoped, clock, issue):
    certificate = issue()
    events = AuditEvent.objects.filter(action=Actions.CERTIFICATE_ISSUED)
    assert [(e.target_id, e.data["number"]) for e in events] == [
        (str(certificate.pk), "MC/2026/00001")
    ]


# ---------------------------------------------------------------------------------------------
# No back-dating, and what each kind needs


def test_without_a_visit_a_certificate_cannot_take_effect_before_today(scoped, clock, issue):
    with pytest.raises(ValidationFailed) as exc:
        issue(effective_from=TODAY - timedelta(days=1))
    [message] = errors_of(exc)["effective_from"]
    assert "cannot be back-dated" in message and "9 Mar 2026" in message
    assert not MedicalCertificate.objects.exists()


def test_with_a_visit_it_may_start_on_the_day_of_the_examination_but_not_before(
    scoped, clock, doctor, patient, issue
):
    visit = visit_on(doctor, patient, TODAY - timedelta(days=3))
    with pytest.raises(ValidationFailed) as exc:
        issue(visit=visit, effective_from=TODAY - timedelta(days=4))
    [message] = errors_of(exc)["effective_from"]
    assert "cannot be back-dated" in message and "6 Mar 2026" in message
    certificate = issue(visit=visit, effective_from=TODAY - timedelta(days=3))
    assert certificate.effective_from == date(2026, 3, 6)
    assert certificate.issued_at == NOW  # the issue date stays today's


def test_a_corrected_visit_still_counts_from_the_day_of_the_examination(
    scoped, clock, doctor, patient, issue
):
    examined = visit_on(doctor, patient, TODAY - timedelta(days=2))
    Visit.objects.filter(pk=examined.pk).update(superseded_at=NOW)
    correction = Visit.objects.create(  # the visit's notes corrected today: a new version
        clinic=scoped, patient=patient, doctor=doctor, amends=examined, version=2
    )
    certificate = issue(visit=correction, effective_from=TODAY - timedelta(days=2))
    assert certificate.effective_from == date(2026, 3, 7)
    assert "on 7 Mar 2026" in pdf_text(certificate.document)


def test_a_certificate_can_start_at_most_30_days_ahead(scoped, clock, issue):
    far = TODAY + timedelta(days=31)
    with pytest.raises(ValidationFailed) as exc:
        issue(effective_from=far, effective_to=far + timedelta(days=1))
    assert "at most 30 days ahead" in errors_of(exc)["effective_from"][0]
    soon = TODAY + timedelta(days=30)
    assert issue(effective_from=soon, effective_to=soon).rest_days == 1


def test_a_sickness_certificate_needs_the_rest_period_and_the_condition(scoped, clock, issue):
    with pytest.raises(ValidationFailed) as exc:
        issue(effective_to=None, condition="  ")
    assert errors_of(exc)["effective_to"] == ["Give the last day of rest advised."]
    assert "condition" in errors_of(exc)["condition"][0]

    with pytest.raises(ValidationFailed) as exc:
        issue(effective_to=TODAY - timedelta(days=1))
    assert errors_of(exc)["effective_to"] == ["The last day cannot be before the first day."]

    with pytest.raises(ValidationFailed) as exc:
        issue(effective_to=TODAY + timedelta(days=90))
    assert "at most 90 days" in errors_of(exc)["effective_to"][0]
    assert "91 days" in errors_of(exc)["effective_to"][0]

    assert issue(effective_to=TODAY + timedelta(days=89)).rest_days == 90


def test_a_fitness_certificate_has_no_last_day(scoped, clock, issue):
    with pytest.raises(ValidationFailed) as exc:
        issue(kind=CertificateKind.FITNESS, condition="")
    assert "leave the last day empty" in errors_of(exc)["effective_to"][0]
    certificate = issue(kind=CertificateKind.FITNESS, effective_to=None, condition="")
    assert certificate.effective_to is None and certificate.rest_days is None
    assert "Fit to resume duties from 9 Mar 2026" in pdf_text(certificate.document)


def test_the_identification_mark_is_required(scoped, clock, issue):
    with pytest.raises(ValidationFailed) as exc:
        issue(identification_mark="   ")
    assert "identification mark" in errors_of(exc)["identification_mark"][0]


def test_another_patients_visit_and_an_archived_patient_are_refused(
    scoped, clock, doctor, patient, issue
):
    someone_else = PatientFactory(clinic=scoped)
    with pytest.raises(ValidationFailed) as exc:
        issue(visit=visit_on(doctor, someone_else, TODAY))
    assert errors_of(exc)["visit"] == ["That visit belongs to another patient."]

    services.patient_archive(patient=patient, actor=doctor.user)
    with pytest.raises(ValidationFailed) as exc:
        issue()
    assert "archived" in errors_of(exc)["__all__"][0]


def test_only_a_doctor_with_a_registration_number_can_issue(
    scoped, clock, doctor, patient, assistant, issue, member_factory, client_for
):
    with pytest.raises(NotAllowed):
        issue(member=assistant)
    owner = member_factory(scoped, Role.OWNER)  # may issue, but has no doctor profile
    with pytest.raises(DomainError) as exc:
        issue(member=owner)
    assert exc.value.code == "no_registration_number"
    assert "registration number" in exc.value.message

    client = client_for(owner)
    form_page = page_text(client.get(url(scoped, "certificate-new", patient.pk)))
    assert "You cannot issue certificates yet" in form_page
    response = client.post(url(scoped, "certificate-new", patient.pk), sick_note())
    assert response.status_code == 400
    assert "no medical registration number" in page_text(response)
    assert not MedicalCertificate.objects.exists()


def test_the_form_shows_the_services_messages_next_to_the_fields(
    scoped, clock, doctor, patient, client_for
):
    response = client_for(doctor).post(
        url(scoped, "certificate-new", patient.pk),
        {
            "kind": "sickness",
            "effective_from": (TODAY - timedelta(days=2)).isoformat(),
            "identification_mark": MARK,
        },
    )
    assert response.status_code == 400
    page = page_text(response)
    assert "Nothing was saved yet" in page
    assert "A certificate cannot be back-dated" in page
    assert "Give the last day of rest advised." in page
    assert not MedicalCertificate.objects.exists()


# ---------------------------------------------------------------------------------------------
# The printed certificate


def test_the_pdf_carries_what_the_law_asks_for(scoped, clock, doctor, patient, issue):
    patient.address = "14, 2nd Main, Basavanagudi"
    patient.city = "Bengaluru"
    patient.save()
    certificate = issue(purpose="Infosys, Electronic City")
    document = reload(certificate.document)
    assert document.status == DocumentStatus.READY
    assert document.title == "Medical certificate MC/2026/00001"
    text = pdf_text(document)
    for expected in (
        "MC/2026/00001",
        "Medical certificate of sickness",
        "Kavya Reddy",
        MARK,
        "14, 2nd Main, Basavanagudi",
        "Acute viral fever",
        "3 days",
        "9 Mar 2026",
        "11 Mar 2026",
        "9 Mar 2026, 10:30 am",
        "Infosys, Electronic City",
        "Signature or thumb mark of the patient",
        "Anita Rao",
        "KMC-45678",
        "Karnataka Medical Council",
    ):
        assert expected in text, expected
    assert certificate.patient_address.startswith("14, 2nd Main, Basavanagudi, Bengaluru")


def test_a_correction_says_which_certificate_it_corrects(scoped, clock, doctor, issue, capture):
    first = issue()
    with capture(execute=True):
        second = certificate_correct(
            certificate=first,
            **sick_note(effective_to=TODAY + timedelta(days=4)),
            reason="Rest period was too short",
            **by(doctor),
        )
    text = pdf_text(reload(second.document))
    assert "MC/2026/00002" in text
    assert "corrects certificate MC/2026/00001" in text
    assert "5 days" in text


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


# ---------------------------------------------------------------------------------------------
# Corrections and revocations stay in the register; the QR code tells the truth


def test_a_correction_is_a_new_certificate_that_supersedes_the_old(
    scoped, clock, doctor, issue, capture, client
):
    old = issue()
    with pytest.raises(ValidationFailed) as exc:
        certificate_correct(certificate=old, **sick_note(), reason=" ", **by(doctor))
    assert "reason" in errors_of(exc)
    with capture(execute=True):
        new = certificate_correct(
            certificate=old,
            **sick_note(condition="Acute gastroenteritis"),
            reason="Wrong diagnosis typed",
            **by(doctor),
        )
    old.refresh_from_db()
    assert new.number == "MC/2026/00002" and new.supersedes == old
    assert old.status == CertificateStatus.SUPERSEDED
    assert new.status == CertificateStatus.ISSUED
    new_doc, old_doc = reload(new.document), reload(old.document)
    assert new_doc.supersedes == old_doc and old_doc.superseded_at is not None
    old_page = page_text(client.get(reverse("document-verify", args=[old_doc.verify_token])))
    new_page = page_text(client.get(reverse("document-verify", args=[new_doc.verify_token])))
    assert "Superseded" in old_page and "Valid" in new_page
    assert "Anita Rao" in new_page and "Kavya Reddy" not in new_page
    [event] = AuditEvent.objects.filter(action=Actions.CERTIFICATE_ISSUED, target_id=str(new.pk))
    assert event.data["corrects"] == "MC/2026/00001"

    with pytest.raises(DomainError) as exc:
        certificate_correct(certificate=old, **sick_note(), reason="Again", **by(doctor))
    assert "already corrected by MC/2026/00002" in exc.value.message


def test_a_correction_keeps_the_start_date_the_original_could_have(scoped, doctor, issue, capture):
    with time_machine.travel(NOW, tick=False):
        old = issue()
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        with pytest.raises(ValidationFailed) as exc:
            certificate_correct(
                certificate=old,
                **sick_note(effective_from=TODAY - timedelta(days=1)),
                reason="Dates",
                **by(doctor),
            )
        assert "cannot be back-dated" in errors_of(exc)["effective_from"][0]
        with capture(execute=True):
            new = certificate_correct(certificate=old, **sick_note(), reason="Dates", **by(doctor))
    assert new.effective_from == TODAY
    assert timezone.localtime(new.issued_at, scoped.tzinfo).date() == date(2026, 3, 11)


def test_only_the_issuing_doctor_corrects_and_a_colleague_cannot_revoke(
    scoped, clock, issue, other_doctor, member_factory, client_for
):
    certificate = issue()
    with pytest.raises(NotAllowed) as exc:
        certificate_correct(
            certificate=certificate, **sick_note(), reason="Typo", **by(other_doctor)
        )
    assert "Only Dr Anita Rao" in exc.value.message
    with pytest.raises(NotAllowed):
        certificate_revoke(certificate=certificate, reason="Wrong", **by(other_doctor))
    # The message is shown on the page, not as a refusal of the page itself.
    response = client_for(other_doctor).post(
        url(scoped, "certificate-revoke", certificate.pk), {"reason": "Wrong"}
    )
    assert response.status_code == 400
    assert "Only Dr Anita Rao" in page_text(response)
    owner = member_factory(scoped, Role.OWNER)
    revoked = certificate_revoke(certificate=certificate, reason="Doctor left", **by(owner))
    assert revoked.status == CertificateStatus.REVOKED


def test_a_revoked_certificate_stays_in_the_register_and_its_qr_says_revoked(
    scoped, clock, doctor, issue, client_for, client
):
    certificate = issue()
    kept = issue()
    web = client_for(doctor)
    refused = web.post(url(scoped, "certificate-revoke", certificate.pk), {"reason": ""})
    assert refused.status_code == 400
    assert "Say why the certificate is being revoked." in page_text(refused)

    response = web.post(
        url(scoped, "certificate-revoke", certificate.pk), {"reason": "Issued to the wrong patient"}
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_at == NOW
    assert certificate.revoked_reason == "Issued to the wrong patient"
    document = reload(certificate.document)
    assert document.revoked_at == NOW
    verify = page_text(client.get(reverse("document-verify", args=[document.verify_token])))
    assert "Revoked" in verify and "no longer valid" in verify

    register = page_text(web.get(url(scoped, "certificate-register")))
    assert "MC/2026/00001" in register and "Issued to the wrong patient" in register
    assert kept.number in register
    assert AuditEvent.objects.filter(action=Actions.CERTIFICATE_REVOKED).count() == 1

    with pytest.raises(DomainError) as exc:
        certificate_revoke(certificate=certificate, reason="Again", **by(doctor))
    assert "was revoked" in exc.value.message
    with pytest.raises(DomainError):
        certificate_correct(certificate=certificate, **sick_note(), reason="x", **by(doctor))


def test_the_register_keeps_superseded_certificates_and_links_both_ways(
    scoped, clock, doctor, issue, capture, client_for
):
    old = issue()
    with capture(execute=True):
        new = certificate_correct(certificate=old, **sick_note(), reason="Typo", **by(doctor))
    web = client_for(doctor)
    register = page_text(web.get(url(scoped, "certificate-register")))
    assert register.index("MC/2026/00002") < register.index("MC/2026/00001")
    assert "Superseded" in register and "corrects MC/2026/00001" in register
    old_page = page_text(web.get(url(scoped, "certificate-detail", old.pk)))
    assert "Corrected by" in old_page and url(scoped, "certificate-detail", new.pk) in old_page
    assert "Revoke MC/2026/00001" not in old_page  # no longer in force
    new_page = page_text(web.get(url(scoped, "certificate-detail", new.pk)))
    assert url(scoped, "certificate-correct", new.pk) in new_page


# ---------------------------------------------------------------------------------------------
# Web pages


def test_the_issue_form_is_prefilled_from_the_visit_and_the_last_certificate(
    scoped, clock, doctor, patient, issue, client_for
):
    issue(identification_mark="Scar on the right forearm")
    visit = visit_on(doctor, patient, TODAY - timedelta(days=1))
    services.diagnosis_add(visit=visit, **by(doctor), text="Acute pharyngitis")
    page = page_text(
        client_for(doctor).get(url(scoped, "certificate-new", patient.pk) + f"?visit_id={visit.pk}")
    )
    assert 'value="Scar on the right forearm"' in page
    assert 'value="2026-03-08"' in page  # effective from: the day of the examination
    assert 'value="Acute pharyngitis"' in page
    assert f'<option value="{visit.pk}" selected>' in page
    assert "issued_at" not in page


def test_issuing_from_the_web_shows_the_certificate_and_its_pdf(
    scoped, clock, doctor, patient, client_for, capture
):
    web = client_for(doctor)
    with capture(execute=False):  # the PDF is still being prepared
        response = web.post(url(scoped, "certificate-new", patient.pk), sick_note())
    certificate = MedicalCertificate.objects.get()
    page = page_text(web.get(response["Location"]))
    assert "Preparing medical certificate mc/2026/00001" in page
    assert url(scoped, "document-status", certificate.document_id) in page
    render_document(certificate.document_id)  # what the worker does
    page = page_text(web.get(url(scoped, "certificate-detail", certificate.pk)))
    assert url(scoped, "document-open", certificate.document_id) in page
    assert MARK in page and "KMC-45678" in page
    listing = page_text(web.get(url(scoped, "patient-certificates", patient.pk)))
    assert "MC/2026/00001" in listing and url(scoped, "certificate-new", patient.pk) in listing
    record = page_text(web.get(url(scoped, "patient-detail", patient.pk)))
    assert url(scoped, "patient-certificates", patient.pk) in record


def test_the_correct_form_opens_prefilled_and_issues_the_correction(
    scoped, clock, doctor, issue, client_for, capture
):
    old = issue(purpose="St Joseph's College")
    web = client_for(doctor)
    form = page_text(web.get(url(scoped, "certificate-correct", old.pk)))
    assert "Correct certificate MC/2026/00001" in form
    assert 'value="St Joseph&#x27;s College"' in form and f'value="{MARK}"' in form
    data = {
        **sick_note(purpose="St Joseph's College"),
        "effective_to": (TODAY + timedelta(days=5)).isoformat(),
    }
    data.pop("effective_from")
    refused = web.post(
        url(scoped, "certificate-correct", old.pk), {**data, "effective_from": TODAY}
    )
    assert refused.status_code == 400 and "Say what was wrong" in page_text(refused)
    with capture(execute=True):
        response = web.post(
            url(scoped, "certificate-correct", old.pk),
            {**data, "effective_from": TODAY, "reason": "Longer rest needed"},
        )
    new = MedicalCertificate.objects.get(supersedes=old)
    assert response["Location"] == url(scoped, "certificate-detail", new.pk)
    assert new.rest_days == 6
    page = page_text(web.get(response["Location"]))
    assert "Certificate MC/2026/00002 issued. It replaces MC/2026/00001." in page


def test_the_register_filters_and_searches(scoped, clock, doctor, patient, issue, client_for):
    other = PatientFactory(clinic=scoped, full_name="Suresh Gowda")
    issue()
    issue(who=other, kind=CertificateKind.FITNESS, effective_to=None, condition="")
    web = client_for(doctor)
    register = url(scoped, "certificate-register")

    def rows(**params):
        page = page_text(web.get(register, params))
        return [n for n in ("MC/2026/00001", "MC/2026/00002") if n in page]

    assert rows() == ["MC/2026/00001", "MC/2026/00002"]
    assert rows(q="MC/2026/00002") == ["MC/2026/00002"]
    assert rows(q="2") == ["MC/2026/00002"]
    assert rows(q="suresh") == ["MC/2026/00002"]
    assert rows(q=patient.patient_number) == ["MC/2026/00001"]
    assert rows(kind="fitness") == ["MC/2026/00002"]
    assert rows(status="revoked") == []
    assert rows(year="2026") == ["MC/2026/00001", "MC/2026/00002"]


def test_the_register_page_costs_the_same_queries_however_many_certificates(
    scoped, clock, doctor, issue, capture, client_for
):
    web = client_for(doctor)
    register = url(scoped, "certificate-register")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert web.get(register).status_code == 200
        return len(captured)

    old = issue()
    with capture(execute=True):
        certificate_correct(certificate=old, **sick_note(), reason="Typo", **by(doctor))
    queries()  # the first page view also remembers the clinic in the session
    few = queries()
    for _ in range(5):
        issue(who=PatientFactory(clinic=scoped))
    assert queries() == few


# ---------------------------------------------------------------------------------------------
# The register as CSV


def test_the_csv_export_lists_the_years_certificates_in_number_order(
    scoped, clock, doctor, patient, issue, capture, member_factory, client_for
):
    first = issue(purpose="Employer")
    with capture(execute=True):
        second = certificate_correct(
            certificate=first, **sick_note(purpose="Employer"), reason="Typo", **by(doctor)
        )
    third = issue(kind=CertificateKind.FITNESS, effective_to=None, condition="")
    certificate_revoke(certificate=third, reason="Issued in error", **by(doctor))
    owner = member_factory(scoped, Role.OWNER)
    response = client_for(owner).get(url(scoped, "certificate-register-export"), {"year": 2026})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="certificate-register-2026.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Number", "Issued at", "Kind", "Patient"]
    assert [r[0] for r in rows[1:]] == ["MC/2026/00001", "MC/2026/00002", "MC/2026/00003"]
    by_number = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_number["MC/2026/00001"] == {
        "Number": "MC/2026/00001",
        "Issued at": "2026-03-09 10:30",
        "Kind": "Sickness (rest advised)",
        "Patient": "Kavya Reddy",
        "Patient no.": patient.patient_number,
        "Age / sex": f"{patient.age} years / Female",
        "Doctor": "Dr Anita Rao",
        "Registration no.": "KMC-45678",
        "Effective from": "2026-03-09",
        "Effective to": "2026-03-11",
        "Days": "3",
        "Condition": "Acute viral fever",
        "Purpose": "Employer",
        "Status": "Superseded by a correction",
        "Corrects / corrected by": "corrected by MC/2026/00002",
        "Revoked reason": "",
    }
    assert by_number[second.number]["Corrects / corrected by"] == "corrects MC/2026/00001"
    assert by_number["MC/2026/00003"]["Status"] == "Revoked"
    assert by_number["MC/2026/00003"]["Revoked reason"] == "Issued in error"
    assert by_number["MC/2026/00003"]["Effective to"] == ""
    [event] = AuditEvent.objects.filter(action=Actions.CERTIFICATE_REGISTER_EXPORTED)
    assert event.data == {"year": 2026, "certificates": 3}
    empty = client_for(owner).get(url(scoped, "certificate-register-export"), {"year": 2025})
    assert empty.content.decode("utf-8-sig").count("\r\n") == 1  # the header only


def test_the_csv_export_cannot_run_formulas(scoped, clock, doctor, issue, member_factory):
    attacker = PatientFactory(clinic=scoped, full_name='=HYPERLINK("http://evil.example","x")')
    issue(
        who=attacker,
        condition="+cmd|' /C calc'!A0",
        purpose="@SUM(1+1)",
        remarks="ok",
        identification_mark="-2+3",
    )
    owner = member_factory(scoped, Role.OWNER)
    text = certificate_register_export(clinic=scoped, year=2026, **by(owner))
    row = dict(zip(*list(csv.reader(io.StringIO(text))), strict=True))
    assert row["Patient"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["Condition"] == "'+cmd|' /C calc'!A0"
    assert row["Purpose"] == "'@SUM(1+1)"
    assert row["Number"] == "MC/2026/00001"  # ordinary cells are left alone


# ---------------------------------------------------------------------------------------------
# Who may do what


def test_front_desk_never_sees_certificates(scoped, clock, issue, patient, front_desk, client_for):
    certificate = issue()
    web = client_for(front_desk)
    for path in (
        url(scoped, "certificate-register"),
        url(scoped, "certificate-detail", certificate.pk),
        url(scoped, "patient-certificates", patient.pk),
        url(scoped, "certificate-new", patient.pk),
        url(scoped, "certificate-register-export"),
    ):
        assert web.get(path).status_code == 403, path
    assert web.post(url(scoped, "certificate-revoke", certificate.pk)).status_code == 403
    assert "Certificates" not in page_text(web.get(url(scoped, "patient-detail", patient.pk)))


def test_an_assistant_reads_certificates_but_cannot_issue_or_change_them(
    scoped, clock, issue, patient, assistant, client_for
):
    certificate = issue()
    web = client_for(assistant)
    assert web.get(url(scoped, "certificate-register")).status_code == 200
    detail = web.get(url(scoped, "certificate-detail", certificate.pk))
    assert detail.status_code == 200
    assert "Revoke" not in page_text(detail) and "Correct it" not in page_text(detail)
    listing = page_text(web.get(url(scoped, "patient-certificates", patient.pk)))
    assert "Issue a certificate" not in listing
    assert web.get(url(scoped, "certificate-new", patient.pk)).status_code == 403
    assert web.post(url(scoped, "certificate-new", patient.pk), sick_note()).status_code == 403
    assert (
        web.post(url(scoped, "certificate-revoke", certificate.pk), {"reason": "x"}).status_code
        == 403
    )
    assert web.get(url(scoped, "certificate-correct", certificate.pk)).status_code == 403
    assert web.get(url(scoped, "certificate-register-export")).status_code == 403
    assert reload(certificate).status == CertificateStatus.ISSUED


def test_a_doctor_cannot_export_the_register(scoped, doctor, client_for):
    assert client_for(doctor).get(url(scoped, "certificate-register-export")).status_code == 403


def test_another_clinics_certificate_answers_404(scoped, clock, doctor, patient, client_for):
    other = ClinicFactory(slug="elsewhere")
    with clinic_scope(other):
        their_doctor = DoctorProfileFactory(membership__clinic=other).membership
        their_patient = PatientFactory(clinic=other)
        theirs = certificate_issue(patient=their_patient, **sick_note(), **by(their_doctor))
    web = client_for(doctor)
    assert web.get(url(scoped, "certificate-detail", theirs.pk)).status_code == 404
    assert web.get(url(scoped, "certificate-correct", theirs.pk)).status_code == 404
    assert web.post(url(scoped, "certificate-correct", theirs.pk), sick_note()).status_code == 404
    assert (
        web.post(url(scoped, "certificate-revoke", theirs.pk), {"reason": "x"}).status_code == 404
    )
    assert web.get(url(scoped, "patient-certificates", their_patient.pk)).status_code == 404
    assert web.get(url(scoped, "certificate-new", their_patient.pk)).status_code == 404
    register = page_text(web.get(url(scoped, "certificate-register")))
    assert theirs.number not in register  # MC/2026/00001 of the other clinic
    with clinic_scope(other):
        assert reload(theirs).status == CertificateStatus.ISSUED


# ---------------------------------------------------------------------------------------------
# Several doctors issuing at the same moment (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_consecutive_numbers_without_gaps():
    clinic = ClinicFactory()
    with clinic_scope(clinic):
        doctors = [DoctorProfileFactory(membership__clinic=clinic).membership for _ in range(4)]
        patients = [PatientFactory(clinic=clinic) for _ in range(4)]
    errors: list[Exception] = []
    start = threading.Barrier(len(doctors))
    today = timezone.localtime(timezone.now(), clinic.tzinfo).date()

    def work(doctor, patient) -> None:
        try:
            start.wait()
            with clinic_scope(clinic):
                for _ in range(5):
                    certificate_issue(
                        patient=patient,
                        **sick_note(effective_from=today, effective_to=today),
                        **by(doctor),
                    )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=pair) for pair in zip(doctors, patients, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with clinic_scope(clinic):
        serials = sorted(MedicalCertificate.objects.values_list("serial", flat=True))
        years = set(MedicalCertificate.objects.values_list("year", flat=True))
        documents = Document.objects.filter(certificate__isnull=False).count()
    assert serials == list(range(1, 21))
    assert years == {today.year}
    assert documents == 20


def test_a_correction_keeps_its_reason_and_the_register_keeps_the_number_printed(
    scoped, clock, doctor, issue, django_capture_on_commit_callbacks
):
    from clinics.models import DoctorProfile

    first = issue()
    with django_capture_on_commit_callbacks(execute=True):
        second = certificate_correct(
            certificate=first, **sick_note(), reason="Wrong end date", **by(doctor)
        )
    assert second.correction_reason == "Wrong end date"
    assert second.doctor_registration_number == "KMC-45678"
    event = AuditEvent.objects.get(action=Actions.CERTIFICATE_ISSUED, target_id=str(second.pk))
    assert "Wrong end date" not in str(event.data)  # possibly clinical: not in the audit trail
    DoctorProfile.objects.filter(membership=doctor).update(registration_number="KMC-99999")
    assert reload(second).doctor_registration_number == "KMC-45678"
