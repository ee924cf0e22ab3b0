"""A document whose render task was lost (its worker killed with the task in hand) does not stay
"Preparing..." for ever: the lost-task sweep enqueues it again once it waited longer than a
render can take, and Retry does the same on a stuck document. Nothing is rendered twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.recovery import waiting_work_requeue
from clinics.registry import waiting_work
from clinics.tasks import requeue_waiting_work
from patients.models import Document, DocumentStatus
from patients.services.certificates import certificate_issue
from patients.services.documents import document_render
from patients.tasks import render_document
from tests.patients.conftest import by
from tests.patients.test_certificates import sick_note
from tests.patients.test_documents import sign_visit

pytestmark = pytest.mark.django_db

LOST = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)


def later(extra: timedelta = timedelta(seconds=5)):
    """The clock once a render's bound has passed."""
    return time_machine.travel(timezone.now() + LOST + extra, tick=False)


def renders(document: Document) -> int:
    return AuditEvent.objects.filter(
        action=Actions.DOCUMENT_GENERATED, target_id=str(document.pk)
    ).count()


@pytest.fixture
def lost_document(scoped, doctor, patient, django_capture_on_commit_callbacks):
    """A certificate whose render task was enqueued and then lost with its worker."""
    today = timezone.localtime(timezone.now(), scoped.tzinfo).date()
    note = sick_note(effective_from=today, effective_to=today + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=False) as lost:
        certificate = certificate_issue(patient=patient, **note, **by(doctor))
    assert lost, "the render was to be enqueued after commit"
    document = Document.objects.get(pk=certificate.document_id)
    assert document.status == DocumentStatus.PREPARING and document.queued_at is not None
    return document


def test_every_waiting_kind_is_registered_and_swept_every_minute():
    from clinics.schedules import declared_schedules

    assert {e.name for e in waiting_work} >= {
        "patients.documents",
        "messaging.messages",
        "messaging.webhook_deliveries",
    }
    (spec,) = [s for s in declared_schedules() if s["name"] == "vaidya.waiting_work_requeue"]
    assert spec["func"] == "clinics.tasks.requeue_waiting_work" and spec["minutes"] == 1


def test_a_lost_render_is_enqueued_again_once_and_the_document_becomes_ready(
    scoped, lost_document, django_capture_on_commit_callbacks
):
    # Fresh: its task may still be in the queue, so the sweep leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_waiting_work().get("patients.documents", 0) == 0
    lost_document.refresh_from_db()
    assert lost_document.status == DocumentStatus.PREPARING

    with later(), django_capture_on_commit_callbacks(execute=True) as enqueued:
        assert requeue_waiting_work()["patients.documents"] == 1
    assert len(enqueued) == 1
    lost_document.refresh_from_db()
    assert lost_document.status == DocumentStatus.READY
    assert renders(lost_document) == 1 and lost_document.attempts == 1

    # Swept again (a second scheduler, the next minute): nothing more is enqueued or rendered.
    with later(LOST * 3), django_capture_on_commit_callbacks(execute=True) as again:
        assert requeue_waiting_work().get("patients.documents", 0) == 0
    assert again == []
    assert renders(lost_document) == 1


def test_a_sweep_run_twice_enqueues_once(scoped, lost_document, django_capture_on_commit_callbacks):
    with later(), django_capture_on_commit_callbacks(execute=False) as first:
        assert waiting_work_requeue(kinds=["patients.documents"])["patients.documents"] == 1
        # The task is on its way (not run yet): the row was stamped, so a second sweep waits.
        assert waiting_work_requeue(kinds=["patients.documents"])["patients.documents"] == 0
    assert len(first) == 1


def test_the_render_task_run_twice_renders_once(scoped, lost_document):
    assert render_document(lost_document.pk) == DocumentStatus.READY
    assert render_document(lost_document.pk) == DocumentStatus.READY
    lost_document.refresh_from_db()
    assert renders(lost_document) == 1 and lost_document.attempts == 1


def test_a_document_a_live_worker_is_rendering_is_neither_swept_nor_rendered_again(
    scoped, lost_document, django_capture_on_commit_callbacks
):
    # A worker claimed it just now (it is rendering): a duplicate task does nothing.
    with later():
        Document.objects.filter(pk=lost_document.pk).update(claimed_at=timezone.now(), attempts=1)
        assert document_render(document_id=lost_document.pk).status == DocumentStatus.PREPARING
        with django_capture_on_commit_callbacks(execute=True) as enqueued:
            assert waiting_work_requeue()["patients.documents"] == 0
    assert enqueued == [] and renders(lost_document) == 0

    # That worker died mid-render: once its claim is older than a task can take, it is taken
    # over and rendered by one worker.
    with later(LOST * 2), django_capture_on_commit_callbacks(execute=True):
        assert waiting_work_requeue()["patients.documents"] == 1
    lost_document.refresh_from_db()
    assert lost_document.status == DocumentStatus.READY
    assert renders(lost_document) == 1 and lost_document.attempts == 2


def test_retry_on_a_stuck_document_prepares_it(
    scoped, doctor, client_for, lost_document, django_capture_on_commit_callbacks
):
    client = client_for(doctor)
    status_url = reverse("document-status", args=[scoped.slug, lost_document.pk])
    retry_url = reverse("document-retry", args=[scoped.slug, lost_document.pk])
    with later():
        fragment = client.get(status_url).content.decode()
        assert "taking longer than it should" in fragment and "Try again" in fragment
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(retry_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    lost_document.refresh_from_db()
    assert lost_document.status == DocumentStatus.READY
    assert renders(lost_document) == 1
    assert AuditEvent.objects.filter(
        action=Actions.DOCUMENT_REQUESTED, target_id=str(lost_document.pk), data__retry=True
    ).exists()


def test_retry_on_a_document_still_preparing_says_so_and_doubles_nothing(
    scoped, doctor, client_for, lost_document, django_capture_on_commit_callbacks
):
    client = client_for(doctor)
    fragment = client.get(
        reverse("document-status", args=[scoped.slug, lost_document.pk])
    ).content.decode()
    assert "Preparing" in fragment and "Try again" not in fragment
    queued_at = lost_document.queued_at
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        response = client.post(
            reverse("document-retry", args=[scoped.slug, lost_document.pk]),
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert "still being prepared" in response.content.decode()
    assert enqueued == []
    lost_document.refresh_from_db()
    assert lost_document.status == DocumentStatus.PREPARING
    assert lost_document.queued_at == queued_at

    # Without htmx, the same words come back on the documents page.
    response = client.post(
        reverse("document-retry", args=[scoped.slug, lost_document.pk]), follow=True
    )
    assert "still being prepared" in response.content.decode()


def test_asking_again_for_a_visit_pdf_whose_render_was_lost_prepares_it(
    scoped, doctor, patient, client_for, django_capture_on_commit_callbacks
):
    def lose(execute):  # the visit is signed, its renders enqueued and lost
        return django_capture_on_commit_callbacks(execute=False)

    visit = sign_visit(scoped, doctor, patient, lose)
    document = Document.objects.get(visit=visit, kind="prescription")
    assert document.status == DocumentStatus.PREPARING
    ask = reverse("visit-document", args=[scoped.slug, visit.pk, "prescription"])
    client = client_for(doctor)
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        client.post(ask, HTTP_HX_REQUEST="true")  # still within a render's time: left alone
    assert enqueued == []
    with later(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(ask, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    document.refresh_from_db()
    assert document.status == DocumentStatus.READY and renders(document) == 1
