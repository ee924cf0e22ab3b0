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
   and the templates are read once. A reminder that must not go out (no opt-in, the
   appointment cancelled, the medicine stopped, no approved template, ...) becomes "skipped"
   with the reason in `outcome`. The others' template messages are written as "sending" and
   linked to their reminders in one transaction, which first re-checks under row locks that
   the reminders are still claimed with our token.
3. Send: each message goes to Meta (`sending.send_claimed`, with the per-number rate limit and
   every error code handled); Meta's answers (wamids) are saved, and their reminders marked
   "sent", ten messages at a time. A failed message fails its reminder with the error.

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
from django.utils import timezone

from clinics.errors import DomainError
from clinics.tenancy import clinic_scope, rows_by_clinic
from compliance.models import ConsentPurpose
from compliance.selectors import consent_granted_for
from messaging.models import (
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from messaging.replies import button_payload
from messaging.services.account_state import account_client, account_for_clinic
from messaging.services.reminder_content import (
    PURPOSE_FOR_KIND,
    Skip,
    Sources,
    build_parameters,
)
from messaging.services.sending import (
    RATE_LIMIT_WAIT_SECONDS,
    check_parameters,
    conversation_for_patient,
    messages_record_sent,
    render_template_text,
    send_claimed,
    send_refusal,
    template_for,
    wa_id_for,
)
from messaging.template_purposes import PURPOSES
from messaging.whatsapp import TransientError, ratelimit

logger = logging.getLogger(__name__)

CLAIM_STALE_AFTER = dt.timedelta(minutes=10)
# Meta's answers (wamids) are saved for this many sent messages at a time.
RECORD_EVERY = 10
DEFAULT_BATCH = 100

SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)


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
    from messaging.services.adherence import dose_reminded

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
    from messaging.services.adherence import dose_reminded

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


def _dispatch_batch(
    reminders: list[Reminder], *, now: dt.datetime, templates: TemplateCache, result
) -> None:
    """Send one clinic's claimed reminders as a batch.

    The same rules as one message at a time (`message_queue_template` + `message_deliver`),
    with the reads done once per batch: the sources, the patients' opt-ins, the conversations
    and the templates. The messages are written "sending" with their reminders in one
    transaction (after re-checking the claim under a row lock), then sent one by one; each
    answer from Meta is recorded as soon as it arrives (see the uncertain window above).
    """
    clinic_id = reminders[0].clinic_id
    token = reminders[0].claim_token
    account = account_for_clinic(clinic_id)
    if account is not None and not account.can_send:
        # Meta refused the clinic's token: give the reminders back; they go out once the
        # clinic reconnects (every staff page shows the problem meanwhile).
        Reminder.objects.filter(
            pk__in=[r.pk for r in reminders], status=ReminderStatus.CLAIMED, claim_token=token
        ).update(status=ReminderStatus.PLANNED, claim_token="", claimed_at=None)
        for _ in reminders:
            result.add("waiting")
        return
    sources = Sources.load(reminders)
    consented = consent_granted_for(
        patient_ids=list({r.patient_id for r in reminders}),
        purpose=ConsentPurpose.WHATSAPP_CARE,
    )
    wa_ids = {r.pk: wa_id_for(r.patient) for r in reminders}
    conversations: dict[str, Conversation] = {}
    if account is not None:
        conversations = {
            c.wa_id: c
            for c in Conversation.objects.filter(
                account=account, wa_id__in={w for w in wa_ids.values() if w}
            )
        }
    prepared: list[_Prepared] = []
    for reminder in reminders:
        patient = reminder.patient
        try:
            if not wa_ids[reminder.pk]:
                raise Skip("The patient has no phone number.")
            built = build_parameters(reminder, now=now, sources=sources)
            purpose = PURPOSES[PURPOSE_FOR_KIND[reminder.kind]]
            key = (clinic_id, purpose.key, patient.preferred_language or "en")
            if key not in templates:
                templates[key] = template_for(
                    clinic_id=clinic_id, purpose=purpose.key, language=key[2]
                )
            template = templates[key]
            if template is None:
                raise Skip("No approved template")
            conversation = conversations.get(wa_ids[reminder.pk])
            refusal = send_refusal(
                account=account,
                conversation=conversation,
                patient=patient,
                purpose=MessagePurpose.CARE,
                free_form=False,
                now=now,
                care_consent=patient.pk in consented,
            )
            if refusal:
                raise Skip(refusal)
            if conversation is None:
                conversation = conversation_for_patient(patient=patient, account=account)
                conversations[conversation.wa_id] = conversation
            params = [str(v) for v in built.params]
            check_parameters(template, params)
        except Skip as skip:
            _finish(reminder.pk, token, ReminderStatus.SKIPPED, str(skip))
            result.add(ReminderStatus.SKIPPED)
            continue
        except DomainError as error:
            _finish(reminder.pk, token, ReminderStatus.SKIPPED, error.message)
            result.add(ReminderStatus.SKIPPED)
            continue
        actions = purpose.button_actions[: len(template.buttons or [])]
        if built.extra.get("item_ids") is not None:
            reminder.context = {**reminder.context, "sent_item_ids": built.extra["item_ids"]}
        message = Message(
            clinic_id=clinic_id,
            conversation=conversation,
            patient_id=patient.pk,
            direction=Direction.OUTBOUND,
            kind=MessageKind.TEMPLATE,
            purpose=MessagePurpose.CARE,
            body=render_template_text(template, params),
            template=template,
            template_name=template.name,
            template_language=template.language,
            parameters={
                "body": params,
                "header": [],
                "buttons": [button_payload(action, reminder.pk) for action in actions],
            },
            status=MessageStatus.SENDING,
            attempts=1,
            created_at=now if now <= timezone.now() else timezone.now(),
        )
        prepared.append(_Prepared(reminder, message, conversation))
    if not prepared:
        return
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
        if not prepared:
            return
        Message.objects.bulk_create([p.message for p in prepared])
        _link_messages(prepared)
        Conversation.objects.filter(pk__in={p.conversation.pk for p in prepared}).update(
            last_message_at=timezone.now()
        )
    client = account_client(account)
    sent: list[_Prepared] = []
    pacer = None
    for index, p in enumerate(prepared):
        if index % RECORD_EVERY == 0:
            pacer = _reserve_slots(account, len(prepared[index : index + RECORD_EVERY]))
        message = send_claimed(
            message=p.message,
            conversation=p.conversation,
            account=account,
            client=client,
            record=False,
            pacer=pacer,
        )
        if message.status in SENT_STATUSES:
            sent.append(p)
            result.add(ReminderStatus.SENT)
        else:
            result.add(settle_from_message(p.reminder, message, token=token))
        if message.status == MessageStatus.QUEUED and message.next_attempt_at is None:
            # Meta refused the account: the rest wait, queued, for the clinic to reconnect.
            rest = [q.message.pk for q in prepared[index + 1 :]]
            Message.objects.filter(pk__in=rest, status=MessageStatus.SENDING).update(
                status=MessageStatus.QUEUED, attempts=0
            )
            for _ in rest:
                result.add(ReminderStatus.CLAIMED)
            break
        if len(sent) >= RECORD_EVERY:
            _record_sent(sent)
            sent = []
    _record_sent(sent)


def _reserve_slots(account, count: int) -> ratelimit.Pacer | None:
    """Send slots for the next `count` messages in one call to the shared limiter; None (one
    slot per message then, with its own error handling) when the number is at its limit."""
    try:
        return ratelimit.acquire_many(
            account.phone_number_id,
            count,
            rate=account.send_rate_per_second,
            timeout=RATE_LIMIT_WAIT_SECONDS,
        )
    except TransientError:
        return None


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


def _record_sent(sent: list[_Prepared]) -> None:
    """Save Meta's answers for sent messages and mark their reminders sent, in one commit."""
    if not sent:
        return
    with transaction.atomic():
        messages_record_sent([p.message for p in sent])
        _mark_sent([p.reminder for p in sent])


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
