"""What staff do in the inbox: open a thread, assign it, resolve it and reopen it."""

from __future__ import annotations

from django.db import transaction

from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import Membership
from messaging.models import Conversation, ConversationState


@transaction.atomic
def conversation_open(*, conversation: Conversation, actor: Actor) -> Conversation:
    """Staff opened the thread: everything in it is read now, and the view is audited
    (like opening a patient's record)."""
    Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0)
    conversation.unread_count = 0
    audit_record(
        clinic=conversation.clinic_id,
        actor=actor,
        action=Actions.CONVERSATION_VIEWED,
        target=conversation,
        patient_id=conversation.patient_id,
    )
    return conversation


@transaction.atomic
def conversation_assign(
    *, conversation: Conversation, assignee: Membership | None, actor: Actor
) -> Conversation:
    """Give the conversation to a staff member (or to nobody, with `assignee=None`)."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if assignee is not None:
        if assignee.clinic_id != conversation.clinic_id or not assignee.is_active:
            raise DomainError("Choose someone who works at the clinic.", field="assignee")
        if not assignee.has_perm("messaging.view"):
            raise DomainError(
                "This staff member's role cannot read WhatsApp conversations.", field="assignee"
            )
    new_id = assignee.pk if assignee else None
    if conversation.assigned_to_id == new_id:
        return conversation
    previous_id = conversation.assigned_to_id
    conversation.assigned_to = assignee
    conversation.save(update_fields=["assigned_to"])
    audit_record(
        clinic=conversation.clinic_id,
        actor=actor,
        action=Actions.CONVERSATION_ASSIGNED,
        target=conversation,
        patient_id=conversation.patient_id,
        data={"assigned_to": new_id, "previous": previous_id},
    )
    return conversation


@transaction.atomic
def conversation_resolve(*, conversation: Conversation, actor: Actor) -> Conversation:
    """Mark the conversation done: it leaves the open list until the patient writes again."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.state == ConversationState.RESOLVED:
        raise DomainError("This conversation is already resolved.", code="conflict")
    conversation.state = ConversationState.RESOLVED
    conversation.needs_reply = False
    conversation.save(update_fields=["state", "needs_reply"])
    audit_record(
        clinic=conversation.clinic_id,
        actor=actor,
        action=Actions.CONVERSATION_RESOLVED,
        target=conversation,
        patient_id=conversation.patient_id,
        data={"state": ConversationState.RESOLVED},
    )
    return conversation


@transaction.atomic
def conversation_no_reply_needed(*, conversation: Conversation, actor: Actor) -> Conversation:
    """Staff decided the patient's last messages need no answer: the thread leaves
    "Needs reply" (and stays open) until the patient writes again."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if not conversation.needs_reply:
        raise DomainError("This conversation is not waiting for a reply.", code="conflict")
    conversation.needs_reply = False
    conversation.save(update_fields=["needs_reply"])
    audit_record(
        clinic=conversation.clinic_id,
        actor=actor,
        action=Actions.CONVERSATION_RESOLVED,
        target=conversation,
        patient_id=conversation.patient_id,
        data={"needs_reply": False},
    )
    return conversation


@transaction.atomic
def conversation_reopen(*, conversation: Conversation, actor: Actor) -> Conversation:
    """Bring a resolved conversation back to the open list."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.state == ConversationState.OPEN:
        raise DomainError("This conversation is already open.", code="conflict")
    conversation.state = ConversationState.OPEN
    conversation.save(update_fields=["state"])
    audit_record(
        clinic=conversation.clinic_id,
        actor=actor,
        action=Actions.CONVERSATION_RESOLVED,
        target=conversation,
        patient_id=conversation.patient_id,
        data={"state": ConversationState.OPEN},
    )
    return conversation


def conversation_mark_read(*, conversation: Conversation) -> None:
    """The thread is on a staff member's screen and refreshed itself: nothing in it is unread.

    Not audited: opening the thread was (`conversation_open`); this is the same view updating.
    """
    Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0)
    conversation.unread_count = 0
