"""The reminder dispatcher: claim due reminders, send each as a template, record the outcome.

Several dispatchers may run at once (django-q2 workers, `manage.py dispatch_reminders` in
several processes); none ever sends a reminder another one claimed:

1. Claim (`reminders_claim`): in one short transaction, due "planned" rows become "claimed"
   with a fresh claim token. On PostgreSQL the rows are picked with
   `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint batches without
   waiting for each other. On SQLite (one writer at a time) each row is claimed by a conditional
   `UPDATE ... WHERE id IN (...) AND status = 'planned'`; the rows that carry our token
   afterwards are ours.
2. Write (`_dispatch_batch`): the batch's sources, the patients' opt-ins, their conversations
   and the templates are read once. Each reminder's message is built by the one send path
   (`sending.outgoing_template`: the same rules as every other message). A reminder that must
   not go out (no opt-in, the appointment cancelled, the medicine stopped, no approved
   template, ...) becomes "skipped" with the reason in `outcome`. The others' messages are
   written already claimed ("sending") and linked to their reminders in one transaction, which
   first re-checks under row locks that the reminders are still claimed with our token.
3. Send: the messages go to Meta through `delivery.messages_deliver_batch` (`send_claimed`
   for each, with the per-number rate limit and every error code handled); Meta's answers
   (wamids) are saved, and their reminders marked "sent", ten messages at a time. A failed
   message fails its reminder with the error.

The uncertain window: between a message's HTTP call reaching Meta and the commit that records
Meta's answer (at most ten sends later). A worker that dies there leaves those messages
"sending" without a wamid and their reminders "claimed": the patients may or may not have
received them. Such reminders are never sent again automatically. `reminders_sweep_claimed`
(a schedule) looks at reminders claimed longer than CLAIM_STALE_AFTER ago and settles each
from its message:
- no message linked: the worker died before step 2 committed, nothing went out: planned again
  (safe because step 2 checks the claim token under a lock, so a slow worker cannot create the
  message after the sweep released the reminder);
- message sent/delivered/read or failed: the reminder follows it;
- message still "sending" (the window above): the reminder becomes "uncertain" for staff to
  check (the message is flagged by `recovery.messages_flag_uncertain`; a later status webhook
  carrying our id, sent as biz_opaque_callback_data, settles it);
- message queued (Meta asked us to retry; the retry schedule owns it): left claimed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation

from clinics.errors import DomainError
from clinics.guards import limit_refusal, limit_status
from clinics.tenancy import clinic_scope, rows_by_clinic
from compliance.models import ConsentPurpose
from compliance.selectors import consent_granted_for
from messaging.models import (
    Conversation,
    Message,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    Reminder,
    ReminderKind,
    ReminderStatus,
    WhatsAppAccount,
)
from messaging.replies import button_payload
from messaging.services.account_state import account_for_clinic
from messaging.services.adherence import dose_reminded
from messaging.services.delivery import SENT_STATUSES, messages_deliver_batch
from messaging.services.reminder_content import (
    PURPOSE_FOR_KIND,
    Skip,
    Sources,
    build_parameters,
)
from messaging.services.send_rules import wa_id_for
from messaging.services.sending import (
    PLAN_RESOURCE,
    Outgoing,
    messages_write,
    outgoing_template,
)
from messaging.services.template_text import template_for
from messaging.template_purposes import PURPOSES

logger = logging.getLogger(__name__)

CLAIM_STALE_AFTER = dt.timedelta(minutes=10)
DEFAULT_BATCH = 100


# --- claiming -------------------------------------------------------------------------------
def reminders_claim(*, batch: int = DEFAULT_BATCH, now: dt.datetime | None = None) -> list[int]:
    """Claim up to `batch` due planned reminders for this worker; returns their ids."""
    return [pk for ids in reminders_claim_by_clinic(batch=batch, now=now).values() for pk in ids]


def reminders_claim_by_clinic(
    *, batch: int = DEFAULT_BATCH, now: dt.datetime | None = None
) -> dict[int, list[int]]:
    """Claim up to `batch` due planned reminders for this worker: {clinic id: reminder ids}.

    The due rows are found across clinics (`rows_by_clinic`, ids only); each clinic's are then
    claimed inside its scope.
    """
    now = now or timezone.now()
    claim = {"status": ReminderStatus.CLAIMED, "claim_token": uuid.uuid4().hex, "claimed_at": now}
    due = Q(status=ReminderStatus.PLANNED, due_at__lte=now)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            found = rows_by_clinic(
                Reminder, due, order_by=("due_at", "id"), limit=batch, skip_locked=True
            )
            for clinic_id, ids in found.items():
                with clinic_scope(clinic_id):
                    Reminder.objects.filter(pk__in=ids).update(**claim)
        return found
    claimed: dict[int, list[int]] = {}
    for clinic_id, ids in rows_by_clinic(
        Reminder, due, order_by=("due_at", "id"), limit=batch
    ).items():
        with clinic_scope(clinic_id):
            Reminder.objects.filter(pk__in=ids, status=ReminderStatus.PLANNED).update(**claim)
            ours = list(
                Reminder.objects.filter(
                    pk__in=ids, status=ReminderStatus.CLAIMED, claim_token=claim["claim_token"]
                ).values_list("pk", flat=True)
            )
        if ours:
            claimed[clinic_id] = ours
    return claimed


# --- sending one ----------------------------------------------------------------------------
def _finish(reminder_id: int, token: str, status: str, outcome: str = "") -> None:
    Reminder.objects.filter(
        pk=reminder_id, status=ReminderStatus.CLAIMED, claim_token=token
    ).update(status=status, outcome=outcome[:300], updated_at=timezone.now())


def settle_from_message(reminder: Reminder, message: Message, *, token: str | None = None) -> str:
    """Move a claimed reminder to the outcome of its message; returns the reminder's status."""
    rows = Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.CLAIMED)
    if token is not None:
        rows = rows.filter(claim_token=token)
    now = timezone.now()
    if message.status in SENT_STATUSES:
        updated = rows.update(status=ReminderStatus.SENT, outcome="", updated_at=now)
        if updated and reminder.kind == ReminderKind.MEDICINE:
            dose_reminded(reminder=reminder)
        return ReminderStatus.SENT
    if message.status == MessageStatus.FAILED:
        rows.update(status=ReminderStatus.FAILED, outcome=message.error_title[:300], updated_at=now)
        return ReminderStatus.FAILED
    if message.status == MessageStatus.SENDING and (message.uncertain or token is None):
        rows.update(
            status=ReminderStatus.UNCERTAIN,
            outcome="Sending was interrupted: check with the patient before sending again.",
            updated_at=now,
        )
        return ReminderStatus.UNCERTAIN
    # Queued for a retry (Meta asked us to wait): the retry schedule sends it; the sweep
    # settles the reminder afterwards.
    return ReminderStatus.CLAIMED


TemplateCache = dict[tuple[int, str, str], MessageTemplate | None]


def _mark_sent(reminders: list[Reminder]) -> None:
    """Mark reminders whose messages went out as sent, in one UPDATE. A crash before this
    leaves them claimed with a sent message: the sweep marks them sent (never re-sends)."""
    if not reminders:
        return
    Reminder.objects.filter(
        pk__in=[r.pk for r in reminders],
        status=ReminderStatus.CLAIMED,
        claim_token=reminders[0].claim_token,  # one batch, one claim
    ).update(status=ReminderStatus.SENT, outcome="", updated_at=timezone.now())
    for reminder in reminders:
        if reminder.kind == ReminderKind.MEDICINE:
            dose_reminded(reminder=reminder)


# --- the loop -------------------------------------------------------------------------------
@dataclass
class DispatchResult:
    claimed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def reminders_dispatch(
    *, batch: int = DEFAULT_BATCH, now: dt.datetime | None = None
) -> DispatchResult:
    """Claim one batch of due reminders and send them. Safe to run in parallel."""
    now = now or timezone.now()
    result = DispatchResult()
    claimed = reminders_claim_by_clinic(batch=batch, now=now)
    result.claimed = sum(len(ids) for ids in claimed.values())
    templates: TemplateCache = {}
    # This worker's claims may span clinics: each clinic's are sent inside its own scope.
    for clinic_id, ids in claimed.items():
        with clinic_scope(clinic_id):
            try:
                reminders = list(
                    Reminder.objects.filter(pk__in=ids)
                    .select_related("patient", "clinic")
                    .order_by("due_at", "id")
                )
                _dispatch_batch(reminders, now=now, templates=templates, result=result)
            except Exception:
                # Leave them claimed: the sweep settles each from its message (never re-sends
                # blindly). One clinic's problem must not stop the others.
                logger.exception("Reminders of clinic %s could not be sent", clinic_id)
                result.add("error")
    return result


@dataclass
class _Prepared:
    reminder: Reminder
    message: Message
    conversation: Conversation


@dataclass
class _Batch:
    """What one clinic's batch reads once: sources, opt-ins, numbers, conversations, templates."""

    clinic_id: int
    token: str
    account: WhatsAppAccount | None
    now: dt.datetime
    sources: Sources
    consented: set[int]
    wa_ids: dict[int, str]
    conversations: dict[str, Conversation]
    templates: TemplateCache

    @classmethod
    def load(
        cls,
        reminders: list[Reminder],
        *,
        account: WhatsAppAccount | None,
        now: dt.datetime,
        templates: TemplateCache,
    ) -> _Batch:
        wa_ids = {r.pk: wa_id_for(r.patient) for r in reminders}
        conversations: dict[str, Conversation] = {}
        if account is not None:
            conversations = {
                c.wa_id: c
                for c in Conversation.objects.filter(
                    account=account, wa_id__in={w for w in wa_ids.values() if w}
                )
            }
        return cls(
            clinic_id=reminders[0].clinic_id,
            token=reminders[0].claim_token,
            account=account,
            now=now,
            sources=Sources.load(reminders),
            consented=consent_granted_for(
                patient_ids=list({r.patient_id for r in reminders}),
                purpose=ConsentPurpose.WHATSAPP_CARE,
            ),
            wa_ids=wa_ids,
            conversations=conversations,
            templates=templates,
        )

    def template(self, purpose: str, language: str) -> MessageTemplate | None:
        key = (self.clinic_id, purpose, language)
        if key not in self.templates:
            self.templates[key] = template_for(
                clinic_id=self.clinic_id, purpose=purpose, language=language
            )
        return self.templates[key]


def _dispatch_batch(
    reminders: list[Reminder], *, now: dt.datetime, templates: TemplateCache, result
) -> None:
    """Send one clinic's claimed reminders as a batch through the one send path.

    The reads are done once per batch (`_Batch`); each reminder's message is built and checked
    by `sending.outgoing_template`; the messages are written "sending" with their reminders in
    one transaction (after re-checking the claim under a row lock), then sent by
    `delivery.messages_deliver_batch`, which records Meta's answers ten at a time (see the
    uncertain window above).
    """
    token = reminders[0].claim_token
    account = account_for_clinic(reminders[0].clinic_id)
    if account is not None and not account.can_send:
        # Meta refused the clinic's token: give the reminders back; they go out once the
        # clinic reconnects (every staff page shows the problem meanwhile).
        Reminder.objects.filter(
            pk__in=[r.pk for r in reminders], status=ReminderStatus.CLAIMED, claim_token=token
        ).update(status=ReminderStatus.PLANNED, claim_token="", claimed_at=None)
        for _ in reminders:
            result.add("waiting")
        return
    batch = _Batch.load(reminders, account=account, now=now, templates=templates)
    prepared: list[_Prepared] = []
    for reminder in reminders:
        try:
            prepared.append(_prepare(reminder, batch))
        except (Skip, DomainError) as refused:
            reason = refused.message if isinstance(refused, DomainError) else str(refused)
            _finish(reminder.pk, token, ReminderStatus.SKIPPED, reason)
            result.add(ReminderStatus.SKIPPED)
    prepared = _within_plan(prepared, token, result)
    prepared = _write_owned(prepared, token, result)
    if not prepared:
        return

    def recorded(items: list[_Prepared]) -> None:
        _mark_sent([p.reminder for p in items])
        for _ in items:
            result.add(ReminderStatus.SENT)

    waiting = messages_deliver_batch(
        prepared,
        account=account,
        on_recorded=recorded,
        on_not_sent=lambda p: result.add(settle_from_message(p.reminder, p.message, token=token)),
    )
    for _ in waiting:
        result.add(ReminderStatus.CLAIMED)


def _prepare(reminder: Reminder, batch: _Batch) -> _Prepared:
    """The reminder's message, built and checked by the send path; raises Skip or DomainError
    with the reason it must not go out."""
    patient = reminder.patient
    wa_id = batch.wa_ids[reminder.pk]
    if not wa_id:
        raise Skip("The patient has no phone number.")
    purpose = PURPOSES[PURPOSE_FOR_KIND[reminder.kind]]
    template = batch.template(purpose.key, patient.preferred_language or "en")
    # The values (dates, "Dr", document kinds) in the language of the template that carries
    # them: the patient's, or English when their template is not approved.
    with translation.override(template.language if template is not None else "en"):
        built = build_parameters(reminder, now=batch.now, sources=batch.sources)
    if template is None:
        raise Skip("No approved template")
    actions = purpose.button_actions[: len(template.buttons or [])]
    params = built.params
    missing = len(params) - template.parameter_count
    if 0 < missing <= purpose.added_parameters:
        params = params[: template.parameter_count]  # approved before those were added
    outgoing: Outgoing = outgoing_template(
        template=template,
        purpose=MessagePurpose.CARE,
        account=batch.account,
        conversation=batch.conversations.get(wa_id),
        patient=patient,
        body_params=params,
        buttons=[button_payload(action, reminder.pk) for action in actions],
        now=batch.now,
        care_consent=patient.pk in batch.consented,
        claimed=True,
    )
    batch.conversations[outgoing.conversation.wa_id] = outgoing.conversation
    if built.extra.get("item_ids") is not None:
        reminder.context = {**reminder.context, "sent_item_ids": built.extra["item_ids"]}
    return _Prepared(reminder, outgoing.message, outgoing.conversation)


def _within_plan(prepared: list[_Prepared], token: str, result) -> list[_Prepared]:
    """The reminders the clinic's plan still allows this month, in order; the rest are "not
    sent" with the plan's reason on the reminder list (never silently dropped). A constant
    number of queries per batch (`clinics.guards`)."""
    if not prepared:
        return prepared
    clinic_id = prepared[0].reminder.clinic_id
    reason = limit_refusal(clinic_id, PLAN_RESOURCE, adding=len(prepared))
    if reason is None:
        return prepared
    status = limit_status(clinic_id, PLAN_RESOURCE)
    allowed = status.remaining if status is not None else 0
    for held in prepared[allowed:]:
        _finish(held.reminder.pk, token, ReminderStatus.SKIPPED, reason)
        result.add(ReminderStatus.SKIPPED)
    return prepared[:allowed]


def _write_owned(prepared: list[_Prepared], token: str, result) -> list[_Prepared]:
    """Write the messages of the reminders still claimed with our token, linked to them, in one
    transaction; returns those (the others were released by the sweep meanwhile: "lost")."""
    if not prepared:
        return []
    with transaction.atomic():
        # Still ours? (The sweep may have released a claim held too long.) The row locks also
        # keep the sweep out until this commits.
        owned = set(
            Reminder.objects.select_for_update()
            .filter(
                pk__in=[p.reminder.pk for p in prepared],
                status=ReminderStatus.CLAIMED,
                claim_token=token,
            )
            .values_list("pk", flat=True)
        )
        for _lost in [p for p in prepared if p.reminder.pk not in owned]:
            result.add("lost")
        prepared = [p for p in prepared if p.reminder.pk in owned]
        if prepared:
            messages_write([Outgoing(p.message, p.conversation) for p in prepared], answers=False)
            _link_messages(prepared)
    return prepared


def _link_messages(prepared: list[_Prepared]) -> None:
    """Point each reminder at its message in one UPDATE (plus the medicines actually sent,
    for medicine reminders)."""
    table = Reminder._meta.db_table
    cases = " ".join("WHEN %s THEN %s" for _ in prepared)
    ids = ", ".join("%s" for _ in prepared)
    params: list[Any] = []
    for p in prepared:
        p.reminder.message = p.message
        params += [p.reminder.pk, p.message.pk]
    params += [p.reminder.pk for p in prepared]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET message_id = CASE id {cases} END "  # noqa: S608
            f"WHERE id IN ({ids})",
            params,
        )
    for p in prepared:
        if "sent_item_ids" in (p.reminder.context or {}):
            Reminder.objects.filter(pk=p.reminder.pk).update(context=p.reminder.context)


def reminders_dispatch_until_empty(
    *,
    batch: int = DEFAULT_BATCH,
    max_seconds: float | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> int:
    """Dispatch batches until nothing is due (or `max_seconds` passed); returns how many were
    claimed."""
    started = time.monotonic()
    total = 0
    while True:
        result = reminders_dispatch(batch=batch, now=now() if now else None)
        total += result.claimed
        if result.claimed == 0:
            return total
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            return total


def reminders_sweep_claimed(
    *, now: dt.datetime | None = None, older_than: dt.timedelta = CLAIM_STALE_AFTER
) -> dict[str, int]:
    """Settle reminders claimed long ago by a worker that stopped (see the module docstring)."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    # A stopped worker's claims may span clinics: each clinic's are settled in its own scope.
    stale = rows_by_clinic(
        Reminder,
        Q(status=ReminderStatus.CLAIMED, claimed_at__lt=now - older_than),
        order_by=("claimed_at", "id"),
        limit=1000,
    )
    for clinic_id, ids in stale.items():
        with clinic_scope(clinic_id):
            for reminder in Reminder.objects.filter(pk__in=ids).select_related("message"):
                status = _settle_stale(reminder)
                counts[status] = counts.get(status, 0) + 1
    return counts


def _settle_stale(reminder: Reminder) -> str:
    if reminder.message_id is not None:
        return settle_from_message(reminder, reminder.message)
    released = Reminder.objects.filter(
        pk=reminder.pk,
        status=ReminderStatus.CLAIMED,
        claim_token=reminder.claim_token,
        message__isnull=True,
    ).update(status=ReminderStatus.PLANNED, claim_token="", claimed_at=None)
    return ReminderStatus.PLANNED if released else "busy"
