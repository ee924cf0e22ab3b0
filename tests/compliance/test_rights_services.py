"""The rights desk's services: reference numbers, due dates, the allowed statuses, identity
checks, answers that name the privacy contact, reminders, corrections and nominations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from clinics.audit import Actions
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.schedules import declared_schedules
from compliance.models import (
    CorrectionDecision,
    IdType,
    Nomination,
    Requester,
    RightsKind,
    RightsRequest,
    RightsStatus,
    Verification,
)
from compliance.rights import alerts, selectors
from compliance.rights.services import (
    correction_decide,
    correction_propose,
    nomination_evidence_record,
    nomination_record,
    rights_request_assign,
    rights_request_attach_job,
    rights_request_create,
    rights_request_move,
    rights_request_verify,
    rights_requests_remind,
)
from compliance.tasks import remind_rights_requests
from patients import services as patient_services
from patients.models import Patient, Visit
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

S = RightsStatus


@pytest.fixture
def owner_m(scoped):
    return MembershipFactory(clinic=scoped, role=Role.OWNER, user__full_name="Meera Iyer")


@pytest.fixture
def doctor(scoped):
    return DoctorProfileFactory(membership__clinic=scoped).membership


@pytest.fixture
def desk(scoped):
    return MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Ravi Kumar", phone="+919845012345")


@pytest.fixture
def contact(scoped):
    scoped.privacy_contact_name = "Meera Iyer"
    scoped.privacy_contact_email = "privacy@asha.example"
    scoped.save()
    return scoped


def make(clinic, actor, patient, kind=RightsKind.ACCESS, **kwargs):
    return rights_request_create(
        clinic=clinic, actor=actor.user, kind=kind, patient=patient, **kwargs
    )


def verified(request, actor):
    return rights_request_verify(
        request=request,
        actor=actor.user,
        method=Verification.IN_PERSON_ID,
        id_type=IdType.AADHAAR,
        id_last4="1234",
    )


def test_references_are_consecutive_per_clinic_and_year(scoped, desk, patient, other_clinic):
    first = make(scoped, desk, patient)
    second = make(scoped, desk, patient, kind=RightsKind.ERASURE)
    year = timezone.now().year
    assert (first.reference, second.reference) == (f"DR-{year}-0001", f"DR-{year}-0002")
    event = AuditEvent.objects.get(action=Actions.RIGHTS_REQUEST_RECORDED, target_id=str(first.pk))
    assert "Ravi" not in str(event.data)
    assert first.events.get().what == "recorded"


def test_due_dates_follow_the_clinic_target_and_the_72_hour_rule(scoped, desk, patient):
    at = timezone.now()
    access = make(scoped, desk, patient, received_at=at)
    assert access.due_at == at + timedelta(days=7)
    copy = make(scoped, desk, patient, records_copy=True, received_at=at)
    portability = make(scoped, desk, patient, kind=RightsKind.PORTABILITY, received_at=at)
    assert copy.due_at == portability.due_at == at + timedelta(hours=72)
    # A clinic target above the law's ceiling is held at 90 days.
    scoped.rights_target_days = 365
    scoped.save()
    late = make(scoped, desk, patient, kind=RightsKind.ERASURE, received_at=at)
    assert late.due_at == at + timedelta(days=90)


def test_statuses_move_only_along_allowed_transitions(scoped, owner_m, desk, patient, contact):
    request = make(scoped, desk, patient)
    with pytest.raises(Conflict):
        rights_request_move(request=request, actor=owner_m.user, status=S.AWAITING_APPROVAL)
    with pytest.raises(DomainError, match="identity"):
        rights_request_move(request=request, actor=owner_m.user, status=S.IN_PROGRESS)
    request = verified(request, owner_m)
    assert request.status == S.VERIFYING and request.id_last4 == "1234"
    request = rights_request_move(request=request, actor=owner_m.user, status=S.IN_PROGRESS)
    request = rights_request_move(
        request=request, actor=owner_m.user, status=S.DONE, reply="Your summary is attached."
    )
    assert request.closed_at is not None
    for status in (S.IN_PROGRESS, S.RECEIVED, S.WITHDRAWN):
        with pytest.raises(Conflict):
            rights_request_move(request=request, actor=owner_m.user, status=status)
    # The front desk records requests but does not handle them.
    other = make(scoped, desk, patient)
    with pytest.raises(NotAllowed):
        rights_request_move(request=other, actor=desk.user, status=S.WITHDRAWN)


def test_the_full_id_number_is_never_stored(scoped, owner_m, desk, patient):
    request = make(scoped, desk, patient)
    with pytest.raises(ValidationFailed):
        rights_request_verify(
            request=request,
            actor=owner_m.user,
            method=Verification.IN_PERSON_ID,
            id_type=IdType.AADHAAR,
            id_last4="123456789012",
        )


def test_an_answer_needs_the_privacy_contact_and_names_it(scoped, owner_m, desk, patient):
    request = verified(make(scoped, desk, patient), owner_m)
    request = rights_request_move(request=request, actor=owner_m.user, status=S.IN_PROGRESS)
    with pytest.raises(DomainError, match="privacy contact") as refused:
        rights_request_move(request=request, actor=owner_m.user, status=S.DONE, reply="Done.")
    assert refused.value.code == "privacy_contact_missing"
    assert RightsRequest.objects.get(pk=request.pk).status == S.IN_PROGRESS
    scoped.privacy_contact_name = "Meera Iyer"
    scoped.privacy_contact_phone = "+919845000111"
    scoped.save()
    request = rights_request_move(request=request, actor=owner_m.user, status=S.DONE, reply="Done.")
    assert "Meera Iyer" in request.reply and "+91 98450 00111" in request.reply
    assert request.reference in request.reply


def test_a_refusal_needs_a_reason(scoped, owner_m, desk, patient, contact):
    request = make(scoped, desk, patient)
    with pytest.raises(ValidationFailed):
        rights_request_move(request=request, actor=owner_m.user, status=S.REFUSED, reply="No.")
    request = rights_request_move(
        request=request, actor=owner_m.user, status=S.REFUSED, reply="No.", reason="Not the patient"
    )
    assert request.refusal_reason == "Not the patient"


def test_a_grievance_reply_names_the_contact_and_the_board(scoped, owner_m, desk, contact):
    grievance = rights_request_create(
        clinic=scoped,
        actor=desk.user,
        kind=RightsKind.GRIEVANCE,
        requester=Requester.OTHER,
        requester_name="Sunil Verma",
        requester_phone="98450 11111",
        details="My reports were shown to my neighbour.",
    )
    assert grievance.patient is None and grievance.requester_phone == "+919845011111"
    grievance = rights_request_move(request=grievance, actor=owner_m.user, status=S.IN_PROGRESS)
    grievance = rights_request_move(
        request=grievance, actor=owner_m.user, status=S.DONE, reply="We apologise."
    )
    assert "Meera Iyer" in grievance.reply and "privacy@asha.example" in grievance.reply
    assert "Data Protection Board of India" in grievance.reply


def test_only_the_owner_approves_an_erasure(scoped, owner_m, doctor, desk, patient, contact):
    request = verified(make(scoped, desk, patient, kind=RightsKind.ERASURE), owner_m)
    request = rights_request_move(request=request, actor=doctor.user, status=S.IN_PROGRESS)
    request = rights_request_move(request=request, actor=doctor.user, status=S.AWAITING_APPROVAL)
    with pytest.raises(NotAllowed, match="owner"):
        rights_request_move(request=request, actor=doctor.user, status=S.DONE, reply="Erased.")
    request = rights_request_move(
        request=request, actor=owner_m.user, status=S.DONE, reply="Erased."
    )
    assert request.status == S.DONE


def test_a_job_attaches_to_the_request(scoped, owner_m, desk, patient):
    request = verified(make(scoped, desk, patient, kind=RightsKind.PORTABILITY), owner_m)
    request = rights_request_attach_job(request=request, kind="export", job_id=42)
    assert (request.job_kind, request.job_id, request.status) == ("export", "42", S.IN_PROGRESS)


def test_overdue_list_and_one_reminder_per_owner(scoped, owner_m, desk, patient):
    sent = []
    alerts.rights_alerts.register(
        alerts.RightsAlert(name="test", order=1, send=lambda **kw: sent.append(kw))
    )
    try:
        long_ago = timezone.now() - timedelta(days=10)
        late = make(scoped, desk, patient, received_at=long_ago)
        soon = make(scoped, desk, patient, received_at=timezone.now() - timedelta(days=6, hours=1))
        later = make(scoped, desk, patient)
        for request in (late, soon, later):
            rights_request_assign(request=request, actor=owner_m.user, owner=owner_m)
        assert [r.pk for r in selectors.rights_requests(show="overdue")] == [late.pk]
        panel = selectors.overdue_panel(clinic=scoped, membership=owner_m, today=date.today())
        assert panel["overdue_count"] == 1
        assert rights_requests_remind(clinic_id=scoped.pk) == 2
        assert rights_requests_remind(clinic_id=scoped.pk) == 0
        panel = selectors.overdue_panel(clinic=scoped, membership=owner_m, today=date.today())
        assert {r.pk for r in panel["reminded"]} == {late.pk, soon.pk}
    finally:
        alerts.rights_alerts.unregister("test")
    assert {s["request"].pk for s in sent} == {late.pk, soon.pk}
    assert RightsRequest.objects.get(pk=later.pk).reminded_at is None
    assert RightsRequest.objects.get(pk=late.pk).events.filter(what="reminded").count() == 1


def test_the_reminder_schedule_visits_every_clinic(clinic, other_clinic):
    assert remind_rights_requests() == 0


# --- corrections ---------------------------------------------------------------------------------
def _signed_visit(scoped, doctor, patient, text="Fever for two days"):
    by = {"actor": doctor.user, "actor_membership": doctor}
    visit = patient_services.visit_start(clinic=scoped, **by, patient=patient, doctor=doctor)
    visit = patient_services.visit_update_notes(visit=visit, **by, chief_complaints=text)
    return patient_services.visit_sign(visit=visit, **by)


def _correction(scoped, desk, patient, owner_m):
    request = verified(make(scoped, desk, patient, kind=RightsKind.CORRECTION), owner_m)
    return rights_request_move(request=request, actor=owner_m.user, status=S.IN_PROGRESS)


def test_a_contact_correction_goes_through_the_patients_service(scoped, owner_m, desk, patient):
    request = _correction(scoped, desk, patient, owner_m)
    item = correction_propose(
        request=request, actor=desk.user, field="full_name", new_value="Ravi Kumaran"
    )
    assert item.old_value == "Ravi Kumar"
    assert RightsRequest.objects.get(pk=request.pk).status == S.AWAITING_APPROVAL
    item = correction_decide(item=item, actor=desk.user, approve=True)
    assert item.decision == CorrectionDecision.APPROVED
    assert Patient.objects.get(pk=patient.pk).full_name == "Ravi Kumaran"
    updated = AuditEvent.objects.filter(action=Actions.PATIENT_UPDATED).latest("id")
    assert updated.data == {"fields": ["full_name"]}


def test_the_front_desk_cannot_approve_a_clinical_correction(scoped, owner_m, desk, patient):
    request = _correction(scoped, desk, patient, owner_m)
    item = correction_propose(
        request=request, actor=desk.user, field="allergies", new_value="Penicillin"
    )
    with pytest.raises(NotAllowed):
        correction_decide(item=item, actor=desk.user, approve=True)


def test_a_stale_correction_is_refused(scoped, owner_m, desk, patient):
    request = _correction(scoped, desk, patient, owner_m)
    item = correction_propose(request=request, actor=desk.user, field="email", new_value="r@x.in")
    patient_services.patient_update(patient=patient, actor=desk.user, email="ravi@example.com")
    item = correction_decide(item=item, actor=desk.user, approve=True)
    assert item.decision == CorrectionDecision.REFUSED and "changed since" in item.reason
    assert Patient.objects.get(pk=patient.pk).email == "ravi@example.com"


def test_a_signed_visit_is_corrected_by_amendment(scoped, owner_m, doctor, desk, patient):
    visit = _signed_visit(scoped, doctor, patient)
    request = _correction(scoped, desk, patient, owner_m)
    item = correction_propose(
        request=request,
        actor=desk.user,
        visit=visit,
        field="chief_complaints",
        new_value="Fever for two weeks",
    )
    item = correction_decide(item=item, actor=doctor.user, approve=True)
    original = Visit.objects.get(pk=visit.pk)
    assert original.chief_complaints == "Fever for two days" and original.is_signed
    amendment = Visit.objects.get(pk=item.amendment_id)
    assert amendment.amends_id == visit.pk and not amendment.is_signed
    assert amendment.chief_complaints == "Fever for two weeks"
    assert request.reference in amendment.amendment_reason


def test_a_refused_correction_needs_a_reason(scoped, owner_m, desk, patient):
    request = _correction(scoped, desk, patient, owner_m)
    item = correction_propose(request=request, actor=desk.user, field="city", new_value="Mysuru")
    with pytest.raises(ValidationFailed):
        correction_decide(item=item, actor=desk.user, approve=False)
    item = correction_decide(item=item, actor=desk.user, approve=False, reason="Proof missing")
    assert item.decision == CorrectionDecision.REFUSED
    with pytest.raises(Conflict):
        correction_decide(item=item, actor=desk.user, approve=True)


# --- nominations ---------------------------------------------------------------------------------
def test_a_nominee_acts_with_evidence(scoped, owner_m, desk, patient):
    first = nomination_record(
        patient=patient,
        actor=desk.user,
        name="Lakshmi Kumar",
        relation="spouse",
        phone="98450 22222",
    )
    nomination = nomination_record(
        patient=patient, actor=desk.user, name="Arun Kumar", relation="child", phone="98450 33333"
    )
    assert Nomination.objects.get(pk=first.pk).revoked_at is not None
    assert nomination.phone == "+919845033333"
    with pytest.raises(ValidationFailed):
        make(scoped, desk, patient, requester=Requester.NOMINEE, nomination=first)
    request = make(
        scoped,
        desk,
        patient,
        kind=RightsKind.ERASURE,
        requester=Requester.NOMINEE,
        nomination=nomination,
    )
    evidence = nomination_evidence_record(
        nomination=nomination,
        actor=owner_m.user,
        kind="death_certificate",
        document_date=date(2026, 11, 1),
        request=request,
    )
    assert evidence.checked_by == owner_m and request.nomination_id == nomination.pk
    with pytest.raises(ValidationFailed):
        nomination_evidence_record(
            nomination=nomination,
            actor=owner_m.user,
            kind="court_order",
            document_date=timezone.localdate() + timedelta(days=2),
        )


def test_the_reminder_schedule_is_declared():
    [schedule] = [s for s in declared_schedules() if s["name"] == "vaidya.rights_requests_remind"]
    assert schedule["func"] == "compliance.tasks.remind_rights_requests"
