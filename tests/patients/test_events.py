"""Care events (patients/events.py): receivers run inside the change's transaction."""

from __future__ import annotations

import pytest

from clinics.audit import Actions
from clinics.models import AuditEvent
from patients import events, services
from patients.models import Visit, VisitStatus
from tests.patients.conftest import COMPLAINT, by


@pytest.fixture
def receivers():
    """Restore the signal's receivers after the test (messaging's stay connected)."""
    saved = list(events.care_event_sent.receivers)
    yield
    events.care_event_sent.receivers = saved
    events.care_event_sent.sender_receivers_cache.clear()


@pytest.fixture
def draft(scoped, doctor, patient):
    visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    return services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)


def test_a_receiver_hears_the_event_before_commit(
    receivers, draft, doctor, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, *, event, visit, **kwargs):
        # The visit is already signed in this transaction, and nothing has committed yet.
        heard.append((sender, event, visit.pk, visit.status, len(callbacks)))

    events.care_event_sent.connect(receiver, sender=Visit, weak=False)
    with django_capture_on_commit_callbacks() as callbacks:
        services.visit_sign(visit=draft, **by(doctor))
        assert heard == [(Visit, events.VISIT_SIGNED, draft.pk, VisitStatus.SIGNED, len(callbacks))]
    assert callbacks, "the PDFs are still rendered after commit"


def test_a_failing_receiver_rolls_the_change_back(receivers, draft, doctor):
    def receiver(sender, **kwargs):
        raise RuntimeError("planning failed")

    events.care_event_sent.connect(receiver, weak=False)
    with pytest.raises(RuntimeError):
        services.visit_sign(visit=draft, **by(doctor))
    assert Visit.objects.get(pk=draft.pk).status == VisitStatus.DRAFT
    assert not AuditEvent.objects.filter(action=Actions.VISIT_SIGNED).exists()


def test_a_listener_registered_twice_hears_each_event_once(receivers, draft, doctor):
    heard = []

    def listener(event, **kwargs):
        heard.append((event, sorted(kwargs)))

    events.register_care_listener(listener)
    events.register_care_listener(listener)
    services.visit_sign(visit=draft, **by(doctor))
    assert heard == [(events.VISIT_SIGNED, ["visit"])]


def test_every_event_names_the_model_it_is_about():
    assert set(events.EVENT_SENDERS) == {
        value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
    }
