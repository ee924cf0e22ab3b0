"""Vaidya's default templates, submitting them to Meta and syncing them back (simulator, real
HTTP)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from clinics.audit import Actions
from clinics.models import AuditEvent
from messaging.defaults import DEFAULTS, LANGUAGES, default_for
from messaging.models import AccountStatus, MessageTemplate, TemplateStatus
from messaging.services.templates import (
    templates_ensure_defaults,
    templates_submit_defaults,
    templates_sync,
)
from messaging.services.verification_codes import whatsapp_code_send
from messaging.template_purposes import PURPOSES
from tests.messaging.conftest import PATIENT, make_patient

DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def _placeholders(text: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r"\{\{(\d+)\}\}", text)})


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_purpose_has_a_default_in_english_and_hindi(purpose, language):
    default = default_for(purpose, language)
    spec = PURPOSES[purpose]
    assert default is not None
    assert default.name == f"vaidya_{purpose}"
    # Care messages are utility; the one-time code is Meta's authentication category.
    assert default.category == ("AUTHENTICATION" if purpose == "verification_code" else "UTILITY")
    # {{1}}..{{n}}, one per documented parameter, none missing.
    assert _placeholders(default.body) == list(range(1, len(spec.parameters) + 1))
    assert len(default.examples) == len(spec.parameters)
    assert all(0 < len(b["text"]) <= 25 for b in default.buttons)
    if default.category == "AUTHENTICATION":  # Meta's fixed body, a copy-code button
        assert [b["otp"] for b in default.buttons] == ["COPY_CODE"] and default.footer
        return
    assert [b["payload"] for b in default.buttons] == list(spec.button_actions)
    # Meta refuses bodies that start or end with a placeholder.
    assert not default.body.startswith("{{") and not default.body.rstrip().endswith("}}")
    if language == "hi":
        assert DEVANAGARI.search(default.body)
        for button in default.buttons:
            assert DEVANAGARI.search(button["text"]) or button["text"].isdigit()


def test_rating_buttons_are_the_digits():
    for language in LANGUAGES:
        texts = [b["text"] for b in default_for("review_request", language).buttons]
        assert texts == ["1", "2", "3", "4", "5"]


def test_ensure_defaults_adds_drafts_once(scoped):
    created = templates_ensure_defaults(clinic=scoped)
    assert len(created) == len(DEFAULTS) == 2 * len(PURPOSES)
    assert templates_ensure_defaults(clinic=scoped) == []
    row = MessageTemplate.objects.get(name="vaidya_medicine_reminder", language="hi")
    assert row.status == TemplateStatus.DRAFT
    assert row.parameter_count == 4  # the clinic's name too
    assert [b["payload"] for b in row.buttons] == ["dose_taken", "dose_skipped"]


def test_submit_then_sync_follows_meta_review(wa_account, sim, owner):
    clinic = wa_account.clinic
    report = templates_submit_defaults(clinic=clinic, actor=owner.user)

    assert report.ok, report.summary()
    assert len(report.submitted) == len(DEFAULTS)
    rows = list(MessageTemplate.objects.filter(clinic=clinic))
    assert {r.status for r in rows} == {TemplateStatus.PENDING}
    assert all(r.meta_template_id and r.submitted_at for r in rows)
    on_meta = {(t.name, t.language): t for t in sim.state.templates.values()}
    assert set(on_meta) == {(d.name, d.language) for d in DEFAULTS}
    sent = on_meta[("vaidya_review_request", "hi")]
    buttons = sent.component("BUTTONS")["buttons"]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert len(sent.component("BODY")["example"]["body_text"][0]) == 2

    # Meta decides; someone also made a template by hand in WhatsApp Manager.
    sim.set_template_status("vaidya_appointment_reminder", "en", "APPROVED")
    sim.set_template_status("vaidya_payment_link", "hi", "REJECTED")
    sim.add_template("diwali_greeting", "en", body="Happy Diwali {{1}} from all of us!")
    sync = templates_sync(clinic=clinic, actor=owner.user)

    assert sync.added == 1 and sync.updated == 2
    reminder = MessageTemplate.objects.get(name="vaidya_appointment_reminder", language="en")
    assert reminder.status == TemplateStatus.APPROVED
    assert reminder.purpose == "appointment_reminder"
    assert [b["payload"] for b in reminder.buttons] == [
        "appt_confirm",
        "appt_reschedule",
        "appt_cancel",
    ]
    rejected = MessageTemplate.objects.get(name="vaidya_payment_link", language="hi")
    assert rejected.status == TemplateStatus.REJECTED
    foreign = MessageTemplate.objects.get(name="diwali_greeting")
    assert foreign.purpose == "" and foreign.status == TemplateStatus.APPROVED
    assert foreign.parameter_count == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {Actions.TEMPLATES_SUBMITTED, Actions.TEMPLATES_SYNCED} <= actions

    # Nothing left to submit the second time.
    assert templates_submit_defaults(clinic=clinic, actor=None).submitted == []


def test_sync_disables_templates_deleted_in_whatsapp_manager(wa_account, sim, owner):
    clinic = wa_account.clinic
    templates_submit_defaults(clinic=clinic, actor=None)
    sim.set_template_status("vaidya_review_request", None, "APPROVED")
    sim.add_template("diwali_greeting", "en", body="Happy Diwali {{1}}!")
    templates_sync(clinic=clinic, actor=None)
    MessageTemplate.objects.create(
        clinic=clinic, name="never_sent", language="en", body="Hello {{1}}", parameter_count=1
    )
    assert MessageTemplate.objects.get(name="vaidya_review_request", language="en").is_approved

    # The clinic deletes one of Vaidya's templates (both languages) and its own greeting.
    assert sim.delete_template("vaidya_review_request") == 2
    assert sim.delete_template("diwali_greeting") == 1
    report = templates_sync(clinic=clinic, actor=owner.user)

    assert report.gone == 3
    assert "3 no longer on WhatsApp" in report.summary()
    gone = MessageTemplate.objects.filter(name__in=["vaidya_review_request", "diwali_greeting"])
    assert {t.status for t in gone} == {TemplateStatus.DISABLED}
    assert not any(t.is_approved or t.meta_template_id for t in gone)
    # Never submitted: still a draft; the other templates are untouched.
    assert MessageTemplate.objects.get(name="never_sent").status == TemplateStatus.DRAFT
    pending = MessageTemplate.objects.filter(status=TemplateStatus.PENDING)
    assert pending.count() == len(DEFAULTS) - 2
    event = AuditEvent.objects.filter(action=Actions.TEMPLATES_SYNCED).latest("id")
    assert event.data["gone"] == 3
    # A second sync finds nothing more to disable.
    assert templates_sync(clinic=clinic, actor=None).gone == 0


def test_a_refused_template_does_not_stop_the_others(wa_account, sim):
    sim.inject(100, endpoint="templates", count=1)
    report = templates_submit_defaults(clinic=wa_account.clinic, actor=None)
    assert len(report.failed) == 1 and not report.stopped
    assert len(report.submitted) == len(DEFAULTS) - 1
    name = report.failed[0][0].split(" ")[0]
    failed = MessageTemplate.objects.get(name=name, status=TemplateStatus.DRAFT)
    assert failed.rejected_reason


def test_meta_rate_limit_stops_the_run_and_keeps_drafts(wa_account, sim):
    sim.inject(80007, endpoint="templates", count=None)
    report = templates_submit_defaults(clinic=wa_account.clinic, actor=None)
    assert report.stopped and "100 new templates an hour" in report.stopped
    assert report.left == len(DEFAULTS) and report.submitted == []
    assert MessageTemplate.objects.filter(status=TemplateStatus.DRAFT).count() == len(DEFAULTS)


def test_templates_already_on_whatsapp_are_synced_not_duplicated(wa_account, sim):
    sim.add_template("vaidya_review_request", "en", body="Rate us {{1}} at {{2}} please.")
    report = templates_submit_defaults(clinic=wa_account.clinic, actor=None)
    assert report.already_on_whatsapp == ["vaidya_review_request (en)"]
    row = MessageTemplate.objects.get(name="vaidya_review_request", language="en")
    assert row.status == TemplateStatus.APPROVED


def test_command_submit_and_sync(wa_account, sim):
    out = io.StringIO()
    call_command("whatsapp_templates", "submit", "--clinic", wa_account.clinic.slug, stdout=out)
    assert f"{len(DEFAULTS)} template(s) sent" in out.getvalue()
    sim.set_template_status("vaidya_follow_up_reminder", None, "APPROVED")
    out = io.StringIO()
    call_command("whatsapp_templates", "sync", "--clinic", wa_account.clinic.slug, stdout=out)
    assert "2 updated" in out.getvalue()


def test_command_explains_unknown_clinic_missing_account_and_graph_errors(
    wa_account, sim, other_clinic
):
    with pytest.raises(CommandError, match="No clinic has the short name"):
        call_command("whatsapp_templates", "sync", "--clinic", "nope")
    with pytest.raises(CommandError, match="Connect the clinic's WhatsApp number"):
        call_command("whatsapp_templates", "sync", "--clinic", other_clinic.slug)
    sim.inject("5xx", endpoint="templates", count=None)
    with pytest.raises(CommandError, match="Could not read the templates"):
        call_command("whatsapp_templates", "sync", "--clinic", wa_account.clinic.slug)
    wa_account.status = AccountStatus.TOKEN_INVALID
    wa_account.save()
    with pytest.raises(CommandError, match="Reconnect"):
        call_command("whatsapp_templates", "submit", "--clinic", wa_account.clinic.slug)


def test_every_default_template_names_the_clinic_but_the_one_time_code():
    for default in DEFAULTS:
        if default.category == "AUTHENTICATION":
            assert _placeholders(default.body) == [1]  # the code and nothing else
            continue
        names = [p for p in PURPOSES[default.purpose].parameters if p == "clinic"]
        assert names, default.purpose


def test_the_one_time_code_template_follows_metas_authentication_format(
    wa_account, sim, django_capture_on_commit_callbacks
):
    clinic = wa_account.clinic
    templates_submit_defaults(clinic=clinic, actor=None)
    on_meta = {(t.name, t.language): t for t in sim.state.templates.values()}
    code_template = on_meta[("vaidya_verification_code", "en")]
    assert code_template.category == "AUTHENTICATION"
    body = code_template.component("BODY")
    assert body["add_security_recommendation"] is True
    assert body["text"] == (
        "{{1}} is your verification code. For your security, do not share this code."
    )
    assert code_template.component("FOOTER")["code_expiration_minutes"] == 10
    assert code_template.component("BUTTONS")["buttons"] == [
        {"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}
    ]
    sim.set_template_status("vaidya_verification_code", "en", "APPROVED")
    templates_sync(clinic=clinic, actor=None)
    patient = make_patient(clinic)
    with django_capture_on_commit_callbacks(execute=True):
        whatsapp_code_send(patient=patient, code="482913", minutes=10)
    received = sim.received(PATIENT)[-1]
    assert received["body"].startswith("482913 is your verification code.")
    assert received["footer"] == "This code expires in 10 minutes."
    assert received["buttons"] == [{"text": "Copy code", "copy_code": "482913"}]
    # Only the code travels: the stored message holds the mask, never the code.
    stored = MessageTemplate.objects.get(name="vaidya_verification_code", language="en")
    assert stored.parameter_count == 1
