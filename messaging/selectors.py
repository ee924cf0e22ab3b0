"""Reads for the inbox, the follow-up board and the API, each with its joins in one place so
the number of queries stays the same however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from clinics.models import Membership
from clinics.roles import Perm
from messaging.models import (
    Conversation,
    ConversationState,
    DoseOutcome,
    DoseRecord,
    Escalation,
    EscalationAlert,
    EscalationReason,
    EscalationState,
    Message,
    MessageKind,
    MessageTemplate,
    Reminder,
    TemplateStatus,
)
from messaging.template_purposes import STAFF_ALERT, template_title
from patients.models import Visit

# The inbox's filters: (value, label).
INBOX_FILTERS = [
    ("open", "Open"),
    ("unread", "Unread"),
    ("needs_reply", "Needs reply"),
    ("mine", "Assigned to me"),
    ("unknown", "Unknown number"),
    ("resolved", "Resolved"),
]
INBOX_FILTER_VALUES = {value for value, _ in INBOX_FILTERS}
THREAD_LIMIT = 200


def conversation_list(*, show: str = "open", membership: Membership | None = None) -> QuerySet:
    """The clinic's conversations for one inbox filter, latest message first.

    Unread, needs reply, mine and unknown list open conversations; resolved lists the others.
    Staff members' alert conversations are never listed: they are not conversations with
    patients (messaging.services.staff_alerts).
    """
    rows = Conversation.objects.filter(staff__isnull=True).select_related(
        "patient", "assigned_to__user"
    )
    if show == "resolved":
        return rows.filter(state=ConversationState.RESOLVED)
    rows = rows.filter(state=ConversationState.OPEN)
    if show == "unread":
        rows = rows.filter(unread_count__gt=0)
    elif show == "needs_reply":
        rows = rows.filter(needs_reply=True)
    elif show == "mine":
        rows = rows.filter(assigned_to=membership) if membership else rows.none()
    elif show == "unknown":
        rows = rows.filter(patient__isnull=True)
    return rows


def conversation_detail(*, conversation_id: int) -> Conversation:
    """One conversation with a patient (or an unknown number), with its patient, account and
    assignee; raises DoesNotExist, also for a staff member's alert conversation."""
    return Conversation.objects.select_related("patient", "account", "assigned_to__user").get(
        pk=conversation_id, staff__isnull=True
    )


def thread_messages(*, conversation: Conversation, limit: int = THREAD_LIMIT) -> list[Message]:
    """The latest `limit` messages of a conversation, oldest first."""
    rows = (
        Message.objects.filter(conversation=conversation)
        .select_related("sent_by")
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(rows))


def conversation_messages(*, conversation: Conversation) -> QuerySet:
    """Every message of a conversation, oldest first (the API pages through them)."""
    return Message.objects.filter(conversation=conversation).select_related("sent_by")


def approved_templates(*, clinic_id: int) -> QuerySet:
    """The clinic's templates that WhatsApp approved and that are meant for patients, for the
    thread's template picker (the alert to a doctor's own WhatsApp is never offered there)."""
    return MessageTemplate.objects.filter(
        clinic_id=clinic_id, status=TemplateStatus.APPROVED
    ).exclude(purpose=STAFF_ALERT.key)


@dataclass(frozen=True)
class Preview:
    """The start of a conversation's last message, for the inbox list."""

    outbound: bool
    text: str


PREVIEW_CHARS = 80


def _preview_text(message: Message) -> str:
    if message.body:
        text = " ".join(message.body.split())
        return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "…"
    if message.kind == MessageKind.TEMPLATE:
        return f"Template: {template_title(message.template_name, message.template_language)}"
    label = message.get_kind_display()
    return f"{label}: {message.media_filename}" if message.media_filename else label


def last_message_previews(*, conversation_ids: list[int]) -> dict[int, Preview]:
    """conversation id -> the preview of its latest message, in two queries for a whole page."""
    latest = Subquery(
        Message.objects.filter(conversation=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("id")[:1]
    )
    last_ids = Conversation.objects.filter(pk__in=conversation_ids).annotate(last_id=latest)
    messages = Message.objects.filter(
        pk__in=[row for row in last_ids.values_list("last_id", flat=True) if row]
    ).only(
        "conversation_id",
        "direction",
        "kind",
        "body",
        "template_name",
        "template_language",
        "media_filename",
    )
    return {
        m.conversation_id: Preview(outbound=m.is_outbound, text=_preview_text(m)) for m in messages
    }


def messaging_staff() -> list[Membership]:
    """Active staff who may read conversations (to assign one to)."""
    members = Membership.objects.filter(is_active=True).select_related("user")
    return [m for m in members if m.has_perm(Perm.MESSAGING_VIEW)]


def unread_conversations_count() -> int:
    return Conversation.objects.filter(
        state=ConversationState.OPEN, unread_count__gt=0, staff__isnull=True
    ).count()


def reminder_list(
    *,
    patient_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    due_from: datetime | None = None,
    due_to: datetime | None = None,
) -> QuerySet:
    """Reminders, by due time, optionally filtered."""
    rows = Reminder.objects.select_related("patient")
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if due_from is not None:
        rows = rows.filter(due_at__gte=due_from)
    if due_to is not None:
        rows = rows.filter(due_at__lt=due_to)
    return rows


# --- the doctor's follow-up board ---------------------------------------------------------------
def open_escalations(*, doctor: Membership | None = None) -> QuerySet:
    """Open alerts: urgent ones nobody has acknowledged yet (a worrying message) first, then
    newest first. `doctor` puts that doctor's (and unassigned ones) only, and the urgent ones
    whoever they are for. With each, its WhatsApp alerts to doctors and their messages'
    status (`alerts`)."""
    urgent = Q(reason=EscalationReason.TROUBLE_WORDS, acknowledged_at__isnull=True)
    rows = (
        Escalation.objects.filter(state=EscalationState.OPEN)
        .select_related("patient", "doctor__user", "acknowledged_by")
        .prefetch_related(
            Prefetch(
                "whatsapp_alerts",
                queryset=EscalationAlert.objects.select_related(
                    "recipient__user", "message"
                ).order_by("created_at", "id"),
                to_attr="alerts",
            )
        )
        .annotate(urgent=Case(When(urgent, then=Value(True)), default=Value(False)))
        .order_by("-urgent", "-opened_at", "-id")
    )
    if doctor is not None:
        rows = rows.filter(Q(doctor=doctor) | Q(doctor__isnull=True) | urgent)
    return rows


@dataclass
class Adherence:
    """Doses of one patient over the last days: counts and one (taken, missed) pair a day."""

    patient: object
    taken: int = 0
    skipped: int = 0
    unanswered: int = 0
    pending: int = 0
    days: list[tuple[date, int, int]] = field(default_factory=list)
    # (latest answer, earlier answer) -> doses whose answer the patient changed.
    changes: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        """ "1 Skipped, changed from Taken", for the doctor."""
        labels = dict(DoseOutcome.choices)
        return [
            f"{count} {labels[now]}, changed from {labels[before]}"
            for (now, before), count in sorted(self.changes.items())
        ]

    @property
    def answered_total(self) -> int:
        return self.taken + self.skipped + self.unanswered

    @property
    def taken_percent(self) -> int | None:
        total = self.answered_total
        return round(100 * self.taken / total) if total else None

    @property
    def chart(self) -> list[dict]:
        """Bars for the inline SVG chart: one per day, taken up from the middle, missed down."""
        peak = max([max(t, m) for _, t, m in self.days] + [1])
        bars = []
        for index, (day, taken, missed) in enumerate(self.days):
            taken_h = round(14 * taken / peak)
            bars.append(
                {
                    "x": index * 8,
                    "taken_h": taken_h,
                    "taken_y": 15 - taken_h,
                    "missed_h": round(14 * missed / peak),
                    "day": day,
                    "taken": taken,
                    "missed": missed,
                }
            )
        return bars


def adherence_by_patient(
    *, tz: ZoneInfo, doctor: Membership | None = None, days: int = 14, now: datetime | None = None
) -> list[Adherence]:
    """Per patient with reminded doses in the last `days` days: taken, skipped and unanswered
    counts and a daily series, least adherent first. One query."""
    now = now or timezone.now()
    today = timezone.localtime(now, tz).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    doses = DoseRecord.objects.filter(due_at__gte=since, due_at__lte=now).select_related("patient")
    if doctor is not None:
        doses = doses.filter(patient__visits__doctor=doctor).distinct()
    by_patient: dict[int, Adherence] = {}
    daily: dict[int, dict[date, list[int]]] = {}
    for dose in doses:
        row = by_patient.setdefault(dose.patient_id, Adherence(patient=dose.patient))
        day_counts = daily.setdefault(dose.patient_id, {}).setdefault(
            timezone.localtime(dose.due_at, tz).date(), [0, 0]
        )
        if dose.changed_from and dose.changed_from != dose.outcome:
            key = (dose.outcome, dose.changed_from)
            row.changes[key] = row.changes.get(key, 0) + 1
        if dose.outcome == DoseOutcome.TAKEN:
            row.taken += 1
            day_counts[0] += 1
        elif dose.outcome == DoseOutcome.SKIPPED:
            row.skipped += 1
            day_counts[1] += 1
        elif dose.outcome == DoseOutcome.UNANSWERED:
            row.unanswered += 1
            day_counts[1] += 1
        else:
            row.pending += 1
    for patient_id, row in by_patient.items():
        counts = daily.get(patient_id, {})
        row.days = [
            (day, *counts.get(day, [0, 0]))
            for day in (first_day + timedelta(days=i) for i in range(days))
        ]
    rows = list(by_patient.values())
    rows.sort(key=lambda r: (r.taken_percent if r.taken_percent is not None else 101, r.patient.pk))
    return rows


def upcoming_follow_ups(
    *, tz: ZoneInfo, doctor: Membership | None = None, days: int = 14, now: datetime | None = None
) -> QuerySet:
    """Signed visits whose follow-up date falls in the next `days` days, soonest first."""
    today = timezone.localtime(now or timezone.now(), tz).date()
    rows = (
        Visit.objects.filter(
            follow_up_date__gte=today,
            follow_up_date__lte=today + timedelta(days=days),
            status="signed",
            superseded_at__isnull=True,
        )
        .select_related("patient", "doctor__user")
        .order_by("follow_up_date", "id")
    )
    if doctor is not None:
        rows = rows.filter(doctor=doctor)
    return rows
